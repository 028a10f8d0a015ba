//! A fair start: the pre-queue before an event's opening, the draw at the opening, its
//! publication, and the `random` queueing, against a real Redis and the real app.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha1::Digest as _;

use crate::common::{
    active_set, admin, join_number, keys, settings, spawn_app, spawn_stepped, until, Backend,
    TestApp, TestRedis, ADMIN_TOKEN,
};

const SOON: Duration = Duration::from_secs(10);

/// The app's time (its manual clock's, when stepped) `offset_ms` from now, as RFC 3339.
fn rfc3339_in(app: &TestApp, offset_ms: i64) -> String {
    let now = app.now_ms() as i64;
    let at =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now + offset_ms) * 1_000_000)
            .unwrap();
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The published algorithm, written again from its description in the README (not by
/// calling the server's code): the join numbers of a draw, in the order drawn.
fn recompute(seed: &str, first: u64, count: u64) -> Vec<u64> {
    // The keystream: SHA-256 of "<seed>:<block>", eight big-endian 32-bit words a block.
    let mut words = (0u64..).flat_map(|block| {
        let d = sha2::Sha256::digest(format!("{seed}:{block}"));
        (0..8)
            .map(|i| {
                u64::from(u32::from_be_bytes([
                    d[4 * i],
                    d[4 * i + 1],
                    d[4 * i + 2],
                    d[4 * i + 3],
                ]))
            })
            .collect::<Vec<_>>()
    });
    let mut below = |k: u64| loop {
        let w = words.next().unwrap();
        if w < (1 << 32) - (1 << 32) % k {
            return w % k;
        }
    };
    let mut a: Vec<u64> = (0..count).collect();
    for i in (1..count as usize).rev() {
        let j = below(i as u64 + 1) as usize;
        a.swap(i, j);
    }
    a.into_iter().map(|x| first + x).collect()
}

async fn draw_of(app: &TestApp, event: &str) -> (StatusCode, Value) {
    let res = app
        .http
        .get(app.url(&format!("/api/waiting-room/events/{event}/draw")))
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

/// Joins `n` users (`{prefix}{i}`) from 16 tasks at once; their session ids by user.
async fn join_many(
    app: &Arc<TestApp>,
    event: &str,
    prefix: &str,
    n: usize,
) -> HashMap<String, String> {
    let mut tasks = Vec::new();
    for t in 0..16 {
        let (app, event, prefix) = (app.clone(), event.to_string(), prefix.to_string());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in (t..n).step_by(16) {
                let user = format!("{prefix}{i}");
                ids.push((user.clone(), app.join_id(&event, &user).await));
            }
            ids
        }));
    }
    let mut all = HashMap::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_in_the_pre_queue_is_placed_before_everyone_who_joins_after_the_opening() {
    let redis = TestRedis::start();
    let app = Arc::new(spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await);
    settings(
        &app,
        "onsale",
        json!({ "capacity": 0, "opensAt": rfc3339_in(&app, 3_600_000) }),
    )
    .await;

    let early = join_many(&app, "onsale", "early", 2_000).await;
    let (_, one) = app.status(early.values().next().unwrap()).await;
    assert_eq!(one["status"], "WAITING", "{one}");
    assert_eq!(one["preQueue"], true, "{one}");
    assert!(
        one.get("position").is_none(),
        "no place before the draw: {one}"
    );
    assert!(one["opensInSeconds"].as_u64().unwrap() > 3_500, "{one}");
    assert!(one["opensAt"].as_str().unwrap().ends_with('Z'), "{one}");
    // The receipt: the join number, and no draw yet.
    let first = early.values().next().unwrap();
    assert_eq!(
        one["joinNumber"].as_u64(),
        Some(join_number(first)),
        "{one}"
    );
    assert!(one.get("draw").is_none(), "{one}");
    assert_eq!(
        draw_of(&app, "onsale").await.0,
        StatusCode::NOT_FOUND,
        "no seed before the opening"
    );

    // The opening.
    settings(
        &app,
        "onsale",
        json!({ "capacity": 0, "opensAt": rfc3339_in(&app, -1_000) }),
    )
    .await;
    app.pass().await;
    assert_eq!(draw_of(&app, "onsale").await.0, StatusCode::OK);
    let late = join_many(&app, "onsale", "late", 200).await;

    let mut early_positions = HashMap::new();
    let mut ranks = HashMap::new();
    for sid in early.values() {
        let (_, view) = app.status(sid).await;
        assert!(view.get("preQueue").is_none(), "opened: {view}");
        early_positions.insert(sid.clone(), view["position"].as_u64().unwrap());
        // The receipt: its join number, the draw's round and its rank in the draw.
        assert_eq!(
            view["joinNumber"].as_u64(),
            Some(join_number(sid)),
            "{view}"
        );
        assert_eq!(view["draw"]["round"], 1, "{view}");
        ranks.insert(join_number(sid), view["draw"]["rank"].as_u64().unwrap());
    }
    let mut late_positions = Vec::new();
    for sid in late.values() {
        let (_, view) = app.status(sid).await;
        late_positions.push((join_number(sid), view["position"].as_u64().unwrap()));
        assert_eq!(
            view["joinNumber"].as_u64(),
            Some(join_number(sid)),
            "{view}"
        );
        assert!(view.get("draw").is_none(), "joined after the draw: {view}");
    }
    let placed: HashSet<u64> = early_positions.values().copied().collect();
    assert_eq!(
        placed,
        (1..=2_000).collect(),
        "the pre-queue holds places 1..2000"
    );
    late_positions.sort();
    let late_order: Vec<u64> = late_positions.iter().map(|&(_, p)| p).collect();
    assert_eq!(
        late_order,
        (2_001..=2_200).collect::<Vec<_>>(),
        "later joins follow, in FIFO order"
    );

    // The published seed gives the exact order, and its digest.
    let (_, published) = draw_of(&app, "onsale").await;
    assert_eq!(published["algorithm"], "vestibule-fisher-yates-sha256-v2");
    assert_eq!(
        (published["firstJoin"].as_u64(), published["count"].as_u64()),
        (Some(1), Some(2_000))
    );
    let order = recompute(published["seed"].as_str().unwrap(), 1, 2_000);
    let mut by_position: Vec<(u64, u64)> = early_positions
        .iter()
        .map(|(sid, &p)| (p, join_number(sid)))
        .collect();
    by_position.sort();
    assert_eq!(
        by_position.iter().map(|&(_, q)| q).collect::<Vec<_>>(),
        order
    );
    // Each receipt's rank is its place in the published order.
    for (r, q) in order.iter().enumerate() {
        assert_eq!(ranks[q], r as u64 + 1, "join {q}");
    }
    let digest: String =
        sha2::Sha256::digest(order.iter().map(|q| format!("{q}\n")).collect::<String>())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
    assert_eq!(published["orderDigest"], format!("sha256:{digest}"));

    // Admission follows the draw.
    settings(
        &app,
        "onsale",
        json!({ "capacity": 10, "opensAt": rfc3339_in(&app, -1_000) }),
    )
    .await;
    let first_ten: HashSet<String> = early_positions
        .iter()
        .filter(|(_, &p)| p <= 10)
        .map(|(sid, _)| sid.clone())
        .collect();
    app.pass().await;
    assert_eq!(
        active_set(&redis, "onsale")
            .into_iter()
            .collect::<HashSet<_>>(),
        first_ten
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_after_repeated_draws_pass_a_chi_square_test_of_uniformity() {
    // 240 draws of six people who joined in the same order. Pearson's chi-square over the
    // 6 × 6 table of (arrival, place) counts, 25 degrees of freedom: the test fails if
    // p < 0.0001 (chi-square above 60.1). FIFO would put all 240 on the diagonal.
    const DRAWS: usize = 240;
    const PEOPLE: usize = 6;
    let redis = TestRedis::start();
    let app = Arc::new(spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await);
    let mut counts = [[0u32; PEOPLE]; PEOPLE];
    for batch in 0..DRAWS / 24 {
        let mut tasks = Vec::new();
        for d in 0..24 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let event = format!("chi-{batch}-{d}");
                settings(
                    &app,
                    &event,
                    json!({ "capacity": 0, "opensAt": rfc3339_in(&app, 3_600_000) }),
                )
                .await;
                let mut sids = Vec::new();
                for person in 0..PEOPLE {
                    sids.push(app.join_id(&event, &format!("p{person}")).await);
                }
                settings(
                    &app,
                    &event,
                    json!({ "capacity": 0, "opensAt": rfc3339_in(&app, -1) }),
                )
                .await;
                (event, sids)
            }));
        }
        let mut events = Vec::new();
        for task in tasks {
            events.push(task.await.unwrap());
        }
        // One pass over every event: each opening has passed, each draw is made.
        app.pass().await;
        for (event, sids) in events {
            assert_eq!(draw_of(&app, &event).await.0, StatusCode::OK, "{event}");
            for (person, sid) in sids.iter().enumerate() {
                let place = app.status(sid).await.1["position"].as_u64().unwrap() as usize;
                counts[person][place - 1] += 1;
            }
        }
    }
    let expected = (DRAWS / PEOPLE) as f64;
    let chi_square: f64 = counts
        .iter()
        .flatten()
        .map(|&o| (f64::from(o) - expected).powi(2) / expected)
        .sum();
    eprintln!("draw uniformity: chi-square {chi_square:.1} over {counts:?}");
    assert!(
        chi_square < 60.1,
        "chi-square {chi_square:.1} (25 dof): {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_racing_at_the_opening_make_exactly_one_draw() {
    let redis = TestRedis::start();
    let args = ["--admin-token", ADMIN_TOKEN, "--granter-tick-ms", "5"];
    let a = Arc::new(spawn_app(&redis, &args).await);
    let b = Arc::new(spawn_app(&redis, &args).await);
    settings(
        &a,
        "race",
        json!({ "capacity": 0, "opensAt": rfc3339_in(&a, 1_500) }),
    )
    .await;
    for i in 0..50 {
        let app = if i % 2 == 0 { &a } else { &b };
        app.join_id("race", &format!("u{i}")).await;
    }
    // The opening passes, and one of the two draws and writes the order.
    until(|| async { draw_of(&a, "race").await.0 == StatusCode::OK }).await;
    let (_, from_a) = draw_of(&a, "race").await;
    let (_, from_b) = draw_of(&b, "race").await;
    assert_eq!(from_a, from_b, "both instances publish the same draw");
    let fields: Vec<String> = redis::cmd("HKEYS")
        .arg(keys("race").draws)
        .query(&mut *redis.connection())
        .unwrap();
    let rounds: Vec<&String> = fields
        .iter()
        .filter(|f| !f.starts_with("digest:"))
        .collect();
    assert_eq!(rounds, ["1"], "one draw, made once");
    // Its digest was recorded once, by the instance that wrote the draw's order.
    assert_eq!(
        fields.iter().filter(|f| f.starts_with("digest:")).count(),
        1
    );
    // Every request reads it: none makes an instance compute it (a million people's order
    // costs a good part of a second of a core).
    let _: () = redis::cmd("HSET")
        .arg(keys("race").draws)
        .arg("digest:1")
        .arg("sha256:as-stored")
        .query(&mut *redis.connection())
        .unwrap();
    for app in [&a, &b] {
        assert_eq!(
            draw_of(app, "race").await.1["orderDigest"],
            "sha256:as-stored"
        );
    }
    let second = a
        .http
        .get(a.url("/api/waiting-room/events/race/draw?round=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn random_queueing_admits_in_the_order_of_a_draw_of_everyone_waiting() {
    let redis = TestRedis::start();
    let app = Arc::new(spawn_stepped(&redis, &["--admin-token", ADMIN_TOKEN]).await);
    settings(
        &app,
        "passive",
        json!({ "capacity": 0, "queueing": "random" }),
    )
    .await;
    let people = join_many(&app, "passive", "p", 30).await;
    settings(
        &app,
        "passive",
        json!({ "capacity": 1, "queueing": "random" }),
    )
    .await;
    app.pass().await;
    assert_eq!(draw_of(&app, "passive").await.0, StatusCode::OK);
    let (_, published) = draw_of(&app, "passive").await;
    assert_eq!(published["count"], 30, "{published}");
    let order = recompute(published["seed"].as_str().unwrap(), 1, 30);
    let by_number: HashMap<u64, String> = people
        .values()
        .map(|sid| (join_number(sid), sid.clone()))
        .collect();
    // Admitted one at a time, each freeing the slot for the next: the draw's order.
    for q in &order[..5] {
        let sid = &by_number[q];
        app.pass().await;
        assert_eq!(
            app.status_of(sid).await,
            "ACTIVE",
            "join {q} is next in the draw {order:?}"
        );
        assert_eq!(active_set(&redis, "passive"), vec![sid.clone()]);
        app.leave(sid).await;
    }
}

#[tokio::test]
async fn opening_settings_are_checked() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--admin-token", ADMIN_TOKEN]).await;
    for body in [
        json!({ "opensAt": "tomorrow at ten" }),
        json!({ "opensAt": 1_700_000_000 }),
        json!({ "queueing": "lottery" }),
    ] {
        let (status, answer) =
            admin(&app, Method::PUT, "/api/admin/events/x", Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert_eq!(answer["error"]["code"], "invalid_settings", "{answer}");
    }
    let at = "2030-12-01T10:00:00Z";
    let (status, answer) = admin(
        &app,
        Method::PUT,
        "/api/admin/events/x",
        Some(json!({ "opensAt": at })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["opensAt"], at);
    assert_eq!(
        answer["queueing"], "draw-at-open",
        "the default with an opening"
    );
    let (status, answer) = app
        .http
        .get(app.url("/api/waiting-room/events/x/draw?round=zero"))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_round"
    );
}
