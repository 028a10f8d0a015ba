//! The waiting room on a real Redis Cluster (three primaries, three replicas): the same
//! invariants as on one Redis, with events spread over the primaries, and a primary killed
//! under load.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::common::{eventually, keys, spawn_app, stream_order, TestApp, TestCluster};
use crate::waiting_room::{
    a_full_event_never_delays, hundred_joins_admit_exactly_the_first_ten,
    two_instances_racing_keep_capacity_and_fifo,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_and_fifo_hold_per_event_with_two_instances_and_events_on_three_primaries() {
    let cluster = TestCluster::start();
    let events = cluster.events_on_each_primary("race-");
    let primaries: HashSet<u16> = events
        .iter()
        .map(|e| cluster.primary_of(&keys(e).meta))
        .collect();
    assert_eq!(primaries.len(), 3, "{events:?} on three primaries");
    let args = ["--capacity", "3", "--granter-tick-ms", "5"];
    let a = Arc::new(spawn_app(&cluster, &args).await);
    let b = Arc::new(spawn_app(&cluster, &args).await);
    let races = events
        .iter()
        .map(|event| two_instances_racing_keep_capacity_and_fifo(&cluster, &a, &b, event));
    futures::future::join_all(races).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_joins_at_once_admit_exactly_the_first_ten_on_every_primary() {
    let cluster = TestCluster::start();
    let app = Arc::new(spawn_app(&cluster, &["--capacity", "10"]).await);
    let events = cluster.events_on_each_primary("burst-");
    let bursts = events
        .iter()
        .map(|event| hundred_joins_admit_exactly_the_first_ten(&cluster, &app, event));
    futures::future::join_all(bursts).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_event_on_one_primary_never_delays_one_on_another() {
    let cluster = TestCluster::start();
    let events = cluster.events_on_each_primary("hol-");
    a_full_event_never_delays(&cluster, &events[0], &events[1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_registry_and_the_scripts_route_to_the_right_nodes() {
    let cluster = TestCluster::start();
    let app = spawn_app(&cluster, &["--capacity", "1"]).await;
    // Every script call of a join, a status read, a leave and a granter pass names its
    // keys, all in the event's slot: on three primaries, none is refused (CROSSSLOT) and
    // each event's commands land on its own primary.
    let events = cluster.events_on_each_primary("route-");
    let before: Vec<u64> = cluster
        .ports
        .iter()
        .map(|&p| evalsha_calls(&cluster, p))
        .collect();
    for event in &events {
        let first = app.join_id(event, "first").await;
        let second = app.join_id(event, "second").await;
        assert_eq!(app.status_of(&first).await, "ACTIVE", "at its join");
        assert_eq!(app.leave(&first).await.0, StatusCode::OK);
        app.pass().await;
        assert_eq!(app.status_of(&second).await, "ACTIVE");
    }
    for (i, &port) in cluster.ports.iter().enumerate() {
        let calls = evalsha_calls(&cluster, port) - before[i];
        let serves_an_event = events
            .iter()
            .any(|e| cluster.primary_of(&keys(e).meta) == port);
        assert_eq!(
            calls > 0,
            serves_an_event,
            "node {port}: {calls} script calls; it serves one of {events:?}: {serves_an_event}"
        );
    }
    app.stop().await;
}

const SOON: Duration = Duration::from_secs(5);

fn evalsha_calls(cluster: &TestCluster, port: u16) -> u64 {
    cluster
        .command_calls(port)
        .get("evalsha")
        .copied()
        .unwrap_or(0)
}

/// What the load saw while a primary died.
#[derive(Default)]
struct Seen {
    /// Session ids of joins answered 202.
    accepted: Vec<String>,
    /// (when, status) of every answer to a join of the event whose primary died.
    answers: Vec<(Instant, StatusCode)>,
    /// Answers that were neither 202 nor 503 with `Retry-After`.
    wrong: Vec<String>,
}

/// Kills the primary of one event while four tasks keep joining it, and returns what they
/// saw, with the kill time. With `restart`, the dead node is started again 4 s later, as
/// an orchestrator would: it rejoins as the new primary's replica.
async fn kill_a_primary_under_load(
    cluster: &mut TestCluster,
    app: &Arc<TestApp>,
    event: &str,
    restart: bool,
) -> (Seen, Instant) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let running = Arc::new(AtomicBool::new(true));
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (app, seen, running, event) = (
            app.clone(),
            seen.clone(),
            running.clone(),
            event.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while running.load(Ordering::Relaxed) {
                i += 1;
                let res = app
                    .http
                    .post(app.url("/api/waiting-room/sessions"))
                    .json(
                        &serde_json::json!({ "eventId": event, "userId": format!("load{t}-{i}") }),
                    )
                    .send()
                    .await
                    .expect("the server answers");
                let status = res.status();
                let retry_after = res.headers().contains_key("retry-after");
                let body: serde_json::Value = res.json().await.expect("a JSON body");
                let mut seen = seen.lock().unwrap();
                seen.answers.push((Instant::now(), status));
                match status {
                    StatusCode::ACCEPTED => seen
                        .accepted
                        .push(body["sessionId"].as_str().unwrap().to_string()),
                    StatusCode::SERVICE_UNAVAILABLE if retry_after => {}
                    other => seen.wrong.push(format!("{other}: {body}")),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let primary = cluster.primary_of(&keys(event).meta);
    let killed_at = Instant::now();
    cluster.kill(primary);
    if restart {
        tokio::time::sleep(Duration::from_secs(4)).await;
        cluster.launch(primary);
    }
    // Until joins have gone through again for a while.
    let recovered = eventually(Duration::from_secs(120), || async {
        let seen = seen.lock().unwrap();
        seen.answers
            .iter()
            .filter(|(at, s)| {
                *at > killed_at + Duration::from_secs(1) && *s == StatusCode::ACCEPTED
            })
            .count()
            > 50
    })
    .await;
    running.store(false, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    assert!(recovered, "joins went through again after the failover");
    let seen = Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap();
    (seen, killed_at)
}

/// How long joins were refused after the kill, how many were, and how many accepted joins
/// Redis no longer has.
async fn failover_figures(
    cluster: &TestCluster,
    app: &TestApp,
    event: &str,
    seen: &Seen,
    killed_at: Instant,
) -> (Duration, usize, usize) {
    assert!(
        seen.wrong.is_empty(),
        "answers other than 202 or 503 + Retry-After: {:?}",
        seen.wrong
    );
    let refused: Vec<Instant> = seen
        .answers
        .iter()
        .filter(|(_, s)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .map(|(at, _)| *at)
        .collect();
    let outage = refused.iter().max().map_or(Duration::ZERO, |last| {
        last.saturating_duration_since(killed_at)
    });
    let in_stream: HashSet<String> = stream_order(cluster, event).into_iter().collect();
    let mut lost = 0;
    for sid in &seen.accepted {
        let (status, _) = app.status(sid).await;
        if status != StatusCode::OK || !in_stream.contains(sid) {
            lost += 1;
        }
    }
    (outage, refused.len(), lost)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_is_replaced_with_503s_meanwhile_and_no_restart() {
    let mut cluster = TestCluster::start();
    let app = Arc::new(spawn_app(&cluster, &["--capacity", "1000000"]).await);
    let events = cluster.events_on_each_primary("failover-");
    let event = &events[0];
    let (seen, killed_at) = kill_a_primary_under_load(&mut cluster, &app, event, false).await;
    let (outage, refused, lost) = failover_figures(&cluster, &app, event, &seen, killed_at).await;
    eprintln!(
        "failover without WAIT: {} joins accepted, {refused} answered 503 over {outage:?} \
         after the kill, {lost} accepted joins lost",
        seen.accepted.len()
    );
    assert!(refused > 0, "the kill was felt");
    assert!(outage < Duration::from_secs(15), "{outage:?}");
    // The promoted replica serves the event: the scripts are loaded there on first use,
    // and admit there (a million slots: a join is admitted at once), and a pass over
    // every event runs on the new layout.
    let after = app.join_id(event, "after-failover").await;
    assert_eq!(app.status_of(&after).await, "ACTIVE");
    app.pass().await;
    // The events on the other primaries were never lost either.
    for other in &events[1..] {
        let sid = app.join_id(other, "elsewhere").await;
        assert_eq!(app.status_of(&sid).await, "ACTIVE");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_wait_for_one_replica_no_accepted_join_is_lost_in_a_failover() {
    let mut cluster = TestCluster::start();
    let app = Arc::new(
        spawn_app(
            &cluster,
            &["--capacity", "1000000", "--redis-wait-replicas", "1"],
        )
        .await,
    );
    let events = cluster.events_on_each_primary("durable-");
    let event = &events[0];
    let (seen, killed_at) = kill_a_primary_under_load(&mut cluster, &app, event, true).await;
    let (outage, refused, lost) = failover_figures(&cluster, &app, event, &seen, killed_at).await;
    eprintln!(
        "failover with WAIT 1: {} joins accepted, {refused} answered 503 over {outage:?} \
         after the kill, {lost} accepted joins lost",
        seen.accepted.len()
    );
    assert!(seen.accepted.len() > 50, "the load ran");
    assert_eq!(lost, 0, "every accepted join survived the failover");
}
