//! moing-testkit: what tests need to run against real infrastructure.
//!
//! - [`TestDb`]: a fresh, migrated MariaDB database per test, dropped afterwards.
//! - [`TestRedis`]: a Redis key namespace per test, cleaned afterwards.
//! - [`S3Server`]: the embedded S3 server (s3s-fs) verifying real SigV4 signatures.
//! - [`KakaoProvider`], [`OidcProvider`]: social provider stand-ins (real protocols).
//! - [`FcmServer`]: an FCM HTTP v1 stand-in (OAuth grant, messages:send, FCM's errors).
//! - [`Tokens`]: a signing key and signed access tokens, with a matching verifier.
//! - [`assert_status`], [`assert_invalid`]: checks of the error model on failed calls.
//! - [`fuzz`]: a property test over every method of a service (generated requests).
//! - [`Cluster`]: binds port 0 for each named service first, then starts them, so
//!   every service knows every endpoint and nobody waits with `sleep`.
//!
//! Infrastructure comes from `scripts/test` (or `scripts/up`); the admin URL is
//! `MOING_TEST_DATABASE_URL`, Redis is `MOING_TEST_REDIS_URL`.

mod assert;
mod cluster;
pub mod concurrency;
mod db;
mod fcm;
pub mod fuzz;
mod outage;
mod providers;
mod redis_ns;
mod s3;
mod teams;
mod tokens;

pub use assert::{assert_invalid, assert_status};
pub use cluster::Cluster;
pub use db::{TestDb, admin_url};
pub use fcm::{FcmFailure, FcmServer, ReceivedMessage};
pub use outage::Outage;
pub use providers::{KakaoProvider, OidcProvider};
pub use redis_ns::TestRedis;
pub use s3::S3Server;
pub use teams::{bearer, create_team, join_team, seoul_date, seoul_today};
pub use tokens::Tokens;

/// Installs a test log subscriber once (honours `RUST_LOG`).
pub fn init_logs() {
    moing_common::telemetry::init(
        "test",
        &moing_common::config::LogSettings {
            json: false,
            filter: "warn".into(),
            ..Default::default()
        },
    );
}
