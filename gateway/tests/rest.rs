//! REST/JSON through the gateway against the real auth service (MariaDB, Redis).

use std::{collections::BTreeMap, sync::Arc};

use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use moing_auth::{error::AuthError, grpc::LeadershipCheck};
use moing_gateway::{config::Settings, startup};
use moing_testkit::{Cluster, TestDb, TestRedis};
use serde_json::{Value, json};

struct NoTeams;

#[tonic::async_trait]
impl LeadershipCheck for NoTeams {
    async fn leads_active_team(&self, _m: uuid::Uuid) -> Result<bool, AuthError> {
        Ok(false)
    }
}

struct App {
    cluster: Cluster,
    http: Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>,
    _db: TestDb,
    _redis: TestRedis,
}

struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: Value,
}

async fn start(tweak: impl FnOnce(&mut Settings)) -> App {
    let db = TestDb::empty().await.expect("db");
    let redis = TestRedis::new();
    let mut cluster = Cluster::bind(&["auth", "gateway"]).await.expect("bind");
    let mut auth = moing_auth::config::Settings::default();
    auth.base.database.url = db.url.clone();
    auth.dev_sign_in = true;
    auth.redis.key_prefix = redis.prefix.clone();
    auth.state_dir =
        std::env::temp_dir().join(format!("moing-gw-{}", uuid::Uuid::new_v4().simple()));
    cluster
        .spawn("auth", move |l, stop| {
            moing_auth::startup::run_with(auth, l, stop, Arc::new(NoTeams))
        })
        .expect("auth");
    let mut settings = Settings {
        services: BTreeMap::from([("auth".to_owned(), cluster.endpoint("auth"))]),
        ..Settings::default()
    };
    settings.body_limit_bytes = 4096;
    tweak(&mut settings);
    cluster
        .spawn("gateway", |l, stop| startup::run(settings, l, stop))
        .expect("gateway");
    App {
        cluster,
        http: Client::builder(TokioExecutor::new()).build_http(),
        _db: db,
        _redis: redis,
    }
}

impl App {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let mut req = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.cluster.endpoint("gateway")));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(Full::new(bytes::Bytes::from(body.unwrap_or("").to_owned())))
            .expect("request");
        let resp = self.http.request(req).await.expect("response");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn signed_up(&self, nickname: &str) -> String {
        let r = self
            .call(
                "POST",
                "/v1/auth/sign-in",
                None,
                Some(&json!({"development": {"nickname": nickname}, "device": {"name": "web", "platform": "DEVICE_PLATFORM_WEB"}}).to_string()),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let pending = r.body["tokens"]["accessToken"]
            .as_str()
            .expect("token")
            .to_owned();
        let up = self
            .call(
                "POST",
                "/v1/auth/sign-up",
                Some(&pending),
                Some(&json!({"nickname": nickname}).to_string()),
            )
            .await;
        assert_eq!(up.status, 200, "{:?}", up.body);
        up.body["accessToken"].as_str().expect("token").to_owned()
    }
}

