//! The gateway routes gRPC and gRPC-web by path to the owning service and never
//! routes internal services.

use std::collections::BTreeMap;

use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use moing_common::{config::GrpcSettings, server::ServerBuilder};
use moing_gateway::{config::Settings, startup};
use moing_proto::moing::auth::v1::{
    GetJwksRequest, GetJwksResponse, GetMemberRequest, Jwk,
    auth_internal_service_client::AuthInternalServiceClient,
    auth_internal_service_server::AuthInternalServiceServer,
    auth_service_client::AuthServiceClient,
    auth_service_server::{AuthService, AuthServiceServer},
};
use moing_testkit::Cluster;
use tonic::{Code, Request, Response, Status};

/// A stand-in upstream that answers GetJwks with a marker key.
#[derive(Clone)]
struct Upstream;

#[tonic::async_trait]
impl AuthService for Upstream {
    async fn get_jwks(
        &self,
        _req: Request<GetJwksRequest>,
    ) -> Result<Response<GetJwksResponse>, Status> {
        Ok(Response::new(GetJwksResponse {
            keys: vec![Jwk {
                kid: "from-upstream".into(),
                ..Jwk::default()
            }],
        }))
    }
}

#[derive(Clone)]
struct Internal;

#[tonic::async_trait]
impl moing_proto::moing::auth::v1::auth_internal_service_server::AuthInternalService for Internal {}

async fn start() -> anyhow::Result<Cluster> {
    let mut cluster = Cluster::bind(&["auth", "gateway"]).await?;
    cluster.spawn("auth", |listener, stop| async move {
        ServerBuilder::new()
            .add_service(AuthServiceServer::new(Upstream))
            .add_service(AuthInternalServiceServer::new(Internal))
            .serve(listener, &GrpcSettings::default(), None, async move {
                stop.cancelled().await
            })
            .await?;
        Ok(())
    })?;
    let settings = Settings {
        services: BTreeMap::from([("auth".to_owned(), cluster.endpoint("auth"))]),
        ..Settings::default()
    };
    cluster.spawn("gateway", |listener, stop| {
        startup::run(settings, listener, stop)
    })?;
    Ok(cluster)
}

#[tokio::test]
async fn native_grpc_is_routed_to_the_owner() -> anyhow::Result<()> {
    let cluster = start().await?;
    let mut client = AuthServiceClient::connect(cluster.endpoint("gateway")).await?;
    let keys = client.get_jwks(GetJwksRequest {}).await?.into_inner().keys;
    assert_eq!(keys[0].kid, "from-upstream");
    cluster.stop().await
}

#[tokio::test]
async fn grpc_web_over_http1_is_routed() -> anyhow::Result<()> {
    let cluster = start().await?;
    let http1 = Client::builder(TokioExecutor::new()).build_http();
    let svc = tower::ServiceBuilder::new()
        .layer(tonic_web::GrpcWebClientLayer::new())
        .service(http1);
    let uri: http::Uri = cluster.endpoint("gateway").parse()?;
    let mut client = AuthServiceClient::with_origin(svc, uri);
    let keys = client.get_jwks(GetJwksRequest {}).await?.into_inner().keys;
    assert_eq!(keys[0].kid, "from-upstream");
    cluster.stop().await
}

#[tokio::test]
async fn internal_services_are_never_routed() -> anyhow::Result<()> {
    let cluster = start().await?;
    let mut client = AuthInternalServiceClient::connect(cluster.endpoint("gateway")).await?;
    let mut req = Request::new(GetMemberRequest::default());
    // Even with a (guessed) service credential the gateway refuses.
    req.metadata_mut().insert(
        "x-moing-service-token",
        "dev-service-token-change-me".parse()?,
    );
    let err = client.get_member(req).await.expect_err("not routed");
    assert_eq!(err.code(), Code::Unimplemented);
    let events = moing_proto::moing::events::v1::event_sink_client::EventSinkClient::connect(
        cluster.endpoint("gateway"),
    )
    .await?
    .deliver(moing_proto::moing::events::v1::DeliverRequest { events: vec![] })
    .await
    .expect_err("not routed");
    assert_eq!(events.code(), Code::Unimplemented);
    cluster.stop().await
}

#[tokio::test]
async fn healthz_answers() -> anyhow::Result<()> {
    let cluster = start().await?;
    let http1 = Client::builder(TokioExecutor::new()).build_http::<String>();
    let uri: http::Uri = format!("{}/healthz", cluster.endpoint("gateway")).parse()?;
    let resp = http1.get(uri).await?;
    assert_eq!(resp.status(), 200);
    cluster.stop().await
}
