//! Enqueue tokens (README, "Bots and accounts"): an event with `entry: token` takes only
//! the shop's accounts, each with a token the shop signed, and holds one place per
//! account, whatever the browser or the caller; the draw counts accounts.

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{
    admin, keys, location, no_redirects, spawn_stepped, Browser, TestApp, TestRedis, ADMIN_TOKEN,
};

const SECRET: &str = "a shared secret of at least 32 bytes, for tests";

/// An HS256 token for `sub` in `event`, living `life_s` from the room's now.
fn token(app: &TestApp, event: &str, sub: &str, life_s: i64, secret: &str) -> String {
    let exp = app.now_ms() as i64 / 1_000 + life_s;
    encode(
        &Header::new(Algorithm::HS256),
        &json!({ "sub": sub, "aud": event, "exp": exp }),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn set_entry(app: &TestApp, event: &str, body: Value) -> (StatusCode, Value) {
    admin(
        app,
        Method::PUT,
        &format!("/api/admin/events/{event}/entry"),
        Some(body),
    )
    .await
}

/// Sets an event's entry and checks it was taken.
async fn set_entry_ok(app: &TestApp, event: &str, body: Value) {
    let (status, answer) = set_entry(app, event, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn token_entry(app: &TestApp, event: &str) {
    let body = json!({ "entry": "token", "alg": "HS256", "secret": SECRET });
    set_entry_ok(app, event, body).await;
}

async fn post_join(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let res = app
        .http
        .post(app.url("/api/waiting-room/sessions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

fn xlen(redis: &TestRedis, event: &str) -> u64 {
    redis::cmd("XLEN")
        .arg(&keys(event).stream)
        .query(&mut redis.conn())
        .unwrap()
}

#[tokio::test]
async fn token_entry_refuses_missing_expired_wrongly_signed_and_other_event_tokens() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    token_entry(&app, "tok").await;
    token_entry(&app, "other").await;
    // A join already in the open line before the switch would not tell the script's refusal
    // apart from the server's: this event never had one.
    let refusals = [
        (
            json!({ "eventId": "tok", "userId": "u1" }),
            StatusCode::UNAUTHORIZED,
            "token_required",
        ),
        (
            json!({ "eventId": "tok", "enqueueToken": token(&app, "tok", "fan", -120, SECRET) }),
            StatusCode::UNAUTHORIZED,
            "invalid_enqueue_token",
        ),
        (
            json!({ "eventId": "tok", "enqueueToken": token(&app, "tok", "fan", 60, "another secret of at least thirty-two bytes") }),
            StatusCode::UNAUTHORIZED,
            "invalid_enqueue_token",
        ),
        (
            json!({ "eventId": "tok", "enqueueToken": token(&app, "other", "fan", 60, SECRET) }),
            StatusCode::UNAUTHORIZED,
            "invalid_enqueue_token",
        ),
        (
            json!({ "eventId": "tok", "enqueueToken": token(&app, "tok", "fan", 86_400, SECRET) }),
            StatusCode::UNAUTHORIZED,
            "invalid_enqueue_token",
        ),
        (
            json!({ "eventId": "tok", "enqueueToken": "not-a-token" }),
            StatusCode::UNAUTHORIZED,
            "invalid_enqueue_token",
        ),
        (
            json!({ "eventId": "tok", "userId": "account:fan" }),
            StatusCode::BAD_REQUEST,
            "invalid_user_id",
        ),
        (
            json!({ "eventId": "tok", "userId": "fan", "enqueueToken": token(&app, "tok", "fan", 60, SECRET) }),
            StatusCode::BAD_REQUEST,
            "invalid_user_id",
        ),
        (
            json!({ "eventId": "tok", "enqueueToken": 42 }),
            StatusCode::BAD_REQUEST,
            "invalid_enqueue_token",
        ),
        (
            json!({ "eventId": "open", "enqueueToken": token(&app, "open", "fan", 60, SECRET) }),
            StatusCode::BAD_REQUEST,
            "no_tokens",
        ),
    ];
    for (body, status, code) in refusals {
        let (got, answer) = post_join(&app, body.clone()).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
    }
    assert_eq!(xlen(&redis, "tok"), 0, "a refused join wrote to the line");

    // The shop's token for its account: a place, the account's.
    let (status, place) = post_join(
        &app,
        json!({ "eventId": "tok", "enqueueToken": token(&app, "tok", "fan", 60, SECRET) }),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{place}");
    assert_eq!(place["userId"], "account:fan");

    // The operator sees the rule and the algorithm, never the key.
    let (status, event) = admin(&app, Method::GET, "/api/admin/events/tok", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (event["entry"].as_str(), event["entryKeyAlg"].as_str()),
        (Some("token"), Some("HS256"))
    );
    assert!(!event.to_string().contains(SECRET), "{event}");
    for bad in [
        json!({ "entry": "token", "alg": "HS256", "secret": "short" }),
        json!({ "entry": "token", "alg": "EdDSA", "publicKey": "not a key" }),
        json!({ "entry": "token", "alg": "none" }),
        json!({ "entry": "maybe" }),
        json!({ "entry": "open", "extra": 1 }),
    ] {
        let (status, answer) = set_entry(&app, "tok", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_entry", "{bad}: {answer}");
    }
    // Back to open: anyone again.
    let (status, event) = set_entry(&app, "tok", json!({ "entry": "open" })).await;
    assert_eq!(
        (status, event["entry"].as_str()),
        (StatusCode::OK, Some("open"))
    );
    assert_eq!(
        post_join(&app, json!({ "eventId": "tok", "userId": "u1" }))
            .await
            .0,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn the_switch_to_token_entry_holds_at_once_in_the_join_script() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    let (status, before) = post_join(&app, json!({ "eventId": "sw", "userId": "early" })).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    token_entry(&app, "sw").await;
    // No token: the server never reads the rule; the script refuses.
    let (status, answer) = post_join(&app, json!({ "eventId": "sw", "userId": "late" })).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_required"))
    );
    assert_eq!(xlen(&redis, "sw"), 1);
    // A place made before the switch is kept (admitted at once: the line was empty).
    let sid = before["sessionId"].as_str().unwrap();
    assert_eq!(app.status_of(sid).await, "ACTIVE");
}

#[tokio::test]
async fn one_account_holds_one_place_whatever_the_caller_ed25519() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let private = signing.to_pkcs8_pem(LineEnding::LF).unwrap();
    let public = signing
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let (status, answer) = set_entry(
        &app,
        "ed",
        json!({ "entry": "token", "alg": "EdDSA", "publicKey": public }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let ed_token = |sub: &str, life: i64| {
        let exp = app.now_ms() as i64 / 1_000 + life;
        encode(
            &Header::new(Algorithm::EdDSA),
            &json!({ "sub": sub, "aud": "ed", "exp": exp }),
            &EncodingKey::from_ed_pem(private.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    // The same account from two programs (two tokens): one place.
    let (status, first) = post_join(
        &app,
        json!({ "eventId": "ed", "enqueueToken": ed_token("fan@example.com", 60) }),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    assert!(
        first["userId"].as_str().unwrap().starts_with("account::"),
        "{first}"
    );
    let (status, second) = post_join(
        &app,
        json!({ "eventId": "ed", "enqueueToken": ed_token("fan@example.com", 90) }),
    )
    .await;
    assert_eq!(
        (status, second["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_joined"))
    );
    assert!(
        !second
            .to_string()
            .contains(first["sessionId"].as_str().unwrap()),
        "the id leaked: {second}"
    );
    // With the place's id: the same place.
    let (status, again) = post_join(
        &app,
        json!({ "eventId": "ed", "enqueueToken": ed_token("fan@example.com", 60), "sessionId": first["sessionId"] }),
    )
    .await;
    assert_eq!(
        (status, &again["sessionId"]),
        (StatusCode::OK, &first["sessionId"])
    );
    // An HS256 token signed with the public key as the secret (algorithm confusion): refused.
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &json!({ "sub": "x", "aud": "ed", "exp": app.now_ms() / 1_000 + 60 }),
        &EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();
    let (status, _) = post_join(&app, json!({ "eventId": "ed", "enqueueToken": forged })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(xlen(&redis, "ed"), 1);
}

#[tokio::test]
async fn through_the_page_two_browsers_of_one_account_hold_one_place() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    token_entry(&app, "page").await;
    let mut a = Browser::default();
    let mut b = Browser::default();

    // The shop sends its customer with a token: the token goes into a cookie, out of the URL.
    let t = token(&app, "page", "fan-1", 300, SECRET);
    let res = a
        .open(
            &app,
            &format!("/e/page?enqueue_token={t}&return=https%3A%2F%2Fshop.example%2F"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        "/e/page?return=https%3A%2F%2Fshop.example%2F"
    );
    assert!(a.has("vestibule_entry"));
    let res = a.join(&app, "page").await;
    let to = location(&res);
    assert!(to.starts_with("/queue/"), "{to}");
    assert!(
        a.has("vestibule_places") && !a.has("vestibule_entry"),
        "{:?}",
        a.cookies
    );
    let sid = to["/queue/".len()..36 + "/queue/".len()].to_string();
    assert_eq!(app.status(&sid).await.1["userId"], "account:fan-1");

    // Another browser of the same account: refused, and told why; no id.
    b.open(
        &app,
        &format!(
            "/e/page?enqueue_token={}",
            token(&app, "page", "fan-1", 300, SECRET)
        ),
    )
    .await;
    let res = b.join(&app, "page").await;
    let back = location(&res);
    assert!(back.contains("__err") && !back.contains(&sid), "{back}");
    let page = b
        .open(&app, &back.replacen(&format!("http://{}", app.addr), "", 1))
        .await;
    let html = page.text().await.unwrap();
    assert!(html.contains("another browser"), "{html}");

    // The first browser finds its place again, with or without a new token.
    let res = a.open(&app, "/e/page").await;
    let shown = res.text().await.unwrap();
    assert!(shown.contains(&sid), "the holder is not sent to its place");
    a.open(
        &app,
        &format!(
            "/e/page?enqueue_token={}",
            token(&app, "page", "fan-1", 300, SECRET)
        ),
    )
    .await;
    let res = a.join(&app, "page").await;
    assert_eq!(location(&res), format!("/queue/{sid}"));

    // A browser without a token: told to come from the shop.
    let mut c = Browser::default();
    let res = c.join(&app, "page").await;
    let back = location(&res);
    let page = c
        .open(&app, &back.replacen(&format!("http://{}", app.addr), "", 1))
        .await;
    assert!(page.text().await.unwrap().contains("open it from the shop"));
    assert_eq!(xlen(&redis, "page"), 1);
}

#[tokio::test]
async fn the_draw_holds_one_entry_per_account() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    let at = |offset_ms: i64| {
        let ns = i128::from(app.now_ms() as i64 + offset_ms) * 1_000_000;
        time::OffsetDateTime::from_unix_timestamp_nanos(ns)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let settings = |opens: String| json!({ "capacity": 0, "opensAt": opens });
    let (status, _) = admin(
        &app,
        Method::PUT,
        "/api/admin/events/drawn",
        Some(settings(at(3_600_000))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    token_entry(&app, "drawn").await;
    // Five accounts, each trying three times (new tokens, as a bot farm with one account
    // would): one entry each.
    let mut created = 0;
    for try_ in 0..3 {
        for account in 0..5 {
            let t = token(&app, "drawn", &format!("acct-{account}"), 60 + try_, SECRET);
            let (status, _) =
                post_join(&app, json!({ "eventId": "drawn", "enqueueToken": t })).await;
            match status {
                StatusCode::ACCEPTED => created += 1,
                StatusCode::CONFLICT => {}
                other => panic!("{other}"),
            }
        }
    }
    assert_eq!(created, 5);
    let (status, _) = admin(
        &app,
        Method::PUT,
        "/api/admin/events/drawn",
        Some(settings(at(-1_000))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    app.pass().await;
    let draw: Value = app.get_json("/api/waiting-room/events/drawn/draw").await;
    assert_eq!(draw["count"], 5, "{draw}");
}

/// A challenge header, read and solved as a client would.
fn solved(header: &str) -> (altcha::Challenge, altcha::Solution) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let challenge: altcha::Challenge =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    let solution = altcha::solve_challenge(altcha::SolveChallengeOptions::new(&challenge))
        .unwrap()
        .unwrap();
    (challenge, solution)
}

/// Solves a `Vestibule-Challenge` header as a client would: the `Vestibule-Solution`.
fn solve(challenge: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let (challenge, solution) = solved(challenge);
    URL_SAFE_NO_PAD.encode(
        serde_json::to_vec(&altcha::Payload {
            challenge,
            solution,
        })
        .unwrap(),
    )
}

/// A JSON join with an optional solution: the status, the body and the challenge header.
async fn join_paying(
    app: &TestApp,
    event: &str,
    user: &str,
    solution: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let mut req = app
        .http
        .post(app.url("/api/waiting-room/sessions"))
        .json(&json!({ "eventId": event, "userId": user }));
    if let Some(solution) = solution {
        req = req.header("vestibule-solution", solution);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let challenge = res
        .headers()
        .get("vestibule-challenge")
        .map(|v| v.to_str().unwrap().to_string());
    (status, res.json().await.unwrap(), challenge)
}

#[tokio::test]
async fn a_join_without_a_valid_solution_is_refused_with_a_fresh_challenge() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    for event in ["pow", "pow2"] {
        let (status, answer) = set_entry(
            &app,
            event,
            json!({ "entry": "open", "challenge": "always" }),
        )
        .await;
        assert_eq!(
            (status, answer["challenge"].as_str()),
            (StatusCode::OK, Some("always"))
        );
    }
    // No solution: 428 and a challenge.
    let (status, answer, challenge) = join_paying(&app, "pow", "u1", None).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{answer}");
    assert_eq!(answer["error"]["code"], "challenge_required");
    let challenge = challenge.expect("a challenge in the header");
    let solution = solve(&challenge);
    // Someone else's, or another event's: refused (and a fresh challenge).
    let (status, answer, fresh) = join_paying(&app, "pow", "u2", Some(&solution)).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another"),
        "{answer}"
    );
    assert!(fresh.is_some());
    let (status, _, _) = join_paying(&app, "pow2", "u1", Some(&solution)).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(xlen(&redis, "pow"), 0, "a refused join wrote to the line");
    // Its own: a place. Again (replayed, even after leaving): refused.
    let (status, place, _) = join_paying(&app, "pow", "u1", Some(&solution)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{place}");
    app.leave(place["sessionId"].as_str().unwrap()).await;
    let (status, answer, fresh) = join_paying(&app, "pow", "u1", Some(&solution)).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("used"),
        "{answer}"
    );
    assert!(
        fresh.is_some(),
        "a replay is answered with a fresh challenge"
    );
    // One solution sent by 8 joins at once (the join script spends it with the join):
    // one place.
    let (_, _, challenge) = join_paying(&app, "pow", "u5", None).await;
    let once = solve(&challenge.unwrap());
    let tries = (0..8).map(|_| join_paying(&app, "pow", "u5", Some(&once)));
    let statuses: Vec<StatusCode> = futures::future::join_all(tries)
        .await
        .into_iter()
        .map(|(status, _, _)| status)
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::ACCEPTED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::ACCEPTED || *s == StatusCode::PRECONDITION_REQUIRED),
        "{statuses:?}"
    );
    // Expired: refused.
    let (_, _, challenge) = join_paying(&app, "pow", "u3", None).await;
    let late = solve(&challenge.unwrap());
    app.advance(std::time::Duration::from_millis(
        vestibule::challenge::LIFETIME_MS,
    ));
    let (status, answer, _) = join_paying(&app, "pow", "u3", Some(&late)).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{answer}"
    );
    // Garbage: refused, never a 5xx.
    for bad in ["", "!!!", "e30", &"A".repeat(5_000)] {
        let (status, _, _) = join_paying(&app, "pow", "u4", Some(bad)).await;
        assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{bad:.20}");
    }
    assert_eq!(xlen(&redis, "pow"), 2);
}

#[tokio::test]
async fn in_auto_a_short_line_pays_nothing_and_the_level_follows_the_line() {
    let redis = TestRedis::start();
    // Capacity 0: everyone waits.
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN, "--capacity", "0"]).await;
    let (status, _) = set_entry(
        &app,
        "auto",
        json!({ "entry": "open", "challenge": "auto" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let level = |challenge: &str| {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        let c: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(challenge).unwrap()).unwrap();
        c["parameters"]["data"]["l"].as_u64().unwrap()
    };
    // The seed's scenario: a short line joins freely.
    for n in 0..999 {
        let (status, answer, _) = join_paying(&app, "auto", &format!("a{n}"), None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{n}: {answer}");
    }
    // A thousand waiting: level 1, once this process reads the line again (a minute
    // later, so that the rate of joins asks for nothing).
    app.advance(std::time::Duration::from_secs(60));
    let (status, _, _) = join_paying(&app, "auto", "a999", None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.advance(std::time::Duration::from_secs(60));
    let (status, _, challenge) = join_paying(&app, "auto", "b0", None).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(level(&challenge.unwrap()), 1);
    // `always` on an empty line: level 1; and `off` again: free.
    set_entry_ok(
        &app,
        "calm",
        json!({ "entry": "open", "challenge": "always" }),
    )
    .await;
    let (_, _, challenge) = join_paying(&app, "calm", "c0", None).await;
    assert_eq!(level(&challenge.unwrap()), 1);
    set_entry_ok(&app, "calm", json!({ "entry": "open", "challenge": "off" })).await;
    assert_eq!(
        join_paying(&app, "calm", "c0", None).await.0,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn the_readmes_python_solver_joins_through_a_challenge() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    set_entry_ok(
        &app,
        "py",
        json!({ "entry": "open", "challenge": "always" }),
    )
    .await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/end2end/bots/join.py");
    let base = format!("http://{}", app.addr);
    let out = tokio::process::Command::new("python3")
        .args([script, &base, "py", "snake"])
        .output()
        .await
        .expect("python3 runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.starts_with("202 "), "{said}");
    assert_eq!(xlen(&redis, "py"), 1);
}

#[tokio::test]
async fn without_javascript_the_time_lock_refuses_early_and_accepts_on_time_once() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    set_entry_ok(
        &app,
        "tl",
        json!({ "entry": "open", "challenge": "always" }),
    )
    .await;
    let mut a = Browser::default();
    // The page says how long, and comes back by itself with its lock.
    let page = a.open(&app, "/e/tl").await.text().await.unwrap();
    assert!(page.contains("data-status=\"LOCKED\""), "{page}");
    let wait = vestibule::challenge::TIME_LOCK_S[1];
    assert!(
        page.contains(&format!("content=\"{wait};url=/e/tl?lock=")),
        "{page}"
    );
    let start = page.find("?lock=").unwrap() + "?lock=".len();
    let lock: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '.')
        .collect();
    // Early: refused, and told how long.
    let res = a.join_with(&app, "tl", &format!("&lock={lock}")).await;
    let back = location(&res);
    let page = a
        .open(&app, &back.replacen(&format!("http://{}", app.addr), "", 1))
        .await;
    assert!(page.text().await.unwrap().contains("more second"));
    // Without a lock: refused.
    let res = a.join(&app, "tl").await;
    assert!(location(&res).contains("__err"));
    assert_eq!(xlen(&redis, "tl"), 0);
    // On time: the page shows the button with the lock, and the join goes through.
    app.advance(std::time::Duration::from_secs(wait));
    let page = a
        .open(&app, &format!("/e/tl?lock={lock}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("name=\"lock\" value=\"{lock}\"")),
        "{page}"
    );
    let res = a.join_with(&app, "tl", &format!("&lock={lock}")).await;
    assert!(location(&res).starts_with("/queue/"), "{}", location(&res));
    // Once: another browser with the same lock is refused.
    let mut b = Browser::default();
    let res = b.join_with(&app, "tl", &format!("&lock={lock}")).await;
    assert!(location(&res).contains("__err"), "{}", location(&res));
    assert_eq!(xlen(&redis, "tl"), 1);
}

#[tokio::test]
async fn while_joins_must_pay_nobody_skips_the_time_lock_on_standby() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    let navigate = |path: &str| {
        no_redirects()
            .get(app.url(path))
            .header("sec-fetch-mode", "navigate")
            .header("sec-fetch-dest", "document")
            .send()
    };
    // Free slots, nobody waiting: standby lets a browser straight through …
    set_entry_ok(&app, "sb", json!({ "entry": "open", "challenge": "off" })).await;
    assert_eq!(
        navigate("/e/sb").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    // … but not while a challenge is in force: the page and its time-lock.
    set_entry_ok(
        &app,
        "sb",
        json!({ "entry": "open", "challenge": "always" }),
    )
    .await;
    let res = navigate("/e/sb").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("data-status=\"LOCKED\""));
}

/// The challenge a line's page carries for its island (`JoinSolver`'s props): its header
/// and the bound on its counter.
fn page_challenge(page: &str) -> (String, u64) {
    let props = page.replace("&quot;", "\"");
    let value = |key: &str| {
        let start = props
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} in {page}"))
            + key.len()
            + 3;
        props[start..]
            .trim_start_matches('"')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect::<String>()
    };
    (value("header"), value("bound").parse().unwrap())
}

/// The page's join form fields for a challenge, solved as the island does.
fn page_answer(header: &str) -> String {
    let (_, found) = solved(header);
    format!(
        "&challenge={header}&counter={}&key={}",
        found.counter, found.derived_key
    )
}

#[tokio::test]
async fn with_javascript_the_page_solves_its_challenge_and_joins_with_it_once() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    for event in ["pj", "pk"] {
        let (status, figures) = set_entry(
            &app,
            event,
            json!({ "entry": "open", "challenge": "always", "challengeLevel": 3 }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{figures}");
        assert_eq!(figures["challengeLevel"], 3, "{figures}");
    }
    // The page carries a challenge at the operator's level, made for this browser.
    let mut a = Browser::default();
    let page = a.open(&app, "/e/pj").await.text().await.unwrap();
    assert!(page.contains("data-status=\"LOCKED\""), "{page}");
    assert!(
        a.has("vestibule_visitor"),
        "the challenge is this visitor's"
    );
    let (header, bound) = page_challenge(&page);
    assert_eq!(bound, u64::from(vestibule::challenge::COUNTER_BOUND[3]));
    let made: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&header).unwrap()).unwrap();
    assert_eq!(made["parameters"]["data"]["l"], 3, "{made}");
    let answer = page_answer(&header);
    // Another browser cannot use it, nor can it open another event.
    let mut b = Browser::default();
    b.open(&app, "/e/pj").await;
    let res = b.join_with(&app, "pj", &answer).await;
    assert!(location(&res).contains("__err"), "{}", location(&res));
    let res = a.join_with(&app, "pk", &answer).await;
    assert!(location(&res).contains("__err"), "{}", location(&res));
    // A wrong key, garbage: refused. (The room checks the key, which only the search
    // finds, against its signature: the counter is the solver's business.)
    let wrong_key = format!("{}0", &answer[..answer.len() - 1]);
    let wrong_key = if wrong_key == answer {
        format!("{}1", &answer[..answer.len() - 1])
    } else {
        wrong_key
    };
    for bad in [
        wrong_key,
        "&challenge=bm90IGpzb24&counter=1&key=00".to_string(),
        format!("&challenge={header}&counter=x&key=00"),
    ] {
        let res = a.join_with(&app, "pj", &bad).await;
        assert!(
            location(&res).contains("__err"),
            "{bad}: {}",
            location(&res)
        );
    }
    assert_eq!(xlen(&redis, "pj") + xlen(&redis, "pk"), 0);
    // Its browser joins with it at once (no time-lock to wait for) …
    let res = a.join_with(&app, "pj", &answer).await;
    assert!(location(&res).starts_with("/queue/"), "{}", location(&res));
    assert_eq!(xlen(&redis, "pj"), 1);
    // … once: the same answer again is refused.
    let mut c = Browser::default();
    let page = c.open(&app, "/e/pj").await.text().await.unwrap();
    let answer = page_answer(&page_challenge(&page).0);
    let res = c.join_with(&app, "pj", &answer).await;
    assert!(location(&res).starts_with("/queue/"), "{}", location(&res));
    let res = c.join_with(&app, "pj", &answer).await;
    assert!(location(&res).contains("__err"), "{}", location(&res));
    assert_eq!(xlen(&redis, "pj"), 2);
    // A level goes with `always` only, and within 1-4.
    for bad in [
        json!({ "entry": "open", "challenge": "auto", "challengeLevel": 2 }),
        json!({ "entry": "open", "challenge": "always", "challengeLevel": 5 }),
        json!({ "entry": "open", "challenge": "always", "challengeLevel": "2" }),
    ] {
        let (status, answer) = set_entry(&app, "pj", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_entry");
    }
}

/// A shop's JWKS, served on this machine: the keys it publishes can change, and each
/// fetch is counted.
struct Jwks {
    url: String,
    keys: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Jwks {
    async fn serve() -> Self {
        use axum::routing::get;
        let keys = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
        let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (k, f) = (keys.clone(), fetches.clone());
        let router = axum::Router::new().route(
            "/jwks.json",
            get(move || {
                let (k, f) = (k.clone(), f.clone());
                async move {
                    f.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    axum::Json(json!({ "keys": k.lock().unwrap().clone() }))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { url, keys, fetches }
    }

    fn fetched(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// An Ed25519 key: its JWK (with `kid`) and what signs with it.
fn ed25519(seed: u8, kid: &str) -> (Value, EncodingKey) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
    let private = signing.to_pkcs8_pem(LineEnding::LF).unwrap();
    (
        json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig" }),
        EncodingKey::from_ed_pem(private.as_bytes()).unwrap(),
    )
}

#[tokio::test]
async fn keys_by_jwks_url_verify_tokens_and_follow_the_shops_rotation() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    let shop = Jwks::serve().await;
    let (jwk1, key1) = ed25519(1, "k1");
    let (jwk2, key2) = ed25519(2, "k2");
    // An empty set, a bad URL, a URL that does not answer: refused, with the reason.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/jwks.json", l.local_addr().unwrap())
    };
    for (url, says) in [
        (shop.url.clone(), "no EdDSA"),
        ("http://shop.example/jwks.json".to_string(), "https"),
        (closed, "did not answer"),
    ] {
        let (status, answer) =
            set_entry(&app, "jw", json!({ "entry": "token", "jwksUrl": url })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["code"], "invalid_entry");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
    }
    shop.keys.lock().unwrap().push(jwk1);
    let (status, answer) =
        set_entry(&app, "jw", json!({ "entry": "token", "jwksUrl": shop.url })).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["entryKeyAlg"], "JWKS", "{answer}");
    let token = |key: &EncodingKey, kid: Option<&str>, sub: &str| {
        let mut head = Header::new(Algorithm::EdDSA);
        head.kid = kid.map(str::to_owned);
        let exp = app.now_ms() as i64 / 1_000 + 60;
        encode(&head, &json!({ "sub": sub, "aud": "jw", "exp": exp }), key).unwrap()
    };
    // The shop's key k1 signs: in.
    let (status, joined) = post_join(
        &app,
        json!({ "eventId": "jw", "enqueueToken": token(&key1, Some("k1"), "fan-1") }),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{joined}");
    assert_eq!(joined["userId"], "account:fan-1");
    // A key the set does not have (k2, or k1's id on k2's signature): refused.
    let fetched = shop.fetched();
    for bad in [
        token(&key2, Some("k2"), "fan-2"),
        token(&key2, Some("k1"), "fan-2"),
    ] {
        let (status, answer) =
            post_join(&app, json!({ "eventId": "jw", "enqueueToken": bad })).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    }
    // The shop rotates to k2. Made-up key ids fetch the set at most once every 30 s.
    shop.keys.lock().unwrap().push(jwk2);
    for _ in 0..5 {
        let (status, _) = post_join(
            &app,
            json!({ "eventId": "jw", "enqueueToken": token(&key2, Some("k2"), "fan-2") }),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert!(
        shop.fetched() <= fetched + 1,
        "{} fetches",
        shop.fetched() - fetched
    );
    app.advance(std::time::Duration::from_millis(
        vestibule::entry::jwks::RETRY_MS + 1_000,
    ));
    let (status, joined) = post_join(
        &app,
        json!({ "eventId": "jw", "enqueueToken": token(&key2, Some("k2"), "fan-2") }),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{joined}");
    // An HS256 token signed with a public key's bytes: refused (no symmetric key from a URL).
    let (jwk3, _) = ed25519(3, "k3");
    let forged = {
        let mut head = Header::new(Algorithm::HS256);
        head.kid = Some("k3".into());
        let exp = app.now_ms() as i64 / 1_000 + 60;
        encode(
            &head,
            &json!({ "sub": "x", "aud": "jw", "exp": exp }),
            &EncodingKey::from_secret(jwk3["x"].as_str().unwrap().as_bytes()),
        )
        .unwrap()
    };
    let (status, _) = post_join(&app, json!({ "eventId": "jw", "enqueueToken": forged })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(xlen(&redis, "jw"), 2);
}
