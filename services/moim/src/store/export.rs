//! What moim holds about one member, for their data download
//! (`moing_common::export`): memberships, invites they made, blocks they set.
//! Never another member's id or name (a block says when, not whom).

use moing_common::export::{Part, member_document};
use uuid::Uuid;

use super::Store;
use crate::error::MoimError;

pub const PARTS: &[Part] = &[
    Part {
        name: "memberships",
        sql: "SELECT m.team_id, t.name AS team_name, t.category, t.start_date, t.end_date, \
              m.role, m.state, m.joined_at, m.left_at, t.disbanded_at AS team_disbanded_at \
              FROM membership m JOIN team t ON t.id = m.team_id WHERE m.member_id = ? ORDER BY m.joined_at",
    },
    Part {
        name: "teams_led",
        sql: "SELECT id AS team_id, name, introduction, leader_promise, created_at, disbanded_at \
              FROM team WHERE leader_id = ? ORDER BY created_at",
    },
    Part {
        name: "invites_made",
        sql: "SELECT team_id, code, created_at, expires_at, max_uses, use_count, revoked_at \
              FROM invite WHERE created_by = ? ORDER BY created_at",
    },
    Part {
        name: "blocks_set",
        sql: "SELECT created_at FROM member_block WHERE blocker_id = ? ORDER BY created_at",
    },
];

impl Store {
    /// The member's moim document (UTF-8 JSON).
    pub async fn export_member(&self, member: Uuid) -> Result<Vec<u8>, MoimError> {
        Ok(member_document(&self.pool, member, PARTS).await?)
    }
}
