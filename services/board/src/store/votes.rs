//! Votes: rows, results, ballots, closing (early or by the deadline job).
//!
//! Choices are stored under a ballot (`crate::ballot`) and, only for named
//! votes, the member id; `vote_voter` records that someone voted, never what:
//! the member id in a named vote, a keyed voter tag (no time) in an anonymous
//! one.

use chrono::{DateTime, NaiveDateTime, Utc};
use moing_common::{convert::timestamp, outbox::Outbox};
use moing_proto::moing::{
    board::v1 as pb,
    events::v1::{VoteCast, VoteClosed, VoteOpened, VoteRetracted, event::Payload},
};
use sqlx::{MySqlConnection, Row, mysql::MySqlRow};
use tracing::Instrument;
use uuid::Uuid;

use super::{Store, marks, utc};
use crate::{
    ballot::Ballot,
    domain::{CloseReason, ClosingVote, ExportedVote, NewVote, Vote, VoteResults, voter_rows},
    error::BoardError,
};

fn vote_row(r: &MySqlRow) -> Result<Vote, sqlx::Error> {
    let state: String = r.try_get("state")?;
    let reason: Option<String> = r.try_get("close_reason")?;
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
        close_reason: reason.as_deref().and_then(CloseReason::parse),
        closed_at: r.try_get::<Option<NaiveDateTime>, _>("closed_at")?.map(utc),
        created_at: utc(r.try_get("created_at")?),
    })
}

/// Closes a vote inside `conn`'s transaction with its VoteClosed event; false
/// when it was not open.
async fn close(
    conn: &mut MySqlConnection,
    outbox: &Outbox,
    v: &Vote,
    actor: Option<Uuid>,
    reason: CloseReason,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE vote SET state = 'CLOSED', close_reason = ?, closed_at = ? WHERE id = ? AND state = 'OPEN'")
        .bind(reason.as_str())
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
    let event = Payload::VoteClosed(VoteClosed {
        vote_id: v.id.to_string(),
        vote_title: v.title.clone(),
        reason: pb::VoteCloseReason::from(reason) as i32,
        voter_count: voters as i32,
    });
    outbox.enqueue(conn, Some(v.team_id), actor, event).await?;
    Ok(true)
}

impl Store {
    /// A vote of `team`, or VOTE_NOT_FOUND.
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

