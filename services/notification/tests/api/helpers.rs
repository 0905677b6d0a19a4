use std::{collections::BTreeMap, time::Duration};

use moing_common::{
    convert::timestamp,
    layer::AccessPolicy,
    token::{MemberState, access_claims},
};
use moing_notification::{config::Settings, startup::Parts};
use moing_proto::moing::{
    board::v1::board_service_client::BoardServiceClient,
    events::v1::{
        DeliverRequest, DeliverResponse, Event, event::Payload, event_sink_client::EventSinkClient,
    },
    mission::v1::mission_service_client::MissionServiceClient,
    moim::v1::team_service_client::TeamServiceClient,
    notification::v1::{
        ListNotificationsRequest, Notification, RegisterDeviceRequest,
        notification_internal_service_client::NotificationInternalServiceClient,
        notification_service_client::NotificationServiceClient,
    },
};
use moing_testkit::{Cluster, FcmServer, ReceivedMessage, TestDb, Tokens};
use tonic::{Request, transport::Channel};
use uuid::Uuid;

pub use moing_testkit::{assert_invalid, assert_status};

pub struct TestApp {
    pub channel: Channel,
    pub notifications: NotificationServiceClient<Channel>,
    pub internal: NotificationInternalServiceClient<Channel>,
    pub sink: EventSinkClient<Channel>,
    pub teams: TeamServiceClient<Channel>,
    pub missions: Option<MissionServiceClient<Channel>>,
    pub votes: Option<BoardServiceClient<Channel>>,
    pub tokens: Tokens,
    pub db: TestDb,
    pub fcm: FcmServer,
    /// The notification settings the server runs with (for extra schedulers).
    pub settings: Settings,
    _cluster: Cluster,
    _dbs: Vec<TestDb>,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub id: Uuid,
    pub session: Uuid,
    pub token: String,
}

