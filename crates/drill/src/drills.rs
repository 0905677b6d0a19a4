//! The fault drills: something breaks while proofs come in, then the drill
//! waits for the pipeline to drain and counts what arrived.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use moing_proto::moing::notification::v1::{
    ListNotificationsRequest, notification_service_client::NotificationServiceClient,
};
use moing_testkit::{FcmServer, bearer};
use sqlx::MySqlPool;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use crate::{
    args::Args,
    cluster::{self, A, B, Nodes},
    count::{self, Counts, Drain},
    load::{self, Load, Progress},
    setup::{self, Team},
};

/// notification's `jobs.push_interval_secs` default: how often a replica
/// looks for left-over pushes.
const PUSH_INTERVAL: Duration = Duration::from_secs(5);

/// A team for `proofs` proofs and the admin database.
pub async fn prepare(
    args: &Args,
    fcm: &FcmServer,
    proofs: usize,
) -> anyhow::Result<(Team, MySqlPool)> {
    let db = count::connect(&args.db_url)
        .await
        .context("admin database")?;
    let team = setup::team(
        args.mode.name(),
        &setup::run_label(),
        args.members,
        load::missions_for(proofs, args.members),
        &format!("http://{}", Nodes::addr(A)),
    )
    .await?;
    // The set-up's own pushes (MISSION_CREATED) out of the way first.
    count::drain(
        &db,
        fcm,
        team.id,
        0,
        Duration::from_secs(5),
        Duration::from_secs(30),
    )
    .await;
    Ok((team, db))
}

/// The load of `proofs` proofs in the background.
pub fn spawn_load(
    args: &Args,
    team: &Team,
    proofs: usize,
    pace: Option<Duration>,
) -> (JoinHandle<anyhow::Result<Load>>, Progress) {
    let progress = Progress::default();
    let task = tokio::spawn(load::run(
        team.clone(),
        load::jobs(team, proofs),
        args.clients,
        pace,
        progress.clone(),
    ));
    (task, progress)
}

/// How long the drain may sit still before the drill stops waiting: long
/// enough for a lease to run out and a replica's push job to come round.
pub fn settle(args: &Args) -> Duration {
    Duration::from_secs(args.lease_secs) + 2 * PUSH_INTERVAL + Duration::from_secs(5)
}

/// Drains, counts and prints the two summary lines; true when clean.
pub async fn finish(
    args: &Args,
    fcm: &FcmServer,
    db: &MySqlPool,
    team: &Team,
    load: &Load,
    tail: &str,
) -> anyhow::Result<(Counts, Drain)> {
    let expected = load.acks.len() * (team.members.len() - 1);
    let drain = count::drain(
        db,
        fcm,
        team.id,
        expected,
        settle(args),
        Duration::from_secs(180),
    )
    .await;
    let rows = count::inbox_rows(db, team.id).await?;
    let messages = fcm.messages();
    let pushes = count::proof_pushes(&messages, team.id);
    let counts = count::count(team, &load.acks, &rows, &pushes);
    let mode = args.mode.name();
    println!(
        "[drill] {mode}: proofs {} acked {} | {} | {tail}",
        load.acks.len() + load.failed_total(),
        load.acks.len(),
        counts.line(),
    );
    println!(
        "[drill] {mode}: {} | failed submissions: {}",
        drain.line(),
        load.failures()
    );
    Ok((counts, drain))
}

