//! A room left in front of the shop all year (README, "Always on"): standby (no line while
//! there is room), a sale that has a state (open, sold out, closed, suspended, its end),
//! sessions that follow the buyer (renewal, the hard cap, the shop's checkout), and what
//! the door does while Redis is away.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{
    active_set, admin, settings, spawn_app, spawn_process, spawn_stepped, stream_order, until,
    TestApp, TestRedis, ADMIN_TOKEN,
};

const GATE: &str = "/api/waiting-room/gate";

/// Sets the sale's state, through the admin API; answers the event's figures.
async fn set_state(app: &TestApp, event: &str, state: &str) -> Value {
    let (code, answer) = admin(
        app,
        Method::POST,
        &format!("/api/admin/events/{event}/state"),
        Some(json!({ "state": state })),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["state"], state, "{answer}");
    answer
}

/// The gate's status, and the renewed pass its answer carries as a cookie, if any.
async fn gate(app: &TestApp, event: &str, pass: Option<&str>) -> (StatusCode, Option<String>) {
    let mut req = app.http.get(app.url(&format!("{GATE}/{event}")));
    if let Some(pass) = pass {
        req = req.bearer_auth(pass);
    }
    let res = req.send().await.unwrap();
    let renewed = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.strip_prefix("vestibule_pass="))
        .and_then(|c| c.split(';').next())
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    (res.status(), renewed)
}

/// The claims of a pass (read, not checked: the gate checks).
fn claims(pass: &str) -> Value {
    let payload = pass.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// A join's answer, asserting its HTTP status.
async fn join(app: &TestApp, event: &str, user: &str, expect: StatusCode) -> Value {
    let (code, body) = app.join(event, user).await;
    assert_eq!(code, expect, "{body}");
    body
}

/// A page of the room, as a browser's own navigation asks for it (no redirects followed).
async fn navigate(app: &TestApp, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client
        .get(app.url(path))
        .header("accept", "text/html")
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-dest", "document")
        .header("sec-fetch-site", "same-origin");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn standby_admits_at_once_while_there_is_room_and_never_ahead_of_the_line() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    settings(&app, "S", json!({ "capacity": 2 })).await;

    // Room for two: each join is ACTIVE in its own answer, with its pass.
    for user in ["a", "b"] {
        let body = join(&app, "S", user, StatusCode::ACCEPTED).await;
        assert_eq!(body["status"], "ACTIVE", "{body}");
        let pass = body["accessToken"]
            .as_str()
            .expect("a pass in the join's answer");
        assert_eq!(gate(&app, "S", Some(pass)).await.0, StatusCode::NO_CONTENT);
    }
    // Full: the next ones wait, in order.
    let c = join(&app, "S", "c", StatusCode::ACCEPTED).await;
    assert_eq!(
        (c["status"].as_str(), c["position"].as_u64()),
        (Some("WAITING"), Some(1))
    );
    let d = join(&app, "S", "d", StatusCode::ACCEPTED).await;
    assert_eq!(d["position"], 2);
    // A slot frees up: a newcomer does not jump the two already waiting.
    let a = active_set(&redis, "S");
    app.leave(&a[0]).await;
    let e = join(&app, "S", "e", StatusCode::ACCEPTED).await;
    assert_eq!(
        (e["status"].as_str(), e["position"].as_u64()),
        (Some("WAITING"), Some(3))
    );
    app.pass().await;
    assert_eq!(
        app.status_of(c["sessionId"].as_str().unwrap()).await,
        "ACTIVE"
    );
    assert_eq!(
        app.status_of(d["sessionId"].as_str().unwrap()).await,
        "WAITING"
    );
    // Paused: nobody is let in at once either, even with a free slot.
    let (code, _) = admin(&app, Method::POST, "/api/admin/events/P/pause", None).await;
    assert_eq!(code, StatusCode::OK);
    let p = join(&app, "P", "x", StatusCode::ACCEPTED).await;
    assert_eq!(p["status"], "WAITING", "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_and_200_joins_at_once_fill_exactly_50_slots_in_join_order() {
    let redis = TestRedis::start();
    let args = ["--admin-token", ADMIN_TOKEN];
    let one = Arc::new(spawn_process(&redis, &args).await);
    let two = Arc::new(spawn_process(&redis, &args).await);
    settings(
        &one,
        "burst",
        json!({ "capacity": 50, "sessionSeconds": 3600 }),
    )
    .await;

    // Watches the active set all along: never more than 50.
    let most = Arc::new(AtomicU64::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (most, done) = (most.clone(), done.clone());
        let mut conn = redis.conn();
        let key = crate::common::keys("burst").active;
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let n: u64 = redis::cmd("ZCARD").arg(&key).query(&mut conn).unwrap();
                most.fetch_max(n, Ordering::Relaxed);
            }
        })
    };
    let mut joins = Vec::new();
    for i in 0..200 {
        let app = if i % 2 == 0 { one.clone() } else { two.clone() };
        joins.push(tokio::spawn(async move {
            let user = format!("u{i}");
            let (code, body) = app.join("burst", &user).await;
            assert_eq!(code, StatusCode::ACCEPTED, "{body}");
            body
        }));
    }
    let mut answers = Vec::new();
    for j in joins {
        answers.push(j.await.unwrap());
    }
    let admitted: Vec<&Value> = answers.iter().filter(|a| a["status"] == "ACTIVE").collect();
    let waiting: Vec<&Value> = answers
        .iter()
        .filter(|a| a["status"] == "WAITING")
        .collect();
    assert_eq!((admitted.len(), waiting.len()), (50, 150));
    assert!(admitted.iter().all(|a| a["accessToken"].is_string()));

    // In join order: the first 50 of the stream are the 50 admitted; each waiting one's
    // position is its place after them.
    let order = stream_order(&redis, "burst");
    assert_eq!(order.len(), 200);
    let mut first: Vec<String> = order[..50].to_vec();
    first.sort();
    let mut active = active_set(&redis, "burst");
    active.sort();
    assert_eq!(first, active);
    for w in &waiting {
        let at = order
            .iter()
            .position(|s| s == w["sessionId"].as_str().unwrap())
            .unwrap() as u64;
        assert_eq!(w["position"].as_u64(), Some(at - 50 + 1), "{w}");
    }
    // Granters pass again (a third instance's, stepped here, after those of the two
    // processes): still 50 (nobody's session ended).
    let third = spawn_app(&redis, &args).await;
    third.pass().await;
    let (_, figures) = admin(&one, Method::GET, "/api/admin/events/burst", None).await;
    assert_eq!(
        (figures["active"].clone(), figures["waiting"].clone()),
        (json!(50), json!(150))
    );
    done.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    assert_eq!(
        most.load(Ordering::Relaxed),
        50,
        "the active set went over 50"
    );
}

