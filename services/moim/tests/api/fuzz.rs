//! Property test over the whole request surface: generated requests to every
//! method of the public and internal team services (the caller's team, invite
//! code and member ids mixed with junk) never give INTERNAL, UNKNOWN or a panic.

use moing_testkit::fuzz::{self, Target};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_get_deliberate_answers() {
    let app = spawn_app().await;
    let leader = app.member();
    let other = app.member();
    let team = app.team(&leader, "퍼즈팀").await;
    let code = app.invite(&leader, &team, 5).await;
    let known = vec![
        team.team_id.clone(),
        code,
        leader.id.to_string(),
        other.id.to_string(),
        "Asia/Seoul".to_string(),
    ];
    let member = vec![("authorization", format!("Bearer {}", leader.token))];
    let service = vec![("x-moing-service-token", app.tokens.service_token.clone())];
    let report = fuzz::run(
        &[
            Target::new(app.channel.clone(), "moing.moim.v1.TeamService", member),
            Target::new(
                app.channel.clone(),
                "moing.moim.v1.TeamInternalService",
                service,
            ),
        ],
        &known,
        fuzz::cases(),
    )
    .await;
    eprintln!("moim fuzz: {report:?}");
    assert!(report.methods >= 20, "{report:?}");
}
