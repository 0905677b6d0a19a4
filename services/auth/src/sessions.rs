//! Device sessions and refresh tokens in Redis, plus fixed-window rate limits.
//!
//! Keys (under the configured prefix):
//! - `sess:{sid}`: hash of member, device, platform, created/last-used/expiry and
//!   `current` = SHA-256 of the one live refresh token of this session.
//! - `msess:{member}`: set of the member's session ids.
//! - `rt:{sha256}`: `{sid}|{expires_at}` for every refresh token ever issued, kept
//!   past expiry for a grace week: a rotated-out token is recognised (reuse →
//!   the whole session is revoked) and an expired one answers "expired".
//!
//! Only hashes are stored; the token itself exists only in the client. Rotation
//! and reuse detection run in one Lua script, so two concurrent refreshes with
//! the same token cannot both succeed.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeZone, Utc};
use redis::{AsyncCommands, Script, aio::ConnectionManager};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::{config::RedisSettings, error::AuthError};

/// Prefix of refresh tokens, so they are recognisable in logs and leaks scanners.
const REFRESH_PREFIX: &str = "mrt_";
/// How long rotated-out token records outlive their expiry, for reuse detection.
const REUSE_GRACE_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub session_id: Uuid,
    pub member_id: Uuid,
    pub device_name: String,
    pub platform: i32,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A new refresh token and when it expires.
#[derive(Debug, Clone)]
pub struct Issued {
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    Rotated { session_id: Uuid, member_id: Uuid },
    Reused { session_id: Uuid, member_id: Uuid },
}

pub struct SessionStore {
    client: redis::Client,
    conn: Mutex<Option<ConnectionManager>>,
    prefix: String,
    timeout: Duration,
    ttl: Duration,
    rotate: Script,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn ts(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

const ROTATE_LUA: &str = r#"
local rec = redis.call('GET', KEYS[1])
if not rec then return {'INVALID'} end
local sep = string.find(rec, '|', 1, true)
local sid = string.sub(rec, 1, sep - 1)
local exp = tonumber(string.sub(rec, sep + 1))
local now = tonumber(ARGV[3])
local skey = ARGV[1] .. 'sess:' .. sid
local cur = redis.call('HGET', skey, 'current')
if not cur then return {'INVALID'} end
local member = redis.call('HGET', skey, 'member')
if cur ~= ARGV[4] then
  redis.call('DEL', skey)
  redis.call('SREM', ARGV[1] .. 'msess:' .. member, sid)
  return {'REUSED', sid, member}
end
if exp < now then return {'EXPIRED'} end
local ttl = tonumber(ARGV[5])
local newexp = now + ttl
redis.call('HSET', skey, 'current', ARGV[2], 'last_used_at', now, 'expires_at', newexp)
redis.call('EXPIRE', skey, ttl)
redis.call('SET', ARGV[1] .. 'rt:' .. ARGV[2], sid .. '|' .. newexp, 'EX', ttl + tonumber(ARGV[6]))
return {'OK', sid, member}
"#;

impl SessionStore {
    pub fn new(settings: &RedisSettings, ttl: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: {
                use redis::IntoConnectionInfo;
                // Small pipelined writes: without TCP_NODELAY Nagle adds ~40 ms per call.
                let info = settings
                    .url
                    .as_str()
                    .into_connection_info()?
                    .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
                redis::Client::open(info)?
            },
            conn: Mutex::new(None),
            prefix: settings.key_prefix.clone(),
            timeout: Duration::from_millis(settings.timeout_ms),
            ttl,
            rotate: Script::new(ROTATE_LUA),
        })
    }

