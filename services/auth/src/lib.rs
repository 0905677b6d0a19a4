//! moing-auth: accounts. Social sign-in (Kakao, Google, Apple; development
//! sign-in by nickname where enabled), sign-up, rotating device sessions with
//! refresh-token reuse detection, profiles, withdrawal, and the JWKS every other
//! service verifies access tokens with.
//!
//! Layout (STYLE.md): `config` settings; `startup` wiring; `grpc` the thin
//! handlers; `domain` validation and types; `store` SQL (members, identities);
//! `sessions` Redis (sessions, refresh tokens, rate limits); `providers` Kakao and
//! OIDC verification; `keys` the signing key ring; `error` the one error enum.

pub mod config;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod keys;
pub mod providers;
pub mod sessions;
pub mod startup;
pub mod store;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
