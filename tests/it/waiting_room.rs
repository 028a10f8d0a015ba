//! The core invariants of the waiting room, against a real redis-server.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::common::{
    active_set, keys, pending, spawn_app, spawn_stepped, stream_order, Backend, TestApp, TestRedis,
};
use reqwest::StatusCode;
use vestibule::store::keys::GROUP;

const SOON: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_session_id_cannot_be_derived_from_a_neighbours() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--capacity", "0"]).await;
    let first = app.join_id("guess", "a").await;
    let second = app.join_id("guess", "b").await;
    assert_eq!(app.status_of(&second).await, "WAITING");
    // The event number and join number are visible, the 62-bit tag is not: the id of
    // the next join with the first one's tag is no session.
    let forged = format!("{}{}", &second[..19], &first[19..]);
    assert_ne!(forged, second);
    for id in [forged.as_str(), "0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d"] {
        assert_eq!(app.status(id).await.0, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(app.leave(id).await.0, StatusCode::NOT_FOUND, "{id}");
    }
    assert_eq!(app.status_of(&first).await, "WAITING");
    assert_eq!(app.status_of(&second).await, "WAITING");
}

#[tokio::test]
async fn a_join_is_one_stream_entry_read_by_the_granter_group() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &[]).await;
    let (status, body) = app.join("E1", "U1").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let sid = body["sessionId"].as_str().unwrap();
    assert_eq!(sid.len(), 36);
    assert_eq!(&sid[14..15], "8", "a version 8 UUID: {sid}");
    assert!(
        matches!(&sid[19..20], "8" | "9" | "a" | "b"),
        "RFC variant: {sid}"
    );

    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg("waiting-room-joins:{E1}")
        .arg("-")
        .arg("+")
        .query(&mut redis.conn())
        .unwrap();
    assert_eq!(entries.len(), 1);
    let fields: std::collections::HashMap<_, _> = entries[0].1.iter().cloned().collect();
    assert_eq!(fields["sessionId"], sid);
    assert_eq!(fields["eventId"], "E1");
    assert_eq!(fields["userId"], "U1");

    app.pass().await;
    assert_eq!(app.status_of(sid).await, "ACTIVE");
    let groups: Vec<redis::Value> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg("waiting-room-joins:{E1}")
        .query(&mut redis.conn())
        .unwrap();
    assert_eq!(groups.len(), 1, "one consumer group");
    let text = format!("{groups:?}");
    assert!(text.contains(GROUP), "{text}");
}

#[tokio::test]
async fn hundred_joins_from_twenty_tasks_with_capacity_ten_admit_exactly_the_first_ten() {
    let redis = TestRedis::start();
    let app = Arc::new(spawn_app(&redis, &["--capacity", "10"]).await);
    hundred_joins_admit_exactly_the_first_ten(&redis, &app, "burst").await;
}

/// 100 joins from 20 tasks at once, with capacity 10 (the app's setting).
pub async fn hundred_joins_admit_exactly_the_first_ten(
    redis: &impl Backend,
    app: &Arc<TestApp>,
    event: &str,
) {
    let mut tasks = Vec::new();
    for t in 0..20 {
        let app = app.clone();
        let event = event.to_string();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..5 {
                ids.push(app.join_id(&event, &format!("u{t}-{i}")).await);
            }
            ids
        }));
    }
    let mut all = HashSet::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    assert_eq!(all.len(), 100, "every join got its own session");

    let order = stream_order(redis, event);
    assert_eq!(order.len(), 100, "no join lost");
    let first_ten: HashSet<String> = order[..10].iter().cloned().collect();
    // Admitted at their joins, in stream order (the join script's standby).
    assert_eq!(
        active_set(redis, event).into_iter().collect::<HashSet<_>>(),
        first_ten
    );
    // And it stays so: nobody else gets in while the ten hold their slots (a pass over
    // every event changes nothing).
    app.pass().await;
    let mut active = 0;
    for sid in &order {
        if app.status_of(sid).await == "ACTIVE" {
            active += 1;
            assert!(first_ten.contains(sid));
        }
    }
    assert_eq!(active, 10);
}

#[tokio::test]
async fn capacity_holds_and_order_is_fifo_with_two_instances_racing() {
    let redis = TestRedis::start();
    let a = Arc::new(spawn_app(&redis, &["--capacity", "3", "--granter-tick-ms", "5"]).await);
    let b = Arc::new(spawn_app(&redis, &["--capacity", "3", "--granter-tick-ms", "5"]).await);
    two_instances_racing_keep_capacity_and_fifo(&redis, &a, &b, "race").await;
}

