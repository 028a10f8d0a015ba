//! The room's cost follows the events with work: idle events cost nothing per pass, their
//! metrics go, and their last joins leave the stream after the retention.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::common::{
    command_work, eventually, keys, spawn_app, spawn_process, Backend, TestApp, TestRedis,
};

/// Redis's own CPU time (user + system, seconds) from `INFO cpu`.
fn redis_cpu(redis: &TestRedis) -> f64 {
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query(&mut redis.conn())
        .unwrap();
    info.lines()
        .filter(|l| l.starts_with("used_cpu_sys:") || l.starts_with("used_cpu_user:"))
        .map(|l| l.split(':').nth(1).unwrap().trim().parse::<f64>().unwrap())
        .sum()
}

/// What Redis did over a window with no requests.
struct Quiet {
    /// Commands run (scripts' inner commands included).
    commands: u64,
    /// Microseconds Redis spent running them.
    usec: u64,
    /// Redis's CPU seconds (`INFO cpu`), its own housekeeping included: expiring keys
    /// costs it time even with no command, so an ended event must leave no key behind.
    cpu: f64,
}

async fn quiet_window(redis: &TestRedis, window: Duration) -> Quiet {
    let (cpu, (commands, usec)) = (redis_cpu(redis), command_work(redis));
    tokio::time::sleep(window).await;
    let (commands_after, usec_after) = command_work(redis);
    Quiet {
        commands: commands_after - commands,
        usec: usec_after - usec,
        cpu: redis_cpu(redis) - cpu,
    }
}

/// Median time (ms) from giving a slot back to the next person being ACTIVE, with
/// capacity 1, over `rounds` releases, seen by polling.
async fn freed_to_active(app: &TestApp, event: &str, rounds: usize) -> u128 {
    let mut holder = app.join_id(event, "holder").await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.status_of(&holder).await == "ACTIVE"
        })
        .await
    );
    let mut times = Vec::new();
    for i in 0..rounds {
        let next = app.join_id(event, &format!("next{i}")).await;
        let started = Instant::now();
        assert_eq!(app.leave(&holder).await.0, StatusCode::OK);
        while app.status_of(&next).await != "ACTIVE" {
            assert!(started.elapsed() < Duration::from_secs(5), "never admitted");
        }
        times.push(started.elapsed().as_millis());
        holder = next;
    }
    times.sort_unstable();
    times[times.len() / 2]
}

