//! Settings of the board service: the shared base sections plus its own.

use moing_common::service::BaseSettings;
use serde::{Deserialize, Serialize};

/// Default gRPC port of the board service.
pub const DEFAULT_PORT: u16 = 50054;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub base: BaseSettings,
    /// `[board]` section.
    pub board: BoardSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BoardSettings {
    /// Deadline for each dependency the goal board fans out to (moim, mission, auth).
    pub goal_board_deadline_ms: u64,
    /// Key of the keyed hash that names ballots (anonymous votes store no member
    /// id). Set a long random value in production (MOING_BOARD__BALLOT_SECRET).
    pub ballot_secret: String,
    /// How often the vote deadline job runs.
    pub vote_job_interval_secs: u64,
}

impl Default for BoardSettings {
    fn default() -> Self {
        Self {
            goal_board_deadline_ms: 2_000,
            ballot_secret: "moing-development-ballot-secret".into(),
            vote_job_interval_secs: 30,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base: BaseSettings::development("board", DEFAULT_PORT),
            board: BoardSettings::default(),
        }
    }
}
