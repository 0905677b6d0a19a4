//! Settings of the moim service: the shared base sections plus its own.

use moing_common::{config::InsecureSettings, service::BaseSettings};
use serde::{Deserialize, Serialize};

/// Default gRPC port of the moim service.
pub const DEFAULT_PORT: u16 = 50052;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub base: BaseSettings,
    pub jobs: JobSettings,
}

/// Background work.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobSettings {
    /// Seconds between rounds announcing teams whose end date has passed.
    pub finish_interval_secs: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            finish_interval_secs: 60,
        }
    }
}

impl Settings {
    /// Refuses production on a development secret; moim holds only the base ones
    /// (service token, database password).
    pub fn require_secrets(&self) -> Result<(), InsecureSettings> {
        self.base.require_secrets(&[])
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base: BaseSettings::development("moim", DEFAULT_PORT),
            jobs: Default::default(),
        }
    }
}

impl moing_common::entry::Binary for Settings {
    const NAME: &'static str = "moim";

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
    use moing_common::config::{Environment, from_toml};

    use super::*;

    #[test]
    fn production_refuses_the_development_secrets_by_name() {
        let s: Settings = from_toml("env = 'production'").expect("settings");
        let err = s.require_secrets().expect_err("refused").to_string();
        assert!(
            err.contains(
                "auth.service_token still has its development value (set MOING_AUTH__SERVICE_TOKEN)"
            ),
            "{err}"
        );
        assert!(
            err.contains("database.url still has a development password (set MOING_DATABASE__URL)"),
            "{err}"
        );
        assert!(
            Settings::default().require_secrets().is_ok(),
            "development passes"
        );
        let real: Settings = from_toml(
            "env = 'production'\n[auth]\nservice_token = 'Zt9w4kQp0c'\nsessions_redis_url = 'redis://redis:6379'\n[database]\nurl = 'mysql://moing_moim:Jx81-real@db:3306/moing_moim'",
        )
        .expect("settings");
        assert_eq!(real.base.env, Environment::Production);
        real.require_secrets().expect("real values pass");
    }
}