#[tokio::test]
async fn sold_out_and_closed_end_the_line_while_admitted_buyers_finish() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    for (event, state, word) in [
        ("SO", "sold_out", "Sold out"),
        ("CL", "closed", "The sale is closed"),
    ] {
        settings(&app, event, json!({ "capacity": 1 })).await;
        let a = join(&app, event, "a", StatusCode::ACCEPTED).await;
        let pass = a["accessToken"].as_str().unwrap().to_string();
        let b = join(&app, event, "b", StatusCode::ACCEPTED).await;
        let b_id = b["sessionId"].as_str().unwrap().to_string();

        let figures = set_state(&app, event, state).await;
        assert_eq!(figures["closedReason"], state);
        // New joins: 410 event_closed.
        let refused = join(&app, event, "c", StatusCode::GONE).await;
        assert_eq!(refused["error"]["code"], "event_closed", "{refused}");
        // The page says so, without JavaScript.
        let page = navigate(&app, &format!("/e/{event}"), None)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(word), "{page}");
        // The people waiting: CLOSED at the next pass, with the reason; their page too.
        app.pass().await;
        let (_, status) = app.status(&b_id).await;
        assert_eq!(
            (status["status"].as_str(), status["closedReason"].as_str()),
            (Some("CLOSED"), Some(state))
        );
        let place = app
            .http
            .get(app.url(&format!("/queue/{b_id}")))
            .send()
            .await
            .unwrap();
        let place = place.text().await.unwrap();
        assert!(place.contains(word) && place.contains("CLOSED"), "{place}");
        // The admitted buyer finishes: the gate still opens for its pass.
        assert_eq!(
            gate(&app, event, Some(&pass)).await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            app.status_of(a["sessionId"].as_str().unwrap()).await,
            "ACTIVE"
        );

        // Open again: joins are taken again.
        set_state(&app, event, "open").await;
        join(&app, event, "d", StatusCode::ACCEPTED).await;
    }
}

#[tokio::test]
async fn a_sale_ends_at_its_end_time() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    let ends = app.now_ms() + 60_000;
    let ends_at = vestibule::service::rfc3339(ends).unwrap();
    settings(&app, "END", json!({ "capacity": 1, "endsAt": ends_at })).await;
    join(&app, "END", "a", StatusCode::ACCEPTED).await;
    let b = join(&app, "END", "b", StatusCode::ACCEPTED).await;
    app.advance(Duration::from_secs(61));
    let refused = join(&app, "END", "c", StatusCode::GONE).await;
    assert_eq!(refused["error"]["code"], "event_closed");
    app.pass().await;
    let (_, status) = app.status(b["sessionId"].as_str().unwrap()).await;
    assert_eq!(
        (status["status"].as_str(), status["closedReason"].as_str()),
        (Some("CLOSED"), Some("ended"))
    );
    let page = navigate(&app, "/e/END", None).await.text().await.unwrap();
    assert!(page.contains("The sale has ended"), "{page}");
}

