//! Session lifecycle and fairness: expiry, release, abandonment, idempotent join,
//! position and estimate, admission tokens.

use std::time::Duration;

use crate::common::{active_set, keys, spawn_app, spawn_stepped, TestApp, TestRedis};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SOON: Duration = Duration::from_secs(5);

#[tokio::test]
async fn an_expired_slot_admits_the_next_at_its_expiry_with_nobody_polling() {
    let redis = TestRedis::start();
    // Only the schedule makes the event due: passes over the events due now.
    let app = spawn_stepped(&redis, &["--capacity", "1", "--session-seconds", "1"]).await;
    let first = app.join_id("exp", "a").await;
    let second = app.join_id("exp", "b").await;
    assert_eq!(active_set(&redis, "exp"), vec![first.clone()]);
    // Whatever the joins made due now changes nothing: the slot is held.
    app.pass_due().await;
    assert_eq!(active_set(&redis, "exp"), vec![first.clone()]);
    // Then the event is not due: its next time is the expiry, a second on.
    let early = app.pass_due().await;
    assert!(early.reports.is_empty(), "{:?}", early.reports);
    let next = early.next_in.expect("the expiry is in the schedule");
    assert!(
        next > Duration::from_millis(900) && next <= Duration::from_secs(1),
        "{next:?}"
    );
    app.advance(Duration::from_millis(999));
    assert!(app.pass_due().await.reports.is_empty(), "not due before it");
    // Nobody polls: the expiry's own time in the schedule admits the next.
    app.advance(Duration::from_millis(1));
    let due = app.pass_due().await;
    assert_eq!(due.reports.len(), 1, "{:?}", due.reports);
    assert_eq!(due.reports[0].granted, 1);
    assert_eq!(active_set(&redis, "exp"), vec![second.clone()]);
    assert_eq!(app.status_of(&first).await, "EXPIRED");
    assert_eq!(app.status_of(&second).await, "ACTIVE");
}

#[tokio::test]
async fn releasing_an_active_slot_admits_the_next_at_once_and_leave_is_idempotent() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--capacity", "1"]).await;
    let first = app.join_id("rel", "a").await;
    let second = app.join_id("rel", "b").await;
    assert_eq!(app.status_of(&first).await, "ACTIVE");
    app.pass_due().await;
    assert!(app.pass_due().await.reports.is_empty(), "nothing is due");

    let (code, body) = app.leave(&first).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["status"], "LEFT");
    // The leave made the event due now (no time passes): the next pass admits.
    let due = app.pass_due().await;
    assert_eq!(due.reports.len(), 1, "{:?}", due.reports);
    assert_eq!(due.reports[0].granted, 1);
    assert_eq!(app.status_of(&second).await, "ACTIVE");
    let (code, body) = app.leave(&first).await;
    assert_eq!(
        (code, body["status"].clone()),
        (StatusCode::OK, json!("LEFT"))
    );
    assert_eq!(active_set(&redis, "rel"), vec![second]);
}

#[tokio::test]
async fn a_waiting_session_that_leaves_is_skipped_and_positions_behind_it_move_up() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--capacity", "1"]).await;
    let holder = app.join_id("skip", "h").await;
    let a = app.join_id("skip", "a").await;
    let b = app.join_id("skip", "b").await;
    let c = app.join_id("skip", "c").await;
    app.pass().await;
    assert_eq!(app.status_of(&holder).await, "ACTIVE");
    let pos = |v: Value| v["position"].as_u64().unwrap();
    assert_eq!(pos(app.status(&c).await.1), 3);

    app.leave(&b).await;
    assert_eq!(pos(app.status(&c).await.1), 2, "one ahead left");
    app.leave(&holder).await;
    app.pass().await;
    assert_eq!(app.status_of(&a).await, "ACTIVE");
    assert_eq!(pos(app.status(&c).await.1), 1);
    app.leave(&a).await;
    // b left: its turn is skipped and c gets the slot.
    app.pass().await;
    assert_eq!(app.status_of(&c).await, "ACTIVE");
    assert_eq!(app.status_of(&b).await, "LEFT");
}

