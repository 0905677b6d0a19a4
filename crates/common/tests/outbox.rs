//! The outbox against real MariaDB: at-least-once delivery, de-duplicated effect.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use moing_common::{
    client::internal_channel,
    config::{ClientSettings, GrpcSettings},
    layer::AccessPolicy,
    outbox::{EventHandler, EventSinkService, HandleError, Outbox, Relay, RelayOptions, Round},
    server::ServerBuilder,
};
use moing_proto::moing::events::v1::{Event, MemberSignedUp, event::Payload};
use moing_testkit::{TestDb, Tokens};
use sqlx::{MySqlConnection, MySqlPool, Row, migrate::Migrator};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Consumer effect: count applications per event id; fail once when asked.
struct CountingHandler {
    fail_on_call: AtomicUsize,
    calls: AtomicUsize,
}

#[tonic::async_trait]
impl EventHandler for CountingHandler {
    async fn handle(&self, conn: &mut MySqlConnection, event: &Event) -> Result<(), HandleError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call == self.fail_on_call.load(Ordering::SeqCst) {
            return Err(HandleError::Other(anyhow::anyhow!(
                "consumer crashed mid-batch"
            )));
        }
        sqlx::query(
            "INSERT INTO effect (event_id, applied) VALUES (?, 1) \
             ON DUPLICATE KEY UPDATE applied = applied + 1",
        )
        .bind(Uuid::parse_str(&event.id).map_err(anyhow::Error::from)?)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

struct Consumer {
    db: TestDb,
    endpoint: String,
    handler: Arc<CountingHandler>,
    stop: CancellationToken,
}

async fn start_consumer(tokens: &Tokens, fail_on_call: usize) -> anyhow::Result<Consumer> {
    let db = TestDb::migrated(&Migrator::with_migrations(vec![])).await?;
    sqlx::query("CREATE TABLE effect (event_id BINARY(16) PRIMARY KEY, applied INT NOT NULL)")
        .execute(&db.pool)
        .await?;
    let handler = Arc::new(CountingHandler {
        fail_on_call: AtomicUsize::new(fail_on_call),
        calls: AtomicUsize::new(0),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let stop = CancellationToken::new();
    let server = ServerBuilder::new()
        .add_service(EventSinkService::server(db.pool.clone(), handler.clone()));
    let layer = tokens.auth_layer(AccessPolicy::default());
    let shutdown = stop.clone();
    tokio::spawn(async move {
        server
            .serve(
                listener,
                &GrpcSettings::default(),
                Some(layer),
                async move { shutdown.cancelled().await },
            )
            .await
    });
    Ok(Consumer {
        db,
        endpoint,
        handler,
        stop,
    })
}

async fn produce(pool: &MySqlPool, outbox: &Outbox, n: usize) -> anyhow::Result<Vec<Uuid>> {
    let mut ids = Vec::new();
    for i in 0..n {
        let mut tx = pool.begin().await?;
        let id = outbox
            .enqueue(
                &mut tx,
                None,
                Some(Uuid::now_v7()),
                Payload::MemberSignedUp(MemberSignedUp {
                    nickname: format!("m{i}"),
                }),
            )
            .await?;
        tx.commit().await?;
        ids.push(id);
    }
    Ok(ids)
}

fn relay(pool: &MySqlPool, outbox: &Outbox, consumer: &Consumer, tokens: &Tokens) -> Relay {
    let channel = internal_channel(
        &consumer.endpoint,
        &ClientSettings::default(),
        &tokens.service_token,
    )
    .expect("channel");
    Relay::new(
        pool.clone(),
        outbox,
        "consumer",
        channel,
        RelayOptions {
            batch_size: 7,
            poll_interval: Duration::from_millis(20),
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        },
    )
}

async fn effects(pool: &MySqlPool) -> anyhow::Result<Vec<(Uuid, i32)>> {
    let rows = sqlx::query("SELECT event_id, applied FROM effect ORDER BY event_id")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("event_id")?, r.try_get("applied")?)))
        .collect()
}

