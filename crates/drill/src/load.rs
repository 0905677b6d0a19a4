//! The proof load: TEXT proofs submitted straight to mission by concurrent
//! clients (each its own connection), every member proving every mission once.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use moing_proto::moing::mission::v1::{
    SubmitProofRequest, mission_service_client::MissionServiceClient, submit_proof_request::Body,
};
use moing_testkit::bearer;
use tokio::time::Instant;

use crate::setup::{MISSION, Team, channel};

/// A proof mission acknowledged (SubmitProof answered OK).
#[derive(Debug, Clone)]
pub struct Ack {
    pub proof_id: String,
    /// Index of the author in the team's members.
    pub author: usize,
    pub accepted_at: DateTime<Utc>,
}

/// What a load did.
#[derive(Debug, Default)]
pub struct Load {
    pub acks: Vec<Ack>,
    /// Submissions that failed, by gRPC code.
    pub failed: BTreeMap<String, usize>,
}

impl Load {
    pub fn failed_total(&self) -> usize {
        self.failed.values().sum()
    }

    pub fn last_accepted(&self) -> Option<DateTime<Utc>> {
        self.acks.iter().map(|a| a.accepted_at).max()
    }

    pub fn failures(&self) -> String {
        if self.failed.is_empty() {
            return "none".into();
        }
        self.failed
            .iter()
            .map(|(code, n)| format!("{code} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Submitted so far (acknowledged or not), for drills that act mid-load.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    done: Arc<AtomicUsize>,
    acked: Arc<AtomicUsize>,
}

impl Progress {
    pub fn done(&self) -> usize {
        self.done.load(Ordering::SeqCst)
    }

    pub fn acked(&self) -> usize {
        self.acked.load(Ordering::SeqCst)
    }
}

/// The (member, mission) pairs of `proofs` proofs, mission by mission, so
/// concurrent clients prove different members' proofs of the same missions.
pub fn jobs(team: &Team, proofs: usize) -> Vec<(usize, usize)> {
    let n = team.members.len();
    (0..proofs).map(|k| (k % n, k / n)).collect()
}

/// Missions `proofs` proofs need with `members` members.
pub fn missions_for(proofs: usize, members: usize) -> usize {
    proofs.div_ceil(members)
}

/// Submits `jobs` with `clients` clients; with `pace`, the k-th proof is not
/// submitted before `start + k × pace` (an open-loop rate).
pub async fn run(
    team: Team,
    jobs: Vec<(usize, usize)>,
    clients: usize,
    pace: Option<Duration>,
    progress: Progress,
) -> anyhow::Result<Load> {
    let jobs = Arc::new(jobs);
    let next = Arc::new(AtomicUsize::new(0));
    let out = Arc::new(Mutex::new(Load::default()));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let client = MissionServiceClient::new(channel(MISSION).await?);
        let (jobs, next, out, progress, team) = (
            jobs.clone(),
            next.clone(),
            out.clone(),
            progress.clone(),
            team.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(member, mission)) = jobs.get(k) else {
                    break;
                };
                if let Some(pace) = pace {
                    tokio::time::sleep_until(start + pace * k as u32).await;
                }
                let m = &team.members[member];
                let req = SubmitProofRequest {
                    team_id: team.id.to_string(),
                    mission_id: team.missions[mission].clone(),
                    body: Some(Body::Text(format!("drill proof {k}"))),
                    caption: String::new(),
                };
                let answer = client.clone().submit_proof(bearer(&m.access, req)).await;
                let accepted_at = Utc::now();
                let proof_id = answer
                    .as_ref()
                    .ok()
                    .and_then(|r| r.get_ref().proof.as_ref())
                    .map(|p| p.id.clone());
                if let Ok(mut o) = out.lock() {
                    match (proof_id, &answer) {
                        (Some(proof_id), _) => {
                            o.acks.push(Ack {
                                proof_id,
                                author: member,
                                accepted_at,
                            });
                            progress.acked.fetch_add(1, Ordering::SeqCst);
                        }
                        (None, Err(s)) => {
                            *o.failed.entry(format!("{:?}", s.code())).or_default() += 1
                        }
                        (None, Ok(_)) => *o.failed.entry("NoProof".into()).or_default() += 1,
                    }
                }
                progress.done.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let load = std::mem::take(&mut *out.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
    Ok(load)
}
