//! `GET /brand/{eventId}.css`: the stylesheet of an event's brand (README, "The shop's
//! brand"), written by the room from checked colours only (`crate::brand`). A page links it
//! with the brand's version in its query, so it may be kept a minute.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::domain::EventId;
use crate::error::AppError;
use crate::service::Service;

/// The brand's stylesheet; 404 for an event without a brand (or a path not ending in
/// `.css`).
pub async fn stylesheet(
    State(service): State<Service>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let event = file
        .strip_suffix(".css")
        .and_then(|id| EventId::parse(id).ok())
        .ok_or_else(AppError::page_not_found)?;
    let brand = service
        .brand(&event)
        .await?
        .ok_or_else(AppError::page_not_found)?;
    let mut response = brand.css().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(response)
}
