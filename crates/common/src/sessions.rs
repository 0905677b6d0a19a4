//! Immediate revocation: is the session behind an access token still live?
//!
//! An access token is valid for its whole lifetime (15 minutes) once signed, so
//! sign-out, session revocation and withdrawal would otherwise leave it working.
//! Auth keeps every live session in Redis (`<prefix>sess:<session id>`) and
//! deletes it on all three; the shared auth layer asks Redis whether the token's
//! session still exists. A "live" answer is cached for `session_check_ms`
//! (500 ms by default), so a revoked token stops within that plus one round trip
//! on every service, at one `EXISTS` per session per interval. When Redis cannot
//! be reached, a session seen live within the last [`STALE_GRACE`] is still
//! admitted (a short Redis blip does not sign everyone out); otherwise the call
//! answers `UNAVAILABLE`.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use redis::{AsyncCommands, aio::ConnectionManager};
use tokio::sync::Mutex;
use uuid::Uuid;

/// How long a session seen live keeps being admitted while Redis is unreachable.
pub const STALE_GRACE: Duration = Duration::from_secs(60);

/// Cached answers beyond this many sessions are dropped (memory bound).
const CACHE_LIMIT: usize = 100_000;

/// What the check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Live,
    Ended,
    /// Redis unreachable and no recent "live" answer.
    Unknown,
}

/// The session check of one process (shared by its auth layer).
pub struct SessionCheck {
    client: redis::Client,
    conn: Mutex<Option<ConnectionManager>>,
    prefix: String,
    fresh_for: Duration,
    timeout: Duration,
    cache: std::sync::Mutex<HashMap<Uuid, Instant>>,
}

impl std::fmt::Debug for SessionCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCheck")
            .field("prefix", &self.prefix)
            .field("fresh_for", &self.fresh_for)
            .finish_non_exhaustive()
    }
}

impl SessionCheck {
    /// `url` is auth's Redis, `prefix` auth's key prefix (`auth:`); a live
    /// answer is reused for `fresh_for`; Redis gets `timeout` per call.
    pub fn new(
        url: &str,
        prefix: &str,
        fresh_for: Duration,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        use redis::IntoConnectionInfo;
        let info = url
            .into_connection_info()?
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        Ok(Self {
            client: redis::Client::open(info)?,
            conn: Mutex::new(None),
            prefix: prefix.to_owned(),
            fresh_for,
            timeout,
            cache: std::sync::Mutex::new(HashMap::new()),
        })
    }

    async fn conn(&self) -> redis::RedisResult<ConnectionManager> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let c = ConnectionManager::new_with_config(self.client.clone(), config).await?;
        *guard = Some(c.clone());
        Ok(c)
    }

    fn seen_live(&self, session: Uuid) -> Option<Duration> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(&session).map(Instant::elapsed)
    }

    fn remember(&self, session: Uuid, live: bool) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if live {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(session, Instant::now());
        } else {
            cache.remove(&session);
        }
    }

    /// Whether `session` is still live: from the cache while fresh, else Redis.
    pub async fn state(&self, session: Uuid) -> SessionState {
        let seen = self.seen_live(session);
        if seen.is_some_and(|age| age < self.fresh_for) {
            return SessionState::Live;
        }
        let key = format!("{}sess:{session}", self.prefix);
        let answer: redis::RedisResult<bool> = match self.conn().await {
            Ok(mut c) => c.exists(&key).await,
            Err(e) => Err(e),
        };
        match answer {
            Ok(live) => {
                self.remember(session, live);
                if live {
                    SessionState::Live
                } else {
                    SessionState::Ended
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "session check: redis unavailable");
                if seen.is_some_and(|age| age < STALE_GRACE) {
                    SessionState::Live
                } else {
                    SessionState::Unknown
                }
            }
        }
    }
}