/// Waits until `cond` holds or `within` passes; false on timeout.
async fn until(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + within;
    while !cond() {
        if Instant::now() > end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// SIGKILL of notification `--kills` times spread over the load, each time
/// while sends are in flight (waited for up to 3 s), restarted at once.
pub async fn kill(args: &Args, nodes: &mut Nodes, fcm: &FcmServer) -> anyhow::Result<bool> {
    let (team, db) = prepare(args, fcm, args.proofs).await?;
    fcm.set_latency(Duration::from_millis(args.latency_ms));
    let (task, progress) = spawn_load(args, &team, args.proofs, None);
    let (mut kills, mut in_flight, mut down) = (0, 0, Duration::ZERO);
    for i in 1..=args.kills {
        let at = args.proofs * i / (args.kills + 1);
        if !until(Duration::from_secs(300), || {
            progress.done() >= at || task.is_finished()
        })
        .await
            || task.is_finished()
        {
            break;
        }
        until(Duration::from_secs(3), || fcm.in_flight() > 0).await;
        in_flight += fcm.in_flight();
        let t = Instant::now();
        nodes.kill(A)?;
        nodes.start(A).await?;
        down += t.elapsed();
        kills += 1;
    }
    let load = task.await??;
    fcm.set_latency(Duration::ZERO);
    let tail = format!(
        "{kills} kills (sends in flight at the kills {in_flight}, down {:.1}s in all)",
        down.as_secs_f64()
    );
    let (counts, drain) = finish(args, fcm, &db, &team, &load, &tail).await?;
    Ok(counts.clean() && drain.done && kills == args.kills && load.failed_total() == 0)
}

/// Two replicas; A (where events arrive) is SIGSTOPped while its sends are in
/// flight, longer than its lease; B must send what A held.
pub async fn stop(args: &Args, nodes: &mut Nodes, fcm: &FcmServer) -> anyhow::Result<bool> {
    nodes.start(B).await?;
    let (team, db) = prepare(args, fcm, args.proofs).await?;
    fcm.set_latency(Duration::from_millis(args.latency_ms));
    let (task, progress) = spawn_load(args, &team, args.proofs, None);
    // A third into the load, at a moment A has proof pushes claimed.
    let (from, held) = stop_holding(args, nodes, &db, &team, &task, &progress).await?;
    let window = Duration::from_secs(args.lease_secs) + 2 * PUSH_INTERVAL + Duration::from_secs(10);
    tokio::time::sleep(window).await;
    let resumed_at = Utc::now();
    let by_b = sent_between(fcm, &team, &held, from, resumed_at);
    nodes.pause(A, false)?;
    let load = task.await??;
    fcm.set_latency(Duration::ZERO);
    let tail = format!(
        "A stopped {:.0}s (lease {}s) holding {} sends, B sent {} of them meanwhile",
        window.as_secs_f64(),
        args.lease_secs,
        held.len(),
        by_b
    );
    let (counts, drain) = finish(args, fcm, &db, &team, &load, &tail).await?;
    if held.is_empty() {
        println!("[drill] stop: A held no sends when it stopped: inconclusive");
    }
    Ok(counts.clean() && drain.done && !held.is_empty() && by_b == held.len())
}

/// SIGSTOPs A at a moment it holds proof pushes (a third into the load or
/// later), and returns when and what it holds: the pushes still under A's
/// lease once its requests already at the stand-in have landed (B keeps
/// claiming and sending its own meanwhile). A stop that lands just after A
/// finished its round holds nothing: A goes on and is stopped again.
async fn stop_holding(
    args: &Args,
    nodes: &mut Nodes,
    db: &MySqlPool,
    team: &Team,
    task: &JoinHandle<anyhow::Result<Load>>,
    progress: &Progress,
) -> anyhow::Result<(DateTime<Utc>, Vec<(String, String)>)> {
    let end = Instant::now() + Duration::from_secs(120);
    loop {
        while !task.is_finished() && Instant::now() < end {
            if progress.acked() >= args.proofs / 3 && !held_sends(db, team, A).await?.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        nodes.pause(A, true)?;
        tokio::time::sleep(Duration::from_millis(args.latency_ms + 500)).await;
        let from = Utc::now();
        let held = held_sends(db, team, A).await?;
        if !held.is_empty() || task.is_finished() || Instant::now() >= end {
            return Ok((from, held));
        }
        nodes.pause(A, false)?;
    }
}

/// (notification id, device token) of the team's proof pushes now `SENDING`
/// under replica `i`'s lease.
async fn held_sends(
    db: &MySqlPool,
    team: &Team,
    i: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT n.id AS nid, d.token FROM moing_notification.push p \
         JOIN moing_notification.notification n ON n.id = p.notification_id \
         JOIN moing_notification.device d ON d.session_id = p.session_id \
         WHERE n.team_id = ? AND n.type = ? AND p.state = 'SENDING' \
         AND p.lease_owner LIKE CONCAT(?, '/%')",
    )
    .bind(team.id)
    .bind(count::PROOF_TYPE)
    .bind(Nodes::name(i))
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let id: uuid::Uuid = r.try_get("nid")?;
            Ok((id.to_string(), r.try_get("token")?))
        })
        .collect()
}

