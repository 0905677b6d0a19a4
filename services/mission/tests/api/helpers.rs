use std::collections::BTreeMap;

use chrono::{Datelike, Duration};
use moing_common::{layer::AccessPolicy, token::MemberState};
use moing_proto::moing::{
    mission::v1::{CreateMissionRequest, Mission, mission_service_client::MissionServiceClient},
    moim::v1::team_service_client::TeamServiceClient,
};
use moing_testkit::{Cluster, S3Server, TestDb, Tokens};
use tonic::{Request, Status, transport::Channel};
use uuid::Uuid;

pub struct TestApp {
    pub channel: Channel,
    pub missions: MissionServiceClient<Channel>,
    pub internal: moing_proto::moing::mission::v1::mission_internal_service_client::MissionInternalServiceClient<Channel>,
    pub teams: TeamServiceClient<Channel>,
    pub tokens: Tokens,
    pub db: TestDb,
    pub s3: S3Server,
    #[allow(dead_code)] // the progress bench backdates memberships through it
    pub moim_db: TestDb,
    /// The mission service's settings (the rebuild command runs with them).
    #[allow(dead_code)]
    pub settings: moing_mission::config::Settings,
    _cluster: Cluster,
}

pub struct Member {
    pub id: Uuid,
    pub token: String,
}

pub fn as_member<T>(m: &Member, msg: T) -> Request<T> {
    moing_testkit::bearer(&m.token, msg)
}

/// Days left in this Monday–Sunday week in Seoul, today included (a REPEAT
/// mission created today requires at most that many proofs this week).
pub fn week_days_left() -> i32 {
    7 - moing_testkit::seoul_today()
        .weekday()
        .num_days_from_monday() as i32
}

pub async fn spawn_app() -> TestApp {
    moing_testkit::init_logs();
    let db = TestDb::empty().await.expect("db");
    let moim_db = TestDb::empty().await.expect("db");
    let tokens = Tokens::new();
    let mut cluster = Cluster::bind(&["moim", "mission"]).await.expect("bind");
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
    let mut settings = moing_mission::config::Settings::default();
    settings.base.database.url = db.url.clone();
    settings.s3.endpoint = s3.endpoint();
    settings.s3.access_key = s3.access_key.clone();
    settings.s3.secret_key = s3.secret_key.clone();
    settings.s3.region = s3.region.clone();
    settings.s3.bucket = s3.bucket.clone();
    settings.base.auth.service_token = tokens.service_token.clone();
    settings.base.services = BTreeMap::from([("moim".into(), cluster.endpoint("moim"))]);
    let layer = tokens.auth_layer(AccessPolicy::default());
    let kept_settings = settings.clone();
    cluster
        .spawn("mission", |l, stop| {
            moing_mission::startup::run_with(settings, l, stop, layer)
        })
        .expect("mission");
    let mission_channel = Channel::from_shared(cluster.endpoint("mission"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let missions = MissionServiceClient::new(mission_channel.clone());
    let internal = moing_proto::moing::mission::v1::mission_internal_service_client::MissionInternalServiceClient::new(mission_channel.clone());
    let teams = TeamServiceClient::new(
        Channel::from_shared(cluster.endpoint("moim"))
            .expect("uri")
            .connect()
            .await
            .expect("connect"),
    );
    TestApp {
        channel: mission_channel.clone(),
        missions,
        internal,
        teams,
        tokens,
        db,
        s3,
        moim_db,
        settings: kept_settings,
        _cluster: cluster,
    }
}

impl TestApp {
    pub fn internal_request<T>(&self, msg: T) -> Request<T> {
        let mut req = Request::new(msg);
        req.metadata_mut().insert(
            "x-moing-service-token",
            self.tokens.service_token.parse().expect("header"),
        );
        req
    }

    pub fn member(&self) -> Member {
        let id = Uuid::now_v7();
        Member {
            id,
            token: self.tokens.access(id, MemberState::Active),
        }
    }

    /// A team led by `leader` with `others` joined; returns the team id.
    pub async fn team(&self, leader: &Member, others: &[&Member]) -> String {
        let (team, code) = moing_testkit::create_team(&self.teams, &leader.token, "미션팀").await;
        for m in others {
            moing_testkit::join_team(&self.teams, &m.token, &code).await;
        }
        team
    }

    pub fn once(team: &str, way: i32) -> CreateMissionRequest {
        CreateMissionRequest {
            team_id: team.into(),
            title: "30페이지 읽기".into(),
            kind: 1,
            way,
            deadline: Some(prost_types::Timestamp {
                seconds: (moing_common::clock::now() + Duration::days(3)).timestamp(),
                nanos: 0,
            }),
            ..Default::default()
        }
    }

    pub async fn mission(
        &self,
        who: &Member,
        req: CreateMissionRequest,
    ) -> Result<Mission, Status> {
        self.missions
            .clone()
            .create_mission(as_member(who, req))
            .await
            .map(|r| r.into_inner().mission.expect("mission"))
    }
}

pub use moing_testkit::{assert_invalid, assert_status as assert_error};
