//! Counting: every acknowledged proof owes one inbox row and one push to each
//! other member of the team (the author gets none). Inbox rows are read from
//! notification's database, pushes from the FCM stand-in, both keyed by
//! (proof, recipient); the `MISSION_CREATED` notifications of the set-up are
//! left out by type.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use moing_testkit::{FcmServer, ReceivedMessage};
use sqlx::{MySqlPool, Row, mysql::MySqlPoolOptions};
use uuid::Uuid;

use crate::{load::Ack, setup::Team};

/// The notification type of a submitted proof (services/notification/src/domain.rs).
pub const PROOF_TYPE: &str = "PROOF_SUBMITTED";
/// Mission's outbox subscriber name of notification.
const SUBSCRIBER: &str = "notification";

pub async fn connect(url: &str) -> anyhow::Result<MySqlPool> {
    Ok(MySqlPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(3))
        .connect(url)
        .await?)
}

/// One inbox row of a proof notification.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub member: Uuid,
    pub proof_id: String,
    /// When the row was written: its id is a UUIDv7 made at the write
    /// (`created_at` is when the proof happened).
    pub written_at: DateTime<Utc>,
}

pub async fn inbox_rows(db: &MySqlPool, team: Uuid) -> anyhow::Result<Vec<InboxRow>> {
    let rows = sqlx::query(
        "SELECT id, member_id, data FROM moing_notification.notification \
         WHERE team_id = ? AND type = ?",
    )
    .bind(team)
    .bind(PROOF_TYPE)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let data: String = r.try_get("data")?;
            let data: serde_json::Value = serde_json::from_str(&data)?;
            Ok(InboxRow {
                member: r.try_get("member_id")?,
                proof_id: data["proof_id"].as_str().unwrap_or_default().to_owned(),
                written_at: written_at(r.try_get("id")?),
            })
        })
        .collect()
}

/// The time in a UUIDv7 (millisecond precision).
fn written_at(id: Uuid) -> DateTime<Utc> {
    id.get_timestamp()
        .and_then(|t| {
            let (secs, nanos) = t.to_unix();
            DateTime::from_timestamp(secs as i64, nanos)
        })
        .unwrap_or_default()
}

pub async fn inbox_count(db: &MySqlPool, team: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM moing_notification.notification WHERE team_id = ? AND type = ?",
    )
    .bind(team)
    .bind(PROOF_TYPE)
    .fetch_one(db)
    .await
}

/// Push rows of the team's notifications by state.
pub async fn push_states(db: &MySqlPool, team: Uuid) -> Result<BTreeMap<String, i64>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT p.state, COUNT(*) AS n FROM moing_notification.push p \
         JOIN moing_notification.notification n ON n.id = p.notification_id \
         WHERE n.team_id = ? GROUP BY p.state",
    )
    .bind(team)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
        .collect()
}

/// Events mission still owes notification.
pub async fn outbox_pending(db: &MySqlPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM moing_mission.outbox_pending WHERE subscriber = ?")
        .bind(SUBSCRIBER)
        .fetch_one(db)
        .await
}

/// The messages of the team's proof notifications.
pub fn proof_pushes(messages: &[ReceivedMessage], team: Uuid) -> Vec<&ReceivedMessage> {
    let team = team.to_string();
    messages
        .iter()
        .filter(|m| {
            m.data.get("type").map(String::as_str) == Some(PROOF_TYPE)
                && m.data.get("team_id") == Some(&team)
        })
        .collect()
}

/// The identity a phone collapses a re-sent message by.
pub fn collapse_id(m: &ReceivedMessage) -> String {
    let msg = &m.message;
    [
        &msg["android"]["notification"]["tag"],
        &msg["apns"]["headers"]["apns-collapse-id"],
    ]
    .into_iter()
    .find_map(|v| v.as_str().map(str::to_owned))
    .or_else(|| m.data.get("notification_id").cloned())
    .unwrap_or_default()
}