    /// A team's votes (optionally one state) with their voter counts, newest first.
    pub async fn team_votes(
        &self,
        team: Uuid,
        open: Option<bool>,
    ) -> Result<Vec<(Vote, i64)>, BoardError> {
        let state = open.map(|o| if o { "OPEN" } else { "CLOSED" });
        let rows = sqlx::query(
            "SELECT v.*, (SELECT COUNT(*) FROM vote_voter x WHERE x.vote_id = v.id) AS voters \
             FROM vote v WHERE v.team_id = ? AND (? IS NULL OR v.state = ?) ORDER BY v.created_at DESC, v.id DESC",
        )
        .bind(team)
        .bind(state)
        .bind(state)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((vote_row(r)?, r.try_get::<i64, _>("voters")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?)
    }

    /// Which of `votes` have one of `voters` (my voter rows), in one query.
    pub async fn voted_in(
        &self,
        votes: &[Uuid],
        voters: &[Vec<u8>],
    ) -> Result<Vec<Uuid>, BoardError> {
        if votes.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT DISTINCT vote_id FROM vote_voter WHERE vote_id IN ({}) AND voter IN ({})",
            marks(votes.len()),
            marks(voters.len())
        );
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for id in votes {
            q = q.bind(id);
        }
        for r in voters {
            q = q.bind(r);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// A vote's results as the member of `ballots` (every recognised key) sees them.
    pub async fn vote_results(
        &self,
        v: &Vote,
        member: Uuid,
        ballots: &[Ballot],
    ) -> Result<VoteResults, BoardError> {
        let (options, counts) = self.options_and_counts(v.id).await?;
        let mine = self.my_choices(v.id, ballots).await?;
        let named = if v.anonymous {
            Vec::new()
        } else {
            self.named_choices(v.id).await?
        };
        let voters: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vote_voter WHERE vote_id = ?")
            .bind(v.id)
            .fetch_one(&self.pool)
            .await?;
        let voted_by_me = self
            .has_voted(v.id, &voter_rows(v, member, ballots))
            .await?;
        Ok(VoteResults {
            options,
            counts,
            mine,
            named,
            voters,
            voted_by_me,
        })
    }

    async fn options_and_counts(
        &self,
        vote: Uuid,
    ) -> Result<(Vec<(Uuid, String)>, Vec<(Uuid, i64)>), BoardError> {
        let options =
            sqlx::query("SELECT id, text FROM vote_option WHERE vote_id = ? ORDER BY position")
                .bind(vote)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|o| Ok((o.try_get("id")?, o.try_get("text")?)))
                .collect::<Result<_, sqlx::Error>>()?;
        let counts = sqlx::query(
            "SELECT option_id, COUNT(*) AS n FROM vote_choice WHERE vote_id = ? GROUP BY option_id",
        )
        .bind(vote)
        .fetch_all(&self.pool)
        .await?
        .iter()
        // A row that cannot be read counts as no choice.
        .filter_map(|c| Some((c.try_get("option_id").ok()?, c.try_get("n").ok()?)))
        .collect();
        Ok((options, counts))
    }

    /// The options of my ballot under any recognised key (a rotation keeps it found).
    async fn my_choices(&self, vote: Uuid, ballots: &[Ballot]) -> Result<Vec<Uuid>, BoardError> {
        let sql = format!(
            "SELECT option_id FROM vote_choice WHERE vote_id = ? AND ballot IN ({})",
            marks(ballots.len())
        );
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(vote);
        for b in ballots {
            q = q.bind(&b.ballot[..]);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// (option, member) of a named vote, by member.
    async fn named_choices(&self, vote: Uuid) -> Result<Vec<(Uuid, Uuid)>, BoardError> {
        Ok(sqlx::query("SELECT option_id, member_id FROM vote_choice WHERE vote_id = ? AND member_id IS NOT NULL ORDER BY member_id")
            .bind(vote)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("option_id")?, r.try_get("member_id")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn has_voted(&self, vote: Uuid, rows: &[Vec<u8>]) -> Result<bool, BoardError> {
        let sql = format!(
            "SELECT COUNT(*) FROM vote_voter WHERE vote_id = ? AND voter IN ({})",
            marks(rows.len())
        );
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(vote);
        for r in rows {
            q = q.bind(r);
        }
        Ok(q.fetch_one(&self.pool).await? > 0)
    }

    /// Writes a vote, its options and its VoteOpened event; returns its id.
    pub async fn create_vote(
        &self,
        me: Uuid,
        new: &NewVote,
        team_name: &str,
    ) -> Result<Uuid, BoardError> {
        let id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO vote (id, team_id, author_id, title, memo, multiple_choice, anonymous, closes_at, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'OPEN', ?)")
            .bind(id)
            .bind(new.team)
            .bind(me)
            .bind(&new.title)
            .bind(&new.memo)
            .bind(new.multiple)
            .bind(new.anonymous)
            .bind(new.closes_at.map(|c| c.naive_utc()))
            .bind(new.now.naive_utc())
            .execute(&mut *tx)
            .await?;
        for (i, text) in new.options.iter().enumerate() {
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
        let event = Payload::VoteOpened(VoteOpened {
            vote_id: id.to_string(),
            team_name: team_name.to_owned(),
            vote_title: new.title.clone(),
            closes_at: new.closes_at.map(timestamp),
            anonymous: new.anonymous,
            multiple_choice: new.multiple,
        });
        self.outbox
            .enqueue(&mut tx, Some(new.team), Some(me), event)
            .await?;
        tx.commit().await?;
        self.outbox.wake();
        Ok(id)
    }

    /// The options of a vote.
    pub async fn option_ids(&self, vote: Uuid) -> Result<Vec<Uuid>, BoardError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM vote_option WHERE vote_id = ?")
                .bind(vote)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Casts, changes or retracts `me`'s choice in one transaction with its
    /// event (VOTE_CLOSED once the vote closed). Run it under
    /// `moing_common::transaction!`.
    pub async fn cast(
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
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM vote WHERE id = ? LOCK IN SHARE MODE")
                .bind(vote.id)
                .fetch_optional(&mut *tx)
                .await?;
        if !vote.takes_ballots(state.as_deref() == Some("OPEN"), now) {
            return Err(BoardError::VoteClosed);
        }
        let voters = voter_rows(vote, me, ballots);
        write_voter_row(&mut tx, vote, &voters[0], now).await?;
        let removed = replace_ballots(&mut tx, vote, ballots, &voters, retract).await?;
        if !retract {
            write_choices(&mut tx, vote, me, &ballots[0], chosen).await?;
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

    /// Closes an open vote early with its VoteClosed event; false when it was
    /// not open any more.
    pub async fn close_vote(
        &self,
        vote: &Vote,
        actor: Uuid,
        reason: CloseReason,
    ) -> Result<bool, BoardError> {
        let now = moing_common::clock::now();
        let mut tx = self.pool.begin().await?;
        let closed = close(&mut tx, &self.outbox, vote, Some(actor), reason, now).await?;
        tx.commit().await?;
        if closed {
            self.outbox.wake();
        }
        Ok(closed)
    }

    /// Closes votes whose deadline passed, claiming them with SKIP LOCKED so two
    /// replicas never close one twice. Returns how many it closed.
    pub async fn close_due(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, sqlx::Error> {
        let (pool, outbox) = (&self.pool, &self.outbox);
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
                if close(&mut tx, outbox, &v, None, CloseReason::Deadline, now).await? {
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

    /// Open votes whose deadline falls between `from` and `to`, by deadline.
    pub async fn closing_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ClosingVote>, BoardError> {
        let rows = sqlx::query("SELECT id, team_id, title, closes_at, anonymous FROM vote WHERE state = 'OPEN' AND closes_at BETWEEN ? AND ? ORDER BY closes_at, id")
            .bind(from.naive_utc())
            .bind(to.naive_utc())
            .fetch_all(&self.pool)
            .await?;
        let mut votes = Vec::with_capacity(rows.len());
        for row in &rows {
            votes.push(ClosingVote {
                id: row.try_get("id")?,
                team_id: row.try_get("team_id")?,
                closes_at: utc(row.try_get("closes_at")?),
                title: row.try_get("title")?,
                anonymous: row.try_get("anonymous")?,
            });
        }
        Ok(votes)
    }

    /// Every voter row of a vote (member ids or keyed tags).
    pub async fn voter_rows_of(&self, vote: Uuid) -> Result<Vec<Vec<u8>>, BoardError> {
        Ok(
            sqlx::query_scalar("SELECT voter FROM vote_voter WHERE vote_id = ?")
                .bind(vote)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The named votes a member took part in, for a data export (anonymous
    /// voter rows are keyed tags: the database cannot tell).
    pub async fn exported_votes(&self, member: Uuid) -> Result<Vec<ExportedVote>, BoardError> {
        let rows = sqlx::query("SELECT x.vote_id, v.title, v.anonymous, x.voted_at FROM vote_voter x JOIN vote v ON v.id = x.vote_id WHERE x.voter = ? AND v.anonymous = 0 ORDER BY x.voted_at")
            .bind(member)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| ExportedVote {
                vote_id: r.try_get("vote_id").ok(),
                title: r.try_get("title").unwrap_or_default(),
                anonymous: r.try_get("anonymous").unwrap_or(false),
                voted_at: r.try_get::<NaiveDateTime, _>("voted_at").ok().map(utc),
            })
            .collect())
    }
}

/// The member's voter row first, written (created if need be) even to
/// retract: it exists for every voter, named or anonymous, so taking its lock
/// before the choices makes one member's concurrent casts and retracts in this
/// vote take turns. Otherwise two casts of one member both found no choice to
/// delete and then both inserted theirs: a duplicate key (INTERNAL) for the
/// same option, two choices in a single-choice vote for different ones.
/// In an anonymous vote the row is a keyed tag and carries no time, and
/// nothing the transaction writes names the member (not even the event's
/// actor), so neither the tables nor the binlog link them to the choice.
async fn write_voter_row(
    tx: &mut MySqlConnection,
    vote: &Vote,
    voter: &[u8],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO vote_voter (vote_id, voter, voted_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE voted_at = VALUES(voted_at)")
        .bind(vote.id)
        .bind(voter)
        .bind((!vote.anonymous).then(|| now.naive_utc()))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Deletes the member's ballots under every key, and their voter rows under
/// previous keys (all of them to retract): the current key's replace them, so
/// a rotation never gives one member two ballots. Returns the choices removed.
async fn replace_ballots(
    tx: &mut MySqlConnection,
    vote: &Vote,
    ballots: &[Ballot],
    voters: &[Vec<u8>],
    retract: bool,
) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "DELETE FROM vote_choice WHERE vote_id = ? AND ballot IN ({})",
        marks(ballots.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(vote.id);
    for b in ballots {
        q = q.bind(&b.ballot[..]);
    }
    let removed = q.execute(&mut *tx).await?.rows_affected();
    let stale = if retract { voters } else { &voters[1..] };
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
    Ok(removed)
}

/// The chosen options under the current ballot (and the member id, named votes only).
async fn write_choices(
    tx: &mut MySqlConnection,
    vote: &Vote,
    me: Uuid,
    current: &Ballot,
    chosen: &[Uuid],
) -> Result<(), sqlx::Error> {
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
    Ok(())
}
