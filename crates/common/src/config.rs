//! Layered settings: compiled-in defaults ← an optional TOML file ← environment.
//!
//! Every service describes its settings as one `serde` struct with `Default`
//! (the development defaults) and calls [`load`] once in `main`. Nothing else in
//! a service reads the environment. The TOML file is `$MOING_CONFIG` when set;
//! environment variables are `MOING_<SECTION>__<KEY>`, e.g.
//! `MOING_DATABASE__URL=mysql://...` or `MOING_GRPC__LISTEN=0.0.0.0:50053`.
//!
//! Secrets have development defaults so `scripts/up` runs with no set-up;
//! [`require_secrets`] makes a production start refuse every one of them.

use std::{collections::BTreeMap, net::SocketAddr, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// Loads `T` from defaults, `$MOING_CONFIG` and `MOING_*` variables.
pub fn load<T>() -> anyhow::Result<T>
where
    T: Serialize + DeserializeOwned + Default,
{
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Ok(path) = std::env::var("MOING_CONFIG") {
        figment = figment.merge(Toml::file_exact(path));
    }
    figment = figment.merge(Env::prefixed("MOING_").split("__"));
    Ok(figment.extract()?)
}

/// Loads `T` from defaults plus a TOML string: how tests and tools build settings.
pub fn from_toml<T>(toml: &str) -> anyhow::Result<T>
where
    T: Serialize + DeserializeOwned + Default,
{
    Ok(Figment::from(Serialized::defaults(T::default()))
        .merge(Toml::string(toml))
        .extract()?)
}

/// Development and production differ in defaults that matter for safety
/// (development sign-in, log format); production never enables test paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

/// Where the gRPC server listens and how long a request may run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GrpcSettings {
    pub listen: SocketAddr,
    /// Server-side ceiling for one call, in milliseconds.
    pub request_timeout_ms: u64,
    /// Requests in flight per connection before back-pressure.
    pub concurrency_limit_per_connection: usize,
}

impl GrpcSettings {
    pub fn with_port(port: u16) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], port)),
            ..Self::default()
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

impl Default for GrpcSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            request_timeout_ms: 10_000,
            concurrency_limit_per_connection: 256,
        }
    }
}

/// The service's own MySQL schema.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout_ms: u64,
    /// Transactions run at READ COMMITTED instead of MariaDB's REPEATABLE
    /// READ: no gap locks, so replicas that claim work with `SKIP LOCKED`
    /// while others insert new work do not deadlock each other. For a service
    /// whose correctness rests on unique keys and claims, not on repeatable
    /// reads (notification).
    pub read_committed: bool,
    /// Seconds after which MariaDB aborts a transaction left idle (0: never,
    /// the server's default). A replica frozen inside a transaction (a stopped
    /// process, a stalled node) then releases its row locks, so the others'
    /// `SKIP LOCKED` claims can take its work over once its leases end
    /// (notification: 10).
    pub idle_transaction_timeout_secs: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 10,
            acquire_timeout_ms: 3_000,
            read_committed: false,
            idle_transaction_timeout_secs: 0,
        }
    }
}

/// How this service verifies access tokens and proves itself to internal services.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// gRPC endpoint of the auth service, the JWKS source (`http://127.0.0.1:50051`).
    pub jwks_endpoint: String,
    /// Expected `iss` of access tokens.
    pub issuer: String,
    /// Expected `aud` of access tokens.
    pub audience: String,
    /// Shared service credential sent as `x-moing-service-token` on internal calls
    /// and required by `*InternalService` and the event sink.
    pub service_token: String,
    /// Auth's Redis, where live sessions are kept: when set, every member call
    /// checks that its token's session still exists (`moing_common::sessions`),
    /// so sign-out, revocation and withdrawal stop the token at once. Required
    /// in production.
    pub sessions_redis_url: String,
    /// Auth's key prefix in that Redis (`auth:`).
    pub sessions_key_prefix: String,
    /// How long a "live" answer is reused before Redis is asked again.
    pub session_check_ms: u64,
    /// How long the session check waits for Redis before answering UNAVAILABLE
    /// (it fails closed).
    pub session_check_timeout_ms: u64,
    /// How long fetched JWKS keys are trusted before they are fetched again
    /// (an unknown `kid` refetches sooner, rate-limited).
    pub jwks_ttl_secs: u64,
    /// The longest access-token lifetime (`exp - iat`) accepted.
    pub max_token_lifetime_secs: u64,
}

