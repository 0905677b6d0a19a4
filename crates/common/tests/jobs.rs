//! Due-job claiming: two replicas claiming at once get disjoint rows.

use moing_common::jobs::{DueQuery, claim_due};
use moing_testkit::TestDb;
use sqlx::migrate::Migrator;

const JOBS: DueQuery = DueQuery {
    table: "job",
    key: "id",
    due: "due_at",
    filter: "done = 0",
};

#[tokio::test]
async fn concurrent_claims_are_disjoint_and_skip_future_and_done_rows() -> anyhow::Result<()> {
    let db = TestDb::migrated(&Migrator::with_migrations(vec![])).await?;
    sqlx::query(
        "CREATE TABLE job (id INT PRIMARY KEY, due_at DATETIME(6) NOT NULL, done TINYINT NOT NULL, \
         KEY ix_due (due_at))",
    )
    .execute(&db.pool)
    .await?;
    let now = moing_common::clock::now();
    for id in 0..12 {
        let due = if id < 10 {
            now - chrono::Duration::minutes(1)
        } else {
            now + chrono::Duration::hours(1)
        };
        let done = i32::from(id == 0);
        sqlx::query("INSERT INTO job (id, due_at, done) VALUES (?, ?, ?)")
            .bind(id)
            .bind(due.naive_utc())
            .bind(done)
            .execute(&db.pool)
            .await?;
    }

    let mut tx_a = db.pool.begin().await?;
    let mut tx_b = db.pool.begin().await?;
    let a: Vec<i32> = claim_due(&mut tx_a, JOBS, now, 5).await?;
    let b: Vec<i32> = claim_due(&mut tx_b, JOBS, now, 50).await?;
    assert_eq!(a, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        b,
        vec![6, 7, 8, 9],
        "rows locked by the other replica are skipped"
    );
    for id in &a {
        sqlx::query("UPDATE job SET done = 1 WHERE id = ?")
            .bind(id)
            .execute(&mut *tx_a)
            .await?;
    }
    tx_a.commit().await?;
    tx_b.rollback().await?; // replica b crashed: its rows become claimable again

    let mut tx_c = db.pool.begin().await?;
    let c: Vec<i32> = claim_due(&mut tx_c, JOBS, now, 50).await?;
    assert_eq!(c, vec![6, 7, 8, 9]);
    Ok(())
}
