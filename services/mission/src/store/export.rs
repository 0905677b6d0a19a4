//! What mission holds about one member, for their data download
//! (`moing_common::export`): missions they made, proofs and skips, comments,
//! hearts and stickers given, pokes sent and received, reports filed. Never
//! another member's id, name or words (a poke received says when and in which
//! team, not from whom).

use moing_common::export::{Part, member_document};
use uuid::Uuid;

use super::Store;
use crate::error::MissionError;

pub const PARTS: &[Part] = &[
    Part {
        name: "missions_made",
        sql: "SELECT id AS mission_id, team_id, title, content, rule, kind, way, times_per_week, deadline, state, created_at, ended_at \
              FROM mission WHERE maker_id = ? ORDER BY created_at",
    },
    Part {
        name: "proofs",
        sql: "SELECT id AS proof_id, team_id, mission_id, status, way, body_text, link_url, photo_key, caption, day, created_at \
              FROM proof WHERE member_id = ? AND status = 'DONE' AND deleted_at IS NULL ORDER BY created_at",
    },
    Part {
        name: "skips",
        sql: "SELECT id AS skip_id, team_id, mission_id, skip_reason, day, created_at \
              FROM proof WHERE member_id = ? AND status = 'SKIPPED' AND deleted_at IS NULL ORDER BY created_at",
    },
    Part {
        name: "comments",
        sql: "SELECT id AS comment_id, team_id, proof_id, content, created_at \
              FROM proof_comment WHERE member_id = ? AND deleted_at IS NULL ORDER BY created_at",
    },
    Part {
        name: "hearts_given",
        sql: "SELECT team_id, proof_id, created_at FROM proof_heart WHERE member_id = ? ORDER BY created_at",
    },
    Part {
        name: "stickers_given",
        sql: "SELECT team_id, proof_id, kind, created_at FROM proof_sticker WHERE member_id = ? ORDER BY created_at",
    },
    Part {
        name: "pokes_sent",
        sql: "SELECT team_id, mission_id, message, created_at FROM poke WHERE sender_id = ? ORDER BY created_at",
    },
    Part {
        name: "pokes_received",
        sql: "SELECT team_id, mission_id, created_at FROM poke WHERE target_id = ? ORDER BY created_at",
    },
    Part {
        name: "reports_filed",
        sql: "SELECT kind, content_id, team_id, reason, text, created_at FROM content_report WHERE reporter_id = ? ORDER BY created_at",
    },
];

impl Store {
    /// The member's mission document (UTF-8 JSON).
    pub async fn export_member(&self, member: Uuid) -> Result<Vec<u8>, MissionError> {
        Ok(member_document(&self.pool, member, PARTS).await?)
    }
}
