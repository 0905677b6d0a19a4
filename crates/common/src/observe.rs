//! Per-call observability for gRPC, on both ends of a call:
//!
//! - [`RpcLayer`] (server): one `grpc.server` span per call, parented on the
//!   caller's W3C `traceparent`, carrying the RPC name, the status code, the
//!   request id and (once known) the member and team; request count, latency
//!   and errors per RPC and code in [`crate::metrics`].
//! - [`Traced`] (client): one `grpc.client` span per outgoing call, whose context
//!   is injected as `traceparent` (plus the current request id) into the
//!   outgoing metadata; the same metrics on the client side.
//! - [`inject`] / [`extract`]: the W3C trace context in and out of a string
//!   map, for carriers other than HTTP headers (the outbox's events).
//!
//! Without the OpenTelemetry layer installed ([`crate::telemetry::init`]) spans
//! still exist for logs, but carry no trace ids and nothing is propagated.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, LazyLock},
    task::{Context, Poll},
    time::Instant,
};

use futures::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use opentelemetry::{
    propagation::{Extractor, Injector, TextMapPropagator},
    trace::TraceContextExt,
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tower_layer::Layer;
use tower_service::Service;
use tracing::{Instrument, Span, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::metrics::{self, Counter, Histogram};

/// The request id header set by the gateway and carried service to service.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: Arc<str>;
}

/// The request id of the call being served, if any.
pub fn current_request_id() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok()
}

/// Runs `fut` with `id` as the current request id (what [`Traced`] forwards).
pub async fn with_request_id<F: Future>(id: Arc<str>, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

struct HeaderCarrier<'a>(&'a HeaderMap);
struct HeaderCarrierMut<'a>(&'a mut HeaderMap);

impl Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

impl Injector for HeaderCarrierMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(k, v);
        }
    }
}

/// The remote parent carried by `traceparent`/`tracestate` headers.
pub fn extract_headers(headers: &HeaderMap) -> opentelemetry::Context {
    TraceContextPropagator::new().extract(&HeaderCarrier(headers))
}

/// Writes `span`'s context as `traceparent`/`tracestate` headers.
pub fn inject_headers(span: &Span, headers: &mut HeaderMap) {
    let cx = span.context();
    if cx.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&cx, &mut HeaderCarrierMut(headers));
    }
}

/// The current span's trace context as a string map (empty without tracing).
pub fn inject() -> HashMap<String, String> {
    let mut map = HashMap::new();
    let cx = Span::current().context();
    if cx.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&cx, &mut map);
    }
    map
}

/// The remote context carried in a string map by [`inject`].
pub fn extract(map: &HashMap<String, String>) -> opentelemetry::Context {
    TraceContextPropagator::new().extract(map)
}

/// Parents `span` on `parent` when it carries a valid remote span, and records
/// the resulting trace id in the span's `trace_id` field (for log lines).
pub fn adopt(span: &Span, parent: opentelemetry::Context) {
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    let sc = span.context().span().span_context().clone();
    if sc.is_valid() {
        span.record("trace_id", tracing::field::display(sc.trace_id()));
    }
}

/// Records the team a call is about on the current call's span.
pub fn record_team(team_id: &impl std::fmt::Display) {
    Span::current().record("team_id", tracing::field::display(team_id));
}

/// Records the calling member on the current call's span.
pub fn record_member(member_id: &impl std::fmt::Display) {
    Span::current().record("member_id", tracing::field::display(member_id));
}

/// A request path as spans and logs may record it: secrets carried in the
/// path are replaced by their template name. Invite codes are bearer secrets
/// (`GET /v1/invites/{code}`, `POST /v1/invites/{code}:accept`), so the segment
/// after `/v1/invites/` becomes `{code}` (keeping only a known `:accept` verb).
pub fn redacted_path(path: &str) -> std::borrow::Cow<'_, str> {
    const PREFIX: &str = "/v1/invites/";
    let Some(head) = path.get(..PREFIX.len()) else {
        return path.into();
    };
    if !head.eq_ignore_ascii_case(PREFIX) {
        return path.into();
    }
    let rest = &path[PREFIX.len()..];
    let verb = if rest.to_ascii_lowercase().ends_with(":accept") {
        ":accept"
    } else {
        ""
    };
    format!("{PREFIX}{{code}}{verb}").into()
}

