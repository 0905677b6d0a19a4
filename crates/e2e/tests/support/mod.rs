//! The cluster in process: auth, moim, mission, notification, board and the
//! gateway, each with its own test database, one Redis namespace, one service
//! credential.

#![allow(dead_code)]

use std::collections::BTreeMap;

use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use moing_testkit::{Cluster, OidcProvider, TestDb, TestRedis};
use serde_json::{Value, json};

pub type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>;

pub struct Stack {
    pub cluster: Cluster,
    pub base: String,
    pub http: Http,
    /// Google sign-in stand-in: `google.id_token(sub, email)`.
    pub google: OidcProvider,
    /// The credential every service accepts from the others.
    pub service_token: String,
    _dbs: Vec<TestDb>,
    _redis: TestRedis,
}

impl Stack {
    pub async fn start() -> Stack {
        // envoy-control's listener is reserved for the tests that start it.
        let names = [
            "auth",
            "moim",
            "mission",
            "notification",
            "board",
            "gateway",
            "envoy-control",
        ];
        let mut dbs = Vec::new();
        for _ in 0..5 {
            dbs.push(TestDb::empty().await.expect("db"));
        }
        let redis = TestRedis::new();
        let google = OidcProvider::start("https://accounts.google.com", "google-client")
            .await
            .expect("google");
        let mut cluster = Cluster::bind(&names).await.expect("bind");
        let token = format!("svc-{}", uuid::Uuid::new_v4().simple());
        let peers: BTreeMap<String, String> = names[..5]
            .iter()
            .map(|n| (n.to_string(), cluster.endpoint(n)))
            .collect();
        let base = |mut b: moing_common::service::BaseSettings, db: &TestDb| {
            b.database.url = db.url.clone();
            b.auth.service_token = token.clone();
            b.auth.jwks_endpoint = cluster.endpoint("auth");
            b.services = peers.clone();
            b.admin.listen = None;
            // Immediate revocation: sessions live in auth's Redis namespace.
            b.auth.sessions_redis_url = redis.url.clone();
            b.auth.sessions_key_prefix = redis.prefix.clone();
            b
        };

        let mut auth = moing_auth::config::Settings::default();
        auth.base = base(auth.base, &dbs[0]);
        auth.dev_sign_in = true;
        auth.google.jwks_url = google.jwks_url();
        auth.google.issuers = vec![google.issuer.clone()];
        auth.google.client_ids = vec![google.client_id.clone()];
        auth.google.revoke_url = google.revoke_url();
        auth.redis.key_prefix = redis.prefix.clone();
        auth.state_dir =
            std::env::temp_dir().join(format!("moing-e2e-{}", uuid::Uuid::new_v4().simple()));
        let mut moim = moing_moim::config::Settings::default();
        moim.base = base(moim.base, &dbs[1]);
        let mut mission = moing_mission::config::Settings::default();
        mission.base = base(mission.base, &dbs[2]);
        mission.base.subscribers =
            BTreeMap::from([("notification".into(), cluster.endpoint("notification"))]);
        let mut notification = moing_notification::config::Settings::default();
        notification.base = base(notification.base, &dbs[3]);
        let mut board = moing_board::config::Settings::default();
        board.base = base(board.base, &dbs[4]);
        board.redis.url = redis.url.clone();
        board.redis.channel = format!("{}board:changed", redis.prefix);

        cluster
            .spawn("auth", |l, stop| moing_auth::startup::run(auth, l, stop))
            .expect("auth");
        cluster
            .spawn("moim", |l, stop| moing_moim::startup::run(moim, l, stop))
            .expect("moim");
        cluster
            .spawn("mission", |l, stop| {
                moing_mission::startup::run(mission, l, stop)
            })
            .expect("mission");
        cluster
            .spawn("notification", |l, stop| {
                moing_notification::startup::run(notification, l, stop)
            })
            .expect("notification");
        cluster
            .spawn("board", |l, stop| moing_board::startup::run(board, l, stop))
            .expect("board");
        let gateway = moing_gateway::config::Settings {
            services: peers.clone(),
            admin: Default::default(),
            ..Default::default()
        };
        cluster
            .spawn("gateway", |l, stop| {
                moing_gateway::startup::run(gateway, l, stop)
            })
            .expect("gateway");
        Stack {
            base: cluster.endpoint("gateway"),
            cluster,
            http: Client::builder(TokioExecutor::new()).build_http(),
            google,
            service_token: token.clone(),
            _dbs: dbs,
            _redis: redis,
        }
    }

    /// One REST call through the gateway: (HTTP status, JSON body).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = req
            .body(Full::new(bytes::Bytes::from(body)))
            .expect("request");
        let resp = self.http.request(req).await.expect("response");
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Signs in (development provider) and signs up: the active member's access token.
    pub async fn member(&self, nickname: &str) -> String {
        let (s, r) = self
            .call(
                "POST",
                "/v1/auth/sign-in",
                None,
                &[],
                Some(json!({"development": {"nickname": nickname},
                    "device": {"name": "t", "platform": "DEVICE_PLATFORM_WEB"}})),
            )
            .await;
        assert_eq!(s, 200, "{r}");
        let pending = r["tokens"]["accessToken"]
            .as_str()
            .expect("token")
            .to_owned();
        let (s, up) = self
            .call(
                "POST",
                "/v1/auth/sign-up",
                Some(&pending),
                &[],
                Some(json!({"nickname": nickname})),
            )
            .await;
        assert_eq!(s, 200, "{up}");
        up["accessToken"].as_str().expect("token").to_owned()
    }

    /// A team led by `leader` that `joiner` joined by invite: its id.
    pub async fn team_with(&self, leader: &str, joiner: &str) -> String {
        // The team's zone (Asia/Seoul) decides "today", not UTC.
        let today = moing_testkit::seoul_today();
        let d = |days: i64| {
            let x = today + chrono::Duration::days(days);
            json!({"year": chrono::Datelike::year(&x), "month": chrono::Datelike::month(&x),
                "day": chrono::Datelike::day(&x)})
        };
        let (s, team) = self
            .call(
                "POST",
                "/v1/teams",
                Some(leader),
                &[],
                Some(json!({"name": "추적", "category": "TEAM_CATEGORY_STUDY",
                    "startDate": d(0), "endDate": d(30)})),
            )
            .await;
        assert_eq!(s, 200, "{team}");
        let team_id = team["team"]["teamId"].as_str().expect("id").to_owned();
        let (s, invite) = self
            .call(
                "POST",
                &format!("/v1/teams/{team_id}/invites"),
                Some(leader),
                &[],
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 200, "{invite}");
        let code = invite["invite"]["code"].as_str().expect("code").to_owned();
        let (s, joined) = self
            .call(
                "POST",
                &format!("/v1/invites/{code}:accept"),
                Some(joiner),
                &[],
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 200, "{joined}");
        team_id
    }

    /// A daily TEXT mission in `team_id`: its id.
    pub async fn mission(&self, leader: &str, team_id: &str) -> String {
        let (s, m) = self
            .call(
                "POST",
                &format!("/v1/teams/{team_id}/missions"),
                Some(leader),
                &[],
                Some(json!({"title": "매일 읽기", "kind": "MISSION_KIND_REPEAT",
                    "way": "PROOF_WAY_TEXT", "timesPerWeek": 7})),
            )
            .await;
        assert_eq!(s, 200, "{m}");
        m["mission"]["id"].as_str().expect("id").to_owned()
    }
}
