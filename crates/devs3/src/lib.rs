//! moing-devs3: a local S3 endpoint for development and tests.
//!
//! s3s-fs stores objects as files under a root directory; s3s checks SigV4
//! signatures (headers and presigned query strings) against one access key, so
//! the production upload code path (aws-sdk-s3 presigning) runs unchanged.
//! Buckets are directories under the root.

use std::path::Path;

use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto::Builder,
};
use s3s::{auth::SimpleAuth, service::S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves s3s-fs rooted at `root` on `listener` until `stop` is cancelled.
pub fn spawn(
    listener: TcpListener,
    root: &Path,
    access_key: &str,
    secret_key: &str,
    stop: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let fs = s3s_fs::FileSystem::new(root).map_err(|e| anyhow::anyhow!("s3s-fs: {e:?}"))?;
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
    let service = builder.build();
    Ok(tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = stop.cancelled() => break,
                a = listener.accept() => a,
            };
            let Ok((stream, _)) = accepted else { continue };
            let service = service.clone();
            tokio::spawn(async move {
                if let Err(e) = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(error = %e, "s3 connection ended");
                }
            });
        }
    }))
}
