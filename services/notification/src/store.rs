//! SQL of the notification service: devices, settings, the inbox and the
//! fan-out that writes inbox rows and push rows in the caller's transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{MySql, MySqlConnection, MySqlPool, QueryBuilder, Row};
use uuid::Uuid;

use crate::{
    domain::{Category, Draft, Kind, MemberSettings, PushPlan},
    fcm::Platform,
};

/// IN-lists are cut to this many ids.
const CHUNK: usize = 500;

pub fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// A stored device registration.
#[derive(Debug, Clone)]
pub struct Device {
    pub session_id: Uuid,
    pub platform: Platform,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Registers or refreshes the token of a session; a token held by another
/// session moves here (the app was reinstalled on the same phone).
pub async fn upsert_device(
    pool: &MySqlPool,
    member: Uuid,
    session: Uuid,
    platform: Platform,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Device, sqlx::Error> {
    moing_common::transaction!("notification.upsert_device", Result<Device, sqlx::Error>, {
        let hash = token_hash(token);
        let mut tx = pool.begin().await?;
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
        time_zone: tz.parse().unwrap_or(crate::domain::DEFAULT_TIME_ZONE),
        updated_at: Some(utc(updated)),
    })
}

const SETTINGS_COLUMNS: &str = "member_id, new_content, comments, pokes, reminders, quiet_enabled, \
     quiet_start_minute, quiet_end_minute, time_zone, updated_at";

pub async fn settings(pool: &MySqlPool, member: Uuid) -> Result<MemberSettings, sqlx::Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SETTINGS_COLUMNS} FROM notification_setting WHERE member_id = ?"
    )))
    .bind(member)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(r) => settings_from_row(&r),
        None => Ok(MemberSettings::default()),
    }
}

