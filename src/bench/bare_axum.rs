//! Baseline for `./bench.sh`: the same JSON routes and the gate as Vestibule with no Redis
//! and no work behind them, on the same runtime and framework. What the HTTP stack alone
//! can do on this machine.
//!
//! With `REDIS_URL` set, each join also `XADD`s one entry (the join's ids) to a stream of
//! its event on that Redis, over one multiplexed connection, and answers once Redis has
//! written it: the ceiling for any join that touches Redis on this machine.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

#[tokio::main]
async fn main() {
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3999".into());
    let redis = match std::env::var("REDIS_URL") {
        Ok(url) => Some(
            redis::Client::open(url)
                .expect("a Redis URL")
                .get_multiplexed_async_connection()
                .await
                .expect("Redis answers"),
        ),
        Err(_) => None,
    };
    let app = Router::new()
        .route(
            "/api/waiting-room/sessions",
            post(|Json(body): Json<Value>| async move {
                let sid = uuid::Uuid::new_v4();
                if let Some(mut conn) = redis {
                    let event = body["eventId"].as_str().unwrap_or_default();
                    let written: redis::RedisResult<String> = redis::cmd("XADD")
                        .arg(format!("bench-xadd:{{{event}}}"))
                        .arg("*")
                        .arg("sessionId")
                        .arg(sid.to_string())
                        .arg("userId")
                        .arg(body["userId"].as_str().unwrap_or_default())
                        .query_async(&mut conn)
                        .await;
                    if written.is_err() {
                        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({})));
                    }
                }
                let view = json!({
                    "sessionId": sid,
                    "eventId": body["eventId"],
                    "userId": body["userId"],
                    "status": "WAITING",
                    "position": 1,
                    "waitTimeKnown": false,
                    "refreshAfterMs": 1000,
                });
                (StatusCode::ACCEPTED, Json(view))
            }),
        )
        .route(
            "/api/waiting-room/sessions/{id}",
            get(|Path(id): Path<String>| async move {
                Json(json!({
                    "sessionId": id,
                    "eventId": "E1",
                    "userId": "U1",
                    "status": "WAITING",
                    "position": 1,
                    "waitTimeKnown": false,
                    "refreshAfterMs": 1000,
                }))
            }),
        )
        .route(
            "/api/waiting-room/gate/{id}",
            get(|Path(_id): Path<String>| async { StatusCode::NO_CONTENT }),
        );
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
