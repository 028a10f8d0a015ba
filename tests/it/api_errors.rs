//! Bad input gets a clear 4xx JSON error and loses nothing; Redis away is a prompt 503.

use std::time::{Duration, Instant};

use crate::common::{spawn_app, TestApp, TestRedis};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const JOIN: &str = "/api/waiting-room/sessions";

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn case(
    name: &'static str,
    method: Method,
    path: &str,
    body: &str,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        name,
        method,
        path: path.to_string(),
        content_type: Some("application/json"),
        body: body.as_bytes().to_vec(),
        status,
        code,
    }
}

fn cases() -> Vec<Case> {
    let long = "x".repeat(65);
    let mut cases = vec![
        case("empty body", Method::POST, JOIN, "", 400, "invalid_json"),
        case(
            "invalid json",
            Method::POST,
            JOIN,
            "{\"eventId\":",
            400,
            "invalid_json",
        ),
        case(
            "array body",
            Method::POST,
            JOIN,
            "[1,2]",
            400,
            "invalid_body",
        ),
        case(
            "string body",
            Method::POST,
            JOIN,
            "\"E1\"",
            400,
            "invalid_body",
        ),
        case("null body", Method::POST, JOIN, "null", 400, "invalid_body"),
        case(
            "missing eventId",
            Method::POST,
            JOIN,
            r#"{"userId":"U1"}"#,
            400,
            "invalid_event_id",
        ),
        case(
            "missing userId",
            Method::POST,
            JOIN,
            r#"{"eventId":"E1"}"#,
            400,
            "invalid_user_id",
        ),
        case(
            "numeric eventId",
            Method::POST,
            JOIN,
            r#"{"eventId":1,"userId":"U1"}"#,
            400,
            "invalid_event_id",
        ),
        case(
            "null userId",
            Method::POST,
            JOIN,
            r#"{"eventId":"E1","userId":null}"#,
            400,
            "invalid_user_id",
        ),
        case(
            "object userId",
            Method::POST,
            JOIN,
            r#"{"eventId":"E1","userId":{}}"#,
            400,
            "invalid_user_id",
        ),
        case(
            "empty eventId",
            Method::POST,
            JOIN,
            r#"{"eventId":"","userId":"U1"}"#,
            400,
            "invalid_event_id",
        ),
        case(
            "space in userId",
            Method::POST,
            JOIN,
            r#"{"eventId":"E1","userId":"a b"}"#,
            400,
            "invalid_user_id",
        ),
        case(
            "brace in eventId",
            Method::POST,
            JOIN,
            r#"{"eventId":"{E1}","userId":"U1"}"#,
            400,
            "invalid_event_id",
        ),
        case(
            "unicode userId",
            Method::POST,
            JOIN,
            r#"{"eventId":"E1","userId":"zoë"}"#,
            400,
            "invalid_user_id",
        ),
        case(
            "65-char eventId",
            Method::POST,
            JOIN,
            &format!(r#"{{"eventId":"{long}","userId":"U1"}}"#),
            400,
            "invalid_event_id",
        ),
        case(
            "malformed id",
            Method::GET,
            "/api/waiting-room/sessions/not-a-uuid",
            "",
            400,
            "invalid_session_id",
        ),
        case(
            "braced uuid",
            Method::GET,
            "/api/waiting-room/sessions/{0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d}",
            "",
            400,
            "invalid_session_id",
        ),
        case(
            "unknown id",
            Method::GET,
            "/api/waiting-room/sessions/0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d",
            "",
            404,
            "session_not_found",
        ),
        case(
            "leave unknown id",
            Method::DELETE,
            "/api/waiting-room/sessions/0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d",
            "",
            404,
            "session_not_found",
        ),
        case(
            "leave malformed id",
            Method::DELETE,
            "/api/waiting-room/sessions/nope",
            "",
            400,
            "invalid_session_id",
        ),
        case(
            "wrong method",
            Method::PUT,
            JOIN,
            "{}",
            405,
            "method_not_allowed",
        ),
        case(
            "unknown api route",
            Method::GET,
            "/api/waiting-room/nope",
            "",
            404,
            "not_found",
        ),
        case(
            "verify without token",
            Method::POST,
            "/api/waiting-room/tokens/verify",
            "{}",
            400,
            "invalid_token_field",
        ),
        case(
            "verify numeric token",
            Method::POST,
            "/api/waiting-room/tokens/verify",
            r#"{"token":42}"#,
            400,
            "invalid_token_field",
        ),
        case(
            "verify array body",
            Method::POST,
            "/api/waiting-room/tokens/verify",
            "[]",
            400,
            "invalid_body",
        ),
        case(
            "verify with GET",
            Method::GET,
            "/api/waiting-room/tokens/verify",
            "",
            405,
            "method_not_allowed",
        ),
        case(
            "empty session id",
            Method::GET,
            "/api/waiting-room/sessions/",
            "",
            404,
            "not_found",
        ),
        case(
            "percent-encoded garbage id",
            Method::GET,
            "/api/waiting-room/sessions/%FF%FE",
            "",
            400,
            "invalid_session_id",
        ),
        case(
            "very long id",
            Method::GET,
            &format!("/api/waiting-room/sessions/{}", "a".repeat(4000)),
            "",
            400,
            "invalid_session_id",
        ),
        case(
            "PATCH a session",
            Method::PATCH,
            "/api/waiting-room/sessions/0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d",
            "{}",
            405,
            "method_not_allowed",
        ),
        case(
            "nested JSON body",
            Method::POST,
            JOIN,
            r#"{"eventId":["E1"],"userId":"U1"}"#,
            400,
            "invalid_event_id",
        ),
        case(
            "deeply nested JSON",
            Method::POST,
            JOIN,
            &format!("{}{}", "[".repeat(200), "]".repeat(200)),
            400,
            "invalid_json",
        ),
        case(
            "trailing garbage",
            Method::POST,
            JOIN,
            r#"{"eventId":"E1","userId":"U1"} x"#,
            400,
            "invalid_json",
        ),
        case(
            "admin route without admin token set",
            Method::GET,
            "/api/admin/events",
            "",
            404,
            "not_found",
        ),
    ];
    cases.push(Case {
        content_type: None,
        ..case(
            "no content type",
            Method::POST,
            JOIN,
            r#"{"eventId":"E1","userId":"U1"}"#,
            415,
            "unsupported_media_type",
        )
    });
    cases.push(Case {
        content_type: Some("text/plain"),
        ..case(
            "text content type",
            Method::POST,
            JOIN,
            r#"{"eventId":"E1","userId":"U1"}"#,
            415,
            "unsupported_media_type",
        )
    });
    cases.push(Case {
        content_type: Some("application/x-www-form-urlencoded"),
        ..case(
            "form content type",
            Method::POST,
            JOIN,
            "eventId=E1&userId=U1",
            415,
            "unsupported_media_type",
        )
    });
    let big = format!(
        r#"{{"eventId":"E1","userId":"U1","pad":"{}"}}"#,
        "x".repeat(17 * 1024)
    );
    cases.push(case(
        "body over 16 KiB",
        Method::POST,
        JOIN,
        &big,
        413,
        "payload_too_large",
    ));
    cases.push(Case {
        body: vec![0xff, 0xfe, 0x00],
        ..case("binary body", Method::POST, JOIN, "", 400, "invalid_json")
    });
    cases
}

async fn send(app: &TestApp, c: &Case) -> (StatusCode, Option<String>, Value) {
    let mut req = app
        .http
        .request(c.method.clone(), app.url(&c.path))
        .body(c.body.clone());
    if let Some(ct) = c.content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.expect("the server answers");
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, ct, body)
}

