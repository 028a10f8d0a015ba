//! Faults with real processes: the server binary killed with SIGKILL mid-stream, and
//! stopped with SIGTERM under load.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{eventually, free_port, pending, sessions, stream_order, until, TestRedis};
use serde_json::json;

/// The release of the real binary on a fixed port.
struct Server {
    child: Child,
    port: u16,
}

fn start_server(redis: &TestRedis, port: u16, args: &[&str]) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_vestibule"))
        .args([
            "--redis-url",
            &redis.url(),
            "--site-addr",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--redis-timeout-ms", "1000", "--join-rate-per-second", "0"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server binary starts");
    // Dropping the server (also on a panic) kills and reaps the process.
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the server did not listen on {port}");
}

impl Server {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Samples the active count of an event until stopped; returns the largest seen.
fn sample_active(
    redis: &TestRedis,
    event: &str,
    run: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(u64, u64)> {
    let url = redis.url();
    let key = format!("wr:{{{event}}}:active");
    std::thread::spawn(move || {
        let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
        let (mut max, mut samples) = (0u64, 0u64);
        while run.load(Ordering::Relaxed) {
            if let Ok(n) = redis::cmd("ZCARD").arg(&key).query::<u64>(&mut conn) {
                max = max.max(n);
                samples += 1;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        (max, samples)
    })
}

async fn join(http: &reqwest::Client, base: &str, event: &str, user: &str) -> Option<String> {
    let res = http
        .post(format!("{base}/api/waiting-room/sessions"))
        .json(&json!({ "eventId": event, "userId": user }))
        .send()
        .await
        .ok()?;
    if res.status() != 202 {
        return None;
    }
    let body: serde_json::Value = res.json().await.ok()?;
    body["sessionId"].as_str().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_stream_loses_no_accepted_join_and_grants_in_order() {
    let redis = TestRedis::start();
    let port = free_port();
    let args = [
        "--capacity",
        "5",
        "--session-seconds",
        "1",
        "--granter-tick-ms",
        "20",
    ];
    let mut server = start_server(&redis, port, &args);
    let http = reqwest::Client::new();
    let run = Arc::new(AtomicBool::new(true));
    let sampler = sample_active(&redis, "kill", run.clone());

    let mut accepted = Vec::new();
    for i in 0..200 {
        if i == 100 {
            server.child.kill().unwrap(); // SIGKILL, mid-stream
            server.child.wait().unwrap();
            server = start_server(&redis, port, &args);
        }
        if let Some(sid) = join(&http, &server.base(), "kill", &format!("u{i}")).await {
            accepted.push(sid);
        }
    }
    assert!(
        accepted.len() >= 190,
        "most joins accepted: {}",
        accepted.len()
    );

    // Every accepted join is in the stream and is eventually granted (then expires).
    let order = stream_order(&redis, "kill");
    for sid in &accepted {
        assert!(order.contains(sid), "accepted join {sid} lost");
    }
    let all_granted = eventually(Duration::from_secs(120), || async {
        sessions(&redis, "kill")
            .values()
            .all(|(st, _, _)| st == "A" || st == "E")
    })
    .await;
    run.store(false, Ordering::Relaxed);
    let (max, samples) = sampler.join().unwrap();
    assert!(all_granted, "every accepted join was granted");

    // Admitted in join order: the start of the active period never goes backwards.
    let mut by_seq: Vec<(u64, u64)> = sessions(&redis, "kill")
        .into_values()
        .map(|(_, q, until)| (q, until))
        .collect();
    by_seq.sort();
    for pair in by_seq.windows(2) {
        assert!(
            pair[0].1 <= pair[1].1,
            "join {} admitted after join {}",
            pair[0].0,
            pair[1].0
        );
    }
    assert!(samples > 100, "sampled {samples} times");
    assert!(max <= 5, "capacity 5 exceeded: {max}");
    assert_eq!(max, 5, "the line was long enough to fill every slot");
    assert_eq!(pending(&redis, "kill"), 0);
    eprintln!(
        "kill -9: accepted={} granted_in_order=true max_active={max} samples={samples}",
        accepted.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests_and_exits_zero() {
    let redis = TestRedis::start();
    let port = free_port();
    let mut server = start_server(&redis, port, &[]);
    let base = server.base();
    let http = reqwest::Client::new();
    let load = tokio::spawn({
        let http = http.clone();
        async move {
            let (mut ok, mut refused, mut other) = (0, 0, 0);
            for i in 0..400 {
                match http
                    .post(format!("{base}/api/waiting-room/sessions"))
                    .json(&json!({ "eventId": "term", "userId": format!("u{i}") }))
                    .send()
                    .await
                {
                    Ok(res) if res.status() == 202 => ok += 1,
                    Ok(_) => other += 1,
                    Err(_) => refused += 1,
                }
            }
            (ok, refused, other)
        }
    });
    // Joins are going through when the stop comes.
    until(|| async {
        redis::cmd("XLEN")
            .arg(crate::common::keys("term").stream)
            .query::<u64>(&mut redis.conn())
            .unwrap_or(0)
            > 10
    })
    .await;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    // It exits by itself (a hang would be the defect: the test runner's limit ends it).
    let mut child = std::mem::replace(&mut server.child, Command::new("true").spawn().unwrap());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    let (ok, _refused, other) = load.await.unwrap();
    assert!(ok > 0);
    assert_eq!(other, 0, "no answer other than 202 before the stop");
    // Every 202 is a join in Redis.
    assert_eq!(stream_order(&redis, "term").len(), ok);
}
