//! The processes the drill drives: its notification replicas (children it
//! SIGKILLs, SIGSTOPs and restarts), `scripts/up`'s notification (stopped at
//! the start, started again at the end as `scripts/up` starts it), MariaDB and
//! Redis (restarted the way `scripts/lib/common.sh` starts them).

use std::{
    fs::{File, OpenOptions},
    net::SocketAddr,
    os::unix::process::CommandExt,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use moing_testkit::FcmServer;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::args::Args;

/// Replica A: the address mission's outbox delivers to (scripts/up's port).
pub const A: usize = 0;
/// Replica B: another port, only its background jobs matter.
pub const B: usize = 1;

const PORTS: [(u16, u16); 2] = [(50055, 9055), (50065, 9065)];

struct Replica {
    child: Child,
    stopped: bool,
}

/// The drill's notification replicas and what it needs to restore the cluster.
pub struct Nodes {
    root: PathBuf,
    bin: PathBuf,
    /// `.moing/run/notification.env`, as scripts/up wrote it.
    base_env: Vec<(String, String)>,
    fcm_env: Vec<(String, String)>,
    replicas: [Option<Replica>; 2],
    redis_stopped: bool,
}

impl Nodes {
    pub fn new(args: &Args, fcm: &FcmServer) -> anyhow::Result<Self> {
        let root = std::fs::canonicalize(&args.root)
            .with_context(|| format!("root {}", args.root.display()))?;
        let bin = root.join(&args.bin_dir).join("notification");
        if !bin.exists() {
            bail!("no notification binary at {}", bin.display());
        }
        let env_file = root.join(".moing/run/notification.env");
        let base_env = std::fs::read_to_string(&env_file)
            .with_context(|| format!("{} (run scripts/up first)", env_file.display()))?
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let mut fcm_env = vec![
            ("MOING_FCM__BASE_URL".into(), fcm.base_url()),
            ("MOING_FCM__TOKEN_URL".into(), fcm.token_url()),
            (
                "MOING_FCM__CREDENTIALS_JSON".into(),
                fcm.service_account_json(),
            ),
            (
                "MOING_FCM__PROJECT_ID".into(),
                project_of(&fcm.service_account_json()),
            ),
        ];
        if args.new_settings {
            // Read by the lease-based dispatcher; older binaries ignore unknown keys.
            fcm_env.push(("MOING_FCM__LEASE_SECS".into(), args.lease_secs.to_string()));
            fcm_env.push(("MOING_FCM__HTTP2_PRIOR_KNOWLEDGE".into(), "true".into()));
        }
        Ok(Self {
            root,
            bin,
            base_env,
            fcm_env,
            replicas: [None, None],
            redis_stopped: false,
        })
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".moing")
    }

    /// Replica `i`'s name: its log file and the prefix of its lease owner.
    pub fn name(i: usize) -> String {
        format!("drill-notification-{}", ["a", "b"][i])
    }

    /// The gRPC address of replica `i`.
    pub fn addr(i: usize) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], PORTS[i].0))
    }

    /// Stops scripts/up's notification (by its pid file) and starts replica A.
    pub async fn take_over(&mut self) -> anyhow::Result<()> {
        let pid_file = self.state_dir().join("run/notification.pid");
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let pid = pid.trim().to_owned();
            if alive(&pid) {
                signal(&pid, "TERM")?;
                let until = Instant::now() + Duration::from_secs(10);
                while alive(&pid) && Instant::now() < until {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                if alive(&pid) {
                    signal(&pid, "KILL")?;
                }
            }
            let _ = std::fs::remove_file(&pid_file);
        }
        self.start(A).await
    }

    fn log_file(&self, name: &str) -> anyhow::Result<File> {
        let path = self.state_dir().join(format!("logs/{name}.log"));
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| path.display().to_string())
    }

    /// Starts replica `i` and waits until it serves.
    pub async fn start(&mut self, i: usize) -> anyhow::Result<()> {
        let (grpc, admin) = PORTS[i];
        let log = self.log_file(&Self::name(i))?;
        let child = Command::new(&self.bin)
            .current_dir(&self.root)
            .envs(self.base_env.iter().cloned())
            .envs(self.fcm_env.iter().cloned())
            // The dispatcher names its leases after the host: the drills tell
            // which replica holds a row by it.
            .env("HOSTNAME", Self::name(i))
            .env("MOING_GRPC__LISTEN", format!("127.0.0.1:{grpc}"))
            .env("MOING_ADMIN__LISTEN", format!("127.0.0.1:{admin}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        self.replicas[i] = Some(Replica {
            child,
            stopped: false,
        });
        wait_serving(Self::addr(i), Duration::from_secs(60)).await
    }

    /// SIGKILL of replica `i`, reaped.
    pub fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(mut r) = self.replicas[i].take() {
            r.child.kill()?;
            r.child.wait()?;
        }
        Ok(())
    }

    /// SIGSTOP (`stop = true`) or SIGCONT of replica `i`.
    pub fn pause(&mut self, i: usize, stop: bool) -> anyhow::Result<()> {
        if let Some(r) = self.replicas[i].as_mut() {
            signal(
                &r.child.id().to_string(),
                if stop { "STOP" } else { "CONT" },
            )?;
            r.stopped = stop;
        }
        Ok(())
    }

    /// Stops Redis (SIGSTOP: it stops answering, its data — auth's sessions —
    /// stays), or lets it go on. Its pid comes from the pid file scripts/up
    /// wrote, else from Redis itself (one started by someone else).
    pub fn pause_redis(&mut self, stop: bool) -> anyhow::Result<()> {
        let pid = match std::fs::read_to_string(self.state_dir().join("run/redis.pid")) {
            Ok(pid) => pid.trim().to_owned(),
            Err(_) => redis_pid().context("redis pid (no pid file, and redis-cli did not say)")?,
        };
        signal(&pid, if stop { "STOP" } else { "CONT" })?;
        self.redis_stopped = stop;
        Ok(())
    }

    /// Kills the drill's replicas, makes sure MariaDB and Redis run, and
    /// starts notification again as scripts/up did (same environment, its log,
    /// its pid file).
    pub async fn restore(&mut self) -> anyhow::Result<()> {
        if self.redis_stopped {
            self.pause_redis(false)?;
        }
        for i in [A, B] {
            self.pause(i, false)?;
            self.kill(i)?;
        }
        if !mariadb_answers().await {
            restart_mariadb().await?;
        }
        let log = self.log_file("notification")?;
        let child = Command::new("nohup")
            .arg(&self.bin)
            .current_dir(&self.root)
            .envs(self.base_env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a Ctrl-C at the drill's terminal leaves it.
            .process_group(0)
            .spawn()
            .context("starting notification again")?;
        std::fs::write(
            self.state_dir().join("run/notification.pid"),
            format!("{}\n", child.id()),
        )?;
        wait_serving(Self::addr(A), Duration::from_secs(60)).await?;
        println!("[drill] restored: notification runs again as scripts/up started it");
        Ok(())
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for r in self.replicas.iter_mut().flatten() {
            if r.stopped {
                let _ = signal(&r.child.id().to_string(), "CONT");
            }
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
    }
}

fn alive(pid: &str) -> bool {
    Command::new("kill")
        .args(["-0", pid])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn signal(pid: &str, sig: &str) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid)
        .status()?;
    if !status.success() {
        bail!("kill -{sig} {pid} failed");
    }
    Ok(())
}