#[tokio::test]
async fn every_bad_request_is_a_4xx_json_error_and_the_server_keeps_serving() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let cases = cases();
    assert!(cases.len() >= 35, "{} cases", cases.len());
    for c in &cases {
        let (status, ct, body) = send(&app, c).await;
        assert_eq!(status.as_u16(), c.status, "{}: {body}", c.name);
        assert_eq!(ct.as_deref(), Some("application/json"), "{}", c.name);
        assert_eq!(body["error"]["code"], c.code, "{}: {body}", c.name);
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.len() > 5,
            "{}: a readable message, got {body}",
            c.name
        );
    }
    // Nothing was written by the refused joins, and the server still serves.
    let events: Vec<String> = redis::cmd("HKEYS")
        .arg("wr:events")
        .query(&mut redis.conn())
        .unwrap();
    assert!(events.is_empty(), "{events:?}");
    let (status, _) = app.join("E1", "U1").await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_json_content_type_with_charset_is_accepted() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let res = app
        .http
        .post(app.url(JOIN))
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"eventId":"E1","userId":"U1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn redis_away_is_a_prompt_503_json_with_retry_after_and_then_recovers() {
    let mut redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let sid = app.join_id("E1", "before").await;
    assert_eq!(app.status_of(&sid).await, "ACTIVE", "at its join");
    redis.kill();

    for path in [JOIN.to_string(), format!("{JOIN}/{sid}")] {
        let started = Instant::now();
        let res = if path == JOIN {
            app.http
                .post(app.url(&path))
                .header("content-type", "application/json")
                .body(r#"{"eventId":"E1","userId":"U2"}"#)
                .send()
                .await
                .unwrap()
        } else {
            app.http.get(app.url(&path)).send().await.unwrap()
        };
        let took = started.elapsed();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(res.headers().contains_key("retry-after"), "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unavailable");
        assert!(took < Duration::from_secs(3), "{path} took {took:?}");
    }

    let ready = |app: &TestApp| {
        let url = app.url("/readyz");
        let http = app.http.clone();
        async move { http.get(url).send().await.unwrap().status() }
    };
    assert_eq!(
        ready(&app).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "/readyz goes red"
    );
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "the process itself is up");

    redis.launch();
    // Redis is a real process starting again: waited on.
    crate::common::until(|| async {
        ready(&app).await == StatusCode::OK && app.status(&sid).await.0 == StatusCode::OK
    })
    .await;
    assert_eq!(app.status_of(&sid).await, "ACTIVE");
}

