//! The one `main` of every binary: load settings → refuse development secrets
//! in production (before telemetry and before any port, so a misconfigured pod
//! exits at once naming the variable) → telemetry → bind → run until SIGTERM or
//! Ctrl-C. A binary's `main.rs` is a call:
//!
//! ```ignore
//! #[tokio::main]
//! async fn main() -> anyhow::Result<()> {
//!     moing_common::entry::main(moing_auth::startup::run).await
//! }
//! ```

use std::{future::Future, net::SocketAddr};

use serde::{Serialize, de::DeserializeOwned};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::LogSettings;

/// What [`main`] reads from a binary's settings.
pub trait Binary: Serialize + DeserializeOwned + Default {
    /// The service name in logs, traces and metrics.
    const NAME: &'static str;
    /// Where the binary's main port listens.
    fn listen(&self) -> SocketAddr;
    fn log(&self) -> &LogSettings;
    /// Refuses production on a development secret; nothing to check by default.
    fn check_secrets(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Runs a binary: `run` gets its settings, its bound listener and the token
/// cancelled on SIGTERM/Ctrl-C.
pub async fn main<S, F, Fut>(run: F) -> anyhow::Result<()>
where
    S: Binary,
    F: FnOnce(S, TcpListener, CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let settings: S = crate::config::load()?;
    settings.check_secrets()?;
    crate::telemetry::init(S::NAME, settings.log());
    let listener = TcpListener::bind(settings.listen()).await?;
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        crate::server::shutdown_signal().await;
        on_signal.cancel();
    });
    run(settings, listener, shutdown).await
}
