//! A local stand-in for FCM HTTP v1, speaking its protocol:
//! - `POST /token`: the OAuth JWT-bearer grant. The RS256 assertion is
//!   verified with the service account's public key (`iss` = client email,
//!   `aud` = this endpoint, the messaging scope, at most an hour long) and an
//!   access token is issued (`{"access_token","expires_in","token_type"}`),
//!   or `400 {"error":"invalid_grant"}`.
//! - `POST /v1/projects/{project}/messages:send`: needs a live access token
//!   (else 401 UNAUTHENTICATED), answers `{"name":"projects/p/messages/n"}`,
//!   or FCM's error JSON for tokens scripted to fail: UNREGISTERED (404),
//!   INVALID_ARGUMENT (400), QUOTA_EXCEEDED (429 with `Retry-After`),
//!   UNAVAILABLE (503).
//!
//! Tests read back what it received (with the time it arrived) and how many
//! sends were in flight at once.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const KEY_PEM: &str = include_str!("../keys/oidc-1.pem");
const KEY_MODULUS: &str = include_str!("../keys/oidc-1.modulus");
pub const PROJECT: &str = "moing-test";
pub const CLIENT_EMAIL: &str = "fcm-sender@moing-test.iam.gserviceaccount.com";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// How sends to one device token fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FcmFailure {
    /// 404 UNREGISTERED: the app was uninstalled; always.
    Unregistered,
    /// 400 INVALID_ARGUMENT: not a valid registration token; always.
    InvalidToken,
    /// 429 QUOTA_EXCEEDED with `Retry-After: secs`, for the next `times` sends.
    QuotaExceeded { retry_after_secs: u64, times: usize },
    /// 503 UNAVAILABLE, for the next `times` sends.
    Unavailable { times: usize },
}

/// A message FCM accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub token: String,
    pub title: String,
    pub body: String,
    pub data: HashMap<String, String>,
    /// The whole `message` object (android, apns blocks).
    pub message: Value,
    /// When the stand-in accepted it (after any simulated latency).
    pub received_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
struct FcmState {
    token_url: Mutex<String>,
    lifetime_secs: Mutex<i64>,
    /// access token → expiry (unix seconds).
    issued: Mutex<HashMap<String, i64>>,
    grants: AtomicUsize,
    failures: Mutex<HashMap<String, FcmFailure>>,
    received: Mutex<Vec<ReceivedMessage>>,
    attempts: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    latency_ms: AtomicUsize,
}

/// The FCM stand-in.
pub struct FcmServer {
    addr: SocketAddr,
    state: Arc<FcmState>,
    stop: CancellationToken,
}

impl std::fmt::Debug for FcmServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct GrantForm {
    grant_type: String,
    assertion: String,
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    scope: String,
    aud: String,
    iat: i64,
    exp: i64,
}

fn error_body(code: u16, status: &str, message: &str, fcm_code: Option<&str>) -> Value {
    let details: Vec<Value> = fcm_code
        .map(|c| {
            vec![json!({
                "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": c,
            })]
        })
        .unwrap_or_default();
    json!({"error": {"code": code, "message": message, "status": status, "details": details}})
}

fn decoding_key() -> Option<DecodingKey> {
    let n = hex::decode(KEY_MODULUS.trim()).ok()?;
    DecodingKey::from_rsa_components(&URL_SAFE_NO_PAD.encode(n), "AQAB").ok()
}

