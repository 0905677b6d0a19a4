//! Settings of the notification service: the shared base sections plus FCM,
//! push dispatch and the background jobs.

use moing_common::{
    config::{InsecureSettings, Secret},
    service::BaseSettings,
};
use serde::{Deserialize, Serialize};

/// Default gRPC port of the notification service.
pub const DEFAULT_PORT: u16 = 50055;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub base: BaseSettings,
    pub fcm: FcmSettings,
    pub jobs: JobSettings,
    pub fanout: FanoutSettings,
}

impl Settings {
    /// Refuses production on a development secret: the base ones and, unless
    /// pushes are switched off (`fcm.enabled = false`), the FCM credentials.
    pub fn require_secrets(&self) -> Result<(), InsecureSettings> {
        let fcm = &self.fcm;
        let credentials = if fcm.credentials_json.trim().is_empty() {
            &fcm.credentials_file
        } else {
            &fcm.credentials_json
        };
        let checks = [Secret::new("fcm.credentials_file", credentials).or_instead(
            "MOING_FCM__CREDENTIALS_JSON, or MOING_FCM__ENABLED=false to run without pushes",
        )];
        self.base
            .require_secrets(if fcm.enabled { &checks } else { &[] })
    }
}

impl Default for Settings {
    fn default() -> Self {
        let mut base = BaseSettings::development("notification", DEFAULT_PORT);
        // Replicas claim pushes and reminders while others write new ones.
        base.database.read_committed = true;
        base.database.idle_transaction_timeout_secs = 10;
        Self {
            base,
            fcm: FcmSettings::default(),
            jobs: JobSettings::default(),
            fanout: FanoutSettings::default(),
        }
    }
}

/// FCM HTTP v1. With neither `credentials_file` nor `credentials_json`, pushes
/// are logged and skipped (the inbox still fills); production refuses that
/// unless `enabled` is false.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FcmSettings {
    /// False: never send, even with credentials (pushes are logged and skipped).
    pub enabled: bool,
    /// Where `v1/projects/{project}/messages:send` lives.
    pub base_url: String,
    /// OAuth token endpoint; empty means the service account's `token_uri`.
    pub token_url: String,
    /// Firebase project id; empty means the service account's `project_id`.
    pub project_id: String,
    /// Path of the service-account JSON key file.
    pub credentials_file: String,
    /// The service-account JSON itself (e.g. from a secret); wins over the file.
    pub credentials_json: String,
    /// Sends in flight at once per replica; a dispatcher round claims this
    /// many rows, so a crash leaves at most this many to re-send.
    pub concurrency: usize,
    /// How long a claim on a push row lasts: a row still `SENDING` after its
    /// lease (its replica died or hangs) is claimed again by any replica. A
    /// send that would outlast the lease is given up and the row re-queued.
    pub lease_secs: u64,
    /// HTTP/2 without TLS (prior knowledge), for a local stand-in on `http://`;
    /// over `https://` HTTP/2 is negotiated anyway.
    pub http2_prior_knowledge: bool,
    /// Attempts per message for retryable errors (429, 500, 503).
    pub max_attempts: u32,
    /// First backoff when no Retry-After is given, doubled per attempt.
    pub initial_backoff_ms: u64,
    /// Upper bound on any single wait, Retry-After included.
    pub max_backoff_ms: u64,
    pub request_timeout_ms: u64,
}

impl Default for FcmSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "https://fcm.googleapis.com".into(),
            token_url: String::new(),
            project_id: String::new(),
            credentials_file: String::new(),
            credentials_json: String::new(),
            concurrency: 128,
            lease_secs: 60,
            http2_prior_knowledge: false,
            max_attempts: 4,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
            request_timeout_ms: 10_000,
        }
    }
}

/// Turning events into inbox and push rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FanoutSettings {
    /// Events of one delivery applied at once, each in its own transaction.
    pub concurrency: usize,
    /// How long a team's roster (and who in it blocked whom) is reused
    /// without asking moim; moim's membership and block events drop it at
    /// once on the replica that gets them. Zero: ask for every event.
    pub roster_cache_secs: u64,
}

impl Default for FanoutSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            roster_cache_secs: 10,
        }
    }
}

/// Background loops (every replica runs them; SKIP LOCKED keeps work single).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobSettings {
    /// Run the reminder planner and sender.
    pub reminders_enabled: bool,
    pub reminder_interval_secs: u64,
    /// Look for held or left-over pushes this often.
    pub push_interval_secs: u64,
    /// Inbox retention.
    pub retention_days: i64,
    pub retention_interval_secs: u64,
    pub retention_batch: u32,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            reminders_enabled: true,
            reminder_interval_secs: 60,
            push_interval_secs: 5,
            retention_days: 30,
            retention_interval_secs: 3600,
            retention_batch: 1000,
        }
    }
}

impl moing_common::entry::Binary for Settings {
    const NAME: &'static str = "notification";

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

    const REAL: &str = "[auth]\nservice_token = 'Zt9w4kQp0c'\nsessions_redis_url = 'redis://redis:6379'\n[database]\nurl = 'mysql://moing_notification:Jx81-real@db:3306/moing_notification'";

    #[test]
    fn production_refuses_missing_fcm_credentials_unless_pushes_are_off() {
        let s: Settings = from_toml(&format!("env = 'production'\n{REAL}")).expect("settings");
        assert_eq!(
            s.require_secrets().expect_err("refused").to_string(),
            "refusing to start in production: fcm.credentials_file is empty (set MOING_FCM__CREDENTIALS_FILE, or MOING_FCM__CREDENTIALS_JSON, or MOING_FCM__ENABLED=false to run without pushes)"
        );
        let s: Settings =
            from_toml("env = 'production'\n[fcm]\nenabled = false").expect("settings");
        let err = s.require_secrets().expect_err("refused").to_string();
        assert!(
            err.contains("MOING_AUTH__SERVICE_TOKEN") && err.contains("MOING_DATABASE__URL"),
            "{err}"
        );
        assert!(
            !err.contains("fcm"),
            "pushes off: no credentials needed: {err}"
        );
        for fcm in [
            "[fcm]\ncredentials_file = '/var/run/secrets/moing/fcm/service-account.json'",
            "[fcm]\ncredentials_json = '{\"type\": \"service_account\"}'",
            "[fcm]\nenabled = false",
        ] {
            let real: Settings =
                from_toml(&format!("env = 'production'\n{REAL}\n{fcm}")).expect("settings");
            real.require_secrets().expect(fcm);
        }
        assert!(
            Settings::default().require_secrets().is_ok(),
            "development passes"
        );
    }
}
