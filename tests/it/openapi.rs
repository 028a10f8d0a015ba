//! The published OpenAPI document matches the routes that exist.

use crate::common::{spawn_app, TestRedis};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn every_documented_operation_exists() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &["--admin-token", "t"]).await;
    let doc: Value = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let concrete = if path.starts_with("/api/admin/events/") {
                path.replace("{id}", "E1")
            } else {
                path.replace("{id}", "0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d")
            };
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = app
                .http
                .request(method.clone(), app.url(&concrete))
                .bearer_auth("t");
            if op.get("requestBody").is_some() {
                req = req.header("content-type", "application/json").body("{}");
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_ne!(
                body["error"]["code"], "not_found",
                "{method} {path} is not routed"
            );
            let documented = op["responses"].as_object().unwrap();
            assert!(
                documented.contains_key(status.as_str()),
                "{method} {path} answered {status}, not documented"
            );
        }
    }
    assert!(operations >= 13, "{operations} operations documented");
}
