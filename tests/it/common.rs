//! Test helpers: a real redis-server (or a real Redis Cluster of six) per test on free
//! ports, and the app in-process (or as a real process) on port 0.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use leptos::config::LeptosOptions;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vestibule::config::Config;
use vestibule::domain::EventId;
use vestibule::granter::Granter;
use vestibule::startup::Application;
use vestibule::store::keys::{EventKeys, GROUP};
use vestibule::store::GrantReport;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// What a test app runs on: one redis-server or a cluster.
pub trait Backend {
    /// The app's flags naming this Redis.
    fn app_args(&self) -> Vec<String>;
    /// A connection for the test's own reads and writes (routed by key on a cluster).
    fn connection(&self) -> Box<dyn redis::ConnectionLike + Send>;
}

impl Backend for TestRedis {
    fn app_args(&self) -> Vec<String> {
        vec!["--redis-url".into(), self.url()]
    }

    fn connection(&self) -> Box<dyn redis::ConnectionLike + Send> {
        Box::new(self.conn())
    }
}

/// A redis-server of the test's own, with AOF (fsync always) in a temp dir.
pub struct TestRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl TestRedis {
    /// Starts on a free port (on another one if that port was taken before Redis bound it).
    pub fn start() -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            let mut redis = Self {
                port: free_port(),
                dir: tempfile::tempdir().expect("a temp dir"),
                child: None,
            };
            match try_redis_server(redis.port, redis.dir.path(), "always", &[]) {
                Ok(child) => {
                    redis.child = Some(child);
                    return redis;
                }
                Err(e) => last = e,
            }
        }
        panic!("{last}");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Starts (again) on the same port and data dir.
    pub fn launch(&mut self) {
        let child = redis_server(self.port, self.dir.path(), "always", &[]);
        self.child = Some(child);
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

/// Arguments every test app gets unless it passes its own: this Redis, a quick granter
/// tick, a Redis timeout short enough for the fault tests yet long enough for a busy
/// machine, no join rate limit, no challenge by default.
pub fn base_args(redis: &impl Backend, extra: &[&str]) -> Vec<String> {
    let defaults = [
        ("--granter-tick-ms", "50".into()),
        ("--redis-timeout-ms", "3000".into()),
        ("--join-rate-per-second", "0".into()),
        // Joins free of charge unless a test sets a challenge (tests/it/entry.rs).
        ("--challenge", "off".into()),
    ];
    let mut args = redis.app_args();
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
    handle: Option<JoinHandle<std::io::Result<()>>>,
    /// The server as its own process (see [`spawn_process`]), killed on drop.
    process: Option<Child>,
    /// The in-process app's granter, to step (see [`TestApp::pass`]).
    granter: Option<Granter>,
    /// The in-process app's clock (a manual one with [`spawn_stepped`]: see
    /// [`TestApp::advance`]).
    clock: Option<vestibule::clock::Clock>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The app as its own process (the real binary, with its own metrics recorder), on a
/// free port.
pub async fn spawn_process(redis: &impl Backend, extra: &[&str]) -> TestApp {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_vestibule"))
        .args(base_args(redis, extra))
        .args(["--site-addr", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server binary starts");
    let app = TestApp {
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        http: reqwest::Client::new(),
        stop: CancellationToken::new(),
        handle: None,
        process: Some(child),
        granter: None,
        clock: None,
    };
    listening(app.addr).await;
    app
}

/// Waits until a server process of the test's own accepts connections on `addr`, however
/// long a busy machine takes to start it (up to [`GUARD`]).
pub async fn listening(addr: SocketAddr) {
    let guard = Instant::now() + GUARD;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < guard, "nothing listened on {addr}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn spawn_app(redis: &impl Backend, extra: &[&str]) -> TestApp {
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
    let granter = Some(app.granter());
    let clock = Some(app.clock());
    let stop = CancellationToken::new();
    let handle = tokio::spawn(app.run_until_stopped(stop.clone()));
    TestApp {
        addr,
        http: reqwest::Client::new(),
        stop,
        handle: Some(handle),
        process: None,
        granter,
        clock,
    }
}

/// The app in-process on port 0 with a granter that runs only when the test steps it
/// ([`TestApp::pass`]) and a clock that moves only when the test moves it
/// ([`TestApp::advance`]): the rules, without waiting for a loop or for time to pass.
pub async fn spawn_stepped(redis: &impl Backend, extra: &[&str]) -> TestApp {
    let mut args = vec!["--granter-mode", "manual", "--clock", "manual"];
    args.extend_from_slice(extra);
    spawn_app(redis, &args).await
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

    /// Joins and returns the new session id (asserts 202). A join answered 503 because
    /// Redis was slower than the request's budget on a busy machine (`unavailable`,
    /// `timeout`: nothing was written, README "Architecture", joins) is sent again, as the
    /// answer asks any client to; any other answer (`events_full` among them) is asserted.
    pub async fn join_id(&self, event: &str, user: &str) -> String {
        let guard = Instant::now() + GUARD;
        loop {
            let (status, body) = self.join(event, user).await;
            let slow = status == StatusCode::SERVICE_UNAVAILABLE
                && matches!(
                    body["error"]["code"].as_str(),
                    Some("unavailable" | "timeout")
                );
            if slow && Instant::now() < guard {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            return body["sessionId"].as_str().unwrap().to_string();
        }
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

    /// One granter pass over every event, now (of an in-process app; of one made with
    /// [`spawn_stepped`], the only passes there are).
    pub async fn pass(&self) -> Vec<GrantReport> {
        self.granter
            .as_ref()
            .expect("an in-process app")
            .pass()
            .await
            .expect("a granter pass")
    }

    /// One granter pass over the events due now in the schedule, as the loop takes when
    /// woken or when an event's time comes: what only a wake or the schedule makes due.
    pub async fn pass_due(&self) -> vestibule::store::PassOutcome {
        self.granter
            .as_ref()
            .expect("an in-process app")
            .pass_due()
            .await
            .expect("a granter pass")
    }

    /// Moves the room's time on (an app made with [`spawn_stepped`]: its clock is manual).
    pub fn advance(&self, by: Duration) {
        let clock = self.clock.as_ref().expect("an in-process app");
        assert!(
            matches!(clock, vestibule::clock::Clock::Manual(_)),
            "only a manual clock moves: spawn_stepped"
        );
        clock.advance(by);
    }

    /// Writes the heartbeats of polls answered from memory now (as the process does every
    /// few milliseconds), so that a pass that follows sees them.
    pub async fn flush_heartbeats(&self) {
        self.granter
            .as_ref()
            .expect("an in-process app")
            .store
            .flush_heartbeats()
            .await;
    }

    /// The room's time now (unix ms).
    pub fn now_ms(&self) -> u64 {
        self.clock.as_ref().expect("an in-process app").now_ms()
    }

    /// Graceful stop: in-flight requests and the current granter pass finish.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
    }
}

/// Asserts that an answer of the JSON API (routed, or from the fast lane) carries the
/// security headers every such answer gets (README, "Browsers").
pub fn assert_api_headers(res: &reqwest::Response) {
    let status = res.status();
    for (name, value) in [
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "strict-origin"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ] {
        assert_eq!(
            res.headers().get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name} on the {status}"
        );
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

/// An event's settings, through the admin API (`PUT /api/admin/events/{event}`), which
/// must take them.
pub async fn settings(app: &TestApp, event: &str, body: Value) {
    let (code, answer) = admin(
        app,
        reqwest::Method::PUT,
        &format!("/api/admin/events/{event}"),
        Some(body),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
}

/// The join number a session id carries.
pub fn join_number(sid: &str) -> u64 {
    let sid = vestibule::domain::SessionId::parse(sid).unwrap();
    vestibule::store::ids::SessionKey::decode(&sid).unwrap().seq
}

/// `INFO commandstats` of a single Redis.
fn commandstats(redis: &TestRedis) -> String {
    redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut redis.conn())
        .unwrap()
}

/// `INFO commandstats` of a single Redis: calls of `command`.
pub fn calls(redis: &TestRedis, command: &str) -> u64 {
    command_stats(&commandstats(redis), "calls")
        .get(command)
        .copied()
        .unwrap_or(0)
}

/// All the commands a single Redis ran so far (scripts' inner commands included): how
/// many, and the microseconds Redis spent running them (its own count, without the
/// network and the background work of its keyspace).
pub fn command_work(redis: &TestRedis) -> (u64, u64) {
    let info = commandstats(redis);
    let total = |field| command_stats(&info, field).values().sum();
    (total("calls"), total("usec"))
}

/// `INFO commandstats` as command → `field` (`calls`, `usec`).
fn command_stats(info: &str, field: &str) -> std::collections::HashMap<String, u64> {
    info.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("cmdstat_")?;
            let (name, stats) = rest.split_once(':')?;
            let value = stats.split(',').find_map(|kv| {
                let (key, value) = kv.split_once('=')?;
                (key == field).then_some(value)
            })?;
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The longest a test waits for what must come to pass before it gives up: only there so
/// that a broken run does not hang forever (see [`until`]).
pub const GUARD: Duration = Duration::from_secs(1_800);

/// Polls `check` every 20 ms until it holds, however long that takes on a busy machine:
/// for what must come to pass (a defect shows as a hang, which the test runner's own
/// limit, or a reviewer, ends; the 30-minute guard only keeps a broken run from hanging
/// forever).
pub async fn until<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let guard = Instant::now() + GUARD;
    while !check().await {
        assert!(Instant::now() < guard, "waited 30 minutes for a condition");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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

/// The keys of an event, as the store names them.
pub fn keys(event: &str) -> EventKeys {
    EventKeys::new(&EventId::parse(event).unwrap())
}

/// Session ids of an event's stream, in join order.
pub fn stream_order(redis: &impl Backend, event: &str) -> Vec<String> {
    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(keys(event).stream)
        .arg("-")
        .arg("+")
        .query(&mut *redis.connection())
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
pub fn active_set(redis: &impl Backend, event: &str) -> Vec<String> {
    redis::cmd("ZRANGE")
        .arg(keys(event).active)
        .arg(0)
        .arg(-1)
        .query(&mut *redis.connection())
        .unwrap()
}

/// How many of the event's stream entries the consumer group holds unacknowledged (the
/// grant script reads and acknowledges in one step, so always 0).
pub fn pending(redis: &impl Backend, event: &str) -> u64 {
    let (count, _, _, _): (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
        .arg(keys(event).stream)
        .arg(GROUP)
        .query(&mut *redis.connection())
        .unwrap();
    count
}

/// The recorded heartbeat (unix ms) of join number `q` of `event`: its record's, or for a
/// waiting session with no record yet, its join's (its stream entry's id, "<q>-<ms>").
pub fn last_seen(redis: &TestRedis, event: &str, q: u64) -> u64 {
    let record: Option<String> = redis::cmd("HGET")
        .arg(format!("{}{}", keys(event).sessions, q / 64))
        .arg(q % 64)
        .query(&mut redis.conn())
        .unwrap();
    if let Some(record) = record {
        return record.split('|').nth(1).unwrap().parse().unwrap();
    }
    let entries: Vec<(String, redis::Value)> = redis::cmd("XRANGE")
        .arg(keys(event).stream)
        .arg(q)
        .arg(q)
        .query(&mut redis.conn())
        .unwrap();
    let (id, _) = entries.first().expect("no record and no entry numbered q");
    id.split_once('-').unwrap().1.parse().unwrap()
}

/// Sessions of an event as Redis holds them: `sessionId → (status letter, join number,
/// active until)`, from their records (the buckets `wr:{E}:s:<n>`) and, for a waiting
/// session with no record yet, its stream entry (id "<q>-<ms>": README, "What a join
/// writes").
///
/// One snapshot: every bucket and the stream are read by one script, so a granter still
/// running cannot admit sessions between two reads (read one by one, a later bucket could
/// show a session admitted after an earlier bucket showed the one ahead of it waiting).
pub fn sessions(
    redis: &impl Backend,
    event: &str,
) -> std::collections::HashMap<String, (String, u64, u64)> {
    let mut conn = redis.connection();
    let conn = &mut *conn;
    let number: u32 = redis::cmd("HGET")
        .arg(vestibule::store::keys::EVENTS)
        .arg(event)
        .query(conn)
        .unwrap();
    let k = keys(event);
    let prefix = k.sessions;
    let buckets: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(conn)
        .unwrap();
    let mut out = std::collections::HashMap::new();
    #[allow(clippy::type_complexity)]
    let (snapshot, entries): (
        Vec<std::collections::HashMap<String, String>>,
        Vec<(String, std::collections::HashMap<String, String>)>,
    ) = redis::Script::new(
        "local out = {} for i = 2, #KEYS do out[i - 1] = redis.call('HGETALL', KEYS[i]) end \
         return { out, redis.call('XRANGE', KEYS[1], '-', '+') }",
    )
    .key(&k.stream)
    .key(&buckets)
    .invoke(conn)
    .unwrap();
    for (key, fields) in buckets.iter().zip(snapshot) {
        let n: u64 = key[prefix.len()..].parse().unwrap();
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
    let recorded: std::collections::HashSet<u64> = out.values().map(|(_, q, _)| *q).collect();
    for (id, fields) in entries {
        let Some(sid) = fields.get("sessionId") else {
            continue;
        };
        let Some(key) = vestibule::domain::SessionId::parse(sid)
            .ok()
            .and_then(|id| vestibule::store::ids::SessionKey::decode(&id))
        else {
            continue;
        };
        let numbered = id.split_once('-').map(|(q, _)| q) == Some(&key.seq.to_string());
        if numbered && !recorded.contains(&key.seq) {
            out.insert(sid.clone(), ("W".to_string(), key.seq, 0));
        }
    }
    out
}

/// A Redis Cluster of the test's own: three primaries and three replicas on free ports
/// (each at most 55535: the cluster bus is port + 10000), with a short node timeout so
/// that a replica takes over about two seconds after its primary dies.
pub struct TestCluster {
    pub ports: Vec<u16>,
    dir: tempfile::TempDir,
    children: Vec<(u16, Child)>,
}

impl TestCluster {
    /// Starts a cluster; a node that cannot bind its port or its bus port (another
    /// program took one meanwhile) makes it start again on other ports.
    pub fn start() -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start() {
                Ok(cluster) => return cluster,
                Err(e) => {
                    eprintln!("a test cluster did not start ({e}); trying other ports");
                    last = e;
                }
            }
        }
        panic!("no test cluster could start: {last}");
    }

    fn try_start() -> Result<Self, String> {
        let dir = tempfile::tempdir().expect("a temp dir");
        let ports = cluster_ports();
        let mut cluster = Self {
            ports: ports.clone(),
            dir,
            children: Vec::new(),
        };
        for port in ports {
            cluster.try_launch(port)?;
        }
        let nodes: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let status = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli runs");
        if !status.success() {
            return Err("redis-cli --cluster create failed".into());
        }
        // Ready: every node sees every slot served, and every replica is in sync. This
        // waits on the cluster itself, for as long as a loaded machine needs.
        wait_for(Duration::from_secs(120), || {
            cluster
                .ports
                .iter()
                .all(|&port| {
                    let info = node_query::<String>(port, &["CLUSTER", "INFO"]).unwrap_or_default();
                    let repl =
                        node_query::<String>(port, &["INFO", "replication"]).unwrap_or_default();
                    info.contains("cluster_state:ok")
                        && info.contains("cluster_slots_ok:16384")
                        && (repl.contains("role:master") || repl.contains("master_link_status:up"))
                })
                .then_some(())
        })
        .ok_or("the cluster did not become ready")?;
        Ok(cluster)
    }

    /// Starts one node (again: with its own directory and cluster file, a restarted node
    /// rejoins the cluster, as a replica if it was replaced meanwhile).
    pub fn launch(&mut self, port: u16) {
        self.try_launch(port).unwrap_or_else(|e| panic!("{e}"));
    }

    fn try_launch(&mut self, port: u16) -> Result<(), String> {
        // Each node its own directory: AOF files have fixed names.
        let node_dir = self.dir.path().join(port.to_string());
        std::fs::create_dir_all(&node_dir).unwrap();
        let cluster_file = format!("nodes-{port}.conf");
        let node_flags = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            &cluster_file,
            "--cluster-node-timeout",
            "2000",
        ];
        let child = try_redis_server(port, &node_dir, "everysec", &node_flags)?;
        self.children.push((port, child));
        Ok(())
    }

    /// Seed URLs for the app.
    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }

    /// The port of the primary now serving `key`'s slot, as a live node sees it.
    pub fn primary_of(&self, key: &str) -> u16 {
        for &port in self.live_ports().iter() {
            let Some(slot) = node_query::<u16>(port, &["CLUSTER", "KEYSLOT", key]) else {
                continue;
            };
            let Some(ranges) = node_query::<Vec<redis::Value>>(port, &["CLUSTER", "SLOTS"]) else {
                continue;
            };
            for range in ranges {
                // [start, end, [host, port, id, …] of the primary, replicas…]
                let Ok(range) = redis::from_redis_value::<Vec<redis::Value>>(range) else {
                    continue;
                };
                let number = |v: &redis::Value| redis::from_redis_value_ref::<u16>(v).ok();
                let primary = redis::from_redis_value_ref::<Vec<redis::Value>>(&range[2]).ok();
                if let (Some(start), Some(end), Some(node)) =
                    (number(&range[0]), number(&range[1]), primary)
                {
                    if (start..=end).contains(&slot) {
                        return number(&node[1]).expect("a port");
                    }
                }
            }
        }
        panic!("no live node knows who serves {key}");
    }

    /// Event ids that land on distinct primaries, one per primary (three).
    pub fn events_on_each_primary(&self, prefix: &str) -> Vec<String> {
        let mut by_primary = std::collections::BTreeMap::new();
        for i in 0.. {
            let event = format!("{prefix}{i}");
            by_primary
                .entry(self.primary_of(&keys(&event).meta))
                .or_insert(event);
            if by_primary.len() == 3 {
                break;
            }
        }
        by_primary.into_values().collect()
    }

    /// SIGKILL one node.
    pub fn kill(&mut self, port: u16) {
        if let Some(i) = self.children.iter().position(|(p, _)| *p == port) {
            let (_, mut child) = self.children.remove(i);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn live_ports(&self) -> Vec<u16> {
        self.children.iter().map(|(p, _)| *p).collect()
    }

    /// `INFO commandstats` of one node: command → calls.
    pub fn command_calls(&self, port: u16) -> std::collections::HashMap<String, u64> {
        let info = node_query::<String>(port, &["INFO", "commandstats"]).unwrap_or_default();
        command_stats(&info, "calls")
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Backend for TestCluster {
    fn app_args(&self) -> Vec<String> {
        vec!["--redis-cluster-urls".into(), self.urls().join(",")]
    }

    fn connection(&self) -> Box<dyn redis::ConnectionLike + Send> {
        let client = redis::cluster::ClusterClient::new(self.urls()).unwrap();
        Box::new(client.get_connection().unwrap())
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A redis-server on 127.0.0.1:`port` with its data in `dir` (AOF on, fsync as given, log
/// in `dir/redis.log`) and `extra` flags, answering once this returns.
fn redis_server(port: u16, dir: &std::path::Path, appendfsync: &str, extra: &[&str]) -> Child {
    try_redis_server(port, dir, appendfsync, extra).unwrap_or_else(|e| panic!("{e}"))
}

/// As [`redis_server`]; `Err` with its log when it does not answer (a port taken, say).
fn try_redis_server(
    port: u16,
    dir: &std::path::Path,
    appendfsync: &str,
    extra: &[&str],
) -> Result<Child, String> {
    let mut child = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--dir", dir.to_str().unwrap()])
        .args(["--save", "", "--appendonly", "yes"])
        .args(["--appendfsync", appendfsync, "--logfile", "redis.log"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server must be installed (apt-get install redis-server)");
    // Started, or exited (a port in use): no fixed wait decides it on a slow machine.
    let answered = wait_for(Duration::from_secs(60), || {
        if let Ok(Some(_)) = child.try_wait() {
            return Some(false);
        }
        node_query::<String>(port, &["PING"]).map(|_| true)
    });
    if answered != Some(true) {
        let _ = child.kill();
        let _ = child.wait();
        let log = std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default();
        return Err(format!("redis-server on port {port} did not start: {log}"));
    }
    Ok(child)
}

/// Six ports for a cluster's nodes, each with its bus port (+10000) free. They come from
/// below the kernel's ephemeral range (32768 and up: see
/// /proc/sys/net/ipv4/ip_local_port_range), where no `bind(0)` of another test and no
/// outgoing connection can take them, and each test of this process gets its own.
fn cluster_ports() -> Vec<u16> {
    use std::sync::atomic::{AtomicU16, Ordering};
    // Nodes in 20000..22700, their buses in 30000..32700.
    const FIRST: u16 = 20_000;
    const SPAN: u16 = 2_700;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = (std::process::id() % u32::from(SPAN)) as u16;
    let mut ports = Vec::new();
    while ports.len() < 6 {
        let port = FIRST + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN;
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free(port) && free(port + 10_000) {
            ports.push(port);
        }
    }
    ports
}

/// One command to one node (not through the cluster's routing); `None` if it fails.
fn node_query<T: redis::FromRedisValue>(port: u16, args: &[&str]) -> Option<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
    let mut conn = client
        .get_connection_with_timeout(Duration::from_millis(500))
        .ok()?;
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query(&mut conn).ok()
}

/// Calls `check` every 50 ms until it gives a value or `within` passes.
fn wait_for<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A browser, as far as this test needs one: its cookies, sent back by hand.
#[derive(Default)]
pub struct Browser {
    pub cookies: Vec<(String, String)>,
}

impl Browser {
    pub fn keep(&mut self, res: &reqwest::Response) {
        for set in res.headers().get_all(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
    }

    pub fn header(&self) -> String {
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        pairs.join("; ")
    }

    pub fn has(&self, name: &str) -> bool {
        self.cookies.iter().any(|(n, _)| n == name)
    }

    /// Opens a page; no redirect followed.
    pub async fn open(&mut self, app: &TestApp, path: &str) -> reqwest::Response {
        let res = no_redirects()
            .get(app.url(path))
            .header(header::COOKIE, self.header())
            .send()
            .await
            .unwrap();
        self.keep(&res);
        res
    }

    /// Posts the event page's join form, as the page does without JavaScript.
    pub async fn join(&mut self, app: &TestApp, event: &str) -> reqwest::Response {
        self.join_with(app, event, "").await
    }

    /// The same with more form fields (`&lock=…`).
    pub async fn join_with(&mut self, app: &TestApp, event: &str, more: &str) -> reqwest::Response {
        let path = <vestibule::server_fns::JoinEvent as leptos::server_fn::ServerFn>::PATH;
        let body = format!("event_id={event}&return_to={more}");
        self.post_form(app, path, &body, &format!("/e/{event}"))
            .await
    }

    /// Posts a form of the page at `from` to `path`, as a browser does without
    /// JavaScript (it sends the page as its referrer).
    pub async fn post_form(
        &mut self,
        app: &TestApp,
        path: &str,
        body: &str,
        from: &str,
    ) -> reqwest::Response {
        let res = no_redirects()
            .post(app.url(path))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header("origin", format!("http://{}", app.addr))
            .header("sec-fetch-site", "same-origin")
            .header(header::REFERER, app.url(from))
            .header(header::COOKIE, self.header())
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        self.keep(&res);
        res
    }
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string()
}
