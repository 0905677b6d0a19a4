use std::{sync::Arc, time::Duration};

use moing_common::{
    layer::{AccessPolicy, AuthConfig, AuthLayer},
    token::{MemberState, SigningKeyPair, StaticJwks, TokenVerifier, access_claims},
};
use uuid::Uuid;

/// A test signing key, tokens signed with it, and services configured to trust it.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub key: SigningKeyPair,
    pub service_token: String,
}

pub const ISSUER: &str = "moing-auth";
pub const AUDIENCE: &str = "moing";

impl Tokens {
    pub fn new() -> Self {
        Self {
            key: SigningKeyPair::generate(),
            service_token: format!("svc-{}", Uuid::new_v4().simple()),
        }
    }

    /// A 15-minute access token for `member` in `state`.
    pub fn access(&self, member: Uuid, state: MemberState) -> String {
        let claims = access_claims(
            ISSUER,
            AUDIENCE,
            member,
            Uuid::now_v7(),
            state,
            Duration::from_secs(900),
        );
        self.key.sign(&claims).expect("test key signs")
    }

    pub fn verifier(&self) -> Arc<TokenVerifier> {
        Arc::new(TokenVerifier::new(
            Arc::new(StaticJwks(vec![self.key.jwk()])),
            ISSUER,
            AUDIENCE,
        ))
    }

    pub fn auth_layer(&self, policy: AccessPolicy) -> AuthLayer {
        AuthLayer::new(AuthConfig {
            verifier: self.verifier(),
            service_token: self.service_token.as_str().into(),
            policy: Arc::new(policy),
            sessions: None,
        })
    }
}

impl Default for Tokens {
    fn default() -> Self {
        Self::new()
    }
}
