//! moing-common: what every MOING service runs on, and nothing domain-specific.
//!
//! - [`config`]: layered settings (defaults ← TOML ← `MOING_*` env) and shared sections.
//! - [`clock`]: the one source of "now" (system clock, shiftable in tests by `MOING_CLOCK_AT`).
//! - [`codec`]: the pass-through gRPC codec (encoded bytes in, encoded bytes out).
//! - [`convert`]: chrono ⇄ protobuf time types.
//! - [`entry`]: the one `main` of every binary (settings → secrets → telemetry → bind → run).
//! - [`telemetry`]: tracing subscriber set-up.
//! - [`error`]: the error-code model: gRPC status + `ErrorInfo` reason + `BadRequest`.
//! - [`token`]: EdDSA access tokens: signing (auth, tests) and JWKS-cached verification.
//! - [`layer`]: the tower layer that authenticates every call and yields a `Principal`.
//! - [`server`]: the gRPC bootstrap (health, reflection v1 + v1alpha, layers, shutdown).
//! - [`client`]: lazy channels with deadlines and the service credential.
//! - [`http`]: the outbound HTTP client (rustls + ring, deadlines).
//! - [`db`]: pools and migrations (shared outbox tables + the service's own).
//! - [`outbox`]: transactional outbox, relay, and the de-duplicating event sink.
//! - [`jobs`]: `FOR UPDATE SKIP LOCKED` claiming of due background work.
//! - [`sessions`]: immediate revocation: the access token's session must still be live.
//! - [`service`]: base settings and the standard run loop of a service.
//! - [`observe`]: per-call spans, W3C trace propagation and RPC metrics.
//! - [`metrics`]: the Prometheus registry any crate records into by name.
//! - [`admin`]: the admin HTTP port (`/healthz`, `/readyz`, `/metrics`).
//!
//! Admission rule: code lives here only when two or more crates use it.

pub mod admin;
pub mod client;
pub mod clock;
pub mod codec;
pub mod config;
pub mod convert;
pub mod db;
pub mod display;
pub mod entry;
pub mod error;
pub mod export;
pub mod http;
pub mod jobs;
pub mod layer;
pub mod membership;
pub mod metrics;
pub mod observe;
pub mod outbox;
pub mod server;
pub mod service;
pub mod sessions;
pub mod telemetry;
pub mod token;

pub use error::{ApiError, Validator};
pub use token::Principal;
