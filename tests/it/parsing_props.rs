//! Property tests of input parsing: never a panic, and exactly the documented alphabet.

use proptest::prelude::*;
use serde_json::Value;
use vestibule::domain::{EventId, SessionId, UserId};
use vestibule::http::api::JoinRequest;

fn parse_join(map: &serde_json::Map<String, Value>) -> Result<(), vestibule::domain::InvalidInput> {
    let request: JoinRequest = serde_json::from_value(Value::Object(map.clone())).unwrap();
    request.parse().map(|_| ())
}

fn allowed(s: &str) -> bool {
    (1..=64).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:_-".contains(c))
}

proptest! {
    #[test]
    fn names_parse_exactly_the_allowed_strings(s in "\\PC{0,80}") {
        prop_assert_eq!(EventId::parse(&s).is_ok(), allowed(&s));
        prop_assert_eq!(UserId::parse(&s).is_ok(), allowed(&s));
    }

    #[test]
    fn allowed_names_round_trip(s in "[A-Za-z0-9._:-]{1,64}") {
        let parsed = EventId::parse(&s).unwrap();
        prop_assert_eq!(parsed.as_str(), s.as_str());
    }

    #[test]
    fn session_ids_never_panic_and_round_trip(s in "\\PC{0,50}", bytes in any::<[u8; 16]>()) {
        let _ = SessionId::parse(&s);
        let id = uuid::Uuid::from_bytes(bytes).hyphenated().to_string();
        prop_assert_eq!(SessionId::parse(&id).unwrap().to_string(), id);
    }

    #[test]
    fn join_bodies_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&raw) {
            let _ = parse_join(&map);
        }
    }

    #[test]
    fn join_bodies_with_any_field_values_are_judged_by_the_rules(
        event in prop_oneof![Just(Value::Null), any::<i64>().prop_map(Value::from), "\\PC{0,70}".prop_map(Value::from)],
        user in prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::from), "[A-Za-z0-9]{0,70}".prop_map(Value::from)],
    ) {
        let mut map = serde_json::Map::new();
        map.insert("eventId".into(), event.clone());
        map.insert("userId".into(), user.clone());
        let ok = matches!((&event, &user), (Value::String(e), Value::String(u)) if allowed(e) && allowed(u));
        prop_assert_eq!(parse_join(&map).is_ok(), ok);
    }
}
