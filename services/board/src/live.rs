//! Which teams' goal boards changed, for the WatchGoalBoard streams of every
//! replica.
//!
//! The board service receives the events of moim, mission and its own outbox
//! (`crate::sink`); an event that moves a board (a proof, a skip, a mission, a
//! member, a notice, a vote, the score) marks its team changed here: the
//! watchers on this replica are told at once, and the other replicas through
//! Redis pub/sub (one channel; a message is `<replica> <team id>`). Each
//! replica listens on the channel and tells its own watchers. A watcher holds
//! a `watch` receiver per team: a burst of changes is one pending change, so a
//! slow watcher never queues and never slows anyone else.
//!
//! Without Redis (or while it is down) watchers still see the changes applied
//! on their own replica; when the listener reconnects it marks every watched
//! team changed, since it may have missed messages meanwhile.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::StreamExt;
use redis::{AsyncCommands, aio::ConnectionManager};
use tokio::sync::{OnceCell, watch};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::LiveRedisSettings;

/// How long a publish may take before it is given up (logged).
const PUBLISH_TIMEOUT: Duration = Duration::from_millis(500);

/// Told first of every change (a team, or None: possibly every team).
type Hook = Box<dyn Fn(Option<Uuid>) + Send + Sync>;

pub struct Live {
    /// This replica, so that it ignores its own messages.
    origin: String,
    teams: Mutex<HashMap<Uuid, watch::Sender<u64>>>,
    redis: Option<Redis>,
    hooks: Mutex<Vec<Hook>>,
}

struct Redis {
    client: redis::Client,
    channel: String,
    publisher: OnceCell<ConnectionManager>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("origin", &self.origin)
            .field("redis", &self.redis.as_ref().map(|r| &r.channel))
            .finish_non_exhaustive()
    }
}

impl Live {
    pub fn new(settings: &LiveRedisSettings) -> anyhow::Result<Arc<Self>> {
        let redis = if settings.url.trim().is_empty() {
            tracing::warn!("no redis: goal-board watchers see this replica's changes only");
            None
        } else {
            Some(Redis {
                client: redis::Client::open(settings.url.as_str())?,
                channel: settings.channel.clone(),
                publisher: OnceCell::new(),
            })
        };
        Ok(Arc::new(Self {
            origin: Uuid::now_v7().simple().to_string(),
            teams: Mutex::new(HashMap::new()),
            redis,
            hooks: Mutex::new(Vec::new()),
        }))
    }

    /// Runs `hook` on every change, before the watchers are told (the shared
    /// boards of `crate::shared` forget the team there).
    pub fn on_change(&self, hook: impl Fn(Option<Uuid>) + Send + Sync + 'static) {
        if let Ok(mut hooks) = self.hooks.lock() {
            hooks.push(Box::new(hook));
        }
    }

    fn run_hooks(&self, team: Option<Uuid>) {
        if let Ok(hooks) = self.hooks.lock() {
            for hook in hooks.iter() {
                hook(team);
            }
        }
    }

    /// The team's changes, for one watcher: `changed()` fires after each.
    pub fn watch(&self, team: Uuid) -> watch::Receiver<u64> {
        let Ok(mut teams) = self.teams.lock() else {
            return watch::channel(0).1;
        };
        teams.retain(|_, tx| tx.receiver_count() > 0);
        teams
            .entry(team)
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Watchers on this replica.
    pub fn watchers(&self) -> usize {
        self.teams
            .lock()
            .map(|t| t.values().map(watch::Sender::receiver_count).sum())
            .unwrap_or(0)
    }

    /// The teams' boards changed: this replica's watchers now, the others'
    /// through Redis (best effort: a failed publish is logged).
    pub async fn changed(&self, teams: &[Uuid]) {
        for team in teams {
            self.tell(*team);
        }
        let messages: Vec<String> = teams
            .iter()
            .map(|team| format!("{} {team}", self.origin))
            .collect();
        self.publish(messages).await;
    }

    /// Every team's board may have changed (a block between two members,
    /// which shows on every board they share): here and, through Redis, on the
    /// other replicas.
    pub async fn changed_everywhere(&self) {
        self.tell_all();
        self.publish(vec![format!("{} *", self.origin)]).await;
    }

    /// Tells the other replicas through Redis (best effort: a failed or
    /// timed-out publish is logged).
    async fn publish(&self, messages: Vec<String>) {
        let Some(redis) = &self.redis else { return };
        let publish = async {
            let mut conn = redis
                .publisher
                .get_or_try_init(|| redis.client.get_connection_manager())
                .await?
                .clone();
            for message in messages {
                let _: i64 = conn.publish(&redis.channel, message).await?;
            }
            Ok::<_, redis::RedisError>(())
        };
        match tokio::time::timeout(PUBLISH_TIMEOUT, publish).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "goal-board change not published"),
            Err(_) => tracing::warn!("goal-board change not published: redis timed out"),
        }
    }

    /// Tells this replica's watchers of the team.
    fn tell(&self, team: Uuid) {
        self.run_hooks(Some(team));
        if let Ok(teams) = self.teams.lock()
            && let Some(tx) = teams.get(&team)
        {
            tx.send_modify(|v| *v = v.wrapping_add(1));
        }
    }

    /// Every watched team may have changed (messages were possibly missed).
    fn tell_all(&self) {
        self.run_hooks(None);
        if let Ok(teams) = self.teams.lock() {
            for tx in teams.values() {
                tx.send_modify(|v| *v = v.wrapping_add(1));
            }
        }
    }

    /// Listens to the other replicas until `stop`, reconnecting with backoff.
    pub fn listen(self: &Arc<Self>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let Some(redis) = &this.redis else { return };
            let mut backoff = Duration::from_millis(200);
            let mut connected_before = false;
            loop {
                let mut connected = false;
                let run = async {
                    let mut pubsub = redis.client.get_async_pubsub().await?;
                    pubsub.subscribe(&redis.channel).await?;
                    connected = true;
                    if connected_before {
                        tracing::info!("goal-board changes: redis is back");
                        this.tell_all();
                    }
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let Ok(text) = msg.get_payload::<String>() else {
                            continue;
                        };
                        let Some((origin, team)) = text.split_once(' ') else {
                            continue;
                        };
                        if origin == this.origin {
                            continue;
                        }
                        if team == "*" {
                            this.tell_all();
                        } else if let Ok(team) = Uuid::parse_str(team) {
                            this.tell(team);
                        }
                    }
                    Ok::<_, redis::RedisError>(())
                };
                tokio::select! {
                    _ = stop.cancelled() => return,
                    r = run => {
                        match r {
                            Ok(()) => tracing::warn!("goal-board changes: redis closed the subscription"),
                            Err(e) => tracing::warn!(error = %e, "goal-board changes: redis unavailable"),
                        }
                    }
                }
                if connected {
                    connected_before = true;
                    backoff = Duration::from_millis(200);
                } else {
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
            }
        })
    }
}
