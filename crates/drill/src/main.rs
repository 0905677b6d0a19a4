//! moing-drill: fault drills and benchmarks of the push pipeline (proof →
//! mission's outbox → notification's inbox and pushes → FCM) against the
//! cluster `scripts/up` runs on loopback (issue 18, "No push lost").
//!
//! The drill replaces `scripts/up`'s notification process with replicas of its
//! own (children, same environment plus FCM settings pointing at the in-process
//! stand-in `moing_testkit::FcmServer`), sets up members, a team, devices and
//! missions through the public gRPC APIs, submits proofs straight to mission
//! with 8 clients, breaks something on the way, waits for the pipeline to
//! drain and counts inbox rows (database) and pushes (stand-in) per
//! (proof, recipient). At the end notification is started again as
//! `scripts/up` did.
//!
//! Layout: [`args`] (command line), [`cluster`] (replicas, MariaDB, Redis),
//! [`setup`] (members, team, missions), [`load`] (proof clients), [`count`]
//! (lost / duplicate counting, drain), [`drills`] (kill, stop, mariadb, redis),
//! [`bench`] (burst, steady, backlog).
//!
//! Every line a script greps starts with `[drill] <mode>:`. Exit 0 when nothing
//! was lost or duplicated and every bound held, 1 otherwise, 2 on an error.

mod args;
mod bench;
mod cluster;
mod count;
mod drills;
mod load;
mod setup;

use std::process::ExitCode;

use args::{Args, Mode};
use cluster::Nodes;
use moing_testkit::FcmServer;

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args()
        .nth(1)
        .is_some_and(|a| matches!(a.as_str(), "-h" | "--help" | "help"))
    {
        println!("{}", args::USAGE);
        return ExitCode::SUCCESS;
    }
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("[drill] error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Takes notification over, runs the mode under the overall timeout, and
/// always gives notification (and MariaDB, Redis) back.
async fn run(args: Args) -> anyhow::Result<bool> {
    let fcm = FcmServer::start().await?;
    let mut nodes = Nodes::new(&args, &fcm)?;
    let mode = args.mode;
    let outcome = match nodes.take_over().await {
        Err(e) => Err(e),
        Ok(()) => tokio::select! {
            r = tokio::time::timeout(args.timeout, run_mode(&args, &mut nodes, &fcm)) => match r {
                Ok(r) => r,
                Err(_) => Err(anyhow::anyhow!("{} did not finish within {:?}", mode.name(), args.timeout)),
            },
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        },
    };
    let restored = nodes.restore().await;
    if let Err(e) = &restored {
        eprintln!("[drill] could not restore the cluster: {e:#}");
    }
    let passed = outcome?;
    restored?;
    Ok(passed)
}

async fn run_mode(args: &Args, nodes: &mut Nodes, fcm: &FcmServer) -> anyhow::Result<bool> {
    match args.mode {
        Mode::Kill => drills::kill(args, nodes, fcm).await,
        Mode::Stop => drills::stop(args, nodes, fcm).await,
        Mode::Mariadb => drills::mariadb(args, nodes, fcm).await,
        Mode::Redis => drills::redis(args, nodes, fcm).await,
        Mode::Burst => bench::burst(args, nodes, fcm).await,
        Mode::Steady => bench::steady(args, nodes, fcm).await,
        Mode::Backlog => bench::backlog(args, nodes, fcm).await,
    }
}
