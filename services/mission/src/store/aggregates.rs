//! The goal board's kept counts (migration `progress_aggregates`): closed weeks
//! counted once and stored per member and day, per member and week, per member,
//! and per mission and member, so a board reads a bounded number of rows
//! whatever the team's history. The counting itself is `domain::progress`
//! (one rule); this module only stores and reads its output.
//!
//! Consistency: a seal is stored only if the team's `progress_seal` row still
//! has the version and `sealed_until` the sealer read (checked under its row
//! lock), and every change to a sealed day clears the seal in the change's own
//! transaction ([`unseal_for_proof`]), so stored counts always equal a
//! recomputation from the source rows.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{MySql, MySqlConnection, QueryBuilder, Row};
use uuid::Uuid;

use super::{Store, progress_row};
use crate::{
    domain::{
        progress::{Counts, ProofRow},
        week_start,
    },
    error::MissionError,
};

/// A team's seal: days before `until` are kept (None: nothing kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seal {
    pub until: Option<NaiveDate>,
    pub version: i64,
}

/// What a seal stores: counts per member and day, and per mission and member,
/// of the days in [from, until).
#[derive(Debug, Default)]
pub struct NewSeal {
    pub days: HashMap<Uuid, BTreeMap<NaiveDate, Counts>>,
    pub missions: HashMap<(Uuid, Uuid), Counts>,
}

/// Kept counts read for one answer.
#[derive(Debug, Default, Clone)]
pub struct Kept {
    /// Per member: days read (the ranges asked).
    pub days: HashMap<Uuid, BTreeMap<NaiveDate, Counts>>,
    /// Per member: weeks read (Mondays of the ranges asked).
    pub weeks: HashMap<Uuid, BTreeMap<NaiveDate, Counts>>,
    /// Per member: every kept day.
    pub totals: HashMap<Uuid, Counts>,
    /// Per (mission, member): every kept day, for the missions asked.
    pub missions: HashMap<(Uuid, Uuid), Counts>,
}

fn counts(r: &sqlx::mysql::MySqlRow) -> Result<Counts, sqlx::Error> {
    Ok(Counts {
        done: r.try_get("done")?,
        required: r.try_get("required")?,
        skipped: r.try_get("skipped")?,
        pending: 0,
    })
}

/// Pushes `(col BETWEEN a AND b) OR …` for the ranges.
fn push_ranges(q: &mut QueryBuilder<MySql>, col: &str, ranges: &[(NaiveDate, NaiveDate)]) {
    q.push(" AND (");
    for (i, (a, b)) in ranges.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        q.push(format!("{col} BETWEEN "));
        q.push_bind(*a);
        q.push(" AND ");
        q.push_bind(*b);
    }
    q.push(")");
}