/// Lost and duplicate counts of one run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub inbox_expected: usize,
    pub inbox_got: usize,
    pub inbox_lost: usize,
    pub inbox_dup: usize,
    pub push_expected: usize,
    pub push_got: usize,
    pub push_lost: usize,
    /// Extra messages with the collapse id of one already received: the phone
    /// replaces the shown notification (allowed).
    pub collapsed: usize,
    /// Extra messages under another collapse id: the phone shows it twice.
    pub push_dup: usize,
    /// Rows or messages of an acknowledged proof for someone who is owed none
    /// (the author, a stranger).
    pub stray: usize,
    /// Rows or messages of proofs whose SubmitProof failed (it may have
    /// committed anyway); not counted above.
    pub unacked: usize,
}

impl Counts {
    pub fn clean(&self) -> bool {
        self.inbox_lost == 0
            && self.inbox_dup == 0
            && self.push_lost == 0
            && self.push_dup == 0
            && self.stray == 0
    }

    /// `inbox … | pushes …`, the middle of every summary line.
    pub fn line(&self) -> String {
        format!(
            "inbox expected {} got {} lost {} dup {} | pushes expected {} got {} lost {} collapsed-resends {} dup {}{}{}",
            self.inbox_expected,
            self.inbox_got,
            self.inbox_lost,
            self.inbox_dup,
            self.push_expected,
            self.push_got,
            self.push_lost,
            self.collapsed,
            self.push_dup,
            if self.stray > 0 {
                format!(" | stray {}", self.stray)
            } else {
                String::new()
            },
            if self.unacked > 0 {
                format!(" | of unacknowledged proofs {}", self.unacked)
            } else {
                String::new()
            },
        )
    }
}

/// Counts inbox rows and pushes against what the acknowledged proofs owe.
pub fn count(
    team: &Team,
    acks: &[Ack],
    rows: &[InboxRow],
    messages: &[&ReceivedMessage],
) -> Counts {
    let authors: HashMap<&str, usize> = acks
        .iter()
        .map(|a| (a.proof_id.as_str(), a.author))
        .collect();
    let owed = |proof: &str, member: Option<usize>| -> Option<bool> {
        let author = *authors.get(proof)?;
        Some(member.is_some_and(|m| m != author))
    };
    let mut c = Counts {
        inbox_expected: acks.len() * (team.members.len() - 1),
        push_expected: acks.len() * (team.members.len() - 1),
        ..Counts::default()
    };

    let index_of_id: HashMap<Uuid, usize> = team
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id, i))
        .collect();
    let mut inbox: HashMap<(&str, usize), usize> = HashMap::new();
    for r in rows {
        let member = index_of_id.get(&r.member).copied();
        match (owed(&r.proof_id, member), member) {
            (None, _) => c.unacked += 1,
            (Some(true), Some(m)) => *inbox.entry((r.proof_id.as_str(), m)).or_default() += 1,
            (Some(_), _) => c.stray += 1,
        }
    }
    c.inbox_got = inbox.values().sum();
    c.inbox_dup = inbox.values().map(|n| n - 1).sum();
    c.inbox_lost = c.inbox_expected.saturating_sub(inbox.len());

    let index_of_token: HashMap<&str, usize> = team
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.push_token.as_str(), i))
        .collect();
    let mut pushes: HashMap<(&str, usize), Vec<String>> = HashMap::new();
    for m in messages {
        let proof = m.data.get("proof_id").map(String::as_str).unwrap_or("");
        let member = index_of_token.get(m.token.as_str()).copied();
        match (owed(proof, member), member) {
            (None, _) => c.unacked += 1,
            (Some(true), Some(i)) => pushes.entry((proof, i)).or_default().push(collapse_id(m)),
            (Some(_), _) => c.stray += 1,
        }
    }
    for ids in pushes.values() {
        c.push_got += ids.len();
        let distinct: HashSet<&String> = ids.iter().collect();
        c.push_dup += distinct.len() - 1;
        c.collapsed += ids.len() - distinct.len();
    }
    c.push_lost = c.push_expected.saturating_sub(pushes.len());
    c
}

/// Where the pipeline stood when the drill stopped waiting.
#[derive(Debug, Clone)]
pub struct Drain {
    /// Nothing left to do (else: nothing moved for the settle time, or time ran out).
    pub done: bool,
    pub outbox: i64,
    pub states: BTreeMap<String, i64>,
    pub waited: Duration,
}

