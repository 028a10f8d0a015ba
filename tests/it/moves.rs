//! Taking a place to another device (README, "Take your place with you"): by its one-time
//! link exactly one browser holds the place after a move, with its turn; the old id is
//! MOVED and opens nothing; the link fails on reuse, after its time, for another event,
//! in the browser that holds the place and in a browser that has a place of its own there.

use std::time::Duration;

use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use vestibule::server_fns::TakePlace;

use crate::common::{
    active_set, location, spawn_app, spawn_stepped, until, Browser, TestApp, TestRedis,
};

/// The session id in a `/queue/{id}` address.
fn place_in(to: &str) -> String {
    let id = to
        .strip_prefix("/queue/")
        .unwrap_or_else(|| panic!("not a place's page: {to}"));
    id[..36].to_string()
}

/// A browser joins `event` through its page; its place's id.
async fn page_join(app: &TestApp, browser: &mut Browser, event: &str) -> String {
    let res = browser.join(app, event).await;
    place_in(&location(&res))
}

/// The place's page for another device: the status, and the path of its link.
async fn offer(app: &TestApp, browser: &mut Browser, sid: &str) -> (StatusCode, String) {
    let res = browser.open(app, &format!("/queue/{sid}/move")).await;
    let status = res.status();
    let html = res.text().await.unwrap();
    let origin = format!("http://{}", app.addr);
    let link = html
        .split(r#"data-testid="move-link" href=""#)
        .nth(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string());
    match link {
        Some(url) => {
            assert!(
                html.contains("<svg") && html.contains(r#"role="img""#),
                "{html}"
            );
            assert!(url.starts_with(&origin), "{url}");
            (status, url[origin.len()..].to_string())
        }
        None => (status, html),
    }
}

/// Opens a move link in `browser` and presses its button: where the browser is sent.
async fn take(app: &TestApp, browser: &mut Browser, link: &str) -> String {
    let page = browser.open(app, link).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"data-testid="take""#), "{html}");
    let mut parts = link.trim_start_matches("/move/").splitn(2, '/');
    let (event, code) = (parts.next().unwrap(), parts.next().unwrap());
    let res = browser
        .post_form(
            app,
            <TakePlace as ServerFn>::PATH,
            &format!("event_id={event}&code={code}"),
            link,
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    location(&res)
}

/// The text of the page a refused move comes back to.
async fn refusal(app: &TestApp, browser: &mut Browser, back: &str) -> String {
    assert!(back.contains("__err"), "not refused: {back}");
    let origin = format!("http://{}", app.addr);
    let page = browser.open(app, back.trim_start_matches(&origin)).await;
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"data-testid="take-error""#), "{html}");
    html
}

#[tokio::test]
async fn a_place_moves_once_by_its_link_with_its_turn_and_the_old_id_is_moved() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--capacity", "1"]).await;
    let holder = app.join_id("mv", "holder").await;
    app.pass().await;
    let (mut laptop, mut phone, mut third) =
        (Browser::default(), Browser::default(), Browser::default());
    let old = page_join(&app, &mut laptop, "mv").await;
    let later = app.join_id("mv", "later").await;
    assert_eq!(app.status(&old).await.1["position"], 1);

    // The waiting page links to the move page, which shows the link and its QR code.
    let page = laptop.open(&app, &format!("/queue/{old}")).await;
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"href="/queue/{old}/move""#)),
        "{html}"
    );
    let (status, link) = offer(&app, &mut laptop, &old).await;
    assert_eq!(status, StatusCode::OK);
    assert!(link.starts_with("/move/mv/2-"), "{link}");
    // Another browser cannot make one for a place it does not hold.
    let (status, _) = offer(&app, &mut third, &old).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The phone opens it: the place is its, under a new id, with the same turn.
    let to = take(&app, &mut phone, &link).await;
    let new = place_in(&to);
    assert_ne!(new, old);
    let (_, moved) = app.status(&new).await;
    assert_eq!(moved["status"], "WAITING", "{moved}");
    assert_eq!(moved["position"], 1, "{moved}");
    assert_eq!(moved["joinNumber"], 2, "{moved}");
    assert_eq!(app.status(&later).await.1["position"], 2);

    // The old id: MOVED, on the JSON API and on the laptop's page; it leaves nothing.
    let (code, gone) = app.status(&old).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(gone["status"], "MOVED", "{gone}");
    assert!(gone.get("position").is_none_or(|p| p.is_null()), "{gone}");
    let html = laptop
        .open(&app, &format!("/queue/{old}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"data-status="MOVED""#), "{html}");
    assert!(html.contains("moved to another device"), "{html}");
    assert_eq!(app.leave(&old).await.0, StatusCode::NOT_FOUND);
    // Only the phone's page shows the new place.
    let html = phone.open(&app, &to).await.text().await.unwrap();
    assert!(html.contains(r#"data-status="WAITING""#), "{html}");
    let html = laptop.open(&app, &to).await.text().await.unwrap();
    assert!(html.contains("belongs to another browser"), "{html}");
    // The phone holds the place in this line: its event page sends it there.
    let res = phone.open(&app, "/e/mv").await;
    assert!(res.text().await.unwrap().contains(&new));

    // Used once: the same link in a third browser is refused, and says why.
    let back = take(&app, &mut third, &link).await;
    let html = refusal(&app, &mut third, &back).await;
    assert!(html.contains("expired or was used already"), "{html}");

    // The turn comes: the granter admits the place (its stream entry carries the old id)
    // under the new id only; capacity holds.
    app.leave(&holder).await;
    app.pass().await;
    assert_eq!(active_set(&redis, "mv"), vec![new.clone()]);
    let (_, admitted) = app.status(&new).await;
    assert_eq!(admitted["status"], "ACTIVE", "{admitted}");
    assert!(admitted["accessToken"].is_string());
    let (_, old_now) = app.status(&old).await;
    assert_eq!(old_now["status"], "MOVED", "{old_now}");
    assert!(
        old_now.get("accessToken").is_none_or(|t| t.is_null()),
        "{old_now}"
    );
    assert_eq!(app.status_of(&later).await, "WAITING");
}

#[tokio::test]
async fn a_move_link_fails_after_its_time_for_another_event_and_where_a_place_is_held() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--capacity", "1"]).await;
    let holder = app.join_id("mv2", "holder").await;
    app.pass().await;
    let (mut laptop, mut phone) = (Browser::default(), Browser::default());
    let sid = page_join(&app, &mut laptop, "mv2").await;

    // After its five minutes.
    let (_, link) = offer(&app, &mut laptop, &sid).await;
    app.advance(Duration::from_secs(301));
    // (The place's page polls on: it is not skipped for it.)
    assert_eq!(app.status_of(&sid).await, "WAITING");
    app.flush_heartbeats().await;
    let back = take(&app, &mut phone, &link).await;
    assert!(refusal(&app, &mut phone, &back).await.contains("expired"));

    // A new link voids the one before.
    let (_, first) = offer(&app, &mut laptop, &sid).await;
    let (_, second) = offer(&app, &mut laptop, &sid).await;
    let back = take(&app, &mut phone, &first).await;
    assert!(refusal(&app, &mut phone, &back).await.contains("expired"));

    // Another event's door: the same code under another event whose place 2 waits (with
    // an offer of its own) moves nothing there.
    app.join_id("other", "someone").await;
    let mut other = Browser::default();
    let theirs = page_join(&app, &mut other, "other").await;
    let (_, their_link) = offer(&app, &mut other, &theirs).await;
    assert!(their_link.starts_with("/move/other/2-"), "{their_link}");
    let elsewhere = second.replacen("/move/mv2/", "/move/other/", 1);
    let back = take(&app, &mut phone, &elsewhere).await;
    assert!(refusal(&app, &mut phone, &back).await.contains("expired"));
    assert_eq!(app.status_of(&theirs).await, "WAITING");
    // A made-up code, and codes that are no code.
    for code in [
        "2-00000000000000000000000000000000",
        "2-xyz",
        "99999999999999999999999-00000000000000000000000000000000",
    ] {
        let back = take(&app, &mut phone, &format!("/move/mv2/{code}")).await;
        assert!(refusal(&app, &mut phone, &back).await.contains("expired"));
    }
    // Not an event's name: the page says so and shows no form.
    let page = phone
        .open(&app, "/move/%3Cb%3Ehi/2-00000000000000000000000000000000")
        .await;
    let html = page.text().await.unwrap();
    assert!(html.contains("not the name of an event"), "{html}");
    assert!(!html.contains("&lt;b&gt;hi") && !html.contains(r#"data-testid="take""#));

    // Opened in the browser that holds the place: nothing moves.
    let back = take(&app, &mut laptop, &second).await;
    assert!(refusal(&app, &mut laptop, &back)
        .await
        .contains("already in this browser"));

    // A browser with a place of its own in the line keeps it, and does not get this one.
    let own = page_join(&app, &mut phone, "mv2").await;
    let back = take(&app, &mut phone, &second).await;
    assert!(refusal(&app, &mut phone, &back)
        .await
        .contains("another place in this line"));
    assert_eq!(app.status_of(&sid).await, "WAITING");
    assert_eq!(app.status_of(&own).await, "WAITING");

    // The link was not spent by those refusals: a browser without a place takes it.
    let mut third = Browser::default();
    let to = take(&app, &mut third, &second).await;
    let moved = place_in(&to);
    assert_eq!(app.status_of(&sid).await, "MOVED");

    // A place that is no longer waiting cannot move: admitted, it has no move page.
    app.leave(&holder).await;
    app.pass().await;
    assert_eq!(app.status_of(&moved).await, "ACTIVE");
    let (status, html) = offer(&app, &mut third, &moved).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("can no longer move"), "{html}");
}

#[tokio::test]
async fn a_place_moves_at_most_five_times() {
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--capacity", "0"]).await;
    let mut holder = Browser::default();
    let mut sid = page_join(&app, &mut holder, "mv3").await;
    for _ in 0..vestibule::store::MAX_MOVES {
        let (_, link) = offer(&app, &mut holder, &sid).await;
        let mut next = Browser::default();
        sid = place_in(&take(&app, &mut next, &link).await);
        holder = next;
    }
    let (_, link) = offer(&app, &mut holder, &sid).await;
    let mut last = Browser::default();
    let back = take(&app, &mut last, &link).await;
    assert!(refusal(&app, &mut last, &back)
        .await
        .contains("can no longer move"));
    assert_eq!(app.status_of(&sid).await, "WAITING");
    assert_eq!(app.status(&sid).await.1["position"], 1);
}

#[tokio::test]
async fn another_instance_that_answers_polls_from_memory_says_moved() {
    // Two instances on one Redis: the laptop polls through the second (which then answers
    // its polls from memory), the move happens through the first.
    let redis = TestRedis::start();
    let first = spawn_app(&redis, &["--capacity", "0"]).await;
    let second = spawn_app(&redis, &["--capacity", "0"]).await;
    let mut laptop = Browser::default();
    first.join_id("mv4", "ahead").await;
    let old = page_join(&first, &mut laptop, "mv4").await;
    for _ in 0..3 {
        assert_eq!(second.status_of(&old).await, "WAITING");
    }
    let (_, link) = offer(&first, &mut laptop, &old).await;
    let mut phone = Browser::default();
    let new = place_in(&take(&first, &mut phone, &link).await);
    // Within the second's snapshot refresh, its answer for the old id is MOVED, and for
    // the new one the place as it stands.
    until(|| async { second.status_of(&old).await == "MOVED" }).await;
    let (_, moved) = second.status(&new).await;
    assert_eq!(moved["position"], 2, "{moved}");
}

#[tokio::test]
async fn a_json_place_moves_by_its_id_and_the_old_id_proves_nothing_any_more() {
    // A place made through the JSON API is its session id's: a browser with the id gets
    // the move page. The user stays the API's; a repeat join proving the old id is refused,
    // one proving the new id finds the place.
    let redis = TestRedis::start();
    let app = spawn_stepped(&redis, &["--capacity", "0"]).await;
    let old = app.join_id("mv5", "api-user").await;
    let mut holder = Browser::default();
    let (_, link) = offer(&app, &mut holder, &old).await;
    let mut phone = Browser::default();
    let new = place_in(&take(&app, &mut phone, &link).await);
    assert!(phone.has("vestibule_places"), "{:?}", phone.cookies);
    let (_, moved) = app.status(&new).await;
    assert_eq!(moved["userId"], "api-user", "{moved}");
    let rejoin = |sid: String| {
        app.http
            .post(app.url("/api/waiting-room/sessions"))
            .json(&serde_json::json!({ "eventId": "mv5", "userId": "api-user", "sessionId": sid }))
            .send()
    };
    let refused = rejoin(old.clone()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let found: serde_json::Value = rejoin(new.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(found["sessionId"], new.as_str(), "{found}");
    assert_eq!(app.status_of(&old).await, "MOVED");
}

#[tokio::test]
async fn a_moved_place_is_forgotten_with_its_event() {
    // The move's keys go with the place: `movelog` as the granter passes it, `moved` with
    // the session after the retention; an event nobody configured then loses every key.
    let redis = TestRedis::start();
    let app = spawn_stepped(
        &redis,
        &[
            "--capacity",
            "1",
            "--retention-seconds",
            "60",
            "--session-seconds",
            "30",
        ],
    )
    .await;
    let first = app.join_id("mv6", "first").await;
    let mut laptop = Browser::default();
    let old = page_join(&app, &mut laptop, "mv6").await;
    let (_, link) = offer(&app, &mut laptop, &old).await;
    let new = place_in(&take(&app, &mut Browser::default(), &link).await);
    let k = crate::common::keys("mv6");
    let mut conn = redis.conn();
    let card = |conn: &mut redis::Connection| -> u64 {
        redis::cmd("ZCARD").arg(&k.movelog).query(conn).unwrap()
    };
    assert_eq!(card(&mut conn), 1);
    app.pass().await; // admits the first; the moved place waits (capacity 1)
    assert_eq!(card(&mut conn), 1, "not passed yet");
    app.leave(&first).await;
    app.pass().await;
    assert_eq!(active_set(&redis, "mv6"), vec![new.clone()]);
    assert_eq!(card(&mut conn), 0, "passed");
    app.leave(&new).await;
    assert_eq!(app.status_of(&old).await, "MOVED");
    // After the retention, every key of the event is gone, the move's with them.
    app.advance(Duration::from_secs(61));
    app.pass().await;
    let left: Vec<String> = redis::cmd("KEYS").arg("*{mv6}*").query(&mut conn).unwrap();
    assert_eq!(left, Vec::<String>::new());
}
