use std::collections::BTreeMap;

use moing_common::{layer::AccessPolicy, token::MemberState};
use moing_proto::moing::{
    board::v1::board_service_client::BoardServiceClient,
    mission::v1::mission_service_client::MissionServiceClient,
    moim::v1::team_service_client::TeamServiceClient,
};
use moing_testkit::{Cluster, S3Server, TestDb, TestRedis, Tokens};
use tonic::{Request, transport::Channel};
use uuid::Uuid;

pub use moing_testkit::{assert_invalid, assert_status};

pub struct TestApp {
    pub channel: Channel,
    /// Where the (first) board replica listens.
    #[allow(dead_code)]
    pub board_endpoint: String,
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
    /// A second board replica on the same database and Redis channel (only
    /// with [`Options::second_replica`]).
    #[allow(dead_code)]
    pub board2: Option<BoardServiceClient<Channel>>,
    _s3: S3Server,
    _redis: TestRedis,
    _cluster: Cluster,
}

/// How [`spawn_with`] builds the app.
#[derive(Debug, Default)]
pub struct Options {
    /// Another endpoint for the mission service (e.g. one that never answers).
    pub mission_endpoint: Option<String>,
    /// Also run a second board replica.
    pub second_replica: bool,
    /// Shorter WatchGoalBoard heartbeats (seconds).
    pub heartbeat_secs: Option<u64>,
    /// `board.team_cache_secs` (0: every board built afresh).
    pub team_cache_secs: Option<u64>,
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
#[allow(dead_code)]
pub async fn spawn_app_with(mission_endpoint: Option<String>) -> TestApp {
    spawn_with(Options {
        mission_endpoint,
        ..Options::default()
    })
    .await
}

/// moim, mission and board in process; moim, mission and board relay their
/// events to board (as the chart wires them), and board replicas share a
/// private Redis channel.
pub async fn spawn_with(opts: Options) -> TestApp {
    let mission_endpoint = opts.mission_endpoint;
    moing_testkit::init_logs();
    let db = TestDb::empty().await.expect("db");
    let mission_db = TestDb::empty().await.expect("db");
    let moim_db = TestDb::empty().await.expect("db");
    let tokens = Tokens::new();
    let mut cluster = Cluster::bind(&["moim", "mission", "board", "board2"])
        .await
        .expect("bind");
    let board_endpoint = cluster.endpoint("board");
    let to_board = || BTreeMap::from([("board".to_owned(), board_endpoint.clone())]);
    let mut moim = moing_moim::config::Settings::default();
    moim.base.database.url = moim_db.url.clone();
    moim.base.auth.service_token = tokens.service_token.clone();
    moim.base.subscribers = to_board();
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
    mission.base.subscribers = to_board();
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
    board.base.subscribers = to_board();
    let redis = TestRedis::new();
    board.redis.url = redis.url.clone();
    board.redis.channel = format!("{}board:changed", redis.prefix);
    if let Some(secs) = opts.team_cache_secs {
        board.board.team_cache_secs = secs;
    }
    if let Some(secs) = opts.heartbeat_secs {
        board.board.watch_heartbeat_secs = secs;
    }
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
    if opts.second_replica {
        let mut second = board.clone();
        // The events go to the first replica: the second learns of changes
        // through Redis only.
        second.base.subscribers = BTreeMap::new();
        let layer = tokens.auth_layer(AccessPolicy::default());
        cluster
            .spawn("board2", |l, stop| {
                moing_board::startup::run_with(second, l, stop, layer)
            })
            .expect("board2");
    }
    cluster
        .spawn("board", |l, stop| {
            moing_board::startup::run_with(board, l, stop, layer)
        })
        .expect("board");
    let board_channel = channel(cluster.endpoint("board")).await;
    let board2 = if opts.second_replica {
        Some(BoardServiceClient::new(
            channel(cluster.endpoint("board2")).await,
        ))
    } else {
        None
    };
    TestApp {
        board_endpoint: cluster.endpoint("board"),
        board: BoardServiceClient::new(board_channel.clone()),
        channel: board_channel,
        missions: MissionServiceClient::new(channel(cluster.endpoint("mission")).await),
        teams: TeamServiceClient::new(channel(cluster.endpoint("moim")).await),
        tokens,
        board_settings,
        db,
        mission_db,
        moim_db,
        board2,
        _s3: s3,
        _redis: redis,
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