async fn grant(
    State(s): State<Arc<FcmState>>,
    axum::Form(form): axum::Form<GrantForm>,
) -> Response {
    let invalid = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": why})),
        )
            .into_response()
    };
    if form.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    let Some(key) = decoding_key() else {
        return invalid("stand-in key unavailable");
    };
    let token_url = s.token_url.lock().map(|u| u.clone()).unwrap_or_default();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[token_url.as_str()]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    let claims = match jsonwebtoken::decode::<AssertionClaims>(&form.assertion, &key, &validation) {
        Ok(d) => d.claims,
        Err(_) => return invalid("Invalid JWT Signature."),
    };
    if claims.iss != CLIENT_EMAIL || claims.aud != token_url {
        return invalid("Invalid JWT: wrong issuer or audience.");
    }
    if !claims.scope.split(' ').any(|sc| sc == SCOPE) {
        return invalid("Invalid JWT: missing the messaging scope.");
    }
    if claims.exp - claims.iat > 3600 {
        return invalid("Invalid JWT: expiration too far from issue time.");
    }
    let n = s.grants.fetch_add(1, Ordering::SeqCst) + 1;
    let lifetime = s.lifetime_secs.lock().map(|l| *l).unwrap_or(3600);
    let token = format!("ya29.stand-in-{n}");
    if let Ok(mut issued) = s.issued.lock() {
        issued.insert(token.clone(), chrono::Utc::now().timestamp() + lifetime);
    }
    Json(json!({"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}))
        .into_response()
}

struct InFlight<'a>(&'a FcmState);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn send(
    State(s): State<Arc<FcmState>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let now_in_flight = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&s);
    s.max_in_flight.fetch_max(now_in_flight, Ordering::SeqCst);
    s.attempts.fetch_add(1, Ordering::SeqCst);
    let latency = s.latency_ms.load(Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency as u64)).await;
    }
    if let Err(refused) = admit(&s, &project, &headers) {
        return refused;
    }
    let message = body["message"].clone();
    let token = message["token"].as_str().unwrap_or("").to_owned();
    if token.is_empty() {
        return fcm_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "Recipient of the message is not set.",
            None,
        );
    }
    match next_failure(&s, &token) {
        Some(failure) => failure_response(failure),
        None => accept(&s, token, message),
    }
}

/// FCM's error answer with its HTTP status.
fn fcm_error(status: StatusCode, name: &str, message: &str, reason: Option<&str>) -> Response {
    (
        status,
        Json(error_body(status.as_u16(), name, message, reason)),
    )
        .into_response()
}

/// The OAuth bearer must be one this stand-in issued and still live, and the
/// project the configured one.
// An error answer is the whole HTTP response, built once on the failing path.
#[allow(clippy::result_large_err)]
fn admit(s: &FcmState, project: &str, headers: &HeaderMap) -> Result<(), Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let live = s
        .issued
        .lock()
        .ok()
        .and_then(|i| i.get(bearer).copied())
        .is_some_and(|exp| exp > chrono::Utc::now().timestamp());
    if !live {
        return Err(fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
            None,
        ));
    }
    // `{project}/messages:send` arrives as one path segment ending in ":send".
    if project.trim_end_matches("/messages:send") != PROJECT {
        return Err(fcm_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Permission denied.",
            Some("SENDER_ID_MISMATCH"),
        ));
    }
    Ok(())
}

/// The failure set up for `token`, counting down the transient ones.
fn next_failure(s: &FcmState, token: &str) -> Option<FcmFailure> {
    s.failures.lock().ok().and_then(|mut f| {
        let current = f.get(token).copied()?;
        let next = match current {
            FcmFailure::QuotaExceeded {
                retry_after_secs,
                times,
            } if times > 1 => Some(FcmFailure::QuotaExceeded {
                retry_after_secs,
                times: times - 1,
            }),
            FcmFailure::Unavailable { times } if times > 1 => {
                Some(FcmFailure::Unavailable { times: times - 1 })
            }
            FcmFailure::QuotaExceeded { .. } | FcmFailure::Unavailable { .. } => None,
            permanent => Some(permanent),
        };
        match next {
            Some(n) => f.insert(token.to_owned(), n),
            None => f.remove(token),
        };
        Some(current)
    })
}

