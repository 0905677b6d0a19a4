use std::net::SocketAddr;

use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto::Builder,
};
use s3s::{auth::SimpleAuth, service::S3ServiceBuilder};
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
        let (access_key, secret_key) = ("moing-test-access".to_owned(), "moing-test-secret".to_owned());
        let stop = serve(listener, root.path(), &access_key, &secret_key)?;
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

/// Serves s3s-fs rooted at `root` on `listener` until the returned token is cancelled.
/// Shared by tests and `scripts/up` (through the `s3` service binary).
pub fn serve(
    listener: TcpListener,
    root: &std::path::Path,
    access_key: &str,
    secret_key: &str,
) -> anyhow::Result<CancellationToken> {
    let fs = s3s_fs::FileSystem::new(root).map_err(|e| anyhow::anyhow!("s3s-fs: {e:?}"))?;
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
    let service = builder.build();
    let stop = CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = token.cancelled() => break,
                a = listener.accept() => a,
            };
            let Ok((stream, _)) = accepted else { continue };
            let service = service.clone();
            tokio::spawn(async move {
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(stop)
}