#[tokio::test]
async fn position_strictly_decreases_as_people_ahead_are_admitted() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--capacity", "1"]).await;
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(app.join_id("pos", &format!("u{i}")).await);
    }
    let me = ids.last().unwrap().clone();
    let mut last = u64::MAX;
    for sid in &ids[..7] {
        app.pass().await;
        assert_eq!(app.status_of(sid).await, "ACTIVE");
        let (_, body) = app.status(&me).await;
        let p = body["position"].as_u64().unwrap();
        assert!(p < last, "position went from {last} to {p}");
        last = p;
        app.leave(sid).await;
    }
    assert_eq!(last, 1);
    app.pass().await;
    assert_eq!(app.status_of(&me).await, "ACTIVE");
}

#[tokio::test]
async fn a_session_not_polled_is_abandoned_and_never_takes_a_slot() {
    let redis = TestRedis::start();
    // Without a grace (the next test has one), a skip is final.
    let app = spawn_stepped(
        &redis,
        &[
            "--capacity",
            "1",
            "--abandon-seconds",
            "1",
            "--grace-seconds",
            "0",
        ],
    )
    .await;
    let holder = app.join_id("abandon", "h").await;
    let gone = app.join_id("abandon", "gone").await;
    let stays = app.join_id("abandon", "stays").await;
    app.pass().await;
    assert_eq!(app.status_of(&holder).await, "ACTIVE");
    // `stays` keeps polling for 1.5 s; `gone` does not.
    time_passes(&app, &[&stays]).await;
    app.leave(&holder).await;
    app.pass().await;
    assert_eq!(app.status_of(&stays).await, "ACTIVE");
    assert_eq!(app.status_of(&gone).await, "ABANDONED");
    assert_eq!(active_set(&redis, "abandon"), vec![stays]);
}

/// Keeps `polling` alive (and everyone else silent) for 1.5 s of the room's clock: longer than the
/// abandonment period of 1 s.
async fn time_passes(app: &TestApp, polling: &[&str]) {
    for _ in 0..3 {
        app.advance(Duration::from_millis(500));
        for sid in polling {
            app.status(sid).await;
        }
        app.flush_heartbeats().await;
    }
}

#[tokio::test]
async fn a_skipped_visitor_back_within_the_grace_goes_in_next_ahead_of_the_line_once() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--capacity",
            "1",
            "--abandon-seconds",
            "1",
            "--grace-seconds",
            "60",
        ],
    )
    .await;
    let holder = app.join_id("grace", "h").await;
    let away = app.join_id("grace", "away").await;
    let next = app.join_id("grace", "next").await;
    let later = app.join_id("grace", "later").await;
    app.pass().await;
    let (_, waiting) = app.status(&next).await;
    assert_eq!(
        waiting["grace"],
        json!({ "seconds": 60, "returned": false })
    );
    // `away` stops polling for longer than the abandonment period; its turn comes and is
    // skipped: `next` goes in.
    time_passes(&app, &[&next, &later]).await;
    app.leave(&holder).await;
    let report = app.pass().await;
    assert_eq!(report[0].abandoned, 1, "{report:?}");
    assert_eq!(active_set(&redis, "grace"), vec![next.clone()]);
    assert_eq!(app.status_of(&later).await, "WAITING");

    // Back within the grace: its poll gives the turn back, ahead of `later`, who now
    // has one more person ahead.
    app.advance(Duration::from_secs(30));
    let (code, back) = app.status(&away).await;
    assert_eq!(code, StatusCode::OK, "{back}");
    assert_eq!(back["status"], "WAITING", "{back}");
    assert_eq!(back["position"], 1, "{back}");
    assert_eq!(back["grace"], json!({ "seconds": 0, "returned": true }));
    let (_, behind) = app.status(&later).await;
    assert_eq!(behind["position"], 2, "{behind}");
    app.flush_heartbeats().await;
    // A repeat join (proving the place) finds the place it came back to.
    let again: Value = app
        .http
        .post(app.url("/api/waiting-room/sessions"))
        .json(&json!({ "eventId": "grace", "userId": "away", "sessionId": away }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["sessionId"], away.as_str(), "{again}");
    assert_eq!(again["position"], 1, "{again}");

    // The next free slot is its, not `later`'s.
    app.leave(&next).await;
    app.pass().await;
    assert_eq!(active_set(&redis, "grace"), vec![away.clone()]);
    assert_eq!(app.status_of(&later).await, "WAITING");
    assert_eq!(app.status(&later).await.1["position"], 1);

    // Once: skipped a second time (it comes back, then stops polling again), it stays
    // skipped, whatever its poll.
    let once = app.join_id("grace", "once").await;
    app.leave(&away).await;
    app.pass().await;
    assert_eq!(active_set(&redis, "grace"), vec![later.clone()]);
    time_passes(&app, &[&later]).await;
    app.leave(&later).await;
    app.pass().await;
    let (_, first_back) = app.status(&once).await;
    assert_eq!(first_back["grace"]["returned"], true, "{first_back}");
    time_passes(&app, &[]).await;
    let free = app.join_id("grace", "free").await;
    app.pass().await;
    assert_eq!(active_set(&redis, "grace"), vec![free.clone()]);
    assert_eq!(app.status_of(&once).await, "ABANDONED");
}

