//! The OpenAPI 3.1 document of every JSON route, served at `/api/openapi.json`.
//!
//! Generated, not written: each route's handler carries its operation (`#[utoipa::path]`,
//! with every answer it gives), and the bodies are the types the handlers take and give
//! (`utoipa::ToSchema`). The routers that serve the routes are the ones that list them
//! ([`super::api::routes`], [`super::admin::routes`]), so a route cannot be served
//! undocumented. `tests/it/openapi.rs` calls every documented operation, as it should be
//! called and in every wrong way, and checks that every answer is documented.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vestibule",
        description = "A virtual waiting room for high-demand sales. Errors are always \
            {\"error\": {\"code\", \"message\"}}; 503 carries Retry-After."
    ),
    modifiers(&Schemes),
    tags(
        (name = "visitors", description = "Joining, polling and leaving a line"),
        (name = "shops", description = "The door: checking passes"),
        (name = "operators", description = "Admin routes: only with WAITING_ROOM_ADMIN_TOKEN set (else 404) and Authorization: Bearer <token>"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
struct Base;

/// The ways to authenticate that operations name.
struct Schemes;

impl Modify for Schemes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            "bearer",
            bearer("WAITING_ROOM_ADMIN_TOKEN; admin routes are 404 when it is unset"),
        );
        components.add_security_scheme(
            "pass",
            bearer("A pass (the accessToken of an ACTIVE session), an EdDSA JWT"),
        );
        components.add_security_scheme(
            "passCookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("vestibule_pass"))),
        );
        components.add_security_scheme("metrics", bearer("WAITING_ROOM_METRICS_TOKEN, when set"));
    }
}

/// The document: the public and the admin routes (documented whether or not this server
/// mounts the admin routes), and its own.
pub fn document() -> Document {
    let mut doc = Base::openapi();
    doc.merge(super::api::routes().into_openapi());
    doc.merge(super::admin::routes().into_openapi());
    doc.merge(routes().into_openapi());
    doc
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi))
}

/// The route that serves the document.
pub fn router() -> Router<AppState> {
    routes().split_for_parts().0
}

/// `GET /api/openapi.json`: the document, generated from the routes and their types.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1")))]
async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document_json(),
    )
        .into_response()
}

/// The document as JSON, made once per process.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        document()
            .to_json()
            .expect("the OpenAPI document serialises")
    })
}
