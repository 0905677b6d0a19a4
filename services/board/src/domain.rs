//! Domain types and rules of the board service: posts and comments and who may
//! change them, votes and their states, reports and moderation as they apply
//! to the board, and the rate/ranking rules of the goal board. No wire types,
//! no SQL: `posts` (and comments), `votes`, `reports`, `goal`.

mod export;
mod goal;
mod posts;
mod reports;
mod votes;

pub use export::*;
pub use goal::*;
pub use posts::*;
pub use reports::*;
use uuid::Uuid;
pub use votes::*;

use crate::error::BoardError;

/// Longest post and vote title, in characters.
pub const TITLE_MAX: usize = 30;
/// Longest post body.
pub const POST_CONTENT_MAX: usize = 2000;
/// Longest comment.
pub const COMMENT_MAX: usize = 300;
/// Characters of a comment its event carries.
pub const COMMENT_EXCERPT: usize = 40;
/// Longest vote memo.
pub const VOTE_MEMO_MAX: usize = 300;
/// Options of a vote.
pub const VOTE_OPTIONS: std::ops::RangeInclusive<usize> = 2..=10;
/// Longest vote option.
pub const VOTE_OPTION_MAX: usize = 50;
/// Longest free text of a report.
pub const REPORT_TEXT_MAX: usize = 300;
/// Members a non-voter lookup takes.
pub const NON_VOTERS_MAX: usize = 100;
/// Days of the goal board's daily series (today included).
pub const DAILY_DAYS: i64 = 14;
/// Weeks of history the goal board asks mission for (mission clamps to the team).
pub const WEEKLY_WEEKS: i64 = 104;
/// Votes the deadline job closes per run.
pub const CLOSE_DUE_BATCH: u32 = 100;

/// The caller's standing in a team (from moim's CheckMembership).
#[derive(Debug, Clone)]
pub struct Access {
    pub leader: bool,
    pub writable: bool,
    pub team_name: String,
}

impl Access {
    /// TEAM_READ_ONLY once the team has finished.
    pub fn require_writable(&self) -> Result<(), BoardError> {
        if self.writable {
            Ok(())
        } else {
            Err(BoardError::ReadOnly)
        }
    }

    /// The author and the leader may delete (posts, comments) and close votes.
    pub fn author_or_leader(&self, author: Uuid, me: Uuid) -> bool {
        author == me || self.leader
    }

    /// The leader shown on what the caller just wrote (None elsewhere).
    pub fn leader_of(&self, me: Uuid) -> Option<Uuid> {
        self.leader.then_some(me)
    }
}

/// One page of a list: `size` (0 for the default) and the opaque token.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub size: i32,
    pub token: String,
}

/// A member named in a request.
#[derive(Debug, Clone, Copy)]
pub struct MemberRef {
    pub member: Uuid,
}

/// A team named in a request.
#[derive(Debug, Clone, Copy)]
pub struct TeamRef {
    pub team: Uuid,
}
