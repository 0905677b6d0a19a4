//! Local stand-ins for the social providers, speaking their real protocols:
//! - [`OidcProvider`]: a JWKS endpoint and RS256-signed ID tokens (Google/Apple
//!   shape), with key rotation and a fetch counter, plus a revoke endpoint.
//! - [`KakaoProvider`]: token-info, user and unlink endpoints with Kakao's JSON
//!   shapes and error codes (`{"msg", "code": -401}`).

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const KEYS: [(&str, &str, &str); 2] = [
    (
        "oidc-1",
        include_str!("../keys/oidc-1.pem"),
        include_str!("../keys/oidc-1.modulus"),
    ),
    (
        "oidc-2",
        include_str!("../keys/oidc-2.pem"),
        include_str!("../keys/oidc-2.modulus"),
    ),
];

async fn serve(router: Router) -> anyhow::Result<(SocketAddr, CancellationToken)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await;
    });
    Ok((addr, stop))
}

#[derive(Default)]
struct OidcState {
    /// Indexes into KEYS that the JWKS publishes.
    published: Mutex<Vec<usize>>,
    fetches: AtomicUsize,
    revoked: Mutex<Vec<String>>,
}

/// An OpenID Connect provider stand-in.
pub struct OidcProvider {
    pub issuer: String,
    pub client_id: String,
    addr: SocketAddr,
    state: Arc<OidcState>,
    signing: Mutex<usize>,
    stop: CancellationToken,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl OidcProvider {
    pub async fn start(issuer: &str, client_id: &str) -> anyhow::Result<Self> {
        let state = Arc::new(OidcState {
            published: Mutex::new(vec![0]),
            ..OidcState::default()
        });
        let router = Router::new()
            .route(
                "/jwks",
                get(|State(s): State<Arc<OidcState>>| async move {
                    s.fetches.fetch_add(1, Ordering::SeqCst);
                    let published = s.published.lock().map(|p| p.clone()).unwrap_or_default();
                    let keys: Vec<Value> = published
                        .into_iter()
                        .map(|i| {
                            let (kid, _, modulus) = KEYS[i];
                            let n = hex::decode(modulus.trim()).unwrap_or_default();
                            json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                                   "n": URL_SAFE_NO_PAD.encode(n), "e": "AQAB"})
                        })
                        .collect();
                    Json(json!({ "keys": keys }))
                }),
            )
            .route(
                "/revoke",
                post(
                    |State(s): State<Arc<OidcState>>,
                     axum::Form(form): axum::Form<HashMap<String, String>>| async move {
                        match form.get("token") {
                            Some(t) if !t.is_empty() => {
                                if let Ok(mut r) = s.revoked.lock() {
                                    r.push(t.clone());
                                }
                                (StatusCode::OK, Json(json!({})))
                            }
                            _ => (
                                StatusCode::BAD_REQUEST,
                                Json(json!({"error": "invalid_token"})),
                            ),
                        }
                    },
                ),
            )
            .with_state(state.clone());
        let (addr, stop) = serve(router).await?;
        Ok(Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            addr,
            state,
            signing: Mutex::new(0),
            stop,
        })
    }

    pub fn jwks_url(&self) -> String {
        format!("http://{}/jwks", self.addr)
    }

    pub fn revoke_url(&self) -> String {
        format!("http://{}/revoke", self.addr)
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    pub fn revoked(&self) -> Vec<String> {
        self.state
            .revoked
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Key rotation: the second key signs from now on and both are published.
    pub fn rotate(&self) {
        if let Ok(mut p) = self.state.published.lock() {
            *p = vec![0, 1];
        }
        if let Ok(mut s) = self.signing.lock() {
            *s = 1;
        }
    }

    /// Signs claims with the current key (`kid` of that key).
    pub fn sign(&self, claims: &Value) -> String {
        let i = self.signing.lock().map(|s| *s).unwrap_or(0);
        let (kid, pem, _) = KEYS[i];
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("test key parses");
        jsonwebtoken::encode(&header, claims, &key).expect("test token signs")
    }

    /// A valid ID token for `sub` (expires in an hour).
    pub fn id_token(&self, sub: &str, email: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        self.sign(
            &json!({"iss": self.issuer, "aud": self.client_id, "sub": sub,
                          "email": email, "iat": now, "exp": now + 3600}),
        )
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[derive(Clone)]
struct KakaoUser {
    id: i64,
    app_id: i64,
    email: Option<String>,
}

#[derive(Default)]
struct KakaoState {
    tokens: Mutex<HashMap<String, KakaoUser>>,
    unlinked: Mutex<Vec<i64>>,
}

fn kakao_user(s: &KakaoState, headers: &HeaderMap) -> Result<KakaoUser, (StatusCode, Json<Value>)> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or((
            StatusCode::UNAUTHORIZED,
            Json(json!({"msg": "no authentication key!", "code": -401})),
        ))?;
    s.tokens
        .lock()
        .ok()
        .and_then(|t| t.get(token).cloned())
        .ok_or((
            StatusCode::UNAUTHORIZED,
            Json(json!({"msg": "this access token does not exist", "code": -401})),
        ))
}

/// The Kakao API stand-in.
pub struct KakaoProvider {
    addr: SocketAddr,
    state: Arc<KakaoState>,
    stop: CancellationToken,
}

impl std::fmt::Debug for KakaoProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KakaoProvider")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl KakaoProvider {
    pub async fn start() -> anyhow::Result<Self> {
        let state = Arc::new(KakaoState::default());
        let router = Router::new()
            .route(
                "/v1/user/access_token_info",
                get(|State(s): State<Arc<KakaoState>>, headers: HeaderMap| async move {
                    kakao_user(&s, &headers).map(|u| {
                        Json(json!({"id": u.id, "expires_in": 7199, "app_id": u.app_id}))
                    })
                }),
            )
            .route(
                "/v2/user/me",
                get(|State(s): State<Arc<KakaoState>>, headers: HeaderMap| async move {
                    kakao_user(&s, &headers).map(|u| {
                        Json(json!({"id": u.id, "connected_at": "2026-11-24T00:00:00Z",
                                    "kakao_account": {"has_email": u.email.is_some(), "email": u.email}}))
                    })
                }),
            )
            .route(
                "/v1/user/unlink",
                post(|State(s): State<Arc<KakaoState>>, headers: HeaderMap| async move {
                    let u = kakao_user(&s, &headers)?;
                    if let Ok(mut l) = s.unlinked.lock() {
                        l.push(u.id);
                    }
                    Ok::<_, (StatusCode, Json<Value>)>(Json(json!({"id": u.id})))
                }),
            )
            .with_state(state.clone());
        let (addr, stop) = serve(router).await?;
        Ok(Self { addr, state, stop })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Makes `token` a valid Kakao access token of user `id` issued to `app_id`.
    pub fn issue(&self, token: &str, id: i64, app_id: i64, email: Option<&str>) {
        if let Ok(mut t) = self.state.tokens.lock() {
            t.insert(
                token.into(),
                KakaoUser {
                    id,
                    app_id,
                    email: email.map(str::to_owned),
                },
            );
        }
    }

    pub fn unlinked(&self) -> Vec<i64> {
        self.state
            .unlinked
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }
}

impl Drop for KakaoProvider {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
