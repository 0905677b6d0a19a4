//! Where endpoints come from: DNS of headless services (the Kubernetes way), a
//! static file (reloaded when it changes), and registrations with heartbeats.
//! Every source writes into one [`Discovery`]; a change of the merged view bumps
//! the version and wakes every ADS stream.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    net::SocketAddr,
    path::PathBuf,
    sync::Mutex,
    time::{Duration, Instant, SystemTime},
};

use serde::Deserialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The merged endpoints of every cluster.
pub type Endpoints = BTreeMap<String, BTreeSet<SocketAddr>>;

#[derive(Debug, Clone)]
struct Lease {
    cluster: String,
    addr: SocketAddr,
    expires: Instant,
}

#[derive(Debug, Default)]
struct Sources {
    dns: Endpoints,
    file: Endpoints,
    leases: HashMap<String, Lease>,
    merged: Endpoints,
    version: u64,
}

/// Shared discovery state; `subscribe` yields the version on every change.
#[derive(Debug)]
pub struct Discovery {
    sources: Mutex<Sources>,
    changes: watch::Sender<u64>,
}

impl Default for Discovery {
    fn default() -> Self {
        Self {
            sources: Mutex::new(Sources {
                version: 1,
                ..Sources::default()
            }),
            changes: watch::channel(1).0,
        }
    }
}

impl Discovery {
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The current version and endpoints.
    pub fn snapshot(&self) -> (u64, Endpoints) {
        match self.sources.lock() {
            Ok(s) => (s.version, s.merged.clone()),
            Err(_) => (0, Endpoints::new()),
        }
    }

    fn update(&self, change: impl FnOnce(&mut Sources)) {
        let Ok(mut s) = self.sources.lock() else {
            return;
        };
        change(&mut s);
        let mut merged = Endpoints::new();
        for (cluster, addrs) in s.dns.iter().chain(s.file.iter()) {
            merged
                .entry(cluster.clone())
                .or_default()
                .extend(addrs.iter().copied());
        }
        for lease in s.leases.values() {
            merged
                .entry(lease.cluster.clone())
                .or_default()
                .insert(lease.addr);
        }
        if merged != s.merged {
            s.merged = merged;
            s.version += 1;
            let version = s.version;
            drop(s);
            tracing::info!(version, "endpoints changed");
            self.changes.send_replace(version);
        }
    }

    pub fn set_dns(&self, cluster: &str, addrs: BTreeSet<SocketAddr>) {
        self.update(|s| {
            s.dns.insert(cluster.to_owned(), addrs);
        });
    }

    pub fn set_file(&self, endpoints: Endpoints) {
        self.update(|s| s.file = endpoints);
    }

    /// Adds a lease; returns its id.
    pub fn register(&self, cluster: &str, addr: SocketAddr, ttl: Duration) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let lease = Lease {
            cluster: cluster.to_owned(),
            addr,
            expires: Instant::now() + ttl,
        };
        let key = id.clone();
        self.update(|s| {
            s.leases.insert(key, lease);
        });
        id
    }

    /// Renews a lease; false when it is unknown or already expired.
    pub fn heartbeat(&self, id: &str, ttl: Duration) -> bool {
        let Ok(mut s) = self.sources.lock() else {
            return false;
        };
        match s.leases.get_mut(id) {
            Some(l) if l.expires > Instant::now() => {
                l.expires = Instant::now() + ttl;
                true
            }
            _ => false,
        }
    }

    pub fn deregister(&self, id: &str) -> bool {
        let mut removed = false;
        self.update(|s| removed = s.leases.remove(id).is_some());
        removed
    }

    /// Drops expired leases.
    pub fn expire(&self) {
        let now = Instant::now();
        self.update(|s| s.leases.retain(|_, l| l.expires > now));
    }
}

/// The static file: `{"clusters": {"auth": ["10.0.0.5:50051", ...]}}`.
#[derive(Debug, Deserialize)]
struct StaticFile {
    clusters: BTreeMap<String, Vec<SocketAddr>>,
}

/// Polls `path` and reloads it whenever its modification time changes.
pub fn watch_file(
    discovery: std::sync::Arc<Discovery>,
    path: PathBuf,
    every: Duration,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        let mut seen: Option<SystemTime> = None;
        loop {
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            if modified.is_some() && modified != seen {
                match std::fs::read_to_string(&path)
                    .map_err(anyhow::Error::from)
                    .and_then(|t| Ok(serde_json::from_str::<StaticFile>(&t)?))
                {
                    Ok(file) => {
                        seen = modified;
                        discovery.set_file(
                            file.clusters
                                .into_iter()
                                .map(|(k, v)| (k, v.into_iter().collect()))
                                .collect(),
                        );
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "static endpoints file not loaded")
                    }
                }
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(every) => {}
            }
        }
    });
}

/// Resolves `host:port` of each headless service periodically (every pod IP).
pub fn watch_dns(
    discovery: std::sync::Arc<Discovery>,
    hosts: BTreeMap<String, String>,
    every: Duration,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            for (cluster, host) in &hosts {
                match tokio::net::lookup_host(host.as_str()).await {
                    Ok(addrs) => discovery.set_dns(cluster, addrs.collect()),
                    Err(e) => {
                        tracing::warn!(%cluster, %host, error = %e, "dns lookup failed; keeping last answer")
                    }
                }
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(every) => {}
            }
        }
    });
}

/// Expires leases every second.
pub fn expire_leases(discovery: std::sync::Arc<Discovery>, stop: CancellationToken) {
    tokio::spawn(async move {
        loop {
            discovery.expire();
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_change_only_when_endpoints_do() {
        let d = Discovery::default();
        let (v0, _) = d.snapshot();
        let a: SocketAddr = "127.0.0.1:1".parse().expect("addr");
        d.set_dns("auth", [a].into());
        let (v1, e) = d.snapshot();
        assert_eq!(v1, v0 + 1);
        assert_eq!(e["auth"].len(), 1);
        d.set_dns("auth", [a].into());
        assert_eq!(d.snapshot().0, v1, "same endpoints, same version");
        let id = d.register(
            "auth",
            "127.0.0.1:2".parse().expect("addr"),
            Duration::from_secs(30),
        );
        assert_eq!(d.snapshot().1["auth"].len(), 2);
        assert!(d.heartbeat(&id, Duration::from_secs(30)));
        assert!(d.deregister(&id));
        assert!(!d.heartbeat(&id, Duration::from_secs(30)));
        assert_eq!(d.snapshot().1["auth"].len(), 1);
    }
}
