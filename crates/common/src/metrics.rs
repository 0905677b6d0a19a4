//! Process-wide Prometheus metrics, served as text at `/metrics` on the admin
//! port ([`crate::admin`]).
//!
//! Any crate records a metric by name, without declaring it first:
//!
//! ```
//! use moing_common::metrics;
//! metrics::inc("moing_push_results_total", "Pushes by FCM outcome", &[("outcome", "UNREGISTERED")]);
//! metrics::observe("moing_reminder_lag_seconds", "Reminder sent after its due time", &[], 1.5);
//! metrics::set("moing_reminders_due", "Reminders due and not yet sent", &[], 3.0);
//! ```
//!
//! A family is created on first use with the label names of that call; a later
//! call with another kind or other label names is logged once and dropped (a
//! metric never takes a request down). Hot paths keep a handle from
//! [`counter`], [`gauge`] or [`histogram`] instead of looking the name up.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
};

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);
static FAMILIES: LazyLock<Mutex<HashMap<String, Family>>> = LazyLock::new(Default::default);

/// Latency buckets (seconds) for RPCs: 1 ms to 10 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Lag buckets (seconds) for background work such as reminders: 1 s to 1 h.
pub const LAG_BUCKETS: &[f64] = &[
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

#[derive(Clone)]
enum Family {
    Counter(IntCounterVec, Vec<String>),
    Gauge(GaugeVec, Vec<String>),
    Histogram(HistogramVec, Vec<String>),
}

/// A counter family; `None` inside when it could not be registered.
#[derive(Clone, Debug)]
pub struct Counter(Option<IntCounterVec>);

/// A gauge family.
#[derive(Clone, Debug)]
pub struct Gauge(Option<GaugeVec>);

/// A histogram family.
#[derive(Clone, Debug)]
pub struct Histogram(Option<HistogramVec>);

impl Counter {
    /// Adds one to the series with these label values (in the family's label order).
    pub fn inc(&self, values: &[&str]) {
        self.inc_by(values, 1);
    }

    pub fn inc_by(&self, values: &[&str], n: u64) {
        if let Some(c) = self
            .0
            .as_ref()
            .and_then(|f| f.get_metric_with_label_values(values).ok())
        {
            c.inc_by(n);
        }
    }
}

impl Gauge {
    pub fn set(&self, values: &[&str], v: f64) {
        if let Some(g) = self
            .0
            .as_ref()
            .and_then(|f| f.get_metric_with_label_values(values).ok())
        {
            g.set(v);
        }
    }

    pub fn add(&self, values: &[&str], v: f64) {
        if let Some(g) = self
            .0
            .as_ref()
            .and_then(|f| f.get_metric_with_label_values(values).ok())
        {
            g.add(v);
        }
    }
}

impl Histogram {
    pub fn observe(&self, values: &[&str], v: f64) {
        if let Some(h) = self
            .0
            .as_ref()
            .and_then(|f| f.get_metric_with_label_values(values).ok())
        {
            h.observe(v);
        }
    }
}

fn mismatch(name: &str) {
    tracing::warn!(
        metric = name,
        "metric used with another kind or other labels; dropped"
    );
}

fn owned(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|l| l.to_string()).collect()
}

/// Looks a family up, or creates and registers it with `make`.
fn family(name: &str, make: impl FnOnce() -> Option<Family>) -> Option<Family> {
    let mut families = FAMILIES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(f) = families.get(name) {
        return Some(f.clone());
    }
    let f = make()?;
    let registered = match &f {
        Family::Counter(c, _) => REGISTRY.register(Box::new(c.clone())),
        Family::Gauge(g, _) => REGISTRY.register(Box::new(g.clone())),
        Family::Histogram(h, _) => REGISTRY.register(Box::new(h.clone())),
    };
    if let Err(e) = registered {
        tracing::warn!(metric = name, error = %e, "metric not registered");
        return None;
    }
    families.insert(name.to_owned(), f.clone());
    Some(f)
}

/// The counter family `name` with these label names.
pub fn counter(name: &str, help: &str, labels: &[&str]) -> Counter {
    let f = family(name, || {
        IntCounterVec::new(Opts::new(name, help), labels)
            .ok()
            .map(|c| Family::Counter(c, owned(labels)))
    });
    match f {
        Some(Family::Counter(c, l)) if l == owned(labels) => Counter(Some(c)),
        _ => {
            mismatch(name);
            Counter(None)
        }
    }
}