/// Waits until the gRPC health check of `addr` answers SERVING.
pub async fn wait_serving(addr: SocketAddr, within: Duration) -> anyhow::Result<()> {
    let until = Instant::now() + within;
    loop {
        if serving(addr).await {
            return Ok(());
        }
        if Instant::now() > until {
            bail!("notification at {addr} did not serve within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn serving(addr: SocketAddr) -> bool {
    let Ok(endpoint) = tonic::transport::Endpoint::from_shared(format!("http://{addr}")) else {
        return false;
    };
    let Ok(channel) = endpoint
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(1))
        .connect()
        .await
    else {
        return false;
    };
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32)
}

/// `command` as root (directly when we are root, else through sudo), as
/// scripts/lib/common.sh's `as_root`.
fn as_root(command: &[&str]) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let mut cmd = Command::new(if root { command[0] } else { "sudo" });
    cmd.args(if root { &command[1..] } else { command });
    cmd
}

/// MariaDB answers on its socket (as root, like common.sh's `mysql_root`).
pub async fn mariadb_answers() -> bool {
    tokio::task::spawn_blocking(|| {
        as_root(&["mariadb", "--protocol=socket", "-uroot", "-e", "SELECT 1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
    .await
    .unwrap_or(false)
}

/// `service mariadb restart`; returns when it answers again.
pub async fn restart_mariadb() -> anyhow::Result<()> {
    let status = tokio::task::spawn_blocking(|| {
        let quiet = |mut c: Command| {
            c.stdout(Stdio::null()).stderr(Stdio::null());
            c.status()
        };
        let service = quiet(as_root(&["service", "mariadb", "restart"]))?;
        if service.success() {
            return Ok(service);
        }
        // Started without an init script (scripts/lib/common.sh falls back
        // to mysqld_safe): stop it cleanly and start it the same way.
        quiet(as_root(&[
            "mariadb-admin",
            "--protocol=socket",
            "-uroot",
            "shutdown",
        ]))?;
        quiet(as_root(&[
            "sh",
            "-c",
            "nohup mysqld_safe --user=mysql >/dev/null 2>&1 &",
        ]))
    })
    .await??;
    if !status.success() {
        bail!("mariadb did not restart ({status})");
    }
    let until = Instant::now() + Duration::from_secs(60);
    while !mariadb_answers().await {
        if Instant::now() > until {
            bail!("mariadb did not come back within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Redis's own pid (`INFO server`), on `MOING_REDIS_PORT` (6379).
fn redis_pid() -> Option<String> {
    let port = std::env::var("MOING_REDIS_PORT").unwrap_or_else(|_| "6379".into());
    let out = Command::new("redis-cli")
        .args(["-p", &port, "info", "server"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .map(|pid| pid.trim().to_owned())
}

/// The `project_id` of a service-account key.
fn project_of(key_json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(key_json)
        .ok()
        .and_then(|v| v["project_id"].as_str().map(str::to_owned))
        .unwrap_or_default()
}
