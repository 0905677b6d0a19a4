//! Tracing initialisation: an env filter, human lines in development, JSON in
//! production, and OpenTelemetry spans (exported over OTLP/gRPC when
//! `log.otlp_endpoint` or the SDK's `OTEL_EXPORTER_OTLP_ENDPOINT` is set).
//!
//! The OpenTelemetry layer is installed even without an exporter: it gives every
//! span a trace id, which log lines carry and [`crate::observe`] propagates as
//! W3C `traceparent`, so a request is followable by its ids with export off.

use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, Layer, filter::LevelFilter, fmt, prelude::*};

use crate::config::LogSettings;

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(service: &str, settings: &LogSettings) {
    if let Err(e) = try_init(service, settings) {
        // Usually "already initialised" in tests; printed because logging may not exist.
        eprintln!("telemetry not initialised: {e}");
    }
}

/// Like [`init`], reporting why it did not install (already installed, bad
/// exporter endpoint). Must run inside a Tokio runtime when exporting.
pub fn try_init(service: &str, settings: &LogSettings) -> anyhow::Result<()> {
    try_init_with_writer(service, settings, std::io::stdout)
}

/// Like [`try_init`], with log lines going to `writer` (tests capture them).
pub fn try_init_with_writer<W>(
    service: &str,
    settings: &LogSettings,
    writer: W,
) -> anyhow::Result<()>
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let provider = tracer_provider(service, &settings.otlp_endpoint)?;
    // Spans are exported at INFO and above whatever the log filter says.
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service.to_owned()))
        .with_filter(LevelFilter::INFO);
    let fmt_layer = if settings.json {
        fmt::layer()
            .json()
            .with_writer(writer)
            .flatten_event(true)
            .with_current_span(true)
            // The whole span list, so ids of the outer call span reach every line.
            .with_span_list(true)
            .with_filter(filter)
            .boxed()
    } else {
        fmt::layer()
            .with_target(false)
            .with_writer(writer)
            .with_filter(filter)
            .boxed()
    };
    tracing_subscriber::registry()
        .with(otel)
        .with(fmt_layer)
        .try_init()?;
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    let exporting = !settings.otlp_endpoint.is_empty() || otel_env_set();
    let _ = PROVIDER.set(provider);
    tracing::info!(
        service,
        otlp = exporting,
        json = settings.json,
        "telemetry initialised"
    );
    Ok(())
}

/// The SDK's own variable, honoured when `log.otlp_endpoint` is empty (the
/// OpenTelemetry exporter reads it itself).
const OTEL_ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

fn tracer_provider(service: &str, endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let resource = Resource::builder()
        .with_service_name(service.to_owned())
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    if endpoint.is_empty() && !otel_env_set() {
        return Ok(builder.build());
    }
    let mut exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic();
    if !endpoint.is_empty() {
        exporter = exporter.with_endpoint(endpoint);
    }
    let exporter = exporter.build()?;
    Ok(builder.with_batch_exporter(exporter).build())
}

fn otel_env_set() -> bool {
    std::env::var_os(OTEL_ENDPOINT_VAR).is_some_and(|v| !v.is_empty())
}

/// Exports the spans still buffered (at shutdown, or before a test reads its
/// collector). A no-op without [`init`].
pub async fn flush() {
    if let Some(provider) = PROVIDER.get() {
        // The batch processor blocks its caller while the runtime sends.
        let provider = provider.clone();
        let flushed = tokio::task::spawn_blocking(move || provider.force_flush()).await;
        if let Ok(Err(e)) = flushed {
            tracing::warn!(error = %e, "span export flush failed");
        }
    }
}
