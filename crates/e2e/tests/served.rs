//! Every RPC declared in `proto/` is served by a real handler: the descriptor
//! set is enumerated and each method of every service is called once on the
//! service that owns its package (the whole cluster in process), with an empty
//! request and the caller's credential (a member's token for public services,
//! the service credential for internal ones and the event sink). Any answer
//! but UNIMPLEMENTED, the generated default stub's, counts as served: most
//! say INVALID_ARGUMENT to the empty request, which is a handler speaking.

mod support;

use std::{str::FromStr, time::Duration};

use bytes::Bytes;
use http::uri::PathAndQuery;
use moing_common::codec::RawCodec;
use prost_reflect::{DescriptorPool, MethodDescriptor};
use support::Stack;
use tonic::{Code, Request, client::Grpc, metadata::MetadataValue, transport::Channel};

/// Which process serves a package (`moing.<service>.v1`; the event sink is on
/// every consumer, board's here).
fn owner(service: &str) -> Option<&'static str> {
    let pkg = service.split('.').nth(1)?;
    Some(match pkg {
        "auth" => "auth",
        "moim" => "moim",
        "mission" => "mission",
        "board" => "board",
        "notification" => "notification",
        "events" => "board",
        "xds" => "envoy-control",
        _ => return None,
    })
}

async fn call(
    channel: &Channel,
    method: &MethodDescriptor,
    header: (&'static str, String),
) -> Result<Code, tonic::Status> {
    let mut grpc = Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut req = Request::new(Bytes::new());
    req.set_timeout(Duration::from_secs(10));
    if let Ok(v) = MetadataValue::from_str(&header.1) {
        req.metadata_mut().insert(header.0, v);
    }
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let path = PathAndQuery::from_str(&path).map_err(|e| tonic::Status::internal(e.to_string()))?;
    let answer = if method.is_server_streaming() {
        match grpc.server_streaming(req, path, RawCodec).await {
            Ok(resp) => {
                let mut stream = resp.into_inner();
                match tokio::time::timeout(Duration::from_secs(2), stream.message()).await {
                    Ok(Err(status)) => Err(status),
                    _ => Ok(()),
                }
            }
            Err(status) => Err(status),
        }
    } else {
        grpc.unary(req, path, RawCodec).await.map(|_| ())
    };
    Ok(match answer {
        Ok(()) => Code::Ok,
        Err(s) => s.code(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_declared_rpc_is_served_by_a_real_handler() {
    let mut stack = Stack::start().await;
    // The xDS control plane's registry is declared in proto/ too.
    let xds = moing_envoy_control::startup::Settings {
        service_token: stack.service_token.clone(),
        ..Default::default()
    };
    stack
        .cluster
        .spawn("envoy-control", |l, stop| {
            moing_envoy_control::startup::run(xds, l, stop)
        })
        .expect("envoy-control");
    let token = stack.member("served").await;
    let service_token = stack.service_token.clone();
    let pool = DescriptorPool::decode(moing_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
    let mut served = Vec::new();
    let mut missing = Vec::new();
    // Calls that end the caller's session go last.
    let last = ["SignOut", "RevokeSession", "Withdraw"];
    let mut methods: Vec<MethodDescriptor> = pool
        .services()
        .filter(|s| s.full_name().starts_with("moing."))
        .flat_map(|s| s.methods().collect::<Vec<_>>())
        .collect();
    methods.sort_by_key(|m| last.contains(&m.name()));
    for method in methods {
        let service = method.parent_service().full_name().to_owned();
        let Some(process) = owner(&service) else {
            panic!("{service}: no process owns this package");
        };
        let channel = Channel::from_shared(stack.cluster.endpoint(process))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        let internal = service.ends_with("InternalService") || service.ends_with("EventSink");
        let header = if internal {
            ("x-moing-service-token", service_token.clone())
        } else {
            ("authorization", format!("Bearer {token}"))
        };
        let name = format!("{service}/{}", method.name());
        match call(&channel, &method, header).await {
            Ok(Code::Unimplemented) => missing.push(name),
            Ok(code) => served.push((name, code)),
            Err(status) => panic!("{name}: {status}"),
        }
    }
    assert!(
        missing.is_empty(),
        "not served (generated stubs): {missing:#?}"
    );
    assert!(served.len() >= 100, "only {} methods found", served.len());
    println!("{} methods served: {served:?}", served.len());
}
