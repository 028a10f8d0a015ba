//! The defects found by trying the room as an attacker would, beyond the gate: the client
//! behind a proxy (H3), cross-site form posts, headers of personal pages, limits on every
//! route (bodies, slow headers, form posts that hit a limit), admin edges, and a
//! configuration that abandoned people who polled as told.

use std::time::Duration;

use leptos::server_fn::ServerFn;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vestibule::server_fns::JoinEvent;

use crate::common::{admin, spawn_app, TestApp, TestRedis, ADMIN_TOKEN};

/// Joins through the JSON API as if forwarded for `client`.
async fn join_from(app: &TestApp, client: &str, user: &str) -> StatusCode {
    app.http
        .post(app.url("/api/waiting-room/sessions"))
        .header("x-forwarded-for", client)
        .json(&json!({ "eventId": "proxied", "userId": user }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn h3_behind_a_trusted_proxy_every_visitor_has_a_join_budget_of_their_own() {
    let redis = TestRedis::start();
    let limits = ["--join-rate-per-second", "10", "--join-burst", "50"];
    let behind = spawn_app(
        &redis,
        &[&limits[..], &["--trusted-proxies", "127.0.0.1/32"]].concat(),
    )
    .await;
    // The seed's scenario through one proxy: 100 fast joins from 100 people.
    for n in 0..100 {
        let code = join_from(&behind, &format!("203.0.113.{n}"), &format!("p{n}")).await;
        assert_eq!(code, StatusCode::ACCEPTED, "join {n}");
    }
    // One person cannot dodge the limit by sending their own header: the proxy's hop is
    // the right-most, and it is the one counted.
    let mut limited = 0;
    for n in 0..100 {
        let client = format!("198.51.100.{n}, 192.0.2.9");
        if join_from(&behind, &client, &format!("s{n}")).await == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(limited >= 40, "only {limited} of 100 limited");

    // Without trusted proxies the header is ignored: the peer is the client.
    let direct = spawn_app(&redis, &limits).await;
    let mut limited = 0;
    for n in 0..100 {
        let code = join_from(&direct, &format!("203.0.113.{n}"), &format!("d{n}")).await;
        if code == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(limited >= 40, "only {limited} of 100 limited");
}

/// Posts the join form to the server function, with these extra headers.
async fn post_join_form(app: &TestApp, event: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client
        .post(app.url(<JoinEvent as ServerFn>::PATH))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .body(format!("event_id={event}&return_to="));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

fn keys(redis: &TestRedis, pattern: &str) -> Vec<String> {
    redis::cmd("KEYS")
        .arg(pattern)
        .query(&mut redis.conn())
        .unwrap()
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_and_writes_nothing() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let host = app.addr.to_string();
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
    ] {
        let res = post_join_form(&app, "csrf", &headers).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{headers:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "cross_site");
    }
    assert!(
        keys(&redis, "*csrf*").is_empty(),
        "a refused post wrote to Redis"
    );
    // From the room's own page: a place, and the way to it.
    let origin = format!("http://{host}");
    let res = post_join_form(
        &app,
        "csrf",
        &[("origin", &origin), ("sec-fetch-site", "same-origin")],
    )
    .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let location = res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(location.starts_with("/queue/"), "{location}");
    assert!(res.headers().get(header::SET_COOKIE).is_some());
    // The JSON API stays usable by curl (no Origin, no Sec-Fetch-Site).
    assert_eq!(app.join("csrf", "curl-user").await.0, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn server_functions_refuse_large_bodies() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let res = reqwest::Client::new()
        .post(app.url(<JoinEvent as ServerFn>::PATH))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("event_id=big&return_to={}", "x".repeat(64 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "payload_too_large"
    );
    assert!(keys(&redis, "*big*").is_empty());
}

#[tokio::test]
async fn personal_pages_are_never_stored_and_every_response_carries_the_security_headers() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let sid = app.join_id("hdr", "u").await;
    let page = app
        .http
        .get(app.url(&format!("/queue/{sid}")))
        .send()
        .await
        .unwrap();
    let json = app
        .http
        .get(app.url(&format!("/api/waiting-room/sessions/{sid}")))
        .send()
        .await
        .unwrap();
    for res in [&page, &json] {
        let h = res.headers();
        assert_eq!(h[header::CACHE_CONTROL], "no-store", "{}", res.url());
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::REFERRER_POLICY], "strict-origin");
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
    // The page's policy allows exactly its own hydration script, by nonce.
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the page's policy")
        .to_string();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script lacks the nonce"
    );
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_cut_off() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--header-timeout-ms", "300"]).await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    // The server closes the connection (with or without a 408) instead of waiting.
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    let waited = started.elapsed();
    assert!(closed.is_ok(), "still open after {waited:?}");
    assert!(
        waited < Duration::from_secs(3),
        "closed only after {waited:?}"
    );
    // A normal request is unaffected.
    let ok = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_form_post_over_the_join_limit_lands_back_on_its_page_with_the_reason() {
    let redis = TestRedis::start();
    let app = spawn_app(
        &redis,
        &["--join-rate-per-second", "1", "--join-burst", "1"],
    )
    .await;
    let origin = format!("http://{}", app.addr);
    let referer = format!("{origin}/e/limited");
    let headers = [("origin", origin.as_str()), ("referer", referer.as_str())];
    let first = post_join_form(&app, "limited", &headers).await;
    assert!(first.status().is_redirection());
    let second = post_join_form(&app, "limited", &headers).await;
    assert!(second.status().is_redirection(), "{}", second.status());
    let location = second.headers()[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with("/e/limited?"), "{location}");
    assert!(location.contains("__err="), "{location}");
    // And the page shows it as a sentence.
    let page = app
        .http
        .get(app.url(location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("too many joins from this address"), "{page}");
}

#[tokio::test]
async fn a_form_post_past_the_deadline_lands_back_on_its_page_with_the_reason() {
    let redis = TestRedis::start();
    let args = ["--request-timeout-ms", "300", "--redis-timeout-ms", "5000"];
    let app = spawn_app(&redis, &args).await;
    let origin = format!("http://{}", app.addr);
    let referer = format!("{origin}/e/paused");
    // Redis stops answering for 1.5 s: the join waits on it past its deadline.
    redis.pause_clients(1_500);
    let res = post_join_form(
        &app,
        "paused",
        &[("origin", origin.as_str()), ("referer", referer.as_str())],
    )
    .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let location = res.headers()[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with("/e/paused?"), "{location}");
    assert!(location.contains("__err="), "{location}");
}

#[tokio::test]
async fn admin_edges_scheme_case_blank_tokens_atomic_pause_and_pages() {
    let redis = TestRedis::start();
    // A token of white space is no token: admin stays off.
    let off = spawn_app(&redis, &["--admin-token", "   "]).await;
    let res = off
        .http
        .get(off.url("/api/admin/events"))
        .bearer_auth("   ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let app = spawn_app(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    let res = app
        .http
        .get(app.url("/api/admin/events"))
        .header("authorization", format!("bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the scheme is case-insensitive"
    );

    // Pause racing a settings change: neither is lost.
    for round in 0..30u64 {
        let capacity = 100 + round;
        let path = format!("/api/admin/events/race{round}");
        let put = admin(
            &app,
            Method::PUT,
            &path,
            Some(json!({ "capacity": capacity, "paused": true })),
        );
        let pause_path = format!("{path}/pause");
        let pause = admin(&app, Method::POST, &pause_path, None);
        let ((a, _), (b, _)) = tokio::join!(put, pause);
        assert_eq!((a, b), (StatusCode::OK, StatusCode::OK));
        let (_, event) = admin(&app, Method::GET, &path, None).await;
        assert_eq!(event["capacity"], capacity, "round {round}: {event}");
        assert_eq!(event["paused"], true, "round {round}: {event}");
    }

    // Pages of events, in id order.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(a) => format!("?limit=7&after={a}"),
            None => "?limit=7".into(),
        };
        let (code, page) = admin(
            &app,
            Method::GET,
            &format!("/api/admin/events{query}"),
            None,
        )
        .await;
        assert_eq!(code, StatusCode::OK);
        let events = page["events"].as_array().unwrap();
        assert!(events.len() <= 7);
        seen.extend(
            events
                .iter()
                .map(|e| e["eventId"].as_str().unwrap().to_string()),
        );
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 30);
    let (code, body) = admin(&app, Method::GET, "/api/admin/events?limit=0", None).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--metrics-token", "scrape"]).await;
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth("scrape")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// `GET path` with `Authorization: Bearer token`, through the trusted proxy for `client`.
async fn with_token(app: &TestApp, path: &str, client: &str, token: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .header("x-forwarded-for", client)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Asserts a 429 `rate_limited` with a `Retry-After` of 1 to 6 seconds.
async fn assert_limited(res: reqwest::Response, what: &str) {
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{what}");
    let wait: u64 = res.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=6).contains(&wait), "{what}: Retry-After {wait}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{what}: {body}");
}

#[tokio::test]
async fn wrong_tokens_are_limited_per_client_and_then_even_the_right_one_is_refused() {
    let redis = TestRedis::start();
    let args = [
        "--admin-token",
        ADMIN_TOKEN,
        "--metrics-token",
        "scrape",
        "--trusted-proxies",
        "127.0.0.1/32",
    ];
    let app = spawn_app(&redis, &args).await;
    // The right tokens, however often, are never limited.
    for n in 0..100 {
        let res = with_token(&app, "/api/admin/events", "192.0.2.1", ADMIN_TOKEN).await;
        assert_eq!(res.status(), StatusCode::OK, "admin call {n}");
        let res = with_token(&app, "/metrics", "192.0.2.1", "scrape").await;
        assert_eq!(res.status(), StatusCode::OK, "scrape {n}");
    }
    // A client guessing: 20 wrong tokens are each answered 401.
    let guesser = "2001:db8:1:2::1";
    for n in 0..20 {
        let res = with_token(&app, "/api/admin/events", guesser, &format!("guess-{n}")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "guess {n}");
    }
    // Then every request of that client (its whole /64) is refused before its token is
    // compared: a right guess looks like a wrong one, on /metrics too.
    for (path, client, token) in [
        ("/api/admin/events", guesser, "guess-20"),
        ("/api/admin/events", guesser, ADMIN_TOKEN),
        ("/api/admin/events", "2001:db8:1:2:ffff::7", ADMIN_TOKEN),
        ("/metrics", guesser, "scrape"),
    ] {
        let res = with_token(&app, path, client, token).await;
        assert_limited(res, &format!("{path} from {client} with {token}")).await;
    }
    // Other clients behind the same proxy are not affected.
    for client in ["192.0.2.1", "2001:db8:1:3::1"] {
        let res = with_token(&app, "/api/admin/events", client, ADMIN_TOKEN).await;
        assert_eq!(res.status(), StatusCode::OK, "{client}");
    }

    // Guessing the metrics token alone, with no admin token set.
    let metrics = spawn_app(&redis, &["--metrics-token", "scrape"]).await;
    for n in 0..20 {
        let res = metrics
            .http
            .get(metrics.url("/metrics"))
            .bearer_auth(format!("guess-{n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "guess {n}");
    }
    let res = metrics
        .http
        .get(metrics.url("/metrics"))
        .bearer_auth("scrape")
        .send()
        .await
        .unwrap();
    assert_limited(res, "/metrics with the right token after 20 wrong ones").await;
}

/// Sends `head` (with its blank line) and `body` on a connection of its own; the answer's
/// status and JSON body. The body is written from another task: the server may answer
/// before it has read it all and then close the connection, which fails the rest of the
/// write, not the answer already sent.
async fn send_raw(app: &TestApp, head: String, body: Vec<u8>) -> (u16, Value) {
    let stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        if writer.write_all(head.as_bytes()).await.is_ok() {
            let _ = writer.write_all(&body).await;
        }
    });
    let complete = |answer: &[u8]| {
        let text = String::from_utf8_lossy(answer);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        head.lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .is_some_and(|length| body.len() >= length)
    };
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    while !complete(&answer) {
        let read = tokio::time::timeout(Duration::from_secs(10), reader.read(&mut buf))
            .await
            .expect("an answer within 10 s");
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    writing.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer: {text:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
    (
        status.unwrap_or_else(|| panic!("no status: {head}")),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn admin_routes_refuse_bodies_over_16_kib_with_the_json_413_and_change_nothing() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    let path = "/api/admin/events/big";
    let (code, body) = admin(&app, Method::PUT, path, Some(json!({ "capacity": 3 }))).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    // Valid JSON padded with white space to 1 MB: read, it would be applied.
    let padding = " ".repeat(1024 * 1024);
    for (route, body) in [
        (
            path.to_string(),
            format!(r#"{{"capacity": 7,{padding}"paused": true}}"#),
        ),
        (
            format!("{path}/message"),
            format!(r#"{{{padding}"text": "Doors open at 10:05"}}"#),
        ),
    ] {
        let head = format!(
            "PUT {route} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {ADMIN_TOKEN}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n",
            app.addr,
            body.len()
        );
        let (status, answer) = send_raw(&app, head, body.into_bytes()).await;
        assert_eq!(status, 413, "PUT {route}: {answer}");
        assert_eq!(answer["error"]["code"], "payload_too_large", "{answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("16384"), "{answer}");
    }
    let (_, event) = admin(&app, Method::GET, path, None).await;
    assert_eq!(event["capacity"], 3, "{event}");
    assert_eq!(event["paused"], false, "{event}");
    assert_eq!(event["message"], Value::Null, "{event}");
}

#[tokio::test]
async fn nobody_is_told_to_poll_slower_than_the_abandonment_period_allows() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--capacity", "0", "--abandon-seconds", "3"]).await;
    let mut last = String::new();
    for n in 0..60 {
        last = app.join_id("slow", &format!("u{n}")).await;
    }
    let (_, view) = app.status(&last).await;
    assert_eq!(view["position"], 60);
    let hint = view["refreshAfterMs"].as_u64().unwrap();
    assert!(
        hint <= 1_000,
        "told to poll every {hint} ms with a 3 s abandonment period"
    );
}

#[tokio::test]
async fn when_every_event_number_is_taken_a_new_event_is_a_clear_503_and_old_events_work() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let sid = app.join_id("old", "u1").await;
    // The registry has given its last number (24 bits).
    let _: () = redis::cmd("HSET")
        .arg(vestibule::store::keys::EVENTS)
        .arg("#")
        .arg(vestibule::store::ids::MAX_EVENT_NUMBER)
        .query(&mut redis.conn())
        .unwrap();
    let (status, body) = app.join("brand-new", "u1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "events_full", "{body}");
    assert_eq!(app.status(&sid).await.0, StatusCode::OK);
    app.join_id("old", "u2").await;
}

/// Waits until the server closes `stream` (end of stream or a reset); false if it is still
/// open after `guard` (a hang guard: the server closes it within its own timeouts).
async fn closed_by_server(stream: &mut tokio::net::TcpStream, guard: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                // HTTP/2 frames (settings, GOAWAY) before the close.
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(guard, read).await.is_ok()
}

#[tokio::test]
async fn silent_sockets_and_idle_http2_connections_are_closed() {
    let redis = TestRedis::start();
    let app = spawn_app(
        &redis,
        &["--header-timeout-ms", "300", "--idle-timeout-ms", "1000"],
    )
    .await;
    // 200 sockets that connect and say nothing: closed after the header timeout (before:
    // all 200 still open after 8 s).
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(tokio::net::TcpStream::connect(app.addr).await.unwrap());
    }
    let mut open = 0;
    for stream in &mut silent {
        if !closed_by_server(stream, Duration::from_secs(30)).await {
            open += 1;
        }
    }
    assert_eq!(open, 0, "{open} of 200 silent sockets still open");
    // One that starts the HTTP/2 preface and stops halfway: closed too.
    let mut half = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    half.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    assert!(closed_by_server(&mut half, Duration::from_secs(30)).await);
    // An HTTP/2 connection (prior knowledge: the preface and an empty SETTINGS frame)
    // with no request: closed after the idle limit (before: never).
    let mut h2 = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    assert!(
        closed_by_server(&mut h2, Duration::from_secs(30)).await,
        "an idle HTTP/2 connection stays open"
    );
    let ok = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn silent_sockets_cannot_use_up_the_servers_files() {
    // The server may open 256 files; 300 sockets connect and say nothing. A request that
    // comes after them is still answered (before: accept failed on every new connection
    // while the silent ones held every descriptor, and requests timed out).
    let redis = TestRedis::start();
    let port = crate::common::free_port();
    let mut args = crate::common::base_args(&redis, &["--header-timeout-ms", "1000"]);
    args.extend(["--site-addr".to_string(), format!("127.0.0.1:{port}")]);
    let mut child = std::process::Command::new("prlimit")
        .arg("--nofile=256:256")
        .arg(env!("CARGO_BIN_EXE_vestibule"))
        .args(&args)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("prlimit (util-linux) runs the server");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    crate::common::listening(addr).await;
    let mut silent = Vec::new();
    for _ in 0..300 {
        silent.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let answered = tokio::time::timeout(Duration::from_secs(60), async {
        reqwest::get(format!("http://{addr}/healthz")).await
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let res = answered.expect("a request behind 300 silent sockets was never answered");
    assert_eq!(res.unwrap().status(), StatusCode::OK);
    drop(silent);
}

#[tokio::test]
async fn the_seeds_scenario_passes_the_default_join_limit_100_joins_from_one_client_at_once() {
    // The room's own defaults for the join limit and the challenge, whatever they are.
    let defaults =
        <vestibule::config::Config as clap::Parser>::try_parse_from(["vestibule"]).unwrap();
    let (rate, burst, challenge) = (
        defaults.join_rate_per_second.to_string(),
        defaults.join_burst.to_string(),
        defaults.challenge.as_str(),
    );
    let redis = TestRedis::start();
    let app = spawn_app(
        &redis,
        &[
            "--join-rate-per-second",
            &rate,
            "--join-burst",
            &burst,
            "--challenge",
            challenge,
        ],
    )
    .await;
    // 100 joins sent as fast as one client can, from 20 tasks at once.
    let tasks: Vec<_> = (0..20)
        .map(|t| {
            let (http, url) = (app.http.clone(), app.url("/api/waiting-room/sessions"));
            tokio::spawn(async move {
                let mut codes = Vec::new();
                for n in 0..5 {
                    let res = http
                        .post(&url)
                        .json(&json!({ "eventId": "seed", "userId": format!("u{t}-{n}") }))
                        .send()
                        .await
                        .unwrap();
                    codes.push(res.status());
                }
                codes
            })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        for code in task.await.unwrap() {
            assert_eq!(code, StatusCode::ACCEPTED);
            accepted += 1;
        }
    }
    assert_eq!(accepted, 100);
}
