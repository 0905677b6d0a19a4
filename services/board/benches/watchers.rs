//! Figures for the board issue (live board): 1,000 concurrent WatchGoalBoard
//! streams on one board replica (50 teams of 20 members, every member
//! watching their team) while proofs arrive at 20 a second across the 50
//! teams. For every (proof, watcher of its team): the time from the proof's
//! acceptance to the first board on that stream that counts it, p50/p99/max,
//! and how many never arrived; and the replica's memory per watcher (the
//! process's resident set before and after the streams open, divided by
//! 1,000; moim, mission and the clients run in the same process, so this also
//! counts the client end of each stream: an upper bound).
//! Run: `cargo bench -p moing-board --bench watchers` (`MOING_BENCH_SECS`:
//! seconds of proofs, 30 by default).

#[path = "../tests/api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::StreamExt;
use helpers::{Member, as_member, spawn_app};
use moing_proto::moing::{
    board::v1::{
        WatchGoalBoardRequest, board_service_client::BoardServiceClient,
        watch_goal_board_response::Update,
    },
    mission::v1::{CreateMissionRequest, SubmitProofRequest, submit_proof_request::Body},
};
use tonic::transport::Channel;

const TEAMS: usize = 50;
const MEMBERS: usize = 20;
const RATE: u64 = 20;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Per team: when its k-th proof (1-based) was accepted.
type Accepted = Arc<Mutex<HashMap<usize, Vec<Instant>>>>;
/// Per (team, watcher): when the board first counted k proofs.
type Seen = Arc<Mutex<HashMap<(usize, usize), Vec<Instant>>>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs: u64 = std::env::var("MOING_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let app = spawn_app().await;
    // 50 teams of 20, three 7-a-week missions each.
    let mut teams: Vec<(String, Vec<Member>, Vec<String>)> = Vec::new();
    for _ in 0..TEAMS {
        let leader = app.member();
        let (team, code) = app.team(&leader).await;
        let mut members = vec![leader];
        for _ in 1..MEMBERS {
            let m = app.member();
            app.join(&code, &m).await;
            members.push(m);
        }
        let mut missions = Vec::new();
        for i in 0..3 {
            let m = app
                .missions
                .clone()
                .create_mission(as_member(
                    &members[0],
                    CreateMissionRequest {
                        team_id: team.clone(),
                        title: format!("매일 미션 {i}"),
                        kind: 2,
                        way: 1,
                        times_per_week: 7,
                        ..Default::default()
                    },
                ))
                .await?
                .into_inner()
                .mission
                .ok_or_else(|| anyhow::anyhow!("no mission"))?;
            missions.push(m.id);
        }
        teams.push((team, members, missions));
    }
    // Let the creation events settle.
    tokio::time::sleep(Duration::from_secs(2)).await;

    // 1,000 streams over 10 connections.
    let mut channels = Vec::new();
    for _ in 0..10 {
        channels.push(
            Channel::from_shared(app.board_endpoint.clone())?
                .connect()
                .await?,
        );
    }
    let rss_before = rss_kib();
    let seen: Seen = Arc::new(Mutex::new(HashMap::new()));
    let open = Instant::now();
    let mut watchers = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(TEAMS * MEMBERS);
    for (t, (team, members, _)) in teams.iter().enumerate() {
        for (w, m) in members.iter().enumerate() {
            let mut client = BoardServiceClient::new(channels[(t * MEMBERS + w) % 10].clone());
            let req = as_member(
                m,
                WatchGoalBoardRequest {
                    team_id: team.clone(),
                },
            );
            let (seen, ready) = (seen.clone(), ready_tx.clone());
            watchers.push(tokio::spawn(async move {
                let mut stream = client.watch_goal_board(req).await?.into_inner();
                let mut counted = 0usize;
                let mut first = true;
                while let Some(msg) = stream.next().await {
                    let Some(Update::GoalBoard(b)) = msg?.update else {
                        continue;
                    };
                    if first {
                        first = false;
                        let _ = ready.send(()).await;
                    }
                    let done: i32 = b.ranking.iter().map(|r| r.done_count).sum();
                    let now = Instant::now();
                    let done = usize::try_from(done).unwrap_or(0);
                    if done > counted {
                        let mut s = seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                        let v = s.entry((t, w)).or_default();
                        while v.len() < done {
                            v.push(now);
                        }
                        counted = done;
                    }
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
    }
    drop(ready_tx);
    for _ in 0..TEAMS * MEMBERS {
        ready_rx.recv().await;
    }
    let opened = open.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_kib();

    // Proofs at 20/s, round-robin over the teams.
    let accepted: Accepted = Arc::new(Mutex::new(HashMap::new()));
    let total = (RATE * secs) as usize;
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / RATE));
    let mut sends = Vec::new();
    for k in 0..total {
        tick.tick().await;
        let t = k % TEAMS;
        let round = k / TEAMS;
        let (team, members, missions) = &teams[t];
        let who = &members[round % MEMBERS];
        let mission = missions[(round / MEMBERS) % missions.len()].clone();
        let req = as_member(
            who,
            SubmitProofRequest {
                team_id: team.clone(),
                mission_id: mission,
                body: Some(Body::Text("완료".into())),
                caption: String::new(),
            },
        );
        let (mut client, accepted) = (app.missions.clone(), accepted.clone());
        sends.push(tokio::spawn(async move {
            client.submit_proof(req).await?;
            let at = Instant::now();
            accepted
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .entry(t)
                .or_default()
                .push(at);
            Ok::<_, anyhow::Error>(())
        }));
    }
    for s in sends {
        s.await??;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let watching = app_watchers(&watchers);
    for w in &watchers {
        w.abort();
    }

    // Latency per (proof, watcher of its team). Proofs of one team are
    // accepted in order (20 a second over 50 teams: 2.5 s apart).
    let accepted = accepted.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let seen = seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let mut lat = Vec::new();
    let mut missing = 0;
    for (t, times) in accepted.iter() {
        let mut times = times.clone();
        times.sort();
        for w in 0..MEMBERS {
            let got = seen.get(&(*t, w));
            for (k, at) in times.iter().enumerate() {
                match got.and_then(|g| g.get(k)) {
                    Some(when) => lat.push(when.saturating_duration_since(*at)),
                    None => missing += 1,
                }
            }
        }
    }
    lat.sort();
    println!(
        "{} watchers on one board replica ({} teams × {} members), opened in {:.1} s; {} proofs at {}/s over {} s",
        TEAMS * MEMBERS,
        TEAMS,
        MEMBERS,
        opened.as_secs_f64(),
        total,
        RATE,
        secs
    );
    if !lat.is_empty() {
        println!(
            "update latency (proof accepted → board on each watcher of its team, {} samples): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; {} never arrived; {} streams still open at the end",
            lat.len(),
            pct(&lat, 0.5).as_secs_f64() * 1e3,
            pct(&lat, 0.99).as_secs_f64() * 1e3,
            lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            missing,
            watching,
        );
    }
    println!(
        "memory: resident set {} MiB → {} MiB with the streams open: {:.1} KiB per watcher (both ends)",
        rss_before / 1024,
        rss_after / 1024,
        (rss_after.saturating_sub(rss_before)) as f64 / (TEAMS * MEMBERS) as f64
    );
    Ok(())
}

fn app_watchers(w: &[tokio::task::JoinHandle<anyhow::Result<()>>]) -> usize {
    w.iter().filter(|h| !h.is_finished()).count()
}
