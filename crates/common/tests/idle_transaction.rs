//! A replica frozen inside a transaction releases its row locks after
//! `database.idle_transaction_timeout_secs`, so another replica's
//! `SKIP LOCKED` claim takes the rows over (the push lease's premise).

use moing_common::{config::DatabaseSettings, db};
use moing_testkit::TestDb;

#[tokio::test]
async fn a_transaction_left_idle_releases_its_locks() {
    let test = TestDb::empty().await.expect("db");
    sqlx::query("CREATE TABLE work (id INT PRIMARY KEY)")
        .execute(&test.pool)
        .await
        .expect("table");
    sqlx::query("INSERT INTO work VALUES (1)")
        .execute(&test.pool)
        .await
        .expect("row");
    let frozen = db::lazy_pool(&DatabaseSettings {
        url: test.url.clone(),
        read_committed: true,
        idle_transaction_timeout_secs: 1,
        ..DatabaseSettings::default()
    })
    .expect("pool");
    let mut tx = frozen.begin().await.expect("begin");
    let locked: Vec<i32> = sqlx::query_scalar("SELECT id FROM work FOR UPDATE")
        .fetch_all(&mut *tx)
        .await
        .expect("lock");
    assert_eq!(locked, vec![1]);
    let claim = || async {
        let mut other = test.pool.begin().await.expect("begin");
        let rows: Vec<i32> = sqlx::query_scalar("SELECT id FROM work FOR UPDATE SKIP LOCKED")
            .fetch_all(&mut *other)
            .await
            .expect("claim");
        other.rollback().await.expect("rollback");
        rows
    };
    assert!(
        claim().await.is_empty(),
        "held while the transaction is live"
    );
    // The holder freezes (does nothing) past the timeout.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(claim().await, vec![1], "released once it sat idle");
    drop(tx);
}
