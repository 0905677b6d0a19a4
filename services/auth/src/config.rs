//! Settings of the auth service: the shared base sections plus tokens, Redis,
//! social providers, development sign-in and abuse limits.

use std::path::PathBuf;

use moing_common::{
    config::{Environment, InsecureSettings, Secret},
    service::BaseSettings,
};
use serde::{Deserialize, Serialize};

/// Default gRPC port of the auth service.
pub const DEFAULT_PORT: u16 = 50051;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub base: BaseSettings,
    pub tokens: TokenSettings,
    pub redis: RedisSettings,
    pub kakao: KakaoSettings,
    pub google: OidcSettings,
    pub apple: OidcSettings,
    /// Sign-in by nickname without a provider. Off unless configured, and always
    /// refused when `env = "production"`.
    pub dev_sign_in: bool,
    /// Where development keeps generated state (the signing key).
    pub state_dir: PathBuf,
    pub limits: LimitSettings,
}

impl Settings {
    /// Development sign-in is possible only outside production and when enabled.
    pub fn dev_sign_in_enabled(&self) -> bool {
        self.dev_sign_in && self.base.env != Environment::Production
    }

    /// Where development generates and keeps its signing key.
    pub fn dev_signing_key_path(&self) -> PathBuf {
        self.state_dir.join("auth-signing-key.pem")
    }

    /// Refuses production on a development secret: the base ones and the token
    /// signing key (unset, or the key development generated).
    pub fn require_secrets(&self) -> Result<(), InsecureSettings> {
        let dev_key = self.dev_signing_key_path().display().to_string();
        let dev_keys = [dev_key.as_str()];
        self.base.require_secrets(&[Secret::new(
            "tokens.signing_key_file",
            &self.tokens.signing_key_file,
        )
        .dev_values(&dev_keys)])
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base: BaseSettings::development("auth", DEFAULT_PORT),
            tokens: TokenSettings::default(),
            redis: RedisSettings::default(),
            kakao: KakaoSettings::default(),
            google: OidcSettings {
                jwks_url: "https://www.googleapis.com/oauth2/v3/certs".into(),
                issuers: vec![
                    "https://accounts.google.com".into(),
                    "accounts.google.com".into(),
                ],
                client_ids: Vec::new(),
                revoke_url: "https://oauth2.googleapis.com/revoke".into(),
                jwks_refetch_interval_secs: 60,
            },
            apple: OidcSettings {
                jwks_url: "https://appleid.apple.com/auth/keys".into(),
                issuers: vec!["https://appleid.apple.com".into()],
                client_ids: Vec::new(),
                revoke_url: String::new(),
                jwks_refetch_interval_secs: 60,
            },
            dev_sign_in: false,
            state_dir: PathBuf::from(".moing"),
            limits: LimitSettings::default(),
        }
    }
}

/// Signing keys and lifetimes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenSettings {
    /// PKCS#8 PEM Ed25519 key that signs new tokens. Empty in development: a key
    /// is generated once and kept at `<state_dir>/auth-signing-key.pem`.
    pub signing_key_file: String,
    /// Earlier signing keys, still published in the JWKS so their tokens verify
    /// until they expire (rotation).
    pub previous_key_files: Vec<String>,
    pub access_ttl_secs: u64,
    pub refresh_ttl_days: u64,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            signing_key_file: String::new(),
            previous_key_files: Vec::new(),
            access_ttl_secs: 900,
            refresh_ttl_days: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RedisSettings {
    pub url: String,
    /// Prefix of every key (tests use a private namespace).
    pub key_prefix: String,
    pub timeout_ms: u64,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
            key_prefix: "auth:".into(),
            timeout_ms: 500,
        }
    }
}

/// Kakao: the app's access token is checked at token-info, then the user endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct KakaoSettings {
    pub token_info_url: String,
    pub user_url: String,
    pub unlink_url: String,
    /// Our Kakao app id; a token issued to any other app is refused.
    pub app_id: i64,
}

impl Default for KakaoSettings {
    fn default() -> Self {
        Self {
            token_info_url: "https://kapi.kakao.com/v1/user/access_token_info".into(),
            user_url: "https://kapi.kakao.com/v2/user/me".into(),
            unlink_url: "https://kapi.kakao.com/v1/user/unlink".into(),
            app_id: 0,
        }
    }
}

/// An OpenID Connect provider whose ID tokens we verify (Google, Apple).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OidcSettings {
    pub jwks_url: String,
    /// Accepted `iss` values.
    pub issuers: Vec<String>,
    /// Accepted `aud` values (our client ids); empty means the provider is off.
    pub client_ids: Vec<String>,
    /// Token revocation endpoint used at withdrawal (best effort); empty: none.
    pub revoke_url: String,
    /// Minimum seconds between JWKS fetches triggered by an unknown `kid`.
    pub jwks_refetch_interval_secs: u64,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            jwks_url: String::new(),
            issuers: Vec::new(),
            client_ids: Vec::new(),
            revoke_url: String::new(),
            jwks_refetch_interval_secs: 60,
        }
    }
}

/// Fixed-window limits, per minute.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    pub sign_in_per_address: u32,
    pub refresh_per_address: u32,
    /// Refreshes per minute of one refresh-token family (one session, whoever
    /// presents it), so a leaked token cannot be hammered from many addresses.
    pub refresh_per_family: u32,
    pub nickname_checks_per_member: u32,
    pub nickname_checks_per_address: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            sign_in_per_address: 30,
            refresh_per_address: 60,
            refresh_per_family: 20,
            nickname_checks_per_member: 30,
            nickname_checks_per_address: 60,
        }
    }
}

impl moing_common::entry::Binary for Settings {
    const NAME: &'static str = "auth";

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

    const REAL: &str = "[auth]\nservice_token = 'Zt9w4kQp0c'\nsessions_redis_url = 'redis://redis:6379'\n[database]\nurl = 'mysql://moing_auth:Jx81-real@db:3306/moing_auth'";

    #[test]
    fn production_refuses_a_missing_or_generated_signing_key_by_name() {
        let s: Settings = from_toml(&format!("env = 'production'\n{REAL}")).expect("settings");
        assert_eq!(
            s.require_secrets().expect_err("refused").to_string(),
            "refusing to start in production: tokens.signing_key_file is empty (set MOING_TOKENS__SIGNING_KEY_FILE)"
        );
        let s: Settings = from_toml(&format!(
            "env = 'production'\n{REAL}\n[tokens]\nsigning_key_file = '.moing/auth-signing-key.pem'"
        ))
        .expect("settings");
        let err = s.require_secrets().expect_err("refused").to_string();
        assert!(err.contains("tokens.signing_key_file still has its development value (set MOING_TOKENS__SIGNING_KEY_FILE)"), "{err}");
        let s: Settings = from_toml("env = 'production'").expect("settings");
        let err = s.require_secrets().expect_err("refused").to_string();
        for var in [
            "MOING_AUTH__SERVICE_TOKEN",
            "MOING_DATABASE__URL",
            "MOING_TOKENS__SIGNING_KEY_FILE",
        ] {
            assert!(err.contains(var), "{err}");
        }
        let real: Settings = from_toml(&format!(
            "env = 'production'\n{REAL}\n[tokens]\nsigning_key_file = '/var/run/secrets/moing/tokens/signing-key.pem'"
        ))
        .expect("settings");
        real.require_secrets().expect("real values pass");
        assert!(
            Settings::default().require_secrets().is_ok(),
            "development passes"
        );
    }
}
