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
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let (route, bound) = match lookup(&gateway.routes, &method, &path) {
        Lookup::Found(r, b) => (r.clone(), b),
        Lookup::NotFound => {
            return plain_error(StatusCode::NOT_FOUND, Code::NotFound, "no such path");
        }
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
            return resp;
        }
    };
    tracing::Span::current().record("rpc.method", route.method.full_name());
    let address = client_address(&req, &gateway.trusted);
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let principal = match gateway
        .edge
        .check(route.method.full_name(), authorization.as_deref())
        .await
    {
        Ok(p) => p,
        Err(status) => return error_response(&status),
    };
    if let Some(p) = &principal {
        moing_common::observe::record_member(&p.member_id);
    }
    if let Err(status) = gateway.limiter.check(&address, principal.as_ref()) {
        return error_response(&status);
    }
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, gateway.body_limit).await {
        Ok(b) => b,
        Err(_) => {
            return plain_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::InvalidArgument,
                "request body is too large",
            );
        }
    };
    let message = match request_message(&route, &bound, parts.uri.query(), &body) {
        Ok(m) => m,
        Err(bad) => return plain_error(StatusCode::BAD_REQUEST, Code::InvalidArgument, &bad.0),
    };
    let Some(channel) = gateway.upstream(route.method.parent_service().full_name()) else {
        return plain_error(
            StatusCode::NOT_IMPLEMENTED,
            Code::Unimplemented,
            "service is not routed",
        );
    };

    let mut grpc_req = tonic::Request::new(Bytes::from(message.encode_to_vec()));
    grpc_req.set_timeout(gateway.deadline);
    for name in FORWARDED {
        if let Some(v) = parts.headers.get(name).and_then(|v| v.to_str().ok())
            && let Ok(v) = MetadataValue::try_from(v)
        {
            grpc_req.metadata_mut().insert(name, v);
        }
    }
    if let Ok(v) = MetadataValue::try_from(address.as_str()) {
        grpc_req.metadata_mut().insert("x-forwarded-for", v);
    }
    if let Ok(v) = MetadataValue::try_from(gateway.service_token.as_str()) {
        grpc_req
            .metadata_mut()
            .insert(moing_common::layer::SERVICE_TOKEN_HEADER, v);
    }
    let grpc_path = match route.grpc_path().parse::<http::uri::PathAndQuery>() {
        Ok(p) => p,
        Err(_) => return error_response(&Status::internal("bad method path")),
    };
    let mut client = Grpc::new(channel);
    if let Err(e) = client.ready().await {
        tracing::warn!(error = %e, "upstream not ready");
        return error_response(&Status::unavailable("upstream service is unavailable"));
    }
    let output = route.method.output();
    if route.method.is_server_streaming() {
        let stream = match client.server_streaming(grpc_req, grpc_path, RawCodec).await {
            Ok(s) => s.into_inner(),
            Err(status) => return error_response(&status),
        };
        // Newline-delimited JSON: one message per line; a failure ends with an error line.
        let lines = stream.map(move |item| {
            let line = match item {
                Ok(bytes) => DynamicMessage::decode(output.clone(), bytes)
                    .ok()
                    .and_then(|m| response_json(&m).ok())
                    .unwrap_or_else(|| b"{}".to_vec()),
                Err(status) => crate::errors::error_json(&status).to_string().into_bytes(),
            };
            let mut line = line;
            line.push(b'\n');
            Ok::<_, std::convert::Infallible>(Bytes::from(line))
        });
        let mut resp = Response::new(Body::from_stream(lines));
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        return resp;
    }
    match client.unary(grpc_req, grpc_path, RawCodec).await {
        Ok(resp) => {
            let decoded = DynamicMessage::decode(output, resp.into_inner());
            match decoded.ok().and_then(|m| response_json(&m).ok()) {
                Some(json) => {
                    let mut resp = Response::new(Body::from(json));
                    resp.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    resp
                }
                None => error_response(&Status::internal("undecodable upstream response")),
            }
        }
        Err(status) => error_response(&status),
    }
}