#[tokio::test]
async fn suspended_shows_maintenance_to_everyone_and_keeps_the_line() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    settings(&app, "M", json!({ "capacity": 1 })).await;
    let a = join(&app, "M", "a", StatusCode::ACCEPTED).await;
    let pass = a["accessToken"].as_str().unwrap().to_string();
    let b = join(&app, "M", "b", StatusCode::ACCEPTED).await;
    let b_id = b["sessionId"].as_str().unwrap().to_string();
    assert_eq!(gate(&app, "M", Some(&pass)).await.0, StatusCode::NO_CONTENT);

    set_state(&app, "M", "suspended").await;
    // New joins: 503 event_suspended; the page: the maintenance page.
    let refused = join(&app, "M", "c", StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(refused["error"]["code"], "event_suspended");
    let page = navigate(&app, "/e/M", None).await.text().await.unwrap();
    assert!(page.contains("paused for maintenance"), "{page}");
    // The door is shut for everyone, passes included.
    let (code, _) = gate(&app, "M", Some(&pass)).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    // The line is kept, and nobody is let in, even into a free slot.
    app.leave(a["sessionId"].as_str().unwrap()).await;
    app.pass().await;
    let (_, status) = app.status(&b_id).await;
    assert_eq!(
        (status["status"].as_str(), status["suspended"].as_bool()),
        (Some("WAITING"), Some(true))
    );
    assert_eq!(status["position"], 1);
    let place = app
        .http
        .get(app.url(&format!("/queue/{b_id}")))
        .send()
        .await
        .unwrap();
    assert!(place
        .text()
        .await
        .unwrap()
        .contains("paused for maintenance"));

    // Resumed: the line moves on.
    set_state(&app, "M", "open").await;
    app.pass().await;
    assert_eq!(app.status_of(&b_id).await, "ACTIVE");
}

#[tokio::test]
async fn a_pass_is_renewed_while_its_buyer_shops_up_to_the_hard_cap() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    settings(
        &app,
        "R",
        json!({ "sessionSeconds": 60, "maxSessionSeconds": 100 }),
    )
    .await;
    let t0 = app.now_ms() / 1_000;
    let a = join(&app, "R", "a", StatusCode::ACCEPTED).await;
    let first = a["accessToken"].as_str().unwrap().to_string();
    let exp = |pass: &str| claims(pass)["exp"].as_u64().unwrap();
    assert!(
        exp(&first) >= t0 + 59 && exp(&first) <= t0 + 60,
        "{}",
        claims(&first)
    );

    // More than half left: the gate opens, no new pass.
    app.advance(Duration::from_secs(20));
    assert_eq!(
        gate(&app, "R", Some(&first)).await,
        (StatusCode::NO_CONTENT, None)
    );
    // Less than half left: the gate's answer carries a pass good for a full length.
    app.advance(Duration::from_secs(11));
    let (code, renewed) = gate(&app, "R", Some(&first)).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let second = renewed.expect("a renewed pass");
    let now = app.now_ms() / 1_000;
    assert!(exp(&second) >= now + 59, "{}", claims(&second));
    // The slot is renewed in Redis too: the granter does not end it with the first pass.
    app.advance(Duration::from_secs(30)); // t0 + 61: the first pass has expired
    app.pass().await;
    assert_eq!(
        app.status_of(a["sessionId"].as_str().unwrap()).await,
        "ACTIVE"
    );
    assert_eq!(
        gate(&app, "R", Some(&first)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Renewed again, but never past the cap: 100 s from the admission.
    let (code, renewed) = gate(&app, "R", Some(&second)).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let third = renewed.expect("a renewed pass, up to the cap");
    assert!(
        exp(&third) <= t0 + 100 && exp(&third) >= t0 + 99,
        "{}",
        claims(&third)
    );
    app.advance(Duration::from_secs(25)); // t0 + 86: less than half left, at the cap
    assert_eq!(
        gate(&app, "R", Some(&third)).await,
        (StatusCode::NO_CONTENT, None)
    );
    app.advance(Duration::from_secs(15)); // t0 + 101
    assert_eq!(
        gate(&app, "R", Some(&third)).await.0,
        StatusCode::UNAUTHORIZED
    );
    app.pass().await;
    assert_eq!(
        app.status_of(a["sessionId"].as_str().unwrap()).await,
        "EXPIRED"
    );
}

#[tokio::test]
async fn the_shops_checkout_ends_the_session_and_frees_its_slot_at_once() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    settings(&app, "K", json!({ "capacity": 1 })).await;
    let a = join(&app, "K", "a", StatusCode::ACCEPTED).await;
    let pass = a["accessToken"].as_str().unwrap().to_string();
    let b = join(&app, "K", "b", StatusCode::ACCEPTED).await;
    let b_id = b["sessionId"].as_str().unwrap().to_string();

    let checkout = |pass: Option<String>| {
        let mut req = app.http.post(app.url("/api/waiting-room/checkout"));
        if let Some(pass) = pass {
            req = req.bearer_auth(pass);
        }
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    // No pass, or a forged one: refused, nothing ends.
    let (code, body) = checkout(None).await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("no_pass"))
    );
    let forged = format!("{}x", &pass[..pass.len() - 1]);
    let (code, _) = checkout(Some(forged)).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.status_of(a["sessionId"].as_str().unwrap()).await,
        "ACTIVE"
    );

    let (code, body) = checkout(Some(pass.clone())).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (StatusCode::OK, Some("LEFT")),
        "{body}"
    );
    assert_eq!(
        gate(&app, "K", Some(&pass)).await.0,
        StatusCode::UNAUTHORIZED
    );
    app.pass().await;
    assert_eq!(app.status_of(&b_id).await, "ACTIVE");
}

