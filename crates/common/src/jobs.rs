//! Claiming due background work so that several replicas never do it twice.
//!
//! A job table has a key, a due time and a state column. [`claim_due`] selects
//! due rows with `FOR UPDATE SKIP LOCKED` inside the caller's transaction: rows
//! another replica has claimed are skipped, not waited for. The caller then does
//! the work and marks the rows done in the same transaction, so a crash releases
//! the claim and the work is retried.
//!
//! [`every`] is the one periodic runner: each service's background jobs (vote
//! deadlines, mission deadlines, finished teams, reminders, held pushes) are a
//! call to it.

use std::{future::Future, sync::Arc, time::Duration};

use sqlx::{MySql, MySqlConnection, Type, mysql::MySqlRow};
use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// Runs `work` now and then every `every` until `stop`, logging failures (a
/// failed round is retried at the next tick).
pub fn every<F, Fut>(
    name: &'static str,
    every: Duration,
    stop: CancellationToken,
    work: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    every_or_woken(name, every, Arc::new(Notify::new()), stop, work)
}

/// Like [`every`], and also as soon as `wake` is notified (e.g. new work was
/// committed): a wake during a run makes one more run right after it.
pub fn every_or_woken<F, Fut>(
    name: &'static str,
    every: Duration,
    wake: Arc<Notify>,
    stop: CancellationToken,
    work: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    tokio::spawn(async move {
        loop {
            if let Err(e) = work().await {
                tracing::warn!(job = name, error = %e, "background job failed");
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}

/// Where due jobs live. All parts are compile-time SQL fragments of the caller.
#[derive(Debug, Clone, Copy)]
pub struct DueQuery {
    pub table: &'static str,
    /// The key column returned for each claimed row.
    pub key: &'static str,
    /// The `DATETIME(6)` column compared with `now`.
    pub due: &'static str,
    /// Extra condition selecting unfinished rows, e.g. `state = 'PENDING'`.
    pub filter: &'static str,
}

/// Locks and returns up to `limit` keys of rows due at or before `now`, oldest first.
pub async fn claim_due<K>(
    conn: &mut MySqlConnection,
    query: DueQuery,
    now: chrono::DateTime<chrono::Utc>,
    limit: u32,
) -> Result<Vec<K>, sqlx::Error>
where
    K: for<'r> sqlx::Decode<'r, MySql> + Type<MySql> + Send + Unpin,
{
    let sql = format!(
        "SELECT {key} FROM {table} WHERE {due} <= ? AND ({filter}) ORDER BY {due} LIMIT ? \
         FOR UPDATE SKIP LOCKED",
        key = query.key,
        table = query.table,
        due = query.due,
        filter = query.filter,
    );
    let rows: Vec<MySqlRow> = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now.naive_utc())
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| sqlx::Row::try_get::<K, _>(r, 0))
        .collect()
}
