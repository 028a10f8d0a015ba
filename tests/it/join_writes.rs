//! What a join writes (README, "What a join writes"): in a line numbered by joins, a join
//! writes its stream entry (id "<join number>-<ms>") and its user's place, and no record;
//! every reader of a waiting session finds it by its entry, the first step that changes
//! it writes its record, and no entry goes while its session has no other record.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{
    join_number, keys, last_seen, sessions, settings, spawn_stepped, Backend, TestRedis,
    ADMIN_TOKEN,
};

/// The ids of the event's stream entries, in order.
fn entry_ids(redis: &impl Backend, event: &str) -> Vec<String> {
    let entries: Vec<(String, redis::Value)> = redis::cmd("XRANGE")
        .arg(keys(event).stream)
        .arg("-")
        .arg("+")
        .query(&mut *redis.connection())
        .unwrap();
    entries.into_iter().map(|(id, _)| id).collect()
}

/// Session q's record and user id as its bucket holds them (None, None: no record).
fn record(redis: &impl Backend, event: &str, q: u64) -> (Option<String>, Option<String>) {
    redis::cmd("HMGET")
        .arg(format!("{}{}", keys(event).sessions, q / 64))
        .arg(q % 64)
        .arg(format!("u{}", q % 64))
        .query(&mut *redis.connection())
        .unwrap()
}

#[tokio::test]
async fn a_join_writes_its_entry_and_no_record_and_every_reader_finds_it() {
    let redis = TestRedis::start();
    let args = [
        "--admin-token",
        ADMIN_TOKEN,
        "--capacity",
        "0",
        "--abandon-seconds",
        "3600",
    ];
    let app = spawn_stepped(&redis, &args).await;
    let a = app.join_id("jw", "a").await;
    let b = app.join_id("jw", "b").await;
    let c = app.join_id("jw", "c").await;
    let (qa, qb, qc) = (join_number(&a), join_number(&b), join_number(&c));
    assert_eq!((qa, qb, qc), (1, 2, 3));
    // The entries are numbered by their joins, and stamped with the join's time.
    let ids = entry_ids(&redis, "jw");
    assert_eq!(ids.len(), 3, "{ids:?}");
    for (id, q) in ids.iter().zip(1..) {
        let (number, ms) = id.split_once('-').unwrap();
        assert_eq!(number.parse::<u64>().unwrap(), q, "{ids:?}");
        assert!(ms.parse::<u64>().unwrap() >= app.now_ms() - 60_000, "{id}");
    }
    for q in 1..=3 {
        assert_eq!(
            record(&redis, "jw", q),
            (None, None),
            "join {q} wrote a record"
        );
    }
    assert_eq!(last_seen(&redis, "jw", qb), app.now_ms(), "seen: its join");

    // Another process, which never saw them, reads them from Redis.
    let other = spawn_stepped(&redis, &args).await;
    let (code, view) = other.status(&c).await;
    assert_eq!(code, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "WAITING", "{view}");
    assert_eq!(view["position"], 3, "{view}");
    assert_eq!(view["joinNumber"], 3, "{view}");
    // Its first read through Redis wrote its record, with its user.
    assert_eq!(record(&redis, "jw", qc).1.as_deref(), Some("c"));
    // A made-up tag on a real join number is no session, and writes nothing.
    let forged = format!("{}8000-000000000000", &b[..19]);
    assert_eq!(other.status(&forged).await.0, StatusCode::NOT_FOUND);
    assert_eq!(record(&redis, "jw", qb), (None, None));
    // A repeat join of `a` (no record yet) finds its place by its entry, and writes it.
    assert_eq!(record(&redis, "jw", qa), (None, None));
    let (code, again) = other.join("jw", "a").await;
    assert_eq!(code, StatusCode::CONFLICT, "{again}");
    assert_eq!(record(&redis, "jw", qa).1.as_deref(), Some("a"));

    // A leave writes the record (with its user), and frees the user.
    let (code, left) = other.leave(&a).await;
    assert!(code.is_success(), "{left}");
    assert_eq!(
        record(&redis, "jw", qa).1.as_deref(),
        Some("a"),
        "the leave wrote its user"
    );
    assert!(record(&redis, "jw", qa).0.unwrap().starts_with("L|"));
    let a2 = app.join_id("jw", "a").await;
    assert_eq!(join_number(&a2), 4, "a joins again, at the back");

    // A poll answered from memory writes its heartbeat (due once the last is a tenth of
    // the abandonment period old: 360 s).
    app.advance(Duration::from_secs(400));
    assert_eq!(record(&redis, "jw", 4), (None, None));
    assert_eq!(app.status_of(&c).await, "WAITING");
    assert_eq!(app.status_of(&a2).await, "WAITING");
    app.flush_heartbeats().await;
    // For `a2`, the first record, with its user.
    let (rec, user) = record(&redis, "jw", 4);
    assert!(rec.unwrap().starts_with("W|"));
    assert_eq!(user.as_deref(), Some("a"));
    assert_eq!(last_seen(&redis, "jw", 4), app.now_ms());
    let (rec, user) = record(&redis, "jw", qc);
    assert!(rec.unwrap().starts_with("W|"));
    assert_eq!(user.as_deref(), Some("c"));
    assert!(
        last_seen(&redis, "jw", qc) > app.now_ms() - 1_000,
        "a later heartbeat"
    );

    // The granter reaches `b` (never polled since its join, no record): admitted, its
    // record and user written; the slot ends and frees the user.
    assert_eq!(record(&redis, "jw", qb), (None, None));
    settings(&app, "jw", json!({ "capacity": 1, "sessionSeconds": 60 })).await;
    app.pass().await;
    assert_eq!(app.status_of(&b).await, "ACTIVE");
    let (rec, user) = record(&redis, "jw", qb);
    assert!(rec.unwrap().starts_with("A|"));
    assert_eq!(user.as_deref(), Some("b"));
    app.advance(Duration::from_secs(61));
    app.pass().await;
    assert_eq!(app.status_of(&b).await, "EXPIRED");
    let (code, view) = app.join("jw", "b").await;
    assert_eq!(code, StatusCode::ACCEPTED, "b's user was freed: {view}");
    // Every session, as Redis holds it (records and entries), once.
    let all = sessions(&redis, "jw");
    assert_eq!(all.len(), 5, "{all:?}");
    assert_eq!(all[&c].0, "A", "c had the next slot");
}

