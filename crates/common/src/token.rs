//! Access tokens: EdDSA (Ed25519) JWTs with a `kid`, signed by auth and verified
//! by every service against auth's published JWKS.
//!
//! Only `EdDSA` is accepted: `alg: none`, HS256 "signed with the public key" and
//! every other algorithm are refused before any key is looked at. An unknown `kid`
//! triggers one JWKS refetch (rate-limited), which is how key rotation reaches
//! verifiers: a new key signs, old keys stay published until their tokens expire.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{
    SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};
use uuid::Uuid;

/// Token type carried in `typ` so an access token can never pass as anything else.
pub const ACCESS_TOKEN_TYPE: &str = "access";

/// Lifecycle state of a member as carried in the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemberState {
    /// Signed in with a provider but not signed up yet.
    Pending,
    /// Signed up.
    Active,
}

/// The claims of a MOING access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// Member id.
    pub sub: String,
    /// Device session id.
    pub sid: String,
    /// Member state when the token was issued.
    pub sta: MemberState,
    pub typ: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// One public key as published in the JWKS (RFC 8037 OKP key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

/// An Ed25519 key pair with its key id.
#[derive(Clone)]
pub struct SigningKeyPair {
    kid: String,
    key: SigningKey,
}

impl std::fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyPair")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKeyPair {
    /// A fresh random key; the kid is derived from the public key.
    pub fn generate() -> Self {
        let secret: [u8; 32] = rand::random();
        Self::from_signing_key(SigningKey::from_bytes(&secret))
    }

    fn from_signing_key(key: SigningKey) -> Self {
        let public = key.verifying_key().to_bytes();
        let kid = URL_SAFE_NO_PAD.encode(&public[..12]);
        Self { kid, key }
    }

    /// Reads a PKCS#8 PEM private key (what `openssl genpkey -algorithm ed25519` writes).
    pub fn from_pkcs8_pem(pem: &str) -> anyhow::Result<Self> {
        let key = SigningKey::from_pkcs8_pem(pem)
            .map_err(|e| anyhow::anyhow!("invalid Ed25519 PKCS#8 key: {e}"))?;
        Ok(Self::from_signing_key(key))
    }

    pub fn to_pkcs8_pem(&self) -> anyhow::Result<String> {
        Ok(self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("cannot encode key: {e}"))?
            .to_string())
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes()),
            kid: self.kid.clone(),
            alg: "EdDSA".into(),
            use_: "sig".into(),
        }
    }

    /// Signs `claims` as a compact JWS with this key's `kid`.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        let der = self
            .key
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("cannot encode key: {e}"))?;
        let encoding = EncodingKey::from_ed_der(der.as_bytes());
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        Ok(jsonwebtoken::encode(&header, claims, &encoding)?)
    }
}

/// Builds access-token claims; `ttl` is the token lifetime.
pub fn access_claims(
    issuer: &str,
    audience: &str,
    member_id: Uuid,
    session_id: Uuid,
    state: MemberState,
    ttl: Duration,
) -> Claims {
    let now = crate::clock::now().timestamp();
    Claims {
        iss: issuer.into(),
        aud: audience.into(),
        sub: member_id.to_string(),
        sid: session_id.to_string(),
        sta: state,
        typ: ACCESS_TOKEN_TYPE.into(),
        iat: now,
        exp: now + ttl.as_secs() as i64,
        jti: Uuid::now_v7().to_string(),
    }
}

/// The verified caller of a request, put into request extensions by the auth layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub member_id: Uuid,
    pub session_id: Uuid,
    pub state: MemberState,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("access token is missing")]
    Missing,
    #[error("access token has expired")]
    Expired,
    #[error("access token is invalid: {0}")]
    Invalid(&'static str),
    #[error("signing keys are unavailable")]
    KeysUnavailable,
}

/// Where verifiers get public keys from.
#[tonic::async_trait]
pub trait JwksSource: Send + Sync + 'static {
    async fn fetch(&self) -> anyhow::Result<Vec<Jwk>>;
}

