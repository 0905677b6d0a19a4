//! Tracing initialisation: an env filter, human lines in development, JSON in production.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogSettings;

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(service: &str, settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if settings.json {
        registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init()
    } else {
        registry.with(fmt::layer().with_target(false)).try_init()
    };
    if result.is_ok() {
        tracing::info!(service, "telemetry initialised");
    }
}
