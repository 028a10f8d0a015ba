//! Request bodies: one type per body that is both its parser and its OpenAPI schema.
//!
//! [`JsonBody<T>`] is the extractor: `application/json` (else 415), at most
//! [`MAX_BODY_BYTES`] (else 413), valid JSON (else 400 `invalid_json`), an
//! object (else 400 `invalid_body`), read into `T`. A body type takes each field as the
//! client sent it ([`Field`]: any JSON value, or none) and checks it in its `parse`, with
//! the error code of that field; unknown fields are collected, for the types that refuse
//! them. So a client learns which field is wrong and why, in the codes of
//! `domain::ErrorCode`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::{ErrorCode, InvalidInput};
use crate::error::AppError;

/// Largest request body accepted (JSON routes, admin routes and server functions).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A field as the client sent it: any JSON value, or none.
pub type Field = Option<Value>;

/// Fields a body type does not know (refused by the types that refuse them).
pub type Unknown = BTreeMap<String, Value>;

/// A JSON body read into `T` (see the module's doc).
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        json_content_type(request.headers())?;
        let body = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                AppError::bad_request(ErrorCode::UnreadableBody, e.body_text())
            }
        })?;
        object(&body).map(JsonBody)
    }
}

/// The same reading for a request the router does not see (the server's join lane,
/// [`super::fast`]): the same checks and errors, the size limit applied here.
pub async fn read_json<T: DeserializeOwned>(
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<T, AppError> {
    use http_body_util::BodyExt;
    json_content_type(request.headers())?;
    let limited = http_body_util::Limited::new(request.into_body(), MAX_BODY_BYTES);
    let body = limited.collect().await.map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            too_large()
        } else {
            AppError::bad_request(
                ErrorCode::UnreadableBody,
                format!("the body could not be read: {e}"),
            )
        }
    })?;
    object(&body.to_bytes())
}

/// 415 unless the body is declared `application/json`.
fn json_content_type(headers: &axum::http::HeaderMap) -> Result<(), AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    Err(AppError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::UnsupportedMediaType,
        "send the body as JSON with content-type: application/json",
    ))
}

fn too_large() -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("the body must be at most {MAX_BODY_BYTES} bytes"),
    )
}

/// The body as a JSON object read into `T`. An object that reads at once is read once;
/// anything else is read again as a value to say what is wrong with it.
fn object<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    // Only an object: serde would read a struct from an array too.
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if is_object {
        if let Ok(read) = serde_json::from_slice(body) {
            return Ok(read);
        }
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        AppError::bad_request(
            ErrorCode::InvalidJson,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(AppError::bad_request(
            ErrorCode::InvalidBody,
            "the body must be a JSON object",
        ));
    }
    // Every field is any value (checked by the type's own parse): an object always
    // reads.
    serde_json::from_value(value)
        .map_err(|e| AppError::bad_request(ErrorCode::InvalidBody, e.to_string()))
}

/// Field `name` as a string, required: with `code` when missing or not a string.
pub fn string(field: &Field, name: &str, code: ErrorCode) -> Result<String, InvalidInput> {
    match field {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(InvalidInput {
            code,
            message: format!("{name} must be a string"),
        }),
        None => Err(InvalidInput {
            code,
            message: format!("{name} is required"),
        }),
    }
}

/// Refuses the first unknown field with `code`, naming the fields expected.
pub fn refuse_unknown(
    unknown: &Unknown,
    expected: &[&str],
    code: ErrorCode,
) -> Result<(), InvalidInput> {
    match unknown.keys().next() {
        None => Ok(()),
        Some(name) => Err(InvalidInput {
            code,
            message: format!(
                "unknown field {name:?}; expected {}",
                if expected.len() == 1 {
                    expected[0].to_string()
                } else {
                    format!("one of {}", expected.join(", "))
                }
            ),
        }),
    }
}