/// `/pkg.Service/Method` → (`pkg.Service`, `Method`).
fn rpc_name(path: &str) -> (&str, &str) {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
}

/// The gRPC code of a response whose status is in its headers (errors, which
/// tonic sends trailers-only); a response carrying its status in trailers is
/// counted as OK here.
fn status_code(headers: &HeaderMap, http_status: http::StatusCode) -> tonic::Code {
    match headers.get("grpc-status") {
        Some(v) => tonic::Code::from_bytes(v.as_bytes()),
        None if http_status.is_success() => tonic::Code::Ok,
        None => tonic::Code::Unavailable,
    }
}

/// Server-side faults per the OpenTelemetry RPC conventions; the rest are the caller's.
fn is_server_fault(code: tonic::Code) -> bool {
    use tonic::Code::*;
    matches!(
        code,
        Unknown | DeadlineExceeded | Unimplemented | Internal | Unavailable | DataLoss
    )
}

fn code_name(code: tonic::Code) -> String {
    // `Code`'s Debug is the CamelCase name; Prometheus users expect the canonical one.
    let camel = format!("{code:?}");
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

struct RpcMetrics {
    requests: Counter,
    errors: Counter,
    duration: Histogram,
}

impl RpcMetrics {
    fn new(side: &str) -> Self {
        let labels = ["rpc_service", "rpc_method", "code"];
        Self {
            requests: metrics::counter(
                &format!("moing_rpc_{side}_requests_total"),
                &format!("gRPC calls ({side} side) by RPC and status code"),
                &labels,
            ),
            errors: metrics::counter(
                &format!("moing_rpc_{side}_errors_total"),
                &format!("gRPC calls ({side} side) that did not end OK, by RPC and code"),
                &labels,
            ),
            duration: metrics::histogram(
                &format!("moing_rpc_{side}_duration_seconds"),
                &format!("gRPC call latency ({side} side, to response headers) by RPC"),
                &["rpc_service", "rpc_method"],
                metrics::LATENCY_BUCKETS,
            ),
        }
    }

    fn record(&self, service: &str, method: &str, code: tonic::Code, started: Instant) {
        let name = code_name(code);
        self.requests.inc(&[service, method, &name]);
        if code != tonic::Code::Ok {
            self.errors.inc(&[service, method, &name]);
        }
        self.duration
            .observe(&[service, method], started.elapsed().as_secs_f64());
    }
}

static SERVER_METRICS: LazyLock<RpcMetrics> = LazyLock::new(|| RpcMetrics::new("server"));
static CLIENT_METRICS: LazyLock<RpcMetrics> = LazyLock::new(|| RpcMetrics::new("client"));

fn finish(span: &Span, code: tonic::Code, server: bool) {
    span.record("rpc.grpc.status_code", code as i32);
    let fault = if server {
        is_server_fault(code)
    } else {
        code != tonic::Code::Ok
    };
    if fault {
        span.record("otel.status_code", "ERROR");
    }
}

/// Tower layer giving every served call its span, request id and metrics.
#[derive(Debug, Clone, Default)]
pub struct RpcLayer;

impl<S> Layer<S> for RpcLayer {
    type Service = RpcService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RpcService { inner }
    }
}

#[derive(Debug, Clone)]
pub struct RpcService<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RpcService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let started = Instant::now();
        let path = req.uri().path().to_owned();
        let (service, method) = rpc_name(&path);
        let (service, method) = (service.to_owned(), method.to_owned());
        let request_id: Arc<str> = req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map(Into::into)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string().into());
        // Health probes would drown the traces; they are still counted.
        let span = if service.starts_with("grpc.health.") {
            Span::none()
        } else {
            tracing::info_span!(
                "grpc.server",
                otel.name = %format_args!("{service}/{method}"),
                otel.kind = "server",
                otel.status_code = Empty,
                rpc.system = "grpc",
                rpc.service = %service,
                rpc.method = %method,
                rpc.grpc.status_code = Empty,
                request_id = %request_id,
                trace_id = Empty,
                member_id = Empty,
                team_id = Empty,
            )
        };
        adopt(&span, extract_headers(req.headers()));
        let fut = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        Box::pin(
            async move {
                let result = REQUEST_ID.scope(request_id, fut).await;
                let code = match &result {
                    Ok(resp) => status_code(resp.headers(), resp.status()),
                    Err(_) => tonic::Code::Unavailable,
                };
                finish(&Span::current(), code, true);
                SERVER_METRICS.record(&service, &method, code, started);
                if is_server_fault(code) {
                    tracing::warn!(code = %code_name(code), "call failed");
                } else {
                    tracing::debug!(code = %code_name(code), "call finished");
                }
                result
            }
            .instrument(span),
        )
    }
}