pub async fn save_settings(
    pool: &MySqlPool,
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
    .execute(pool)
    .await?;
    Ok(())
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

async fn devices_many(
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

/// What a fan-out wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fanout {
    /// Inbox rows written now (a recipient who already had one is not counted).
    pub inbox: usize,
    /// Push rows queued (due now or at the end of quiet hours).
    pub pushes: usize,
    /// Recipients whose notification is held for quiet hours.
    pub held: usize,
    /// Recipients with no device.
    pub no_device: usize,
}

struct Row0 {
    id: Uuid,
    member: Uuid,
    visible_at: DateTime<Utc>,
    push_state: &'static str,
    sessions: Vec<Uuid>,
    held: bool,
}

/// Writes one inbox row per recipient (whatever their push settings) and one
/// push row per device of those who get a push, in the caller's transaction.
/// `source` names the cause; a recipient who already has a row for it is
/// skipped, so a repeated cause never writes or pushes twice.
pub async fn fan_out(
    conn: &mut MySqlConnection,
    source: &str,
    draft: &Draft,
    recipients: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Fanout, sqlx::Error> {
    let mut seen = HashSet::new();
    let recipients: Vec<Uuid> = recipients
        .iter()
        .copied()
        .filter(|r| seen.insert(*r))
        .collect();
    if recipients.is_empty() {
        return Ok(Fanout::default());
    }
    let settings = settings_many(conn, &recipients).await?;
    let devices = devices_many(conn, &recipients).await?;
    let category: Category = draft.kind.category();
    let default = MemberSettings::default();
    let rows: Vec<Row0> = recipients
        .iter()
        .map(|m| {
            let s = settings.get(m).unwrap_or(&default);
            let sessions = devices.get(m).cloned().unwrap_or_default();
            let plan = s.plan(category, now);
            let (visible_at, push_state, sessions, held) = match plan {
                PushPlan::Now if sessions.is_empty() => (now, "NO_DEVICE", vec![], false),
                PushPlan::Now => (now, "QUEUED", sessions, false),
                PushPlan::HeldUntil(end) if sessions.is_empty() => (end, "NO_DEVICE", vec![], true),
                PushPlan::HeldUntil(end) => (end, "HELD", sessions, true),
                PushPlan::Quiet => (now, "QUIET", vec![], false),
                PushPlan::Off => (now, "OFF", vec![], false),
            };
            Row0 {
                id: Uuid::now_v7(),
                member: *m,
                visible_at,
                push_state,
                sessions,
                held,
            }
        })
        .collect();
    let data = serde_json::to_string(&draft.stored_data()).unwrap_or_else(|_| "{}".into());
    let mut inserted: HashSet<Uuid> = HashSet::new();
    for chunk in rows.chunks(CHUNK) {
        let mut qb: QueryBuilder<MySql> = QueryBuilder::new(
            "INSERT IGNORE INTO notification (id, member_id, source_key, category, type, team_id, \
             team_name, actor_id, broadcast_id, title, body, path, data, push_state, created_at, visible_at) ",
        );
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(r.id)
                .push_bind(r.member)
                .push_bind(source)
                .push_bind(category.as_str())
                .push_bind(draft.kind.as_str())
                .push_bind(draft.team_id)
                .push_bind(&draft.team_name)
                .push_bind(draft.actor)
                .push_bind(draft.broadcast_id)
                .push_bind(&draft.title)
                .push_bind(&draft.body)
                .push_bind(&draft.path)
                .push_bind(&data)
                .push_bind(r.push_state)
                .push_bind(naive(now))
                .push_bind(naive(r.visible_at));
        });
        let done = qb.build().execute(&mut *conn).await?;
        if done.rows_affected() as usize == chunk.len() {
            inserted.extend(chunk.iter().map(|r| r.id));
        } else {
            let sql = format!(
                "SELECT id FROM notification WHERE id IN ({})",
                placeholders(chunk.len())
            );
            let mut q = sqlx::query_scalar::<_, Uuid>(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q.bind(r.id);
            }
            inserted.extend(q.fetch_all(&mut *conn).await?);
        }
    }
    let mut out = Fanout::default();
    let mut pushes: Vec<(Uuid, Uuid, DateTime<Utc>)> = Vec::new();
    for r in rows.iter().filter(|r| inserted.contains(&r.id)) {
        out.inbox += 1;
        if r.held {
            out.held += 1;
        }
        if r.push_state == "NO_DEVICE" {
            out.no_device += 1;
        }
        pushes.extend(r.sessions.iter().map(|s| (r.id, *s, r.visible_at)));
    }
    for chunk in pushes.chunks(CHUNK) {
        let mut qb: QueryBuilder<MySql> = QueryBuilder::new(
            "INSERT IGNORE INTO push (notification_id, session_id, state, due_at) ",
        );
        qb.push_values(chunk, |mut b, (n, s, due)| {
            b.push_bind(n)
                .push_bind(s)
                .push_bind("PENDING")
                .push_bind(naive(*due));
        });
        out.pushes += qb.build().execute(&mut *conn).await?.rows_affected() as usize;
    }
    Ok(out)
}

/// One inbox row as the API shows it.
#[derive(Debug, Clone)]
pub struct InboxItem {
    pub id: Uuid,
    pub category: Category,
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub data: BTreeMap<String, String>,
    pub path: String,
    pub team_id: Option<Uuid>,
    pub team_name: String,
    pub actor: Option<Uuid>,
    pub visible_at: DateTime<Utc>,
    pub read: bool,
}

