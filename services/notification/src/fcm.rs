//! FCM HTTP v1 client: service-account OAuth (the JWT-bearer grant, RS256
//! assertion signed with the account's key), an access token cached and
//! renewed before it expires, and `messages:send` for one device with retries
//! of 429/500/503 that honour `Retry-After`. Errors are read the way FCM
//! documents them: `details[].errorCode` of the `FcmError` detail first, then
//! the status, then the HTTP code.

use std::{collections::BTreeMap, time::Duration};

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::config::FcmSettings;

/// The narrow OAuth scope for sending messages.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
const FCM_ERROR_TYPE: &str = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
/// Renew the access token when less than this is left of it.
const RENEW_BEFORE: chrono::Duration = chrono::Duration::seconds(300);

/// The fields of a service-account key file that the grant needs.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key: String,
    #[serde(default)]
    pub private_key_id: String,
    #[serde(default)]
    pub project_id: String,
    #[serde(default)]
    pub token_uri: String,
}

/// Platform block of a message (the device's platform).
pub use crate::domain::Platform;

/// One push to one device.
#[derive(Debug, Clone)]
pub struct Push {
    pub token: String,
    pub platform: Platform,
    pub title: String,
    pub body: String,
    /// String-to-string routing data (`type`, `path`, ids).
    pub data: BTreeMap<String, String>,
    /// Groups notifications of one kind on the device (APNs `thread-id`).
    pub tag: String,
    /// The message's identity, the same on every attempt: Android's
    /// `notification.tag` and APNs' `apns-collapse-id`, so a message sent again
    /// (after a crash mid-send) replaces the one shown instead of adding one.
    pub collapse_id: String,
}

impl Push {
    /// The `messages:send` body: a notification, the data map, and Android and
    /// APNs blocks (plus webpush for web tokens).
    pub fn body(&self) -> Value {
        let mut message = json!({
            "token": self.token,
            "notification": {"title": self.title, "body": self.body},
            "data": self.data,
            "android": {
                "priority": "HIGH",
                "notification": {
                    "title": self.title,
                    "body": self.body,
                    "channel_id": "moing_default",
                    "tag": self.collapse_id,
                },
            },
            "apns": {
                "headers": {
                    "apns-priority": "10",
                    "apns-push-type": "alert",
                    "apns-collapse-id": self.collapse_id,
                },
                "payload": {"aps": {
                    "alert": {"title": self.title, "body": self.body},
                    "sound": "default",
                    "thread-id": self.tag,
                }},
            },
        });
        if self.platform == Platform::Web
            && let Some(m) = message.as_object_mut()
        {
            m.insert(
                "webpush".into(),
                json!({"notification": {"title": self.title, "body": self.body}}),
            );
        }
        json!({ "message": message })
    }
}

/// The result of sending one push, after retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// FCM accepted it (`projects/{p}/messages/{id}`).
    Sent(String),
    /// FCM says the token is dead (UNREGISTERED, an invalid token, or a token
    /// of another sender): delete it.
    TokenInvalid(String),
    /// Failed for good or after the last retry.
    Failed(String),
    /// No credentials are configured: logged and skipped.
    Skipped,
}

/// An FCM error response, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FcmError {
    code: String,
    message: String,
    /// A BadRequest violation about something other than the token.
    payload_problem: bool,
}

fn parse_error(http: u16, body: &str) -> FcmError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let err = &v["error"];
    let details = err["details"].as_array().cloned().unwrap_or_default();
    let detail_code = details
        .iter()
        .find(|d| d["@type"] == FCM_ERROR_TYPE)
        .and_then(|d| d["errorCode"].as_str())
        .map(str::to_owned);
    let payload_problem = details.iter().any(|d| {
        d["fieldViolations"].as_array().is_some_and(|vs| {
            vs.iter()
                .any(|f| f["field"].as_str().is_some_and(|f| f != "message.token"))
        })
    });
    let code = detail_code
        .or_else(|| err["status"].as_str().map(str::to_owned))
        .unwrap_or_else(|| {
            match http {
                400 => "INVALID_ARGUMENT",
                401 => "UNAUTHENTICATED",
                403 => "SENDER_ID_MISMATCH",
                404 => "UNREGISTERED",
                429 => "QUOTA_EXCEEDED",
                500 => "INTERNAL",
                503 => "UNAVAILABLE",
                _ => "UNSPECIFIED_ERROR",
            }
            .to_owned()
        });
    FcmError {
        code,
        message: err["message"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect(),
        payload_problem,
    }
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    (at.with_timezone(&Utc) - Utc::now()).to_std().ok()
}