#[tokio::test]
async fn a_session_with_no_record_abandoned_frees_its_user() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--admin-token",
            ADMIN_TOKEN,
            "--capacity",
            "0",
            "--abandon-seconds",
            "1",
            "--grace-seconds",
            "0",
        ],
    )
    .await;
    let gone = app.join_id("ab", "gone").await;
    app.advance(Duration::from_secs(3));
    settings(&app, "ab", json!({ "capacity": 1 })).await;
    app.pass().await;
    assert_eq!(app.status_of(&gone).await, "ABANDONED");
    let (rec, user) = record(&redis, "ab", 1);
    assert!(rec.unwrap().starts_with("B|"));
    assert_eq!(user.as_deref(), Some("gone"));
    let (code, view) = app.join("ab", "gone").await;
    assert_eq!(code, StatusCode::ACCEPTED, "the user was freed: {view}");
    assert_eq!(join_number(view["sessionId"].as_str().unwrap()), 2);
}

#[tokio::test]
async fn no_entry_goes_while_its_session_waits_and_passed_ones_go_after_the_retention() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--admin-token",
            ADMIN_TOKEN,
            "--retention-seconds",
            "1",
            "--abandon-seconds",
            "3600",
        ],
    )
    .await;
    // A drawn line: its people wait in the draw's order, their entries passed by the group.
    let opens = time::OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(app.now_ms() as i64 + 1_000) * 1_000_000,
    )
    .unwrap()
    .format(&time::format_description::well_known::Rfc3339)
    .unwrap();
    settings(&app, "tr", json!({ "capacity": 1, "opensAt": opens })).await;
    let mut sids = Vec::new();
    for i in 0..5 {
        sids.push(app.join_id("tr", &format!("p{i}")).await);
    }
    app.advance(Duration::from_secs(2));
    app.pass().await; // the draw
    app.pass().await; // its order written: the first admitted
    let all = sessions(&redis, "tr");
    assert_eq!(
        all.values().filter(|(st, _, _)| st == "A").count(),
        1,
        "{all:?}"
    );
    // Many retentions later, the four still waiting have their entries (their only record).
    for _ in 0..5 {
        app.advance(Duration::from_secs(2));
        app.pass().await;
    }
    assert_eq!(entry_ids(&redis, "tr").len(), 5);
    let waiting: Vec<&String> = sids
        .iter()
        .filter(|s| sessions(&redis, "tr")[s.as_str()].0 == "W")
        .collect();
    assert_eq!(waiting.len(), 4);
    for sid in &waiting {
        let (code, view) = app.status(sid).await;
        assert_eq!(
            (code, view["status"].as_str()),
            (StatusCode::OK, Some("WAITING"))
        );
    }
    // The draw admitted to the end: every session has a record, and the entries go a
    // retention or two after.
    settings(&app, "tr", json!({ "capacity": 10 })).await;
    app.pass().await;
    for sid in &sids {
        assert_eq!(app.status_of(sid).await, "ACTIVE");
    }
    assert_eq!(entry_ids(&redis, "tr").len(), 5, "kept for the retention");
    for _ in 0..3 {
        app.advance(Duration::from_millis(1_100));
        app.pass().await;
    }
    assert_eq!(entry_ids(&redis, "tr"), Vec::<String>::new());
    for sid in &sids {
        assert_eq!(app.status_of(sid).await, "ACTIVE", "records stay");
    }
}

