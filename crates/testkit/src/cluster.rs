use std::{collections::BTreeMap, future::Future};

use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// An in-process cluster: every named service gets a listener on port 0 before
/// any of them starts, so each can be configured with all endpoints.
#[derive(Debug)]
pub struct Cluster {
    listeners: BTreeMap<String, TcpListener>,
    pub endpoints: BTreeMap<String, String>,
    pub shutdown: CancellationToken,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
}

impl Cluster {
    /// Binds one listener per name.
    pub async fn bind(names: &[&str]) -> anyhow::Result<Self> {
        let mut listeners = BTreeMap::new();
        let mut endpoints = BTreeMap::new();
        for name in names {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            endpoints.insert(
                name.to_string(),
                format!("http://{}", listener.local_addr()?),
            );
            listeners.insert(name.to_string(), listener);
        }
        Ok(Self {
            listeners,
            endpoints,
            shutdown: CancellationToken::new(),
            tasks: Vec::new(),
        })
    }

    pub fn endpoint(&self, name: &str) -> String {
        self.endpoints.get(name).cloned().unwrap_or_default()
    }

    /// Starts `name` with its reserved listener; `run` gets the cluster's shutdown token.
    pub fn spawn<F, Fut>(&mut self, name: &str, run: F) -> anyhow::Result<()>
    where
        F: FnOnce(TcpListener, CancellationToken) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let listener = self
            .listeners
            .remove(name)
            .ok_or_else(|| anyhow::anyhow!("no listener reserved for {name}"))?;
        let service = run(listener, self.shutdown.clone());
        let name = name.to_owned();
        self.tasks.push(tokio::spawn(async move {
            let result = service.await;
            if let Err(e) = &result {
                tracing::error!(service = %name, error = %format!("{e:#}"), "test service stopped");
            }
            result
        }));
        Ok(())
    }

    /// Stops every service and waits for them to drain.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        for task in self.tasks.drain(..) {
            task.await??;
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