/// Clears a team's seal when a change touches a sealed day; in the change's
/// transaction. `proof` names the proof whose day it is.
pub async fn unseal_for_proof(conn: &mut MySqlConnection, proof: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE progress_seal s JOIN proof p ON p.team_id = s.team_id \
         SET s.sealed_until = NULL, s.version = s.version + 1 \
         WHERE p.id = ? AND s.sealed_until > p.day",
    )
    .bind(proof)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// The team's version: its latest event (`moing_common::outbox::team_version`).
    pub async fn team_version(&self, team: Uuid) -> Result<u64, MissionError> {
        Ok(moing_common::outbox::team_version(&self.pool, team).await?)
    }

    /// A team's seal (a fresh one when the team has none yet).
    pub async fn seal(&self, team: Uuid) -> Result<Seal, MissionError> {
        let row = sqlx::query("SELECT sealed_until, version FROM progress_seal WHERE team_id = ?")
            .bind(team)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Seal {
                until: r.try_get("sealed_until")?,
                version: r.try_get("version")?,
            },
            None => Seal {
                until: None,
                version: 0,
            },
        })
    }

    /// Clears a team's seal (all of them with None): the next read recounts
    /// from the proof rows. The rebuild command and a clock moved back use it.
    pub async fn unseal(&self, team: Option<Uuid>) -> Result<u64, MissionError> {
        let done = sqlx::query(
            "UPDATE progress_seal SET sealed_until = NULL, version = version + 1 WHERE (? IS NULL OR team_id = ?)",
        )
        .bind(team)
        .bind(team)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Teams that have proofs or missions (for the rebuild command).
    pub async fn teams(&self) -> Result<Vec<Uuid>, MissionError> {
        Ok(sqlx::query_scalar("SELECT DISTINCT team_id FROM mission")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Stores the counts of [seen.until or the beginning, until) if the seal is
    /// still `seen`; false (nothing stored) when someone sealed or unsealed
    /// meanwhile.
    pub async fn store_seal(
        &self,
        team: Uuid,
        seen: Seal,
        until: NaiveDate,
        new: &NewSeal,
        now: DateTime<Utc>,
    ) -> Result<bool, MissionError> {
        moing_common::transaction!("mission.store_seal", Result<bool, MissionError>, {
            let mut tx = self.pool.begin().await?;
            sqlx::query("INSERT IGNORE INTO progress_seal (team_id, sealed_until, version) VALUES (?, NULL, 0)")
                .bind(team)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query(
                "SELECT sealed_until, version FROM progress_seal WHERE team_id = ? FOR UPDATE",
            )
            .bind(team)
            .fetch_one(&mut *tx)
            .await?;
            let now_seal = Seal {
                until: row.try_get("sealed_until")?,
                version: row.try_get("version")?,
            };
            if now_seal != seen {
                return Ok(false);
            }
            if seen.until.is_none() {
                for table in ["progress_day", "progress_week", "progress_member", "progress_mission"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE team_id = ?")))
                        .bind(team)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            write_seal(&mut tx, team, new).await?;
            sqlx::query("UPDATE progress_seal SET sealed_until = ?, sealed_at = ? WHERE team_id = ?")
                .bind(until)
                .bind(now.naive_utc())
                .bind(team)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The kept counts a request needs, if the team is sealed up to `until`:
    /// day rows in `day_ranges`, week rows in `week_ranges` (Mondays), every
    /// member's total, and the totals of `missions` per member. One statement
    /// (one consistent read), so an unseal never shows half.
    pub async fn kept(
        &self,
        team: Uuid,
        until: NaiveDate,
        day_ranges: &[(NaiveDate, NaiveDate)],
        week_ranges: &[(NaiveDate, NaiveDate)],
        missions: &[Uuid],
    ) -> Result<Option<Kept>, MissionError> {
        const COUNTS: &str = "done, required, skipped";
        let mut q = QueryBuilder::<MySql>::new(
            "SELECT 's' AS k, sealed_until AS d, NULL AS a, NULL AS m, 0 AS done, 0 AS required, 0 AS skipped \
             FROM progress_seal WHERE team_id = ",
        );
        q.push_bind(team);
        q.push(format!(
            " UNION ALL SELECT 't', NULL, NULL, member_id, {COUNTS} FROM progress_member WHERE team_id = "
        ));
        q.push_bind(team);
        if !missions.is_empty() {
            q.push(format!(
                " UNION ALL SELECT 'x', NULL, mission_id, member_id, {COUNTS} FROM progress_mission WHERE team_id = "
            ));
            q.push_bind(team);
            q.push(" AND mission_id IN (");
            let mut sep = q.separated(", ");
            for m in missions {
                sep.push_bind(*m);
            }
            q.push(")");
        }
        for (kind, table, col, ranges) in [
            ("d", "progress_day", "day", day_ranges),
            ("w", "progress_week", "week", week_ranges),
        ] {
            if ranges.is_empty() {
                continue;
            }
            q.push(format!(
                " UNION ALL SELECT '{kind}', {col}, NULL, member_id, {COUNTS} FROM {table} WHERE team_id = "
            ));
            q.push_bind(team);
            push_ranges(&mut q, col, ranges);
        }
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut kept = Kept::default();
        let mut sealed = None;
        for r in &rows {
            let kind: String = r.try_get("k")?;
            match kind.as_str() {
                "s" => sealed = r.try_get::<Option<NaiveDate>, _>("d")?,
                "t" => {
                    kept.totals.insert(r.try_get("m")?, counts(r)?);
                }
                "x" => {
                    kept.missions
                        .insert((r.try_get("a")?, r.try_get("m")?), counts(r)?);
                }
                "d" | "w" => {
                    let into = if kind == "d" {
                        &mut kept.days
                    } else {
                        &mut kept.weeks
                    };
                    into.entry(r.try_get("m")?)
                        .or_default()
                        .insert(r.try_get::<NaiveDate, _>("d")?, counts(r)?);
                }
                _ => {}
            }
        }
        Ok((sealed == Some(until)).then_some(kept))
    }

    /// Live proofs and skips of `missions` with `day` before `before` (the
    /// earlier proofs of ONCE missions still open at a seal), minus removed ones.
    pub async fn rows_before(
        &self,
        team: Uuid,
        missions: &[Uuid],
        before: NaiveDate,
    ) -> Result<Vec<ProofRow>, MissionError> {
        if missions.is_empty() {
            return Ok(vec![]);
        }
        let mut q = QueryBuilder::<MySql>::new(
            "SELECT id, mission_id, member_id, day, status, created_at FROM proof \
             WHERE deleted_at IS NULL AND team_id = ",
        );
        q.push_bind(team);
        q.push(" AND day < ");
        q.push_bind(before);
        q.push(" AND mission_id IN (");
        let mut sep = q.separated(", ");
        for m in missions {
            sep.push_bind(*m);
        }
        q.push(") AND NOT EXISTS (SELECT 1 FROM content_moderation c WHERE c.kind = 'PROOF' AND c.content_id = proof.id AND c.state = 'REMOVED')");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(progress_row).collect()
    }
}

/// The key of a kept row (after the team id).
#[derive(Debug, Clone, Copy)]
enum Key {
    /// A day or a week (its Monday), and a member.
    Dated(NaiveDate, Uuid),
    Member(Uuid),
    /// A mission and a member.
    Pair(Uuid, Uuid),
}

/// Inserts rows (`columns`: the key columns after team_id) in chunks; with
/// `add`, an existing row's counts grow by the new ones.
async fn insert(
    conn: &mut MySqlConnection,
    team: Uuid,
    (table, columns, add): (&str, &str, bool),
    rows: &[(Key, Counts)],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(500) {
        let mut q = QueryBuilder::<MySql>::new(format!(
            "INSERT INTO {table} (team_id, {columns}, done, required, skipped) "
        ));
        q.push_values(chunk, |mut b, (key, c)| {
            b.push_bind(team);
            match *key {
                Key::Dated(d, m) => b.push_bind(d).push_bind(m),
                Key::Member(m) => b.push_bind(m),
                Key::Pair(a, m) => b.push_bind(a).push_bind(m),
            };
            b.push_bind(c.done)
                .push_bind(c.required)
                .push_bind(c.skipped);
        });
        if add {
            q.push(" ON DUPLICATE KEY UPDATE done = done + VALUES(done), required = required + VALUES(required), skipped = skipped + VALUES(skipped)");
        }
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts a seal's rows and adds them to the running totals.
async fn write_seal(
    conn: &mut MySqlConnection,
    team: Uuid,
    new: &NewSeal,
) -> Result<(), sqlx::Error> {
    let mut days = Vec::new();
    let mut weeks: BTreeMap<(NaiveDate, Uuid), Counts> = BTreeMap::new();
    let mut members: BTreeMap<Uuid, Counts> = BTreeMap::new();
    for (member, by_day) in &new.days {
        for (day, c) in by_day {
            if *c == Counts::default() {
                continue;
            }
            days.push((Key::Dated(*day, *member), *c));
            weeks.entry((week_start(*day), *member)).or_default().add(c);
            members.entry(*member).or_default().add(c);
        }
    }
    days.sort_by_key(|(k, _)| match k {
        Key::Dated(d, m) => (*d, *m),
        _ => (NaiveDate::MIN, Uuid::nil()),
    });
    let weeks: Vec<_> = weeks
        .into_iter()
        .map(|((w, m), c)| (Key::Dated(w, m), c))
        .collect();
    let members: Vec<_> = members
        .into_iter()
        .map(|(m, c)| (Key::Member(m), c))
        .collect();
    let mut missions: Vec<_> = new
        .missions
        .iter()
        .filter(|(_, c)| **c != Counts::default())
        .map(|((mission, member), c)| (Key::Pair(*mission, *member), *c))
        .collect();
    missions.sort_by_key(|(k, _)| match k {
        Key::Pair(a, b) => (*a, *b),
        _ => (Uuid::nil(), Uuid::nil()),
    });
    insert(conn, team, ("progress_day", "day, member_id", false), &days).await?;
    insert(
        conn,
        team,
        ("progress_week", "week, member_id", false),
        &weeks,
    )
    .await?;
    insert(conn, team, ("progress_member", "member_id", true), &members).await?;
    insert(
        conn,
        team,
        ("progress_mission", "mission_id, member_id", true),
        &missions,
    )
    .await?;
    Ok(())
}
