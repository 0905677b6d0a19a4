//! The edge's span and metrics: one `http.server` span per request, parented on
//! the client's `traceparent` when it sends one, carrying the request id (set
//! by `SetRequestIdLayer` before this runs) and the trace id for log lines; the
//! upstream calls made inside it are its children (`moing_common::observe::Traced`).

use std::{sync::Arc, time::Instant};

use axum::{
    body::Body,
    http::{Request, header},
    middleware::Next,
    response::Response,
};
use moing_common::{metrics, observe};
use tracing::{Instrument, field::Empty};

/// Axum middleware: span, request id scope and HTTP metrics per request.
pub async fn edge(req: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let protocol = match req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        Some(ct) if ct.starts_with("application/grpc-web") => "grpc-web",
        Some(ct) if ct.starts_with("application/grpc") => "grpc",
        _ => "http",
    };
    let request_id: Arc<str> = req
        .headers()
        .get(observe::REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .into();
    let method = req.method().clone();
    let span = tracing::info_span!(
        "http.server",
        otel.name = %format_args!("{method} {protocol}"),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %method,
        url.path = %observe::redacted_path(req.uri().path()),
        network.protocol = protocol,
        http.response.status_code = Empty,
        rpc.method = Empty,
        request_id = %request_id,
        trace_id = Empty,
        member_id = Empty,
    );
    observe::adopt(&span, observe::extract_headers(req.headers()));
    let resp = observe::with_request_id(request_id, next.run(req))
        .instrument(span.clone())
        .await;
    let status = resp.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    metrics::counter(
        "moing_http_server_requests_total",
        "Requests at the edge by protocol and HTTP status",
        &["protocol", "status"],
    )
    .inc(&[protocol, status.as_str()]);
    metrics::histogram(
        "moing_http_server_duration_seconds",
        "Edge request latency to response headers, by protocol",
        &["protocol"],
        metrics::LATENCY_BUCKETS,
    )
    .observe(&[protocol], started.elapsed().as_secs_f64());
    resp
}
