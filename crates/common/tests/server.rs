//! The gRPC bootstrap: health, reflection v1 and v1alpha, and the auth gate.

use moing_common::{
    config::GrpcSettings, error::status_reason, layer::AccessPolicy, server::ServerBuilder,
    token::MemberState,
};
use moing_proto::moing::moim::v1::{GetTeamRequest, team_service_client::TeamServiceClient};
use moing_testkit::Tokens;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_reflection::pb::{v1, v1alpha};
use uuid::Uuid;

async fn start(tokens: &Tokens) -> anyhow::Result<(Channel, CancellationToken)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let stop = CancellationToken::new();
    let shutdown = stop.clone();
    let layer = tokens.auth_layer(AccessPolicy::default());
    tokio::spawn(async move {
        ServerBuilder::new()
            .serve(
                listener,
                &GrpcSettings::default(),
                Some(layer),
                async move { shutdown.cancelled().await },
            )
            .await
    });
    Ok((Channel::from_shared(endpoint)?.connect().await?, stop))
}

#[tokio::test]
async fn health_and_both_reflection_versions_answer_without_token() -> anyhow::Result<()> {
    let tokens = Tokens::new();
    let (channel, stop) = start(&tokens).await?;
    let status = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?
        .into_inner()
        .status;
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    let mut v1_client = v1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let req = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut stream = v1_client
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await?
        .into_inner();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) = stream
        .next()
        .await
        .transpose()?
        .and_then(|r| r.message_response)
    else {
        anyhow::bail!("no list from v1");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.iter().any(|n| n == "grpc.health.v1.Health"),
        "{names:?}"
    );

    let mut alpha = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let req = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
                "grpc.health.v1.Health".into(),
            ),
        ),
    };
    let mut stream = alpha
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await?
        .into_inner();
    let answer = stream
        .next()
        .await
        .transpose()?
        .and_then(|r| r.message_response);
    assert!(
        matches!(
            answer,
            Some(v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(_))
        ),
        "health descriptors are registered for v1alpha"
    );
    stop.cancel();
    Ok(())
}

#[tokio::test]
async fn member_methods_need_a_valid_active_token() -> anyhow::Result<()> {
    let tokens = Tokens::new();
    let (channel, stop) = start(&tokens).await?;
    let mut client = TeamServiceClient::new(channel);
    let call = |token: Option<String>| {
        let mut req = Request::new(GetTeamRequest {
            team_id: Uuid::now_v7().to_string(),
        });
        if let Some(t) = token {
            req.metadata_mut().insert(
                "authorization",
                format!("Bearer {t}").parse().expect("header"),
            );
        }
        req
    };

    let err = client.get_team(call(None)).await.expect_err("no token");
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(status_reason(&err).as_deref(), Some("TOKEN_MISSING"));

    let err = client
        .get_team(call(Some("not.a.jwt".into())))
        .await
        .expect_err("garbage");
    assert_eq!(status_reason(&err).as_deref(), Some("TOKEN_INVALID"));

    let foreign = Tokens::new().access(Uuid::now_v7(), MemberState::Active);
    let err = client
        .get_team(call(Some(foreign)))
        .await
        .expect_err("foreign key");
    assert_eq!(err.code(), Code::Unauthenticated);

    let pending = tokens.access(Uuid::now_v7(), MemberState::Pending);
    let err = client
        .get_team(call(Some(pending)))
        .await
        .expect_err("pending");
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(status_reason(&err).as_deref(), Some("MEMBER_PENDING"));

    // A valid token passes the gate; this bare server has no TeamService behind it.
    let active = tokens.access(Uuid::now_v7(), MemberState::Active);
    let err = client
        .get_team(call(Some(active)))
        .await
        .expect_err("not served here");
    assert_eq!(err.code(), Code::Unimplemented);
    stop.cancel();
    Ok(())
}

#[tokio::test]
async fn internal_methods_need_the_service_credential() -> anyhow::Result<()> {
    let tokens = Tokens::new();
    let (channel, stop) = start(&tokens).await?;
    let mut sink = moing_proto::moing::events::v1::event_sink_client::EventSinkClient::new(channel);
    let err = sink
        .deliver(moing_proto::moing::events::v1::DeliverRequest { events: vec![] })
        .await
        .expect_err("no credential");
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(
        status_reason(&err).as_deref(),
        Some("SERVICE_CREDENTIAL_REQUIRED")
    );
    let mut req = Request::new(moing_proto::moing::events::v1::DeliverRequest { events: vec![] });
    req.metadata_mut()
        .insert("x-moing-service-token", "wrong".parse().expect("header"));
    let err = sink.deliver(req).await.expect_err("wrong credential");
    assert_eq!(err.code(), Code::Unauthenticated);
    stop.cancel();
    Ok(())
}