/// The gauge family `name` with these label names.
pub fn gauge(name: &str, help: &str, labels: &[&str]) -> Gauge {
    let f = family(name, || {
        GaugeVec::new(Opts::new(name, help), labels)
            .ok()
            .map(|g| Family::Gauge(g, owned(labels)))
    });
    match f {
        Some(Family::Gauge(g, l)) if l == owned(labels) => Gauge(Some(g)),
        _ => {
            mismatch(name);
            Gauge(None)
        }
    }
}

/// The histogram family `name` with these label names and bucket bounds.
pub fn histogram(name: &str, help: &str, labels: &[&str], buckets: &[f64]) -> Histogram {
    let f = family(name, || {
        HistogramVec::new(
            HistogramOpts::new(name, help).buckets(buckets.to_vec()),
            labels,
        )
        .ok()
        .map(|h| Family::Histogram(h, owned(labels)))
    });
    match f {
        Some(Family::Histogram(h, l)) if l == owned(labels) => Histogram(Some(h)),
        _ => {
            mismatch(name);
            Histogram(None)
        }
    }
}

fn split<'a>(labels: &'a [(&'a str, &'a str)]) -> (Vec<&'a str>, Vec<&'a str>) {
    labels.iter().copied().unzip()
}

/// Adds one to counter `name` for these `(label, value)` pairs.
pub fn inc(name: &str, help: &str, labels: &[(&str, &str)]) {
    let (names, values) = split(labels);
    counter(name, help, &names).inc(&values);
}

/// Sets gauge `name` for these `(label, value)` pairs.
pub fn set(name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
    let (names, values) = split(labels);
    gauge(name, help, &names).set(&values, value);
}

/// Records `value` in histogram `name`; buckets are [`LATENCY_BUCKETS`] for names
/// ending in `_duration_seconds`, [`LAG_BUCKETS`] otherwise.
pub fn observe(name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
    let (names, values) = split(labels);
    let buckets = if name.ends_with("_duration_seconds") {
        LATENCY_BUCKETS
    } else {
        LAG_BUCKETS
    };
    histogram(name, help, &names, buckets).observe(&values, value);
}

/// One push attempt's result, by FCM outcome (`OK`, `UNREGISTERED`,
/// `INVALID_ARGUMENT`, `QUOTA_EXCEEDED`, `UNAVAILABLE`, `INTERNAL`, `NO_CREDENTIALS`, ...).
pub fn push_result(outcome: &str) {
    inc(
        "moing_push_results_total",
        "Push sends by FCM outcome",
        &[("outcome", outcome)],
    );
}

/// How late a reminder went out after it was due, in seconds.
pub fn reminder_lag(seconds: f64) {
    observe(
        "moing_reminder_lag_seconds",
        "Delay between a reminder's due time and its sending",
        &[],
        seconds.max(0.0),
    );
}

/// Every registered metric in the Prometheus text format (version 0.0.4).
pub fn render() -> String {
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&REGISTRY.gather(), &mut out) {
        tracing::warn!(error = %e, "metrics encoding failed");
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_renders_by_name() {
        inc("moing_test_things_total", "Things", &[("kind", "a")]);
        inc("moing_test_things_total", "Things", &[("kind", "a")]);
        set("moing_test_level", "Level", &[], 2.5);
        observe(
            "moing_test_wait_duration_seconds",
            "Wait",
            &[("k", "x")],
            0.02,
        );
        let text = render();
        assert!(
            text.contains("moing_test_things_total{kind=\"a\"} 2"),
            "{text}"
        );
        assert!(text.contains("moing_test_level 2.5"), "{text}");
        assert!(
            text.contains("moing_test_wait_duration_seconds_bucket{k=\"x\",le=\"0.025\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn a_mismatch_is_dropped_not_a_panic() {
        inc("moing_test_mismatch_total", "M", &[("a", "1")]);
        inc("moing_test_mismatch_total", "M", &[("b", "1"), ("c", "2")]);
        set("moing_test_mismatch_total", "M", &[("a", "1")], 1.0);
        assert!(render().contains("moing_test_mismatch_total{a=\"1\"} 1"));
    }
}