#[tokio::test]
async fn failure_mid_batch_and_relay_restart_apply_each_event_once() -> anyhow::Result<()> {
    let tokens = Tokens::new();
    // The 4th handler call fails: events 1-3 of the first batch commit, then the batch errors.
    let consumer = start_consumer(&tokens, 4).await?;
    let producer = TestDb::migrated(&Migrator::with_migrations(vec![])).await?;
    let outbox = Outbox::new("test", vec!["consumer".into()]);
    let ids = produce(&producer.pool, &outbox, 20).await?;

    let first = relay(&producer.pool, &outbox, &consumer, &tokens);
    assert!(
        first.deliver_once().await.is_err(),
        "first batch fails mid-way"
    );
    drop(first); // the relay "crashes"

    // A crash after delivery but before acknowledging: deliver the next batch
    // by hand, leaving its pending rows in place, as a dead relay would.
    let pending: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT o.payload FROM outbox_pending p JOIN outbox o ON o.seq = p.seq ORDER BY p.seq LIMIT 10",
    )
    .fetch_all(&producer.pool)
    .await?;
    let events = pending
        .iter()
        .map(|p| prost::Message::decode(p.as_slice()))
        .collect::<Result<Vec<Event>, _>>()?;
    let mut client =
        moing_proto::moing::events::v1::event_sink_client::EventSinkClient::new(internal_channel(
            &consumer.endpoint,
            &ClientSettings::default(),
            &tokens.service_token,
        )?);
    let ack = client
        .deliver(moing_proto::moing::events::v1::DeliverRequest { events })
        .await?
        .into_inner();
    assert_eq!((ack.applied, ack.duplicates), (7, 3));

    // A fresh relay drains everything; redeliveries are recognised.
    let second = relay(&producer.pool, &outbox, &consumer, &tokens);
    loop {
        match second.deliver_once().await? {
            Round::Delivered(0) => break,
            Round::Delivered(_) => {}
            Round::Busy => anyhow::bail!("nobody else holds the lock"),
        }
    }

    let applied = effects(&consumer.db.pool).await?;
    assert_eq!(applied.len(), ids.len(), "every event applied");
    assert!(
        applied.iter().all(|(_, n)| *n == 1),
        "no event applied twice: {applied:?}"
    );
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(
        applied.into_iter().map(|(id, _)| id).collect::<Vec<_>>(),
        expected
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_pending")
        .fetch_one(&producer.pool)
        .await?;
    assert_eq!(left, 0);
    assert!(consumer.handler.calls.load(Ordering::SeqCst) >= ids.len());
    consumer.stop.cancel();
    Ok(())
}

#[tokio::test]
async fn rolled_back_change_writes_no_event() -> anyhow::Result<()> {
    let producer = TestDb::migrated(&Migrator::with_migrations(vec![])).await?;
    let outbox = Outbox::new("test", vec!["a".into(), "b".into()]);
    let mut tx = producer.pool.begin().await?;
    outbox
        .enqueue(
            &mut tx,
            Some(Uuid::now_v7()),
            None,
            Payload::MemberSignedUp(MemberSignedUp {
                nickname: "x".into(),
            }),
        )
        .await?;
    tx.rollback().await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(&producer.pool)
        .await?;
    assert_eq!(n, 0);
    produce(&producer.pool, &outbox, 1).await?;
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_pending")
        .fetch_one(&producer.pool)
        .await?;
    assert_eq!(pending, 2, "one pending row per subscriber");
    Ok(())
}

#[tokio::test]
async fn two_relay_replicas_deliver_each_event_once() -> anyhow::Result<()> {
    let tokens = Tokens::new();
    let consumer = start_consumer(&tokens, 0).await?;
    let producer = TestDb::migrated(&Migrator::with_migrations(vec![])).await?;
    let outbox = Outbox::new("test", vec!["consumer".into()]);
    let ids = produce(&producer.pool, &outbox, 60).await?;

    let stop = CancellationToken::new();
    let a = tokio::spawn(relay(&producer.pool, &outbox, &consumer, &tokens).run(stop.clone()));
    let b = tokio::spawn(relay(&producer.pool, &outbox, &consumer, &tokens).run(stop.clone()));
    // Wait until the consumer has seen every event (bounded by the test timeout).
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_pending")
                .fetch_one(&producer.pool)
                .await
                .unwrap_or(1);
            if n == 0 {
                break;
            }
            outbox.wake();
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await?;
    stop.cancel();
    a.await?;
    b.await?;
    assert_eq!(
        consumer.handler.calls.load(Ordering::SeqCst),
        ids.len(),
        "each event handled exactly once, no concurrent double delivery"
    );
    let applied = effects(&consumer.db.pool).await?;
    assert_eq!(applied.len(), ids.len());
    consumer.stop.cancel();
    Ok(())
}