#[tokio::test]
async fn a_skip_is_final_after_the_grace_or_once_the_user_holds_another_place() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--capacity",
            "1",
            "--abandon-seconds",
            "1",
            "--grace-seconds",
            "60",
        ],
    )
    .await;
    let holder = app.join_id("final", "h").await;
    let late = app.join_id("final", "late").await;
    let rejoined = app.join_id("final", "rejoined").await;
    let next = app.join_id("final", "next").await;
    app.pass().await;
    time_passes(&app, &[&next]).await;
    app.leave(&holder).await;
    let report = app.pass().await;
    assert_eq!(report[0].abandoned, 2, "{report:?}");
    assert_eq!(active_set(&redis, "final"), vec![next.clone()]);
    // `rejoined` joined again (a new place at the back) before coming back: that place
    // stays its one place, and the skipped one stays skipped.
    let (code, new_place) = app.join("final", "rejoined").await;
    assert_eq!(code, StatusCode::ACCEPTED);
    assert_ne!(new_place["sessionId"], rejoined.as_str());
    assert_eq!(app.status_of(&rejoined).await, "ABANDONED");
    // `late` comes back as its grace ends (the new place keeps polling).
    app.advance(Duration::from_secs(60));
    let new_place = new_place["sessionId"].as_str().unwrap().to_string();
    app.status(&new_place).await;
    app.flush_heartbeats().await;
    assert_eq!(app.status_of(&late).await, "ABANDONED");
    // Neither is let in ahead of anyone.
    app.leave(&next).await;
    app.pass().await;
    assert_eq!(active_set(&redis, "final"), vec![new_place]);
}

/// The per-event grace: set, shown, and refused out of its range.
#[tokio::test]
async fn an_events_grace_is_its_own_and_checked() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--capacity",
            "1",
            "--abandon-seconds",
            "1",
            "--grace-seconds",
            "60",
            "--admin-token",
            crate::common::ADMIN_TOKEN,
        ],
    )
    .await;
    let (code, body) = crate::common::admin(
        &app,
        reqwest::Method::PUT,
        "/api/admin/events/own-grace",
        Some(json!({ "capacity": 1, "graceSeconds": 3601 })),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_settings", "{body}");
    let (code, body) = crate::common::admin(
        &app,
        reqwest::Method::PUT,
        "/api/admin/events/own-grace",
        Some(json!({ "capacity": 1, "graceSeconds": 0 })),
    )
    .await;
    assert!(code.is_success(), "{code} {body}");
    assert_eq!(body["graceSeconds"], 0, "{body}");
    assert_eq!(body["graceSecondsInForce"], 0, "{body}");
    let holder = app.join_id("own-grace", "h").await;
    let away = app.join_id("own-grace", "away").await;
    app.pass().await;
    let (_, waiting) = app.status(&away).await;
    assert_eq!(waiting["grace"], json!({ "seconds": 0, "returned": false }));
    time_passes(&app, &[]).await;
    app.leave(&holder).await;
    app.pass().await;
    // No grace for this event: back at once, still skipped.
    assert_eq!(app.status_of(&away).await, "ABANDONED");
}