impl Drain {
    pub fn line(&self) -> String {
        let states: Vec<String> = self
            .states
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        format!(
            "{} after {:.1}s, outbox pending {}, push rows {}",
            if self.done { "drained" } else { "NOT drained" },
            self.waited.as_secs_f64(),
            self.outbox,
            states.join(" ")
        )
    }
}

/// Waits until mission owes notification nothing, the team's push rows are
/// all finished and the inbox holds `inbox_expected` rows; or until nothing
/// moved for `settle` (rows left `SENDING` by a crash, say), or `within`.
pub async fn drain(
    db: &MySqlPool,
    fcm: &FcmServer,
    team: Uuid,
    inbox_expected: usize,
    settle: Duration,
    within: Duration,
) -> Drain {
    let started = Instant::now();
    let mut last = None;
    let mut since = Instant::now();
    loop {
        let outbox = outbox_pending(db).await.unwrap_or(-1);
        let inbox = inbox_count(db, team).await.unwrap_or(-1);
        let states = push_states(db, team).await.unwrap_or_default();
        let open = |s: &str| states.get(s).copied().unwrap_or(0);
        let snapshot = (outbox, inbox, states.clone(), fcm.received_count());
        if last.as_ref() != Some(&snapshot) {
            last = Some(snapshot);
            since = Instant::now();
        }
        let finished = outbox == 0
            && open("PENDING") == 0
            && open("SENDING") == 0
            && inbox >= inbox_expected as i64;
        // A finished state must also hold still briefly: the stand-in may
        // still be answering the last sends.
        let still = since.elapsed();
        if (finished && still >= Duration::from_millis(1000))
            || (outbox == 0 && still >= settle)
            || started.elapsed() >= within
        {
            return Drain {
                done: finished,
                outbox,
                states,
                waited: started.elapsed(),
            };
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Percentile `p` (0..=100) of sorted `v`.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::setup::Member;

    fn team(n: usize) -> Team {
        Team {
            id: Uuid::nil(),
            members: (0..n)
                .map(|i| Member {
                    id: Uuid::from_u128(i as u128 + 1),
                    access: String::new(),
                    push_token: format!("t{i}"),
                })
                .collect(),
            missions: vec![],
        }
    }

    /// A fixed instant: counting does not depend on when things happened.
    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_000_000, 0).expect("instant")
    }

    fn push(token: &str, proof: &str, collapse: &str) -> ReceivedMessage {
        ReceivedMessage {
            token: token.into(),
            title: String::new(),
            body: String::new(),
            data: [("proof_id".to_owned(), proof.to_owned())].into(),
            message: json!({"android": {"notification": {"tag": collapse}}}),
            received_at: at(),
        }
    }

    fn row(member: u128, proof: &str) -> InboxRow {
        InboxRow {
            member: Uuid::from_u128(member),
            proof_id: proof.into(),
            written_at: at(),
        }
    }

    #[test]
    fn lost_duplicated_and_collapsed_are_told_apart() {
        let t = team(3);
        let acks = vec![Ack {
            proof_id: "p".into(),
            author: 0,
            accepted_at: at(),
        }];
        // Members 2 and 3 (indexes 1, 2) are owed; 2 twice, 3 missing, the author once.
        let rows = vec![row(2, "p"), row(2, "p"), row(1, "p"), row(3, "other")];
        let msgs = [
            push("t1", "p", "n1"),
            push("t1", "p", "n1"),
            push("t1", "p", "n9"),
            push("t2", "q", "n2"),
        ];
        let refs: Vec<&ReceivedMessage> = msgs.iter().collect();
        let c = count(&t, &acks, &rows, &refs);
        assert_eq!(
            (c.inbox_expected, c.inbox_got, c.inbox_lost, c.inbox_dup),
            (2, 2, 1, 1)
        );
        assert_eq!(
            (
                c.push_expected,
                c.push_got,
                c.push_lost,
                c.collapsed,
                c.push_dup
            ),
            (2, 3, 1, 1, 1)
        );
        assert_eq!((c.stray, c.unacked), (1, 2));
        assert!(!c.clean());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v[..1], 99.0), 1.0);
    }
}
