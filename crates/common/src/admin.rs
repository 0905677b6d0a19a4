//! The admin HTTP port of every service and the gateway, for Kubernetes and
//! Prometheus, never routed to clients:
//!
//! - `GET /healthz`: liveness, 200 while the process answers.
//! - `GET /readyz`: readiness, 200 while the service's dependencies (its
//!   database) answer, 503 otherwise; it recovers by itself.
//! - `GET /metrics`: Prometheus text of [`crate::metrics`], with the database
//!   pool and the outbox backlog sampled at scrape time.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::MySqlPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{db, metrics, outbox};

/// Where the admin port listens; `None` turns it off.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AdminSettings {
    pub listen: Option<SocketAddr>,
}

impl AdminSettings {
    /// Development default: the gRPC port's admin twin, `50053` → `9053`.
    pub fn for_grpc_port(port: u16) -> Self {
        Self {
            listen: port
                .checked_sub(41_000)
                .map(|p| SocketAddr::from(([127, 0, 0, 1], p))),
        }
    }
}

type Probe = Arc<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// What the admin port reports on.
#[derive(Clone)]
pub struct Admin {
    service: String,
    pool: Option<MySqlPool>,
    subscribers: Vec<String>,
    ready: Option<Probe>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("service", &self.service)
            .field("subscribers", &self.subscribers)
            .finish_non_exhaustive()
    }
}

/// How long a readiness probe may wait for the database.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

impl Admin {
    /// A process without dependencies: always ready.
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_owned(),
            pool: None,
            subscribers: Vec::new(),
            ready: None,
        }
    }

    /// Readiness follows `pool`; its usage and these subscribers' outbox backlog
    /// are sampled on each scrape.
    pub fn with_database(mut self, pool: MySqlPool, subscribers: Vec<String>) -> Self {
        let probe_pool = pool.clone();
        self.ready = Some(Arc::new(move || {
            let pool = probe_pool.clone();
            Box::pin(async move {
                tokio::time::timeout(PROBE_TIMEOUT, db::ping(&pool))
                    .await
                    .unwrap_or(false)
            })
        }));
        self.pool = Some(pool);
        self.subscribers = subscribers;
        self
    }

    /// Readiness decided by `probe` instead.
    pub fn with_readiness<F>(mut self, probe: F) -> Self
    where
        F: Fn() -> BoxFuture<'static, bool> + Send + Sync + 'static,
    {
        self.ready = Some(Arc::new(probe));
        self
    }

    async fn is_ready(&self) -> bool {
        match &self.ready {
            Some(probe) => probe().await,
            None => true,
        }
    }

    /// Samples the gauges that are cheaper to read at scrape time than to keep.
    async fn sample(&self) {
        let service = self.service.as_str();
        let Some(pool) = &self.pool else { return };
        let size = pool.size() as f64;
        let idle = pool.num_idle() as f64;
        let connections = metrics::gauge(
            "moing_db_pool_connections",
            "Database pool connections by state",
            &["service", "state"],
        );
        connections.set(&[service, "idle"], idle);
        connections.set(&[service, "in_use"], (size - idle).max(0.0));
        metrics::set(
            "moing_db_pool_max_connections",
            "Database pool size limit",
            &[("service", service)],
            f64::from(pool.options().get_max_connections()),
        );
        for subscriber in &self.subscribers {
            let sample = tokio::time::timeout(PROBE_TIMEOUT, outbox::backlog(pool, subscriber));
            match sample.await {
                Ok(Ok((pending, age))) => {
                    let labels = [("service", service), ("subscriber", subscriber.as_str())];
                    metrics::set(
                        "moing_outbox_backlog",
                        "Outbox events not yet acknowledged by a subscriber",
                        &labels,
                        pending as f64,
                    );
                    metrics::set(
                        "moing_outbox_oldest_age_seconds",
                        "Age of the oldest undelivered outbox event of a subscriber",
                        &labels,
                        age,
                    );
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "outbox backlog unavailable"),
                Err(_) => tracing::debug!("outbox backlog timed out"),
            }
        }
    }

    /// The admin routes.
    pub fn router(self) -> Router {
        Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(scrape))
            .with_state(Arc::new(self))
    }

    /// Binds `settings.listen` (when set) and serves until `shutdown`. A port
    /// that cannot be bound is logged and skipped: the service itself keeps
    /// running, and a Kubernetes probe on that port makes the fault visible.
    pub async fn spawn(
        self,
        settings: &AdminSettings,
        shutdown: CancellationToken,
    ) -> Option<(SocketAddr, tokio::task::JoinHandle<()>)> {
        let addr = settings.listen?;
        match TcpListener::bind(addr).await {
            Ok(listener) => {
                let bound = listener.local_addr().unwrap_or(addr);
                tracing::info!(addr = %bound, "serving admin http");
                Some((bound, tokio::spawn(self.serve(listener, shutdown))))
            }
            Err(e) => {
                tracing::error!(%addr, error = %e, "admin port unavailable");
                None
            }
        }
    }

    /// Serves on an already-bound listener until `shutdown`.
    pub async fn serve(self, listener: TcpListener, shutdown: CancellationToken) {
        let result = axum::serve(listener, self.router())
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "admin http stopped");
        }
    }
}

async fn readyz(State(admin): State<Arc<Admin>>) -> impl IntoResponse {
    if admin.is_ready().await {
        (StatusCode::OK, "ready\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: database unreachable\n",
        )
    }
}

async fn scrape(State(admin): State<Arc<Admin>>) -> impl IntoResponse {
    admin.sample().await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics::render(),
    )
}
