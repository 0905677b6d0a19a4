//! Push settings per member (absent: the defaults).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::{MySqlConnection, Row};
use uuid::Uuid;

use super::{CHUNK, Store, naive, placeholders, utc};
use crate::domain::{DEFAULT_TIME_ZONE, MemberSettings};

const SETTINGS_COLUMNS: &str = "member_id, new_content, comments, pokes, reminders, quiet_enabled, \
     quiet_start_minute, quiet_end_minute, time_zone, updated_at";

fn settings_from_row(row: &sqlx::mysql::MySqlRow) -> Result<MemberSettings, sqlx::Error> {
    let tz: String = row.try_get("time_zone")?;
    let start: i16 = row.try_get("quiet_start_minute")?;
    let end: i16 = row.try_get("quiet_end_minute")?;
    let updated: NaiveDateTime = row.try_get("updated_at")?;
    Ok(MemberSettings {
        new_content: row.try_get("new_content")?,
        comments: row.try_get("comments")?,
        pokes: row.try_get("pokes")?,
        reminders: row.try_get("reminders")?,
        quiet_enabled: row.try_get("quiet_enabled")?,
        quiet_start: u16::try_from(start).unwrap_or(23 * 60),
        quiet_end: u16::try_from(end).unwrap_or(8 * 60),
        time_zone: tz.parse().unwrap_or(DEFAULT_TIME_ZONE),
        updated_at: Some(utc(updated)),
    })
}

impl Store {
    pub async fn settings(&self, member: Uuid) -> Result<MemberSettings, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SETTINGS_COLUMNS} FROM notification_setting WHERE member_id = ?"
        )))
        .bind(member)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => settings_from_row(&r),
            None => Ok(MemberSettings::default()),
        }
    }

    pub async fn save_settings(
        &self,
        member: Uuid,
        s: &MemberSettings,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO notification_setting ({SETTINGS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE new_content = VALUES(new_content), comments = VALUES(comments), \
             pokes = VALUES(pokes), reminders = VALUES(reminders), quiet_enabled = VALUES(quiet_enabled), \
             quiet_start_minute = VALUES(quiet_start_minute), quiet_end_minute = VALUES(quiet_end_minute), \
             time_zone = VALUES(time_zone), updated_at = VALUES(updated_at)"
        )))
        .bind(member)
        .bind(s.new_content)
        .bind(s.comments)
        .bind(s.pokes)
        .bind(s.reminders)
        .bind(s.quiet_enabled)
        .bind(s.quiet_start as i16)
        .bind(s.quiet_end as i16)
        .bind(s.time_zone.name())
        .bind(naive(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// The stored settings of each of `members` (absent: the defaults).
pub async fn settings_many(
    conn: &mut MySqlConnection,
    members: &[Uuid],
) -> Result<HashMap<Uuid, MemberSettings>, sqlx::Error> {
    let mut out = HashMap::new();
    for chunk in members.chunks(CHUNK) {
        let sql = format!(
            "SELECT {SETTINGS_COLUMNS} FROM notification_setting WHERE member_id IN ({})",
            placeholders(chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in chunk {
            q = q.bind(m);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let id: Uuid = row.try_get("member_id")?;
            out.insert(id, settings_from_row(&row)?);
        }
    }
    Ok(out)
}
