//! xDS resources built from the endpoints, per kind of node:
//! - **proxyless gRPC clients** (any node id not starting with `envoy`): one API
//!   listener per cluster named like the `xds:///<cluster>` target, its route
//!   configuration (RDS), an EDS cluster and its load assignment.
//! - **Envoy at the edge** (node id `envoy…`): a socket listener with the
//!   gRPC-web, CORS and router filters sending everything to the gateway (which
//!   does gRPC-web, REST and edge auth), plus HTTP/2 clusters for every service
//!   so gRPC between services can also go through Envoy.

use std::collections::BTreeMap;

use envoy_types::pb::{
    envoy::{
        config::{
            cluster::v3::{
                Cluster,
                cluster::{ClusterDiscoveryType, DiscoveryType, EdsClusterConfig, LbPolicy},
            },
            core::v3::{
                Address, AggregatedConfigSource, ApiVersion, ConfigSource, Http2ProtocolOptions,
                Locality, SocketAddress, address, config_source::ConfigSourceSpecifier,
                socket_address::PortSpecifier,
            },
            endpoint::v3::{
                ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints,
                lb_endpoint::HostIdentifier,
            },
            listener::v3::{ApiListener, Filter, FilterChain, Listener, filter},
            route::v3::{
                Route, RouteAction, RouteConfiguration, RouteMatch, VirtualHost, route,
                route_action::ClusterSpecifier, route_match::PathSpecifier,
            },
        },
        extensions::{
            filters::{
                http::{cors::v3::Cors, grpc_web::v3::GrpcWeb, router::v3::Router},
                network::http_connection_manager::v3::{
                    HttpConnectionManager, HttpFilter, Rds,
                    http_connection_manager::RouteSpecifier, http_filter,
                },
            },
            upstreams::http::v3::{
                HttpProtocolOptions,
                http_protocol_options::{
                    ExplicitHttpConfig, UpstreamProtocolOptions,
                    explicit_http_config::ProtocolConfig,
                },
            },
        },
        r#type::matcher::v3::RegexMatcher,
    },
    google::protobuf::{Any, BoolValue, Duration, UInt32Value},
};
use prost::{Message, Name};

use crate::discovery::Endpoints;

pub const LISTENER: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";
pub const ROUTE: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
pub const CLUSTER: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
pub const ENDPOINT: &str = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

/// Resources by type URL, each by name.
pub type Resources = BTreeMap<&'static str, BTreeMap<String, Any>>;

fn any<M: Message + Name>(m: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}

fn ads() -> ConfigSource {
    ConfigSource {
        resource_api_version: ApiVersion::V3 as i32,
        config_source_specifier: Some(ConfigSourceSpecifier::Ads(AggregatedConfigSource {})),
        ..Default::default()
    }
}

fn router_filter() -> HttpFilter {
    HttpFilter {
        name: "envoy.filters.http.router".into(),
        config_type: Some(http_filter::ConfigType::TypedConfig(
            any(&Router::default()),
        )),
        ..Default::default()
    }
}

fn hcm(route_name: &str, stat_prefix: &str, filters: Vec<HttpFilter>) -> HttpConnectionManager {
    HttpConnectionManager {
        stat_prefix: stat_prefix.into(),
        route_specifier: Some(RouteSpecifier::Rds(Rds {
            config_source: Some(ads()),
            route_config_name: route_name.into(),
        })),
        http_filters: filters,
        ..Default::default()
    }
}

fn route_to(name: &str, cluster: &str, domains: Vec<String>) -> RouteConfiguration {
    RouteConfiguration {
        name: name.into(),
        virtual_hosts: vec![VirtualHost {
            name: format!("{cluster}-vhost"),
            domains,
            routes: vec![Route {
                r#match: Some(RouteMatch {
                    path_specifier: Some(PathSpecifier::Prefix(String::new())),
                    ..Default::default()
                }),
                action: Some(route::Action::Route(RouteAction {
                    cluster_specifier: Some(ClusterSpecifier::Cluster(cluster.into())),
                    ..Default::default()
                })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// How long a server stream through the edge may go without a message: above
/// the 15-second heartbeat of WatchGoalBoard.
pub const STREAM_IDLE_SECS: i64 = 60;

/// The edge's routes: everything to the gateway; the server streams (the live
/// goal board over gRPC-web and as REST NDJSON) without the 15-second route
/// timeout, bounded instead by an idle timeout the heartbeats keep from firing.
fn edge_route(cluster: &str) -> RouteConfiguration {
    let mut config = route_to("edge-route", cluster, vec!["*".into()]);
    let streaming = |path: PathSpecifier| Route {
        r#match: Some(RouteMatch {
            path_specifier: Some(path),
            ..Default::default()
        }),
        action: Some(route::Action::Route(RouteAction {
            cluster_specifier: Some(ClusterSpecifier::Cluster(cluster.into())),
            timeout: Some(Duration {
                seconds: 0,
                nanos: 0,
            }),
            idle_timeout: Some(Duration {
                seconds: STREAM_IDLE_SECS,
                nanos: 0,
            }),
            ..Default::default()
        })),
        ..Default::default()
    };
    let streams = [
        streaming(PathSpecifier::Path(
            "/moing.board.v1.BoardService/WatchGoalBoard".into(),
        )),
        streaming(PathSpecifier::SafeRegex(RegexMatcher {
            regex: "^/v1/teams/[^/]+/goal-board:watch$".into(),
            ..Default::default()
        })),
    ];
    if let Some(host) = config.virtual_hosts.first_mut() {
        host.routes.splice(0..0, streams);
    }
    config
}

fn eds_cluster(name: &str, http2: bool) -> Cluster {
    let mut cluster = Cluster {
        name: name.into(),
        cluster_discovery_type: Some(ClusterDiscoveryType::Type(DiscoveryType::Eds as i32)),
        eds_cluster_config: Some(EdsClusterConfig {
            eds_config: Some(ads()),
            service_name: String::new(),
        }),
        lb_policy: LbPolicy::RoundRobin as i32,
        ..Default::default()
    };
    if http2 {
        // Envoy must speak HTTP/2 to gRPC upstreams.
        let options = HttpProtocolOptions {
            upstream_protocol_options: Some(UpstreamProtocolOptions::ExplicitHttpConfig(
                ExplicitHttpConfig {
                    protocol_config: Some(ProtocolConfig::Http2ProtocolOptions(
                        Http2ProtocolOptions::default(),
                    )),
                },
            )),
            ..Default::default()
        };
        cluster.typed_extension_protocol_options.insert(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions".into(),
            any(&options),
        );
    }
    cluster
}

fn socket(ip: &str, port: u16) -> Address {
    Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: ip.into(),
            port_specifier: Some(PortSpecifier::PortValue(u32::from(port))),
            ..Default::default()
        })),
    }
}

