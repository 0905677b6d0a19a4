use std::time::Duration;

use moing_common::layer::AccessPolicy;
use moing_moim::{config::Settings, startup};
use moing_testkit::{Outage, TestDb, Tokens};
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

async fn status(client: &mut HealthClient<Channel>) -> i32 {
    client
        .check(HealthCheckRequest {
            service: "moing.moim.v1.TeamService".into(),
        })
        .await
        .map(|r| r.into_inner().status)
        .unwrap_or(-1)
}

/// Polls until the status is `want` (the watcher checks every 2 s).
async fn wait_for(client: &mut HealthClient<Channel>, want: ServingStatus) -> bool {
    for _ in 0..100 {
        if status(client).await == want as i32 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn health_follows_the_database_without_a_restart() {
    let db = TestDb::empty().await.expect("db");
    // The service reaches MariaDB through a forwarder we can cut.
    let admin: url_parts::Parts = url_parts::parse(&db.url);
    let outage = Outage::start(admin.addr).await.expect("forwarder");
    let tokens = Tokens::new();
    let mut settings = Settings::default();
    settings.base.database.url = admin.with_addr(outage.addr);
    settings.base.database.acquire_timeout_ms = 500;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(startup::run_with(
        settings,
        listener,
        stop.clone(),
        tokens.auth_layer(AccessPolicy::default()),
    ));
    let mut client = HealthClient::new(
        Channel::from_shared(endpoint)
            .expect("uri")
            .connect()
            .await
            .expect("connect"),
    );
    assert!(wait_for(&mut client, ServingStatus::Serving).await);
    outage.set_up(false);
    assert!(
        wait_for(&mut client, ServingStatus::NotServing).await,
        "NOT_SERVING while the database is unreachable"
    );
    let liveness = client
        .check(HealthCheckRequest {
            service: "liveness".into(),
        })
        .await
        .expect("liveness")
        .into_inner()
        .status;
    assert_eq!(liveness, ServingStatus::Serving as i32, "liveness stays up");
    outage.set_up(true);
    assert!(
        wait_for(&mut client, ServingStatus::Serving).await,
        "SERVING again without a restart"
    );
    stop.cancel();
}

/// Splits `mysql://user:pass@host:port/db` so the host can be swapped.
mod url_parts {
    use std::net::SocketAddr;

    pub struct Parts {
        pub prefix: String,
        pub addr: SocketAddr,
        pub suffix: String,
    }

    pub fn parse(url: &str) -> Parts {
        let at = url.rfind('@').expect("credentials in url") + 1;
        let slash = url[at..].find('/').map_or(url.len(), |i| at + i);
        Parts {
            prefix: url[..at].to_owned(),
            addr: url[at..slash]
                .replace("localhost", "127.0.0.1")
                .parse()
                .expect("host:port"),
            suffix: url[slash..].to_owned(),
        }
    }

    impl Parts {
        pub fn with_addr(&self, addr: SocketAddr) -> String {
            format!("{}{}{}", self.prefix, addr, self.suffix)
        }
    }
}
