//! Immediate revocation across services: after sign-out or withdrawal, the
//! session's access token stops working on moim, mission and notification
//! (and auth) within a second, although it has not expired.

mod support;

use std::time::{Duration, Instant};

use support::Stack;

/// Calls that a member's token reaches on three services besides auth.
fn probes(team: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GET", "/v1/members/me/teams".to_owned()),
        ("GET", format!("/v1/teams/{team}/missions")),
        ("GET", "/v1/members/me/notifications".to_owned()),
        ("GET", "/v1/members/me".to_owned()),
    ]
}

/// Waits until every probe answers 401 SESSION_REVOKED; returns how long it took.
async fn refused_within(stack: &Stack, token: &str, team: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let mut all = true;
        for (method, path) in probes(team) {
            let (s, body) = stack.call(method, &path, Some(token), &[], None).await;
            if s == 200 {
                all = false;
                continue;
            }
            assert_eq!(s, 401, "{method} {path}: {body}");
            // Auth may also say so itself (a withdrawn account); the others can
            // only know through the session check.
            if path != "/v1/members/me" {
                assert!(
                    body.to_string().contains("SESSION_REVOKED"),
                    "{path}: {body}"
                );
            }
        }
        if all {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "still accepted after {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sign_out_and_withdrawal_stop_the_access_token_on_every_service_within_a_second() {
    let stack = Stack::start().await;
    let leader = stack.member("철회리더").await;
    let joiner = stack.member("철회멤버").await;
    let team = stack.team_with(&leader, &joiner).await;
    for token in [&leader, &joiner] {
        for (method, path) in probes(&team) {
            let (s, body) = stack.call(method, &path, Some(token), &[], None).await;
            assert_eq!(s, 200, "{method} {path} before: {body}");
        }
    }

    // Sign-out: the token dies everywhere; the device cannot be re-registered with it.
    let (s, body) = stack
        .call(
            "POST",
            "/v1/auth/sign-out",
            Some(&leader),
            &[],
            Some(serde_json::json!({})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let took = refused_within(&stack, &leader, &team, Duration::from_secs(1)).await;
    println!("sign-out refused everywhere after {took:?}");
    let (s, body) = stack
        .call(
            "PUT",
            "/v1/members/me/devices/current",
            Some(&leader),
            &[],
            Some(serde_json::json!({"pushToken": "after-sign-out", "platform": "DEVICE_PLATFORM_ANDROID"})),
        )
        .await;
    assert_eq!(s, 401, "RegisterDevice after sign-out: {body}");
    let (s, body) = stack
        .call(
            "POST",
            "/v1/teams",
            Some(&leader),
            &[],
            Some(serde_json::json!({"name": "몰래"})),
        )
        .await;
    assert_eq!(s, 401, "CreateTeam after sign-out: {body}");

    // Withdrawal: the same for every session of the member.
    let (s, body) = stack
        .call(
            "POST",
            "/v1/members/me:withdraw",
            Some(&joiner),
            &[],
            Some(serde_json::json!({})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let took = refused_within(&stack, &joiner, &team, Duration::from_secs(1)).await;
    println!("withdrawal refused everywhere after {took:?}");
}
