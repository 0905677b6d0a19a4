//! Builds the gateway's HTTP service and serves it on a bound listener.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::State,
    http::{HeaderName, HeaderValue, Method, Request, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
};

use crate::{config::Settings, errors::error_response, proxy::GrpcProxy, rest, state::Gateway};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

async fn openapi(State(gw): State<Arc<Gateway>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        gw.openapi.clone(),
    )
        .into_response()
}

async fn jwks(State(gw): State<Arc<Gateway>>) -> Response {
    let Some(channel) = gw.upstream("moing.auth.v1.AuthService") else {
        return error_response(&tonic::Status::unavailable("auth is not configured"));
    };
    let result = moing_proto::moing::auth::v1::auth_service_client::AuthServiceClient::new(channel)
        .get_jwks(moing_proto::moing::auth::v1::GetJwksRequest {})
        .await;
    match result {
        Ok(resp) => {
            let keys: Vec<serde_json::Value> = resp
                .into_inner()
                .keys
                .into_iter()
                .map(|k| {
                    let mut v = serde_json::json!({"kty": k.kty, "kid": k.kid, "alg": k.alg, "use": k.r#use, "crv": k.crv, "x": k.x});
                    if !k.y.is_empty() {
                        v["y"] = serde_json::json!(k.y);
                    }
                    v
                })
                .collect();
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CACHE_CONTROL, "public, max-age=300"),
                ],
                serde_json::json!({ "keys": keys }).to_string(),
            )
                .into_response()
        }
        Err(status) => error_response(&status),
    }
}

/// gRPC (and gRPC-web, translated) goes to the proxy; everything else is REST.
async fn dispatch(State(gw): State<Arc<Gateway>>, req: Request<Body>) -> Response {
    let is_grpc = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"));
    if is_grpc {
        let svc = ServiceBuilder::new()
            .layer(tonic_web::GrpcWebLayer::new())
            .service(GrpcProxy::new(gw));
        match svc.oneshot(req).await {
            Ok(resp) => resp.into_response(),
            Err(never) => match never {},
        }
    } else {
        rest::handle(gw, req).await
    }
}

fn cors(settings: &Settings) -> CorsLayer {
    let origins: Vec<HeaderValue> = settings
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        // Listed explicitly: browsers do not let `*` cover `authorization`.
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-grpc-web"),
            HeaderName::from_static("x-user-agent"),
            HeaderName::from_static("grpc-timeout"),
            REQUEST_ID,
        ])
        .expose_headers([
            HeaderName::from_static("grpc-status"),
            HeaderName::from_static("grpc-message"),
            HeaderName::from_static("grpc-status-details-bin"),
            REQUEST_ID,
            header::RETRY_AFTER,
        ])
        .max_age(Duration::from_secs(600))
}

/// The whole edge as one axum router.
pub fn router(settings: &Settings) -> anyhow::Result<Router> {
    let gateway = Gateway::new(settings)?;
    Ok(Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/openapi.json", get(openapi))
        .route("/.well-known/jwks.json", get(jwks))
        .merge(crate::docs::routes(settings.dev_sign_in_note))
        .fallback(dispatch)
        .with_state(gateway)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(axum::middleware::from_fn(crate::observe::edge))
                .layer(cors(settings))
                .layer(RequestBodyLimitLayer::new(settings.body_limit_bytes)),
        ))
}

/// Serves HTTP/1.1 and HTTP/2 (prior knowledge) until `shutdown` is cancelled.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let app = router(&settings)?;
    let admin = moing_common::admin::Admin::new("gateway")
        .spawn(&settings.admin, shutdown.clone())
        .await;
    tracing::info!(addr = %listener.local_addr()?, "gateway listening");
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown({
        let shutdown = shutdown.clone();
        async move { shutdown.cancelled().await }
    })
    .await?;
    shutdown.cancel();
    if let Some((_, task)) = admin {
        let _ = task.await;
    }
    moing_common::telemetry::flush().await;
    Ok(())
}