#[derive(Debug, Clone)]
struct AccessToken {
    value: String,
    expires_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: i64,
}

struct Credentials {
    account: ServiceAccount,
    key: EncodingKey,
    token_url: String,
    send_url: String,
}

/// The FCM client (cheap to share behind an `Arc`).
pub struct FcmClient {
    http: reqwest::Client,
    credentials: Option<Credentials>,
    token: Mutex<Option<AccessToken>>,
    settings: FcmSettings,
}

impl std::fmt::Debug for FcmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmClient")
            .field("enabled", &self.credentials.is_some())
            .finish_non_exhaustive()
    }
}

impl FcmClient {
    /// Reads the credentials from settings; none configured gives a client
    /// that logs and skips.
    pub fn new(settings: &FcmSettings) -> anyhow::Result<Self> {
        let json = if !settings.enabled {
            tracing::warn!("fcm disabled by configuration");
            None
        } else if !settings.credentials_json.trim().is_empty() {
            Some(settings.credentials_json.clone())
        } else if !settings.credentials_file.trim().is_empty() {
            Some(
                std::fs::read_to_string(&settings.credentials_file)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", settings.credentials_file))?,
            )
        } else {
            None
        };
        let credentials = match json {
            None => {
                tracing::warn!("no fcm credentials configured: pushes are logged and skipped");
                None
            }
            Some(json) => {
                let account: ServiceAccount = serde_json::from_str(&json)
                    .map_err(|e| anyhow::anyhow!("service account json: {e}"))?;
                let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())
                    .map_err(|e| anyhow::anyhow!("service account private key: {e}"))?;
                let token_url = [&settings.token_url, &account.token_uri]
                    .into_iter()
                    .find(|u| !u.trim().is_empty())
                    .cloned()
                    .unwrap_or_else(|| DEFAULT_TOKEN_URL.into());
                let project = if settings.project_id.is_empty() {
                    account.project_id.clone()
                } else {
                    settings.project_id.clone()
                };
                anyhow::ensure!(!project.is_empty(), "fcm project id is not configured");
                let send_url = format!(
                    "{}/v1/projects/{project}/messages:send",
                    settings.base_url.trim_end_matches('/')
                );
                Some(Credentials {
                    account,
                    key,
                    token_url,
                    send_url,
                })
            }
        };
        // One pool of kept-alive connections (one multiplexed connection
        // over HTTP/2), reused by every send.
        let mut http = moing_common::http::builder(
            Duration::from_secs(5),
            Duration::from_millis(settings.request_timeout_ms),
        )
        .pool_max_idle_per_host(settings.concurrency.max(1))
        .pool_idle_timeout(Duration::from_secs(90));
        if settings.http2_prior_knowledge {
            http = http.http2_prior_knowledge();
        }
        let http = http.build()?;
        Ok(Self {
            http,
            credentials,
            token: Mutex::new(None),
            settings: settings.clone(),
        })
    }

    pub fn enabled(&self) -> bool {
        self.credentials.is_some()
    }

    pub fn concurrency(&self) -> usize {
        self.settings.concurrency.max(1)
    }

    /// How long a claim on a push row lasts.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.settings.lease_secs.max(5))
    }

    /// A valid access token: the cached one, or a fresh grant when it is
    /// missing or close to expiry. Renewals are serialised by the lock.
    async fn access_token(&self, creds: &Credentials) -> anyhow::Result<String> {
        let mut cached = self.token.lock().await;
        let now = Utc::now();
        if let Some(t) = cached.as_ref()
            && t.expires_at - RENEW_BEFORE > now
        {
            return Ok(t.value.clone());
        }
        let iat = now.timestamp();
        let claims = Assertion {
            iss: &creds.account.client_email,
            scope: SCOPE,
            aud: &creds.token_url,
            iat,
            exp: iat + 3600,
        };
        let mut header = Header::new(Algorithm::RS256);
        if !creds.account.private_key_id.is_empty() {
            header.kid = Some(creds.account.private_key_id.clone());
        }
        let assertion = jsonwebtoken::encode(&header, &claims, &creds.key)?;
        let response = self
            .http
            .post(&creds.token_url)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            let body: String = response.text().await.unwrap_or_default();
            anyhow::bail!(
                "oauth token grant refused: {status} {}",
                body.chars().take(200).collect::<String>()
            );
        }
        let token: TokenResponse = response.json().await?;
        let lifetime = if token.expires_in > 0 {
            token.expires_in
        } else {
            3600
        };
        let fresh = AccessToken {
            value: token.access_token,
            expires_at: now + chrono::Duration::seconds(lifetime),
        };
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    fn backoff(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        let max = Duration::from_millis(self.settings.max_backoff_ms);
        let exp = Duration::from_millis(
            self.settings
                .initial_backoff_ms
                .saturating_mul(1u64 << attempt.min(16)),
        );
        hint.unwrap_or(exp).min(max)
    }

    /// Sends one push, retrying what FCM says is retryable.
    pub async fn send(&self, push: &Push) -> Outcome {
        let Some(creds) = &self.credentials else {
            tracing::info!(title = %push.title, "fcm not configured: push skipped");
            return Outcome::Skipped;
        };
        let body = push.body();
        let attempts = self.settings.max_attempts.max(1);
        let mut reauthorised = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = match self.access_token(creds).await {
                Ok(t) => t,
                Err(e) => {
                    if attempt < attempts {
                        tokio::time::sleep(self.backoff(attempt - 1, None)).await;
                        continue;
                    }
                    return Outcome::Failed(format!("oauth: {e}"));
                }
            };
            let response = self
                .http
                .post(&creds.send_url)
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await;
            let response = match response {
                Ok(r) => r,
                Err(e) => {
                    // Only a failed connect surely never reached FCM; anything
                    // later might have been delivered, and FCM does not
                    // de-duplicate, so it is not retried.
                    if e.is_connect() && attempt < attempts {
                        tokio::time::sleep(self.backoff(attempt - 1, None)).await;
                        continue;
                    }
                    return Outcome::Failed(format!("transport: {e}"));
                }
            };
            let status = response.status().as_u16();
            if response.status().is_success() {
                let v: Value = response.json().await.unwrap_or(Value::Null);
                return Outcome::Sent(v["name"].as_str().unwrap_or("").to_owned());
            }
            let hint = retry_after(response.headers());
            let text = response.text().await.unwrap_or_default();
            let err = parse_error(status, &text);
            match err.code.as_str() {
                "UNREGISTERED" | "SENDER_ID_MISMATCH" => {
                    return Outcome::TokenInvalid(err.code);
                }
                "INVALID_ARGUMENT" if !err.payload_problem => {
                    return Outcome::TokenInvalid(err.code);
                }
                "UNAUTHENTICATED" if !reauthorised => {
                    // Our access token was refused (revoked or expired early).
                    reauthorised = true;
                    self.forget_token().await;
                    attempt -= 1;
                    continue;
                }
                "QUOTA_EXCEEDED" | "UNAVAILABLE" | "INTERNAL" if attempt < attempts => {
                    let wait = self.backoff(attempt - 1, hint);
                    tracing::debug!(code = %err.code, ?wait, "fcm retry");
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    if matches!(
                        err.code.as_str(),
                        "THIRD_PARTY_AUTH_ERROR" | "APNS_AUTH_ERROR" | "UNAUTHENTICATED"
                    ) {
                        tracing::error!(code = %err.code, message = %err.message, "fcm configuration problem");
                    }
                    return Outcome::Failed(format!("{} {}", err.code, err.message));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_detail_then_status_then_http() {
        let unregistered = r#"{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#;
        assert_eq!(parse_error(404, unregistered).code, "UNREGISTERED");
        let status_only = r#"{"error":{"code":503,"message":"x","status":"UNAVAILABLE"}}"#;
        assert_eq!(parse_error(503, status_only).code, "UNAVAILABLE");
        assert_eq!(parse_error(429, "not json").code, "QUOTA_EXCEEDED");
        let payload = r#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data[0].value","description":"x"}]}]}}"#;
        let e = parse_error(400, payload);
        assert_eq!(e.code, "INVALID_ARGUMENT");
        assert!(e.payload_problem);
    }

    #[test]
    fn message_has_platform_blocks_and_data() {
        let push = Push {
            token: "t".into(),
            platform: Platform::Ios,
            title: "제목".into(),
            body: "본문".into(),
            data: BTreeMap::from([("type".into(), "POKED".into())]),
            tag: "x".into(),
            collapse_id: "n-1".into(),
        };
        let b = push.body();
        assert_eq!(b["message"]["token"], "t");
        assert_eq!(b["message"]["data"]["type"], "POKED");
        assert_eq!(b["message"]["android"]["notification"]["title"], "제목");
        assert_eq!(
            b["message"]["apns"]["payload"]["aps"]["alert"]["body"],
            "본문"
        );
        assert!(b["message"].get("webpush").is_none());
        assert_eq!(b["message"]["android"]["notification"]["tag"], "n-1");
        assert_eq!(b["message"]["apns"]["headers"]["apns-collapse-id"], "n-1");
        assert_eq!(b["message"]["apns"]["payload"]["aps"]["thread-id"], "x");
    }
}
