//! Property test over the whole request surface: generated requests to every
//! method of the public and internal auth services never give INTERNAL,
//! UNKNOWN or a panic. The calls that end the caller's session run last, as
//! another member.

use moing_testkit::fuzz::{self, Target};

use crate::helpers::*;

const SESSION_ENDING: [&str; 3] = ["SignOut", "RevokeSession", "Withdraw"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_get_deliberate_answers() {
    let app = spawn_app().await;
    let (token, refresh, id) = app.active_member("퍼즈").await;
    let (other_token, _, other_id) = app.active_member("퍼즈둘").await;
    let known = vec![id, other_id, refresh, "퍼즈".to_string()];
    let bearer = |t: &str| vec![("authorization", format!("Bearer {t}"))];
    let service = vec![("x-moing-service-token", app.service_token.clone())];
    let mut public = Target::new(
        app.channel.clone(),
        "moing.auth.v1.AuthService",
        bearer(&token),
    );
    for m in SESSION_ENDING {
        public = public.skip(m);
    }
    let report = fuzz::run(
        &[
            public,
            Target::new(
                app.channel.clone(),
                "moing.auth.v1.AuthInternalService",
                service,
            ),
            Target::new(
                app.channel.clone(),
                "moing.auth.v1.AuthService",
                bearer(&other_token),
            )
            .only(&SESSION_ENDING),
        ],
        &known,
        fuzz::cases(),
    )
    .await;
    eprintln!("auth fuzz: {report:?}");
    assert!(report.methods >= 13, "{report:?}");
}
