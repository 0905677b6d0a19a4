//! Logs as production writes them (JSON, here at DEBUG for every crate) while a
//! member signs in with an email-bearing Google ID token, signs up, refreshes,
//! registers a device push token and calls with good and bad access tokens:
//! none of those secrets or the email appears in any line, and every line
//! written inside a served call carries its request id and trace id.

mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use moing_common::config::LogSettings;
use serde_json::{Value, json};

/// Log lines captured in memory.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// The span of `name` in a JSON line's span list.
fn span<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == json!(name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logs_carry_ids_and_never_secrets_or_personal_data() {
    let capture = Capture::default();
    let writer = capture.clone();
    moing_common::telemetry::try_init_with_writer(
        "moing-e2e",
        &LogSettings {
            json: true,
            filter: "debug".into(),
            ..Default::default()
        },
        move || writer.clone(),
    )
    .expect("telemetry");
    let stack = support::Stack::start().await;

    let email = format!(
        "private.person.{}@example.com",
        uuid::Uuid::new_v4().simple()
    );
    let id_token = stack.google.id_token("google-sub-4711", &email);
    let (s, signed_in) = stack
        .call(
            "POST",
            "/v1/auth/sign-in",
            None,
            &[],
            Some(json!({"google": {"idToken": id_token},
                "device": {"name": "pixel", "platform": "DEVICE_PLATFORM_ANDROID"}})),
        )
        .await;
    assert_eq!(s, 200, "{signed_in}");
    let pending = signed_in["tokens"]["accessToken"]
        .as_str()
        .expect("access")
        .to_owned();
    let refresh = signed_in["tokens"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let (s, up) = stack
        .call(
            "POST",
            "/v1/auth/sign-up",
            Some(&pending),
            &[],
            Some(json!({"nickname": "비밀"})),
        )
        .await;
    assert_eq!(s, 200, "{up}");
    let (s, refreshed) = stack
        .call(
            "POST",
            "/v1/auth/tokens:refresh",
            None,
            &[],
            Some(json!({"refreshToken": refresh})),
        )
        .await;
    assert_eq!(s, 200, "{refreshed}");
    // RefreshTokenResponse is {"tokens": AuthTokens}: both tokens must be there.
    let access = refreshed["tokens"]["accessToken"]
        .as_str()
        .expect("refreshed access token")
        .to_owned();
    let new_refresh = refreshed["tokens"]["refreshToken"]
        .as_str()
        .expect("rotated refresh token")
        .to_owned();
    assert!(
        !new_refresh.is_empty() && new_refresh != refresh,
        "refreshing rotates the refresh token: {refreshed}"
    );
    let (s, me) = stack
        .call("GET", "/v1/members/me", Some(&access), &[], None)
        .await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(
        me["member"]["email"],
        json!(email),
        "the email was really used"
    );
    let push_token = format!("fcm-device-token-{}", uuid::Uuid::new_v4().simple());
    let (s, device) = stack
        .call(
            "PUT",
            "/v1/members/me/devices/current",
            Some(&access),
            &[],
            Some(json!({"pushToken": push_token, "platform": "DEVICE_PLATFORM_ANDROID"})),
        )
        .await;
    assert_eq!(s, 200, "{device}");
    // Refused tokens are not logged either.
    let forged = format!("{access}x");
    let (s, _) = stack
        .call("GET", "/v1/members/me", Some(&forged), &[], None)
        .await;
    assert_eq!(s, 401);
    // A rotated-out refresh token is refused as reused (and its log line, a
    // warning, must not carry it either).
    let reused = refresh.clone();
    let (s, refused) = stack
        .call(
            "POST",
            "/v1/auth/tokens:refresh",
            None,
            &[],
            Some(json!({"refreshToken": reused})),
        )
        .await;
    assert_eq!(s, 401, "a rotated refresh token is refused: {refused}");
    assert_eq!(
        refused["details"][0]["reason"],
        json!("REFRESH_TOKEN_REUSED"),
        "{refused}"
    );
    // Invite codes are credentials to a team: they sit in REST paths, and must
    // reach neither log lines nor span attributes. (The reuse above ended the
    // session of `access`: a fresh member hosts.)
    let host = stack.member("초대주인").await;
    let today = moing_testkit::seoul_today();
    let date = |days: i64| {
        let x = today + chrono::Duration::days(days);
        json!({"year": chrono::Datelike::year(&x), "month": chrono::Datelike::month(&x),
            "day": chrono::Datelike::day(&x)})
    };
    let (s, team) = stack
        .call(
            "POST",
            "/v1/teams",
            Some(&host),
            &[],
            Some(
                json!({"name": "초대코드", "category": "TEAM_CATEGORY_STUDY",
                "startDate": date(0), "endDate": date(30)}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{team}");
    let team_id = team["team"]["teamId"].as_str().expect("team id");
    let (s, invite) = stack
        .call(
            "POST",
            &format!("/v1/teams/{team_id}/invites"),
            Some(&host),
            &[],
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 200, "{invite}");
    let code = invite["invite"]["code"].as_str().expect("code").to_owned();
    let guest = stack.member("초대손님").await;
    let (s, preview) = stack
        .call(
            "GET",
            &format!("/v1/invites/{code}"),
            Some(&guest),
            &[],
            None,
        )
        .await;
    assert_eq!(s, 200, "{preview}");
    let (s, joined) = stack
        .call(
            "POST",
            &format!("/v1/invites/{code}:accept"),
            Some(&guest),
            &[],
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 200, "{joined}");
    stack.cluster.stop().await.expect("clean stop");

    let text = capture.text();
    assert!(text.lines().count() > 20, "logs were captured: {text}");
    let secrets = [
        ("email", email.as_str()),
        ("email local part", email.split('@').next().unwrap_or("-")),
        ("google id token", id_token.as_str()),
        ("pending access token", pending.as_str()),
        ("access token", access.as_str()),
        ("refresh token", refresh.as_str()),
        ("rotated refresh token", new_refresh.as_str()),
        ("push token", push_token.as_str()),
        ("invite code", code.as_str()),
    ];
    for (what, secret) in secrets {
        assert!(!secret.is_empty(), "{what} was captured");
        let leak = text.lines().find(|l| l.contains(secret));
        assert!(leak.is_none(), "{what} logged: {leak:?}");
    }
    // JWTs' signature parts are distinctive enough to catch a partial print.
    for token in [&pending, &access] {
        let signature = token.rsplit('.').next().unwrap_or_default();
        assert!(!text.contains(signature), "a token signature was logged");
    }

    let lines: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut in_calls = 0;
    for line in &lines {
        for name in ["grpc.server", "http.server"] {
            if let Some(s) = span(line, name) {
                in_calls += 1;
                assert!(
                    s["request_id"].as_str().is_some_and(|id| !id.is_empty()),
                    "no request id: {line}"
                );
                assert!(
                    s["trace_id"].as_str().is_some_and(|id| id.len() == 32),
                    "no trace id: {line}"
                );
            }
        }
    }
    assert!(in_calls >= 10, "lines inside calls: {in_calls}");
}
