//! Settings of the notification service: the shared base sections plus FCM,
//! push dispatch and the background jobs.

use moing_common::service::BaseSettings;
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base: BaseSettings::development("notification", DEFAULT_PORT),
            fcm: FcmSettings::default(),
            jobs: JobSettings::default(),
        }
    }
}

/// FCM HTTP v1. With neither `credentials_file` nor `credentials_json`, pushes
/// are logged and skipped (the inbox still fills).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FcmSettings {
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
    /// Sends in flight at once (per dispatcher round).
    pub concurrency: usize,
    /// Rows claimed per dispatcher round; FCM's own multi-send limit is 500.
    pub batch_size: u32,
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
            base_url: "https://fcm.googleapis.com".into(),
            token_url: String::new(),
            project_id: String::new(),
            credentials_file: String::new(),
            credentials_json: String::new(),
            concurrency: 32,
            batch_size: 500,
            max_attempts: 4,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
            request_timeout_ms: 10_000,
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