impl AuthSettings {
    /// The live-session check these settings ask for (None when no Redis is set).
    pub fn session_check(
        &self,
    ) -> anyhow::Result<Option<std::sync::Arc<crate::sessions::SessionCheck>>> {
        if self.sessions_redis_url.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(std::sync::Arc::new(
            crate::sessions::SessionCheck::new(
                &self.sessions_redis_url,
                &self.sessions_key_prefix,
                Duration::from_millis(self.session_check_ms),
                Duration::from_millis(self.session_check_timeout_ms),
            )?,
        )))
    }

    /// A verifier of access tokens from `source` with these settings.
    pub fn verifier(
        &self,
        source: std::sync::Arc<dyn crate::token::JwksSource>,
    ) -> crate::token::TokenVerifier {
        crate::token::TokenVerifier::new(source, &self.issuer, &self.audience)
            .with_key_ttl(std::time::Duration::from_secs(self.jwks_ttl_secs))
            .with_max_lifetime(std::time::Duration::from_secs(self.max_token_lifetime_secs))
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwks_endpoint: "http://127.0.0.1:50051".into(),
            issuer: "moing-auth".into(),
            audience: "moing".into(),
            service_token: DEV_SERVICE_TOKEN.into(),
            sessions_redis_url: String::new(),
            sessions_key_prefix: "auth:".into(),
            session_check_ms: 500,
            session_check_timeout_ms: 500,
            jwks_ttl_secs: crate::token::DEFAULT_KEY_TTL.as_secs(),
            max_token_lifetime_secs: crate::token::DEFAULT_MAX_LIFETIME.as_secs(),
        }
    }
}

/// The development default of [`AuthSettings::service_token`].
pub const DEV_SERVICE_TOKEN: &str = "dev-service-token-change-me";

/// Service tokens known from development set-ups (the default, compose's).
pub const DEV_SERVICE_TOKENS: &[&str] = &[DEV_SERVICE_TOKEN, "compose-service-token-change-me"];

/// A secret setting that production must not run with at a development value.
/// Built by the service that owns the setting; checked by [`require_secrets`].
#[derive(Debug, Clone, Copy)]
pub struct Secret<'a> {
    key: &'a str,
    value: &'a str,
    dev_values: &'a [&'a str],
    min_len: usize,
    database_url: bool,
    instead: &'a str,
}

impl<'a> Secret<'a> {
    /// `key` is the dotted settings path (`board.ballot_secret`); the message
    /// names the matching `MOING_*` variable. Empty is always refused.
    pub fn new(key: &'a str, value: &'a str) -> Self {
        Self {
            key,
            value,
            dev_values: &[],
            min_len: 0,
            database_url: false,
            instead: "",
        }
    }

    /// A database URL: its password must be set and not a development one
    /// (`dev_<service>` of `scripts/up`, `compose_<service>`, the test admin's).
    pub fn database_url(key: &'a str, url: &'a str) -> Self {
        Self {
            database_url: true,
            ..Self::new(key, url)
        }
    }

    /// Values known from development (the compiled-in default and the like).
    pub fn dev_values(self, dev_values: &'a [&'a str]) -> Self {
        Self { dev_values, ..self }
    }

    /// Shortest accepted value, for keys an attacker could guess offline.
    pub fn min_len(self, min_len: usize) -> Self {
        Self { min_len, ..self }
    }

    /// What else an operator may set instead (appended to the message).
    pub fn or_instead(self, instead: &'a str) -> Self {
        Self { instead, ..self }
    }

    /// Why this value must not reach production, if it must not.
    fn problem(&self) -> Option<String> {
        let what = if self.database_url {
            match url_password(self.value) {
                None | Some("") => Some("has no password"),
                Some(p) if is_dev_password(p) => Some("still has a development password"),
                Some(_) => None,
            }
        } else if self.value.trim().is_empty() {
            Some("is empty")
        } else if self.dev_values.contains(&self.value) || looks_like_placeholder(self.value) {
            Some("still has its development value")
        } else if self.value.len() < self.min_len {
            Some("is too short")
        } else {
            None
        }?;
        let mut line = format!("{} {what} (set {}", self.key, env_var(self.key));
        if self.min_len > 0 {
            line.push_str(&format!(" to at least {} random characters", self.min_len));
        }
        if !self.instead.is_empty() {
            line.push_str(&format!(", or {}", self.instead));
        }
        line.push(')');
        Some(line)
    }
}

/// The variable that [`load`] maps onto a dotted settings key:
/// `board.ballot_secret` → `MOING_BOARD__BALLOT_SECRET`.
pub fn env_var(key: &str) -> String {
    format!("MOING_{}", key.replace('.', "__").to_uppercase())
}

/// Production refused to start: every secret still at a development value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing to start in production: {}", .problems.join("; "))]
pub struct InsecureSettings {
    /// One line per offending key, naming its variable.
    pub problems: Vec<String>,
}

/// Refuses `env = production` while any of `secrets` is empty or still has a
/// development value; outside production everything passes. Services call it
/// in `main` before binding a port, so a misconfigured pod exits at once.
pub fn require_secrets(env: Environment, secrets: &[Secret<'_>]) -> Result<(), InsecureSettings> {
    if env != Environment::Production {
        return Ok(());
    }
    let problems: Vec<String> = secrets.iter().filter_map(Secret::problem).collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(InsecureSettings { problems })
    }
}

/// `mysql://user:password@host/db` → `password` (None without user info).
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (userinfo, _) = authority.rsplit_once('@')?;
    Some(userinfo.split_once(':').map_or("", |(_, p)| p))
}

