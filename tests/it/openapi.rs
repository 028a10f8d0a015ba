//! The published OpenAPI document matches the routes that exist: every documented
//! operation is routed, and every answer it gives, to a good request, a malformed id, a
//! body of the wrong type or size, or with Redis away, is documented.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{spawn_app, TestApp, TestRedis};

/// How an operation is called.
#[derive(Clone, Copy, PartialEq)]
enum Probe {
    /// A well-formed id and `{}` for a body.
    Plain,
    /// An id no route accepts.
    BadId,
    /// A body that is not JSON.
    WrongType,
    /// A JSON body over the size limit.
    TooLarge,
}

/// Calls every documented operation as `probe` says; panics on an answer the document
/// does not list. Returns how many operations there are.
async fn check(app: &TestApp, doc: &Value, probe: Probe) -> usize {
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let has_id = path.contains("{id}");
            let has_body = op.get("requestBody").is_some();
            let skip = match probe {
                Probe::Plain => false,
                Probe::BadId => !has_id,
                Probe::WrongType | Probe::TooLarge => !has_body,
            };
            if skip {
                continue;
            }
            let id = if probe == Probe::BadId {
                "not%20an%20id"
            } else if path.starts_with("/api/admin/events/")
                || path.contains("/gate/")
                || path.contains("/events/")
            {
                "E1"
            } else {
                "0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d"
            };
            let concrete = path.replace("{id}", id);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = app
                .http
                .request(method.clone(), app.url(&concrete))
                .bearer_auth("t");
            if has_body {
                req = match probe {
                    Probe::WrongType => req.header("content-type", "text/plain").body("hello"),
                    Probe::TooLarge => req
                        .header("content-type", "application/json")
                        .body(format!(r#"{{"pad":"{}"}}"#, "x".repeat(20 * 1024))),
                    _ => req.header("content-type", "application/json").body("{}"),
                };
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            if probe != Probe::BadId {
                assert_ne!(
                    body["error"]["code"], "not_found",
                    "{method} {path} is not routed"
                );
            }
            let documented = op["responses"].as_object().unwrap();
            assert!(
                documented.contains_key(status.as_str()),
                "{method} {concrete} answered {status} {body}, not documented"
            );
        }
    }
    operations
}

#[tokio::test]
async fn every_documented_operation_exists_and_every_answer_is_documented() {
    let mut redis = TestRedis::start();
    let app = spawn_app(&redis, &["--admin-token", "t"]).await;
    let doc: Value = app.get_json("/api/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    let operations = check(&app, &doc, Probe::Plain).await;
    assert!(operations >= 16, "{operations} operations documented");
    check(&app, &doc, Probe::BadId).await;
    check(&app, &doc, Probe::WrongType).await;
    check(&app, &doc, Probe::TooLarge).await;
    // Redis away: 503s (and the routes that need no Redis) are documented too.
    redis.kill();
    check(&app, &doc, Probe::Plain).await;
}

#[tokio::test]
async fn the_generated_document_lists_the_413_415_503_and_400_answers_and_the_handlers_types() {
    let redis = TestRedis::start();
    let app = spawn_app(&redis, &[]).await;
    let doc: Value = app.get_json("/api/openapi.json").await;
    let answers = |path: &str, method: &str| -> Vec<String> {
        let mut codes: Vec<String> = doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is documented"))
            .keys()
            .cloned()
            .collect();
        codes.sort();
        codes
    };
    for code in ["413", "415", "503"] {
        assert!(
            answers("/api/waiting-room/tokens/verify", "post").contains(&code.to_string()),
            "verify answers {code}"
        );
    }
    for (path, method) in [
        ("/api/admin/events", "get"),
        ("/api/admin/events/{id}", "put"),
        ("/api/admin/events/{id}/pause", "post"),
        ("/api/admin/sessions/{id}", "delete"),
    ] {
        assert!(
            answers(path, method).contains(&"503".to_string()),
            "{method} {path}"
        );
    }
    for (path, method) in [
        ("/api/admin/sessions/{id}", "delete"),
        ("/api/admin/events/{id}/pause", "post"),
        ("/api/admin/events/{id}/resume", "post"),
    ] {
        assert!(
            answers(path, method).contains(&"400".to_string()),
            "{method} {path}"
        );
    }
    // The bodies are the handlers' own types.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in [
        "SessionView",
        "EventFigures",
        "EventHistory",
        "ErrorBody",
        "JoinRequest",
    ] {
        assert!(schemas.contains_key(schema), "{schema}");
    }
    assert_eq!(
        doc["paths"]["/api/admin/events/{id}/message"]["put"]["security"],
        serde_json::json!([{ "bearer": [] }])
    );
}
