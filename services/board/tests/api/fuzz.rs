//! Property test over the whole request surface: generated requests to every
//! method of the public and internal board services (the caller's team, post
//! and vote ids mixed with junk) never give INTERNAL, UNKNOWN or a panic.

use moing_proto::moing::board::v1::CreatePostRequest;
use moing_testkit::fuzz::{self, Target};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_get_deliberate_answers() {
    let app = spawn_app().await;
    let leader = app.member();
    let other = app.member();
    let (team, code) = app.team(&leader).await;
    app.join(&code, &other).await;
    let post = app
        .board
        .clone()
        .create_post(moing_testkit::bearer(
            &other.token,
            CreatePostRequest {
                team_id: team.clone(),
                title: "공지".into(),
                content: "내용".into(),
                is_notice: false,
            },
        ))
        .await
        .expect("post")
        .into_inner()
        .post
        .map(|p| p.post_id)
        .unwrap_or_default();
    let known = vec![team, post, leader.id.to_string(), other.id.to_string()];
    let member = vec![("authorization", format!("Bearer {}", leader.token))];
    let service = vec![("x-moing-service-token", app.tokens.service_token.clone())];
    let report = fuzz::run(
        &[
            Target::new(app.channel.clone(), "moing.board.v1.BoardService", member),
            Target::new(
                app.channel.clone(),
                "moing.board.v1.BoardInternalService",
                service,
            ),
        ],
        &known,
        fuzz::cases(),
    )
    .await;
    eprintln!("board fuzz: {report:?}");
    assert!(report.methods >= 18, "{report:?}");
}