/// A fixed key set: tests and single-process tools.
#[derive(Debug, Clone)]
pub struct StaticJwks(pub Vec<Jwk>);

#[tonic::async_trait]
impl JwksSource for StaticJwks {
    async fn fetch(&self) -> anyhow::Result<Vec<Jwk>> {
        Ok(self.0.clone())
    }
}

struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// Verifies access tokens against a cached JWKS.
pub struct TokenVerifier {
    source: Arc<dyn JwksSource>,
    validation: Validation,
    cache: RwLock<KeyCache>,
    refresh: Mutex<()>,
    min_refresh_interval: Duration,
    key_ttl: Duration,
    max_lifetime: Duration,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").finish_non_exhaustive()
    }
}

/// Clock skew tolerated on `exp` between the issuer and a verifier.
const EXPIRY_LEEWAY_SECS: i64 = 30;

/// Default of [`TokenVerifier::with_key_ttl`].
pub const DEFAULT_KEY_TTL: Duration = Duration::from_secs(600);
/// Default of [`TokenVerifier::with_max_lifetime`].
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(3600);

impl TokenVerifier {
    pub fn new(source: Arc<dyn JwksSource>, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked against the process clock (moing_common::clock), not
        // the library's own reading of the system clock.
        validation.validate_exp = false;
        Self {
            source,
            validation,
            cache: RwLock::new(KeyCache {
                keys: HashMap::new(),
                fetched_at: None,
            }),
            refresh: Mutex::new(()),
            min_refresh_interval: Duration::from_secs(5),
            key_ttl: DEFAULT_KEY_TTL,
            max_lifetime: DEFAULT_MAX_LIFETIME,
        }
    }

    /// How long fetched keys are trusted before the JWKS is fetched again
    /// (default 10 min): a key withdrawn by auth stops verifying within this.
    pub fn with_key_ttl(mut self, ttl: Duration) -> Self {
        self.key_ttl = ttl;
        self
    }

    /// The longest `exp - iat` accepted (default 1 h): a token minted with a
    /// longer life (a leaked key, a misconfigured issuer) is refused.
    pub fn with_max_lifetime(mut self, max: Duration) -> Self {
        self.max_lifetime = max;
        self
    }

    /// The cached key for `kid`, unless the cache has outlived its TTL.
    async fn cached_key(&self, kid: &str) -> Option<DecodingKey> {
        let cache = self.cache.read().await;
        let fresh = cache
            .fetched_at
            .is_some_and(|at| at.elapsed() < self.key_ttl);
        if fresh {
            cache.keys.get(kid).cloned()
        } else {
            None
        }
    }

