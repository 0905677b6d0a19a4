//! What notification holds about one member, for their data download
//! (`moing_common::export`): settings, devices (never the push token) and the
//! inbox (kind, team, dates; the texts name other members and stay out).

use moing_common::export::{Part, member_document};
use uuid::Uuid;

use super::Store;

pub const PARTS: &[Part] = &[
    Part {
        name: "settings",
        sql: "SELECT new_content, comments, pokes, reminders, quiet_enabled, quiet_start_minute, quiet_end_minute, time_zone, updated_at \
              FROM notification_setting WHERE member_id = ?",
    },
    Part {
        name: "devices",
        sql: "SELECT platform, registered_at, updated_at FROM device WHERE member_id = ? ORDER BY registered_at",
    },
    Part {
        name: "inbox",
        sql: "SELECT id AS notification_id, category, type, team_id, team_name, created_at, visible_at, read_at \
              FROM notification WHERE member_id = ? ORDER BY visible_at",
    },
];

impl Store {
    /// The member's notification document (UTF-8 JSON).
    pub async fn export_member(&self, member: Uuid) -> Result<Vec<u8>, sqlx::Error> {
        member_document(&self.pool, member, PARTS).await
    }
}
