use std::collections::BTreeMap;

use moing_common::{layer::AccessPolicy, token::MemberState};
use moing_proto::moing::{
    board::v1::board_service_client::BoardServiceClient,
    mission::v1::mission_service_client::MissionServiceClient,
    moim::v1::team_service_client::TeamServiceClient,
};
use moing_testkit::{Cluster, S3Server, TestDb, Tokens};
use tonic::{Request, transport::Channel};
use uuid::Uuid;

pub use moing_testkit::{assert_invalid, assert_status};

pub struct TestApp {
    pub channel: Channel,
    pub board: BoardServiceClient<Channel>,
    pub missions: MissionServiceClient<Channel>,
    pub teams: TeamServiceClient<Channel>,
    pub tokens: Tokens,
    /// The board's settings as spawned (a test may start another board on the
    /// same database with other ballot keys).
    #[allow(dead_code)]
    pub board_settings: moing_board::config::Settings,
    pub db: TestDb,
    #[allow(dead_code)] // the goal board bench seeds history through these
    pub mission_db: TestDb,
    #[allow(dead_code)]
    pub moim_db: TestDb,
    _s3: S3Server,
    _cluster: Cluster,
}

pub struct Member {
    pub id: Uuid,
    pub token: String,
}

pub fn as_member<T>(m: &Member, msg: T) -> Request<T> {
    moing_testkit::bearer(&m.token, msg)
}

async fn channel(endpoint: String) -> Channel {
    Channel::from_shared(endpoint)
        .expect("uri")
        .connect()
        .await
        .expect("connect")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(None).await
}

/// `mission`: another endpoint for the mission service (e.g. one that never answers).
pub async fn spawn_app_with(mission_endpoint: Option<String>) -> TestApp {
    moing_testkit::init_logs();
    let db = TestDb::empty().await.expect("db");
    let mission_db = TestDb::empty().await.expect("db");
    let moim_db = TestDb::empty().await.expect("db");
    let tokens = Tokens::new();
    let mut cluster = Cluster::bind(&["moim", "mission", "board"])
        .await
        .expect("bind");
    let mut moim = moing_moim::config::Settings::default();
    moim.base.database.url = moim_db.url.clone();
    moim.base.auth.service_token = tokens.service_token.clone();
    let layer = tokens.auth_layer(AccessPolicy::default());
    cluster
        .spawn("moim", |l, stop| {
            moing_moim::startup::run_with(moim, l, stop, layer)
        })
        .expect("moim");
    let s3 = S3Server::start("moing-media").await.expect("s3");
    let mut mission = moing_mission::config::Settings::default();
    mission.base.database.url = mission_db.url.clone();
    mission.s3.endpoint = s3.endpoint();
    mission.s3.access_key = s3.access_key.clone();
    mission.s3.secret_key = s3.secret_key.clone();
    mission.s3.region = s3.region.clone();
    mission.s3.bucket = s3.bucket.clone();
    mission.base.auth.service_token = tokens.service_token.clone();
    mission.base.services = BTreeMap::from([("moim".into(), cluster.endpoint("moim"))]);
    let layer = tokens.auth_layer(AccessPolicy::default());
    cluster
        .spawn("mission", |l, stop| {
            moing_mission::startup::run_with(mission, l, stop, layer)
        })
        .expect("mission");
    let mut board = moing_board::config::Settings::default();
    board.base.database.url = db.url.clone();
    board.base.auth.service_token = tokens.service_token.clone();
    board.board.goal_board_deadline_ms = 1_000;
    // A secret of this test only: nothing about ballots may follow from the
    // development default.
    board.board.ballot_secret = format!("test-ballot-secret-{}", Uuid::new_v4().simple());
    board.base.services = BTreeMap::from([
        ("moim".into(), cluster.endpoint("moim")),
        (
            "mission".into(),
            mission_endpoint.unwrap_or_else(|| cluster.endpoint("mission")),
        ),
        // No auth here: display names stay empty, everything else works.
        ("auth".into(), "http://127.0.0.1:9".into()),
    ]);
    let board_settings = board.clone();
    let layer = tokens.auth_layer(AccessPolicy::default());
    cluster
        .spawn("board", |l, stop| {
            moing_board::startup::run_with(board, l, stop, layer)
        })
        .expect("board");
    let board_channel = channel(cluster.endpoint("board")).await;
    TestApp {
        board: BoardServiceClient::new(board_channel.clone()),
        channel: board_channel,
        missions: MissionServiceClient::new(channel(cluster.endpoint("mission")).await),
        teams: TeamServiceClient::new(channel(cluster.endpoint("moim")).await),
        tokens,
        board_settings,
        db,
        mission_db,
        moim_db,
        _s3: s3,
        _cluster: cluster,
    }
}

impl TestApp {
    pub fn member(&self) -> Member {
        let id = Uuid::now_v7();
        Member {
            id,
            token: self.tokens.access(id, MemberState::Active),
        }
    }

    /// A team led by `leader`; returns (team id, invite code).
    pub async fn team(&self, leader: &Member) -> (String, String) {
        moing_testkit::create_team(&self.teams, &leader.token, "보드팀").await
    }

    pub async fn join(&self, code: &str, m: &Member) {
        moing_testkit::join_team(&self.teams, &m.token, code).await;
    }
}