    /// How often an unknown `kid` may trigger a refetch (default 5 s).
    pub fn with_min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh_interval = interval;
        self
    }

    async fn refresh_keys(&self) -> Result<(), TokenError> {
        let _guard = self.refresh.lock().await;
        if let Some(at) = self.cache.read().await.fetched_at
            && at.elapsed() < self.min_refresh_interval.min(self.key_ttl)
        {
            return Ok(());
        }
        let jwks = self.source.fetch().await.map_err(|e| {
            tracing::warn!(error = %e, "jwks fetch failed");
            TokenError::KeysUnavailable
        })?;
        let mut keys = HashMap::new();
        for jwk in jwks {
            if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
                continue;
            }
            match DecodingKey::from_ed_components(&jwk.x) {
                Ok(key) => {
                    keys.insert(jwk.kid, key);
                }
                Err(e) => tracing::warn!(kid = %jwk.kid, error = %e, "unusable jwk skipped"),
            }
        }
        let mut cache = self.cache.write().await;
        cache.keys = keys;
        cache.fetched_at = Some(Instant::now());
        Ok(())
    }

    /// Verifies a compact JWS and returns its principal.
    pub async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid("malformed"))?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid("algorithm not allowed"));
        }
        let kid = header.kid.ok_or(TokenError::Invalid("no key id"))?;
        // An unknown kid or an expired cache refetches (rate-limited); a key
        // no longer published stops verifying once the cache has expired.
        let key = match self.cached_key(&kid).await {
            Some(key) => key,
            None => {
                self.refresh_keys().await?;
                // Just refetched (or refetched within the rate limit, which is
                // shorter than the TTL): whatever is cached is fresh.
                self.cache
                    .read()
                    .await
                    .keys
                    .get(&kid)
                    .cloned()
                    .ok_or(TokenError::Invalid("unknown key id"))?
            }
        };
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation).map_err(|e| {
            match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid("signature or claims rejected"),
            }
        })?;
        let claims = data.claims;
        if claims.exp.saturating_add(EXPIRY_LEEWAY_SECS) < crate::clock::now().timestamp() {
            return Err(TokenError::Expired);
        }
        let lifetime = claims.exp.saturating_sub(claims.iat);
        if claims.iat <= 0
            || lifetime < 0
            || u64::try_from(lifetime).is_ok_and(|l| l > self.max_lifetime.as_secs())
        {
            return Err(TokenError::Invalid("lifetime exceeds the maximum"));
        }
        if claims.typ != ACCESS_TOKEN_TYPE {
            return Err(TokenError::Invalid("not an access token"));
        }
        let member_id = Uuid::parse_str(&claims.sub).map_err(|_| TokenError::Invalid("subject"))?;
        let session_id =
            Uuid::parse_str(&claims.sid).map_err(|_| TokenError::Invalid("session"))?;
        Ok(Principal {
            member_id,
            session_id,
            state: claims.sta,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier_for(keys: &[&SigningKeyPair]) -> TokenVerifier {
        let jwks = keys.iter().map(|k| k.jwk()).collect();
        TokenVerifier::new(Arc::new(StaticJwks(jwks)), "moing-auth", "moing")
    }

    fn claims(ttl_secs: i64) -> Claims {
        let mut c = access_claims(
            "moing-auth",
            "moing",
            Uuid::now_v7(),
            Uuid::now_v7(),
            MemberState::Active,
            Duration::from_secs(900),
        );
        c.exp = c.iat + ttl_secs;
        c
    }

    #[tokio::test]
    async fn valid_token_verifies() {
        let key = SigningKeyPair::generate();
        let c = claims(900);
        let token = key.sign(&c).expect("sign");
        let p = verifier_for(&[&key]).verify(&token).await.expect("valid");
        assert_eq!(p.member_id.to_string(), c.sub);
        assert_eq!(p.state, MemberState::Active);
    }

    #[tokio::test]
    async fn expired_tampered_and_unknown_kid_are_rejected() {
        let key = SigningKeyPair::generate();
        let other = SigningKeyPair::generate();
        let v = verifier_for(&[&key]);
        let expired = key.sign(&claims(-120)).expect("sign");
        assert_eq!(v.verify(&expired).await, Err(TokenError::Expired));

        let token = key.sign(&claims(900)).expect("sign");
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut payload = claims(900);
        payload.sub = Uuid::now_v7().to_string();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).expect("json"));
        assert!(matches!(
            v.verify(&parts.join(".")).await,
            Err(TokenError::Invalid(_))
        ));

        let foreign = other.sign(&claims(900)).expect("sign");
        assert_eq!(
            v.verify(&foreign).await,
            Err(TokenError::Invalid("unknown key id"))
        );
    }

    #[tokio::test]
    async fn alg_none_and_hs256_with_public_key_are_rejected() {
        let key = SigningKeyPair::generate();
        let v = verifier_for(&[&key]);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(900)).expect("json"));
        let none_header = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#,
            key.kid()
        ));
        let none_token = format!("{none_header}.{body}.");
        assert!(v.verify(&none_token).await.is_err());

        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid().to_owned());
        let public_x = key.jwk().x;
        let hs = jsonwebtoken::encode(
            &header,
            &claims(900),
            &EncodingKey::from_secret(public_x.as_bytes()),
        )
        .expect("hs256");
        assert_eq!(
            v.verify(&hs).await,
            Err(TokenError::Invalid("algorithm not allowed"))
        );
    }

    #[tokio::test]
    async fn wrong_audience_or_type_is_rejected() {
        let key = SigningKeyPair::generate();
        let v = verifier_for(&[&key]);
        let mut c = claims(900);
        c.aud = "someone-else".into();
        assert!(v.verify(&key.sign(&c).expect("sign")).await.is_err());
        let mut c = claims(900);
        c.typ = "refresh".into();
        assert_eq!(
            v.verify(&key.sign(&c).expect("sign")).await,
            Err(TokenError::Invalid("not an access token"))
        );
    }

    /// A key set that can change and counts its fetches.
    struct Rotating {
        keys: std::sync::Mutex<Vec<Jwk>>,
        fetches: std::sync::atomic::AtomicUsize,
    }

    #[tonic::async_trait]
    impl JwksSource for Arc<Rotating> {
        async fn fetch(&self) -> anyhow::Result<Vec<Jwk>> {
            self.fetches
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(self.keys.lock().map(|k| k.clone()).unwrap_or_default())
        }
    }

    #[tokio::test]
    async fn cached_keys_expire_and_withdrawn_keys_stop_verifying() {
        let key = SigningKeyPair::generate();
        let source = Arc::new(Rotating {
            keys: std::sync::Mutex::new(vec![key.jwk()]),
            fetches: 0.into(),
        });
        let v = TokenVerifier::new(Arc::new(source.clone()), "moing-auth", "moing")
            .with_key_ttl(Duration::from_millis(200))
            .with_min_refresh_interval(Duration::from_millis(50));
        let token = key.sign(&claims(900)).expect("sign");
        v.verify(&token).await.expect("valid");
        v.verify(&token).await.expect("cached");
        let fetches = || source.fetches.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(fetches(), 1, "served from the cache within the TTL");

        // Auth withdraws the key: once the cache expires it is refetched and
        // the key no longer verifies.
        if let Ok(mut keys) = source.keys.lock() {
            keys.clear();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(
            v.verify(&token).await,
            Err(TokenError::Invalid("unknown key id"))
        );
        assert_eq!(fetches(), 2, "refetched on expiry");

        // A new key (rotation) is found by an unknown-kid refetch.
        let next = SigningKeyPair::generate();
        if let Ok(mut keys) = source.keys.lock() {
            keys.push(next.jwk());
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
        v.verify(&next.sign(&claims(900)).expect("sign"))
            .await
            .expect("new key after refetch");
        assert_eq!(fetches(), 3);
    }

    #[tokio::test]
    async fn tokens_living_longer_than_the_maximum_are_rejected() {
        let key = SigningKeyPair::generate();
        let v = verifier_for(&[&key]);
        v.verify(&key.sign(&claims(3600)).expect("sign"))
            .await
            .expect("exactly the maximum");
        for c in [
            claims(3601),
            claims(365 * 86_400),
            {
                let mut c = claims(900);
                c.exp = i64::MAX;
                c
            },
            {
                let mut c = claims(900);
                c.iat = i64::MIN;
                c
            },
        ] {
            assert_eq!(
                v.verify(&key.sign(&c).expect("sign")).await,
                Err(TokenError::Invalid("lifetime exceeds the maximum")),
                "{c:?}"
            );
        }
        let short = verifier_for(&[&key]).with_max_lifetime(Duration::from_secs(600));
        assert!(
            short
                .verify(&key.sign(&claims(900)).expect("sign"))
                .await
                .is_err()
        );
    }

    #[test]
    fn pem_round_trip_keeps_kid() {
        let key = SigningKeyPair::generate();
        let pem = key.to_pkcs8_pem().expect("pem");
        let back = SigningKeyPair::from_pkcs8_pem(&pem).expect("parse");
        assert_eq!(back.kid(), key.kid());
    }
}