#[tokio::test]
async fn a_line_whose_stream_ids_are_times_writes_a_record_with_each_join() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN, "--capacity", "1"]).await;
    // A line made before joins numbered the stream: its stream and group exist, and its
    // meta does not say `qids`.
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(keys("old").stream)
        .arg(vestibule::store::keys::GROUP)
        .arg("0")
        .arg("MKSTREAM")
        .query(&mut redis.conn())
        .unwrap();
    let first = app.join_id("old", "x").await;
    let second = app.join_id("old", "y").await;
    let ids = entry_ids(&redis, "old");
    assert_eq!(ids.len(), 2);
    for id in &ids {
        let ms: u64 = id.split_once('-').unwrap().0.parse().unwrap();
        assert!(ms > 1 << 36, "a time, not a join number: {id}");
    }
    // Each join wrote its record and user.
    for (q, user) in [(1, "x"), (2, "y")] {
        let (rec, u) = record(&redis, "old", q);
        assert!(rec.is_some(), "join {q} has a record");
        assert_eq!(u.as_deref(), Some(user));
    }
    app.pass().await;
    assert_eq!(app.status_of(&first).await, "ACTIVE");
    let (_, view) = app.status(&second).await;
    assert_eq!(view["position"], 1, "{view}");
    // Its records, not its entries, are what the granter goes by: the second waits, then
    // takes the slot the first gives back.
    app.advance(Duration::from_secs(2));
    app.pass().await;
    assert_eq!(app.status_of(&second).await, "WAITING");
    let (code, left) = app.leave(&first).await;
    assert!(code.is_success(), "{left}");
    app.pass().await;
    assert_eq!(app.status_of(&second).await, "ACTIVE");
}

#[tokio::test]
async fn a_place_left_before_its_turn_and_forgotten_never_waits_again() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--admin-token",
            ADMIN_TOKEN,
            "--capacity",
            "0",
            "--retention-seconds",
            "1",
            "--abandon-seconds",
            "3600",
        ],
    )
    .await;
    // Alice leaves while waiting, and joins again at the back.
    let first = app.join_id("lp", "alice").await;
    let (code, left) = app.leave(&first).await;
    assert!(code.is_success(), "{left}");
    let second = app.join_id("lp", "alice").await;
    // Past the retention, the granter passes by: her first place is not passed yet.
    app.advance(Duration::from_millis(1_500));
    app.pass().await;
    app.advance(Duration::from_millis(1_500));
    app.pass().await;
    let (code, view) = app.status(&first).await;
    assert_eq!(code, StatusCode::OK, "{view}");
    assert_eq!(
        view["status"], "LEFT",
        "her left place is not waiting again: {view}"
    );
    // Slots for everyone: one pass for Alice, her second place's.
    settings(&app, "lp", json!({ "capacity": 5 })).await;
    app.pass().await;
    assert_eq!(app.status_of(&second).await, "ACTIVE");
    assert_eq!(crate::common::active_set(&redis, "lp"), vec![second]);
    // Passed, the left place is forgotten a retention later, entry and record.
    app.advance(Duration::from_millis(1_500));
    app.pass().await;
    assert_eq!(app.status(&first).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_session_forgotten_after_its_slot_never_waits_again() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--capacity",
            "2",
            "--retention-seconds",
            "1",
            "--abandon-seconds",
            "3600",
        ],
    )
    .await;
    // `a` is admitted at once; the pass marks its entry for a trim a retention later.
    let a = app.join_id("fs", "a").await;
    assert_eq!(app.status_of(&a).await, "ACTIVE");
    app.pass().await;
    // `b` is admitted at once after that mark, and gives its slot back at once.
    app.advance(Duration::from_millis(400));
    let b = app.join_id("fs", "b").await;
    assert_eq!(app.status_of(&b).await, "ACTIVE");
    let (code, left) = app.leave(&b).await;
    assert!(code.is_success(), "{left}");
    // The mark trims `a`'s entry and sets the next; then `b` is purged, a retention after
    // it ended and before the next mark would trim its entry.
    app.advance(Duration::from_millis(700));
    app.pass().await;
    app.advance(Duration::from_millis(500));
    app.pass().await;
    let (code, view) = app.status(&b).await;
    assert_eq!(
        code,
        StatusCode::NOT_FOUND,
        "b is forgotten, not waiting: {view}"
    );
    assert_eq!(record(&redis, "fs", 2), (None, None));
    assert!(entry_ids(&redis, "fs")
        .iter()
        .all(|id| !id.starts_with("2-")));
}

