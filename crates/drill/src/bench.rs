//! The push pipeline's figures (run them on a release build): a burst, a
//! steady rate, and the drain of a backlog. Times are wall-clock instants of
//! this machine: a proof is accepted when SubmitProof answered OK, an inbox
//! row exists from its `created_at`, a push arrives when the stand-in accepts it.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use moing_testkit::FcmServer;
use sqlx::MySqlPool;

use crate::{
    args::Args,
    cluster::{A, Nodes},
    count,
    drills::{finish, prepare, spawn_load},
    load::{self, Progress},
    setup::Team,
};

/// When the last of `expected` inbox rows and pushes of the team's proofs
/// arrived (None: not all within `within`).
async fn completion(
    db: &MySqlPool,
    fcm: &FcmServer,
    team: &Team,
    expected: usize,
    within: Duration,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let end = Instant::now() + within;
    let (mut inbox, mut push) = (None, None);
    while Instant::now() < end && (inbox.is_none() || push.is_none()) {
        if inbox.is_none()
            && count::inbox_count(db, team.id)
                .await
                .is_ok_and(|n| n >= expected as i64)
        {
            inbox = count::inbox_rows(db, team.id)
                .await
                .ok()
                .and_then(|rows| rows.iter().map(|r| r.written_at).max());
        }
        if push.is_none() && fcm.received_count() >= expected {
            let messages = fcm.messages();
            let pushes = count::proof_pushes(&messages, team.id);
            let pairs: HashSet<(&str, &str)> = pushes
                .iter()
                .map(|m| {
                    let proof = m.data.get("proof_id").map(String::as_str).unwrap_or("");
                    (proof, m.token.as_str())
                })
                .collect();
            if pairs.len() >= expected {
                push = pushes.iter().map(|m| m.received_at).max();
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (inbox, push)
}

fn secs(d: Option<chrono::Duration>) -> String {
    d.map_or("never".into(), |d| format!("{:.2}s", d.as_seconds_f64()))
}

fn within(d: Option<chrono::Duration>, bound: f64) -> bool {
    d.is_some_and(|d| d.as_seconds_f64() <= bound)
}

/// 1,000 proofs as fast as 8 clients go; from the last proof accepted to the
/// last inbox row (≤3 s) and the last push (≤5 s).
pub async fn burst(args: &Args, _nodes: &mut Nodes, fcm: &FcmServer) -> anyhow::Result<bool> {
    let (team, db) = prepare(args, fcm, args.proofs).await?;
    let started = Instant::now();
    let (task, _) = spawn_load(args, &team, args.proofs, None);
    let load = task.await??;
    let took = started.elapsed().as_secs_f64();
    let expected = load.acks.len() * (team.members.len() - 1);
    let (inbox, push) = completion(&db, fcm, &team, expected, Duration::from_secs(120)).await;
    let last = load.last_accepted().unwrap_or_else(Utc::now);
    let (to_inbox, to_push) = (inbox.map(|t| t - last), push.map(|t| t - last));
    println!(
        "[drill] burst: {} proofs acked in {took:.1}s ({:.0}/s, {} clients, {} members) | last proof accepted → last inbox row {} (target ≤3s), → last push {} (target ≤5s)",
        load.acks.len(),
        load.acks.len() as f64 / took,
        args.clients,
        args.members,
        secs(to_inbox),
        secs(to_push),
    );
    let (counts, drain) = finish(args, fcm, &db, &team, &load, "burst").await?;
    Ok(counts.clean() && drain.done && within(to_inbox, 3.0) && within(to_push, 5.0))
}

/// `--rate` proofs a second for `--seconds` in a 20-member team: proof
/// accepted → push received, p50 / p99 (target p99 ≤200 ms).
pub async fn steady(args: &Args, _nodes: &mut Nodes, fcm: &FcmServer) -> anyhow::Result<bool> {
    let proofs = args.rate as usize * args.seconds as usize;
    let (team, db) = prepare(args, fcm, proofs).await?;
    let pace = Duration::from_secs(1) / args.rate;
    let (task, _) = spawn_load(args, &team, proofs, Some(pace));
    let load = task.await??;
    let (counts, drain) = finish(args, fcm, &db, &team, &load, "steady").await?;
    let accepted: std::collections::HashMap<&str, DateTime<Utc>> = load
        .acks
        .iter()
        .map(|a| (a.proof_id.as_str(), a.accepted_at))
        .collect();
    let messages = fcm.messages();
    let mut first = std::collections::HashMap::<(&str, &str), DateTime<Utc>>::new();
    for m in count::proof_pushes(&messages, team.id) {
        let proof = m.data.get("proof_id").map(String::as_str).unwrap_or("");
        let at = first
            .entry((proof, m.token.as_str()))
            .or_insert(m.received_at);
        *at = (*at).min(m.received_at);
    }
    let mut ms: Vec<f64> = first
        .iter()
        .filter_map(|((proof, _), at)| {
            accepted
                .get(proof)
                .map(|a| (*at - *a).as_seconds_f64() * 1000.0)
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let span = match (
        load.acks.iter().map(|a| a.accepted_at).min(),
        load.last_accepted(),
    ) {
        (Some(a), Some(b)) if b > a => (b - a).as_seconds_f64(),
        _ => f64::NAN,
    };
    let p99 = count::percentile(&ms, 99.0);
    println!(
        "[drill] steady: {} proofs at {:.1}/s (asked {}/s, {} members) | proof accepted → push received ms p50 {:.0} p99 {:.0} max {:.0} over {} pushes (target p99 ≤200)",
        load.acks.len(),
        load.acks.len() as f64 / span,
        args.rate,
        args.members,
        count::percentile(&ms, 50.0),
        p99,
        ms.last().copied().unwrap_or(f64::NAN),
        ms.len(),
    );
    Ok(counts.clean() && drain.done && p99 <= 200.0)
}

/// notification down while proofs pile up `--notifications` notifications,
/// then restarted: time to drain (≤10 s).
pub async fn backlog(args: &Args, nodes: &mut Nodes, fcm: &FcmServer) -> anyhow::Result<bool> {
    let proofs = args.notifications.div_ceil(args.members - 1);
    // One more proof after the restart: traffic goes on, and its commit wakes
    // mission's relay out of the backoff it fell into while notification was down.
    let (team, db) = prepare(args, fcm, proofs + 1).await?;
    nodes.kill(A)?;
    let jobs = load::jobs(&team, proofs + 1);
    let mut load = load::run(
        team.clone(),
        jobs[..proofs].to_vec(),
        args.clients,
        None,
        Progress::default(),
    )
    .await?;
    let pending = count::outbox_pending(&db).await?;
    let restart = Instant::now();
    let restart_at = Utc::now();
    nodes.start(A).await?;
    let startup = restart.elapsed().as_secs_f64();
    let nudge = load::run(
        team.clone(),
        jobs[proofs..].to_vec(),
        1,
        None,
        Progress::default(),
    )
    .await?;
    load.acks.extend(nudge.acks);
    for (code, n) in nudge.failed {
        *load.failed.entry(code).or_default() += n;
    }
    let expected = load.acks.len() * (team.members.len() - 1);
    let (inbox, push) = completion(&db, fcm, &team, expected, Duration::from_secs(180)).await;
    let (to_inbox, to_push) = (inbox.map(|t| t - restart_at), push.map(|t| t - restart_at));
    println!(
        "[drill] backlog: {} events pending ({} notifications) while notification was down | from the restart (serving after {startup:.1}s): inbox drained {} , pushes drained {} (target ≤10s)",
        pending,
        expected,
        secs(to_inbox),
        secs(to_push),
    );
    let (counts, drain) = finish(args, fcm, &db, &team, &load, "backlog").await?;
    Ok(counts.clean() && drain.done && within(to_push, 10.0))
}
