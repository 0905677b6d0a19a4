//! The SQL of moderation. Each service owns the two tables in its schema
//! (`content_report`, `content_moderation`, same DDL) and writes its own events
//! in the same transaction; kinds, reasons and states are stored by name.

use chrono::{DateTime, NaiveDateTime, Utc};
use moing_common::db::is_unique_violation;
use sqlx::{MySqlConnection, MySqlPool, Row};
use uuid::Uuid;

use crate::{Moderated, ReportError, Standing, THRESHOLD, Visibility};

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// The item's standing for `viewer`; `reviewer` is true for its author and the
/// team's leader (they still see content under review).
pub async fn standing(
    pool: &MySqlPool,
    kind: &str,
    id: Uuid,
    viewer: Uuid,
    reviewer: bool,
) -> Result<Standing, sqlx::Error> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM content_report r WHERE r.kind = ? AND r.content_id = ? \
         AND r.round = COALESCE(m.round, 0)) AS n, \
         (SELECT COUNT(*) FROM content_report WHERE kind = ? AND content_id = ? AND reporter_id = ?) AS mine, \
         m.state, m.hidden_at, m.reviewed_at \
         FROM (SELECT 1) AS one LEFT JOIN content_moderation m ON m.kind = ? AND m.content_id = ?",
    )
    .bind(kind)
    .bind(id)
    .bind(kind)
    .bind(id)
    .bind(viewer)
    .bind(kind)
    .bind(id)
    .fetch_one(pool)
    .await?;
    let count: i64 = row.try_get("n")?;
    let mine: i64 = row.try_get("mine")?;
    let state: Option<String> = row.try_get("state")?;
    let hidden_at: Option<NaiveDateTime> = row.try_get("hidden_at")?;
    let reviewed_at: Option<NaiveDateTime> = row.try_get("reviewed_at")?;
    let (visibility, withheld) = Visibility::of(state.as_deref(), mine > 0, reviewer);
    Ok(Standing {
        visibility,
        withheld,
        reported_by_me: mine > 0,
        report_count: if reviewer { count } else { 0 },
        state,
        hidden_at: hidden_at.map(utc),
        reviewed_at: reviewed_at.map(utc),
    })
}

/// Files a report inside the caller's transaction (so the caller's event goes
/// with it). Returns the report count, and whether this report put the item
/// under review.
#[allow(clippy::too_many_arguments)]
pub async fn file(
    conn: &mut MySqlConnection,
    kind: &str,
    id: Uuid,
    team: Uuid,
    reporter: Uuid,
    reason: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(i64, bool), ReportError> {
    // The moderation row (if any) is locked first: its round tags the report,
    // and a concurrent review cannot slip between the count and the hide.
    let current: Option<(String, i32)> = sqlx::query_as(
        "SELECT state, round FROM content_moderation WHERE kind = ? AND content_id = ? FOR UPDATE",
    )
    .bind(kind)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let round = current.as_ref().map_or(0, |(_, r)| *r);
    let inserted = sqlx::query("INSERT INTO content_report (kind, content_id, reporter_id, team_id, reason, text, created_at, round) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(kind)
        .bind(id)
        .bind(reporter)
        .bind(team)
        .bind(reason)
        .bind(text)
        .bind(now.naive_utc())
        .bind(round)
        .execute(&mut *conn)
        .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => return Err(ReportError::AlreadyReported),
        Err(e) => return Err(e.into()),
        Ok(_) => {}
    }
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM content_report WHERE kind = ? AND content_id = ? AND round = ? FOR UPDATE",
    )
    .bind(kind)
    .bind(id)
    .bind(round)
    .fetch_one(&mut *conn)
    .await?;
    let mut hidden = false;
    if count >= THRESHOLD {
        let done = match current.as_ref().map(|(state, _)| state.as_str()) {
            None => {
                sqlx::query("INSERT IGNORE INTO content_moderation (kind, content_id, team_id, state, hidden_at) VALUES (?, ?, ?, 'PENDING', ?)")
                    .bind(kind)
                    .bind(id)
                    .bind(team)
                    .bind(now.naive_utc())
                    .execute(&mut *conn)
                    .await?
            }
            // Restored earlier: this round's reports put it under review again.
            Some("RESTORED") => {
                sqlx::query("UPDATE content_moderation SET state = 'PENDING', hidden_at = ?, reviewed_at = NULL WHERE kind = ? AND content_id = ? AND state = 'RESTORED' AND round = ?")
                    .bind(now.naive_utc())
                    .bind(kind)
                    .bind(id)
                    .bind(round)
                    .execute(&mut *conn)
                    .await?
            }
            // Already pending or removed.
            Some(_) => return Ok((count, false)),
        };
        hidden = done.rows_affected() == 1;
    }
    Ok((count, hidden))
}

/// Restores or removes an item under review; false when it is not pending. A
/// restore opens a new round of reports.
pub async fn review(
    conn: &mut MySqlConnection,
    kind: &str,
    id: Uuid,
    team: Uuid,
    remove: bool,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE content_moderation SET state = ?, reviewed_at = ?, round = round + ? WHERE kind = ? AND content_id = ? AND team_id = ? AND state = 'PENDING'")
        .bind(if remove { "REMOVED" } else { "RESTORED" })
        .bind(now.naive_utc())
        .bind(if remove { 0 } else { 1 })
        .bind(kind)
        .bind(id)
        .bind(team)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Items under moderation in a team (optionally in one state), newest first,
/// with the report counts by reason of the round that was (or is being) reviewed.
pub async fn moderated(
    pool: &MySqlPool,
    team: Uuid,
    state: Option<&str>,
) -> Result<Vec<Moderated>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, content_id, state, hidden_at, reviewed_at, round FROM content_moderation \
         WHERE team_id = ? AND (? IS NULL OR state = ?) ORDER BY hidden_at DESC",
    )
    .bind(team)
    .bind(state)
    .bind(state)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: String = r.try_get("kind")?;
        let id: Uuid = r.try_get("content_id")?;
        let state: String = r.try_get("state")?;
        let round: i32 = r.try_get("round")?;
        // A restore already opened the next round: show the one reviewed.
        let round = if state == "RESTORED" {
            round - 1
        } else {
            round
        };
        let reasons = sqlx::query("SELECT reason, COUNT(*) AS n FROM content_report WHERE kind = ? AND content_id = ? AND round = ? GROUP BY reason")
            .bind(&kind)
            .bind(id)
            .bind(round)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| Ok((row.try_get("reason")?, row.try_get("n")?)))
            .collect::<Result<Vec<(String, i64)>, sqlx::Error>>()?;
        out.push(Moderated {
            kind,
            content_id: id,
            state,
            hidden_at: utc(r.try_get("hidden_at")?),
            reviewed_at: r
                .try_get::<Option<NaiveDateTime>, _>("reviewed_at")?
                .map(utc),
            reasons,
        });
    }
    Ok(out)
}
