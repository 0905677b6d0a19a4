use std::collections::HashSet;

use moing_proto::moing::{board::v1::*, moim::v1::BlockMemberRequest};
use uuid::Uuid;

use crate::helpers::*;

/// Rows straight into the board's database: 1,000 posts through the API would
/// only test the API's speed.
async fn seed_posts(app: &TestApp, team: &str, authors: &[&Member], n: usize) {
    let team = Uuid::parse_str(team).expect("team id");
    let start = moing_common::clock::now().naive_utc() - chrono::Duration::hours(1);
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        let marks = vec!["(?, ?, ?, ?, ?, 0, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO post (id, team_id, author_id, title, content, is_notice, created_at) VALUES {marks}"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in chunk {
            q = q
                .bind(Uuid::now_v7())
                .bind(team)
                .bind(authors[i % authors.len()].id)
                .bind(format!("글 {i}"))
                .bind("내용")
                .bind(start + chrono::Duration::milliseconds(*i as i64));
        }
        q.execute(&app.db.pool).await.expect("seed posts");
    }
}

#[tokio::test]
async fn a_thousand_posts_page_through_and_a_blocked_author_stays_hidden() {
    let app = spawn_app().await;
    let leader = app.member();
    let viewer = app.member();
    let writer = app.member();
    let spammer = app.member();
    let (team, code) = app.team(&leader).await;
    for m in [&viewer, &writer, &spammer] {
        app.join(&code, m).await;
    }
    seed_posts(&app, &team, &[&writer, &spammer, &leader, &writer], 1_000).await;
    app.teams
        .clone()
        .block_member(as_member(
            &viewer,
            BlockMemberRequest {
                member_id: spammer.id.to_string(),
            },
        ))
        .await
        .expect("block");

    let pages = |who: &'static str, m: &Member| {
        let mut b = app.board.clone();
        let team = team.clone();
        let token = m.token.clone();
        async move {
            let mut seen = Vec::new();
            let mut token_page = String::new();
            loop {
                let page = b
                    .list_posts(moing_testkit::bearer(
                        &token,
                        ListPostsRequest {
                            team_id: team.clone(),
                            page_size: 100,
                            page_token: token_page.clone(),
                            ..Default::default()
                        },
                    ))
                    .await
                    .unwrap_or_else(|e| panic!("{who} lists posts: {e}"))
                    .into_inner();
                seen.extend(page.posts);
                if page.next_page_token.is_empty() {
                    break seen;
                }
                token_page = page.next_page_token;
            }
        }
    };
    let all = pages("the writer", &writer).await;
    assert_eq!(all.len(), 1_000, "nothing blocked for the writer");
    let ids: HashSet<&str> = all.iter().map(|p| p.post_id.as_str()).collect();
    assert_eq!(ids.len(), 1_000, "pages neither repeat nor skip");

    let filtered = pages("the blocker", &viewer).await;
    assert_eq!(
        filtered.len(),
        750,
        "the blocked author's 250 posts are hidden"
    );
    let spammer_id = spammer.id.to_string();
    assert!(
        filtered
            .iter()
            .all(|p| p.author.as_ref().map(|a| a.member_id.as_str()) != Some(&spammer_id))
    );

    // The same holds for the comments of one post.
    let post = &filtered[0];
    let post_id = Uuid::parse_str(&post.post_id).expect("post id");
    let team_id = Uuid::parse_str(&team).expect("team id");
    let now = moing_common::clock::now().naive_utc();
    for i in 0..600 {
        let author = if i % 3 == 0 { &spammer } else { &writer };
        sqlx::query("INSERT INTO post_comment (id, post_id, team_id, author_id, content, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(Uuid::now_v7())
            .bind(post_id)
            .bind(team_id)
            .bind(author.id)
            .bind("댓글")
            .bind(now + chrono::Duration::milliseconds(i))
            .execute(&app.db.pool)
            .await
            .expect("seed comment");
    }
    let comments = app
        .board
        .clone()
        .list_post_comments(as_member(
            &viewer,
            ListPostCommentsRequest {
                team_id: team.clone(),
                post_id: post.post_id.clone(),
                page_size: 100,
                ..Default::default()
            },
        ))
        .await
        .expect("comments of a busy post")
        .into_inner();
    assert_eq!(comments.comments.len(), 100);
    assert!(
        comments
            .comments
            .iter()
            .all(|c| c.author.as_ref().map(|a| a.member_id.as_str()) != Some(&spammer_id))
    );
}