#[tokio::test]
async fn a_line_with_an_entry_added_by_hand_goes_on_and_is_trimmed() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--admin-token",
            ADMIN_TOKEN,
            "--capacity",
            "1",
            "--retention-seconds",
            "1",
            "--abandon-seconds",
            "3600",
        ],
    )
    .await;
    let x = app.join_id("mx", "x").await;
    let y = app.join_id("mx", "y").await;
    // An entry that is no join, with a time id: the joins after it take time ids too.
    let _: String = redis::cmd("XADD")
        .arg(keys("mx").stream)
        .arg("*")
        .arg(&["note", "added by hand"])
        .query(&mut redis.conn())
        .unwrap();
    let z = app.join_id("mx", "z").await;
    assert!(record(&redis, "mx", 3).0.is_some(), "a time id: a record");
    let (_, view) = app.status(&z).await;
    assert_eq!(
        view["position"], 2,
        "the entry added by hand is nobody: {view}"
    );
    settings(&app, "mx", json!({ "capacity": 3 })).await;
    app.pass().await;
    for sid in [&x, &y, &z] {
        assert_eq!(app.status_of(sid).await, "ACTIVE");
    }
    // Passed, the entries go within two retentions (the last one read stays as the mark).
    for _ in 0..3 {
        app.advance(Duration::from_millis(1_100));
        app.pass().await;
    }
    let left = entry_ids(&redis, "mx");
    assert!(left.len() <= 1, "{left:?}");
    for sid in [&x, &y, &z] {
        assert_eq!(app.status_of(sid).await, "ACTIVE", "records stay");
    }
}

/// The user's place as the scripts find it: in the bucket that Redis's own SHA-1 of the
/// user names (`user_bucket` in common.lua), whatever bucket the join was handed.
fn user_place(redis: &impl Backend, event: &str, user: &str) -> Option<u64> {
    let bucket: String = redis::cmd("EVAL")
        .arg("return string.sub(redis.sha1hex(ARGV[1]), 1, 3)")
        .arg(0)
        .arg(user)
        .query(&mut *redis.connection())
        .unwrap();
    redis::cmd("HGET")
        .arg(format!("{}{bucket}", keys(event).users))
        .arg(user)
        .query(&mut *redis.connection())
        .unwrap()
}

#[tokio::test]
async fn a_join_puts_its_users_place_where_every_script_looks_for_it() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN, "--capacity", "0"]).await;
    // The join computes the user's bucket itself (store/keys.rs); leave, status, the
    // granter and a move compute it in Redis. A user whose place were elsewhere would hold
    // it after leaving: its next join would find the old one.
    let users = ["U1", "shop:7", "visitor-9.z", "x"];
    let mut ids = Vec::new();
    for (user, q) in users.iter().zip(1..) {
        let id = app.join_id("ub", user).await;
        assert_eq!(join_number(&id), q);
        assert_eq!(user_place(&redis, "ub", user), Some(q), "{user}");
        ids.push(id);
    }
    let (code, left) = app.leave(&ids[0]).await;
    assert!(code.is_success(), "{left}");
    assert_eq!(user_place(&redis, "ub", "U1"), None, "the leave freed U1");
}
