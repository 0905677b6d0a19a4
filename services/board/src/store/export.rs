//! What the board holds about one member, for their data download, beyond
//! their posts, comments and named votes (`Store::exported_*`): the posts they
//! read, the votes they opened, their choices in named votes and the reports
//! they filed (`moing_common::export`). Anonymous votes are found by the
//! member's keyed voter tags in `grpc/internal.rs`, and never with a choice.

use moing_common::export::{Part, member_document};
use uuid::Uuid;

use super::Store;
use crate::error::BoardError;

pub const PARTS: &[Part] = &[
    Part {
        name: "posts_read",
        sql: "SELECT post_id, team_id, read_at FROM post_read WHERE member_id = ? ORDER BY read_at",
    },
    Part {
        name: "votes_opened",
        sql: "SELECT id AS vote_id, team_id, title, memo, multiple_choice, anonymous, state, closes_at, created_at \
              FROM vote WHERE author_id = ? ORDER BY created_at",
    },
    Part {
        name: "named_vote_choices",
        sql: "SELECT c.vote_id, v.title AS vote_title, o.text AS option_text FROM vote_choice c \
              JOIN vote v ON v.id = c.vote_id JOIN vote_option o ON o.id = c.option_id \
              WHERE c.member_id = ? AND v.anonymous = 0 ORDER BY c.vote_id, o.position",
    },
    Part {
        name: "reports_filed",
        sql: "SELECT kind, content_id, team_id, reason, text, created_at FROM content_report \
              WHERE reporter_id = ? ORDER BY created_at",
    },
];

impl Store {
    /// The parts above as one JSON object.
    pub async fn export_parts(&self, member: Uuid) -> Result<Vec<u8>, BoardError> {
        Ok(member_document(&self.pool, member, PARTS).await?)
    }
}
