//! Layered settings: compiled-in defaults ← an optional TOML file ← environment.
//!
//! Every service describes its settings as one `serde` struct with `Default`
//! (the development defaults) and calls [`load`] once in `main`. Nothing else in
//! a service reads the environment. The TOML file is `$MOING_CONFIG` when set;
//! environment variables are `MOING_<SECTION>__<KEY>`, e.g.
//! `MOING_DATABASE__URL=mysql://...` or `MOING_GRPC__LISTEN=0.0.0.0:50053`.

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
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 10,
            acquire_timeout_ms: 3_000,
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
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwks_endpoint: "http://127.0.0.1:50051".into(),
            issuer: "moing-auth".into(),
            audience: "moing".into(),
            service_token: "dev-service-token-change-me".into(),
        }
    }
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
    fn unknown_environment_is_an_error() {
        assert!(from_toml::<Demo>("env = 'staging'").is_err());
    }
}
