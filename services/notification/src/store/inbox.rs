//! The inbox: the fan-out writing inbox rows and push rows in the caller's
//! transaction, the pages and counts the API shows, read marks, retention.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::{MySql, MySqlConnection, QueryBuilder, Row};
use uuid::Uuid;

use super::{CHUNK, Store, devices::devices_many, naive, placeholders, settings_many, utc};
use crate::domain::{Category, Draft, InboxItem, InboxPage, Kind, MemberSettings, Placement};

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

/// One recipient's inbox row before it is written.
struct NewRow {
    id: Uuid,
    member: Uuid,
    place: Placement,
    sessions: Vec<Uuid>,
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
    let rows = place(&recipients, draft.kind.category(), &settings, &devices, now);
    let inserted = insert_rows(conn, source, draft, &rows, now).await?;
    let mut out = Fanout::default();
    let mut pushes: Vec<(Uuid, Uuid, DateTime<Utc>)> = Vec::new();
    for r in rows.iter().filter(|r| inserted.contains(&r.id)) {
        out.inbox += 1;
        if r.place.held {
            out.held += 1;
        }
        if r.place.push_state == "NO_DEVICE" {
            out.no_device += 1;
        }
        pushes.extend(r.sessions.iter().map(|s| (r.id, *s, r.place.visible_at)));
    }
    out.pushes = insert_pushes(conn, &pushes).await?;
    Ok(out)
}

/// Each recipient's row, placed by their settings and devices.
fn place(
    recipients: &[Uuid],
    category: Category,
    settings: &HashMap<Uuid, MemberSettings>,
    devices: &HashMap<Uuid, Vec<Uuid>>,
    now: DateTime<Utc>,
) -> Vec<NewRow> {
    let default = MemberSettings::default();
    recipients
        .iter()
        .map(|m| {
            let s = settings.get(m).unwrap_or(&default);
            let sessions = devices.get(m).cloned().unwrap_or_default();
            let place = s.plan(category, now).placement(now, !sessions.is_empty());
            NewRow {
                id: Uuid::now_v7(),
                member: *m,
                place,
                sessions: if place.push { sessions } else { vec![] },
            }
        })
        .collect()
}

/// Inserts the rows (skipping recipients who have one for `source`); returns
/// the ids written.
async fn insert_rows(
    conn: &mut MySqlConnection,
    source: &str,
    draft: &Draft,
    rows: &[NewRow],
    now: DateTime<Utc>,
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let category = draft.kind.category();
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
                .push_bind(r.place.push_state)
                .push_bind(naive(now))
                .push_bind(naive(r.place.visible_at));
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
    Ok(inserted)
}

/// Queues (notification, session, due) push rows; returns how many.
async fn insert_pushes(
    conn: &mut MySqlConnection,
    pushes: &[(Uuid, Uuid, DateTime<Utc>)],
) -> Result<usize, sqlx::Error> {
    let mut n = 0;
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
        n += qb.build().execute(&mut *conn).await?.rows_affected() as usize;
    }
    Ok(n)
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

impl Store {
    /// One page of a member's inbox, newest first, within retention; one
    /// item more than the page size when there are more.
    pub async fn inbox_page(
        &self,
        member: Uuid,
        page: InboxPage,
        now: DateTime<Utc>,
        oldest: DateTime<Utc>,
    ) -> Result<Vec<InboxItem>, sqlx::Error> {
        let mut sql = String::from(
            "SELECT id, category, type, title, body, data, path, team_id, team_name, actor_id, \
             visible_at, read_at FROM notification \
             WHERE member_id = ? AND visible_at <= ? AND visible_at >= ?",
        );
        if page.after.is_some() {
            sql.push_str(" AND (visible_at < ? OR (visible_at = ? AND id < ?))");
        }
        sql.push_str(" ORDER BY visible_at DESC, id DESC LIMIT ?");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(member)
            .bind(naive(now))
            .bind(naive(oldest));
        if let Some(c) = page.after {
            q = q
                .bind(naive(c.visible_at))
                .bind(naive(c.visible_at))
                .bind(c.id);
        }
        q.bind(page.size + 1)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(item_from_row)
            .collect()
    }

    pub async fn unread_count(
        &self,
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
        .fetch_one(&self.pool)
        .await
    }

    /// Marks one item read; false when the member has no such (visible) item.
    pub async fn mark_read(
        &self,
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
        .fetch_optional(&self.pool)
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
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// Marks every visible unread item up to `up_to` read; returns how many changed.
    pub async fn mark_all_read(
        &self,
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
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Deletes inbox rows past `days` of retention, batch by batch; returns how many went.
    pub async fn purge_expired(&self, days: i64, batch: u32) -> Result<u64, sqlx::Error> {
        let before = moing_common::clock::now() - chrono::Duration::days(days);
        let mut total = 0;
        loop {
            let n = self.purge_before(before, batch).await?;
            total += n;
            if n < u64::from(batch) {
                break;
            }
        }
        if total > 0 {
            tracing::info!(deleted = total, "inbox retention purge");
        }
        Ok(total)
    }

    /// Deletes inbox rows (and their push rows) older than `before`, at most
    /// `limit` per call; returns how many inbox rows went.
    pub async fn purge_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, sqlx::Error> {
        moing_common::transaction!("notification.purge_before", Result<u64, sqlx::Error>, {
            let mut tx = self.pool.begin().await?;
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
}
