//! The ADS state machine through a real xDS client stream (envoy-types client).

use std::time::Duration;

use envoy_types::pb::{
    envoy::{
        config::{
            core::v3::Node,
            endpoint::v3::ClusterLoadAssignment,
            listener::v3::Listener,
            route::v3::{RouteConfiguration, route, route_match::PathSpecifier},
        },
        service::discovery::v3::{
            DeltaDiscoveryRequest, DiscoveryRequest, DiscoveryResponse,
            aggregated_discovery_service_client::AggregatedDiscoveryServiceClient,
        },
    },
    google::rpc::Status as RpcStatus,
};
use moing_envoy_control::{
    resources::{CLUSTER, ENDPOINT, LISTENER, ROUTE, STREAM_IDLE_SECS},
    startup::{self, Settings},
};
use moing_proto::moing::xds::v1::{
    DeregisterRequest, RegisterRequest,
    registry_internal_service_client::RegistryInternalServiceClient,
};
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Streaming, transport::Channel};

struct Plane {
    channel: Channel,
    stop: CancellationToken,
    _dir: std::path::PathBuf,
}

impl Drop for Plane {
    fn drop(&mut self) {
        self.stop.cancel();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

async fn start() -> Plane {
    let dir = std::env::temp_dir().join(format!("xds-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("endpoints.json");
    std::fs::write(&file, r#"{"clusters":{"auth":["127.0.0.1:1111"]}}"#).expect("write");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let stop = CancellationToken::new();
    let settings = Settings {
        static_file: Some(file),
        service_token: "t".into(),
        ..Settings::default()
    };
    tokio::spawn(startup::run(settings, listener, stop.clone()));
    let channel = Channel::from_shared(endpoint)
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    Plane {
        channel,
        stop,
        _dir: dir,
    }
}

struct Stream {
    tx: mpsc::Sender<DiscoveryRequest>,
    rx: Streaming<DiscoveryResponse>,
    node: String,
}

impl Stream {
    async fn open(plane: &Plane, node: &str) -> Self {
        let (tx, rx) = mpsc::channel(8);
        let rx = AggregatedDiscoveryServiceClient::new(plane.channel.clone())
            .stream_aggregated_resources(ReceiverStream::new(rx))
            .await
            .expect("stream")
            .into_inner();
        Self {
            tx,
            rx,
            node: node.into(),
        }
    }

    async fn send(&self, type_url: &str, names: &[&str], version: &str, nonce: &str, nack: bool) {
        let req = DiscoveryRequest {
            node: Some(Node {
                id: self.node.clone(),
                ..Default::default()
            }),
            type_url: type_url.into(),
            resource_names: names.iter().map(|n| n.to_string()).collect(),
            version_info: version.into(),
            response_nonce: nonce.into(),
            error_detail: nack.then(|| RpcStatus {
                code: 3,
                message: "rejected".into(),
                details: vec![],
            }),
            ..Default::default()
        };
        self.tx.send(req).await.expect("send");
    }

    async fn next(&mut self) -> DiscoveryResponse {
        tokio::time::timeout(Duration::from_secs(10), self.rx.next())
            .await
            .expect("a response in time")
            .expect("stream open")
            .expect("ok response")
    }

    /// True when nothing arrives within a short window (after an ACK or NACK).
    async fn quiet(&mut self) -> bool {
        tokio::time::timeout(Duration::from_millis(300), self.rx.next())
            .await
            .is_err()
    }
}

fn endpoints(resp: &DiscoveryResponse) -> usize {
    resp.resources
        .iter()
        .filter_map(|a| ClusterLoadAssignment::decode(a.value.as_slice()).ok())
        .map(|c| {
            c.endpoints
                .iter()
                .map(|l| l.lb_endpoints.len())
                .sum::<usize>()
        })
        .sum()
}

fn registry(plane: &Plane) -> RegistryInternalServiceClient<Channel> {
    RegistryInternalServiceClient::new(plane.channel.clone())
}

fn with_token<T>(msg: T) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut()
        .insert("x-moing-service-token", "t".parse().expect("header"));
    r
}

#[tokio::test]
async fn ack_nack_and_pushes_on_endpoint_changes() {
    let plane = start().await;
    let mut s = Stream::open(&plane, "client-a").await;
    // The static file is read right after start; wait for its version if needed.
    s.send(ENDPOINT, &["auth"], "", "", false).await;
    let mut eds = s.next().await;
    while endpoints(&eds) == 0 {
        s.send(ENDPOINT, &["auth"], &eds.version_info, &eds.nonce, false)
            .await;
        eds = s.next().await;
    }
    assert_eq!(endpoints(&eds), 1);
    s.send(ENDPOINT, &["auth"], &eds.version_info, &eds.nonce, false)
        .await;
    assert!(s.quiet().await, "an ACK gets no response");

    let lease = registry(&plane)
        .register(with_token(RegisterRequest {
            cluster: "auth".into(),
            host: "127.0.0.1".into(),
            port: 2222,
            ttl_seconds: 30,
        }))
        .await
        .expect("register")
        .into_inner()
        .lease_id;
    let pushed = s.next().await;
    assert_ne!(
        pushed.version_info, eds.version_info,
        "a change is a new version"
    );
    assert_eq!(endpoints(&pushed), 2);

    // NACK the new version: it is not resent.
    s.send(ENDPOINT, &["auth"], &eds.version_info, &pushed.nonce, true)
        .await;
    assert!(s.quiet().await, "a NACKed version is not resent");
    // A stale nonce is ignored.
    s.send(ENDPOINT, &["auth"], &eds.version_info, "stale-nonce", false)
        .await;
    assert!(s.quiet().await);

    registry(&plane)
        .deregister(with_token(DeregisterRequest { lease_id: lease }))
        .await
        .expect("deregister");
    let after = s.next().await;
    assert_eq!(endpoints(&after), 1);

    let unauthorized = registry(&plane)
        .register(Request::new(RegisterRequest {
            cluster: "auth".into(),
            host: "127.0.0.1".into(),
            port: 3,
            ttl_seconds: 5,
        }))
        .await
        .expect_err("needs the credential");
    assert_eq!(unauthorized.code(), Code::Unauthenticated);
    let invalid = registry(&plane)
        .register(with_token(RegisterRequest {
            cluster: "".into(),
            host: "not a host".into(),
            port: 0,
            ttl_seconds: 5,
        }))
        .await
        .expect_err("invalid");
    assert_eq!(invalid.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn nodes_are_isolated_and_get_their_own_resources() {
    let plane = start().await;
    let mut proxyless = Stream::open(&plane, "grpc-client-1").await;
    let mut envoy = Stream::open(&plane, "envoy-edge-1").await;
    proxyless.send(LISTENER, &["auth"], "", "", false).await;
    let lds = proxyless.next().await;
    let names: Vec<String> = lds
        .resources
        .iter()
        .filter_map(|a| Listener::decode(a.value.as_slice()).ok())
        .map(|l| l.name)
        .collect();
    assert_eq!(names, vec!["auth".to_owned()]);
    envoy.send(LISTENER, &[], "", "", false).await;
    let edge = envoy.next().await;
    let names: Vec<String> = edge
        .resources
        .iter()
        .filter_map(|a| Listener::decode(a.value.as_slice()).ok())
        .map(|l| l.name)
        .collect();
    assert_eq!(names, vec!["edge".to_owned()]);

    // The proxyless client NACKs; the envoy stream still gets its next push.
    proxyless
        .send(LISTENER, &["auth"], "", &lds.nonce, true)
        .await;
    envoy.send(CLUSTER, &[], "", "", false).await;
    let cds = envoy.next().await;
    assert_eq!(cds.resources.len(), 6);
    envoy
        .send(CLUSTER, &[], &cds.version_info, &cds.nonce, false)
        .await;
    envoy
        .send(LISTENER, &[], &edge.version_info, &edge.nonce, false)
        .await;
    registry(&plane)
        .register(with_token(RegisterRequest {
            cluster: "gateway".into(),
            host: "127.0.0.1".into(),
            port: 8080,
            ttl_seconds: 30,
        }))
        .await
        .expect("register");
    let pushed = envoy.next().await;
    assert!(pushed.type_url == CLUSTER || pushed.type_url == LISTENER);
}

#[tokio::test]
async fn the_edge_keeps_live_goal_board_streams_open_past_the_route_timeout() {
    let plane = start().await;
    let mut envoy = Stream::open(&plane, "envoy-edge-1").await;
    envoy.send(ROUTE, &["edge-route"], "", "", false).await;
    let rds = envoy.next().await;
    let config = rds
        .resources
        .iter()
        .filter_map(|a| RouteConfiguration::decode(a.value.as_slice()).ok())
        .find(|r| r.name == "edge-route")
        .expect("edge route");
    let routes = &config.virtual_hosts[0].routes;
    assert_eq!(routes.len(), 3, "two streams, then everything else");
    for r in &routes[..2] {
        let Some(route::Action::Route(action)) = &r.action else {
            panic!("a route to the gateway");
        };
        assert_eq!(
            action.timeout.as_ref().map(|d| d.seconds),
            Some(0),
            "no route timeout"
        );
        assert_eq!(
            action.idle_timeout.as_ref().map(|d| d.seconds),
            Some(STREAM_IDLE_SECS),
            "an idle timeout above the 15-second heartbeat"
        );
    }
    assert!(matches!(
        routes[0].r#match.as_ref().and_then(|m| m.path_specifier.as_ref()),
        Some(PathSpecifier::Path(p)) if p == "/moing.board.v1.BoardService/WatchGoalBoard"
    ));
    let Some(route::Action::Route(rest)) = &routes[2].action else {
        panic!("a route to the gateway");
    };
    assert!(
        rest.timeout.is_none(),
        "other calls keep Envoy's default timeout"
    );
}

#[tokio::test]
async fn delta_xds_is_unimplemented() {
    let plane = start().await;
    let (_tx, rx) = mpsc::channel::<DeltaDiscoveryRequest>(1);
    let err = AggregatedDiscoveryServiceClient::new(plane.channel.clone())
        .delta_aggregated_resources(ReceiverStream::new(rx))
        .await
        .expect_err("delta");
    assert_eq!(err.code(), Code::Unimplemented);
}
