//! Claiming due background work so that several replicas never do it twice.
//!
//! A job table has a key, a due time and a state column. [`claim_due`] selects
//! due rows with `FOR UPDATE SKIP LOCKED` inside the caller's transaction: rows
//! another replica has claimed are skipped, not waited for. The caller then does
//! the work and marks the rows done in the same transaction, so a crash releases
//! the claim and the work is retried.

use sqlx::{MySql, MySqlConnection, Type, mysql::MySqlRow};

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
