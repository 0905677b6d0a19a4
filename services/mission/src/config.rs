//! Settings of the mission service: the shared base sections plus its own.

use moing_common::{
    config::{InsecureSettings, Secret},
    service::BaseSettings,
};
use serde::{Deserialize, Serialize};

/// Default gRPC port of the mission service.
pub const DEFAULT_PORT: u16 = 50053;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub base: BaseSettings,
    /// The private bucket for photos (devs3 locally).
    pub s3: crate::storage::S3Settings,
    pub jobs: JobSettings,
}

/// Background work and caches.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobSettings {
    /// Seconds between rounds of ending missions past their deadline.
    pub deadline_interval_secs: u64,
    /// Seconds a membership answer from moim is reused.
    pub membership_cache_secs: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            deadline_interval_secs: 30,
            membership_cache_secs: 5,
        }
    }
}

impl Settings {
    /// Refuses production on a development secret: the base ones and the S3
    /// secret key.
    pub fn require_secrets(&self) -> Result<(), InsecureSettings> {
        self.base
            .require_secrets(&[Secret::new("s3.secret_key", &self.s3.secret_key)
                .dev_values(crate::storage::DEV_SECRET_KEYS)])
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base: BaseSettings::development("mission", DEFAULT_PORT),
            s3: Default::default(),
            jobs: Default::default(),
        }
    }
}

impl moing_common::entry::Binary for Settings {
    const NAME: &'static str = "mission";

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

    const REAL: &str = "[auth]\nservice_token = 'Zt9w4kQp0c'\nsessions_redis_url = 'redis://redis:6379'\n[database]\nurl = 'mysql://moing_mission:Jx81-real@db:3306/moing_mission'";

    #[test]
    fn production_refuses_the_development_s3_secret_key_by_name() {
        let s: Settings = from_toml(&format!("env = 'production'\n{REAL}")).expect("settings");
        let err = s.require_secrets().expect_err("refused").to_string();
        assert_eq!(
            err,
            "refusing to start in production: s3.secret_key still has its development value (set MOING_S3__SECRET_KEY)"
        );
        let s: Settings = from_toml("env = 'production'").expect("settings");
        let err = s.require_secrets().expect_err("refused").to_string();
        for var in [
            "MOING_AUTH__SERVICE_TOKEN",
            "MOING_DATABASE__URL",
            "MOING_S3__SECRET_KEY",
        ] {
            assert!(err.contains(var), "{err}");
        }
        let real: Settings = from_toml(&format!(
            "env = 'production'\n{REAL}\n[s3]\nsecret_key = 'wJalrXUtnFEMI/K7MDENG'"
        ))
        .expect("settings");
        real.require_secrets().expect("real values pass");
        assert!(
            Settings::default().require_secrets().is_ok(),
            "development passes"
        );
    }
}
