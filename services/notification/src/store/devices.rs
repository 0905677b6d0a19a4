//! Devices: one push token per session, moved when another session takes it,
//! dropped when FCM says it is dead; and a withdrawn member's erasure.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{MySqlConnection, Row};
use uuid::Uuid;

use super::{CHUNK, Store, naive, placeholders, utc};
use crate::domain::{Device, NewDevice};

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Store {
    /// Registers or refreshes the token of a session; a token held by another
    /// session moves here (the app was reinstalled on the same phone).
    pub async fn upsert_device(
        &self,
        member: Uuid,
        session: Uuid,
        device: &NewDevice,
        now: DateTime<Utc>,
    ) -> Result<Device, sqlx::Error> {
        let (platform, token) = (device.platform, device.token.as_str());
        moing_common::transaction!("notification.upsert_device", Result<Device, sqlx::Error>, {
            let hash = token_hash(token);
            let mut tx = self.pool.begin().await?;
            sqlx::query("DELETE FROM device WHERE token_hash = ? AND session_id <> ?")
                .bind(&hash)
                .bind(session)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO device (session_id, member_id, platform, token, token_hash, registered_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) \
                 ON DUPLICATE KEY UPDATE member_id = VALUES(member_id), platform = VALUES(platform), \
                 token = VALUES(token), token_hash = VALUES(token_hash), updated_at = VALUES(updated_at)",
            )
            .bind(session)
            .bind(member)
            .bind(platform.as_str())
            .bind(token)
            .bind(&hash)
            .bind(naive(now))
            .bind(naive(now))
            .execute(&mut *tx)
            .await?;
            let row = sqlx::query("SELECT registered_at, updated_at FROM device WHERE session_id = ?")
                .bind(session)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Device {
                session_id: session,
                platform,
                registered_at: utc(row.try_get("registered_at")?),
                updated_at: utc(row.try_get("updated_at")?),
            })
        })
    }

    /// Removes the device of one session of `member`; true when one was there.
    pub async fn unregister_device(
        &self,
        member: Uuid,
        session: Uuid,
    ) -> Result<bool, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        delete_session_device(&mut conn, Some(member), session).await
    }
}

/// Removes the device of one session (of that member); true when one was there.
pub async fn delete_session_device(
    conn: &mut MySqlConnection,
    member: Option<Uuid>,
    session: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = match member {
        Some(m) => {
            sqlx::query("DELETE FROM device WHERE session_id = ? AND member_id = ?")
                .bind(session)
                .bind(m)
                .execute(&mut *conn)
                .await?
        }
        None => {
            sqlx::query("DELETE FROM device WHERE session_id = ?")
                .bind(session)
                .execute(&mut *conn)
                .await?
        }
    };
    Ok(done.rows_affected() > 0)
}

/// Drops one dead token of a session (only this token: the session may have
/// registered a new one meanwhile).
pub async fn drop_token(
    conn: &mut MySqlConnection,
    session: Uuid,
    token: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM device WHERE session_id = ? AND token_hash = ?")
        .bind(session)
        .bind(token_hash(token))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Everything the service keeps about a withdrawn member.
pub async fn erase_member(conn: &mut MySqlConnection, member: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM device WHERE member_id = ?")
        .bind(member)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM notification_setting WHERE member_id = ?")
        .bind(member)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "DELETE p FROM push p JOIN notification n ON n.id = p.notification_id WHERE n.member_id = ?",
    )
    .bind(member)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM notification WHERE member_id = ?")
        .bind(member)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The sessions with a device of each of `members`.
pub async fn devices_many(
    conn: &mut MySqlConnection,
    members: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>, sqlx::Error> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for chunk in members.chunks(CHUNK) {
        let sql = format!(
            "SELECT session_id, member_id FROM device WHERE member_id IN ({})",
            placeholders(chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in chunk {
            q = q.bind(m);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let member: Uuid = row.try_get("member_id")?;
            out.entry(member)
                .or_default()
                .push(row.try_get("session_id")?);
        }
    }
    Ok(out)
}
