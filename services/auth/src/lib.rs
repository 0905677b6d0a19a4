//! moing-auth: accounts. Social sign-in (Kakao, Google, Apple; development
//! sign-in by nickname where enabled), sign-up, rotating device sessions with
//! refresh-token reuse detection, profiles, withdrawal, and the JWKS every other
//! service verifies access tokens with.
//!
//! Layout (docs/service-inside.md): `config` settings; `startup` wiring; `error`
//! the one error enum, its gRPC mapping and reason codes; `grpc` both services
//! in proto order, handlers per group in `grpc/` (sign-in, sessions, profile,
//! internal) and proto ⇄ domain in `grpc/wire.rs`; `domain` validation and
//! types; `store` SQL (members, identities); named clients: `sessions` Redis
//! (sessions, refresh tokens, rate limits), `providers` Kakao and OIDC
//! verification, `keys` the signing key ring, `leadership` moim's answer to
//! "does this member lead an active team".

pub mod config;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod keys;
pub mod leadership;
pub mod providers;
pub mod sessions;
pub mod startup;
pub mod store;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
