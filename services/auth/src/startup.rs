//! Builds the auth service from its settings and serves it on a bound listener.

use std::{sync::Arc, time::Duration};

use moing_common::{
    layer::{AccessPolicy, AuthConfig, AuthLayer},
    server::ServerBuilder,
    service,
    token::StaticJwks,
};
use moing_proto::moing::{
    auth::v1::{
        auth_internal_service_server::AuthInternalServiceServer,
        auth_service_server::AuthServiceServer,
    },
    moim::v1::team_internal_service_client::TeamInternalServiceClient,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    MIGRATOR,
    config::Settings,
    grpc::Auth,
    keys::KeyRing,
    leadership::{LeadershipCheck, MoimLeadership},
    sessions::SessionStore,
    store::Store,
};

const SVC: &str = "/moing.auth.v1.AuthService/";

/// Who may call what: sign-in, refresh and the JWKS need no token; pending
/// members reach only the sign-up family.
pub fn policy() -> AccessPolicy {
    AccessPolicy::default()
        .anonymous(&[
            &format!("{SVC}SignIn"),
            &format!("{SVC}RefreshToken"),
            &format!("{SVC}GetJwks"),
        ])
        .pending_allowed(&[
            &format!("{SVC}SignUp"),
            &format!("{SVC}CheckNickname"),
            &format!("{SVC}SignOut"),
        ])
}

/// Serves with the production leadership check (moim's internal API).
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let moim = TeamInternalServiceClient::new(settings.base.internal_channel("moim")?);
    run_with(
        settings,
        listener,
        shutdown,
        Arc::new(MoimLeadership { client: moim }),
    )
    .await
}

/// Migrates, wires and serves until `shutdown`; tests pass their own leadership check.
pub async fn run_with(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
    leadership: Arc<dyn LeadershipCheck>,
) -> anyhow::Result<()> {
    let base = &settings.base;
    let pool = service::open_database(&base.database, &MIGRATOR).await?;
    let keys = KeyRing::load(&settings)?;
    let outbox = base.outbox("auth");
    let relays = base.spawn_relays(&pool, &outbox, &shutdown)?;
    let sessions = SessionStore::new(
        &settings.redis,
        Duration::from_secs(settings.tokens.refresh_ttl_days * 24 * 3600),
    )?;
    let http = moing_common::http::client(Duration::from_secs(2), Duration::from_secs(5))?;
    // Auth verifies its own tokens with its own key ring: no network hop.
    anyhow::ensure!(
        settings.tokens.access_ttl_secs <= base.auth.max_token_lifetime_secs,
        "tokens.access_ttl_secs ({}) exceeds auth.max_token_lifetime_secs ({}): every service would refuse the tokens",
        settings.tokens.access_ttl_secs,
        base.auth.max_token_lifetime_secs
    );
    // Auth checks its own sessions in its own Redis (immediate revocation).
    let sessions_check = moing_common::sessions::SessionCheck::new(
        &settings.redis.url,
        &settings.redis.key_prefix,
        Duration::from_millis(base.auth.session_check_ms),
        Duration::from_millis(base.auth.session_check_timeout_ms),
    )?;
    let verifier = base.auth.verifier(Arc::new(StaticJwks(keys.jwks())));
    let layer = AuthLayer::new(AuthConfig {
        verifier: Arc::new(verifier),
        service_token: base.auth.service_token.as_str().into(),
        policy: Arc::new(policy()),
        sessions: Some(Arc::new(sessions_check)),
    });
    let auth = Arc::new(Auth::from_parts(
        &settings,
        Store::new(pool.clone(), outbox),
        sessions,
        keys,
        http,
        leadership,
    ));
    let server = ServerBuilder::new()
        .add_service(AuthServiceServer::from_arc(auth.clone()))
        .add_service(AuthInternalServiceServer::from_arc(auth));
    service::serve(server, listener, base, pool, layer, shutdown).await?;
    for relay in relays {
        let _ = relay.await;
    }
    Ok(())
}
