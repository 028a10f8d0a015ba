//! Faults under load: two instances racing with expiry, Redis away for ten seconds, and a
//! Redis restart with persistence.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{active_set, sessions, spawn_app, stream_order, until, TestRedis};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_5000_joins_capacity_and_fifo_hold_with_expiry() {
    let redis = TestRedis::start();
    let args = [
        "--capacity",
        "25",
        "--session-seconds",
        "1",
        "--granter-tick-ms",
        "10",
    ];
    let apps = [
        Arc::new(spawn_app(&redis, &args).await),
        Arc::new(spawn_app(&redis, &args).await),
    ];
    let events = ["e0", "e1", "e2", "e3", "e4"];

    let run = Arc::new(AtomicBool::new(true));
    let max_seen = Arc::new(AtomicU64::new(0));
    let samples = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (url, run, max_seen, samples) =
            (redis.url(), run.clone(), max_seen.clone(), samples.clone());
        std::thread::spawn(move || {
            let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
            while run.load(Ordering::Relaxed) {
                let mut pipe = redis::pipe();
                for e in events {
                    pipe.cmd("ZCARD").arg(format!("wr:{{{e}}}:active"));
                }
                let counts: Vec<u64> = pipe.query(&mut conn).unwrap();
                max_seen.fetch_max(counts.into_iter().max().unwrap(), Ordering::Relaxed);
                samples.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let mut tasks = Vec::new();
    for t in 0..20 {
        let app = apps[t % 2].clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..250 {
                app.join_id(events[(t + i) % 5], &format!("t{t}-{i}")).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Expiry and admission go on after the last join: until every event has seen at least
    // two rounds of its slots expire.
    until(|| async {
        events.iter().all(|e| {
            sessions(&redis, e)
                .values()
                .filter(|(st, _, _)| st == "E")
                .count()
                >= 50
        })
    })
    .await;
    run.store(false, Ordering::Relaxed);
    sampler.join().unwrap();

    let mut total = 0;
    for e in events {
        let order = stream_order(&redis, e);
        total += order.len();
        let s = sessions(&redis, e);
        // FIFO: whoever was admitted was admitted no earlier than everyone ahead.
        let mut admitted: Vec<(u64, u64)> = s
            .values()
            .filter(|(st, _, _)| st == "A" || st == "E")
            .map(|(_, q, until)| (*q, *until))
            .collect();
        admitted.sort();
        assert!(!admitted.is_empty());
        for w in admitted.windows(2) {
            assert!(
                w[0].1 <= w[1].1,
                "{e}: join {} admitted before join {}",
                w[1].0,
                w[0].0
            );
        }
        // And nobody behind a waiting session was admitted.
        let first_waiting = s
            .values()
            .filter(|(st, _, _)| st == "W")
            .map(|(_, q, _)| *q)
            .min();
        if let Some(first_waiting) = first_waiting {
            assert!(
                admitted.iter().all(|(q, _)| *q < first_waiting),
                "{e}: admitted past the line"
            );
        }
        assert!(active_set(&redis, e).len() <= 25);
    }
    assert_eq!(total, 5000, "no join lost");
    let (max, n) = (
        max_seen.load(Ordering::Relaxed),
        samples.load(Ordering::Relaxed),
    );
    eprintln!("two instances: joins=5000 samples={n} max_active={max} (capacity 25)");
    assert!(n > 100, "{n} samples");
    assert!(max <= 25, "capacity exceeded: {max}");
    assert_eq!(max, 25, "every slot was in use at some point");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_away_for_ten_seconds_under_load_then_everything_recovers() {
    let mut redis = TestRedis::start();
    let app = Arc::new(
        spawn_app(
            &redis,
            &["--capacity", "1000000", "--granter-tick-ms", "20"],
        )
        .await,
    );
    let run = Arc::new(AtomicBool::new(true));
    type Tally = (Vec<String>, HashMap<u16, u64>, Duration);
    let mut load: Vec<tokio::task::JoinHandle<Tally>> = Vec::new();
    // Each load task passes this once its first join went through.
    let going = Arc::new(tokio::sync::Barrier::new(5));
    for t in 0..4 {
        let (app, run, going) = (app.clone(), run.clone(), going.clone());
        load.push(tokio::spawn(async move {
            let (mut accepted, mut codes, mut slowest) =
                (Vec::new(), HashMap::new(), Duration::ZERO);
            let mut i = 0;
            while run.load(Ordering::Relaxed) {
                let started = Instant::now();
                let (status, body) = app.join("away", &format!("t{t}-{i}")).await;
                slowest = slowest.max(started.elapsed());
                *codes.entry(status.as_u16()).or_default() += 1;
                if status == StatusCode::ACCEPTED {
                    accepted.push(body["sessionId"].as_str().unwrap().to_string());
                    if accepted.len() == 1 {
                        going.wait().await;
                    }
                } else {
                    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
                    assert_eq!(body["error"]["code"], "unavailable");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                i += 1;
            }
            (accepted, codes, slowest)
        }));
    }
    // Joins go through (every task's), then Redis goes away for ten seconds.
    going.wait().await;
    redis.stop_gracefully();
    let down = Instant::now();
    // /readyz is red while Redis is away (the granter's last pass gets old).
    until(|| async {
        let ready = app
            .http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status();
        ready == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(down.elapsed())).await;
    redis.launch();
    // Joins go through again.
    let back = Instant::now();
    until(|| async {
        let probe = format!("probe-{}", rand::random::<u32>());
        back.elapsed() > Duration::from_secs(1)
            && app.join("away", &probe).await.0 == StatusCode::ACCEPTED
    })
    .await;
    run.store(false, Ordering::Relaxed);

    let (mut accepted, mut codes, mut slowest) = (Vec::new(), HashMap::new(), Duration::ZERO);
    for l in load {
        let (a, c, s) = l.await.unwrap();
        accepted.extend(a);
        for (k, v) in c {
            *codes.entry(k).or_default() += v;
        }
        slowest = slowest.max(s);
    }
    eprintln!(
        "redis away 10 s: codes={codes:?} slowest={slowest:?} accepted={}",
        accepted.len()
    );
    assert!(codes.get(&503).copied().unwrap_or(0) > 0, "503s while away");
    assert!(codes.keys().all(|c| *c == 202 || *c == 503), "{codes:?}");
    assert!(
        slowest < Duration::from_secs(3),
        "a request hung for {slowest:?}"
    );
    // Every accepted join survived and the granter, backed off, resumed on its own.
    let order = stream_order(&redis, "away");
    for sid in &accepted {
        assert!(order.contains(sid), "accepted join {sid} lost");
    }
    until(|| async {
        sessions(&redis, "away")
            .values()
            .all(|(st, _, _)| st == "A")
    })
    .await;
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_redis_restart_with_aof_keeps_every_session_and_place() {
    let mut redis = TestRedis::start();
    let app = spawn_app(&redis, &["--capacity", "2"]).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(app.join_id("aof", &format!("u{i}")).await);
    }
    assert_eq!(
        active_set(&redis, "aof").len(),
        2,
        "the first two at their joins"
    );
    let mut before = Vec::new();
    for sid in &ids {
        before.push(app.status(sid).await.1);
    }
    redis.stop_gracefully();
    redis.launch();
    for (sid, old) in ids.iter().zip(before) {
        let (code, now) = app.status(sid).await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(now["status"], old["status"], "{sid}");
        assert_eq!(now["position"], old["position"], "{sid}");
    }
    // And the line still moves.
    app.leave(&ids[0]).await;
    app.pass().await;
    assert_eq!(app.status_of(&ids[2]).await, "ACTIVE");
}

#[tokio::test]
async fn a_request_past_its_deadline_is_a_503_json_and_the_next_one_succeeds() {
    let redis = TestRedis::start();
    // The deadline (300 ms) comes long before the Redis timeout (5 s).
    let args = ["--request-timeout-ms", "300", "--redis-timeout-ms", "5000"];
    let app = spawn_app(&redis, &args).await;
    let sid = app.join_id("slow", "me").await;
    // Redis stops answering clients for 1.5 s: the poll waits on it past its deadline.
    redis.pause_clients(1_500);
    let started = Instant::now();
    let (code, body) = app.status(&sid).await;
    let took = started.elapsed();
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "timeout", "{body}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1_200),
        "answered at the deadline, not when Redis came back: {took:?}"
    );
    // Polls succeed again once Redis answers.
    until(|| async { app.status(&sid).await.0 == StatusCode::OK }).await;
}

#[tokio::test]
async fn after_redis_lost_its_data_no_new_join_is_a_404_on_any_instance() {
    // Each instance remembers event numbers. Redis loses everything (FLUSHALL here; a
    // restore or a failover to a lagging replica alike) and numbers events again from 1.
    let redis = TestRedis::start();
    let a = spawn_app(&redis, &[]).await;
    let b = spawn_app(&redis, &[]).await;
    let old = a.join_id("E", "u1").await; // E is event 1 to A…
    assert_eq!(b.status(&old).await.0, StatusCode::OK); // …and to B
    let _: () = redis::cmd("FLUSHALL").query(&mut redis.conn()).unwrap();
    let f = b.join_id("F", "u2").await; // F is now event 1
    let e = a.join_id("E", "u3").await; // A's "E is 1" is stale: E gets a new number
    for (name, app) in [("A", &a), ("B", &b)] {
        for sid in [&f, &e] {
            let (status, body) = app.status(sid).await;
            assert_eq!(status, StatusCode::OK, "{name} on {sid}: {body}");
        }
        assert_eq!(
            app.status(&old).await.0,
            StatusCode::NOT_FOUND,
            "lost with Redis"
        );
    }
    assert_eq!(b.status(&e).await.1["eventId"], "E");
    assert_eq!(a.status(&f).await.1["eventId"], "F");
}

#[tokio::test]
async fn a_join_answered_503_in_a_redis_stall_is_not_written_and_its_retry_gets_a_place() {
    // Redis stops answering for 3 s; the join waits for it 1 s and is answered 503. When
    // Redis resumes, it runs the join's script: too late, so it writes nothing. The
    // client's retry then gets a place (before: 409, and the place that was written could
    // be seen, polled, left or replaced by nobody).
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--redis-timeout-ms", "1000"]).await;
    app.join_id("stall", "warm-up").await;
    redis.pause_clients(3_000);
    let (code, body) = app.join("stall", "retrier").await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    // Redis is back, and has run what was sent meanwhile.
    until(|| async {
        let probe = format!("probe-{}", rand::random::<u32>());
        app.join("stall", &probe).await.0 == StatusCode::ACCEPTED
    })
    .await;
    let users: Vec<String> = redis::cmd("XRANGE")
        .arg(crate::common::keys("stall").stream)
        .arg("-")
        .arg("+")
        .query::<Vec<(String, Vec<(String, String)>)>>(&mut redis.conn())
        .unwrap()
        .into_iter()
        .flat_map(|(_, fields)| fields)
        .filter(|(k, _)| k == "userId")
        .map(|(_, v)| v)
        .collect();
    assert!(
        !users.contains(&"retrier".to_string()),
        "the join answered 503 was written: {users:?}"
    );
    let (code, body) = app.join("stall", "retrier").await;
    assert_eq!(code, StatusCode::ACCEPTED, "the retry gets a place: {body}");
}
