//! Figures for the auth issue: access-token verification cost per call, and
//! RefreshToken latency (p50/p99) through the gRPC client against a real
//! MariaDB and Redis. Run: `cargo bench -p moing-auth --bench tokens`
//! (needs the infrastructure of scripts/test or scripts/up).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use moing_auth::{config::Settings, error::AuthError, grpc::LeadershipCheck, startup};
use moing_common::token::{MemberState, StaticJwks, TokenVerifier};
use moing_proto::moing::auth::v1::{
    DevelopmentCredential, DeviceInfo, RefreshTokenRequest, SignInRequest,
    auth_service_client::AuthServiceClient, sign_in_request::Credential,
};
use moing_testkit::{TestDb, TestRedis, Tokens};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

struct NoTeams;

#[tonic::async_trait]
impl LeadershipCheck for NoTeams {
    async fn leads_active_team(&self, _m: Uuid) -> Result<bool, AuthError> {
        Ok(false)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let total: Duration = samples.iter().sum();
    println!(
        "{name}: n={} mean={:?} p50={:?} p99={:?} max={:?}",
        samples.len(),
        total / samples.len() as u32,
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // 1. Verification cost: the work every service does per call (cache hit).
    let tokens = Tokens::new();
    let verifier = TokenVerifier::new(
        Arc::new(StaticJwks(vec![tokens.key.jwk()])),
        "moing-auth",
        "moing",
    );
    let token = tokens.access(Uuid::now_v7(), MemberState::Active);
    verifier.verify(&token).await?;
    let n = 20_000;
    let start = Instant::now();
    for _ in 0..n {
        verifier.verify(&token).await?;
    }
    let per = start.elapsed() / n;
    println!(
        "verify access token (EdDSA, cached JWKS): {per:?} per call, {:.0} calls/s on one core",
        1.0 / per.as_secs_f64()
    );

    // 1b. The live-session check every member call adds (immediate revocation):
    //     a cached "live" answer, and a Redis EXISTS when the answer is older
    //     than session_check_ms (500 ms): the cost per call is the first, plus
    //     the second once per session per interval.
    {
        let redis = TestRedis::new();
        let session = Uuid::now_v7();
        let key = format!("{}sess:{session}", redis.prefix);
        let client = redis::Client::open(redis.url.as_str())?;
        let mut c = client.get_multiplexed_async_connection().await?;
        redis::cmd("HSET")
            .arg(&key)
            .arg("member")
            .arg("x")
            .query_async::<()>(&mut c)
            .await?;
        let cached = moing_common::sessions::SessionCheck::new(
            &redis.url,
            &redis.prefix,
            Duration::from_millis(500),
            Duration::from_millis(500),
        )?;
        cached.state(session).await;
        let n = 200_000;
        let start = Instant::now();
        for _ in 0..n {
            cached.state(session).await;
        }
        let per = start.elapsed() / n;
        println!("session check, cached answer: {per:?} per call");
        let uncached = moing_common::sessions::SessionCheck::new(
            &redis.url,
            &redis.prefix,
            Duration::ZERO,
            Duration::from_millis(500),
        )?;
        uncached.state(session).await;
        let mut samples = Vec::new();
        for _ in 0..5_000 {
            let t = Instant::now();
            uncached.state(session).await;
            samples.push(t.elapsed());
        }
        report(
            "session check, Redis EXISTS (answer older than 500 ms)",
            samples,
        );
        redis::cmd("DEL")
            .arg(&key)
            .query_async::<()>(&mut c)
            .await?;
    }

    // 2. RefreshToken end to end (gRPC → Redis Lua rotation → MariaDB member read → signing).
    let db = TestDb::empty().await?;
    let redis = TestRedis::new();
    let mut settings = Settings::default();
    settings.base.database.url = db.url.clone();
    settings.dev_sign_in = true;
    settings.redis.key_prefix = redis.prefix.clone();
    settings.limits.sign_in_per_address = u32::MAX;
    settings.limits.refresh_per_address = u32::MAX;
    settings.limits.refresh_per_family = u32::MAX;
    settings.state_dir =
        std::env::temp_dir().join(format!("moing-bench-{}", Uuid::new_v4().simple()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let stop = CancellationToken::new();
    tokio::spawn(startup::run_with(
        settings,
        listener,
        stop.clone(),
        Arc::new(NoTeams),
    ));
    let client = AuthServiceClient::connect(endpoint).await?;

    let mut sequential = Vec::new();
    let mut refresh = sign_in(&client, "bench-seq").await?;
    for _ in 0..2_000 {
        let t = Instant::now();
        refresh = client
            .clone()
            .refresh_token(RefreshTokenRequest {
                refresh_token: refresh,
            })
            .await?
            .into_inner()
            .tokens
            .map(|t| t.refresh_token)
            .unwrap_or_default();
        sequential.push(t.elapsed());
    }
    report("RefreshToken, 1 caller", sequential);

    let mut tasks = Vec::new();
    for i in 0..16 {
        let client = client.clone();
        let mut refresh = sign_in(&client, &format!("bench-{i}")).await?;
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            for _ in 0..250 {
                let t = Instant::now();
                refresh = client
                    .clone()
                    .refresh_token(RefreshTokenRequest {
                        refresh_token: refresh,
                    })
                    .await?
                    .into_inner()
                    .tokens
                    .map(|t| t.refresh_token)
                    .unwrap_or_default();
                samples.push(t.elapsed());
            }
            Ok::<_, tonic::Status>(samples)
        }));
    }
    let wall = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = wall.elapsed();
    println!(
        "RefreshToken, 16 callers: {:.0} refreshes/s",
        all.len() as f64 / elapsed.as_secs_f64()
    );
    report("RefreshToken, 16 callers", all);
    stop.cancel();
    Ok(())
}

async fn sign_in(
    client: &AuthServiceClient<tonic::transport::Channel>,
    nickname: &str,
) -> anyhow::Result<String> {
    let resp = client
        .clone()
        .sign_in(SignInRequest {
            credential: Some(Credential::Development(DevelopmentCredential {
                nickname: nickname.into(),
            })),
            device: Some(DeviceInfo {
                name: "bench".into(),
                platform: 1,
            }),
        })
        .await?
        .into_inner();
    Ok(resp.tokens.map(|t| t.refresh_token).unwrap_or_default())
}
