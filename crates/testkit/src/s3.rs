use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The embedded S3 server: s3s-fs over a temporary directory, with SigV4
/// authentication, so presigned URLs are really verified.
#[derive(Debug)]
pub struct S3Server {
    pub addr: SocketAddr,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    pub bucket: String,
    root: tempfile::TempDir,
    stop: CancellationToken,
}

impl S3Server {
    /// Starts on 127.0.0.1:0 with one bucket.
    pub async fn start(bucket: &str) -> anyhow::Result<Self> {
        let root = tempfile::tempdir()?;
        std::fs::create_dir_all(root.path().join(bucket))?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (access_key, secret_key) = (
            "moing-test-access".to_owned(),
            "moing-test-secret".to_owned(),
        );
        let stop = CancellationToken::new();
        moing_devs3::spawn(
            listener,
            root.path(),
            &access_key,
            &secret_key,
            stop.clone(),
        )?;
        Ok(Self {
            addr,
            access_key,
            secret_key,
            region: "us-east-1".into(),
            bucket: bucket.into(),
            root,
            stop,
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where objects land on disk (for assertions).
    pub fn root(&self) -> &std::path::Path {
        self.root.path()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
