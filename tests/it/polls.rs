//! Polls of waiting sessions answered from the process's memory (README, "Polls from
//! memory"): what they cost Redis, and how stale they may be across instances.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use vestibule::store::SNAPSHOT_REFRESH;

use crate::common::{admin, calls, spawn_stepped, TestRedis, ADMIN_TOKEN};

#[tokio::test]
async fn polls_of_a_waiting_session_read_redis_at_most_once_per_refresh() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--capacity", "0"]).await;
    let mut ids = Vec::new();
    for user in ["a", "b", "c"] {
        ids.push(app.join_id("mem", user).await);
    }
    let before = calls(&redis, "evalsha");
    // Three refresh intervals of 100 polls each (the room's time moved by the test).
    let (polls, intervals) = (300, 3);
    for i in 0..polls {
        if i > 0 && i % (polls / intervals) == 0 {
            app.advance(SNAPSHOT_REFRESH);
        }
        let (code, body) = app.status(&ids[2]).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "WAITING");
        assert_eq!(body["position"], 3);
        assert_eq!(body["userId"], "c");
        assert_eq!(body["eventId"], "mem");
    }
    let scripts = calls(&redis, "evalsha") - before;
    // Answered before the router (the fast lane) with the router's headers.
    let res = app
        .http
        .get(app.url(&format!("/api/waiting-room/sessions/{}", ids[2])))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");
    crate::common::assert_api_headers(&res);
    // One snapshot read per interval (heartbeats are not due yet: 200 ms passed).
    assert_eq!(scripts, intervals, "script calls for {polls} polls");
}

#[tokio::test]
async fn a_session_this_process_never_saw_reads_redis_once_and_then_memory() {
    let redis = TestRedis::start();
    let a = spawn_stepped(&redis, &["--capacity", "0"]).await;
    let b = spawn_stepped(&redis, &["--capacity", "0"]).await;
    let sid = a.join_id("seen", "u").await;
    let before = calls(&redis, "evalsha");
    for _ in 0..50 {
        assert_eq!(b.status(&sid).await.1["position"], 1);
    }
    let scripts = calls(&redis, "evalsha") - before;
    assert!(scripts <= 10, "{scripts} script calls for 50 polls");
    // A made-up id (right layout, wrong tag) is never remembered: each poll asks Redis.
    let mut forged = sid.clone();
    forged.replace_range(30.., "000000");
    let before = calls(&redis, "evalsha");
    for _ in 0..5 {
        assert_eq!(b.status(&forged).await.0, StatusCode::NOT_FOUND);
    }
    assert_eq!(calls(&redis, "evalsha") - before, 5);
}