/// An outgoing channel whose calls get a client span, `traceparent`, the
/// current request id, and client-side metrics.
#[derive(Debug, Clone)]
pub struct Traced<S> {
    inner: S,
}

impl<S> Traced<S> {
    pub fn new(inner: S) -> Self {
        Self { inner }
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Traced<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let started = Instant::now();
        let (service, method) = rpc_name(req.uri().path());
        let (service, method) = (service.to_owned(), method.to_owned());
        let span = tracing::info_span!(
            "grpc.client",
            otel.name = %format_args!("{service}/{method}"),
            otel.kind = "client",
            otel.status_code = Empty,
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = Empty,
        );
        inject_headers(&span, req.headers_mut());
        if !req.headers().contains_key(REQUEST_ID_HEADER)
            && let Some(id) = current_request_id()
            && let Ok(v) = HeaderValue::from_str(&id)
        {
            req.headers_mut().insert(REQUEST_ID_HEADER, v);
        }
        let fut = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        Box::pin(
            async move {
                let result = fut.await;
                let code = match &result {
                    Ok(resp) => status_code(resp.headers(), resp.status()),
                    Err(_) => tonic::Code::Unavailable,
                };
                finish(&Span::current(), code, false);
                CLIENT_METRICS.record(&service, &method, code, started);
                result
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn invite_codes_are_redacted_from_paths() {
        use super::redacted_path;
        assert_eq!(
            redacted_path("/v1/invites/AB12CD34EF56GH78"),
            "/v1/invites/{code}"
        );
        assert_eq!(
            redacted_path("/v1/invites/ab12cd34ef56gh78:accept"),
            "/v1/invites/{code}:accept"
        );
        assert_eq!(redacted_path("/V1/Invites/SECRET:x"), "/v1/invites/{code}");
        assert_eq!(
            redacted_path("/v1/invites/A%3AB/../x"),
            "/v1/invites/{code}"
        );
        assert_eq!(
            redacted_path("/v1/teams/t/invites/i:revoke"),
            "/v1/teams/t/invites/i:revoke"
        );
        assert_eq!(
            redacted_path("/moing.moim.v1.TeamService/JoinTeam"),
            "/moing.moim.v1.TeamService/JoinTeam"
        );
        assert_eq!(redacted_path("/v1/invi"), "/v1/invi");
        assert_eq!(redacted_path("/v1/초대/"), "/v1/초대/");
    }

    use super::*;

    #[test]
    fn names_and_codes() {
        assert_eq!(
            rpc_name("/moing.mission.v1.MissionService/SubmitProof"),
            ("moing.mission.v1.MissionService", "SubmitProof")
        );
        assert_eq!(code_name(tonic::Code::Ok), "OK");
        assert_eq!(code_name(tonic::Code::NotFound), "NOT_FOUND");
        assert_eq!(
            code_name(tonic::Code::DeadlineExceeded),
            "DEADLINE_EXCEEDED"
        );
        let mut h = HeaderMap::new();
        assert_eq!(status_code(&h, http::StatusCode::OK), tonic::Code::Ok);
        h.insert("grpc-status", HeaderValue::from_static("5"));
        assert_eq!(status_code(&h, http::StatusCode::OK), tonic::Code::NotFound);
    }

    #[test]
    fn trace_context_round_trips_through_a_map() {
        let mut map = HashMap::new();
        map.insert(
            "traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        );
        let cx = extract(&map);
        let sc = cx.span().span_context().clone();
        assert!(sc.is_valid() && sc.is_remote());
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }
}
