//! Joins written in batches (README, "Joins in batches"): what they cost Redis, and that
//! every join invariant holds when joins share a script call.

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::StatusCode;

use crate::common::{calls, spawn_stepped, stream_order, TestRedis};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_that_arrive_together_share_script_calls_and_keep_every_invariant() {
    let redis = TestRedis::start();
    let app = Arc::new(spawn_stepped(&redis, &["--capacity", "0"]).await);
    for e in 0..3 {
        app.join_id(&format!("batch-{e}"), "first").await;
    }
    let before = calls(&redis, "evalsha");
    // 300 joins at once over three events; user `dup` joins `batch-0` 20 times.
    let mut tasks = Vec::new();
    for i in 0..300 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let event = format!("batch-{}", i % 3);
            let user = if i % 15 == 0 {
                "dup".to_string()
            } else {
                format!("u{i}")
            };
            let (code, body) = app.join(&event, &user).await;
            (event, user, code, body)
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let scripts = calls(&redis, "evalsha") - before;
    eprintln!("300 joins at once: {scripts} script calls");
    assert!(scripts <= 150, "{scripts} script calls for 300 joins");

    let mut accepted: HashMap<String, Vec<String>> = HashMap::new();
    for (event, user, code, body) in &answers {
        if user == "dup" && *code == StatusCode::CONFLICT {
            assert_eq!(body["error"]["code"], "already_joined");
            continue;
        }
        assert_eq!(*code, StatusCode::ACCEPTED, "{user}: {body}");
        assert_eq!(body["eventId"], event.as_str());
        assert_eq!(body["userId"], user.as_str());
        accepted
            .entry(event.clone())
            .or_default()
            .push(body["sessionId"].as_str().unwrap().to_string());
    }
    for event in ["batch-0", "batch-1", "batch-2"] {
        let order = stream_order(&redis, event);
        let mut mine = accepted[event].clone();
        mine.push(order[0].clone()); // `first`
                                     // Every acknowledged join is in the stream, once; `dup` has one place per event.
        let expected = if event == "batch-0" {
            1 + 80 + 1
        } else {
            1 + 100
        };
        assert_eq!(order.len(), expected, "{event}");
        mine.sort();
        let mut streamed = order.clone();
        streamed.sort();
        assert_eq!(mine, streamed, "{event}");
        // Stream order is join-number order, and each answer's position is its place.
        for (i, sid) in order.iter().enumerate() {
            let (_, body) = app.status(sid).await;
            assert_eq!(body["position"], i as u64 + 1, "{event} {sid}");
        }
    }
}

#[tokio::test]
async fn a_lone_join_is_written_alone_at_once() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--capacity", "0"]).await;
    app.join_id("alone", "first").await;
    for i in 1..5 {
        let before = calls(&redis, "evalsha");
        let (code, body) = app.join("alone", &format!("u{i}")).await;
        assert_eq!(code, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["position"], i + 1);
        assert_eq!(
            calls(&redis, "evalsha") - before,
            1,
            "one call per join at low load"
        );
    }
}
