//! Test helpers: a real redis-server per test on a free port, and the app in-process
//! (or as a real process) on port 0.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use leptos::config::LeptosOptions;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vestibule::config::Config;
use vestibule::startup::Application;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A redis-server of the test's own, with AOF (fsync always) in a temp dir.
pub struct TestRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl TestRedis {
    pub fn start() -> Self {
        let mut redis = Self {
            port: free_port(),
            dir: tempfile::tempdir().expect("a temp dir"),
            child: None,
        };
        redis.launch();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Starts (again) on the same port and data dir.
    pub fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--dir", self.dir.path().to_str().unwrap()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(client) = redis::Client::open(self.url()) {
                if let Ok(mut conn) = client.get_connection() {
                    if redis::cmd("PING").query::<String>(&mut conn).is_ok() {
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    /// SIGKILL: Redis goes away at once.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM: Redis writes its AOF and exits, as a restart by an operator would.
    pub fn stop_gracefully(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// `CLIENT PAUSE ms ALL`: Redis stops answering clients for a while.
    pub fn pause_clients(&self, ms: u64) {
        let _: () = redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(ms)
            .arg("ALL")
            .query(&mut self.conn())
            .unwrap();
    }

    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Arguments every test app gets unless it passes its own: this Redis, a known token
/// secret, a quick granter tick.
fn base_args(redis: &TestRedis, extra: &[&str]) -> Vec<String> {
    let defaults = [
        ("--redis-url", redis.url()),
        ("--granter-tick-ms", "50".into()),
        ("--redis-timeout-ms", "1000".into()),
        ("--join-rate-per-second", "0".into()),
    ];
    let mut args = Vec::new();
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            args.push(flag.to_string());
            args.push(value);
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The app, in this process, on a free port.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    stop: CancellationToken,
    handle: JoinHandle<std::io::Result<()>>,
}

pub async fn spawn_app(redis: &TestRedis, extra: &[&str]) -> TestApp {
    let mut args = vec!["vestibule".to_string()];
    args.extend(base_args(redis, extra));
    let config = Config::try_parse_from(args).expect("valid test arguments");
    let options = LeptosOptions::builder()
        .output_name("vestibule")
        .site_addr(SocketAddr::from(([127, 0, 0, 1], 0)))
        .build();
    let app = Application::build(config, options)
        .await
        .expect("the app builds");
    let addr = app.local_addr();
    let stop = CancellationToken::new();
    let handle = tokio::spawn(app.run_until_stopped(stop.clone()));
    TestApp {
        addr,
        http: reqwest::Client::new(),
        stop,
        handle,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn join(&self, event: &str, user: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .post(self.url("/api/waiting-room/sessions"))
            .json(&json!({ "eventId": event, "userId": user }))
            .send()
            .await
            .expect("the server answers");
        let status = res.status();
        (status, res.json().await.expect("a JSON body"))
    }

    /// Joins and returns the new session id (asserts 202).
    pub async fn join_id(&self, event: &str, user: &str) -> String {
        let (status, body) = self.join(event, user).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        body["sessionId"].as_str().unwrap().to_string()
    }

    pub async fn status(&self, sid: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .get(self.url(&format!("/api/waiting-room/sessions/{sid}")))
            .send()
            .await
            .expect("the server answers");
        let status = res.status();
        (status, res.json().await.expect("a JSON body"))
    }

    pub async fn status_of(&self, sid: &str) -> String {
        let (code, body) = self.status(sid).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        body["status"].as_str().unwrap().to_string()
    }

    pub async fn leave(&self, sid: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .delete(self.url(&format!("/api/waiting-room/sessions/{sid}")))
            .send()
            .await
            .expect("the server answers");
        let status = res.status();
        (status, res.json().await.expect("a JSON body"))
    }

    /// `GET path` as JSON (any status).
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("a JSON body")
    }

    /// Graceful stop: in-flight requests and the current granter pass finish.
    pub async fn stop(self) {
        self.stop.cancel();
        self.handle.await.unwrap().unwrap();
    }
}

/// The admin token of tests that pass `--admin-token ADMIN_TOKEN`.
pub const ADMIN_TOKEN: &str = "admin-secret";

/// An admin request with [`ADMIN_TOKEN`].
pub async fn admin(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app
        .http
        .request(method, app.url(path))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

/// Polls `check` every 20 ms until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Session ids of an event's stream, in join order.
pub fn stream_order(redis: &TestRedis, event: &str) -> Vec<String> {
    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(format!("waiting-room-joins:{{{event}}}"))
        .arg("-")
        .arg("+")
        .query(&mut redis.conn())
        .unwrap();
    entries
        .into_iter()
        .map(|(_, fields)| {
            fields
                .into_iter()
                .find(|(k, _)| k == "sessionId")
                .map(|(_, v)| v)
                .unwrap()
        })
        .collect()
}

/// The ACTIVE sessions of an event, as Redis holds them.
pub fn active_set(redis: &TestRedis, event: &str) -> Vec<String> {
    redis::cmd("ZRANGE")
        .arg(format!("wr:{{{event}}}:active"))
        .arg(0)
        .arg(-1)
        .query(&mut redis.conn())
        .unwrap()
}

/// Session records of an event as Redis holds them (its buckets `wr:{E}:s:<n>`):
/// `sessionId → (status letter, join number, active until)`.
pub fn sessions(
    redis: &TestRedis,
    event: &str,
) -> std::collections::HashMap<String, (String, u64, u64)> {
    let mut conn = redis.conn();
    let number: u32 = redis::cmd("HGET")
        .arg("wr:events")
        .arg(event)
        .query(&mut conn)
        .unwrap();
    let prefix = format!("wr:{{{event}}}:s:");
    let buckets: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)
        .unwrap();
    let mut out = std::collections::HashMap::new();
    for key in buckets {
        let n: u64 = key[prefix.len()..].parse().unwrap();
        let fields: std::collections::HashMap<String, String> =
            redis::cmd("HGETALL").arg(&key).query(&mut conn).unwrap();
        for (field, rec) in fields.iter().filter(|(f, _)| !f.starts_with('u')) {
            let p: Vec<&str> = rec.split('|').collect();
            let seq = n * 64 + field.parse::<u64>().unwrap();
            let sid = vestibule::store::ids::SessionKey {
                event_number: number,
                seq,
                tag: u64::from_str_radix(&p[3].replace('-', ""), 16).unwrap(),
            }
            .encode();
            out.insert(
                sid.to_string(),
                (p[0].to_string(), seq, p[2].parse().unwrap()),
            );
        }
    }
    out
}
