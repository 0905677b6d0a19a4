//! The REST/JSON handler: look the route up, check the caller, build the
//! request message, call the owning service over gRPC, answer proto3 JSON.

use std::sync::Arc;

use axum::{
    body::Body,
    http::{HeaderValue, Method, StatusCode, header},
    response::Response,
};
use bytes::Bytes;
use futures_util::StreamExt;
use prost::Message;
use prost_reflect::DynamicMessage;
use tonic::{Code, Status, client::Grpc, metadata::MetadataValue};

use moing_common::codec::RawCodec;

use crate::{
    errors::{error_response, plain_error},
    proxy::client_address,
    routes::{Lookup, lookup},
    state::Gateway,
    transcode::{request_message, response_json},
};

/// Headers passed from the HTTP request to the upstream call.
const FORWARDED: [&str; 4] = ["authorization", "x-request-id", "traceparent", "tracestate"];

pub async fn handle(gateway: Arc<Gateway>, req: http::Request<Body>) -> Response {
    match call(gateway, req).await {
        Ok(resp) | Err(resp) => resp,
    }
}

/// Every step of a REST call; `Err` is the error answer of the first step that fails.
// An error answer is the whole HTTP response, built once on the failing path.
#[allow(clippy::result_large_err)]
async fn call(gateway: Arc<Gateway>, req: http::Request<Body>) -> Result<Response, Response> {
    let (route, bound) = route_of(&gateway, req.method(), req.uri().path())?;
    tracing::Span::current().record("rpc.method", route.method.full_name());
    let address = client_address(&req, &gateway.trusted);
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    admit(&gateway, &route, authorization.as_deref(), &address).await?;
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, gateway.body_limit)
        .await
        .map_err(|_| {
            plain_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::InvalidArgument,
                "request body is too large",
            )
        })?;
    let message = request_message(&route, &bound, parts.uri.query(), &body)
        .map_err(|bad| plain_error(StatusCode::BAD_REQUEST, Code::InvalidArgument, &bad.0))?;
    let channel = gateway
        .upstream(route.method.parent_service().full_name())
        .ok_or_else(|| {
            plain_error(
                StatusCode::NOT_IMPLEMENTED,
                Code::Unimplemented,
                "service is not routed",
            )
        })?;
    let grpc_req = upstream_request(
        &gateway,
        &parts.headers,
        &address,
        &message,
        route.method.is_server_streaming(),
    );
    let grpc_path = route
        .grpc_path()
        .parse::<http::uri::PathAndQuery>()
        .map_err(|_| error_response(&Status::internal("bad method path")))?;
    let mut client = Grpc::new(channel);
    if let Err(e) = client.ready().await {
        tracing::warn!(error = %e, "upstream not ready");
        return Err(error_response(&Status::unavailable(
            "upstream service is unavailable",
        )));
    }
    let output = route.method.output();
    if route.method.is_server_streaming() {
        let stream = client
            .server_streaming(grpc_req, grpc_path, RawCodec)
            .await
            .map_err(|status| error_response(&status))?;
        return Ok(ndjson(stream.into_inner(), output));
    }
    let resp = client
        .unary(grpc_req, grpc_path, RawCodec)
        .await
        .map_err(|status| error_response(&status))?;
    let json = DynamicMessage::decode(output, resp.into_inner())
        .ok()
        .and_then(|m| response_json(&m).ok())
        .ok_or_else(|| error_response(&Status::internal("undecodable upstream response")))?;
    let mut resp = Response::new(Body::from(json));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// The route of a method and path, or 404 / 405 with `Allow`.
// An error answer is the whole HTTP response, built once on the failing path.
#[allow(clippy::result_large_err)]
fn route_of(
    gateway: &Gateway,
    method: &Method,
    path: &str,
) -> Result<(crate::routes::Route, Vec<(String, String)>), Response> {
    match lookup(&gateway.routes, method, path) {
        Lookup::Found(r, b) => Ok((r.clone(), b)),
        Lookup::NotFound => Err(plain_error(
            StatusCode::NOT_FOUND,
            Code::NotFound,
            "no such path",
        )),
        Lookup::MethodNotAllowed(allowed) => {
            let mut resp = plain_error(
                StatusCode::METHOD_NOT_ALLOWED,
                Code::Unimplemented,
                &format!("{method} is not allowed here"),
            );
            let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
            if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
            Err(resp)
        }
    }
}

/// The edge checks: the caller's token where the method needs one, then the rate limit.
// An error answer is the whole HTTP response, built once on the failing path.
#[allow(clippy::result_large_err)]
async fn admit(
    gateway: &Gateway,
    route: &crate::routes::Route,
    authorization: Option<&str>,
    address: &str,
) -> Result<(), Response> {
    let principal = gateway
        .edge
        .check(route.method.full_name(), authorization)
        .await
        .map_err(|status| error_response(&status))?;
    if let Some(p) = &principal {
        moing_common::observe::record_member(&p.member_id);
    }
    gateway
        .limiter
        .check(address, principal.as_ref())
        .map_err(|status| error_response(&status))
}

/// The upstream call: the message, the deadline (none for a server stream,
/// which its service bounds: the live goal board ends after 30 minutes), the
/// forwarded headers, the client address and the gateway's service credential.
fn upstream_request(
    gateway: &Gateway,
    headers: &http::HeaderMap,
    address: &str,
    message: &DynamicMessage,
    streaming: bool,
) -> tonic::Request<Bytes> {
    let mut grpc_req = tonic::Request::new(Bytes::from(message.encode_to_vec()));
    if !streaming {
        grpc_req.set_timeout(gateway.deadline);
    }
    for name in FORWARDED {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok())
            && let Ok(v) = MetadataValue::try_from(v)
        {
            grpc_req.metadata_mut().insert(name, v);
        }
    }
    if let Ok(v) = MetadataValue::try_from(address) {
        grpc_req.metadata_mut().insert("x-forwarded-for", v);
    }
    if let Ok(v) = MetadataValue::try_from(gateway.service_token.as_str()) {
        grpc_req
            .metadata_mut()
            .insert(moing_common::layer::SERVICE_TOKEN_HEADER, v);
    }
    grpc_req
}

/// Server streaming as newline-delimited JSON: one message per line; a failure
/// ends the stream with an error line.
fn ndjson(stream: tonic::Streaming<Bytes>, output: prost_reflect::MessageDescriptor) -> Response {
    let lines = stream.map(move |item| {
        let mut line = match item {
            Ok(bytes) => DynamicMessage::decode(output.clone(), bytes)
                .ok()
                .and_then(|m| response_json(&m).ok())
                .unwrap_or_else(|| b"{}".to_vec()),
            Err(status) => crate::errors::error_json(&status).to_string().into_bytes(),
        };
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(Bytes::from(line))
    });
    let mut resp = Response::new(Body::from_stream(lines));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    resp
}
