//! The room in front of a shop: passes bound to one event, the gate, revocation, shared
//! keys, the JWKS, places that only their owner can see, and events that belong to the
//! operator. Each defect found by trying the room as an attacker has its test here
//! (C1, H1, H2, M1).

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vestibule::passes::Keyring;

use crate::common::{admin, spawn_app, spawn_stepped, TestApp, TestRedis, ADMIN_TOKEN};

const SOON: Duration = Duration::from_secs(5);
const GATE: &str = "/api/waiting-room/gate";

/// Joins and waits until ACTIVE; returns (session id, pass).
async fn admitted(app: &TestApp, event: &str, user: &str) -> (String, String) {
    let sid = app.join_id(event, user).await;
    app.pass().await;
    assert_eq!(app.status_of(&sid).await, "ACTIVE");
    let pass = app.status(&sid).await.1["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    (sid, pass)
}

/// The gate's answer for a pass sent as `Authorization: Bearer`.
async fn gate(app: &TestApp, event: &str, pass: &str) -> (StatusCode, Value) {
    let res = app
        .http
        .get(app.url(&format!("{GATE}/{event}")))
        .bearer_auth(pass)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn c1_a_repeat_join_from_another_client_learns_nothing_of_the_place() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--capacity", "1"]).await;
    let (alice, pass) = admitted(&app, "E1", "alice").await;

    // Someone else who knows the name "alice": no id, no pass, nothing to DELETE.
    let intruder = reqwest::Client::new();
    for body in [
        json!({ "eventId": "E1", "userId": "alice" }),
        json!({ "eventId": "E1", "userId": "alice", "sessionId": "0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d" }),
    ] {
        let res = intruder
            .post(app.url("/api/waiting-room/sessions"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let text = res.text().await.unwrap();
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["error"]["code"], "already_joined", "{text}");
        assert!(!text.contains(&alice), "the place's id leaked: {text}");
        assert!(!text.contains(&pass[..40]), "the pass leaked: {text}");
    }
    // Alice, with her id, resumes her place; it is still hers.
    let res = app
        .http
        .post(app.url("/api/waiting-room/sessions"))
        .json(&json!({ "eventId": "E1", "userId": "alice", "sessionId": alice }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap()["sessionId"],
        alice.as_str()
    );
    assert_eq!(app.status_of(&alice).await, "ACTIVE");

    // The page's visitor ids cannot be claimed through the JSON API.
    let (code, body) = app
        .join("E1", "visitor:0123456789abcdef0123456789abcdef")
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_user_id");
}

#[tokio::test]
async fn h1_an_event_configured_before_its_first_join_never_stops_the_granter() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--admin-token",
            ADMIN_TOKEN,
            "--capacity",
            "1",
            "--session-seconds",
            "1",
        ],
    )
    .await;
    let (code, body) = admin(
        &app,
        Method::PUT,
        "/api/admin/events/a-presale",
        Some(json!({ "capacity": 500 })),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    // Another event's line moves on expiry, which only a full pass over every event
    // (the configured one included) handles.
    let (first, _) = admitted(&app, "other", "u1").await;
    let second = app.join_id("other", "u2").await;
    app.advance(Duration::from_secs(1));
    app.pass().await;
    assert_eq!(app.status_of(&second).await, "ACTIVE");
    assert_eq!(app.status_of(&first).await, "EXPIRED");
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    // And the configured event works once people come.
    admitted(&app, "a-presale", "u3").await;
}

#[tokio::test]
async fn h2_a_pass_opens_its_own_events_door_only() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let (_, pass) = admitted(&app, "A", "u").await;

    assert_eq!(gate(&app, "A", &pass).await.0, StatusCode::NO_CONTENT);
    let (code, body) = gate(&app, "B", &pass).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "wrong_event");

    let verify = |event: &'static str| {
        let (app, pass) = (&app, pass.clone());
        async move {
            app.http
                .post(app.url("/api/waiting-room/tokens/verify"))
                .json(&json!({ "token": pass, "eventId": event }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(verify("A").await["valid"], true);
    assert_eq!(verify("B").await["valid"], false);

    // The same pass as the cookie a browser sends; the scheme in any case.
    let res = app
        .http
        .get(app.url(&format!("{GATE}/A")))
        .header("cookie", format!("other=1; vestibule_pass={pass}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .http
        .get(app.url(&format!("{GATE}/A")))
        .header("authorization", format!("bearer {pass}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn gate_answers_from_memory_carry_the_security_headers_of_routed_answers() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let (_, pass) = admitted(&app, "A", "u").await;
    let check = |event: &'static str| {
        let (app, pass) = (&app, pass.clone());
        async move {
            app.http
                .get(app.url(&format!("{GATE}/{event}")))
                .bearer_auth(pass)
                .send()
                .await
                .unwrap()
        }
    };
    // The first check loads the event's revocations (the router); the next ones are
    // answered from memory, before the router and its layers.
    assert_eq!(check("A").await.status(), StatusCode::NO_CONTENT);
    let opened = check("A").await;
    let refused = check("B").await;
    assert_eq!(opened.status(), StatusCode::NO_CONTENT);
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    for res in [&opened, &refused] {
        crate::common::assert_api_headers(res);
    }
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "wrong_event");
}

#[tokio::test]
async fn the_gate_refuses_with_a_json_reason() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let res = app
        .http
        .get(app.url(&format!("{GATE}/A")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "no_pass"
    );
    let (code, body) = gate(&app, "A", "not.a.pass").await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_pass");
    let (code, body) = gate(&app, "A B", "x").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_event_id");
}

/// Polls the gate until it refuses; the time that took.
async fn refused_within(app: &TestApp, event: &str, pass: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (code, body) = gate(app, event, pass).await;
        if code == StatusCode::UNAUTHORIZED {
            assert_eq!(body["error"]["code"], "pass_revoked");
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "the gate still opened after {limit:?}"
        );
    }
}

#[tokio::test]
async fn a_pass_stops_opening_every_instances_gate_within_a_second_once_its_session_ends() {
    let redis = TestRedis::start();
    let one = spawn_app(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    let two = spawn_app(&redis, &[]).await;

    // Left: refused at once where it left, within a second everywhere.
    let (sid, pass) = admitted(&one, "R", "leaver").await;
    assert_eq!(gate(&one, "R", &pass).await.0, StatusCode::NO_CONTENT);
    assert_eq!(gate(&two, "R", &pass).await.0, StatusCode::NO_CONTENT);
    assert_eq!(one.leave(&sid).await.0, StatusCode::OK);
    // Within a second (200 ms reads) on any machine with time to run; the bound here is
    // one a loaded test machine cannot miss without a defect.
    let here = refused_within(&one, "R", &pass, Duration::from_millis(50)).await;
    let there = refused_within(&two, "R", &pass, Duration::from_secs(10)).await;
    println!("left: refused here after {here:?}, on the other instance after {there:?}");

    // Revoked by an operator.
    let (sid, pass) = admitted(&one, "R", "revoked").await;
    assert_eq!(gate(&two, "R", &pass).await.0, StatusCode::NO_CONTENT);
    let (code, _) = admin(
        &one,
        Method::DELETE,
        &format!("/api/admin/sessions/{sid}"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let there = refused_within(&two, "R", &pass, Duration::from_secs(10)).await;
    println!("revoked: refused on the other instance after {there:?}");

    // An instance that never guarded the event reads the revocations before it answers.
    let three = spawn_app(&redis, &[]).await;
    assert_eq!(
        gate(&three, "R", &pass).await.1["error"]["code"],
        "pass_revoked"
    );
}

#[tokio::test]
async fn m1_a_pass_from_one_instance_opens_the_gate_of_another_and_survives_restarts() {
    let redis = TestRedis::start();
    let one = spawn_app(&redis, &[]).await;
    let two = spawn_app(&redis, &[]).await;
    let (_, pass) = admitted(&one, "M", "u").await;
    assert_eq!(gate(&two, "M", &pass).await.0, StatusCode::NO_CONTENT);
    let jwks = "/.well-known/jwks.json";
    assert_eq!(
        one.get_json::<Value>(jwks).await,
        two.get_json::<Value>(jwks).await
    );
    one.stop().await;
    let again = spawn_app(&redis, &[]).await;
    assert_eq!(gate(&again, "M", &pass).await.0, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_jwks_verifies_a_pass_offline_with_a_plain_jwt_library() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let (sid, pass) = admitted(&app, "J", "u").await;
    let set: JwkSet = app.get_json("/.well-known/jwks.json").await;
    let kid = jsonwebtoken::decode_header(&pass).unwrap().kid.unwrap();
    let key = DecodingKey::from_jwk(set.find(&kid).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["J"]);
    let claims = decode::<Value>(&pass, &key, &validation).unwrap().claims;
    assert_eq!(claims["sub"], sid.as_str());
    assert_eq!(claims["jti"], sid.as_str());
    validation.set_audience(&["other"]);
    assert!(decode::<Value>(&pass, &key, &validation).is_err());
}

#[tokio::test]
async fn a_key_file_signs_and_a_retired_key_keeps_opening_until_its_passes_expire() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.pem"), dir.path().join("new.pem"));
    std::fs::write(&old, Keyring::generate_pem()).unwrap();
    std::fs::write(&new, Keyring::generate_pem()).unwrap();
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--signing-key-file", old.to_str().unwrap()]).await;
    let (_, pass) = admitted(&app, "K", "u").await;
    let old_kid = Keyring::new(&std::fs::read_to_string(&old).unwrap(), &[])
        .unwrap()
        .kid()
        .to_string();
    assert_eq!(
        jsonwebtoken::decode_header(&pass).unwrap().kid.as_deref(),
        Some(old_kid.as_str())
    );
    app.stop().await;

    let rotated = spawn_app(
        &redis,
        &[
            "--signing-key-file",
            new.to_str().unwrap(),
            "--retired-key-files",
            old.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(gate(&rotated, "K", &pass).await.0, StatusCode::NO_CONTENT);
    let jwks: Value = rotated.get_json("/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
    assert_eq!(jwks["keys"][1]["kid"], old_kid.as_str());
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
}

#[tokio::test]
async fn registered_events_refuse_joins_to_events_nobody_created() {
    let redis = TestRedis::start();
    let app = spawn_app(
        &redis,
        &["--events", "registered", "--admin-token", ADMIN_TOKEN],
    )
    .await;
    let (code, body) = app.join("made-up", "u").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "unknown_event");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query(&mut redis.conn())
        .unwrap();
    assert!(
        keys.iter().all(|k| !k.contains("made-up")) && !keys.contains(&"wr:events".to_string()),
        "an unknown event left {keys:?}"
    );

    let (code, body) = admin(
        &app,
        Method::PUT,
        "/api/admin/events/sale",
        Some(json!({ "targetUrl": "https://shop.example/sale/" })),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["targetUrl"], "https://shop.example/sale/");
    let (sid, _) = admitted(&app, "sale", "u").await;
    assert_eq!(
        app.status(&sid).await.1["targetUrl"],
        "https://shop.example/sale/"
    );

    for bad in [
        "ftp://shop.example/",
        "/sale",
        "https://user:pw@shop.example/",
        "not a url",
    ] {
        let (code, body) = admin(
            &app,
            Method::PUT,
            "/api/admin/events/sale",
            Some(json!({ "targetUrl": bad })),
        )
        .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid_settings");
    }
}

#[tokio::test]
async fn a_pass_given_back_after_its_event_started_anew_is_refused_on_every_instance() {
    // An event nobody configured ends (every key deleted) and starts anew: its counter of
    // revoked passes starts from 0 again. An instance that watched the event before,
    // at a higher count, must not take the new, lower count for an old read.
    let redis = TestRedis::start();
    let args = ["--session-seconds", "2", "--retention-seconds", "1"];
    let one = spawn_stepped(&redis, &args).await;
    let two = spawn_stepped(&redis, &args).await;
    for user in ["a", "b"] {
        let (sid, pass) = admitted(&one, "anew", user).await;
        assert_eq!(gate(&two, "anew", &pass).await.0, StatusCode::NO_CONTENT);
        one.leave(&sid).await;
        refused_within(&two, "anew", &pass, Duration::from_secs(10)).await;
    }
    // Both passes expire, the sessions are purged: the event ends and loses its keys.
    for app in [&one, &two] {
        app.advance(Duration::from_secs(3));
    }
    one.pass().await;
    let meta = crate::common::keys("anew").meta;
    let exists: bool = redis::cmd("EXISTS")
        .arg(&meta)
        .query(&mut redis.conn())
        .unwrap();
    assert!(!exists, "the event ended");
    // It starts anew; one pass is given back (the new count: 1).
    let (sid, pass) = admitted(&one, "anew", "c").await;
    assert_eq!(gate(&two, "anew", &pass).await.0, StatusCode::NO_CONTENT);
    one.leave(&sid).await;
    let there = refused_within(&two, "anew", &pass, Duration::from_secs(10)).await;
    println!("refused on the other instance after {there:?}");
}