#[tokio::test]
async fn standby_takes_a_navigating_browser_straight_back_to_the_shop_with_a_pass() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    settings(
        &app,
        "N",
        json!({ "capacity": 1, "targetUrl": "https://shop.example/sale/" }),
    )
    .await;
    let back = "https://shop.example/sale/seat?id=3";
    let path = format!("/e/N?return={}", urlencode(back));

    // An <img>, a prefetch or a program without fetch metadata: the page, nothing taken.
    let img = app
        .http
        .get(app.url(&path))
        .header("sec-fetch-mode", "no-cors")
        .header("sec-fetch-dest", "image")
        .send()
        .await
        .unwrap();
    assert_eq!(img.status(), StatusCode::OK);
    assert!(active_set(&redis, "N").is_empty());

    // A browser's navigation: straight back to the exact URL, with a pass and a visitor.
    let res = navigate(&app, &path, None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], back);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let pass = cookies
        .iter()
        .find_map(|c| c.strip_prefix("vestibule_pass="))
        .and_then(|c| c.split(';').next())
        .expect("the pass cookie")
        .to_string();
    assert_eq!(gate(&app, "N", Some(&pass)).await.0, StatusCode::NO_CONTENT);
    assert!(
        cookies.iter().any(|c| c.starts_with("vestibule_visitor=")),
        "{cookies:?}"
    );
    assert_eq!(active_set(&redis, "N").len(), 1);

    // Full: the next browser gets the page with the button.
    let res = navigate(&app, &path, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Join the line"));
    // An event the room does not know is never made by a navigation.
    let res = navigate(&app, "/e/never-made", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, events) = admin(&app, Method::GET, "/api/admin/events", None).await;
    assert!(!events.to_string().contains("never-made"), "{events}");
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn with_redis_away_the_door_fails_open_or_closed_as_configured() {
    for (mode, without_pass) in [
        ("open", StatusCode::NO_CONTENT),
        ("closed", StatusCode::UNAUTHORIZED),
    ] {
        let mut redis = TestRedis::start();
        let app = spawn_process(&redis, &["--fail-mode", mode]).await;
        let a = app.join("F", "a").await.1;
        let pass = a["accessToken"].as_str().unwrap().to_string();
        // Redis up: no pass, no entry, whatever the mode.
        assert_eq!(gate(&app, "F", None).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(gate(&app, "F", Some(&pass)).await.0, StatusCode::NO_CONTENT);

        redis.kill();
        // Once the process finds Redis away (its granter's next pass fails, a request
        // to Redis fails): not ready, and the door as the mode says.
        until(|| async {
            let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
            ready.status() == 503 && gate(&app, "F", None).await.0 == without_pass
        })
        .await;
        // Either way a buyer with a pass carries on.
        assert_eq!(gate(&app, "F", Some(&pass)).await.0, StatusCode::NO_CONTENT);

        // Redis back: the door is shut again for those without a pass.
        redis.launch();
        until(|| async { gate(&app, "F", None).await.0 == StatusCode::UNAUTHORIZED }).await;
    }
}
