use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use moing_auth::{config::Settings, error::AuthError, grpc::LeadershipCheck, startup};
use moing_proto::moing::auth::v1::{
    DevelopmentCredential, DeviceInfo, DevicePlatform, SignInRequest, SignInResponse,
    SignUpRequest, auth_internal_service_client::AuthInternalServiceClient,
    auth_service_client::AuthServiceClient, sign_in_request::Credential,
};
use moing_testkit::{KakaoProvider, OidcProvider, Outage, TestDb, TestRedis};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Status, transport::Channel};
use uuid::Uuid;

pub const KAKAO_APP_ID: i64 = 424242;

/// The withdrawal precondition, switchable per test (moim's stand-in inside auth tests only).
#[derive(Default)]
pub struct Leadership(pub AtomicBool);

#[tonic::async_trait]
impl LeadershipCheck for Leadership {
    async fn leads_active_team(&self, _member: Uuid) -> Result<bool, AuthError> {
        Ok(self.0.load(Ordering::SeqCst))
    }
}

pub struct TestApp {
    pub channel: Channel,
    pub client: AuthServiceClient<Channel>,
    pub internal: AuthInternalServiceClient<Channel>,
    pub db: TestDb,
    pub kakao: KakaoProvider,
    pub google: OidcProvider,
    pub apple: OidcProvider,
    pub leadership: Arc<Leadership>,
    pub redis_outage: Outage,
    pub service_token: String,
    _redis: TestRedis,
    _state: tempfile_dir::Dir,
    stop: CancellationToken,
}

mod tempfile_dir {
    /// A private state directory for the generated signing key.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Self {
            let p =
                std::env::temp_dir().join(format!("moing-auth-{}", uuid::Uuid::new_v4().simple()));
            Self(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub struct Options {
    pub production: bool,
    pub dev_sign_in: bool,
    pub sign_in_limit: u32,
    pub jwks_refetch_interval_secs: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            production: false,
            dev_sign_in: true,
            sign_in_limit: 1000,
            jwks_refetch_interval_secs: 60,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    moing_testkit::init_logs();
    let db = TestDb::empty().await.expect("test database");
    let redis = TestRedis::new();
    let kakao = KakaoProvider::start().await.expect("kakao");
    let google = OidcProvider::start("https://accounts.google.com", "google-client")
        .await
        .expect("google");
    let apple = OidcProvider::start("https://appleid.apple.com", "apple-client")
        .await
        .expect("apple");
    let redis_target: SocketAddr = redis
        .url
        .trim_start_matches("redis://")
        .parse()
        .expect("redis url is host:port");
    let redis_outage = Outage::start(redis_target).await.expect("redis forwarder");
    let state = tempfile_dir::Dir::new();
    let service_token = format!("svc-{}", Uuid::new_v4().simple());

    let mut settings = Settings::default();
    settings.base.database.url = db.url.clone();
    settings.base.auth.service_token = service_token.clone();
    if opts.production {
        settings.base.env = moing_common::config::Environment::Production;
        let key = moing_common::token::SigningKeyPair::generate();
        std::fs::create_dir_all(&state.0).expect("state dir");
        let path = state.0.join("prod-key.pem");
        std::fs::write(&path, key.to_pkcs8_pem().expect("pem")).expect("write key");
        settings.tokens.signing_key_file = path.display().to_string();
    }
    settings.dev_sign_in = opts.dev_sign_in;
    settings.state_dir = state.0.clone();
    settings.redis.url = format!("redis://{}", redis_outage.addr);
    settings.redis.key_prefix = redis.prefix.clone();
    settings.kakao.token_info_url = format!("{}/v1/user/access_token_info", kakao.base_url());
    settings.kakao.user_url = format!("{}/v2/user/me", kakao.base_url());
    settings.kakao.unlink_url = format!("{}/v1/user/unlink", kakao.base_url());
    settings.kakao.app_id = KAKAO_APP_ID;
    for (target, p) in [
        (&mut settings.google, &google),
        (&mut settings.apple, &apple),
    ] {
        target.jwks_url = p.jwks_url();
        target.issuers = vec![p.issuer.clone()];
        target.client_ids = vec![p.client_id.clone()];
        target.revoke_url = p.revoke_url();
        target.jwks_refetch_interval_secs = opts.jwks_refetch_interval_secs;
    }
    settings.limits.sign_in_per_address = opts.sign_in_limit;
    // The suite runs many servers at once on two cores: Redis may answer late,
    // and a failing-closed check would turn that into UNAVAILABLE.
    settings.base.auth.session_check_timeout_ms = 2_000;

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let stop = CancellationToken::new();
    let leadership = Arc::new(Leadership::default());
    let run = startup::run_with(settings, listener, stop.clone(), leadership.clone());
    tokio::spawn(async move {
        if let Err(e) = run.await {
            eprintln!("auth stopped: {e:#}");
        }
    });
    let channel = Channel::from_shared(endpoint)
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    // The listener is bound already: the connection waits in the backlog until
    // migrations finish and the server accepts, so no polling is needed.
    TestApp {
        client: AuthServiceClient::new(channel.clone()),
        internal: AuthInternalServiceClient::new(channel.clone()),
        channel,
        db,
        kakao,
        google,
        apple,
        leadership,
        redis_outage,
        service_token,
        _redis: redis,
        _state: state,
        stop,
    }
}

pub fn device(name: &str) -> Option<DeviceInfo> {
    Some(DeviceInfo {
        name: name.into(),
        platform: DevicePlatform::Android as i32,
    })
}

pub fn bearer<T>(msg: T, token: &str) -> Request<T> {
    let mut req = Request::new(msg);
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    req
}

impl TestApp {
    pub async fn dev_sign_in(&self, nickname: &str) -> SignInResponse {
        self.dev_sign_in_on(nickname, "pixel").await
    }

    pub async fn dev_sign_in_on(&self, nickname: &str, device_name: &str) -> SignInResponse {
        self.client
            .clone()
            .sign_in(SignInRequest {
                credential: Some(Credential::Development(DevelopmentCredential {
                    nickname: nickname.into(),
                })),
                device: device(device_name),
            })
            .await
            .expect("dev sign-in")
            .into_inner()
    }

    /// Signs in and signs up; returns (access token, refresh token, member id).
    pub async fn active_member(&self, nickname: &str) -> (String, String, String) {
        let signed_in = self.dev_sign_in(nickname).await;
        let tokens = signed_in.tokens.expect("tokens");
        let up = self
            .client
            .clone()
            .sign_up(bearer(
                SignUpRequest {
                    nickname: nickname.into(),
                    ..Default::default()
                },
                &tokens.access_token,
            ))
            .await
            .expect("sign-up")
            .into_inner();
        (
            up.access_token,
            tokens.refresh_token,
            up.member.expect("member").member_id,
        )
    }

    pub fn internal_request<T>(&self, msg: T) -> Request<T> {
        let mut req = Request::new(msg);
        req.metadata_mut().insert(
            "x-moing-service-token",
            self.service_token.parse().expect("header"),
        );
        req
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.db.pool)
            .await
            .expect("count query")
    }
}

pub use moing_testkit::assert_status as assert_error;

/// INVALID_ARGUMENT naming `field` among the violations.
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) {
    moing_testkit::assert_invalid(result, &[field]);
}
