//! The room's cost follows what is due: idle events cost nothing per pass, their metrics
//! go, and their last joins leave the stream after the retention; an event with sessions
//! costs a pass only when something is due for it (an expiry, a purge), not every pass.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::common::{
    command_work, keys, spawn_process, spawn_stepped, until, Backend, TestApp, TestRedis,
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

impl Quiet {
    /// The same Redis work as `empty`'s window: commands and their run time within twice
    /// as much, with slack for a few commands of noise (counts, not clock time).
    fn costs_about_as_much_as(&self, empty: &Quiet) {
        assert!(
            self.commands <= 2 * empty.commands + 20,
            "{} commands vs {}",
            self.commands,
            empty.commands
        );
        assert!(
            self.usec <= 2 * empty.usec + 20_000,
            "{} µs vs {} µs",
            self.usec,
            empty.usec
        );
    }
}

async fn quiet_window(redis: &TestRedis, window: Duration) -> Quiet {
    // What the allocator freed after the events' keys went is handed back to the system
    // now, not over the next ten seconds in the window (a one-off after a mass deletion,
    // not a cost of idle events).
    let _: () = redis::cmd("MEMORY")
        .arg("PURGE")
        .query(&mut redis.conn())
        .unwrap();
    let (cpu, (commands, usec)) = (redis_cpu(redis), command_work(redis));
    tokio::time::sleep(window).await;
    let (commands_after, usec_after) = command_work(redis);
    Quiet {
        commands: commands_after - commands,
        usec: usec_after - usec,
        cpu: redis_cpu(redis) - cpu,
    }
}

/// Times (ms) from giving a slot back to the next person being ACTIVE, with capacity 1,
/// over `rounds` releases, seen by polling; `holder` holds the slot before and after.
async fn freed_to_active(
    app: &TestApp,
    event: &str,
    holder: &mut String,
    rounds: usize,
) -> Vec<u128> {
    let mut times = Vec::new();
    for _ in 0..rounds {
        let next = app.join_id(event, &format!("next-{}", rand_suffix())).await;
        let started = Instant::now();
        assert_eq!(app.leave(holder).await.0, StatusCode::OK);
        // Polls back to back until admitted (a busy machine makes it slower, not wrong;
        // the guard only ends a run that would hang).
        while app.status_of(&next).await != "ACTIVE" {
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "never admitted"
            );
        }
        times.push(started.elapsed().as_millis());
        *holder = next;
    }
    times
}

fn rand_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn median(mut times: Vec<u128>) -> u128 {
    times.sort_unstable();
    times[times.len() / 2]
}

/// The median freed → ACTIVE time of each of two apps, measured in turns (a round on
/// one, then on the other) so that the machine's load weighs on both alike.
async fn freed_to_active_side_by_side(a: &TestApp, b: &TestApp, event: &str) -> (u128, u128) {
    let mut holders = Vec::new();
    for app in [a, b] {
        let holder = app.join_id(event, "holder").await;
        assert_eq!(app.status_of(&holder).await, "ACTIVE", "at its join");
        holders.push(holder);
    }
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        ta.extend(freed_to_active(a, event, &mut holders[0], 1).await);
        tb.extend(freed_to_active(b, event, &mut holders[1], 1).await);
    }
    (median(ta), median(tb))
}

