//! The notification service's `EventSink`: the common de-duplicating sink
//! applies each event (inbox rows and push rows commit with the event id),
//! then wakes this replica's push loop and answers at once: the relay's next
//! batch is applied while these pushes are sent. A redelivery finds the event
//! processed: nothing is written or queued twice.

use std::sync::Arc;

use moing_common::outbox::EventSinkService;
use moing_proto::moing::events::v1::{
    DeliverRequest, DeliverResponse, event_sink_server::EventSink,
};
use tonic::{Request, Response, Status};

use crate::{events::Consumer, push::Dispatcher};

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
    /// `concurrency`: events of one delivery applied at once (their order
    /// does not matter to a fan-out).
    pub fn new(
        pool: sqlx::MySqlPool,
        consumer: Arc<Consumer>,
        dispatcher: Dispatcher,
        concurrency: usize,
    ) -> Self {
        Self {
            inner: EventSinkService::new(pool, consumer).with_concurrency(concurrency),
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
            self.dispatcher.wake();
        }
        Ok(response)
    }
}