fn live_events(redis: &TestRedis) -> u64 {
    redis::cmd("ZCARD")
        .arg(vestibule::store::keys::LIVE)
        .query(&mut redis.conn())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_idle_events_cost_no_redis_time_no_delay_and_no_metrics() {
    // Sessions and retention of one second: each made-up event has its one join admitted,
    // expired and purged within seconds, and is idle from then on.
    // Its own process: /metrics is this server's alone.
    let args = [
        "--capacity",
        "1",
        "--session-seconds",
        "1",
        "--retention-seconds",
        "1",
    ];
    let redis = TestRedis::start();
    let app = Arc::new(spawn_process(&redis, &args).await);
    // The empty room: the same server on its own Redis, measured over the same window (a
    // busy machine slows both alike).
    let empty_redis = TestRedis::start();
    let _empty_app = spawn_process(&empty_redis, &args).await;
    let quiet = Duration::from_secs(5);
    let empty_turn = freed_to_active(&app, "live-before", 15).await;

    let mut tasks = Vec::new();
    for t in 0..32 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for i in (t..20_000).step_by(32) {
                app.join_id(&format!("made-up-{i}"), "someone").await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert!(
        eventually(Duration::from_secs(60), || async {
            live_events(&redis) == 0
        })
        .await,
        "the 20,000 events went idle ({} still with work)",
        live_events(&redis)
    );

    let scrape = || async {
        let res = app.http.get(app.url("/metrics")).send().await.unwrap();
        res.text().await.unwrap()
    };
    // A scrape sees which series stopped moving; one ten seconds later no longer has them.
    let first_scrape = scrape().await.len();
    // Nothing of theirs is left in Redis but their registry entries (one hash): no key
    // for Redis to keep, expire or scan.
    let keys_left: u64 = redis::cmd("DBSIZE").query(&mut redis.conn()).unwrap();
    assert!(keys_left < 10, "{keys_left} keys left");
    let (empty, dormant) = tokio::join!(
        quiet_window(&empty_redis, quiet),
        quiet_window(&redis, quiet)
    );
    let dormant_turn = freed_to_active(&app, "live-after", 15).await;
    tokio::time::sleep(Duration::from_secs(11).saturating_sub(quiet)).await;
    assert!(
        first_scrape > 100_000,
        "the events had series while they had work"
    );
    let metrics = scrape().await;
    eprintln!("/metrics when the events went idle: {first_scrape} bytes");
    eprintln!(
        "over {quiet:?} idle, empty vs 20,000 idle events: {} vs {} Redis commands, \
         {} vs {} µs running them, Redis CPU {:.1} vs {:.1} ms; freed → ACTIVE median \
         {empty_turn} ms before, {dormant_turn} ms after; /metrics {} bytes",
        empty.commands,
        dormant.commands,
        empty.usec,
        dormant.usec,
        empty.cpu * 1e3,
        dormant.cpu * 1e3,
        metrics.len()
    );
    // The same work as an empty room: the granter's ticks over the (empty) events with
    // work. One script or command per event per pass would be 20,000 a pass; a script
    // walking every event inside Redis, a second of Redis time.
    assert!(
        dormant.commands <= 2 * empty.commands + 20,
        "{} commands vs {}",
        dormant.commands,
        empty.commands
    );
    assert!(
        dormant.usec <= 2 * empty.usec + 20_000,
        "{} µs vs {} µs",
        dormant.usec,
        empty.usec
    );
    // 2× an empty room, with slack for the noise of a busy machine (20 ms of CPU in a
    // 5-second window).
    assert!(
        dormant.cpu <= 2.0 * empty.cpu + 0.020,
        "Redis CPU {:.1} ms vs {:.1} ms",
        dormant.cpu * 1e3,
        empty.cpu * 1e3
    );
    assert!(
        dormant_turn <= 2 * empty_turn + 10,
        "{dormant_turn} ms vs {empty_turn} ms"
    );
    assert!(
        metrics.len() < 100_000,
        "/metrics is {} bytes",
        metrics.len()
    );
    assert!(!metrics.contains("made-up-"), "no series of an idle event");
}

#[tokio::test]
async fn a_quiet_event_keeps_no_join_past_the_retention() {
    let redis = TestRedis::start();
    let app = spawn_app(
        &redis,
        &["--session-seconds", "1", "--retention-seconds", "1"],
    )
    .await;
    let sid = app.join_id("quiet", "someone").await;
    let k = keys("quiet");
    let xlen = |redis: &TestRedis| -> u64 {
        redis::cmd("XLEN")
            .arg(&k.stream)
            .query(&mut *redis.connection())
            .unwrap()
    };
    assert_eq!(xlen(&redis), 1);
    // Admitted, expired after 1 s, purged 1 s later: then idle, with an empty stream.
    assert!(eventually(Duration::from_secs(10), || async { xlen(&redis) == 0 }).await);
    assert_eq!(
        app.status(&sid).await.0,
        StatusCode::NOT_FOUND,
        "the session is purged"
    );
    assert_eq!(
        live_events(&redis),
        0,
        "the idle event left the events with work"
    );
    // A new join wakes it again, and is admitted.
    let again = app.join_id("quiet", "someone-else").await;
    assert_eq!(live_events(&redis), 1);
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.status_of(&again).await == "ACTIVE"
        })
        .await
    );
}

#[tokio::test]
async fn a_join_that_wakes_an_event_while_a_pass_finds_it_idle_is_not_lost() {
    // The pass read the event's stamp, found it idle, and is about to take it out; a join
    // wakes it in between (a new stamp): the event stays with work.
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--capacity", "0", "--granter-tick-ms", "60000"]).await;
    app.join_id("racy", "first").await;
    let mut conn = redis.conn();
    let stamp_read: String = redis::cmd("ZSCORE")
        .arg(vestibule::store::keys::LIVE)
        .arg("racy")
        .query(&mut conn)
        .unwrap();
    // The event goes idle and a join wakes it (as if between the pass and its retire).
    redis::cmd("HDEL")
        .arg(keys("racy").meta)
        .arg("live")
        .query::<()>(&mut conn)
        .unwrap();
    app.join_id("racy", "second").await;
    let retired: i64 = redis::Script::new(include_str!("../../src/store/lua/retire.lua"))
        .key(vestibule::store::keys::LIVE)
        .arg("racy")
        .arg(&stamp_read)
        .invoke(&mut conn)
        .unwrap();
    assert_eq!(retired, 0, "a stale stamp takes nothing out");
    assert_eq!(live_events(&redis), 1);
}
