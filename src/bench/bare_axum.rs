//! Baseline for `./bench.sh`: the same JSON routes and the gate as Vestibule with no Redis
//! and no work behind them, on the same runtime and framework. What the HTTP stack alone
//! can do on this machine.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

#[tokio::main]
async fn main() {
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3999".into());
    let app = Router::new()
        .route(
            "/api/waiting-room/sessions",
            post(|Json(body): Json<Value>| async move {
                let view = json!({
                    "sessionId": uuid::Uuid::new_v4(),
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