#[tokio::test]
async fn joining_twice_is_the_same_place_and_a_rejoin_after_leaving_goes_to_the_back() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--capacity", "1"]).await;
    app.join_id("idem", "holder").await;
    let (code, first) = app.join("idem", "me").await;
    assert_eq!(code, StatusCode::ACCEPTED);
    app.join_id("idem", "behind").await;
    // A repeat join that proves the place (its session id) finds it again.
    let res = app
        .http
        .post(app.url("/api/waiting-room/sessions"))
        .json(&json!({ "eventId": "idem", "userId": "me", "sessionId": first["sessionId"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["sessionId"], first["sessionId"]);
    assert_eq!(again["position"], 1);

    app.leave(first["sessionId"].as_str().unwrap()).await;
    let (code, back) = app.join("idem", "me").await;
    assert_eq!(code, StatusCode::ACCEPTED);
    assert_ne!(back["sessionId"], first["sessionId"]);
    assert_eq!(back["position"], 2, "behind the one who joined meanwhile");
}

#[tokio::test]
async fn status_carries_estimate_and_poll_hint() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--capacity", "2"]).await;
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(app.join_id("eta", &format!("u{i}")).await);
    }
    assert_eq!(
        active_set(&redis, "eta").len(),
        2,
        "the first two at their joins"
    );
    let (_, near) = app.status(&ids[2]).await;
    let (_, far) = app.status(&ids[29]).await;
    assert_eq!(near["position"], 1);
    assert_eq!(far["position"], 28);
    assert!(near["refreshAfterMs"].as_u64().unwrap() < far["refreshAfterMs"].as_u64().unwrap());
    assert!(far["refreshAfterMs"].as_u64().unwrap() <= 10_000);
    // Two admissions in the last minute: the wait is known, and longer further back.
    assert_eq!(near["waitTimeKnown"], true, "{near}");
    let near_eta = near["estimatedWaitSeconds"].as_u64().unwrap();
    let far_eta = far["estimatedWaitSeconds"].as_u64().unwrap();
    assert!(far_eta > near_eta, "{near_eta} vs {far_eta}");

    // A fresh event with nobody admitted yet has no estimate.
    let redis2 = TestRedis::start();
    let app2 = spawn_app(&redis2, &["--capacity", "0"]).await;
    let sid = app2.join_id("cold", "u").await;
    let (_, body) = app2.status(&sid).await;
    assert_eq!(body["waitTimeKnown"], false);
    assert!(body.get("estimatedWaitSeconds").is_none());
}

