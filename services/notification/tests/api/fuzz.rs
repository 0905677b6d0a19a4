//! Property test over the whole request surface: generated requests to every
//! method of the public and internal notification services and the event sink
//! never give INTERNAL, UNKNOWN or a panic.

use moing_testkit::fuzz::{self, Target};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_get_deliberate_answers() {
    let app = spawn_app().await;
    let me = app.member();
    let push_token = app.device(&me).await;
    let known = vec![me.id.to_string(), me.session.to_string(), push_token];
    let member = vec![("authorization", format!("Bearer {}", me.token))];
    let service = vec![("x-moing-service-token", app.tokens.service_token.clone())];
    let report = fuzz::run(
        &[
            Target::new(
                app.channel.clone(),
                "moing.notification.v1.NotificationService",
                member,
            ),
            Target::new(
                app.channel.clone(),
                "moing.notification.v1.NotificationInternalService",
                service.clone(),
            ),
            Target::new(app.channel.clone(), "moing.events.v1.EventSink", service),
        ],
        &known,
        fuzz::cases(),
    )
    .await;
    eprintln!("notification fuzz: {report:?}");
    assert!(report.methods >= 10, "{report:?}");
}
