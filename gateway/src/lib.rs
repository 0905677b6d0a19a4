//! moing-gateway: the one door of the cluster (port 8080).
//!
//! - gRPC (HTTP/2) and gRPC-web (HTTP/1.1 or HTTP/2, via `tonic_web`) on the same
//!   port, routed **generically** by the request path `/moing.<svc>.v1.<Service>/<Method>`
//!   to the service that owns package `moing.<svc>`; no per-RPC code.
//! - Internal services (`*InternalService`, `moing.events.v1.EventSink`) are never
//!   routed: they answer `UNIMPLEMENTED` here whatever the caller sends.
//! - `GET /healthz` for load balancers.
//!
//! REST/JSON transcoding, OpenAPI, edge auth and limits arrive with the gateway issue.

pub mod config;
pub mod proxy;
pub mod startup;
