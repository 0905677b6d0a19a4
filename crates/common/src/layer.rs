//! The tower layer every service runs in front of its gRPC handlers: it decides,
//! per method path, whether the caller must present a member's access token, a
//! service credential, or nothing (health, reflection, the few sign-in RPCs).
//!
//! A verified member becomes a [`Principal`] in the request extensions; handlers
//! read it with [`principal`]. Pending members (signed in, not signed up) only
//! reach the methods the service lists as pending-allowed.

use std::{
    collections::HashSet,
    sync::Arc,
    task::{Context, Poll},
};

use futures::future::BoxFuture;
use http::{Request, Response};
use tonic::{Code, Status};
use tower_layer::Layer;
use tower_service::Service;

use crate::{
    error::{ApiError, reason},
    sessions::{SessionCheck, SessionState},
    token::{MemberState, Principal, TokenError, TokenVerifier},
};

/// Metadata key carrying the service credential on internal calls.
pub const SERVICE_TOKEN_HEADER: &str = "x-moing-service-token";

/// Which methods need what. Method names are full gRPC paths
/// (`/moing.auth.v1.AuthService/SignIn`).
#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    /// Reachable without any token.
    pub anonymous: HashSet<String>,
    /// Reachable by a `PENDING` member (all others need `ACTIVE`).
    pub pending_allowed: HashSet<String>,
}

impl AccessPolicy {
    pub fn anonymous(mut self, methods: &[&str]) -> Self {
        self.anonymous.extend(methods.iter().map(|m| m.to_string()));
        self
    }

    pub fn pending_allowed(mut self, methods: &[&str]) -> Self {
        self.pending_allowed
            .extend(methods.iter().map(|m| m.to_string()));
        self
    }
}

/// What the layer needs to check callers.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub verifier: Arc<TokenVerifier>,
    pub service_token: Arc<str>,
    pub policy: Arc<AccessPolicy>,
    /// The live-session check (immediate revocation); None turns it off.
    pub sessions: Option<Arc<SessionCheck>>,
}

#[derive(Debug, Clone)]
pub struct AuthLayer {
    config: AuthConfig,
}

impl AuthLayer {
    pub fn new(config: AuthConfig) -> Self {
        Self { config }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            config: self.config.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    config: AuthConfig,
}

/// Kinds of method paths, by what they require.
enum Gate {
    Open,
    Service,
    Member,
}

fn gate(path: &str, policy: &AccessPolicy) -> Gate {
    let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if service.starts_with("grpc.health.") || service.starts_with("grpc.reflection.") {
        Gate::Open
    } else if service.ends_with("InternalService") || service == "moing.events.v1.EventSink" {
        Gate::Service
    } else if policy.anonymous.contains(path) {
        Gate::Open
    } else {
        Gate::Member
    }
}

fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Constant-time comparison of the presented service credential.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a call carries the service credential (the gateway vouching for the
/// `x-forwarded-for` it sets, or an internal caller).
pub fn holds_service_credential(
    metadata: &tonic::metadata::MetadataMap,
    service_token: &str,
) -> bool {
    !service_token.is_empty()
        && metadata
            .get(SERVICE_TOKEN_HEADER)
            .is_some_and(|v| same_secret(v.as_bytes(), service_token.as_bytes()))
}

fn token_status(e: TokenError) -> Status {
    let err = match e {
        TokenError::Missing => ApiError::unauthenticated(reason::TOKEN_MISSING, e.to_string()),
        TokenError::Expired => ApiError::unauthenticated(reason::TOKEN_EXPIRED, e.to_string()),
        TokenError::Invalid(_) => ApiError::unauthenticated(reason::TOKEN_INVALID, e.to_string()),
        TokenError::KeysUnavailable => ApiError::unavailable("token verification"),
    };
    err.into()
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuthService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // Take the readied service, leave a clone for the next call (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = self.config.clone();
        Box::pin(async move {
            let path = req.uri().path().to_owned();
            match gate(&path, &config.policy) {
                Gate::Open => {}
                Gate::Service => {
                    let ok = req.headers().get(SERVICE_TOKEN_HEADER).is_some_and(|v| {
                        same_secret(v.as_bytes(), config.service_token.as_bytes())
                    });
                    if !ok {
                        let status: Status = ApiError::unauthenticated(
                            reason::SERVICE_CREDENTIAL_REQUIRED,
                            "internal method: a service credential is required",
                        )
                        .into();
                        return Ok(status.into_http());
                    }
                }
                Gate::Member => {
                    let verified = match bearer(req.headers()) {
                        None => Err(TokenError::Missing),
                        Some(token) => config.verifier.verify(token).await,
                    };
                    let principal = match verified {
                        Ok(p) => p,
                        Err(e) => return Ok(token_status(e).into_http()),
                    };
                    if let Some(sessions) = &config.sessions {
                        let refused = match sessions.state(principal.session_id).await {
                            SessionState::Live => None,
                            SessionState::Ended => Some(ApiError::unauthenticated(
                                reason::SESSION_REVOKED,
                                "this session has ended (signed out, revoked or withdrawn); sign in again",
                            )),
                            SessionState::Unknown => Some(ApiError::unavailable("session check")),
                        };
                        if let Some(err) = refused {
                            let status: Status = err.into();
                            return Ok(status.into_http());
                        }
                    }
                    if principal.state == MemberState::Pending
                        && !config.policy.pending_allowed.contains(&path)
                    {
                        let status: Status = ApiError::new(
                            Code::PermissionDenied,
                            reason::MEMBER_PENDING,
                            "finish sign-up before using this",
                        )
                        .into();
                        return Ok(status.into_http());
                    }
                    crate::observe::record_member(&principal.member_id);
                    req.extensions_mut().insert(principal);
                }
            }
            inner.call(req).await
        })
    }
}

/// The verified caller of a member-authenticated method.
pub fn principal<T>(req: &tonic::Request<T>) -> Result<Principal, Status> {
    req.extensions().get::<Principal>().cloned().ok_or_else(|| {
        ApiError::unauthenticated(reason::TOKEN_MISSING, "access token is missing").into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_by_path() {
        let policy = AccessPolicy::default().anonymous(&["/moing.auth.v1.AuthService/SignIn"]);
        assert!(matches!(
            gate("/grpc.health.v1.Health/Check", &policy),
            Gate::Open
        ));
        assert!(matches!(
            gate(
                "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                &policy
            ),
            Gate::Open
        ));
        assert!(matches!(
            gate("/moing.auth.v1.AuthService/SignIn", &policy),
            Gate::Open
        ));
        assert!(matches!(
            gate(
                "/moing.moim.v1.TeamInternalService/CheckMembership",
                &policy
            ),
            Gate::Service
        ));
        assert!(matches!(
            gate("/moing.events.v1.EventSink/Deliver", &policy),
            Gate::Service
        ));
        assert!(matches!(
            gate("/moing.moim.v1.TeamService/CreateTeam", &policy),
            Gate::Member
        ));
    }

    #[test]
    fn bearer_parsing() {
        let mut h = http::HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            http::header::AUTHORIZATION,
            "Bearer abc".parse().expect("header"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(
            http::header::AUTHORIZATION,
            "Basic abc".parse().expect("header"),
        );
        assert_eq!(bearer(&h), None);
    }
}
