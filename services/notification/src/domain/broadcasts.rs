//! Operator broadcasts and delivery statistics: the validated broadcast, its
//! request hash (one key, one broadcast), its drafts per team, what it
//! returned, and how inbox and push states add up into statistics.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Draft, Kind};

/// Who a broadcast goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Members(Vec<Uuid>),
    Teams(Vec<Uuid>),
}

/// A validated broadcast request.
#[derive(Debug, Clone)]
pub struct NewBroadcast {
    pub key: String,
    pub audience: Audience,
    pub title: String,
    pub body: String,
    pub path: String,
}

impl NewBroadcast {
    /// What makes two calls with one key the same broadcast.
    pub fn hash(&self) -> Vec<u8> {
        let (kind, ids) = match &self.audience {
            Audience::Members(ids) => ("members", ids),
            Audience::Teams(ids) => ("teams", ids),
        };
        let mut h = Sha256::new();
        for part in [self.key.as_str(), kind, &self.title, &self.body, &self.path] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for id in ids {
            h.update(id.as_bytes());
        }
        h.finalize().to_vec()
    }

    /// The draft of the inbox rows of one team's members (members-only: no team).
    pub fn draft(&self, id: Uuid, team: Option<Uuid>, team_name: &str) -> Draft {
        let mut draft = Draft::new(Kind::Broadcast, team, team_name, None)
            .text(self.title.clone(), self.body.clone())
            .path(self.path.clone())
            .with("broadcast_id", id.to_string());
        draft.broadcast_id = Some(id);
        draft
    }
}

/// A recipient and the team they were reached through (with its name).
pub type Recipient = (Uuid, Option<(Uuid, String)>);

/// Listed members once each, in order, through no team.
pub fn distinct_members(members: &[Uuid]) -> Vec<Recipient> {
    let mut seen = HashSet::new();
    members
        .iter()
        .copied()
        .filter(|m| seen.insert(*m))
        .map(|m| (m, None))
        .collect()
}

/// One group per team (the inbox row carries it): team, its name, its members.
pub fn by_team(recipients: Vec<Recipient>) -> BTreeMap<Option<Uuid>, (String, Vec<Uuid>)> {
    let mut groups: BTreeMap<Option<Uuid>, (String, Vec<Uuid>)> = BTreeMap::new();
    for (member, team) in recipients {
        let (team_id, name) = match team {
            Some((t, n)) => (Some(t), n),
            None => (None, String::new()),
        };
        groups
            .entry(team_id)
            .or_insert_with(|| (name, vec![]))
            .1
            .push(member);
    }
    groups
}

/// What a broadcast returned, kept so a retry returns the same.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Outcome {
    pub recipient_count: i32,
    pub push_sent_count: i32,
    pub push_failed_count: i32,
    pub push_held_count: i32,
    pub no_device_count: i32,
    pub unknown_ids: Vec<String>,
}

/// Which notifications delivery statistics count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsFilter {
    Broadcast(Uuid),
    /// Created in `[start, end)`, at most 31 days.
    Window(DateTime<Utc>, DateTime<Utc>),
}

/// Delivery counts of one notification type (or all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub inbox: i64,
    pub read: i64,
    pub push_sent: i64,
    pub push_failed: i64,
    pub push_suppressed: i64,
    pub push_pending: i64,
    pub token_dropped: i64,
}

impl Counts {
    /// Counts `n` push rows in `state`.
    pub fn add_pushes(&mut self, state: &str, n: i64) {
        match state {
            "SENT" => self.push_sent += n,
            "FAILED" | "UNKNOWN" => self.push_failed += n,
            "DROPPED" => self.token_dropped += n,
            "SKIPPED" | "CANCELLED" => self.push_suppressed += n,
            _ => self.push_pending += n,
        }
    }

    pub fn add(&mut self, o: &Counts) {
        self.inbox += o.inbox;
        self.read += o.read;
        self.push_sent += o.push_sent;
        self.push_failed += o.push_failed;
        self.push_suppressed += o.push_suppressed;
        self.push_pending += o.push_pending;
        self.token_dropped += o.token_dropped;
    }
}

/// Inbox rows of one stored type: how many, read, and without a push.
#[derive(Debug, Clone)]
pub struct InboxTally {
    pub kind: String,
    pub inbox: i64,
    pub read: i64,
    pub suppressed: i64,
}

/// Push rows of one stored type in one state.
#[derive(Debug, Clone)]
pub struct PushTally {
    pub kind: String,
    pub state: String,
    pub count: i64,
}

/// Statistics per type (None: a stored type this build does not know),
/// in the order of the type numbers.
pub fn delivery_stats(
    inbox: &[InboxTally],
    pushes: &[PushTally],
) -> BTreeMap<Option<Kind>, Counts> {
    let mut by: BTreeMap<Option<Kind>, Counts> = BTreeMap::new();
    for t in inbox {
        let c = by.entry(Kind::parse(&t.kind)).or_default();
        c.inbox += t.inbox;
        c.read += t.read;
        c.push_suppressed += t.suppressed;
    }
    for t in pushes {
        by.entry(Kind::parse(&t.kind))
            .or_default()
            .add_pushes(&t.state, t.count);
    }
    by
}
