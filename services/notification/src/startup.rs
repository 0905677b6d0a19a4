//! Builds the notification service from its settings and serves it on a bound listener.

use moing_common::{layer::AccessPolicy, server::ServerBuilder, service};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{MIGRATOR, config::Settings};

/// Migrates the schema, then serves until `shutdown` is cancelled.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let base = &settings.base;
    let pool = service::open_database(&base.database, &MIGRATOR).await?;
    let auth = base.auth_layer(AccessPolicy::default())?;
    let server = ServerBuilder::new();
    service::serve(server, listener, base, pool, auth, shutdown).await
}
