//! Votes (투표): 2–10 options, single or multiple choice, anonymous or named,
//! optional deadline; cast or change until closed; close early by the author or
//! the leader; a deadline job closes the rest (SKIP LOCKED across replicas).
//!
//! Anonymity: choices are stored under a ballot — an HMAC of (vote, member)
//! under the ballot secret, which lives in configuration only (`crate::ballot`)
//! — and, only for named votes, the member id. `vote_voter` records that
//! someone voted, never what: the member id in a named vote, a keyed voter tag
//! (no time) in an anonymous one. So neither an RPC nor a reader of the
//! database can tell who chose what in an anonymous vote, or even who voted;
//! the service recomputes the caller's own ballot to show them their choice.

use chrono::{DateTime, NaiveDateTime, Utc};
use moing_common::{Validator, convert::timestamp, outbox::Outbox};
use moing_proto::moing::{
    board::v1 as pb,
    events::v1::{VoteCast, VoteClosed, VoteOpened, VoteRetracted, event::Payload},
};
use sqlx::{MySqlConnection, MySqlPool, Row, mysql::MySqlRow};
use tracing::Instrument;
use uuid::Uuid;

use crate::{access::Access, ballot::Ballot, error::BoardError, grpc::Board, posts::author_pb};

#[derive(Debug, Clone)]
pub struct Vote {
    pub id: Uuid,
    pub team_id: Uuid,
    pub author_id: Uuid,
    pub title: String,
    pub memo: String,
    pub multiple: bool,
    pub anonymous: bool,
    pub closes_at: Option<DateTime<Utc>>,
    pub open: bool,
    pub close_reason: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

fn vote_row(r: &MySqlRow) -> Result<Vote, sqlx::Error> {
    let state: String = r.try_get("state")?;
    Ok(Vote {
        id: r.try_get("id")?,
        team_id: r.try_get("team_id")?,
        author_id: r.try_get("author_id")?,
        title: r.try_get("title")?,
        memo: r.try_get("memo")?,
        multiple: r.try_get("multiple_choice")?,
        anonymous: r.try_get("anonymous")?,
        closes_at: r.try_get::<Option<NaiveDateTime>, _>("closes_at")?.map(utc),
        open: state == "OPEN",
        close_reason: r.try_get("close_reason")?,
        closed_at: r.try_get::<Option<NaiveDateTime>, _>("closed_at")?.map(utc),
        created_at: utc(r.try_get("created_at")?),
    })
}

/// The `vote_voter.voter` values that can mark `member` in `v`, current key
/// first: the member id in a named vote, the keyed voter tags of `ballots` in
/// an anonymous one (so the database never holds who voted anonymously).
pub fn voter_rows(v: &Vote, member: Uuid, ballots: &[Ballot]) -> Vec<Vec<u8>> {
    if v.anonymous {
        ballots.iter().map(|b| b.voter.to_vec()).collect()
    } else {
        vec![member.as_bytes().to_vec()]
    }
}

/// `?, ?, …` for an `IN` list of `n` values.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn reason_pb(reason: Option<&str>) -> i32 {
    let r = match reason {
        Some("BY_AUTHOR") => pb::VoteCloseReason::ByAuthor,
        Some("BY_LEADER") => pb::VoteCloseReason::ByLeader,
        Some("DEADLINE") => pb::VoteCloseReason::Deadline,
        Some("TEAM_ENDED") => pb::VoteCloseReason::TeamEnded,
        _ => pb::VoteCloseReason::Unspecified,
    };
    r as i32
}

