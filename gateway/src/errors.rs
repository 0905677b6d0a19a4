//! gRPC status → HTTP: one table, and the `{"code","message","details"}` body.

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use serde_json::{Value, json};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The one mapping from gRPC codes to HTTP statuses (STYLE.md).
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Cancelled | Code::Unknown | Code::Internal | Code::DataLoss => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

pub(crate) fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The JSON error body of a status, with its rich details rendered.
pub fn error_json(status: &Status) -> Value {
    let mut details = Vec::new();
    if let Some(info) = status.get_details_error_info() {
        details.push(json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": info.reason,
            "domain": info.domain,
            "metadata": info.metadata,
        }));
    }
    if let Some(br) = status.get_details_bad_request() {
        let violations: Vec<Value> = br
            .field_violations
            .iter()
            .map(|v| json!({"field": v.field, "description": v.description}))
            .collect();
        details.push(json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": violations,
        }));
    }
    let message = if matches!(
        status.code(),
        Code::Internal | Code::Unknown | Code::DataLoss
    ) {
        "internal error".to_owned()
    } else {
        status.message().to_owned()
    };
    json!({
        "code": status.code() as i32,
        "status": code_name(status.code()),
        "message": message,
        "details": details,
    })
}

/// An HTTP response for a failed call (`Retry-After` when the status says so).
pub fn error_response(status: &Status) -> Response {
    let mut resp = Response::new(Body::from(error_json(status).to_string()));
    *resp.status_mut() = http_status(status.code());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let retry = status
        .get_details_error_info()
        .and_then(|i| i.metadata.get("retry_after_seconds").cloned());
    if let Some(v) = retry.and_then(|r| HeaderValue::from_str(&r).ok()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// A gateway-made error with an explicit HTTP status (404/405/413 have no gRPC twin).
pub fn plain_error(http: StatusCode, code: Code, message: &str) -> Response {
    let body = json!({
        "code": code as i32,
        "status": code_name(code),
        "message": message,
        "details": [],
    });
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = http;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