#[tokio::test]
async fn what_another_instance_did_shows_within_the_refresh_interval() {
    let redis = TestRedis::start();
    let extra = ["--capacity", "0", "--admin-token", ADMIN_TOKEN];
    let a = spawn_stepped(&redis, &extra).await;
    let b = spawn_stepped(&redis, &extra).await;
    let mut ids = Vec::new();
    for user in ["first", "second", "third", "fourth"] {
        ids.push(a.join_id("stale", user).await);
    }
    assert_eq!(a.status(&ids[3]).await.1["position"], 4);

    // Someone ahead leaves through B: A's answer moves up once its snapshot is a refresh
    // interval old (not before: the interval is what A's memory may lag).
    assert_eq!(b.leave(&ids[0]).await.0, StatusCode::OK);
    let almost = SNAPSHOT_REFRESH - Duration::from_millis(1);
    a.advance(almost);
    assert_eq!(
        a.status(&ids[3]).await.1["position"],
        4,
        "within the interval"
    );
    a.advance(SNAPSHOT_REFRESH - almost);
    assert_eq!(a.status(&ids[3]).await.1["position"], 3);

    // The session itself leaves through B: A says so.
    assert_eq!(b.leave(&ids[2]).await.0, StatusCode::OK);
    a.advance(SNAPSHOT_REFRESH);
    assert_eq!(a.status_of(&ids[2]).await, "LEFT");
    assert_eq!(a.status(&ids[3]).await.1["position"], 2);

    // B's granter admits the next: A hands out the pass.
    let (code, _) = admin(
        &b,
        reqwest::Method::PUT,
        "/api/admin/events/stale",
        Some(json!({ "capacity": 1 })),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    b.pass().await;
    a.advance(SNAPSHOT_REFRESH);
    assert_eq!(a.status_of(&ids[1]).await, "ACTIVE");
    let (_, body) = a.status(&ids[1]).await;
    assert!(body["accessToken"].is_string(), "{body}");
    assert_eq!(a.status(&ids[3]).await.1["position"], 1);

    // The operator's message, posted through B, reaches A's answers.
    let (code, _) = admin(
        &b,
        reqwest::Method::PUT,
        "/api/admin/events/stale/message",
        Some(json!({ "text": "doors at 10:05" })),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    a.advance(SNAPSHOT_REFRESH);
    assert_eq!(a.status(&ids[3]).await.1["message"], "doors at 10:05");
}

#[tokio::test]
async fn a_session_lost_with_redis_is_not_answered_from_memory() {
    let redis = TestRedis::start();
    let a = spawn_stepped(&redis, &["--capacity", "0"]).await;
    let old = a.join_id("lost", "u1").await;
    assert_eq!(a.status_of(&old).await, "WAITING");
    let _: () = redis::cmd("FLUSHALL").query(&mut redis.conn()).unwrap();
    // Nobody on A learns of the loss: only the snapshot's epoch tells, at its next read.
    a.advance(SNAPSHOT_REFRESH);
    assert_eq!(a.status(&old).await.0, StatusCode::NOT_FOUND);
    // The event is numbered again and its first join has the old one's join number: a
    // new id, never a 404, and the old one stays unknown.
    let new = a.join_id("lost", "u2").await;
    assert_ne!(new, old);
    for _ in 0..5 {
        assert_eq!(a.status_of(&new).await, "WAITING");
        assert_eq!(a.status(&old).await.0, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn heartbeats_of_polls_answered_from_memory_are_written_in_batches() {
    let redis = TestRedis::start();
    // Abandon after 10 s: a heartbeat is due when 1 s old, written within 250 ms.
    let app = spawn_stepped(&redis, &["--capacity", "0", "--abandon-seconds", "10"]).await;
    let mut sids = Vec::new();
    for i in 0..100 {
        sids.push(app.join_id("beats", &format!("u{i}")).await);
    }
    let seen = |q: u64| crate::common::last_seen(&redis, "beats", q);
    app.advance(Duration::from_millis(1_000));
    let before = calls(&redis, "evalsha");
    let polled = app.now_ms();
    for sid in &sids {
        assert_eq!(app.status_of(sid).await, "WAITING");
    }
    // Each record carries the time of its poll (not of the write), within the flush.
    app.flush_heartbeats().await;
    assert!((1..=100).all(|q| seen(q) == polled));
    let scripts = calls(&redis, "evalsha") - before;
    assert!(
        scripts <= 10,
        "{scripts} script calls for 100 polls and their heartbeats"
    );
}

#[tokio::test]
async fn fifty_thousand_leaves_in_a_pre_queue_keep_polls_answered_from_memory() {
    // 50,001 people joined the pre-queue of an event and left (as leave.lua writes them:
    // in `left`, and in `leftlog` by the leave's count). Polls of those who stay are still
    // answered from memory: a process reads the leaves once, then only new ones (before:
    // past 50,000 leaves every poll of the event read Redis, until the draw).
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    let opens = app.now_ms() + 3_600_000;
    let (code, body) = admin(
        &app,
        reqwest::Method::PUT,
        "/api/admin/events/prequeue",
        Some(json!({ "opensAt": vestibule::service::rfc3339(opens).unwrap() })),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let stays = app.join_id("prequeue", "stays").await;
    let k = crate::common::keys("prequeue");
    let mut conn = redis.conn();
    let leavers = 50_001u64;
    for chunk in (0..leavers).collect::<Vec<_>>().chunks(5_000) {
        let mut pipe = redis::pipe();
        for &i in chunk {
            let q = 2 + i;
            pipe.cmd("ZADD").arg(&k.left).arg(q).arg(q).ignore();
            pipe.cmd("ZADD").arg(&k.leftlog).arg(i + 1).arg(q).ignore();
        }
        pipe.cmd("HINCRBY")
            .arg(&k.meta)
            .arg("left_n")
            .arg(chunk.len())
            .ignore();
        pipe.query::<()>(&mut conn).unwrap();
    }
    // The first poll reads the snapshot (its leaves in pages); then memory answers.
    assert_eq!(app.status(&stays).await.1["preQueue"], true);
    let before = calls(&redis, "evalsha");
    let (polls, intervals) = (300, 3);
    for i in 0..polls {
        if i % (polls / intervals) == 0 {
            app.advance(SNAPSHOT_REFRESH);
        }
        let (code, body) = app.status(&stays).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "WAITING");
    }
    let scripts = calls(&redis, "evalsha") - before;
    // Each refresh of the snapshot reads only what changed: one call, not a page of
    // 10,000 leaves each (nor one per poll).
    assert_eq!(scripts, intervals, "script calls for {polls} polls");
}