/// FCM's answer for each failure, as the real service words it.
fn failure_response(failure: FcmFailure) -> Response {
    match failure {
        FcmFailure::Unregistered => fcm_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Requested entity was not found.",
            Some("UNREGISTERED"),
        ),
        FcmFailure::InvalidToken => fcm_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            Some("INVALID_ARGUMENT"),
        ),
        FcmFailure::QuotaExceeded {
            retry_after_secs, ..
        } => {
            let mut resp = fcm_error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Messages per minute'.",
                Some("QUOTA_EXCEEDED"),
            );
            if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        FcmFailure::Unavailable { .. } => fcm_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "The service is currently unavailable.",
            Some("UNAVAILABLE"),
        ),
    }
}

/// Records the message and answers with its name.
fn accept(s: &FcmState, token: String, message: Value) -> Response {
    let n = s.received.lock().map(|r| r.len()).unwrap_or(0) + 1;
    let data = message["data"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let text = |field: &str| {
        message["notification"][field]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let received = ReceivedMessage {
        token,
        title: text("title"),
        body: text("body"),
        data,
        message,
        received_at: chrono::Utc::now(),
    };
    if let Ok(mut r) = s.received.lock() {
        r.push(received);
    }
    Json(json!({"name": format!("projects/{PROJECT}/messages/{n}")})).into_response()
}

impl FcmServer {
    /// On a free loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// On `addr` (a fixed port, for tools whose services outlive one run).
    pub async fn start_on(addr: SocketAddr) -> anyhow::Result<Self> {
        let state = Arc::new(FcmState::default());
        if let Ok(mut l) = state.lifetime_secs.lock() {
            *l = 3600;
        }
        let router = Router::new()
            .route("/token", post(grant))
            .route("/v1/projects/{*rest}", post(send))
            .with_state(state.clone());
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        if let Ok(mut u) = state.token_url.lock() {
            *u = format!("http://{addr}/token");
        }
        let stop = CancellationToken::new();
        let token = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await;
        });
        Ok(Self { addr, state, stop })
    }

    /// Base URL for the client (`{base}/v1/projects/...`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token_url(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// A service-account key file's JSON, whose key this stand-in trusts.
    pub fn service_account_json(&self) -> String {
        json!({
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "stand-in-key-1",
            "private_key": KEY_PEM,
            "client_email": CLIENT_EMAIL,
            "token_uri": self.token_url(),
        })
        .to_string()
    }

    /// Scripts failures for one device token.
    pub fn fail(&self, token: &str, failure: FcmFailure) {
        if let Ok(mut f) = self.state.failures.lock() {
            f.insert(token.to_owned(), failure);
        }
    }

    /// Lifetime of access tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: i64) {
        if let Ok(mut l) = self.state.lifetime_secs.lock() {
            *l = secs;
        }
    }

    /// Simulated processing time of each send.
    pub fn set_latency(&self, latency: Duration) {
        self.state
            .latency_ms
            .store(latency.as_millis() as usize, Ordering::SeqCst);
    }

    /// Every accepted message, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.state
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    pub fn messages_to(&self, token: &str) -> Vec<ReceivedMessage> {
        self.messages()
            .into_iter()
            .filter(|m| m.token == token)
            .collect()
    }

    /// How many messages were accepted, without copying them.
    pub fn received_count(&self) -> usize {
        self.state.received.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Accepted messages from the `from`-th on (arrival order), for polling.
    pub fn messages_from(&self, from: usize) -> Vec<ReceivedMessage> {
        self.state
            .received
            .lock()
            .map(|r| r.get(from..).map(<[_]>::to_vec).unwrap_or_default())
            .unwrap_or_default()
    }

    /// Sends being processed right now.
    pub fn in_flight(&self) -> usize {
        self.state.in_flight.load(Ordering::SeqCst)
    }

    /// OAuth grants issued.
    pub fn grants(&self) -> usize {
        self.state.grants.load(Ordering::SeqCst)
    }

    /// Send requests received (accepted or not).
    pub fn attempts(&self) -> usize {
        self.state.attempts.load(Ordering::SeqCst)
    }

    /// The most sends that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for FcmServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