/// How many of `held` the stand-in received in [from, to).
fn sent_between(
    fcm: &FcmServer,
    team: &Team,
    held: &[(String, String)],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> usize {
    let messages = fcm.messages();
    let got: std::collections::HashSet<(String, &str)> = count::proof_pushes(&messages, team.id)
        .into_iter()
        .filter(|m| m.received_at >= from && m.received_at < to)
        .map(|m| (count::collapse_id(m), m.token.as_str()))
        .collect();
    held.iter()
        .filter(|(id, token)| got.contains(&(id.clone(), token.as_str())))
        .count()
}

/// MariaDB restarted mid-load: no acknowledged proof loses its notification,
/// and notification answers again within 5 s of MariaDB being back.
pub async fn mariadb(args: &Args, _nodes: &mut Nodes, fcm: &FcmServer) -> anyhow::Result<bool> {
    let (team, db) = prepare(args, fcm, args.proofs).await?;
    let notes = notes_client().await?;
    let (task, progress) = spawn_load(args, &team, args.proofs, None);
    until(Duration::from_secs(300), || {
        progress.done() >= args.proofs / 3 || task.is_finished()
    })
    .await;
    let t = Instant::now();
    cluster::restart_mariadb().await?;
    let restart = t.elapsed();
    let back = Instant::now();
    let back_at = Utc::now();
    let mut recovered = None;
    while back.elapsed() < Duration::from_secs(30) {
        if read(&notes, &team, 0).await.is_ok() {
            recovered = Some(back.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let load = task.await??;
    let mission_back = load
        .acks
        .iter()
        .map(|a| a.accepted_at)
        .filter(|a| *a >= back_at)
        .min()
        .map(|a| (a - back_at).as_seconds_f64());
    let shown = |d: Option<f64>| d.map_or("never (30 s)".to_owned(), |s| format!("{s:.2}s"));
    let tail = format!(
        "mariadb restart took {:.1}s; answering again after it: notification {}, mission {}",
        restart.as_secs_f64(),
        shown(recovered.map(|d| d.as_secs_f64())),
        shown(mission_back),
    );
    let (counts, drain) = finish(args, fcm, &db, &team, &load, &tail).await?;
    let within = |d: Option<f64>| d.is_some_and(|s| s <= 5.0);
    Ok(counts.clean()
        && drain.done
        && within(recovered.map(|d| d.as_secs_f64()))
        && (mission_back.is_none() || within(mission_back)))
}

/// Redis unavailable mid-load (SIGSTOPped: it answers nothing, and auth's
/// sessions in it survive); reads must keep working meanwhile.
pub async fn redis(args: &Args, nodes: &mut Nodes, fcm: &FcmServer) -> anyhow::Result<bool> {
    let (team, db) = prepare(args, fcm, args.proofs).await?;
    let notes = notes_client().await?;
    let (task, progress) = spawn_load(args, &team, args.proofs, None);
    until(Duration::from_secs(300), || {
        progress.done() >= args.proofs / 3 || task.is_finished()
    })
    .await;
    let acked_before = progress.acked();
    nodes.pause_redis(true)?;
    let outage = Instant::now();
    let (mut ok, mut failed, mut i, mut slowest) = (0, 0, 0, Duration::ZERO);
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    while outage.elapsed() < Duration::from_secs(args.outage_secs) {
        let t = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(2), read(&notes, &team, i)).await;
        slowest = slowest.max(t.elapsed());
        match answer {
            Ok(Ok(())) => ok += 1,
            Ok(Err(s)) => {
                failed += 1;
                *codes.entry(format!("{:?}", s.code())).or_default() += 1;
            }
            Err(_) => {
                failed += 1;
                *codes.entry("timeout".into()).or_default() += 1;
            }
        }
        i += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let acked_during = progress.acked() - acked_before;
    nodes.pause_redis(false)?;
    let load = task.await??;
    let tail = format!(
        "redis down {}s: reads ok {ok} failed {failed} {codes:?} slowest {}ms, proofs acked meanwhile {acked_during}",
        args.outage_secs,
        slowest.as_millis()
    );
    let (counts, drain) = finish(args, fcm, &db, &team, &load, &tail).await?;
    Ok(counts.clean() && drain.done && failed == 0)
}

async fn notes_client() -> anyhow::Result<NotificationServiceClient<Channel>> {
    Ok(NotificationServiceClient::new(
        setup::channel(&format!("http://{}", Nodes::addr(A))).await?,
    ))
}

/// A read RPC as member `i` (mod the team): the first inbox page.
async fn read(
    notes: &NotificationServiceClient<Channel>,
    team: &Team,
    i: usize,
) -> Result<(), tonic::Status> {
    let m = &team.members[i % team.members.len()];
    notes
        .clone()
        .list_notifications(bearer(
            &m.access,
            ListNotificationsRequest {
                page_size: 20,
                page_token: String::new(),
            },
        ))
        .await
        .map(|_| ())
}
