use moing_common::{layer::AccessPolicy, token::MemberState};
use moing_moim::{config::Settings, startup};
use moing_proto::{
    google::r#type::Date,
    moing::moim::v1::{
        CreateInviteRequest, CreateTeamRequest, JoinTeamRequest, Team,
        team_internal_service_client::TeamInternalServiceClient,
        team_service_client::TeamServiceClient,
    },
};
use moing_testkit::{TestDb, Tokens};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Status, transport::Channel};
use uuid::Uuid;

pub struct TestApp {
    pub channel: Channel,
    pub client: TeamServiceClient<Channel>,
    pub internal: TeamInternalServiceClient<Channel>,
    pub tokens: Tokens,
    pub db: TestDb,
    stop: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub async fn spawn_app() -> TestApp {
    moing_testkit::init_logs();
    let db = TestDb::empty().await.expect("db");
    let tokens = Tokens::new();
    let mut settings = Settings::default();
    settings.base.database.url = db.url.clone();
    settings.base.auth.service_token = tokens.service_token.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let stop = CancellationToken::new();
    let layer = tokens.auth_layer(AccessPolicy::default());
    let run = startup::run_with(settings, listener, stop.clone(), layer);
    tokio::spawn(async move {
        if let Err(e) = run.await {
            eprintln!("moim stopped: {e:#}");
        }
    });
    let channel = Channel::from_shared(endpoint)
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    TestApp {
        client: TeamServiceClient::new(channel.clone()),
        internal: TeamInternalServiceClient::new(channel.clone()),
        channel,
        tokens,
        db,
        stop,
    }
}

/// A signed-up member: id and access token.
pub struct Member {
    pub id: Uuid,
    pub token: String,
}

pub fn date(offset_days: i64) -> Option<Date> {
    moing_testkit::seoul_date(offset_days)
}

pub fn as_member<T>(m: &Member, msg: T) -> Request<T> {
    let mut req = Request::new(msg);
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", m.token).parse().expect("header"),
    );
    req
}

impl TestApp {
    pub fn member(&self) -> Member {
        let id = Uuid::now_v7();
        Member {
            id,
            token: self.tokens.access(id, MemberState::Active),
        }
    }

    pub fn team_request(name: &str) -> CreateTeamRequest {
        CreateTeamRequest {
            name: name.into(),
            category: 1,
            introduction: "매일 30페이지".into(),
            leader_promise: "끝까지".into(),
            image_key: String::new(),
            start_date: date(0),
            end_date: date(30),
            time_zone: String::new(),
            allow_member_invites: false,
        }
    }

    pub async fn team(&self, leader: &Member, name: &str) -> Team {
        self.client
            .clone()
            .create_team(as_member(leader, Self::team_request(name)))
            .await
            .expect("create team")
            .into_inner()
            .team
            .expect("team")
    }

    pub async fn invite(&self, leader: &Member, team: &Team, max_uses: i32) -> String {
        self.client
            .clone()
            .create_invite(as_member(
                leader,
                CreateInviteRequest {
                    team_id: team.team_id.clone(),
                    valid_for_hours: 0,
                    max_uses,
                },
            ))
            .await
            .expect("invite")
            .into_inner()
            .invite
            .expect("invite")
            .code
    }

    pub async fn join(&self, member: &Member, code: &str) -> Result<Team, Status> {
        self.client
            .clone()
            .join_team(as_member(member, JoinTeamRequest { code: code.into() }))
            .await
            .map(|r| r.into_inner().team.expect("team"))
    }

    pub fn internal_request<T>(&self, msg: T) -> Request<T> {
        let mut req = Request::new(msg);
        req.metadata_mut().insert(
            "x-moing-service-token",
            self.tokens.service_token.parse().expect("header"),
        );
        req
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.db.pool)
            .await
            .expect("count")
    }
}

pub use moing_testkit::{assert_invalid, assert_status as assert_error};
