//! moing-gateway: the one door of the cluster (port 8080).
//!
//! - gRPC (HTTP/2) and gRPC-web (HTTP/1.1 or HTTP/2, via `tonic_web`) on the same
//!   port, routed **generically** by the request path `/moing.<svc>.v1.<Service>/<Method>`
//!   to the service that owns package `moing.<svc>` ([`proxy`]).
//! - REST/JSON transcoding driven by the descriptor set's `google.api.http`
//!   annotations ([`routes`], [`transcode`], [`rest`]); no handler per RPC.
//! - OpenAPI 3.1 generated from the same routes at `/openapi.json`, browsable
//!   offline at `/docs` ([`openapi`]).
//! - Edge checks ([`edge`]): access tokens verified with auth's JWKS, per-member
//!   and per-address rate limits; plus CORS, body limit, request ids, deadlines.
//! - Internal services (`*InternalService`, `moing.events.v1.EventSink`) are never
//!   routed. `GET /healthz`, `GET /.well-known/jwks.json`.
//! - Observability ([`observe`]): a span per request continued by every upstream
//!   call (W3C `traceparent`), edge metrics; `/healthz`, `/readyz` and `/metrics`
//!   on the admin port (`admin.listen`, 9080 in development).

pub mod client_ip;
pub mod comments;
pub mod config;
pub mod docs;
pub mod edge;
pub mod errors;
pub mod observe;
pub mod openapi;
pub mod proxy;
pub mod rest;
pub mod routes;
pub mod startup;
pub mod state;
pub mod transcode;
