use sqlx::{Connection, MySqlConnection, MySqlPool, migrate::Migrator, mysql::MySqlPoolOptions};

/// Admin connection URL without a database (creates and drops test databases).
pub fn admin_url() -> String {
    std::env::var("MOING_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "mysql://moing_admin:moing_admin_dev@127.0.0.1:3306".into())
}

/// A database that exists for one test. Dropping it drops the database.
#[derive(Debug)]
pub struct TestDb {
    pub pool: MySqlPool,
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Creates an empty database named `t_<uuid>`, without migrations.
    pub async fn empty() -> anyhow::Result<Self> {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = admin_url();
        let mut conn = MySqlConnection::connect(&admin).await.map_err(|e| {
            anyhow::anyhow!("cannot reach MariaDB at {admin} (run scripts/test or scripts/up): {e}")
        })?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        let url = format!("{admin}/{name}");
        let pool = MySqlPoolOptions::new()
            .max_connections(20)
            .connect(&url)
            .await?;
        Ok(Self { pool, name, url })
    }

    /// A database with the shared and the given service migrations applied.
    pub async fn migrated(service: &Migrator) -> anyhow::Result<Self> {
        let db = Self::empty().await?;
        moing_common::db::migrate(&db.pool, service).await?;
        Ok(db)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin = admin_url();
        // Drop runs inside the test's runtime; use a private one on another thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    if let Ok(mut conn) = MySqlConnection::connect(&admin).await {
                        // The test's pool may still hold open transactions whose
                        // rollback needs the (now blocked) test runtime: end them.
                        let ids: Vec<i64> = sqlx::query_scalar(
                            "SELECT CAST(id AS SIGNED) FROM information_schema.processlist WHERE db = ?",
                        )
                        .bind(&name)
                        .fetch_all(&mut conn)
                        .await
                        .unwrap_or_default();
                        for id in ids {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("KILL {id}")))
                                .execute(&mut conn)
                                .await;
                        }
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name}"
                        )))
                        .execute(&mut conn)
                        .await;
                    }
                });
            }
        })
        .join();
    }
}
