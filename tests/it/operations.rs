//! Running it for real: admin API, per-event settings, metrics, rate limits, settings.

use std::process::Command;
use std::time::Duration;

use crate::common::{active_set, admin, spawn_app, spawn_stepped, TestRedis, ADMIN_TOKEN};
use reqwest::StatusCode;
use serde_json::{json, Value};

const TOKEN: &str = ADMIN_TOKEN;
const SOON: Duration = Duration::from_secs(5);

#[tokio::test]
async fn admin_routes_are_off_without_a_token_and_refuse_a_wrong_one() {
    let redis = TestRedis::start();
    let off = spawn_app(&redis, &[]).await;
    let res = off
        .http
        .get(off.url("/api/admin/events"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );

    let on = spawn_app(&redis, &["--admin-token", TOKEN]).await;
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Basic YWRtaW4="),
        Some(TOKEN),
    ] {
        let mut req = on.http.get(on.url("/api/admin/events"));
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"]["code"],
            "unauthorized"
        );
    }
    let (status, body) = admin(&on, reqwest::Method::GET, "/api/admin/events", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn raising_capacity_admits_the_next_people_at_once() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", TOKEN, "--capacity", "1"]).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(app.join_id("cap", &format!("u{i}")).await);
    }
    assert_eq!(active_set(&redis, "cap").len(), 1);
    app.pass_due().await;
    assert!(app.pass_due().await.reports.is_empty(), "nothing is due");

    let (status, body) = admin(
        &app,
        reqwest::Method::PUT,
        "/api/admin/events/cap",
        Some(json!({ "capacity": 3 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["capacity"], 3);
    // No time passes: only the settings change itself can have made the event due now.
    let due = app.pass_due().await;
    assert_eq!(due.reports.len(), 1, "{:?}", due.reports);
    assert_eq!(active_set(&redis, "cap").len(), 3);
    let (_, listed) = admin(&app, reqwest::Method::GET, "/api/admin/events", None).await;
    let cap = listed["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["eventId"] == "cap")
        .unwrap()
        .clone();
    assert_eq!(
        (
            cap["joined"].clone(),
            cap["active"].clone(),
            cap["waiting"].clone()
        ),
        (json!(4), json!(3), json!(1))
    );
    assert_eq!(app.status(&ids[3]).await.1["position"], 1);
}

#[tokio::test]
async fn pausing_stops_admissions_but_keeps_joins_and_positions() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", TOKEN, "--capacity", "1"]).await;
    let holder = app.join_id("pause", "h").await;
    app.pass().await;
    assert_eq!(app.status_of(&holder).await, "ACTIVE");
    let (status, body) = admin(
        &app,
        reqwest::Method::POST,
        "/api/admin/events/pause/pause",
        None,
    )
    .await;
    assert_eq!(
        (status, body["paused"].clone()),
        (StatusCode::OK, json!(true))
    );

    let next = app.join_id("pause", "n").await;
    app.leave(&holder).await;
    app.pass().await;
    let (_, view) = app.status(&next).await;
    assert_eq!(
        (view["status"].clone(), view["position"].clone()),
        (json!("WAITING"), json!(1))
    );

    admin(
        &app,
        reqwest::Method::POST,
        "/api/admin/events/pause/resume",
        None,
    )
    .await;
    app.pass().await;
    assert_eq!(app.status_of(&next).await, "ACTIVE");
}

#[tokio::test]
async fn an_admission_rate_caps_new_actives_per_minute() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", TOKEN, "--capacity", "100"]).await;
    let (status, _) = admin(
        &app,
        reqwest::Method::PUT,
        "/api/admin/events/slow",
        Some(json!({ "ratePerMinute": 2 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for i in 0..5 {
        app.join_id("slow", &format!("u{i}")).await;
    }
    app.pass().await;
    assert_eq!(active_set(&redis, "slow").len(), 2);
    for _ in 0..3 {
        app.pass().await;
    }
    assert_eq!(
        active_set(&redis, "slow").len(),
        2,
        "no more than 2 in the minute"
    );
}

#[tokio::test]
async fn revoking_a_session_frees_its_slot_and_bad_settings_are_refused() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", TOKEN, "--capacity", "1"]).await;
    let a = app.join_id("rev", "a").await;
    let b = app.join_id("rev", "b").await;
    app.pass().await;
    assert_eq!(app.status_of(&a).await, "ACTIVE");
    let (status, body) = admin(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/admin/sessions/{a}"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["status"].clone()),
        (StatusCode::OK, json!("LEFT"))
    );
    app.pass().await;
    assert_eq!(app.status_of(&b).await, "ACTIVE");

    for bad in [
        json!({ "capacity": -1 }),
        json!({ "capacity": "ten" }),
        json!({ "capacity": 1.5 }),
        json!({ "ratePerMinute": 0 }),
        json!({ "paused": "yes" }),
        json!({ "capasity": 3 }),
    ] {
        let (status, body) = admin(
            &app,
            reqwest::Method::PUT,
            "/api/admin/events/rev",
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid_settings");
    }
    let (status, body) = admin(
        &app,
        reqwest::Method::GET,
        "/api/admin/events/bad%20id",
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_event_id"))
    );
}

#[tokio::test]
async fn metrics_are_exposed_in_prometheus_format() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &[]).await;
    let metrics = || async {
        app.http
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    // A counter's value (absent: 0). Tests share the process's metrics: only ever more.
    let counter = |text: &str, name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    };
    let grants_before = counter(&metrics().await, "vestibule_grants_total");
    // Standby: admitted at the join itself, a grant all the same.
    let sid = app.join_id("metrics-ev", "u").await;
    assert_eq!(app.status_of(&sid).await, "ACTIVE");
    app.leave(&sid).await;
    app.pass().await;
    let text = metrics().await;
    assert!(
        counter(&text, "vestibule_grants_total") >= grants_before + 1.0,
        "an admission at the join is counted as a grant:\n{text}"
    );
    for needle in [
        "vestibule_joins_total",
        "vestibule_grants_total",
        "vestibule_releases_total",
        "vestibule_status_polls_total",
        "vestibule_granter_pass_duration_seconds_bucket",
        "vestibule_http_request_duration_seconds_bucket",
        "route=\"/api/waiting-room/sessions\"",
        "vestibule_active{event=\"metrics-ev\"}",
        "vestibule_waiting{event=\"metrics-ev\"}",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[tokio::test]
async fn joins_from_one_client_are_rate_limited() {
    let redis = TestRedis::start();
    let app = spawn_app(
        &redis,
        &["--join-rate-per-second", "1", "--join-burst", "3"],
    )
    .await;
    let mut codes = Vec::new();
    for i in 0..5 {
        let res = app
            .http
            .post(app.url("/api/waiting-room/sessions"))
            .json(&json!({ "eventId": "rl", "userId": format!("u{i}") }))
            .send()
            .await
            .unwrap();
        codes.push(res.status().as_u16());
        // Answered by the server's join lane, with the headers of every JSON answer.
        crate::common::assert_api_headers(&res);
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key("retry-after"));
            assert_eq!(
                res.json::<Value>().await.unwrap()["error"]["code"],
                "rate_limited"
            );
        }
    }
    assert_eq!(codes, vec![202, 202, 202, 429, 429]);
    // Status polls are not joins: never limited.
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[test]
fn help_lists_every_setting_and_a_bad_value_names_it() {
    let bin = env!("CARGO_BIN_EXE_vestibule");
    let help = Command::new(bin).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for var in [
        "REDIS_URL",
        "LEPTOS_SITE_ADDR",
        "WAITING_ROOM_CAPACITY",
        "WAITING_ROOM_SESSION_SECONDS",
        "WAITING_ROOM_ABANDON_SECONDS",
        "WAITING_ROOM_SIGNING_KEY_FILE",
        "WAITING_ROOM_RETIRED_KEY_FILES",
        "WAITING_ROOM_COOKIE_SECRET_FILE",
        "WAITING_ROOM_COOKIE_DOMAIN",
        "WAITING_ROOM_EVENTS",
        "WAITING_ROOM_ADMIN_TOKEN_FILE",
        "WAITING_ROOM_ADMIN_TOKEN",
        "WAITING_ROOM_JOIN_RATE_PER_SECOND",
        "LOG_FORMAT",
    ] {
        assert!(text.contains(var), "--help lacks {var}:\n{text}");
    }
    let bad = Command::new(bin)
        .env("WAITING_ROOM_SESSION_SECONDS", "soon")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--session-seconds"), "{err}");
}