/// A join, answered how?
async fn try_join(app: &TestApp, user: &str) -> (StatusCode, Option<String>, Value) {
    let res = app
        .http
        .post(app.url(JOIN))
        .header("content-type", "application/json")
        .body(format!(r#"{{"eventId":"full","userId":"{user}"}}"#))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, res.json().await.unwrap())
}

#[tokio::test]
async fn redis_out_of_memory_or_read_only_is_a_503_with_retry_after_not_a_500() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    assert_eq!(try_join(&app, "before").await.0, StatusCode::ACCEPTED);
    let mut conn = redis.conn();
    let config = |conn: &mut redis::Connection, key: &str, value: &str| {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg(key)
            .arg(value)
            .query::<()>(conn)
            .unwrap()
    };

    // maxmemory reached, with the eviction policy the README requires.
    config(&mut conn, "maxmemory-policy", "noeviction");
    config(&mut conn, "maxmemory", "1");
    let (status, retry, body) = try_join(&app, "oom").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry.as_deref(), Some("2"));
    assert_eq!(body["error"]["code"], "unavailable");
    config(&mut conn, "maxmemory", "0");
    assert_eq!(try_join(&app, "oom").await.0, StatusCode::ACCEPTED);

    // A primary demoted to a replica (as after a failover) refuses writes.
    redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(crate::common::free_port())
        .query::<()>(&mut conn)
        .unwrap();
    let (status, retry, body) = try_join(&app, "readonly").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry.as_deref(), Some("2"));
    redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query::<()>(&mut conn)
        .unwrap();
    assert_eq!(try_join(&app, "readonly").await.0, StatusCode::ACCEPTED);
}