/// 40 joins through two instances at once (capacity 3, the apps' setting), then slots
/// freed one at a time through both: the active set is always the next three in join
/// order, and a sampler reading Redis all along never sees more than three.
pub async fn two_instances_racing_keep_capacity_and_fifo(
    redis: &impl Backend,
    a: &Arc<TestApp>,
    b: &Arc<TestApp>,
    event: &str,
) {
    // Sample the active count all along, straight from Redis.
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let mut conn = redis.connection();
        let active = keys(event).active;
        let sampling = sampling.clone();
        tokio::task::spawn_blocking(move || {
            let mut max = 0u64;
            let mut samples = 0u64;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                let n: u64 = redis::cmd("ZCARD").arg(&active).query(&mut *conn).unwrap();
                max = max.max(n);
                samples += 1;
            }
            (max, samples)
        })
    };

    // Joins through both instances at once; slots freed through both as well.
    let mut joins = Vec::new();
    for i in 0..40 {
        let app = if i % 2 == 0 { a.clone() } else { b.clone() };
        let event = event.to_string();
        joins.push(tokio::spawn(async move {
            app.join_id(&event, &format!("u{i}")).await
        }));
    }
    for j in joins {
        j.await.unwrap();
    }
    let order = stream_order(redis, event);
    assert_eq!(order.len(), 40);

    // Free slots one at a time: each time, the next in join order must be admitted.
    let mut admitted = Vec::new();
    for round in 0..order.len() {
        let expected: HashSet<String> = order[round..(round + 3).min(order.len())]
            .iter()
            .cloned()
            .collect();
        // Both instances' loops race on; a pass taken now settles what the last leave
        // freed, whichever loop got there first.
        let app = if round % 2 == 0 { b } else { a };
        app.pass().await;
        assert_eq!(
            active_set(redis, event).into_iter().collect::<HashSet<_>>(),
            expected,
            "round {round}"
        );
        let leaving = &order[round];
        let app = if round % 2 == 0 { a } else { b };
        assert_eq!(app.status_of(leaving).await, "ACTIVE");
        app.leave(leaving).await;
        admitted.push(leaving.clone());
    }
    assert_eq!(admitted, order, "admitted in join order");

    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let (max, samples) = sampler.await.unwrap();
    assert!(samples > 100, "the sampler ran ({samples} samples)");
    assert!(max <= 3, "capacity 3 exceeded: {max} active seen");
    assert_eq!(max, 3, "all three slots were in use");
}

#[tokio::test]
async fn a_full_event_never_delays_another() {
    let redis = TestRedis::start();
    a_full_event_never_delays(&redis, "full", "free").await;
}

/// With capacity 1 and a one-minute tick, a join to `free` is admitted at once (by the
/// join itself) while `full` has 50 people waiting.
pub async fn a_full_event_never_delays(redis: &impl Backend, full: &str, free: &str) {
    let app = spawn_app(redis, &["--capacity", "1", "--granter-tick-ms", "60000"]).await;
    app.join_id(full, "holder").await;
    for i in 0..50 {
        app.join_id(full, &format!("w{i}")).await;
    }
    let other = app.join_id(free, "me").await;
    // The tick is a minute: no pass admitted it, the join did.
    assert_eq!(app.status_of(&other).await, "ACTIVE");
    assert_eq!(active_set(redis, full).len(), 1);
}

#[tokio::test]
async fn nothing_is_ever_left_pending_even_when_instances_stop_mid_stream() {
    let redis = TestRedis::start();
    let a = spawn_app(&redis, &["--capacity", "1000", "--granter-tick-ms", "5"]).await;
    let b = spawn_app(&redis, &["--capacity", "1000", "--granter-tick-ms", "5"]).await;
    let mut ids = Vec::new();
    for i in 0..200 {
        let app = if i % 2 == 0 { &a } else { &b };
        ids.push(app.join_id("pend", &format!("u{i}")).await);
        if i == 100 {
            // One instance goes away while joins keep coming.
            assert_eq!(pending(&redis, "pend"), 0);
        }
    }
    a.stop().await;
    b.pass().await;
    assert_eq!(active_set(&redis, "pend").len(), 200);
    assert_eq!(pending(&redis, "pend"), 0, "no entry left pending");
    for sid in &ids {
        assert_eq!(b.status_of(sid).await, "ACTIVE");
    }
}

#[tokio::test]
async fn an_entry_delivered_twice_grants_once() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--capacity", "5"]).await;
    let sid = app.join_id("dup", "U1").await;
    app.pass().await;
    assert_eq!(app.status_of(&sid).await, "ACTIVE");
    // The same join delivered again (a replay, a retried XADD): it must not take a slot.
    let _: String = redis::cmd("XADD")
        .arg("waiting-room-joins:{dup}")
        .arg("*")
        .arg(&["sessionId", &sid, "eventId", "dup", "userId", "U1"])
        .query(&mut redis.conn())
        .unwrap();
    let other = app.join_id("dup", "U2").await;
    app.pass().await;
    assert_eq!(app.status_of(&other).await, "ACTIVE");
    let active = active_set(&redis, "dup");
    assert_eq!(active.len(), 2, "{active:?}");
    let until: Vec<(String, u64)> = redis::cmd("ZRANGE")
        .arg("wr:{dup}:active")
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .query(&mut redis.conn())
        .unwrap();
    assert_eq!(until.iter().filter(|(s, _)| s == &sid).count(), 1);
}

#[tokio::test]
async fn sessions_live_in_redis_and_survive_a_server_restart() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--capacity", "1"]).await;
    let first = app.join_id("restart", "a").await;
    let second = app.join_id("restart", "b").await;
    app.stop().await;

    let again = spawn_app(&redis, &["--capacity", "1"]).await;
    assert_eq!(again.status_of(&first).await, "ACTIVE");
    let (_, body) = again.status(&second).await;
    assert_eq!(body["status"], "WAITING");
    assert_eq!(body["position"], 1);
}
