//! Each service's database user (provisioned by `scripts/lib/common.sh`) can use
//! only its own schema. Runs against the users `scripts/up` / `scripts/test` create.

use sqlx::{Connection, MySqlConnection};

const SERVICES: [&str; 5] = ["auth", "moim", "mission", "board", "notification"];

fn url(svc: &str) -> String {
    let prefix = std::env::var("MOING_DB_PASSWORD_PREFIX").unwrap_or_else(|_| "dev_".into());
    let port = std::env::var("MOING_DB_PORT").unwrap_or_else(|_| "3306".into());
    format!("mysql://moing_{svc}:{prefix}{svc}@127.0.0.1:{port}/moing_{svc}")
}

#[tokio::test]
async fn service_users_cannot_touch_other_schemas() -> anyhow::Result<()> {
    for owner in SERVICES {
        let mut conn = MySqlConnection::connect(&url(owner)).await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS isolation_probe (id INT PRIMARY KEY)")
            .execute(&mut conn)
            .await?;
        sqlx::query("REPLACE INTO isolation_probe VALUES (1)")
            .execute(&mut conn)
            .await?;
        for other in SERVICES.iter().filter(|s| **s != owner) {
            let read = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM moing_{other}.isolation_probe"
            )))
            .execute(&mut conn)
            .await;
            let write = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO moing_{other}.isolation_probe VALUES (2)"
            )))
            .execute(&mut conn)
            .await;
            let create = sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE moing_{other}.intruder (id INT)"
            )))
            .execute(&mut conn)
            .await;
            for (what, result) in [("read", read), ("write", write), ("create", create)] {
                let err = result.err().ok_or_else(|| {
                    anyhow::anyhow!("moing_{owner} could {what} in moing_{other}")
                })?;
                let code = err
                    .as_database_error()
                    .and_then(|e| e.code())
                    .map(|c| c.to_string())
                    .unwrap_or_default();
                // 42000: access denied (1142 table / 1044 database).
                assert_eq!(code, "42000", "{owner} → {other} {what}: {err}");
            }
        }
        let dbs: Vec<String> = sqlx::query_scalar("SHOW DATABASES")
            .fetch_all(&mut conn)
            .await?;
        assert!(
            dbs.iter()
                .all(|d| d == &format!("moing_{owner}") || d == "information_schema"),
            "moing_{owner} sees only its schema: {dbs:?}"
        );
    }
    Ok(())
}
