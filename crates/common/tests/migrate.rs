//! Replicas that start together on a fresh schema migrate one after the other.

use moing_common::db;
use moing_testkit::TestDb;
use sqlx::migrate::Migrator;

#[tokio::test]
async fn replicas_starting_together_each_find_the_schema_migrated() {
    let test = TestDb::empty().await.expect("db");
    let service = Migrator::with_migrations(Vec::new());
    let pools: Vec<_> = (0..4)
        .map(|_| {
            sqlx::mysql::MySqlPoolOptions::new()
                .max_connections(2)
                .connect_lazy(&test.url)
                .expect("pool")
        })
        .collect();
    let runs = pools.iter().map(|pool| db::migrate(pool, &service));
    for result in futures::future::join_all(runs).await {
        result.expect("every replica starts");
    }
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&test.pool)
        .await
        .expect("count");
    assert!(applied > 0);
    // Once, not four times: the versions are unique and all succeeded.
    let failed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = FALSE")
            .fetch_one(&test.pool)
            .await
            .expect("count");
    assert_eq!(failed, 0);
}
