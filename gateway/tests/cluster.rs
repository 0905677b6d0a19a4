//! The cluster in process (auth + moim + gateway on port 0) through REST: the
//! production wiring — JWKS over gRPC, moim asking auth for display data, auth
//! asking moim about leadership, and auth's outbox relaying MemberWithdrawn to moim.

use std::{collections::BTreeMap, time::Duration};

use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use moing_gateway::{config::Settings, startup};
use moing_testkit::{Cluster, TestDb, TestRedis};
use serde_json::{Value, json};

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>;

async fn call(
    http: &Http,
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = req
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from(body)))
        .expect("request");
    let resp = http.request(req).await.expect("response");
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn member(http: &Http, base: &str, nickname: &str) -> String {
    let (_, r) = call(http, base, "POST", "/v1/auth/sign-in", None, Some(json!({"development": {"nickname": nickname}, "device": {"name": "t", "platform": "DEVICE_PLATFORM_WEB"}}))).await;
    let pending = r["tokens"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let (s, up) = call(
        http,
        base,
        "POST",
        "/v1/auth/sign-up",
        Some(&pending),
        Some(json!({"nickname": nickname})),
    )
    .await;
    assert_eq!(s, 200, "{up}");
    up["accessToken"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn withdrawal_flows_from_auth_to_moim_through_the_outbox() {
    let auth_db = TestDb::empty().await.expect("db");
    let moim_db = TestDb::empty().await.expect("db");
    let redis = TestRedis::new();
    let mut cluster = Cluster::bind(&["auth", "moim", "gateway"])
        .await
        .expect("bind");
    let token = format!("svc-{}", uuid::Uuid::new_v4().simple());

    let mut auth = moing_auth::config::Settings::default();
    auth.base.database.url = auth_db.url.clone();
    auth.base.auth.service_token = token.clone();
    auth.base.services = BTreeMap::from([("moim".into(), cluster.endpoint("moim"))]);
    auth.base.subscribers = BTreeMap::from([("moim".into(), cluster.endpoint("moim"))]);
    auth.dev_sign_in = true;
    auth.redis.key_prefix = redis.prefix.clone();
    auth.state_dir =
        std::env::temp_dir().join(format!("moing-cluster-{}", uuid::Uuid::new_v4().simple()));
    cluster
        .spawn("auth", |l, stop| moing_auth::startup::run(auth, l, stop))
        .expect("auth");

    let mut moim = moing_moim::config::Settings::default();
    moim.base.database.url = moim_db.url.clone();
    moim.base.auth.service_token = token.clone();
    moim.base.auth.jwks_endpoint = cluster.endpoint("auth");
    moim.base.services = BTreeMap::from([("auth".into(), cluster.endpoint("auth"))]);
    cluster
        .spawn("moim", |l, stop| moing_moim::startup::run(moim, l, stop))
        .expect("moim");

    let gateway = Settings {
        services: BTreeMap::from([
            ("auth".into(), cluster.endpoint("auth")),
            ("moim".into(), cluster.endpoint("moim")),
        ]),
        ..Settings::default()
    };
    cluster
        .spawn("gateway", |l, stop| startup::run(gateway, l, stop))
        .expect("gateway");
    let base = cluster.endpoint("gateway");
    let http: Http = Client::builder(TokioExecutor::new()).build_http();

    let leader = member(&http, &base, "리더").await;
    let joiner = member(&http, &base, "떠날이").await;
    let today = moing_testkit::seoul_today() + chrono::Duration::days(1);
    let d = |days: i64| {
        let x = today + chrono::Duration::days(days);
        json!({"year": chrono::Datelike::year(&x), "month": chrono::Datelike::month(&x), "day": chrono::Datelike::day(&x)})
    };
    let (s, team) = call(&http, &base, "POST", "/v1/teams", Some(&leader), Some(json!({"name": "클러스터", "category": "TEAM_CATEGORY_STUDY", "startDate": d(0), "endDate": d(30)}))).await;
    assert_eq!(s, 200, "{team}");
    let team_id = team["team"]["teamId"].as_str().expect("id").to_owned();
    let (_, invite) = call(
        &http,
        &base,
        "POST",
        &format!("/v1/teams/{team_id}/invites"),
        Some(&leader),
        Some(json!({})),
    )
    .await;
    let code = invite["invite"]["code"].as_str().expect("code").to_owned();
    let (s, _) = call(
        &http,
        &base,
        "POST",
        &format!("/v1/invites/{code}:accept"),
        Some(&joiner),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 200);

    // moim shows auth's display data.
    let (_, members) = call(
        &http,
        &base,
        "GET",
        &format!("/v1/teams/{team_id}/members"),
        Some(&leader),
        None,
    )
    .await;
    let names: Vec<&str> = members["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["nickname"].as_str())
        .collect();
    assert!(
        names.contains(&"리더") && names.contains(&"떠날이"),
        "{members}"
    );

    // The leader may not withdraw: auth asks moim.
    let (s, refused) = call(
        &http,
        &base,
        "POST",
        "/v1/members/me:withdraw",
        Some(&leader),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 409, "{refused}");
    assert_eq!(refused["details"][0]["reason"], json!("LEADS_ACTIVE_TEAM"));

    // The joiner withdraws; MemberWithdrawn reaches moim through auth's outbox.
    let (s, _) = call(
        &http,
        &base,
        "POST",
        "/v1/members/me:withdraw",
        Some(&joiner),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 200);
    let mut remaining = usize::MAX;
    for _ in 0..100 {
        let (_, members) = call(
            &http,
            &base,
            "GET",
            &format!("/v1/teams/{team_id}/members"),
            Some(&leader),
            None,
        )
        .await;
        remaining = members["members"].as_array().map_or(0, Vec::len);
        if remaining == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(remaining, 1, "the withdrawn member's membership ended");
    let processed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM processed_event")
        .fetch_one(&moim_db.pool)
        .await
        .expect("count");
    assert!(
        processed >= 3,
        "sign-ups and the withdrawal were consumed: {processed}"
    );
    let withdrawn: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM membership WHERE state = 'WITHDRAWN'")
            .fetch_one(&moim_db.pool)
            .await
            .expect("count");
    assert_eq!(withdrawn, 1);
    cluster.stop().await.expect("stop");
}