/// Events in the granter's schedule.
fn scheduled(redis: &TestRedis) -> u64 {
    redis::cmd("ZCARD")
        .arg(vestibule::store::keys::DUE)
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
    let empty_app = spawn_process(&empty_redis, &args).await;
    let quiet = Duration::from_secs(5);

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
    let scrape = || async {
        let res = app.http.get(app.url("/metrics")).send().await.unwrap();
        res.text().await.unwrap()
    };
    let busy_scrape = scrape().await.len();
    // Every event's session ends (a second), then is purged (a second later): then the
    // event is idle and leaves the schedule, and the pass that ended the last ones has
    // marked every event for its registry entry to go (after a grace of 20 s: twice the
    // request deadline). Waited on as it happens, however long a busy machine takes.
    until(|| async {
        let marked: u64 = redis::cmd("ZCARD")
            .arg(vestibule::store::keys::CLOSING)
            .query(&mut redis.conn())
            .unwrap();
        scheduled(&redis) == 0 && marked == 20_000
    })
    .await;

    // A scrape sees which series stopped moving; one ten seconds later no longer has them.
    scrape().await;
    // Nothing of theirs is left in Redis but their registry entries (one hash): no key
    // for Redis to keep, expire or scan.
    let keys_left: u64 = redis::cmd("DBSIZE").query(&mut redis.conn()).unwrap();
    assert!(keys_left < 10, "{keys_left} keys left");
    let (empty, dormant) = tokio::join!(
        quiet_window(&empty_redis, quiet),
        quiet_window(&redis, quiet)
    );
    let (empty_turn, dormant_turn) =
        freed_to_active_side_by_side(&empty_app, &app, "live-after").await;
    tokio::time::sleep(Duration::from_secs(11).saturating_sub(quiet)).await;
    assert!(
        busy_scrape > 100_000,
        "the events had series while they had work ({busy_scrape} bytes)"
    );
    let metrics = scrape().await;
    eprintln!(
        "over {quiet:?} idle, empty vs 20,000 idle events: {} vs {} Redis commands, \
         {} vs {} µs running them, Redis CPU {:.1} vs {:.1} ms; freed → ACTIVE median \
         {empty_turn} ms vs {dormant_turn} ms; /metrics {busy_scrape} bytes busy, {} idle",
        empty.commands,
        dormant.commands,
        empty.usec,
        dormant.usec,
        empty.cpu * 1e3,
        dormant.cpu * 1e3,
        metrics.len()
    );
    // The same work as an empty room: the granter's looks at an empty schedule. One
    // script or command per event per pass would be 20,000 a pass; a script walking every
    // event inside Redis, a second of Redis time.
    dormant.costs_about_as_much_as(&empty);
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

/// Made-up events that still hold sessions (an ACTIVE one until it expires, an ended one
/// until it is purged: five minutes and an hour by default) cost no pass until that time:
/// the schedule holds each at its next due time, and a pass takes only those due.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_events_with_sessions_cost_no_pass_until_something_is_due() {
    let redis = TestRedis::start();
    let app = Arc::new(spawn_process(&redis, &[]).await);
    let empty_redis = TestRedis::start();
    let _empty_app = spawn_process(&empty_redis, &[]).await;
    let mut tasks = Vec::new();
    for t in 0..16 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for i in (t..2_000).step_by(16) {
                let sid = app.join_id(&format!("made-up-{i}"), "someone").await;
                if i % 2 == 1 {
                    // An ended session, kept for the retention (an hour).
                    app.leave(&sid).await;
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Every event passed once since its last join or leave: each is in the schedule at
    // its session's expiry (five minutes) or its purge (an hour), nothing sooner.
    until(|| async {
        let soon: u64 = redis::cmd("ZCOUNT")
            .arg(vestibule::store::keys::DUE)
            .arg("-inf")
            .arg(vestibule::clock::now_ms() + 200_000)
            .query(&mut redis.conn())
            .unwrap();
        soon == 0
    })
    .await;
    assert_eq!(scheduled(&redis), 2_000);
    // An ended session of an event nobody configured is kept ten minutes, not the hour of
    // the retention: the last of them is due by then.
    let last: Vec<(String, f64)> = redis::cmd("ZRANGE")
        .arg(vestibule::store::keys::DUE)
        .arg(-1)
        .arg(-1)
        .arg("WITHSCORES")
        .query(&mut redis.conn())
        .unwrap();
    let latest = last[0].1 as u64;
    assert!(
        latest <= vestibule::clock::now_ms() + vestibule::store::UNCONFIGURED_RETENTION_MS,
        "purge due in {} s",
        latest.saturating_sub(vestibule::clock::now_ms()) / 1_000
    );
    let memory = |redis: &TestRedis| -> u64 {
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query(&mut redis.conn())
            .unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let per_event = memory(&redis).saturating_sub(memory(&empty_redis)) / 2_000;
    eprintln!("Redis memory: {per_event} bytes per made-up event with a session");
    // Its join's stream (Redis gives a new stream node 4 KB), meta, session and user
    // buckets, active or ended set: no console samples (another stream) for made-up events.
    assert!(per_event < 8_000, "{per_event} bytes per made-up event");
    let (empty, busy) = tokio::join!(
        quiet_window(&empty_redis, Duration::from_secs(3)),
        quiet_window(&redis, Duration::from_secs(3))
    );
    eprintln!(
        "over 3 s, empty vs 2,000 made-up events with sessions: {} vs {} commands, {} vs {} µs",
        empty.commands, busy.commands, empty.usec, busy.usec
    );
    // Before the schedule, every pass (every 200 ms) ran a script for each of them:
    // 30,000 scripts in this window.
    busy.costs_about_as_much_as(&empty);
}

#[tokio::test]
async fn a_quiet_event_keeps_no_join_past_the_retention() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &["--session-seconds", "1", "--retention-seconds", "1"],
    )
    .await;
    let sid = app.join_id("quiet", "someone").await;
    assert_eq!(app.status_of(&sid).await, "ACTIVE");
    let k = keys("quiet");
    let xlen = |redis: &TestRedis| -> u64 {
        redis::cmd("XLEN")
            .arg(&k.stream)
            .query(&mut *redis.connection())
            .unwrap()
    };
    assert_eq!(xlen(&redis), 1);
    // Admitted, expired after 1 s, purged 1 s later: then idle, with an empty stream.
    app.advance(Duration::from_millis(1_000));
    app.pass_due().await;
    assert_eq!(app.status_of(&sid).await, "EXPIRED");
    assert_eq!(xlen(&redis), 1, "kept for the retention");
    app.advance(Duration::from_millis(1_000));
    app.pass_due().await;
    assert_eq!(xlen(&redis), 0);
    assert_eq!(
        app.status(&sid).await.0,
        StatusCode::NOT_FOUND,
        "the session is purged"
    );
    assert_eq!(scheduled(&redis), 0, "idle: out of the schedule");
    // A new join wakes it again, and is admitted.
    let again = app.join_id("quiet", "someone-else").await;
    assert_eq!(scheduled(&redis), 1);
    assert_eq!(app.status_of(&again).await, "ACTIVE");
}

/// The scripts of the schedule, as the store runs them.
fn schedule_script(name: &str) -> redis::Script {
    let scripts = vestibule::store::scripts::Scripts::new();
    match name {
        "take_due" => scripts.take_due,
        _ => scripts.reschedule,
    }
}

#[tokio::test]
async fn a_join_that_wakes_an_event_while_a_pass_holds_it_is_not_lost() {
    // A pass took the event from the schedule and found nothing due; a join wakes it
    // before the pass writes that down: the event stays due.
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--capacity", "0"]).await;
    app.join_id("racy", "first").await;
    let mut conn = redis.conn();
    let taken: Vec<redis::Value> = schedule_script("take_due")
        .key(vestibule::store::keys::DUE)
        .arg(app.now_ms())
        .arg(1000)
        .arg(5000)
        .invoke(&mut conn)
        .unwrap();
    let stamp: String = redis::from_redis_value_ref(&taken[3]).unwrap();
    // The pass's script found nothing due (as if: the marks it leaves), then the join of
    // another visitor wakes the event.
    redis::cmd("HDEL")
        .arg(keys("racy").meta)
        .arg("due")
        .arg("blocked")
        .query::<()>(&mut conn)
        .unwrap();
    app.join_id("racy", "second").await;
    let reply: Vec<i64> = schedule_script("reschedule")
        .key(vestibule::store::keys::DUE)
        .arg(app.now_ms())
        .arg("racy")
        .arg(&stamp)
        .arg(-1)
        .invoke(&mut conn)
        .unwrap();
    assert_eq!(reply[2], 0, "a stale stamp changes nothing");
    assert_eq!(scheduled(&redis), 1, "the woken event is still due");
    // Without the wake, the same update takes it out.
    let taken: Vec<redis::Value> = schedule_script("take_due")
        .key(vestibule::store::keys::DUE)
        .arg(app.now_ms())
        .arg(1000)
        .arg(5000)
        .invoke(&mut conn)
        .unwrap();
    let stamp: String = redis::from_redis_value_ref(&taken[3]).unwrap();
    let reply: Vec<i64> = schedule_script("reschedule")
        .key(vestibule::store::keys::DUE)
        .arg(app.now_ms())
        .arg("racy")
        .arg(&stamp)
        .arg(-1)
        .invoke(&mut conn)
        .unwrap();
    assert_eq!(reply[2], 1);
    assert_eq!(scheduled(&redis), 0);
}
