//! Votes: states, close reasons, ballots and who may close.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Access, Page};
use crate::{ballot::Ballot, error::BoardError};

/// Why a vote closed (stored by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    ByAuthor,
    ByLeader,
    Deadline,
    TeamEnded,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ByAuthor => "BY_AUTHOR",
            Self::ByLeader => "BY_LEADER",
            Self::Deadline => "DEADLINE",
            Self::TeamEnded => "TEAM_ENDED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "BY_AUTHOR" => Some(Self::ByAuthor),
            "BY_LEADER" => Some(Self::ByLeader),
            "DEADLINE" => Some(Self::Deadline),
            "TEAM_ENDED" => Some(Self::TeamEnded),
            _ => None,
        }
    }
}

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
    pub close_reason: Option<CloseReason>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Vote {
    /// The author or the leader closes a vote early; which of them it was.
    pub fn close_reason_for(&self, me: Uuid, access: &Access) -> Result<CloseReason, BoardError> {
        if !access.author_or_leader(self.author_id, me) {
            return Err(BoardError::NotAuthorOrLeader);
        }
        Ok(if self.author_id == me {
            CloseReason::ByAuthor
        } else {
            CloseReason::ByLeader
        })
    }

    /// Open in the table and before its deadline.
    pub fn takes_ballots(&self, state_open: bool, now: DateTime<Utc>) -> bool {
        state_open && self.closes_at.is_none_or(|c| c > now)
    }

    pub fn can_close(&self, me: Uuid, access: &Access) -> bool {
        self.open && access.writable && access.author_or_leader(self.author_id, me)
    }

    /// A single-choice vote takes one option.
    pub fn check_choice(&self, chosen: &[Uuid], valid: &[Uuid]) -> Result<(), BoardError> {
        if !self.multiple && chosen.len() > 1 {
            return Err(BoardError::SingleChoice);
        }
        if chosen.iter().any(|c| !valid.contains(c)) {
            return Err(BoardError::OptionInvalid);
        }
        Ok(())
    }
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

#[derive(Debug, Clone)]
pub struct NewVote {
    pub team: Uuid,
    pub title: String,
    pub memo: String,
    pub options: Vec<String>,
    pub multiple: bool,
    pub anonymous: bool,
    pub closes_at: Option<DateTime<Utc>>,
    /// The instant the deadline was checked against (also `created_at`).
    pub now: DateTime<Utc>,
}

/// A vote named in a request.
#[derive(Debug, Clone, Copy)]
pub struct VoteRef {
    pub team: Uuid,
    pub vote: Uuid,
}

/// Cast or change (`chosen` non-empty) or retract my choice.
#[derive(Debug, Clone)]
pub struct Cast {
    pub team: Uuid,
    pub vote: Uuid,
    /// Sorted, without repeats.
    pub chosen: Vec<Uuid>,
    pub retract: bool,
}

#[derive(Debug, Clone)]
pub struct VoteQuery {
    pub team: Uuid,
    /// Some(true) open votes only, Some(false) closed ones, None all.
    pub open: Option<bool>,
    pub page: Page,
}

/// A vote's results as one member sees them.
#[derive(Debug, Clone, Default)]
pub struct VoteResults {
    /// (option id, text) in order.
    pub options: Vec<(Uuid, String)>,
    /// (option id, choices).
    pub counts: Vec<(Uuid, i64)>,
    /// The options of my ballot.
    pub mine: Vec<Uuid>,
    /// (option id, member id) of a named vote, by member.
    pub named: Vec<(Uuid, Uuid)>,
    pub voters: i64,
    pub voted_by_me: bool,
}

impl VoteResults {
    pub fn count(&self, option: Uuid) -> i64 {
        self.counts
            .iter()
            .find(|(o, _)| *o == option)
            .map_or(0, |(_, n)| *n)
    }
}

/// An open vote whose deadline falls in a window (for reminders).
#[derive(Debug, Clone)]
pub struct ClosingVote {
    pub id: Uuid,
    pub team_id: Uuid,
    pub title: String,
    pub closes_at: DateTime<Utc>,
    pub anonymous: bool,
}

#[derive(Debug, Clone)]
pub struct ClosingQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub page: Page,
}

#[derive(Debug, Clone)]
pub struct NonVotersQuery {
    pub team: Uuid,
    pub vote: Uuid,
    pub members: Vec<Uuid>,
    pub page: Page,
}
