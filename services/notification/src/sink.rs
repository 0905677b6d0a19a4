//! The notification service's `EventSink`: the common de-duplicating sink
//! applies each event (inbox rows and push rows commit with the event id),
//! then, before answering, the dispatcher sends the pushes those commits
//! queued. So one delivery fans an event out completely, and a redelivery
//! finds the event processed and its pushes already claimed: nothing twice.

use std::{sync::Arc, time::Duration};

use moing_common::outbox::EventSinkService;
use moing_proto::moing::events::v1::{
    DeliverRequest, DeliverResponse, event_sink_server::EventSink,
};
use tonic::{Request, Response, Status};

use crate::{events::Consumer, push::Dispatcher};

/// How long a delivery waits for its pushes; the rest finish in the background.
/// Below the relay's default 3 s call deadline, so a slow FCM (Retry-After)
/// never turns into redeliveries.
const PUSH_WAIT: Duration = Duration::from_secs(2);

pub struct NotificationSink {
    inner: EventSinkService<Consumer>,
    dispatcher: Dispatcher,
}

impl std::fmt::Debug for NotificationSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationSink").finish_non_exhaustive()
    }
}

impl NotificationSink {
    pub fn new(pool: sqlx::MySqlPool, consumer: Arc<Consumer>, dispatcher: Dispatcher) -> Self {
        Self {
            inner: EventSinkService::new(pool, consumer),
            dispatcher,
        }
    }
}

#[tonic::async_trait]
impl EventSink for NotificationSink {
    async fn deliver(
        &self,
        request: Request<DeliverRequest>,
    ) -> Result<Response<DeliverResponse>, Status> {
        let response = self.inner.deliver(request).await?;
        if response.get_ref().applied > 0 {
            let dispatcher = self.dispatcher.clone();
            let pushes = tokio::spawn(async move { dispatcher.drain(100).await });
            match tokio::time::timeout(PUSH_WAIT, pushes).await {
                Ok(Ok(Ok(_))) => {}
                Ok(Ok(Err(e))) => {
                    tracing::warn!(error = %e, "push dispatch failed; the push job retries")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "push dispatch task failed"),
                Err(_) => tracing::info!("pushes still sending after the delivery answered"),
            }
        }
        Ok(response)
    }
}
