//! The admin port of a service (moim) and of the gateway: `/metrics` scraped
//! after real calls, `/healthz` and `/readyz` while the database goes away and
//! comes back. One test in this binary: metrics are process-wide.

use std::{collections::BTreeMap, net::SocketAddr};

use moing_common::{layer::AccessPolicy, token::MemberState};
use moing_proto::moing::moim::v1::{CreateTeamRequest, team_service_client::TeamServiceClient};
use moing_testkit::{Outage, TestDb, Tokens};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// A free local port for a server configured by address (the admin port is a
/// setting, not a listener handed in).
fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}

/// `GET path` over HTTP/1.0: (status, body).
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect admin");
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nhost: admin\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.expect("read");
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_owned())
}

/// The value of the sample line `series` (name and labels exactly as rendered).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// A date `offset_days` from today in Seoul (the default team time zone).
fn date(offset_days: i64) -> Option<moing_proto::google::r#type::Date> {
    moing_testkit::seoul_date(offset_days)
}

fn db_via(url: &str, addr: SocketAddr) -> (SocketAddr, String) {
    let at = url.rfind('@').expect("credentials in url") + 1;
    let slash = url[at..].find('/').map_or(url.len(), |i| at + i);
    let target = url[at..slash]
        .replace("localhost", "127.0.0.1")
        .parse()
        .expect("host:port");
    (target, format!("{}{}{}", &url[..at], addr, &url[slash..]))
}

#[tokio::test]
async fn admin_ports_serve_metrics_liveness_and_readiness() {
    let db = TestDb::empty().await.expect("db");
    let (target, _) = db_via(&db.url, "127.0.0.1:1".parse().expect("addr"));
    let outage = Outage::start(target).await.expect("forwarder");
    let tokens = Tokens::new();
    let stop = CancellationToken::new();

    let moim_admin = free_addr();
    let mut moim = moing_moim::config::Settings::default();
    moim.base.database.url = db_via(&db.url, outage.addr).1;
    moim.base.database.acquire_timeout_ms = 500;
    moim.base.admin.listen = Some(moim_admin);
    moim.base.auth.service_token = tokens.service_token.clone();
    // A subscriber that never answers: its backlog grows with each event.
    moim.base.subscribers = BTreeMap::from([("probe".into(), "http://127.0.0.1:9".into())]);
    let moim_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let moim_endpoint = format!("http://{}", moim_listener.local_addr().expect("addr"));
    tokio::spawn(moing_moim::startup::run_with(
        moim,
        moim_listener,
        stop.clone(),
        tokens.auth_layer(AccessPolicy::default()),
    ));

    let gateway_admin = free_addr();
    let mut gw = moing_gateway::config::Settings::default();
    gw.admin.listen = Some(gateway_admin);
    gw.services = BTreeMap::from([("moim".into(), moim_endpoint.clone())]);
    let gw_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let gw_addr = gw_listener.local_addr().expect("addr");
    tokio::spawn(moing_gateway::startup::run(gw, gw_listener, stop.clone()));

    // A successful call (an event for "probe"), a refused one, then one at the edge.
    let channel = Channel::from_shared(moim_endpoint)
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut teams = TeamServiceClient::new(channel);
    let leader = uuid::Uuid::now_v7();
    let mut req = tonic::Request::new(CreateTeamRequest {
        name: "메트릭".into(),
        category: 1,
        introduction: "scrape".into(),
        leader_promise: "끝까지".into(),
        start_date: date(0),
        end_date: date(30),
        ..Default::default()
    });
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", tokens.access(leader, MemberState::Active))
            .parse()
            .expect("header"),
    );
    let created = teams.create_team(req).await;
    assert!(created.is_ok(), "{created:?}");
    let refused = teams
        .create_team(tonic::Request::new(CreateTeamRequest::default()))
        .await;
    assert_eq!(
        refused.expect_err("no token").code(),
        tonic::Code::Unauthenticated
    );
    let (status, _) = get(gw_addr, "/v1/members/me/teams").await;
    assert_eq!(status, 401);

    let (status, text) = get(moim_admin, "/metrics").await;
    assert_eq!(status, 200);
    let rpc = r#"rpc_method="CreateTeam",rpc_service="moing.moim.v1.TeamService""#;
    assert_eq!(
        sample(
            &text,
            &format!("moing_rpc_server_requests_total{{code=\"OK\",{rpc}}}")
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("moing_rpc_server_errors_total{{code=\"UNAUTHENTICATED\",{rpc}}}")
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!("moing_rpc_server_duration_seconds_count{{{rpc}}}")
        ),
        Some(2.0)
    );
    assert!(
        sample(
            &text,
            r#"moing_db_pool_connections{service="moim",state="idle"}"#
        )
        .is_some(),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"moing_db_pool_max_connections{service="moim"}"#),
        Some(10.0)
    );
    let backlog = sample(
        &text,
        r#"moing_outbox_backlog{service="moim",subscriber="probe"}"#,
    );
    assert!(backlog.is_some_and(|n| n >= 1.0), "{text}");
    let age = sample(
        &text,
        r#"moing_outbox_oldest_age_seconds{service="moim",subscriber="probe"}"#,
    );
    assert!(age.is_some_and(|a| a > 0.0), "{text}");

    let (status, text) = get(gateway_admin, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        sample(
            &text,
            r#"moing_http_server_requests_total{protocol="http",status="401"}"#
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert_eq!(get(gateway_admin, "/healthz").await.0, 200);
    assert_eq!(get(gateway_admin, "/readyz").await.0, 200);

    // Readiness follows the database; liveness does not.
    assert_eq!(get(moim_admin, "/readyz").await.0, 200);
    outage.set_up(false);
    assert_eq!(get(moim_admin, "/readyz").await.0, 503);
    assert_eq!(get(moim_admin, "/healthz").await.0, 200);
    outage.set_up(true);
    assert_eq!(get(moim_admin, "/readyz").await.0, 200, "ready again");
    stop.cancel();
}