fn assignment(name: &str, endpoints: &Endpoints) -> ClusterLoadAssignment {
    let lb_endpoints = endpoints
        .get(name)
        .map(|addrs| {
            addrs
                .iter()
                .map(|a| LbEndpoint {
                    host_identifier: Some(HostIdentifier::Endpoint(Endpoint {
                        address: Some(socket(&a.ip().to_string(), a.port())),
                        ..Default::default()
                    })),
                    ..Default::default()
                })
                .collect()
        })
        .unwrap_or_default();
    ClusterLoadAssignment {
        cluster_name: name.into(),
        endpoints: vec![LocalityLbEndpoints {
            locality: Some(Locality {
                region: "local".into(),
                ..Default::default()
            }),
            lb_endpoints,
            // gRPC clients require a weight on every locality.
            load_balancing_weight: Some(UInt32Value { value: 1 }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Edge listener settings for Envoy nodes.
#[derive(Debug, Clone)]
pub struct Edge {
    pub port: u16,
    pub gateway_cluster: String,
}

/// Everything a node of this kind should see for `clusters` and `endpoints`.
pub fn build(node_id: &str, clusters: &[String], endpoints: &Endpoints, edge: &Edge) -> Resources {
    let mut out: Resources = BTreeMap::new();
    let envoy = node_id.starts_with("envoy");
    for name in clusters {
        out.entry(CLUSTER)
            .or_default()
            .insert(name.clone(), any(&eds_cluster(name, envoy)));
        out.entry(ENDPOINT)
            .or_default()
            .insert(name.clone(), any(&assignment(name, endpoints)));
        if !envoy {
            let route_name = format!("{name}-route");
            let listener = Listener {
                name: name.clone(),
                api_listener: Some(ApiListener {
                    api_listener: Some(any(&hcm(&route_name, name, vec![router_filter()]))),
                }),
                ..Default::default()
            };
            out.entry(LISTENER)
                .or_default()
                .insert(name.clone(), any(&listener));
            out.entry(ROUTE).or_default().insert(
                route_name.clone(),
                any(&route_to(&route_name, name, vec![name.clone(), "*".into()])),
            );
        }
    }
    if envoy {
        let filters = vec![
            HttpFilter {
                name: "envoy.filters.http.grpc_web".into(),
                config_type: Some(http_filter::ConfigType::TypedConfig(any(
                    &GrpcWeb::default(),
                ))),
                ..Default::default()
            },
            HttpFilter {
                name: "envoy.filters.http.cors".into(),
                config_type: Some(http_filter::ConfigType::TypedConfig(any(&Cors::default()))),
                ..Default::default()
            },
            router_filter(),
        ];
        let listener = Listener {
            name: "edge".into(),
            address: Some(socket("0.0.0.0", edge.port)),
            filter_chains: vec![FilterChain {
                filters: vec![Filter {
                    name: "envoy.filters.network.http_connection_manager".into(),
                    // The client's address goes to the gateway in x-forwarded-for
                    // (appended by Envoy, which the gateway trusts as a proxy).
                    config_type: Some(filter::ConfigType::TypedConfig(any(
                        &HttpConnectionManager {
                            use_remote_address: Some(BoolValue { value: true }),
                            ..hcm("edge-route", "edge", filters)
                        },
                    ))),
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        out.entry(LISTENER)
            .or_default()
            .insert("edge".into(), any(&listener));
        out.entry(ROUTE)
            .or_default()
            .insert("edge-route".into(), any(&edge_route(&edge.gateway_cluster)));
    }
    out
}