/// Closes a vote inside `conn`'s transaction; false when it was not open.
pub async fn close(
    conn: &mut MySqlConnection,
    outbox: &Outbox,
    v: &Vote,
    actor: Option<Uuid>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE vote SET state = 'CLOSED', close_reason = ?, closed_at = ? WHERE id = ? AND state = 'OPEN'")
        .bind(reason)
        .bind(now.naive_utc())
        .bind(v.id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let voters: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vote_voter WHERE vote_id = ?")
        .bind(v.id)
        .fetch_one(&mut *conn)
        .await?;
    outbox
        .enqueue(
            conn,
            Some(v.team_id),
            actor,
            Payload::VoteClosed(VoteClosed {
                vote_id: v.id.to_string(),
                vote_title: v.title.clone(),
                reason: reason_pb(Some(reason)),
                voter_count: voters as i32,
            }),
        )
        .await?;
    Ok(true)
}

/// Closes votes whose deadline passed, claiming them with SKIP LOCKED so two
/// replicas never close one twice. Returns how many it closed.
pub async fn close_due(
    pool: &MySqlPool,
    outbox: &Outbox,
    now: DateTime<Utc>,
    batch: u32,
) -> Result<u64, sqlx::Error> {
    moing_common::transaction!("board.close_due", Result<u64, sqlx::Error>, {
        let mut tx = pool.begin().await?;
        let rows = sqlx::query("SELECT * FROM vote WHERE state = 'OPEN' AND closes_at <= ? ORDER BY closes_at LIMIT ? FOR UPDATE SKIP LOCKED")
            .bind(now.naive_utc())
            .bind(batch)
            .fetch_all(&mut *tx)
            .await?;
        let mut closed = 0;
        for r in &rows {
            let v = vote_row(r)?;
            if close(&mut tx, outbox, &v, None, "DEADLINE", now).await? {
                closed += 1;
            }
        }
        tx.commit().await?;
        if closed > 0 {
            outbox.wake();
        }
        Ok(closed)
    })
}

impl Board {
    pub async fn vote(&self, team: Uuid, id: Uuid) -> Result<Vote, BoardError> {
        let row = sqlx::query("SELECT * FROM vote WHERE id = ? AND team_id = ?")
            .bind(id)
            .bind(team)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(vote_row)
            .transpose()?
            .ok_or(BoardError::VoteNotFound)
    }

    /// A vote with results as `me` sees it: counts for everyone; voters per
    /// option only for named votes; my own choice from my ballot.
    pub async fn vote_pb(
        &self,
        v: &Vote,
        me: Uuid,
        access: &Access,
    ) -> Result<pb::Vote, BoardError> {
        let options =
            sqlx::query("SELECT id, text FROM vote_option WHERE vote_id = ? ORDER BY position")
                .bind(v.id)
                .fetch_all(&self.pool)
                .await?;
        let counts = sqlx::query(
            "SELECT option_id, COUNT(*) AS n FROM vote_choice WHERE vote_id = ? GROUP BY option_id",
        )
        .bind(v.id)
        .fetch_all(&self.pool)
        .await?;
        // My ballot under every recognised key (a rotation keeps it found).
        let ballots = self.ballots.all(v.id, me);
        let sql = format!(
            "SELECT option_id FROM vote_choice WHERE vote_id = ? AND ballot IN ({})",
            marks(ballots.len())
        );
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(v.id);
        for b in &ballots {
            q = q.bind(&b.ballot[..]);
        }
        let mine: Vec<Uuid> = q.fetch_all(&self.pool).await?;
        let named: Vec<(Uuid, Uuid)> = if v.anonymous {
            Vec::new()
        } else {
            sqlx::query("SELECT option_id, member_id FROM vote_choice WHERE vote_id = ? AND member_id IS NOT NULL ORDER BY member_id")
                .bind(v.id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("option_id")?, r.try_get("member_id")?)))
                .collect::<Result<_, sqlx::Error>>()?
        };
        let voters: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vote_voter WHERE vote_id = ?")
            .bind(v.id)
            .fetch_one(&self.pool)
            .await?;
        let rows = voter_rows(v, me, &ballots);
        let sql = format!(
            "SELECT COUNT(*) FROM vote_voter WHERE vote_id = ? AND voter IN ({})",
            marks(rows.len())
        );
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(v.id);
        for r in &rows {
            q = q.bind(r);
        }
        let voted = q.fetch_one(&self.pool).await? > 0;
        let mut ids: Vec<Uuid> = named.iter().map(|(_, m)| *m).collect();
        ids.push(v.author_id);
        let names = moing_common::display::names(&self.auth, &ids).await;
        let mut out = Vec::with_capacity(options.len());
        for o in &options {
            let oid: Uuid = o.try_get("id")?;
            let n: i64 = counts
                .iter()
                .find(|c| c.try_get::<Uuid, _>("option_id").ok() == Some(oid))
                .and_then(|c| c.try_get("n").ok())
                .unwrap_or(0);
            out.push(pb::VoteOption {
                option_id: oid.to_string(),
                text: o.try_get("text")?,
                vote_count: n as i32,
                voters: named
                    .iter()
                    .filter(|(opt, _)| *opt == oid)
                    .map(|(_, m)| author_pb(*m, &names, None))
                    .collect(),
                chosen_by_me: mine.contains(&oid),
            });
        }
        Ok(pb::Vote {
            vote_id: v.id.to_string(),
            team_id: v.team_id.to_string(),
            author: Some(author_pb(v.author_id, &names, None)),
            title: v.title.clone(),
            memo: v.memo.clone(),
            options: out,
            multiple_choice: v.multiple,
            anonymous: v.anonymous,
            closes_at: v.closes_at.map(timestamp),
            state: if v.open {
                pb::VoteState::Open
            } else {
                pb::VoteState::Closed
            } as i32,
            closed_at: v.closed_at.map(timestamp),
            close_reason: reason_pb(v.close_reason.as_deref()),
            voter_count: voters as i32,
            member_count: 0,
            voted_by_me: voted,
            my_option_ids: mine.iter().map(Uuid::to_string).collect(),
            can_close: v.open && access.writable && (v.author_id == me || access.leader),
            created_at: Some(timestamp(v.created_at)),
        })
    }

    pub fn summary_pb(v: &Vote, voters: i64, voted: bool) -> pb::VoteSummary {
        pb::VoteSummary {
            vote_id: v.id.to_string(),
            title: v.title.clone(),
            author: Some(pb::Author {
                member_id: v.author_id.to_string(),
                ..Default::default()
            }),
            multiple_choice: v.multiple,
            anonymous: v.anonymous,
            state: if v.open {
                pb::VoteState::Open
            } else {
                pb::VoteState::Closed
            } as i32,
            closes_at: v.closes_at.map(timestamp),
            closed_at: v.closed_at.map(timestamp),
            voter_count: voters as i32,
            member_count: 0,
            voted_by_me: voted,
            created_at: Some(timestamp(v.created_at)),
        }
    }

    /// Summaries of a team's votes (optionally one state), newest first.
    pub async fn vote_summaries(
        &self,
        team: Uuid,
        me: Uuid,
        open: Option<bool>,
    ) -> Result<Vec<pb::VoteSummary>, BoardError> {
        let rows = sqlx::query(
            "SELECT v.*, (SELECT COUNT(*) FROM vote_voter x WHERE x.vote_id = v.id) AS voters \
             FROM vote v WHERE v.team_id = ? AND (? IS NULL OR v.state = ?) ORDER BY v.created_at DESC, v.id DESC",
        )
        .bind(team)
        .bind(open.map(|o| if o { "OPEN" } else { "CLOSED" }))
        .bind(open.map(|o| if o { "OPEN" } else { "CLOSED" }))
        .fetch_all(&self.pool)
        .await?;
        let votes = rows
            .iter()
            .map(|r| Ok((vote_row(r)?, r.try_get::<i64, _>("voters")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        // Where I voted, in one query: my voter row of each vote is the member id
        // or, in an anonymous vote, a tag only this service can compute.
        let mut ids = Vec::new();
        let mut mine_rows = Vec::new();
        for (v, _) in &votes {
            ids.push(v.id);
            mine_rows.extend(voter_rows(v, me, &self.ballots.all(v.id, me)));
        }
        let mut voted_in: Vec<Uuid> = Vec::new();
        if !ids.is_empty() {
            let sql = format!(
                "SELECT DISTINCT vote_id FROM vote_voter WHERE vote_id IN ({}) AND voter IN ({})",
                marks(ids.len()),
                marks(mine_rows.len())
            );
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
            for id in &ids {
                q = q.bind(id);
            }
            for r in &mine_rows {
                q = q.bind(r);
            }
            voted_in = q.fetch_all(&self.pool).await?;
        }
        Ok(votes
            .iter()
            .map(|(v, voters)| Self::summary_pb(v, *voters, voted_in.contains(&v.id)))
            .collect())
    }

    pub async fn create_vote(
        &self,
        me: Uuid,
        r: pb::CreateVoteRequest,
    ) -> Result<pb::Vote, BoardError> {
        moing_common::transaction!("board.create_vote", Result<pb::Vote, BoardError>, {
            let now = moing_common::clock::now();
            let mut v = Validator::new();
            let team = v.id("team_id", &r.team_id).unwrap_or_default();
            let title = v.text("title", &r.title, 1, 30);
            let memo = v.text("memo", &r.memo, 0, 300);
            v.check(
                (2..=10).contains(&r.options.len()),
                "options",
                "give 2 to 10 options",
            );
            let mut options = Vec::new();
            for (i, o) in r.options.iter().enumerate() {
                let text = v.text(&format!("options[{i}]"), o, 1, 50);
                if options.contains(&text) && !text.is_empty() {
                    v.violation(&format!("options[{i}]"), "options must differ");
                }
                options.push(text);
            }
            let closes_at = v.timestamp("closes_at", r.closes_at.as_ref());
            v.check(
                closes_at.is_none_or(|c| c > now),
                "closes_at",
                "must be in the future",
            );
            v.finish()?;
            let access = self.members.check(team, me).await?;
            if !access.writable {
                return Err(BoardError::ReadOnly);
            }
            let id = Uuid::now_v7();
            let mut tx = self.pool.begin().await?;
            sqlx::query("INSERT INTO vote (id, team_id, author_id, title, memo, multiple_choice, anonymous, closes_at, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'OPEN', ?)")
                .bind(id)
                .bind(team)
                .bind(me)
                .bind(&title)
                .bind(&memo)
                .bind(r.multiple_choice)
                .bind(r.anonymous)
                .bind(closes_at.map(|c| c.naive_utc()))
                .bind(now.naive_utc())
                .execute(&mut *tx)
                .await?;
            for (i, text) in options.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO vote_option (id, vote_id, position, text) VALUES (?, ?, ?, ?)",
                )
                .bind(Uuid::now_v7())
                .bind(id)
                .bind(i as i32)
                .bind(text)
                .execute(&mut *tx)
                .await?;
            }
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team),
                    Some(me),
                    Payload::VoteOpened(VoteOpened {
                        vote_id: id.to_string(),
                        team_name: access.team_name.clone(),
                        vote_title: title,
                        closes_at: closes_at.map(timestamp),
                        anonymous: r.anonymous,
                        multiple_choice: r.multiple_choice,
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            let v = self.vote(team, id).await?;
            self.vote_pb(&v, me, &access).await

        })
    }

    fn vote_ids(v: &mut Validator, team: &str, vote: &str) -> (Uuid, Uuid) {
        (
            v.id("team_id", team).unwrap_or_default(),
            v.id("vote_id", vote).unwrap_or_default(),
        )
    }

    pub async fn get_vote(&self, me: Uuid, team: &str, vote: &str) -> Result<pb::Vote, BoardError> {
        let mut v = Validator::new();
        let (team, id) = Self::vote_ids(&mut v, team, vote);
        v.finish()?;
        let access = self.members.check(team, me).await?;
        let vote = self.vote(team, id).await?;
        self.vote_pb(&vote, me, &access).await
    }

    /// Casts or changes (`options` non-empty) or retracts (empty) my choice.
    pub async fn cast(
        &self,
        me: Uuid,
        team: &str,
        vote: &str,
        option_ids: &[String],
        retract: bool,
    ) -> Result<pb::Vote, BoardError> {
        let mut v = Validator::new();
        let (team, id) = Self::vote_ids(&mut v, team, vote);
        let mut chosen: Vec<Uuid> = option_ids
            .iter()
            .enumerate()
            .filter_map(|(i, o)| v.id(&format!("option_ids[{i}]"), o))
            .collect();
        v.check(
            retract || !option_ids.is_empty(),
            "option_ids",
            "choose at least one option",
        );
        v.finish()?;
        chosen.sort();
        chosen.dedup();
        let access = self.members.check(team, me).await?;
        if !access.writable {
            return Err(BoardError::ReadOnly);
        }
        let vote = self.vote(team, id).await?;
        if !vote.multiple && chosen.len() > 1 {
            return Err(BoardError::SingleChoice);
        }
        let valid: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM vote_option WHERE vote_id = ?")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        if chosen.iter().any(|c| !valid.contains(c)) {
            return Err(BoardError::OptionInvalid);
        }
        let ballots = self.ballots.all(id, me);
        moing_common::transaction!("board.cast", Result<(), BoardError>, {
            self.cast_once(&vote, me, &ballots, &chosen, retract).await
        })?;
        let vote = self.vote(team, id).await?;
        self.vote_pb(&vote, me, &access).await
    }

    async fn cast_once(
        &self,
        vote: &Vote,
        me: Uuid,
        ballots: &[Ballot],
        chosen: &[Uuid],
        retract: bool,
    ) -> Result<(), BoardError> {
        let now = moing_common::clock::now();
        let mut conn = self.pool.acquire().await?;
        // Row locks only on this member's ballot rows (no gap locks), so casts in
        // one vote never block each other and never touch another vote.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            .execute(&mut *conn)
            .await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let open: Option<String> =
            sqlx::query_scalar("SELECT state FROM vote WHERE id = ? LOCK IN SHARE MODE")
                .bind(vote.id)
                .fetch_optional(&mut *tx)
                .await?;
        let still_open = open.as_deref() == Some("OPEN") && vote.closes_at.is_none_or(|c| c > now);
        if !still_open {
            return Err(BoardError::VoteClosed);
        }
        // The member's voter row first, written (created if need be) even to
        // retract: it exists for every voter, named or anonymous, so taking its
        // lock before the choices makes one member's concurrent casts and
        // retracts in this vote take turns. Otherwise two casts of one member
        // both found no choice to delete and then both inserted theirs: a
        // duplicate key (INTERNAL) for the same option, two choices in a
        // single-choice vote for different ones.
        // In an anonymous vote the row is a keyed tag and carries no time, and
        // nothing this transaction writes names the member (not even the event's
        // actor), so neither the tables nor the binlog link them to the choice.
        let voters = voter_rows(vote, me, ballots);
        let current = &ballots[0];
        sqlx::query("INSERT INTO vote_voter (vote_id, voter, voted_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE voted_at = VALUES(voted_at)")
            .bind(vote.id)
            .bind(&voters[0])
            .bind((!vote.anonymous).then(|| now.naive_utc()))
            .execute(&mut *tx)
            .await?;
        // Ballots (and anonymous voter rows) under previous keys are replaced by
        // the current key's: a rotation never gives one member two ballots.
        let sql = format!(
            "DELETE FROM vote_choice WHERE vote_id = ? AND ballot IN ({})",
            marks(ballots.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(vote.id);
        for b in ballots {
            q = q.bind(&b.ballot[..]);
        }
        let removed = q.execute(&mut *tx).await?.rows_affected();
        let stale = if retract { &voters[..] } else { &voters[1..] };
        if !stale.is_empty() {
            let sql = format!(
                "DELETE FROM vote_voter WHERE vote_id = ? AND voter IN ({})",
                marks(stale.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(vote.id);
            for r in stale {
                q = q.bind(r);
            }
            q.execute(&mut *tx).await?;
        }
        if !retract {
            for o in chosen {
                sqlx::query("INSERT INTO vote_choice (vote_id, ballot, key_id, option_id, member_id) VALUES (?, ?, ?, ?, ?)")
                    .bind(vote.id)
                    .bind(&current.ballot[..])
                    .bind(&current.key_id[..])
                    .bind(o)
                    .bind((!vote.anonymous).then_some(me))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let payload = if retract {
            Payload::VoteRetracted(VoteRetracted {
                vote_id: vote.id.to_string(),
            })
        } else {
            Payload::VoteCast(VoteCast {
                vote_id: vote.id.to_string(),
                anonymous: vote.anonymous,
                // An anonymous vote's event names no option.
                option_ids: if vote.anonymous {
                    Vec::new()
                } else {
                    chosen.iter().map(Uuid::to_string).collect()
                },
                changed: removed > 0,
            })
        };
        // An anonymous vote's events have no actor and no trace context (its
        // trace id leads to this call's span, which names the member): the
        // outbox row is written in this transaction, next to the ballot.
        let actor = (!vote.anonymous).then_some(me);
        let enqueue = self
            .outbox
            .enqueue(&mut tx, Some(vote.team_id), actor, payload);
        if vote.anonymous {
            enqueue.instrument(tracing::Span::none()).await?;
        } else {
            enqueue.await?;
        }
        tx.commit().await?;
        self.outbox.wake();
        Ok(())
    }

    pub async fn close_vote(
        &self,
        me: Uuid,
        team: &str,
        vote: &str,
    ) -> Result<pb::Vote, BoardError> {
        moing_common::transaction!("board.close_vote", Result<pb::Vote, BoardError>, {
            let mut v = Validator::new();
            let (team, id) = Self::vote_ids(&mut v, team, vote);
            v.finish()?;
            let access = self.members.check(team, me).await?;
            if !access.writable {
                return Err(BoardError::ReadOnly);
            }
            let vote = self.vote(team, id).await?;
            if vote.author_id != me && !access.leader {
                return Err(BoardError::NotAuthorOrLeader);
            }
            let reason = if vote.author_id == me {
                "BY_AUTHOR"
            } else {
                "BY_LEADER"
            };
            let mut tx = self.pool.begin().await?;
            let closed = close(&mut tx, &self.outbox, &vote, Some(me), reason, moing_common::clock::now()).await?;
            tx.commit().await?;
            if !closed {
                return Err(BoardError::VoteClosed);
            }
            self.outbox.wake();
            let vote = self.vote(team, id).await?;
            self.vote_pb(&vote, me, &access).await

        })
    }
}
