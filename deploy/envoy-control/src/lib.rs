//! moing-envoy-control: the xDS control plane of the MOING cluster.
//!
//! Serves State-of-the-World ADS (LDS, RDS, CDS, EDS; delta answers
//! UNIMPLEMENTED) on envoy-types 0.7 + tonic to Envoy at the edge and to
//! proxyless gRPC clients. Endpoints come from DNS of headless services, a
//! static file reloaded on change, and a registration RPC with heartbeats
//! ([`discovery`]); resources per node kind are built in [`resources`]; the
//! per-stream ACK/NACK state machine is [`ads`].

pub mod ads;
pub mod discovery;
pub mod registry;
pub mod resources;
pub mod startup;