pub fn as_member<T>(m: &Member, msg: T) -> Request<T> {
    moing_testkit::bearer(&m.token, msg)
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    /// Also run mission (reminders).
    pub mission: bool,
    /// Also run board (vote reminders; needs mission).
    pub board: bool,
    /// moim relays its events to notification (end-to-end wiring).
    pub moim_events: bool,
    /// mission relays its events to notification (needs mission).
    pub mission_events: bool,
    /// Leave FCM unconfigured.
    pub no_fcm: bool,
    /// Reuse team rosters for a minute (tests otherwise ask moim every event,
    /// since most change memberships without relaying moim's events).
    pub roster_cache: bool,
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(opts: Options) -> TestApp {
    moing_testkit::init_logs();
    let db = TestDb::empty().await.expect("db");
    let moim_db = TestDb::empty().await.expect("db");
    let tokens = Tokens::new();
    let fcm = FcmServer::start().await.expect("fcm");
    let mut cluster = Cluster::bind(&["moim", "mission", "board", "notification"])
        .await
        .expect("bind");
    let mut moim = moing_moim::config::Settings::default();
    moim.base.database.url = moim_db.url.clone();
    moim.base.auth.service_token = tokens.service_token.clone();
    if opts.moim_events {
        moim.base.subscribers =
            BTreeMap::from([("notification".into(), cluster.endpoint("notification"))]);
    }
    let layer = tokens.auth_layer(AccessPolicy::default());
    cluster
        .spawn("moim", |l, stop| {
            moing_moim::startup::run_with(moim, l, stop, layer)
        })
        .expect("moim");
    let mut dbs = vec![moim_db];
    let mut services = BTreeMap::from([("moim".to_owned(), cluster.endpoint("moim"))]);
    if opts.mission {
        let mission_db = TestDb::empty().await.expect("db");
        let mut mission = moing_mission::config::Settings::default();
        mission.base.database.url = mission_db.url.clone();
        mission.base.auth.service_token = tokens.service_token.clone();
        mission.base.services = BTreeMap::from([("moim".into(), cluster.endpoint("moim"))]);
        if opts.mission_events {
            mission.base.subscribers =
                BTreeMap::from([("notification".into(), cluster.endpoint("notification"))]);
        }
        let layer = tokens.auth_layer(AccessPolicy::default());
        cluster
            .spawn("mission", |l, stop| {
                moing_mission::startup::run_with(mission, l, stop, layer)
            })
            .expect("mission");
        services.insert("mission".into(), cluster.endpoint("mission"));
        dbs.push(mission_db);
    }
    if opts.board {
        let board_db = TestDb::empty().await.expect("db");
        let mut board = moing_board::config::Settings::default();
        board.base.database.url = board_db.url.clone();
        board.base.auth.service_token = tokens.service_token.clone();
        board.base.services = services.clone();
        // auth is not running: only the goal board would call it.
        board
            .base
            .services
            .insert("auth".into(), cluster.endpoint("board"));
        let layer = tokens.auth_layer(AccessPolicy::default());
        cluster
            .spawn("board", |l, stop| {
                moing_board::startup::run_with(board, l, stop, layer)
            })
            .expect("board");
        services.insert("board".into(), cluster.endpoint("board"));
        dbs.push(board_db);
    } else {
        // Without board, anything that answers UNIMPLEMENTED stands in for it.
        services.insert("board".into(), cluster.endpoint("moim"));
    }
    let mut settings = Settings::default();
    settings.base.database.url = db.url.clone();
    settings.base.auth.service_token = tokens.service_token.clone();
    settings.base.services = services;
    if !opts.no_fcm {
        settings.fcm.base_url = fcm.base_url();
        settings.fcm.credentials_json = fcm.service_account_json();
    }
    settings.fcm.concurrency = 8;
    settings.fanout.roster_cache_secs = if opts.roster_cache { 60 } else { 0 };
    settings.fcm.initial_backoff_ms = 50;
    settings.fcm.max_backoff_ms = 3000;
    settings.fcm.max_attempts = 3;
    // Tests drive reminders, held pushes and retention themselves.
    settings.jobs.reminders_enabled = false;
    settings.jobs.push_interval_secs = 3600;
    settings.jobs.retention_interval_secs = 3600;
    let layer = tokens.auth_layer(AccessPolicy::default());
    let server_settings = settings.clone();
    cluster
        .spawn("notification", |l, stop| {
            moing_notification::startup::run_with(server_settings, l, stop, layer)
        })
        .expect("notification");
    let channel = |name: &str| {
        Channel::from_shared(cluster.endpoint(name))
            .expect("uri")
            .connect_lazy()
    };
    let notification = channel("notification");
    TestApp {
        notifications: NotificationServiceClient::new(notification.clone()),
        internal: NotificationInternalServiceClient::new(notification.clone()),
        sink: EventSinkClient::new(notification.clone()),
        channel: notification,
        teams: TeamServiceClient::new(channel("moim")),
        missions: opts
            .mission
            .then(|| MissionServiceClient::new(channel("mission"))),
        votes: opts
            .board
            .then(|| BoardServiceClient::new(channel("board"))),
        tokens,
        db,
        fcm,
        settings,
        _cluster: cluster,
        _dbs: dbs,
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
        self.member_in(MemberState::Active)
    }

    pub fn member_in(&self, state: MemberState) -> Member {
        let id = Uuid::now_v7();
        self.session_of(id, state)
    }

    /// Another signed-in device (session) of the same member.
    pub fn session_of(&self, id: Uuid, state: MemberState) -> Member {
        let session = Uuid::now_v7();
        let claims = access_claims(
            "moing-auth",
            "moing",
            id,
            session,
            state,
            Duration::from_secs(900),
        );
        Member {
            id,
            session,
            token: self.tokens.key.sign(&claims).expect("sign"),
        }
    }

    /// Registers an Android push token `push-<session>` for the member's session,
    /// and switches the member's quiet hours off: whether a push is held must not
    /// depend on the hour the suite runs at. Tests about quiet hours set them
    /// explicitly afterwards (enabled, with their own window).
    pub async fn device(&self, m: &Member) -> String {
        let token = format!("push-{}", m.session.simple());
        self.notifications
            .clone()
            .register_device(as_member(
                m,
                RegisterDeviceRequest {
                    push_token: token.clone(),
                    platform: 1,
                },
            ))
            .await
            .expect("register");
        self.notifications
            .clone()
            .update_notification_settings(as_member(
                m,
                moing_proto::moing::notification::v1::UpdateNotificationSettingsRequest {
                    settings: Some(moing_proto::moing::notification::v1::NotificationSettings {
                        quiet_hours_enabled: false,
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["quiet_hours_enabled".into()],
                    }),
                },
            ))
            .await
            .expect("quiet hours off");
        token
    }

    /// A team led by `leader` with `others` joined; returns the team id.
    pub async fn team(&self, leader: &Member, others: &[&Member]) -> Uuid {
        let (team, code) = moing_testkit::create_team(&self.teams, &leader.token, "새벽독서").await;
        for m in others {
            moing_testkit::join_team(&self.teams, &m.token, &code).await;
        }
        Uuid::parse_str(&team).expect("team id")
    }

    /// Delivers like a relay, then waits (bounded) for the pushes the
    /// delivery queued: the sink answers at once and wakes the push loop.
    pub async fn deliver(&self, events: Vec<Event>) -> DeliverResponse {
        let out = self
            .sink
            .clone()
            .deliver(self.internal_request(DeliverRequest { events }))
            .await
            .expect("deliver")
            .into_inner();
        self.settle_pushes().await;
        out
    }

    /// Waits (at most 10 s) until no push is being sent or due now.
    pub async fn settle_pushes(&self) {
        for _ in 0..200 {
            let busy: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM push WHERE state = 'SENDING' OR (state = 'PENDING' AND due_at <= ?)",
            )
            .bind(moing_common::clock::now().naive_utc())
            .fetch_one(&self.db.pool)
            .await
            .expect("busy pushes");
            if busy == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn inbox(&self, m: &Member) -> Vec<Notification> {
        self.notifications
            .clone()
            .list_notifications(as_member(
                m,
                ListNotificationsRequest {
                    page_size: 100,
                    page_token: String::new(),
                },
            ))
            .await
            .expect("list")
            .into_inner()
            .notifications
    }

    /// Clients and dispatcher of another replica on the same database.
    pub fn replica(&self) -> Parts {
        let pool = sqlx::mysql::MySqlPoolOptions::new()
            .max_connections(10)
            .connect_lazy(&self.settings.base.database.url)
            .expect("pool");
        Parts::new(&self.settings, pool).expect("parts")
    }

    /// The first `n` pushes to `token`, waiting (bounded) for an outbox
    /// relay that delivers asynchronously.
    pub async fn pushes_to(&self, token: &str, n: usize) -> Vec<ReceivedMessage> {
        for _ in 0..100 {
            let pushed = self.fcm.messages_to(token);
            if pushed.len() >= n {
                return pushed;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.fcm.messages_to(token)
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.db.pool)
            .await
            .expect("count")
    }
}

/// An event envelope as a producer's outbox writes it.
pub fn event(producer: &str, team: Option<Uuid>, actor: Option<Uuid>, payload: Payload) -> Event {
    Event {
        id: Uuid::now_v7().to_string(),
        producer: producer.into(),
        occurred_at: Some(timestamp(moing_common::clock::now())),
        team_id: team.map(|t| t.to_string()).unwrap_or_default(),
        actor_member_id: actor.map(|a| a.to_string()).unwrap_or_default(),
        trace_context: Default::default(),
        payload: Some(payload),
    }
}
