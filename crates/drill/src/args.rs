//! The command line, parsed by hand: `moing-drill <mode> [--flag value]...`.

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, bail};

pub const USAGE: &str = "usage: moing-drill <mode> [options]
modes (each prints `[drill] <mode>: ...` lines and exits 1 when something is lost,
duplicated or over its bound):
  kill     [--proofs 1000] [--kills 10] [--members 10] [--latency-ms 50]
                                   SIGKILL notification during the load, each time with sends in flight
  stop     [--proofs 300] [--members 10] [--latency-ms 300]
                                   SIGSTOP replica A past its lease; replica B must send its pushes
  mariadb  [--proofs 500] [--members 10]   restart MariaDB mid-load; recovery within 5 s
  redis    [--proofs 300] [--members 10] [--outage-secs 5]   Redis down mid-load; reads keep working
  burst    [--proofs 1000] [--members 10]   last proof accepted → last inbox row (≤3 s), last push (≤5 s)
  steady   [--rate 50] [--seconds 20] [--members 20]   proof accepted → push received, p50/p99 (≤200 ms)
  backlog  [--notifications 10000] [--members 20]   notification down, restart, drain (≤10 s)
common options:
  --bin-dir target/debug   where the notification binary is
  --root .                 the checkout scripts/up ran in (.moing/ under it)
  --db-url mysql://moing_admin:moing_admin_dev@127.0.0.1:3306
  --lease 5                MOING_FCM__LEASE_SECS of the drill's replicas
  --clients 8              concurrent proof clients
  --timeout 900            overall bound in seconds
  --no-new-settings        do not pass MOING_FCM__LEASE_SECS / MOING_FCM__HTTP2_PRIOR_KNOWLEDGE";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Kill,
    Stop,
    Mariadb,
    Redis,
    Burst,
    Steady,
    Backlog,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Kill => "kill",
            Self::Stop => "stop",
            Self::Mariadb => "mariadb",
            Self::Redis => "redis",
            Self::Burst => "burst",
            Self::Steady => "steady",
            Self::Backlog => "backlog",
        }
    }

    fn parse(s: &str) -> anyhow::Result<Self> {
        Ok(match s {
            "kill" => Self::Kill,
            "stop" => Self::Stop,
            "mariadb" => Self::Mariadb,
            "redis" => Self::Redis,
            "burst" => Self::Burst,
            "steady" => Self::Steady,
            "backlog" => Self::Backlog,
            other => bail!("unknown mode {other:?}"),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Args {
    pub mode: Mode,
    pub proofs: usize,
    pub members: usize,
    pub kills: usize,
    pub rate: u32,
    pub seconds: u64,
    pub notifications: usize,
    pub latency_ms: u64,
    pub outage_secs: u64,
    pub lease_secs: u64,
    pub clients: usize,
    pub bin_dir: PathBuf,
    pub root: PathBuf,
    pub db_url: String,
    pub timeout: Duration,
    /// Pass the lease and HTTP/2 settings the lease-based dispatcher reads.
    pub new_settings: bool,
}

impl Args {
    pub fn parse(mut argv: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mode = Mode::parse(&argv.next().context("no mode given")?)?;
        let (proofs, members) = match mode {
            Mode::Kill | Mode::Burst => (1000, 10),
            Mode::Stop | Mode::Redis => (300, 10),
            Mode::Mariadb => (500, 10),
            Mode::Steady | Mode::Backlog => (0, 20),
        };
        let mut a = Self {
            mode,
            proofs,
            members,
            kills: 10,
            rate: 50,
            seconds: 20,
            notifications: 10_000,
            // The stand-in's answer time: FCM's own tens of milliseconds for
            // kill, slow for stop (A must hold sends in flight when stopped).
            latency_ms: match mode {
                Mode::Kill => 50,
                Mode::Stop => 300,
                _ => 0,
            },
            outage_secs: 5,
            lease_secs: 5,
            clients: 8,
            bin_dir: PathBuf::from("target/debug"),
            root: PathBuf::from("."),
            db_url: "mysql://moing_admin:moing_admin_dev@127.0.0.1:3306".into(),
            timeout: Duration::from_secs(900),
            new_settings: true,
        };
        while let Some(flag) = argv.next() {
            if flag == "--no-new-settings" {
                a.new_settings = false;
                continue;
            }
            let value = argv
                .next()
                .with_context(|| format!("{flag} needs a value"))?;
            let num = || -> anyhow::Result<u64> {
                value
                    .parse()
                    .with_context(|| format!("{flag} {value:?} is not a number"))
            };
            match flag.as_str() {
                "--proofs" => a.proofs = num()? as usize,
                "--members" => a.members = num()? as usize,
                "--kills" => a.kills = num()? as usize,
                "--rate" => a.rate = num()? as u32,
                "--seconds" => a.seconds = num()?,
                "--notifications" => a.notifications = num()? as usize,
                "--latency-ms" => a.latency_ms = num()?,
                "--outage-secs" => a.outage_secs = num()?,
                "--lease" => a.lease_secs = num()?,
                "--clients" => a.clients = num()? as usize,
                "--timeout" => a.timeout = Duration::from_secs(num()?),
                "--bin-dir" => a.bin_dir = PathBuf::from(&value),
                "--root" => a.root = PathBuf::from(&value),
                "--db-url" => a.db_url = value.clone(),
                other => bail!("unknown option {other:?}"),
            }
        }
        if !(2..=20).contains(&a.members) {
            bail!("--members must be 2..=20 (a team holds at most 20)");
        }
        if a.clients == 0 || a.rate == 0 {
            bail!("--clients and --rate must be positive");
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> anyhow::Result<Args> {
        Args::parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn defaults_follow_the_mode_and_flags_override_them() {
        let k = parse("kill").expect("kill");
        assert_eq!((k.proofs, k.members, k.kills), (1000, 10, 10));
        let s = parse("steady --rate 10 --seconds 3").expect("steady");
        assert_eq!((s.rate, s.seconds, s.members), (10, 3, 20));
        assert!(parse("kill --members 21").is_err());
        assert!(parse("kill --proofs").is_err());
        assert!(parse("nap").is_err());
        assert!(!parse("stop --no-new-settings").expect("stop").new_settings);
    }
}