#[tokio::test]
async fn rest_flow_uses_proto3_json() {
    let app = start(|_| {}).await;
    let r = app
        .call(
            "POST",
            "/v1/auth/sign-in",
            None,
            Some(r#"{"development":{"nickname":"rest1"},"device":{"name":"web","platform":"DEVICE_PLATFORM_WEB"}}"#),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["signUpRequired"], json!(true));
    assert_eq!(
        r.body["member"]["status"],
        json!("MEMBER_STATUS_PENDING"),
        "enums as names"
    );
    assert!(
        r.body["tokens"]["accessTokenExpiresAt"]
            .as_str()
            .expect("rfc3339")
            .ends_with('Z')
    );
    assert!(r.headers.contains_key("x-request-id"));

    let token = app.signed_up("rest2").await;
    let me = app.call("GET", "/v1/members/me", Some(&token), None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["member"]["nickname"], json!("rest2"));
    let sessions = app
        .call(
            "GET",
            "/v1/members/me/sessions?pageSize=1",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(sessions.status, 200);
    assert_eq!(sessions.body["sessions"].as_array().map(Vec::len), Some(1));
    let patched = app
        .call(
            "PATCH",
            "/v1/members/me",
            Some(&token),
            Some(r#"{"introduction":"하루 한 장"}"#),
        )
        .await;
    // The mask comes from the query string for PATCH with a field body.
    assert_eq!(patched.status, 400, "{:?}", patched.body);
    let patched = app
        .call(
            "PATCH",
            "/v1/members/me?updateMask=introduction",
            Some(&token),
            Some(r#"{"introduction":"하루 한 장"}"#),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["member"]["introduction"], json!("하루 한 장"));
}

#[tokio::test]
async fn errors_have_the_documented_shape_and_statuses() {
    let app = start(|_| {}).await;
    let token = app.signed_up("errs").await;
    let unknown = app
        .call("GET", "/v1/nothing/here", Some(&token), None)
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["status"], json!("NOT_FOUND"));
    let wrong = app.call("DELETE", "/v1/auth/sign-in", None, None).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(
        wrong.headers.get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let malformed = app
        .call("POST", "/v1/auth/sign-in", None, Some("{nope"))
        .await;
    assert_eq!(malformed.status, 400);
    assert!(
        malformed.body["message"]
            .as_str()
            .expect("message")
            .contains("malformed JSON")
    );
    let big = "x".repeat(10_000);
    let too_big = app
        .call(
            "POST",
            "/v1/auth/sign-in",
            None,
            Some(&format!(r#"{{"development":{{"nickname":"{big}"}}}}"#)),
        )
        .await;
    assert_eq!(too_big.status, 413);
    let no_token = app.call("GET", "/v1/members/me", None, None).await;
    assert_eq!(no_token.status, 401);
    assert_eq!(
        no_token.body["details"][0]["reason"],
        json!("TOKEN_MISSING")
    );
    let bad_token = app
        .call("GET", "/v1/members/me", Some("abc.def.ghi"), None)
        .await;
    assert_eq!(bad_token.status, 401);
    assert_eq!(
        bad_token.body["details"][0]["reason"],
        json!("TOKEN_INVALID")
    );
    let invalid = app
        .call(
            "GET",
            "/v1/auth/nicknames:check?nickname=%20",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(
        invalid.body["details"][1]["fieldViolations"][0]["field"],
        json!("nickname")
    );
    let conflict = app
        .call(
            "POST",
            "/v1/auth/sign-up",
            Some(&token),
            Some(r#"{"nickname":"other"}"#),
        )
        .await;
    assert_eq!(conflict.status, 409);
    // A routed path whose service has no upstream here (moim) answers 501
    // UNIMPLEMENTED ("service is not routed"), never a bare 500.
    let missing = app
        .call("GET", "/v1/members/me/teams", Some(&token), None)
        .await;
    assert_eq!(missing.status, 501, "{}", missing.body);
    assert_eq!(
        missing.body["status"],
        json!("UNIMPLEMENTED"),
        "{}",
        missing.body
    );
}

/// `/docs` is Swagger UI served from the gateway itself: the page, the vendored
/// bundle and stylesheet (no other host), and the development-token note only
/// where development sign-in is on.
#[tokio::test]
async fn docs_page_is_swagger_ui_served_offline() {
    let app = start(|s| s.dev_sign_in_note = true).await;
    let page = app.call("GET", "/docs", None, None).await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap_or_default();
    for needle in [
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/docs/init.js",
        "Development token",
    ] {
        assert!(html.contains(needle), "{needle} missing from /docs");
    }
    assert!(
        !html.contains("https://") && !html.contains("http://cdn"),
        "the page loads nothing from elsewhere"
    );
    let init = app.call("GET", "/docs/init.js", None, None).await;
    assert!(
        init.body
            .as_str()
            .unwrap_or_default()
            .contains("\"/openapi.json\"")
    );
    for (path, kind, needle) in [
        (
            "/docs/swagger-ui-bundle.js",
            "javascript",
            "SwaggerUIBundle",
        ),
        ("/docs/swagger-ui.css", "text/css", ".swagger-ui"),
    ] {
        let asset = app.call("GET", path, None, None).await;
        assert_eq!(asset.status, 200, "{path}");
        let ct = asset
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(ct.contains(kind), "{path}: {ct}");
        assert!(
            asset.body.as_str().unwrap_or_default().contains(needle),
            "{path}"
        );
    }
    let quiet = start(|_| {}).await;
    let page = quiet.call("GET", "/docs", None, None).await;
    assert!(
        !page
            .body
            .as_str()
            .unwrap_or_default()
            .contains("Development token")
    );
}

#[tokio::test]
async fn openapi_docs_jwks_and_cors() {
    let app = start(|s| s.cors_origins = vec!["https://app.moing.test".into()]).await;
    let spec = app.call("GET", "/openapi.json", None, None).await;
    assert_eq!(spec.status, 200);
    assert_eq!(spec.body["openapi"], json!("3.1.0"));
    assert!(spec.body["paths"]["/v1/teams/{team_id}/missions"]["post"].is_object());
    let docs = app.call("GET", "/docs", None, None).await;
    assert_eq!(docs.status, 200);
    let jwks = app.call("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(jwks.body["keys"][0]["alg"], json!("EdDSA"));

    let preflight = http::Request::builder()
        .method("OPTIONS")
        .uri(format!("{}/v1/members/me", app.cluster.endpoint("gateway")))
        .header("origin", "https://app.moing.test")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization,x-grpc-web")
        .body(Full::new(bytes::Bytes::new()))
        .expect("req");
    let resp = app.http.request(preflight).await.expect("preflight");
    let allow = resp
        .headers()
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        allow.contains("authorization") && allow.contains("x-grpc-web"),
        "{allow}"
    );
    assert_eq!(
        resp.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://app.moing.test")
    );
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let app = start(|s| s.rate_per_address_per_minute = 3).await;
    // A fixed one-minute window: a run straddling a minute boundary may need up
    // to twice the limit before the refusal shows, never more.
    let mut refused = None;
    for n in 0..=6 {
        let r = app.call("GET", "/v1/auth/jwks", None, None).await;
        if r.status == 429 {
            assert!(n >= 3, "limited after only {n} calls");
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("the limit of 3 a minute is enforced within 7 calls");
    assert_eq!(r.status, 429);
    let retry: u64 = r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("retry-after");
    assert!((1..=60).contains(&retry));
}

impl App {
    /// A development sign-in that claims to come from `forwarded_for`.
    async fn sign_in_from(&self, forwarded_for: &str, n: usize) -> u16 {
        let body = json!({"development": {"nickname": format!("xff{n}")},
            "device": {"name": "web", "platform": "DEVICE_PLATFORM_WEB"}})
        .to_string();
        let req = http::Request::builder()
            .method("POST")
            .uri(format!(
                "{}/v1/auth/sign-in",
                self.cluster.endpoint("gateway")
            ))
            .header("content-type", "application/json")
            .header("x-forwarded-for", forwarded_for)
            .body(Full::new(bytes::Bytes::from(body)))
            .expect("request");
        self.http
            .request(req)
            .await
            .expect("response")
            .status()
            .as_u16()
    }
}

/// Auth allows 30 sign-ins per address per minute (its default). The window is
/// a fixed minute, so a run that straddles a minute boundary may need up to
/// twice as many calls before the limit shows; never more.
const SIGN_IN_LIMIT: usize = 30;

/// Signs in from `forwarded_for` until refused: how many calls were accepted.
async fn accepted_until_limited(app: &App, forwarded_for: impl Fn(usize) -> String) -> usize {
    for n in 0..=2 * SIGN_IN_LIMIT {
        match app.sign_in_from(&forwarded_for(n), n).await {
            200 => continue,
            429 => return n,
            other => panic!("call {n}: {other}"),
        }
    }
    panic!("never limited after {} calls", 2 * SIGN_IN_LIMIT + 1);
}

#[tokio::test]
async fn two_clients_behind_a_trusted_proxy_are_limited_separately() {
    // The test client plays Envoy: a trusted proxy appending the client address.
    let app = start(|s| s.trusted_proxies = vec!["127.0.0.1/32".into(), "::1/128".into()]).await;
    let first = accepted_until_limited(&app, |_| "6.6.6.6, 198.51.100.1".into()).await;
    assert!(first >= SIGN_IN_LIMIT, "limited after {first}");
    // The second client behind the same proxy is not, whatever the first spoofed.
    assert_eq!(
        app.sign_in_from("198.51.100.1, 198.51.100.2", 100).await,
        200
    );
}

#[tokio::test]
async fn a_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = start(|_| {}).await;
    // A new spoofed address per call: were it believed, no call would be refused.
    let accepted = accepted_until_limited(&app, |n| format!("203.0.113.{n}")).await;
    assert!(accepted >= SIGN_IN_LIMIT, "limited after {accepted}");
}
