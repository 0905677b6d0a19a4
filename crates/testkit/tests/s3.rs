//! The embedded S3 server checks signatures: anonymous or badly signed requests fail.

use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use moing_testkit::S3Server;

#[tokio::test]
async fn unsigned_requests_are_refused() -> anyhow::Result<()> {
    let s3 = S3Server::start("bucket").await?;
    let client = Client::builder(TokioExecutor::new()).build_http::<String>();
    let put = http::Request::put(format!("{}/bucket/a.jpg", s3.endpoint()))
        .header("content-type", "image/jpeg")
        .body("not really a jpeg".to_owned())?;
    assert_eq!(client.request(put).await?.status(), 403);
    let forged = http::Request::get(format!(
        "{}/bucket/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=moing-test-access%2F20261124%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261124T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature={}",
        s3.endpoint(),
        "0".repeat(64)
    ))
    .body(String::new())?;
    assert_eq!(client.request(forged).await?.status(), 403);
    assert!(!s3.root().join("bucket/a.jpg").exists());
    Ok(())
}
