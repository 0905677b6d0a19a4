//! Social providers, each through its real protocol:
//! - Kakao: the app's access token → token-info (`app_id` must be ours) → user endpoint.
//! - Google and Apple: the ID token's RS256 signature against the provider's JWKS
//!   (cached; refetched on an unknown `kid`, at most once a minute), `iss`, `aud`, `exp`.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use crate::{
    config::{KakaoSettings, OidcSettings},
    error::AuthError,
};

/// Who the provider says the user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Kakao {
    http: reqwest::Client,
    settings: KakaoSettings,
}

#[derive(Deserialize)]
struct KakaoTokenInfo {
    id: i64,
    app_id: i64,
}

#[derive(Deserialize)]
struct KakaoUser {
    id: i64,
    #[serde(default)]
    kakao_account: Option<KakaoAccount>,
}

#[derive(Deserialize)]
struct KakaoAccount {
    #[serde(default)]
    email: Option<String>,
}

/// Kakao's error body: `{"msg": "...", "code": -401}`.
#[derive(Deserialize)]
struct KakaoError {
    #[serde(default)]
    msg: String,
    #[serde(default)]
    code: i64,
}

impl Kakao {
    pub fn new(http: reqwest::Client, settings: KakaoSettings) -> Self {
        Self { http, settings }
    }

    async fn get<T: for<'de> Deserialize<'de>>(
        &self,
        url: &str,
        token: &str,
    ) -> Result<T, AuthError> {
        let resp = self
            .http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| AuthError::ProviderUnavailable(format!("kakao: {e}")))?;
        let status = resp.status();
        if status.is_success() {
            return resp
                .json::<T>()
                .await
                .map_err(|e| AuthError::ProviderUnavailable(format!("kakao body: {e}")));
        }
        let err: KakaoError = resp.json().await.unwrap_or(KakaoError {
            msg: String::new(),
            code: 0,
        });
        // -401: invalid/expired token, -2: bad parameter; 5xx and -1/-7/-9798: Kakao-side trouble.
        if status.is_server_error() || matches!(err.code, -1 | -7 | -9798) {
            Err(AuthError::ProviderUnavailable(format!(
                "kakao {status}: {} ({})",
                err.msg, err.code
            )))
        } else {
            Err(AuthError::ProviderTokenInvalid(format!(
                "kakao {status}: {} ({})",
                err.msg, err.code
            )))
        }
    }

    pub async fn verify(&self, access_token: &str) -> Result<Identity, AuthError> {
        let info: KakaoTokenInfo = self
            .get(&self.settings.token_info_url, access_token)
            .await?;
        if info.app_id != self.settings.app_id {
            return Err(AuthError::ProviderTokenInvalid(format!(
                "kakao token issued to app {}",
                info.app_id
            )));
        }
        let user: KakaoUser = self.get(&self.settings.user_url, access_token).await?;
        if user.id != info.id {
            return Err(AuthError::ProviderTokenInvalid(
                "kakao user mismatch".into(),
            ));
        }
        Ok(Identity {
            subject: user.id.to_string(),
            email: user.kakao_account.and_then(|a| a.email),
        })
    }

    /// Revokes the app link at Kakao with the user's token (best effort).
    pub async fn unlink(&self, access_token: &str) -> Result<(), String> {
        let resp = self
            .http
            .post(&self.settings.unlink_url)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("kakao unlink answered {}", resp.status()))
        }
    }
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<RemoteJwk>,
}

#[derive(Deserialize)]
struct RemoteJwk {
    kid: String,
    kty: String,
    #[serde(default)]
    n: String,
    #[serde(default)]
    e: String,
}

#[derive(Debug, Deserialize)]
struct IdTokenClaims {
    sub: String,
    #[serde(default)]
    email: Option<String>,
}

struct Cache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// An OpenID Connect ID-token verifier with a cached JWKS.
pub struct Oidc {
    name: &'static str,
    http: reqwest::Client,
    settings: OidcSettings,
    cache: RwLock<Cache>,
    refresh: Mutex<()>,
    min_refetch: Duration,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    pub fn new(name: &'static str, http: reqwest::Client, settings: OidcSettings) -> Self {
        Self {
            name,
            http,
            cache: RwLock::new(Cache {
                keys: HashMap::new(),
                fetched_at: None,
            }),
            refresh: Mutex::new(()),
            min_refetch: Duration::from_secs(settings.jwks_refetch_interval_secs),
            settings,
        }
    }

    async fn refetch(&self) -> Result<(), AuthError> {
        let _guard = self.refresh.lock().await;
        if let Some(at) = self.cache.read().await.fetched_at
            && at.elapsed() < self.min_refetch
        {
            return Ok(());
        }
        let set: JwkSet = self
            .http
            .get(&self.settings.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| AuthError::ProviderUnavailable(format!("{} jwks: {e}", self.name)))?
            .json()
            .await
            .map_err(|e| AuthError::ProviderUnavailable(format!("{} jwks body: {e}", self.name)))?;
        let mut keys = HashMap::new();
        for k in set.keys.into_iter().filter(|k| k.kty == "RSA") {
            if let Ok(key) = DecodingKey::from_rsa_components(&k.n, &k.e) {
                keys.insert(k.kid, key);
            }
        }
        let mut cache = self.cache.write().await;
        cache.keys = keys;
        cache.fetched_at = Some(Instant::now());
        Ok(())
    }

    pub async fn verify(&self, id_token: &str) -> Result<Identity, AuthError> {
        if self.settings.client_ids.is_empty() {
            return Err(AuthError::ProviderTokenInvalid(format!(
                "{} sign-in is not configured",
                self.name
            )));
        }
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|_| AuthError::ProviderTokenInvalid("malformed id token".into()))?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::ProviderTokenInvalid(format!(
                "alg {:?} not allowed",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::ProviderTokenInvalid("id token without kid".into()))?;
        let cached = self.cache.read().await.keys.get(&kid).cloned();
        let key = match cached {
            Some(k) => k,
            None => {
                self.refetch().await?;
                let refreshed = self.cache.read().await.keys.get(&kid).cloned();
                refreshed
                    .ok_or_else(|| AuthError::ProviderTokenInvalid(format!("unknown kid {kid}")))?
            }
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&self.settings.issuers);
        validation.set_audience(&self.settings.client_ids);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 60;
        let data = jsonwebtoken::decode::<IdTokenClaims>(id_token, &key, &validation)
            .map_err(|e| AuthError::ProviderTokenInvalid(format!("{} id token: {e}", self.name)))?;
        Ok(Identity {
            subject: data.claims.sub,
            email: data.claims.email,
        })
    }

    /// Best-effort revocation of the provider grant (Google: token revoke endpoint).
    pub async fn revoke(&self, token: &str) -> Result<(), String> {
        if self.settings.revoke_url.is_empty() {
            return Err(format!(
                "{} has no revocation endpoint configured",
                self.name
            ));
        }
        let resp = self
            .http
            .post(&self.settings.revoke_url)
            .form(&[("token", token)])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("{} revoke answered {}", self.name, resp.status()))
        }
    }
}
