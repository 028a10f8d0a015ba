//! The operator's console: the figures and samples behind it, the message to the people
//! waiting, and its sign-in and forms as an attacker would try them.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{admin, keys, spawn_app, spawn_stepped, TestApp, TestRedis, ADMIN_TOKEN};

const SOON: Duration = Duration::from_secs(5);

/// A client that shows redirects instead of following them, as a browser's first step.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `name=value` of a `Set-Cookie` named `name`, if the response sets it.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<(String, String)> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let pair = v.split(';').next().unwrap().to_string();
            (pair, v.to_string())
        })
}

/// Signs in with `token`; the session cookie (`name=value`) when it worked.
async fn sign_in(app: &TestApp, token: &str) -> Option<String> {
    let res = browser()
        .post(app.url("/admin/sign-in"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/admin");
    set_cookie(&res, "vestibule_console").map(|(pair, _)| pair)
}

/// The console page at `path` as this session sees it.
async fn page(app: &TestApp, cookie: &str, path: &str) -> String {
    browser()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The form token on the console's pages of this session.
async fn form_token(app: &TestApp, cookie: &str) -> String {
    let html = page(app, cookie, "/admin").await;
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a token");
    html[at + 19..at + 19 + 64].to_string()
}

/// A console form post; the response (not followed).
async fn post(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    browser()
        .post(app.url(path))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn figures(app: &TestApp, event: &str) -> Value {
    let (status, body) = admin(
        app,
        Method::GET,
        &format!("/api/admin/events/{event}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// `PUT path` with `bad`, which must be refused: 400 with `code`; the error's message.
async fn refused(app: &TestApp, path: &str, bad: &Value, code: &str) -> String {
    let (status, body) = admin(app, Method::PUT, path, Some(bad.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    assert_eq!(body["error"]["code"], code, "{bad}");
    body["error"]["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_granter_samples_a_busy_line_every_few_seconds_and_once_as_it_goes_quiet() {
    let redis = TestRedis::start();
    // Ended sessions and given-back passes are kept a second: the event can go quiet soon.
    let app = spawn_stepped(
        &redis,
        &[
            "--admin-token",
            ADMIN_TOKEN,
            "--capacity",
            "1",
            "--session-seconds",
            "1",
            "--retention-seconds",
            "1",
        ],
    )
    .await;
    // An operator's event (an event nobody configured leaves nothing once it ended, its
    // samples included: see lifecycle.rs).
    let (status, body) = admin(
        &app,
        Method::PUT,
        "/api/admin/events/chart",
        Some(json!({ "capacity": 1 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids = [
        app.join_id("chart", "a").await,
        app.join_id("chart", "b").await,
        app.join_id("chart", "c").await,
    ];
    // Many passes, one sample: they are taken every few seconds, not every pass.
    for _ in 0..5 {
        app.pass().await;
    }
    assert_eq!(app.status_of(&ids[0]).await, "ACTIVE");
    let (status, history) = admin(&app, Method::GET, "/api/admin/events/chart/history", None).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(history["sampleSeconds"], 5);
    let samples = history["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 1, "{history}");
    // No figure is invented: the JSON is what Redis holds.
    let stored: Vec<(String, Vec<(String, u64)>)> = redis::cmd("XRANGE")
        .arg(&keys("chart").series)
        .arg("-")
        .arg("+")
        .query(&mut redis.conn())
        .unwrap();
    assert_eq!(stored.len(), 1);
    let (id, fields) = &stored[0];
    assert_eq!(
        id.split('-').next().unwrap(),
        samples[0]["atMs"].to_string()
    );
    let field = |name: &str| fields.iter().find(|(f, _)| f == name).unwrap().1;
    assert_eq!(
        samples[0],
        json!({"atMs": samples[0]["atMs"], "waiting": field("w"), "active": field("a"),
               "capacity": field("c"), "admitted": field("g")})
    );
    // Taken at the first pass: one admitted, two waiting.
    assert_eq!(
        [field("w"), field("a"), field("c"), field("g")],
        [2, 1, 1, 1]
    );
    let now = history["figures"].clone();
    assert_eq!(
        (now["waiting"].clone(), now["active"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(
        (now["admitted"].clone(), now["capacityInForce"].clone()),
        (json!(1), json!(1))
    );

    // Everyone leaves: the event goes quiet with a last sample of an empty line.
    for id in &ids {
        app.leave(id).await;
    }
    app.pass().await;
    app.advance(Duration::from_millis(1_001));
    let report = app.pass().await;
    assert!(report
        .iter()
        .any(|r| r.event_id.as_str() == "chart" && r.idle));
    let (_, history) = admin(&app, Method::GET, "/api/admin/events/chart/history", None).await;
    assert_eq!(history["samples"].as_array().unwrap().len(), 2, "{history}");
    let last = &history["samples"][1];
    assert_eq!(
        (
            last["waiting"].clone(),
            last["active"].clone(),
            last["admitted"].clone()
        ),
        (json!(0), json!(0), json!(1))
    );
    for bad in ["0", "61", "x", "-1"] {
        let (status, body) = admin(
            &app,
            Method::GET,
            &format!("/api/admin/events/chart/history?minutes={bad}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["error"]["code"], "invalid_query");
    }
}

#[tokio::test]
async fn the_wait_of_the_last_in_line_is_the_estimate_that_person_is_shown() {
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--admin-token",
            ADMIN_TOKEN,
            "--capacity",
            "2",
            "--session-seconds",
            "1",
        ],
    )
    .await;
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(app.join_id("eta", &format!("u{n}")).await);
    }
    // Sessions of one second: admissions go on, so there is a recent rate.
    for _ in 0..2 {
        app.advance(Duration::from_secs(1));
        app.pass().await;
    }
    assert_eq!(app.status_of(&ids[4]).await, "ACTIVE");
    let figures = figures(&app, "eta").await;
    let waiting = figures["waiting"].as_u64().unwrap();
    assert!(waiting >= 1, "{figures}");
    assert!(
        figures["admittedPerMinute"].as_f64().unwrap() > 0.0,
        "{figures}"
    );
    let last = &ids[ids.len() - 1];
    let (_, view) = app.status(last).await;
    assert_eq!(view["position"], waiting, "{view}");
    let told = view["estimatedWaitSeconds"].as_u64().unwrap();
    let shown = figures["lastWaitSeconds"].as_u64().unwrap();
    // Read a moment apart: the decayed rate moves a little between the two reads.
    assert!(told.abs_diff(shown) <= 2 + told / 10, "{told} vs {shown}");
}

#[tokio::test]
async fn a_message_reaches_the_people_waiting_for_that_event_only() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--admin-token", ADMIN_TOKEN, "--capacity", "1"]).await;
    let admitted = app.join_id("msg", "first").await;
    let waiting = app.join_id("msg", "second").await;
    let elsewhere = app.join_id("other", "x").await;
    let _also_waiting = app.join_id("other", "y").await;
    assert_eq!(app.status_of(&admitted).await, "ACTIVE");

    let (status, body) = admin(
        &app,
        Method::PUT,
        "/api/admin/events/msg/message",
        Some(json!({"text": "  Doors open at 10:05  "})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Doors open at 10:05");
    assert_eq!(
        app.status(&waiting).await.1["message"],
        "Doors open at 10:05"
    );
    assert!(app.status(&admitted).await.1.get("message").is_none());
    assert!(app.status(&elsewhere).await.1.get("message").is_none());

    for bad in [
        json!({"text": ""}),
        json!({"text": "   "}),
        json!({"text": "x".repeat(281)}),
        json!({"text": "two\nlines"}),
        json!({"text": 5}),
        json!({}),
        json!({"text": "hi", "colour": "red"}),
    ] {
        refused(
            &app,
            "/api/admin/events/msg/message",
            &bad,
            "invalid_message",
        )
        .await;
    }
    // A refused message changes nothing.
    assert_eq!(
        app.status(&waiting).await.1["message"],
        "Doors open at 10:05"
    );

    let (status, body) = admin(&app, Method::DELETE, "/api/admin/events/msg/message", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], Value::Null);
    assert!(app.status(&waiting).await.1.get("message").is_none());
}

#[tokio::test]
async fn a_message_speaks_each_visitors_language_when_the_operator_gave_it() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--admin-token", ADMIN_TOKEN, "--capacity", "0"]).await;
    let waiting = app.join_id("intl", "someone").await;
    let (status, body) = admin(
        &app,
        Method::PUT,
        "/api/admin/events/intl/message",
        Some(json!({
            "text": "Doors open at 10:05",
            "translations": {"de": " Einlass um 10:05 ", "AR": "تفتح الأبواب في 10:05"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let translations = json!({"ar": "تفتح الأبواب في 10:05", "de": "Einlass um 10:05"});
    assert_eq!(body["messageTranslations"], translations);
    let (_, view) = app.status(&waiting).await;
    assert_eq!(view["message"], "Doors open at 10:05");
    assert_eq!(view["messageTranslations"], translations);

    // The page: the visitor's language, else the message as posted.
    let page = |lang: &'static str| {
        let url = app.url(&format!("/queue/{waiting}"));
        async move {
            reqwest::Client::new()
                .get(url)
                .header("accept-language", lang)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let german = page("de-DE,de;q=0.9").await;
    assert!(german.contains(">Einlass um 10:05</p>"), "{german}");
    assert!(!german.contains(">Doors open at 10:05</p>"));
    let arabic = page("ar").await;
    assert!(arabic.contains("تفتح الأبواب في 10:05"));
    assert!(arabic.contains(r#"dir="rtl""#));
    let french = page("fr").await;
    assert!(french.contains(">Doors open at 10:05</p>"), "{french}");

    for bad in [
        json!({"text": "hi", "translations": {"xx": "?"}}),
        json!({"text": "hi", "translations": {"de": ""}}),
        json!({"text": "hi", "translations": {"de": "zwei\nZeilen"}}),
        json!({"text": "hi", "translations": {"de": "x".repeat(281)}}),
        json!({"text": "hi", "translations": {"de": 5}}),
        json!({"text": "hi", "translations": {"de": "a", "DE": "b"}}),
        json!({"text": "hi", "translations": ["de", "Hallo"]}),
        json!({"text": "hi", "translations": {"en": "1", "de": "2", "fr": "3", "es": "4", "ja": "5", "ar": "6", "it": "7"}}),
    ] {
        let message = refused(
            &app,
            "/api/admin/events/intl/message",
            &bad,
            "invalid_message",
        )
        .await;
        assert!(message.starts_with("translations"), "{bad}: {message}");
    }
    // A refused message changes nothing.
    assert_eq!(
        app.status(&waiting).await.1["messageTranslations"],
        translations
    );

    // Posted again without translations: none are left.
    let (_, body) = admin(
        &app,
        Method::PUT,
        "/api/admin/events/intl/message",
        Some(json!({"text": "Doors open at 10:15"})),
    )
    .await;
    assert_eq!(body["messageTranslations"], Value::Null);
    let (_, view) = app.status(&waiting).await;
    assert_eq!(view["message"], "Doors open at 10:15");
    assert!(view.get("messageTranslations").is_none(), "{view}");
}

#[tokio::test]
async fn the_console_opens_with_the_admin_token_only_and_its_cookie_cannot_be_forged() {
    let redis = TestRedis::start();
    let off = spawn_app(&redis, &[]).await;
    let res = browser()
        .post(off.url("/admin/sign-in"))
        .form(&[("token", "anything")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "no console without a token"
    );

    let app = spawn_app(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    assert_eq!(sign_in(&app, "wrong").await, None);
    assert_eq!(sign_in(&app, "").await, None);
    assert!(!page(&app, "", "/admin").await.contains(r#"name="csrf""#));

    let res = browser()
        .post(app.url("/admin/sign-in"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    let (cookie, full) = set_cookie(&res, "vestibule_console").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(full.contains(attribute), "{full}");
    }
    assert!(page(&app, &cookie, "/admin")
        .await
        .contains("Create an event"));

    // An altered cookie, or one signed for another token, is no session.
    let value = cookie.split_once('=').unwrap().1;
    let altered = format!(
        "vestibule_console={}",
        value.replace(|c: char| c.is_ascii_digit(), "9")
    );
    assert!(!page(&app, &altered, "/admin")
        .await
        .contains("Create an event"));
    let other = spawn_app(&redis, &["--admin-token", "another-token"]).await;
    assert!(!page(&other, &cookie, "/admin")
        .await
        .contains("Create an event"));
    // The figures behind the pages are not served without a session either.
    let res = browser()
        .post(app.url("/api/console/history"))
        .form(&[("event_id", "E1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn console_forms_need_the_session_its_form_token_and_this_site() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    let cookie = sign_in(&app, ADMIN_TOKEN).await.unwrap();
    let csrf = form_token(&app, &cookie).await;
    let paused = || async { figures(&app, "steer").await["paused"] == true };

    // No session: back to the sign-in, nothing done.
    let res = post(&app, "", "/admin/events/steer/pause", &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/admin");
    // A session without its form token (a forged form on another site), or with another
    // session's token.
    let res = post(&app, &cookie, "/admin/events/steer/pause", &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let second = sign_in(&app, ADMIN_TOKEN).await.unwrap();
    let theirs = form_token(&app, &second).await;
    assert_ne!(theirs, csrf);
    let res = post(
        &app,
        &cookie,
        "/admin/events/steer/pause",
        &[("csrf", &theirs)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_form_token"
    );
    // Posted from another site.
    let res = browser()
        .post(app.url("/admin/events/steer/pause"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .form(&[("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!paused().await);

    // The real thing.
    let res = post(
        &app,
        &cookie,
        "/admin/events/steer/pause",
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/admin/events/steer");
    assert!(paused().await);
    let (flash, _) = set_cookie(&res, "vestibule_console_flash").unwrap();
    let html = page(&app, &format!("{cookie}; {flash}"), "/admin/events/steer").await;
    assert!(
        html.contains("Paused: nobody is let in until you resume."),
        "the flash"
    );
}

#[tokio::test]
async fn console_forms_check_what_they_are_given_and_change_nothing_when_refused() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--admin-token", ADMIN_TOKEN, "--capacity", "1"]).await;
    let cookie = sign_in(&app, ADMIN_TOKEN).await.unwrap();
    let csrf = form_token(&app, &cookie).await;
    let create = |fields: Vec<(&'static str, &'static str)>| {
        let (app, cookie, csrf) = (&app, &cookie, csrf.clone());
        async move {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend(fields);
            post(app, cookie, "/admin/events", &form).await
        }
    };
    for (bad, says) in [
        (vec![("event_id", "a b")], "event"),
        (vec![("event_id", "ok"), ("capacity", "lots")], "capacity"),
        (
            vec![("event_id", "ok"), ("target_url", "javascript:alert(1)")],
            "targetUrl",
        ),
        (
            vec![("event_id", "ok"), ("opens_at", "tomorrow")],
            "opensAt",
        ),
        (
            vec![("event_id", "ok"), ("queueing", "vip-first")],
            "queueing",
        ),
    ] {
        let res = create(bad.clone()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{bad:?}");
        assert_eq!(res.headers()["location"], "/admin", "{bad:?}");
        let (_, full) = set_cookie(&res, "vestibule_console_flash").unwrap();
        let cookie = format!("{cookie}; {}", full.split(';').next().unwrap());
        let html = page(&app, &cookie, "/admin").await;
        assert!(html.contains(says), "{bad:?} should say why ({says})");
    }
    let (_, list) = admin(&app, Method::GET, "/api/admin/events", None).await;
    assert_eq!(list["events"], json!([]), "nothing was created");

    let res = create(vec![
        ("event_id", "made"),
        ("capacity", "3"),
        ("target_url", "https://shop.example/sale/"),
        ("queueing", "fifo"),
    ])
    .await;
    assert_eq!(res.headers()["location"], "/admin/events/made");
    let made = figures(&app, "made").await;
    assert_eq!(made["capacity"], 3);
    assert_eq!(made["targetUrl"], "https://shop.example/sale/");

    // Creating it again (another operator, a second tab) is refused and changes nothing:
    // not its settings, not its pause.
    let res = post(
        &app,
        &cookie,
        "/admin/events/made/pause",
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(res.headers()["location"], "/admin/events/made");
    let res = create(vec![("event_id", "made"), ("capacity", "9")]).await;
    assert_eq!(res.headers()["location"], "/admin");
    let (_, full) = set_cookie(&res, "vestibule_console_flash").unwrap();
    let flashed = format!("{cookie}; {}", full.split(';').next().unwrap());
    assert!(page(&app, &flashed, "/admin").await.contains("exists"));
    let made = figures(&app, "made").await;
    assert_eq!(
        (made["capacity"].clone(), made["paused"].clone()),
        (json!(3), json!(true))
    );
    // The settings form changes the settings and leaves the pause alone.
    let res = post(
        &app,
        &cookie,
        "/admin/events/made/settings",
        &[("csrf", &csrf), ("capacity", "5")],
    )
    .await;
    assert_eq!(res.headers()["location"], "/admin/events/made");
    let made = figures(&app, "made").await;
    assert_eq!(
        (made["capacity"].clone(), made["paused"].clone()),
        (json!(5), json!(true))
    );
    // An event made by visitors' joins alone may be created (configured) once.
    app.join_id("joined-first", "someone").await;
    let res = create(vec![("event_id", "joined-first"), ("capacity", "2")]).await;
    assert_eq!(res.headers()["location"], "/admin/events/joined-first");
    assert_eq!(figures(&app, "joined-first").await["capacity"], 2);

    // Ending a session of another event from this event's page is refused.
    let theirs = app.join_id("other", "someone").await;
    assert_eq!(app.status_of(&theirs).await, "ACTIVE");
    let res = post(
        &app,
        &cookie,
        "/admin/events/made/revoke",
        &[("csrf", &csrf), ("session_id", &theirs)],
    )
    .await;
    assert_eq!(res.headers()["location"], "/admin/events/made");
    assert_eq!(app.status_of(&theirs).await, "ACTIVE");
    let res = post(
        &app,
        &cookie,
        "/admin/events/other/revoke",
        &[("csrf", &csrf), ("session_id", &theirs)],
    )
    .await;
    assert_eq!(res.headers()["location"], "/admin/events/other");
    assert_eq!(app.status_of(&theirs).await, "LEFT");
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_address_even_with_the_right_token() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    for _ in 0..20 {
        assert_eq!(sign_in(&app, "guess").await, None);
    }
    let res = browser()
        .post(app.url("/admin/sign-in"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert!(set_cookie(&res, "vestibule_console").is_none(), "limited");
    let (_, flash) = set_cookie(&res, "vestibule_console_flash").unwrap();
    let html = page(&app, flash.split(';').next().unwrap(), "/admin").await;
    assert!(html.contains("Too many sign-in attempts"), "says why");
}

/// The HTML of a visitor's page, and its Content-Security-Policy.
async fn visitor_page(app: &TestApp, path: &str) -> (String, String) {
    let res = reqwest::get(app.url(path)).await.unwrap();
    let policy = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    (res.text().await.unwrap(), policy)
}

#[tokio::test]
async fn a_brand_reaches_its_events_pages_through_checked_values_only() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--admin-token", ADMIN_TOKEN, "--capacity", "0"]).await;
    let brand = json!({
        "displayName": "Arena <b>Tickets</b>",
        "logoUrl": "https://cdn.shop.example/img/logo.svg",
        "accentColor": "#1A7F37",
        "backgroundColor": "#101820",
        "text": "**Doors** at 19:00. [Seat map](https://shop.example/map)"
    });
    let (status, body) = admin(&app, Method::PUT, "/api/admin/events/br/brand", Some(brand)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let set = &body["brand"];
    assert_eq!(set["accentColor"], "#1a7f37");
    assert_eq!(set["contrast"]["onBackground"], "#ffffff");
    assert_eq!(set["contrast"]["onAccent"], "#ffffff");
    assert!(
        set["contrast"]["accentOnCard"].as_f64().unwrap() >= 4.5,
        "{set}"
    );

    // The event's page and a place's page show it; the logo's origin, and only it, is
    // added to the image policy; the name is text; the Markdown is HTML of a short list.
    let waiting = app.join_id("br", "someone").await;
    for path in ["/e/br".to_string(), format!("/queue/{waiting}")] {
        let (html, policy) = visitor_page(&app, &path).await;
        assert!(
            html.contains(
                r#"<img src="https://cdn.shop.example/img/logo.svg" alt="" class="shop-logo">"#
            ),
            "{path}: {html}"
        );
        assert!(html.contains("Arena &lt;b&gt;Tickets&lt;/b&gt;"), "{path}");
        assert!(html.contains("<strong>Doors</strong>"), "{path}");
        assert!(
            html.contains(
                r#"<a href="https://shop.example/map" rel="noopener noreferrer">Seat map</a>"#
            ),
            "{path}"
        );
        assert!(
            html.contains(r#"<link rel="stylesheet" href="/brand/br.css?v="#),
            "{path}"
        );
        assert!(
            policy.contains("img-src 'self' data: https://cdn.shop.example;"),
            "{policy}"
        );
        assert!(policy.contains("style-src 'self';"), "{policy}");
    }
    // Another event's pages: none of it.
    let (html, policy) = visitor_page(&app, "/e/plain").await;
    assert!(!html.contains("shop-brand") && !html.contains("cdn.shop.example"));
    assert!(!policy.contains("cdn.shop.example"), "{policy}");

    // The stylesheet: checked colours, for this event only.
    let css = reqwest::get(app.url("/brand/br.css")).await.unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let css = css.text().await.unwrap();
    assert!(
        css.contains("--accent: #1a7f37;") && css.contains("--bg: #101820;"),
        "{css}"
    );
    for missing in ["/brand/plain.css", "/brand/br", "/brand/b%7Br%7D.css"] {
        let res = reqwest::get(app.url(missing)).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{missing}");
    }

    // Hostile or unreadable values are refused with a reason, and change nothing.
    for (bad, says) in [
        (json!({"accentColor": "#ffcc00"}), "1.5:1"),
        (
            json!({"accentColor": "red;} body { background: url(https://evil.example/x)"}),
            "accentColor",
        ),
        (json!({"backgroundColor": "#fff; }"}), "backgroundColor"),
        (json!({"logoUrl": "javascript:alert(1)"}), "logoUrl"),
        (
            json!({"logoUrl": "http://cdn.shop.example/logo.svg"}),
            "logoUrl",
        ),
        (
            json!({"logoUrl": "https://cdn.shop.example/x' https://evil.example"}),
            "logoUrl",
        ),
        (json!({"text": "<script>alert(1)</script>"}), "HTML"),
        (json!({"text": "hi <img src=x onerror=alert(1)>"}), "HTML"),
        (json!({"displayName": 5}), "displayName"),
        (json!({"displayName": "a\u{0}b"}), "displayName"),
        (json!({"colour": "#000"}), "unknown field"),
    ] {
        let message = refused(&app, "/api/admin/events/br/brand", &bad, "invalid_brand").await;
        assert!(message.contains(says), "{bad}: {message}");
    }
    assert_eq!(figures(&app, "br").await["brand"], *set);

    // The console's form: a refusal says why; a save says which text colours it chose.
    let cookie = sign_in(&app, ADMIN_TOKEN).await.unwrap();
    let csrf = form_token(&app, &cookie).await;
    let flash_of = |res: &reqwest::Response| set_cookie(res, "vestibule_console_flash").unwrap().0;
    let res = post(
        &app,
        &cookie,
        "/admin/events/br/brand",
        &[
            ("csrf", &csrf),
            ("accent_color", "#ffcc00"),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page(
        &app,
        &format!("{cookie}; {}", flash_of(&res)),
        "/admin/events/br",
    )
    .await;
    assert!(html.contains("1.5:1"), "the refusal: {html}");
    assert_eq!(figures(&app, "br").await["brand"], *set);
    let res = post(
        &app,
        &cookie,
        "/admin/events/br/brand",
        &[
            ("csrf", &csrf),
            ("display_name", "Arena"),
            ("background_color", "#ffcc00"),
            ("accent_color", "#0b5394"),
            ("action", "save"),
        ],
    )
    .await;
    let html = page(
        &app,
        &format!("{cookie}; {}", flash_of(&res)),
        "/admin/events/br",
    )
    .await;
    assert!(
        html.contains("text on the background set to #000000"),
        "{html}"
    );
    let now = figures(&app, "br").await;
    assert_eq!(now["brand"]["displayName"], "Arena");
    assert_eq!(now["brand"]["backgroundColor"], "#ffcc00");
    assert!(now["brand"]["logoUrl"].is_null());

    // Removed: the pages are the room's again.
    let (status, body) = admin(&app, Method::DELETE, "/api/admin/events/br/brand", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["brand"].is_null());
    let (html, _) = visitor_page(&app, "/e/br").await;
    assert!(!html.contains("shop-brand"));
    let res = reqwest::get(app.url("/brand/br.css")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