    /// A connection, (re)established on demand so Redis may come and go.
    async fn conn(&self) -> Result<ConnectionManager, AuthError> {
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

    fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    fn new_token() -> String {
        let bytes: [u8; 32] = rand::random();
        format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Opens a session for a device and returns its first refresh token.
    pub async fn open(
        &self,
        session_id: Uuid,
        member_id: Uuid,
        device_name: &str,
        platform: i32,
    ) -> Result<Issued, AuthError> {
        let mut c = self.conn().await?;
        let token = Self::new_token();
        let now = moing_common::clock::now().timestamp();
        let exp = now + self.ttl.as_secs() as i64;
        let skey = self.key(&format!("sess:{session_id}"));
        let h = hash(&token);
        redis::pipe()
            .atomic()
            .hset_multiple(
                &skey,
                &[
                    ("member", member_id.to_string()),
                    ("device_name", device_name.to_owned()),
                    ("platform", platform.to_string()),
                    ("created_at", now.to_string()),
                    ("last_used_at", now.to_string()),
                    ("expires_at", exp.to_string()),
                    ("current", h.clone()),
                ],
            )
            .expire(&skey, self.ttl.as_secs() as i64)
            .sadd(
                self.key(&format!("msess:{member_id}")),
                session_id.to_string(),
            )
            .set_ex(
                self.key(&format!("rt:{h}")),
                format!("{session_id}|{exp}"),
                self.ttl.as_secs() + REUSE_GRACE_SECS as u64,
            )
            .query_async::<()>(&mut c)
            .await?;
        Ok(Issued {
            refresh_token: token,
            expires_at: ts(exp),
        })
    }

    /// Rotates `token`: the old one dies; a dead one revokes its whole session.
    pub async fn rotate(&self, token: &str) -> Result<(Rotation, Option<Issued>), AuthError> {
        if !token.starts_with(REFRESH_PREFIX) || token.len() > 128 {
            return Err(AuthError::RefreshTokenInvalid);
        }
        let mut c = self.conn().await?;
        let new_token = Self::new_token();
        let now = moing_common::clock::now().timestamp();
        let old = hash(token);
        let reply: Vec<String> = self
            .rotate
            .key(self.key(&format!("rt:{old}")))
            .arg(&self.prefix)
            .arg(hash(&new_token))
            .arg(now)
            .arg(&old)
            .arg(self.ttl.as_secs())
            .arg(REUSE_GRACE_SECS)
            .invoke_async(&mut c)
            .await?;
        let ids = |r: &[String]| -> Result<(Uuid, Uuid), AuthError> {
            let sid = r.get(1).and_then(|s| Uuid::parse_str(s).ok());
            let mid = r.get(2).and_then(|s| Uuid::parse_str(s).ok());
            sid.zip(mid).ok_or(AuthError::RefreshTokenInvalid)
        };
        match reply.first().map(String::as_str) {
            Some("OK") => {
                let (session_id, member_id) = ids(&reply)?;
                Ok((
                    Rotation::Rotated {
                        session_id,
                        member_id,
                    },
                    Some(Issued {
                        refresh_token: new_token,
                        expires_at: ts(now + self.ttl.as_secs() as i64),
                    }),
                ))
            }
            Some("REUSED") => {
                let (session_id, member_id) = ids(&reply)?;
                Ok((
                    Rotation::Reused {
                        session_id,
                        member_id,
                    },
                    None,
                ))
            }
            Some("EXPIRED") => Err(AuthError::RefreshTokenExpired),
            _ => Err(AuthError::RefreshTokenInvalid),
        }
    }

    /// Ends one session of `member`; false when it did not exist (or was not theirs).
    pub async fn revoke(&self, member_id: Uuid, session_id: Uuid) -> Result<bool, AuthError> {
        let mut c = self.conn().await?;
        let skey = self.key(&format!("sess:{session_id}"));
        let owner: Option<String> = c.hget(&skey, "member").await?;
        if owner.as_deref() != Some(member_id.to_string().as_str()) {
            return Ok(false);
        }
        redis::pipe()
            .atomic()
            .del(&skey)
            .srem(
                self.key(&format!("msess:{member_id}")),
                session_id.to_string(),
            )
            .query_async::<()>(&mut c)
            .await?;
        Ok(true)
    }

    /// Ends every session of `member` (withdrawal).
    pub async fn revoke_all(&self, member_id: Uuid) -> Result<(), AuthError> {
        for s in self.list(member_id).await? {
            self.revoke(member_id, s.session_id).await?;
        }
        let mut c = self.conn().await?;
        c.del::<_, ()>(self.key(&format!("msess:{member_id}")))
            .await?;
        Ok(())
    }

    /// Whether a session is still live (not signed out, revoked or expired).
    pub async fn is_live(&self, session_id: Uuid) -> Result<bool, AuthError> {
        let mut c = self.conn().await?;
        Ok(c.exists(self.key(&format!("sess:{session_id}"))).await?)
    }

    /// The member's live sessions, newest first; stale ids are cleaned up.
    pub async fn list(&self, member_id: Uuid) -> Result<Vec<SessionInfo>, AuthError> {
        let mut c = self.conn().await?;
        let mkey = self.key(&format!("msess:{member_id}"));
        let ids: Vec<String> = c.smembers(&mkey).await?;
        let mut out = Vec::new();
        for id in ids {
            let fields: std::collections::HashMap<String, String> =
                c.hgetall(self.key(&format!("sess:{id}"))).await?;
            let Ok(session_id) = Uuid::parse_str(&id) else {
                continue;
            };
            if fields.is_empty() {
                c.srem::<_, _, ()>(&mkey, &id).await?;
                continue;
            }
            let num = |k: &str| {
                fields
                    .get(k)
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0)
            };
            out.push(SessionInfo {
                session_id,
                member_id,
                device_name: fields.get("device_name").cloned().unwrap_or_default(),
                platform: num("platform") as i32,
                created_at: ts(num("created_at")),
                last_used_at: ts(num("last_used_at")),
                expires_at: ts(num("expires_at")),
            });
        }
        out.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then(b.session_id.cmp(&a.session_id))
        });
        Ok(out)
    }

    /// The session (refresh-token family) a refresh token belongs to, if known.
    pub async fn family_of(&self, token: &str) -> Result<Option<Uuid>, AuthError> {
        let mut c = self.conn().await?;
        let rec: Option<String> = c.get(self.key(&format!("rt:{}", hash(token)))).await?;
        Ok(rec
            .as_deref()
            .and_then(|r| r.split('|').next())
            .and_then(|sid| Uuid::parse_str(sid).ok()))
    }

    /// Fixed one-minute window: fails with the seconds to wait once `limit` is passed.
    pub async fn limit(&self, bucket: &str, who: &str, limit: u32) -> Result<(), AuthError> {
        let mut c = self.conn().await?;
        let now = moing_common::clock::now().timestamp();
        let window = now / 60;
        let key = self.key(&format!("rl:{bucket}:{who}:{window}"));
        let (count,): (u32,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .expire(&key, 120)
            .ignore()
            .query_async(&mut c)
            .await?;
        if count > limit {
            return Err(AuthError::RateLimited((60 - now % 60).max(1) as u64));
        }
        Ok(())
    }

    /// Liveness probe for health.
    pub async fn ping(&self) -> bool {
        match self.conn().await {
            Ok(mut c) => redis::cmd("PING")
                .query_async::<String>(&mut c)
                .await
                .is_ok(),
            Err(_) => false,
        }
    }
}