/// Keyset position in the inbox (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub visible_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!(
            "{}.{}",
            self.visible_at.timestamp_micros(),
            self.id.simple()
        )
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (micros, id) = s.split_once('.')?;
        Some(Self {
            visible_at: moing_common::convert::from_micros(micros.parse().ok()?)?,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

fn item_from_row(row: &sqlx::mysql::MySqlRow) -> Result<InboxItem, sqlx::Error> {
    let id: Uuid = row.try_get("id")?;
    let category: String = row.try_get("category")?;
    let kind: String = row.try_get("type")?;
    let data: String = row.try_get("data")?;
    let mut data: BTreeMap<String, String> = serde_json::from_str(&data).unwrap_or_default();
    data.insert("notification_id".into(), id.to_string());
    let read_at: Option<NaiveDateTime> = row.try_get("read_at")?;
    Ok(InboxItem {
        id,
        category: Category::parse(&category).unwrap_or(Category::Service),
        kind: Kind::parse(&kind).unwrap_or(Kind::Broadcast),
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        data,
        path: row.try_get("path")?,
        team_id: row.try_get("team_id")?,
        team_name: row.try_get("team_name")?,
        actor: row.try_get("actor_id")?,
        visible_at: utc(row.try_get("visible_at")?),
        read: read_at.is_some(),
    })
}

/// One page of a member's inbox, newest first, within retention.
pub async fn inbox_page(
    pool: &MySqlPool,
    member: Uuid,
    after: Option<Cursor>,
    limit: u32,
    now: DateTime<Utc>,
    oldest: DateTime<Utc>,
) -> Result<Vec<InboxItem>, sqlx::Error> {
    let mut sql = String::from(
        "SELECT id, category, type, title, body, data, path, team_id, team_name, actor_id, \
         visible_at, read_at FROM notification \
         WHERE member_id = ? AND visible_at <= ? AND visible_at >= ?",
    );
    if after.is_some() {
        sql.push_str(" AND (visible_at < ? OR (visible_at = ? AND id < ?))");
    }
    sql.push_str(" ORDER BY visible_at DESC, id DESC LIMIT ?");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(member)
        .bind(naive(now))
        .bind(naive(oldest));
    if let Some(c) = after {
        q = q
            .bind(naive(c.visible_at))
            .bind(naive(c.visible_at))
            .bind(c.id);
    }
    q.bind(limit)
        .fetch_all(pool)
        .await?
        .iter()
        .map(item_from_row)
        .collect()
}

pub async fn unread_count(
    pool: &MySqlPool,
    member: Uuid,
    now: DateTime<Utc>,
    oldest: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM notification WHERE member_id = ? AND read_at IS NULL \
         AND visible_at <= ? AND visible_at >= ?",
    )
    .bind(member)
    .bind(naive(now))
    .bind(naive(oldest))
    .fetch_one(pool)
    .await
}

/// Marks one item read; false when the member has no such (visible) item.
pub async fn mark_read(
    pool: &MySqlPool,
    member: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
    oldest: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM notification WHERE id = ? AND member_id = ? AND visible_at <= ? AND visible_at >= ?",
    )
    .bind(id)
    .bind(member)
    .bind(naive(now))
    .bind(naive(oldest))
    .fetch_optional(pool)
    .await?;
    if found.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE notification SET read_at = ? WHERE id = ? AND member_id = ? AND read_at IS NULL",
    )
    .bind(naive(now))
    .bind(id)
    .bind(member)
    .execute(pool)
    .await?;
    Ok(true)
}

/// Marks every visible unread item up to `up_to` read; returns how many changed.
pub async fn mark_all_read(
    pool: &MySqlPool,
    member: Uuid,
    up_to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE notification SET read_at = ? WHERE member_id = ? AND read_at IS NULL AND visible_at <= ?",
    )
    .bind(naive(now))
    .bind(member)
    .bind(naive(up_to.min(now)))
    .execute(pool)
    .await?
    .rows_affected())
}

/// Deletes inbox rows (and their push rows) older than `before`, at most
/// `limit` per call; returns how many inbox rows went.
pub async fn purge_before(
    pool: &MySqlPool,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<u64, sqlx::Error> {
    moing_common::transaction!("notification.purge_before", Result<u64, sqlx::Error>, {
        let mut tx = pool.begin().await?;
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM notification WHERE created_at < ? AND visible_at < ? ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED",
        )
        .bind(naive(before))
        .bind(naive(before))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let list = placeholders(ids.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM push WHERE notification_id IN ({list})"
        )));
        for id in &ids {
            q = q.bind(id);
        }
        q.execute(&mut *tx).await?;
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM notification WHERE id IN ({list})"
        )));
        for id in &ids {
            q = q.bind(id);
        }
        let n = q.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_junk() {
        let c = Cursor {
            visible_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("t"),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("nope"), None);
        assert_eq!(Cursor::decode("12.zz"), None);
    }
}
