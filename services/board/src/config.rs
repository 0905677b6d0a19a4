//! Settings of the board service: the shared base sections plus its own.

use moing_common::{
    config::{InsecureSettings, Secret},
    service::BaseSettings,
};
use serde::{Deserialize, Serialize};

/// Default gRPC port of the board service.
pub const DEFAULT_PORT: u16 = 50054;

/// The development ballot secret (refused in production).
pub const DEV_BALLOT_SECRET: &str = "moing-development-ballot-secret";

/// Shortest ballot secret production accepts: a database reader knows every
/// vote and member id, so a guessable secret would let them recompute ballots.
pub const MIN_BALLOT_SECRET_LEN: usize = 32;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub base: BaseSettings,
    /// `[board]` section.
    pub board: BoardSettings,
    /// `[redis]`: where replicas tell each other that a team's board changed.
    pub redis: LiveRedisSettings,
}

/// Redis pub/sub between board replicas (`MOING_REDIS__URL`): a change applied
/// on one replica reaches the goal-board watchers of every replica. Empty
/// `url`: watchers see only the changes this replica applies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveRedisSettings {
    pub url: String,
    /// The pub/sub channel (tests use a private one).
    pub channel: String,
}

impl Default for LiveRedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
            channel: "moing:board:changed".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BoardSettings {
    /// Deadline for each dependency the goal board fans out to (moim, mission, auth).
    pub goal_board_deadline_ms: u64,
    /// Key of the keyed hash (HMAC-SHA-256) that names ballots and anonymous
    /// voters, so the database never holds who chose what in an anonymous
    /// vote (`crate::ballot`). It lives only here, never in the database. Set a
    /// long random value in production (`MOING_BOARD__BALLOT_SECRET`).
    pub ballot_secret: String,
    /// Earlier ballot secrets, still recognised (a member's own ballot, one
    /// ballot per member) until every vote cast under them has closed; new
    /// ballots always use `ballot_secret` (`MOING_BOARD__BALLOT_PREVIOUS_SECRETS`,
    /// e.g. `["old-secret"]`). docs/board.md tells how to rotate.
    pub ballot_previous_secrets: Vec<String>,
    /// How often the vote deadline job runs.
    pub vote_job_interval_secs: u64,
    /// Seconds a membership answer from moim is reused.
    pub membership_cache_secs: u64,
    /// WatchGoalBoard: the least time between two boards on one stream.
    pub watch_coalesce_ms: u64,
    /// WatchGoalBoard: a heartbeat after this long without a message.
    pub watch_heartbeat_secs: u64,
    /// WatchGoalBoard: the stream ends (OK) after this long; the app reconnects.
    pub watch_max_lifetime_secs: u64,
    /// Seconds at most that a team's shared board parts (moim's summary,
    /// mission's progress, names) are reused; any event that moves the board
    /// drops them at once (`crate::shared`). 0 builds every board afresh.
    pub team_cache_secs: u64,
}

impl Default for BoardSettings {
    fn default() -> Self {
        Self {
            goal_board_deadline_ms: 2_000,
            ballot_secret: DEV_BALLOT_SECRET.into(),
            ballot_previous_secrets: Vec::new(),
            vote_job_interval_secs: 30,
            membership_cache_secs: 5,
            watch_coalesce_ms: 250,
            watch_heartbeat_secs: 15,
            watch_max_lifetime_secs: 1800,
            team_cache_secs: 30,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base: BaseSettings::development("board", DEFAULT_PORT),
            board: BoardSettings::default(),
            redis: LiveRedisSettings::default(),
        }
    }
}

impl Settings {
    /// Refuses production on a development secret: the base ones and every
    /// ballot secret, current or previous.
    pub fn require_secrets(&self) -> Result<(), InsecureSettings> {
        let board = &self.board;
        let checks: Vec<Secret<'_>> =
            std::iter::once(Secret::new("board.ballot_secret", &board.ballot_secret))
                .chain(
                    board
                        .ballot_previous_secrets
                        .iter()
                        .map(|s| Secret::new("board.ballot_previous_secrets", s)),
                )
                .map(|s| {
                    s.dev_values(&[DEV_BALLOT_SECRET])
                        .min_len(MIN_BALLOT_SECRET_LEN)
                })
                .collect();
        self.base.require_secrets(&checks)
    }
}

impl moing_common::entry::Binary for Settings {
    const NAME: &'static str = "board";

    fn listen(&self) -> std::net::SocketAddr {
        self.base.grpc.listen
    }

    fn log(&self) -> &moing_common::config::LogSettings {
        &self.base.log
    }

    fn check_secrets(&self) -> anyhow::Result<()> {
        Ok(self.require_secrets()?)
    }
}

#[cfg(test)]
mod tests {
    use moing_common::config::from_toml;

    use super::*;

    const REAL: &str = "[auth]\nservice_token = 'Zt9w4kQp0c'\nsessions_redis_url = 'redis://redis:6379'\n[database]\nurl = 'mysql://moing_board:Jx81-real@db:3306/moing_board'";
    const SECRET: &str = "3q2+7wAAAAB6nFhBfP1sQ0kz9u2yZtGv";

    #[test]
    fn production_refuses_the_development_ballot_secret_by_name() {
        let s: Settings = from_toml(&format!("env = 'production'\n{REAL}")).expect("settings");
        assert_eq!(
            s.require_secrets().expect_err("refused").to_string(),
            "refusing to start in production: board.ballot_secret still has its development value (set MOING_BOARD__BALLOT_SECRET to at least 32 random characters)"
        );
        for (board, says) in [
            ("ballot_secret = ''", "board.ballot_secret is empty"),
            (
                "ballot_secret = 'short'",
                "board.ballot_secret is too short",
            ),
            (
                "ballot_secret = '3q2+7wAAAAB6nFhBfP1sQ0kz9u2yZtGv'\nballot_previous_secrets = ['moing-development-ballot-secret']",
                "board.ballot_previous_secrets still has its development value (set MOING_BOARD__BALLOT_PREVIOUS_SECRETS",
            ),
        ] {
            let s: Settings = from_toml(&format!("env = 'production'\n{REAL}\n[board]\n{board}"))
                .expect("settings");
            let err = s.require_secrets().expect_err(board).to_string();
            assert!(err.contains(says), "{board}: {err}");
        }
        let s: Settings = from_toml("env = 'production'").expect("settings");
        let err = s.require_secrets().expect_err("refused").to_string();
        for var in [
            "MOING_AUTH__SERVICE_TOKEN",
            "MOING_DATABASE__URL",
            "MOING_BOARD__BALLOT_SECRET",
        ] {
            assert!(err.contains(var), "{err}");
        }
        let real: Settings = from_toml(&format!(
            "env = 'production'\n{REAL}\n[board]\nballot_secret = '{SECRET}'\nballot_previous_secrets = ['{}']",
            SECRET.to_lowercase()
        ))
        .expect("settings");
        real.require_secrets().expect("real values pass");
        assert!(
            Settings::default().require_secrets().is_ok(),
            "development passes"
        );
    }
}
