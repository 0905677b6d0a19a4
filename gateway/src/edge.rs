//! Edge checks shared by gRPC, gRPC-web and REST: the access token is verified
//! here (JWKS from auth, cached) so bad tokens never reach a service, and
//! per-member / per-address fixed-window rate limits answer 429.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use moing_common::{
    error::{ApiError, reason},
    token::{Principal, TokenError, TokenVerifier},
};
use tonic::Status;

/// Token verification policy at the edge.
pub struct EdgeAuth {
    pub verifier: Arc<TokenVerifier>,
    /// Full method names (`moing.auth.v1.AuthService.SignIn`) callable without a token.
    pub anonymous: HashSet<String>,
}

impl std::fmt::Debug for EdgeAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeAuth")
            .field("anonymous", &self.anonymous)
            .finish_non_exhaustive()
    }
}

impl EdgeAuth {
    /// Verifies the bearer token of a call to `method` (full name). Anonymous
    /// methods pass without one; a token that is present must be valid.
    pub async fn check(
        &self,
        method: &str,
        authorization: Option<&str>,
    ) -> Result<Option<Principal>, Status> {
        let token = authorization.and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then_some(token.trim())
        });
        match token {
            None if self.anonymous.contains(method) => Ok(None),
            None => Err(ApiError::unauthenticated(
                reason::TOKEN_MISSING,
                "access token is missing",
            )
            .into()),
            Some(token) => match self.verifier.verify(token).await {
                Ok(p) => Ok(Some(p)),
                // Refresh-token calls carry no access token; an expired access token
                // sent along with them must not block refreshing.
                Err(_) if self.anonymous.contains(method) => Ok(None),
                Err(e) => Err(match e {
                    TokenError::Expired => {
                        ApiError::unauthenticated(reason::TOKEN_EXPIRED, e.to_string())
                    }
                    TokenError::KeysUnavailable => ApiError::unavailable("token verification"),
                    TokenError::Missing | TokenError::Invalid(_) => {
                        ApiError::unauthenticated(reason::TOKEN_INVALID, e.to_string())
                    }
                }
                .into()),
            },
        }
    }
}

/// Fixed one-minute windows per key, in memory (per gateway replica).
#[derive(Debug)]
pub struct RateLimiter {
    per_member: u32,
    per_address: u32,
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

impl RateLimiter {
    pub fn new(per_member: u32, per_address: u32) -> Self {
        Self {
            per_member,
            per_address,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn hit(&self, key: String, limit: u32, now: u64) -> Result<(), u64> {
        let window = now / 60;
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(());
        };
        if windows.len() > 100_000 {
            windows.retain(|_, (w, _)| *w == window);
        }
        let entry = windows.entry(key).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 += 1;
        if entry.1 > limit {
            Err((60 - now % 60).max(1))
        } else {
            Ok(())
        }
    }

    /// Counts one request; fails with `RESOURCE_EXHAUSTED` and the seconds to wait.
    pub fn check(&self, address: &str, member: Option<&Principal>) -> Result<(), Status> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let result = self
            .hit(format!("a:{address}"), self.per_address, now)
            .and_then(|()| match member {
                Some(p) => self.hit(format!("m:{}", p.member_id), self.per_member, now),
                None => Ok(()),
            });
        result.map_err(|secs| {
            ApiError::new(
                tonic::Code::ResourceExhausted,
                reason::RATE_LIMITED,
                format!("too many requests, retry in {secs} seconds"),
            )
            .with_metadata("retry_after_seconds", secs.to_string())
            .into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_limit_and_reset() {
        let l = RateLimiter::new(2, 3);
        assert!(l.hit("k".into(), 2, 120).is_ok());
        assert!(l.hit("k".into(), 2, 121).is_ok());
        assert_eq!(l.hit("k".into(), 2, 130), Err(50));
        assert!(l.hit("k".into(), 2, 180).is_ok(), "next window");
    }
}
