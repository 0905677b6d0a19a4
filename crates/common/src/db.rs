//! Database pool and migrations. Each service's migrations are applied together
//! with the shared ones of this crate (outbox, processed events), in version order,
//! so one `_sqlx_migrations` table records both.

use std::time::Duration;

use sqlx::{
    MySqlPool,
    migrate::Migrator,
    mysql::{MySqlConnectOptions, MySqlPoolOptions},
};

use crate::config::DatabaseSettings;

/// Shared tables every service with events needs (versions `2026000000xxxx`,
/// below every service's own).
pub static COMMON_MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Opens the pool without touching the database yet; health reports the truth later.
pub fn lazy_pool(settings: &DatabaseSettings) -> anyhow::Result<MySqlPool> {
    let options: MySqlConnectOptions = settings.url.parse()?;
    Ok(MySqlPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
        .connect_lazy_with(options))
}

/// Runs the shared migrations and then the service's own.
pub async fn migrate(pool: &MySqlPool, service: &Migrator) -> anyhow::Result<()> {
    let mut migrations: Vec<_> = COMMON_MIGRATOR
        .iter()
        .chain(service.iter())
        .cloned()
        .collect();
    migrations.sort_by_key(|m| m.version);
    let combined = Migrator::with_migrations(migrations);
    combined.run(pool).await?;
    Ok(())
}

/// A cheap liveness probe for health reporting.
pub async fn ping(pool: &MySqlPool) -> bool {
    sqlx::query("SELECT 1").execute(pool).await.is_ok()
}

/// True when a sqlx error is a duplicate-key violation (MySQL/MariaDB 1062).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23000")
        && db.message().contains("Duplicate"))
}