/// Passwords of `scripts/up` (`dev_<service>`), compose (`compose_<service>`)
/// and the test server's administrator.
fn is_dev_password(password: &str) -> bool {
    password.starts_with("dev_")
        || password.starts_with("compose_")
        || password == "moing_admin_dev"
}

/// A value that says it is a placeholder (`...-change-me`).
fn looks_like_placeholder(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    ["change-me", "change_me", "changeme"]
        .iter()
        .any(|p| v.contains(p))
}

/// Log output: human-readable lines in development, JSON in production.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    pub json: bool,
    /// An `EnvFilter` directive, overridden by `RUST_LOG` when that is set.
    pub filter: String,
    /// OTLP/gRPC collector for traces (`http://otel-collector:4317`); empty: no export.
    pub otlp_endpoint: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            json: false,
            filter: "info,sqlx=warn,h2=warn,tower=warn".into(),
            otlp_endpoint: String::new(),
        }
    }
}

/// Endpoints of other services this one calls, by service name (`moim` → `http://...`).
pub type Endpoints = BTreeMap<String, String>;

/// Outbound call limits for clients built by [`crate::client`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientSettings {
    pub connect_timeout_ms: u64,
    pub request_timeout_ms: u64,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 1_000,
            request_timeout_ms: 3_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Demo {
        env: Environment,
        grpc: GrpcSettings,
        database: DatabaseSettings,
    }

    #[test]
    fn toml_overrides_defaults_field_by_field() {
        let s: Demo = from_toml(
            "env = 'production'\n[grpc]\nlisten = '0.0.0.0:50053'\n[database]\nurl = 'mysql://x'",
        )
        .expect("valid toml");
        assert_eq!(s.env, Environment::Production);
        assert_eq!(s.grpc.listen.port(), 50053);
        assert_eq!(s.grpc.request_timeout_ms, 10_000);
        assert_eq!(s.database.url, "mysql://x");
        assert_eq!(s.database.max_connections, 10);
    }

    #[test]
    fn env_var_follows_the_layering() {
        assert_eq!(env_var("board.ballot_secret"), "MOING_BOARD__BALLOT_SECRET");
        assert_eq!(env_var("auth.service_token"), "MOING_AUTH__SERVICE_TOKEN");
        assert_eq!(env_var("database.url"), "MOING_DATABASE__URL");
    }

    #[test]
    fn development_never_refuses() {
        let checks = [Secret::new("auth.service_token", "")];
        assert!(require_secrets(Environment::Development, &checks).is_ok());
    }

    #[test]
    fn production_refuses_empty_dev_and_placeholder_values_naming_each_variable() {
        let err = require_secrets(
            Environment::Production,
            &[
                Secret::new("auth.service_token", DEV_SERVICE_TOKEN).dev_values(DEV_SERVICE_TOKENS),
                Secret::new("board.ballot_secret", ""),
                Secret::new("s3.secret_key", "please-changeme"),
                Secret::new("x.key", "short").min_len(32),
            ],
        )
        .expect_err("refused");
        let text = err.to_string();
        assert!(
            text.starts_with("refusing to start in production: "),
            "{text}"
        );
        assert_eq!(err.problems.len(), 4, "{text}");
        assert!(text.contains(
            "auth.service_token still has its development value (set MOING_AUTH__SERVICE_TOKEN)"
        ));
        assert!(text.contains("board.ballot_secret is empty (set MOING_BOARD__BALLOT_SECRET)"));
        assert!(text.contains("s3.secret_key still has its development value"));
        assert!(text.contains("x.key is too short (set MOING_X__KEY to at least 32"));
    }

    #[test]
    fn database_passwords_must_be_set_and_not_a_development_one() {
        let check = |url: &str| {
            require_secrets(
                Environment::Production,
                &[Secret::database_url("database.url", url)],
            )
        };
        for bad in [
            "",
            "mysql://moing_board@db:3306/moing_board",
            "mysql://moing_board:@db:3306/moing_board",
            "mysql://moing_board:dev_board@127.0.0.1:3306/moing_board",
            "mysql://moing_board:compose_board@mysql:3306/moing_board",
            "mysql://moing_admin:moing_admin_dev@127.0.0.1:3306",
        ] {
            let err = check(bad).expect_err(bad);
            assert!(
                err.to_string().contains("(set MOING_DATABASE__URL)"),
                "{err}"
            );
        }
        check("mysql://moing_board:Xq3v9-long-random@db:3306/moing_board?ssl-mode=REQUIRED")
            .expect("a real password passes");
        // An @ in the path or query does not fool the parser.
        assert!(check("mysql://db:3306/moing?x=a:b@c").is_err());
    }

    #[test]
    fn real_values_pass() {
        require_secrets(
            Environment::Production,
            &[
                Secret::new("auth.service_token", "9f1c2b7e4d").dev_values(DEV_SERVICE_TOKENS),
                Secret::new("board.ballot_secret", &"k".repeat(32)).min_len(32),
            ],
        )
        .expect("passes");
    }

    #[test]
    fn unknown_environment_is_an_error() {
        assert!(from_toml::<Demo>("env = 'staging'").is_err());
    }
}
