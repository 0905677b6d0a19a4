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
    let mut pool = MySqlPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms));
    let (read_committed, idle) = (
        settings.read_committed,
        settings.idle_transaction_timeout_secs,
    );
    if read_committed || idle > 0 {
        pool = pool.after_connect(move |conn, _| {
            Box::pin(async move {
                if read_committed {
                    sqlx::query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                        .execute(&mut *conn)
                        .await?;
                }
                if idle > 0 {
                    sqlx::query("SET SESSION idle_transaction_timeout = ?")
                        .bind(idle)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        });
    }
    Ok(pool.connect_lazy_with(options))
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
    // Replicas starting together migrate one after the other: a named lock
    // held on the connection that migrates (MariaDB does not wait on the
    // lock sqlx takes, so two replicas could both apply a migration).
    let mut conn = pool.acquire().await?;
    let got: Option<i64> =
        sqlx::query_scalar("SELECT GET_LOCK(CONCAT('moing-migrate:', DATABASE()), ?)")
            .bind(MIGRATION_LOCK_WAIT_SECS)
            .fetch_one(&mut *conn)
            .await?;
    anyhow::ensure!(
        got == Some(1),
        "another replica held the migration lock for {MIGRATION_LOCK_WAIT_SECS} s"
    );
    // `run_direct`: `run(&mut *conn)` cannot be awaited in a Send future.
    let result = combined.run_direct(None, &mut *conn, false).await;
    let _ = sqlx::query("SELECT RELEASE_LOCK(CONCAT('moing-migrate:', DATABASE()))")
        .execute(&mut *conn)
        .await;
    result?;
    Ok(())
}

/// How long a replica waits for another one's migrations.
const MIGRATION_LOCK_WAIT_SECS: i64 = 120;

/// A cheap liveness probe for health reporting.
pub async fn ping(pool: &MySqlPool) -> bool {
    sqlx::query("SELECT 1").execute(pool).await.is_ok()
}

/// True when a sqlx error is a duplicate-key violation (MySQL/MariaDB 1062).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23000")
        && db.message().contains("Duplicate"))
}

/// MariaDB error numbers of the lock conflicts a transaction may simply run again
/// after: deadlock (1213, SQLSTATE 40001) and lock wait timeout (1205).
const ER_LOCK_DEADLOCK: u16 = 1213;
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;

/// A failure that may be a lock conflict: implemented by `sqlx::Error`,
/// `anyhow::Error` (looking through its chain) and every service's error type.
pub trait LockConflict {
    /// True when the transaction lost a lock conflict and can be run again whole.
    fn is_lock_conflict(&self) -> bool;
}

impl LockConflict for sqlx::Error {
    fn is_lock_conflict(&self) -> bool {
        let sqlx::Error::Database(db) = self else {
            return false;
        };
        if db.code().as_deref() == Some("40001") {
            return true;
        }
        db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
            .is_some_and(|e| matches!(e.number(), ER_LOCK_DEADLOCK | ER_LOCK_WAIT_TIMEOUT))
    }
}

impl LockConflict for anyhow::Error {
    fn is_lock_conflict(&self) -> bool {
        self.chain().any(|e| {
            e.downcast_ref::<sqlx::Error>()
                .is_some_and(LockConflict::is_lock_conflict)
        })
    }
}

/// How often a transaction is run again after a lock conflict.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The first back-off; each further one doubles, with full jitter.
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 6,
            base_delay: Duration::from_millis(5),
        }
    }
}

/// Runs one whole write transaction (`begin` … `commit`, nothing outside the
/// database in between) and runs it again, after a jittered back-off, when it
/// loses a lock conflict (deadlock or lock wait timeout):
///
/// ```ignore
/// moing_common::transaction!("moim.join", Result<Team, MoimError>, {
///     let mut tx = self.pool.begin().await?;
///     // …
///     tx.commit().await?;
///     Ok(team)
/// })
/// ```
///
/// The block is an async block run once per attempt, so it must be idempotent
/// as a whole: a failed attempt was rolled back by the server, and running it
/// again from `begin` is safe. `return` inside it ends the attempt with that
/// result. The name labels `moing_db_transaction_retries_total` and the log.
/// After the last attempt the conflict is returned; services map it to
/// `ABORTED` (`ApiError::lock_conflict`), never `INTERNAL`. (A macro rather than
/// a function taking an async closure: the closure form trips rustc's
/// higher-ranked `Send` inference inside `async_trait` handlers.)
#[macro_export]
macro_rules! transaction {
    ($what:expr, $ret:ty, $body:block) => {{
        let mut attempt = 1u32;
        loop {
            let result: $ret = async $body.await;
            match $crate::db::retry_pause($what, attempt, &result, $crate::db::RetryPolicy::default()) {
                Some(pause) => {
                    $crate::db::sleep(pause).await;
                    attempt += 1;
                }
                None => break result,
            }
        }
    }};
}

/// Whether attempt `attempt` of transaction `what` should run again, and after
/// what pause (exponential with full jitter); records the retry. Used by
/// [`transaction!`](crate::transaction).
pub fn retry_pause<T, E: LockConflict>(
    what: &'static str,
    attempt: u32,
    result: &Result<T, E>,
    policy: RetryPolicy,
) -> Option<Duration> {
    match result {
        Err(e) if attempt < policy.attempts && e.is_lock_conflict() => {
            crate::metrics::inc(
                "moing_db_transaction_retries_total",
                "Write transactions run again after a lock conflict (deadlock, lock wait timeout)",
                &[("transaction", what)],
            );
            let cap = policy.base_delay.as_micros() as u64 * (1u64 << (attempt - 1).min(10));
            let pause = rand::random_range(0..=cap.max(1));
            tracing::debug!(
                transaction = what,
                attempt,
                pause_us = pause,
                "lock conflict, retrying"
            );
            Some(Duration::from_micros(pause))
        }
        Err(e) if e.is_lock_conflict() => {
            tracing::warn!(
                transaction = what,
                attempts = attempt,
                "lock conflict on every attempt: giving up"
            );
            None
        }
        _ => None,
    }
}

/// The back-off sleep of [`transaction!`](crate::transaction).
pub async fn sleep(pause: Duration) {
    tokio::time::sleep(pause).await;
}
