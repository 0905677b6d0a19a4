//! State-of-the-World ADS. Each stream keeps, per type URL: the names the node
//! subscribed to, the version and nonce of the last response, and the version
//! it last ACKed. A request whose nonce is not the last one sent is stale and
//! ignored; a NACK (error_detail set) is logged and the rejected version is not
//! resent until the endpoints change again; an ACK records the version. When
//! discovery changes, every subscribed type is pushed with the new version.
//! Delta xDS answers UNIMPLEMENTED.

use std::{collections::BTreeMap, pin::Pin, sync::Arc};

use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
    aggregated_discovery_service_server::AggregatedDiscoveryService,
};
use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tonic::{Request, Response, Status, Streaming};

use crate::{
    discovery::Discovery,
    resources::{self, CLUSTER, Edge, LISTENER, Resources},
};

/// Per type URL bookkeeping of one stream.
#[derive(Debug, Default, Clone)]
struct TypeState {
    names: Vec<String>,
    sent_version: String,
    nonce: String,
    acked_version: String,
    nacked_version: String,
}

#[derive(Debug)]
pub struct Ads {
    discovery: Arc<Discovery>,
    clusters: Vec<String>,
    edge: Edge,
}

impl Ads {
    pub fn new(discovery: Arc<Discovery>, clusters: Vec<String>, edge: Edge) -> Self {
        Self {
            discovery,
            clusters,
            edge,
        }
    }
}

/// LDS and CDS with no names mean "everything" (wildcard).
fn wildcard(type_url: &str) -> bool {
    type_url == LISTENER || type_url == CLUSTER
}

fn response(
    type_url: &str,
    version: &str,
    state: &TypeState,
    all: &Resources,
) -> DiscoveryResponse {
    let of_type = all.get(type_url).cloned().unwrap_or_default();
    let resources = if state.names.is_empty() && wildcard(type_url) {
        of_type.into_values().collect()
    } else {
        state
            .names
            .iter()
            .filter_map(|n| of_type.get(n).cloned())
            .collect()
    };
    DiscoveryResponse {
        version_info: version.to_owned(),
        resources,
        type_url: type_url.to_owned(),
        nonce: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    }
}

type AdsStream = Pin<Box<dyn Stream<Item = Result<DiscoveryResponse, Status>> + Send>>;
type DeltaStream = Pin<Box<dyn Stream<Item = Result<DeltaDiscoveryResponse, Status>> + Send>>;

#[tonic::async_trait]
impl AggregatedDiscoveryService for Ads {
    type StreamAggregatedResourcesStream = AdsStream;
    type DeltaAggregatedResourcesStream = DeltaStream;

    async fn stream_aggregated_resources(
        &self,
        request: Request<Streaming<DiscoveryRequest>>,
    ) -> Result<Response<AdsStream>, Status> {
        let mut incoming = request.into_inner();
        let (tx, rx) = mpsc::channel(16);
        let discovery = self.discovery.clone();
        let clusters = self.clusters.clone();
        let edge = self.edge.clone();
        tokio::spawn(async move {
            let mut changes = discovery.subscribe();
            // The node arrives on the first request only (gRPC clients); keep it.
            let mut node_id = String::new();
            let mut types: BTreeMap<String, TypeState> = BTreeMap::new();
            let (mut version, mut endpoints) = discovery.snapshot();
            let mut all = Resources::new();
            loop {
                tokio::select! {
                    next = incoming.next() => {
                        let req = match next {
                            Some(Ok(r)) => r,
                            Some(Err(e)) => { tracing::debug!(error = %e, "ads stream error"); break; }
                            None => break,
                        };
                        if node_id.is_empty() {
                            node_id = req.node.as_ref().map(|n| n.id.clone()).unwrap_or_default();
                            all = resources::build(&node_id, &clusters, &endpoints, &edge);
                            tracing::info!(node = %node_id, "ads stream opened");
                        }
                        let state = types.entry(req.type_url.clone()).or_default();
                        if !req.response_nonce.is_empty() && req.response_nonce != state.nonce {
                            tracing::debug!(node = %node_id, type_url = %req.type_url, "stale nonce ignored");
                            continue;
                        }
                        let names_changed = req.resource_names != state.names;
                        state.names = req.resource_names.clone();
                        if let Some(err) = &req.error_detail {
                            tracing::warn!(node = %node_id, type_url = %req.type_url, version = %state.sent_version, message = %err.message, "NACK");
                            state.nacked_version = state.sent_version.clone();
                            if !names_changed {
                                continue;
                            }
                        } else if !req.response_nonce.is_empty() {
                            state.acked_version = req.version_info.clone();
                            if !names_changed {
                                continue;
                            }
                        }
                        let v = version.to_string();
                        let resp = response(&req.type_url, &v, state, &all);
                        state.sent_version = v;
                        state.nonce = resp.nonce.clone();
                        if tx.send(Ok(resp)).await.is_err() { break; }
                    }
                    changed = changes.changed() => {
                        if changed.is_err() { break; }
                        (version, endpoints) = discovery.snapshot();
                        all = resources::build(&node_id, &clusters, &endpoints, &edge);
                        let v = version.to_string();
                        for (type_url, state) in types.iter_mut() {
                            if state.sent_version == v {
                                continue;
                            }
                            let resp = response(type_url, &v, state, &all);
                            state.sent_version = v.clone();
                            state.nonce = resp.nonce.clone();
                            if tx.send(Ok(resp)).await.is_err() { return; }
                        }
                    }
                }
            }
            tracing::info!(node = %node_id, "ads stream closed");
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn delta_aggregated_resources(
        &self,
        _request: Request<Streaming<DeltaDiscoveryRequest>>,
    ) -> Result<Response<DeltaStream>, Status> {
        Err(Status::unimplemented(
            "delta xDS is not supported; use state-of-the-world ADS",
        ))
    }
}
