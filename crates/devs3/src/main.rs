//! The `devs3` binary used by `scripts/up`: settings → bind → serve until a signal.

use std::{net::SocketAddr, path::PathBuf};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Serialize, Deserialize)]
#[serde(default)]
struct Settings {
    listen: SocketAddr,
    root: PathBuf,
    access_key: String,
    secret_key: String,
    /// Buckets created at start (directories under `root`).
    buckets: Vec<String>,
    log: moing_common::config::LogSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            root: PathBuf::from(".moing/s3"),
            access_key: "moing-dev-access".into(),
            secret_key: "moing-dev-secret".into(),
            buckets: vec!["moing-media".into()],
            log: Default::default(),
        }
    }
}

impl moing_common::entry::Binary for Settings {
    const NAME: &'static str = "devs3";

    fn listen(&self) -> SocketAddr {
        self.listen
    }

    fn log(&self) -> &moing_common::config::LogSettings {
        &self.log
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    moing_common::entry::main(
        |settings: Settings, listener, stop: CancellationToken| async move {
            for bucket in &settings.buckets {
                std::fs::create_dir_all(settings.root.join(bucket))?;
            }
            tracing::info!(addr = %settings.listen, root = %settings.root.display(), "s3 listening");
            let task = moing_devs3::spawn(
                listener,
                &settings.root,
                &settings.access_key,
                &settings.secret_key,
                stop.clone(),
            )?;
            stop.cancelled().await;
            task.await?;
            Ok(())
        },
    )
    .await
}