/// `POST /tokens/verify {"token", "eventId"}`.
async fn verify(app: &TestApp, token: &str, event: &str) -> Value {
    let res = app
        .http
        .post(app.url("/api/waiting-room/tokens/verify"))
        .json(&json!({ "token": token, "eventId": event }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()
}

#[tokio::test]
async fn an_active_session_carries_a_pass_that_verifies_until_tampered_with() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &[]).await;
    let sid = app.join_id("tok", "U1").await;
    app.pass().await;
    assert_eq!(app.status_of(&sid).await, "ACTIVE");
    let (_, body) = app.status(&sid).await;
    let token = body["accessToken"].as_str().unwrap().to_string();

    let ok = verify(&app, &token, "tok").await;
    assert_eq!(ok["valid"], true, "{ok}");
    assert_eq!(ok["claims"]["sub"], sid.as_str());
    assert_eq!(ok["claims"]["jti"], sid.as_str());
    assert_eq!(ok["claims"]["aud"], "tok");

    let mut flipped = token.into_bytes();
    let i = flipped.len() - 3;
    flipped[i] = if flipped[i] == b'a' { b'b' } else { b'a' };
    let bad = verify(&app, &String::from_utf8(flipped).unwrap(), "tok").await;
    assert_eq!(bad["valid"], false);

    // Another deployment (another Redis, so another key): its passes are refused.
    let redis2 = TestRedis::start();
    let other = spawn_stepped(&redis2, &[]).await;
    let sid2 = other.join_id("tok", "U1").await;
    other.pass().await;
    assert_eq!(other.status_of(&sid2).await, "ACTIVE");
    let foreign = other.status(&sid2).await.1["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(verify(&app, &foreign, "tok").await["valid"], false);
}

#[tokio::test]
async fn a_pass_of_an_expired_session_is_refused() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--session-seconds", "1"]).await;
    let sid = app.join_id("tokexp", "U1").await;
    app.pass().await;
    assert_eq!(app.status_of(&sid).await, "ACTIVE");
    let token = app.status(&sid).await.1["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    app.advance(Duration::from_millis(1_001));
    let res = verify(&app, &token, "tokexp").await;
    assert_eq!(res["valid"], false, "{res}");
    assert_eq!(app.status_of(&sid).await, "EXPIRED");
}

#[tokio::test]
async fn ended_sessions_are_purged_after_the_retention_period_and_nothing_is_left_behind() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--capacity",
            "1",
            "--retention-seconds",
            "1",
            "--session-seconds",
            "2",
            "--granter-tick-ms",
            "100",
            "--admin-token",
            crate::common::ADMIN_TOKEN,
        ],
    )
    .await;
    // An operator's event (an event nobody configured goes whole: the next test).
    let (code, _) = crate::common::admin(
        &app,
        reqwest::Method::PUT,
        "/api/admin/events/purge",
        Some(json!({ "capacity": 1 })),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let mut ids = Vec::new();
    for user in ["a", "b", "c"] {
        ids.push(app.join_id("purge", user).await);
    }
    app.pass().await;
    assert_eq!(app.status_of(&ids[0]).await, "ACTIVE");
    app.leave(&ids[2]).await; // left while waiting
    app.leave(&ids[0]).await; // gave the slot back
    app.pass().await;
    assert_eq!(app.status_of(&ids[1]).await, "ACTIVE");
    app.leave(&ids[1]).await;
    assert_eq!(
        app.status_of(&ids[0]).await,
        "LEFT",
        "readable until purged"
    );
    // After the retention period every record, user entry and index of the event is gone;
    // the revocations of the passes given back go when those passes expire (2 s). What
    // stays: the event's settings and counts, and its samples of counts for the console,
    // which go an hour after the last one.
    app.advance(Duration::from_millis(2_001));
    app.pass().await;
    let empty = {
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg("wr:{purge}:*")
            .query(&mut redis.conn())
            .unwrap();
        keys.sort();
        keys == vec!["wr:{purge}:meta", "wr:{purge}:series"]
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("wr:{purge}:*")
        .query(&mut redis.conn())
        .unwrap();
    assert!(empty, "left behind: {keys:?}");
    let ttl: i64 = redis::cmd("PTTL")
        .arg("wr:{purge}:series")
        .query(&mut redis.conn())
        .unwrap();
    assert!((1..=3_600_000).contains(&ttl), "{ttl}");
    for id in &ids {
        assert_eq!(app.status(id).await.0, StatusCode::NOT_FOUND);
    }
    // The same users can join again.
    let (code, _) = app.join("purge", "a").await;
    assert_eq!(code, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn an_event_nobody_configured_leaves_no_key_once_its_retention_is_over() {
    let redis = TestRedis::start();
    let app = spawn_short_lived(&redis).await;
    let first = app.join_id("made-up", "a").await;
    let behind = app.join_id("made-up", "b").await;
    app.pass().await;
    app.leave(&behind).await;
    app.leave(&first).await;
    let keys = || -> Vec<String> {
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg("*{made-up}*")
            .query(&mut redis.conn())
            .unwrap();
        keys.sort();
        keys
    };
    assert!(!keys().is_empty());
    // Passes before the retention is over keep everything; the first one after it
    // deletes every key of the event: its stream and consumer group, and its console
    // samples too (thousands of ended events' samples would keep Redis busy expiring them).
    app.pass().await;
    assert!(keys().contains(&"wr:{made-up}:meta".to_string()));
    app.advance(Duration::from_millis(1_001));
    app.pass().await;
    assert_eq!(
        keys(),
        Vec::<String>::new(),
        "every key of the event is gone"
    );
    let registry: Option<String> = redis::cmd("HGET")
        .arg("wr:events")
        .arg("made-up")
        .query(&mut redis.conn())
        .unwrap();
    assert_eq!(
        registry.as_deref(),
        Some("1"),
        "its registry entry stays for a while (the next test)"
    );
    for id in [&first, &behind] {
        assert_eq!(app.status(id).await.0, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(app.leave(id).await.0, StatusCode::NOT_FOUND, "{id}");
    }
    // It starts anew: nobody in line and a free slot, so a new join is admitted at once
    // (standby), with an id that is not an old one.
    let again = app.join_id("made-up", "a").await;
    assert_ne!(again, first);
    assert_eq!(app.status_of(&again).await, "ACTIVE");
    assert_eq!(app.status(&first).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_poll_rewrites_the_heartbeat_only_once_it_is_a_tenth_of_the_abandon_period_old() {
    let redis = TestRedis::start();
    // Abandon after 10 s: the heartbeat is rewritten when 1 s old.
    let app = spawn_stepped(&redis, &["--capacity", "0", "--abandon-seconds", "10"]).await;
    let sid = app.join_id("beat", "me").await; // join number 1: bucket 0, field 1
    let seen = || crate::common::last_seen(&redis, "beat", 1);
    let joined = seen();
    for _ in 0..3 {
        assert_eq!(app.status_of(&sid).await, "WAITING");
    }
    assert_eq!(seen(), joined, "fresh heartbeats are not rewritten");
    app.advance(Duration::from_millis(1_000));
    assert_eq!(app.status_of(&sid).await, "WAITING");
    // Written with the next batch of heartbeats, with the time of the poll.
    app.flush_heartbeats().await;
    assert_eq!(seen(), joined + 1_000);
}

/// The registry's entry for an event, `#number`'s event, and the free numbers.
fn registry(
    redis: &TestRedis,
    event: &str,
    number: u32,
) -> (Option<u32>, Option<String>, Vec<u32>) {
    let mut conn = redis.conn();
    let n: Option<u32> = redis::cmd("HGET")
        .arg("wr:events")
        .arg(event)
        .query(&mut conn)
        .unwrap();
    let name: Option<String> = redis::cmd("HGET")
        .arg("wr:events")
        .arg(format!("#{number}"))
        .query(&mut conn)
        .unwrap();
    let free: Vec<u32> = redis::cmd("SMEMBERS")
        .arg("{wr:events}:free")
        .query(&mut conn)
        .unwrap();
    (n, name, free)
}

/// A stepped app with capacity 1 whose sessions, retention and grace before a deleted
/// event's registry entry goes (the longer of the retention and twice a request's
/// deadline) are all 1 s.
async fn spawn_short_lived(redis: &TestRedis) -> TestApp {
    spawn_stepped(
        redis,
        &[
            "--capacity",
            "1",
            "--retention-seconds",
            "1",
            "--session-seconds",
            "1",
            "--request-timeout-ms",
            "400",
        ],
    )
    .await
}

/// Makes `event` (nobody configured it) go idle and lose its keys; returns its ids.
async fn make_and_end(app: &TestApp, event: &str) -> Vec<String> {
    let first = app.join_id(event, "a").await;
    let behind = app.join_id(event, "b").await;
    app.pass().await;
    app.leave(&behind).await;
    app.leave(&first).await;
    app.pass().await;
    app.advance(Duration::from_millis(1_001));
    let reports = app.pass().await;
    assert!(
        reports
            .iter()
            .any(|r| r.event_id.as_str() == event && r.gone),
        "{event} went: {reports:?}"
    );
    vec![first, behind]
}

#[tokio::test]
async fn a_deleted_events_registry_entry_goes_after_the_grace_and_its_number_is_given_again() {
    let redis = TestRedis::start();
    let app = spawn_short_lived(&redis).await;
    let old = make_and_end(&app, "old").await;
    assert_eq!(
        registry(&redis, "old", 1),
        (Some(1), Some("old".into()), vec![])
    );
    // A pass within the grace keeps the entry; the first after it drops it.
    app.pass().await;
    assert_eq!(registry(&redis, "old", 1).0, Some(1));
    app.advance(Duration::from_millis(1_001));
    app.pass().await;
    assert_eq!(registry(&redis, "old", 1), (None, None, vec![1]));

    // The number goes to the next new event; no old id finds anything in it.
    let new = app.join_id("new", "a").await;
    assert!(new.starts_with("000001"), "{new}");
    assert_eq!(
        registry(&redis, "new", 1),
        (Some(1), Some("new".into()), vec![])
    );
    assert_eq!(&new[..18], &old[0][..18], "the same event and join numbers");
    for id in &old {
        assert_eq!(app.status(id).await.0, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(app.leave(id).await.0, StatusCode::NOT_FOUND, "{id}");
    }
    let (_, body) = app.status(&new).await;
    assert_eq!(body["eventId"], "new");
    assert_eq!(body["userId"], "a");
    // The old event comes back under a number of its own.
    let again = app.join_id("old", "a").await;
    assert!(again.starts_with("000002"), "{again}");
    assert_eq!(app.status(&again).await.1["eventId"], "old");
}

#[tokio::test]
async fn a_join_within_the_grace_keeps_the_registry_entry() {
    let redis = TestRedis::start();
    let app = spawn_short_lived(&redis).await;
    make_and_end(&app, "back").await;
    // A join numbers it again (the registry's own script takes the mark away).
    let sid = app.join_id("back", "c").await;
    // The event is empty: admitted at once (standby), on its old number.
    assert_eq!(app.status_of(&sid).await, "ACTIVE");
    assert!(sid.starts_with("000001"), "{sid}");
    app.advance(Duration::from_millis(1_001));
    app.pass().await;
    assert_eq!(
        registry(&redis, "back", 1),
        (Some(1), Some("back".into()), vec![])
    );
}

#[tokio::test]
async fn one_sweep_drops_every_ended_event_past_the_grace_however_many() {
    // Events made faster than a sweep drops them would grow the registry (and every sweep
    // over it) forever: a sweep drops every entry past the grace, not a fixed number.
    let redis = TestRedis::start();
    let app = spawn_short_lived(&redis).await;
    let events = 1_500; // more than one chunk of a thousand
    for i in 0..events {
        app.join_id(&format!("gone-{i}"), "a").await;
    }
    let count = |cmd: &str, key: &str| -> u64 {
        redis::cmd(cmd).arg(key).query(&mut redis.conn()).unwrap()
    };
    // Name → number and back, and the counter of numbers given.
    assert_eq!(count("HLEN", "wr:events"), 2 * events + 1);
    // Each event as a pass leaves it once it ended: its keys deleted, its entry marked
    // (here long past the grace, as a sweep finds them after a burst of made-up events).
    let mut conn = redis.conn();
    for i in 0..events {
        let event = format!("gone-{i}");
        let _: () = redis::pipe()
            .del(keys(&event).meta)
            .zadd(vestibule::store::keys::CLOSING, &event, 1)
            .query(&mut conn)
            .unwrap();
    }
    app.pass().await;
    assert_eq!(count("HLEN", "wr:events"), 1, "every entry dropped");
    assert_eq!(count("ZCARD", "{wr:events}:closing"), 0);
    assert_eq!(count("SCARD", "{wr:events}:free"), events);
}

#[tokio::test]
async fn the_page_of_an_ended_event_writes_nothing() {
    // `GET /e/{eventId}` looks the visitor's place up: for an event that ended (its keys
    // deleted, its registry entry marked to be dropped), it must not bring the event back.
    let redis = TestRedis::start();
    let app = spawn_short_lived(&redis).await;
    make_and_end(&app, "ended").await;
    let mut conn = redis.conn();
    let meta_exists = |conn: &mut redis::Connection| -> bool {
        redis::cmd("EXISTS")
            .arg(keys("ended").meta)
            .query(conn)
            .unwrap()
    };
    let marked = |conn: &mut redis::Connection| -> Option<f64> {
        redis::cmd("ZSCORE")
            .arg(vestibule::store::keys::CLOSING)
            .arg("ended")
            .query(conn)
            .unwrap()
    };
    assert!(!meta_exists(&mut conn), "the event ended");
    assert!(marked(&mut conn).is_some(), "its entry is to be dropped");
    // A browser with a visitor cookie (its page looks its place up): it joined another
    // event through the room's own form.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let joined = client
        .post(app.url(<vestibule::server_fns::JoinEvent as leptos::server_fn::ServerFn>::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .header("origin", format!("http://{}", app.addr))
        .header("sec-fetch-site", "same-origin")
        .body("event_id=elsewhere&return_to=")
        .send()
        .await
        .unwrap();
    assert!(joined.status().is_redirection(), "{}", joined.status());
    let cookie = joined.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    for _ in 0..3 {
        let res = client
            .get(app.url("/e/ended"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert!(
        !meta_exists(&mut conn),
        "the page brought the event's meta back"
    );
    assert!(
        marked(&mut conn).is_some(),
        "the page took the drop mark away"
    );
}
