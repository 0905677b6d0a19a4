//! The board service's `EventSink`: the events of moim, mission and the
//! board's own outbox, of which it keeps nothing: an event that moves a goal
//! board marks its team changed (`crate::live`), so that WatchGoalBoard
//! streams on every replica send the new board. A redelivered event only marks
//! the team again (the watchers find the board unchanged and send nothing).

use std::{collections::BTreeSet, sync::Arc};

use moing_proto::moing::events::v1::{
    DeliverRequest, DeliverResponse, event::Payload, event_sink_server::EventSink,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::live::Live;

#[derive(Debug)]
pub struct BoardSink {
    pub live: Arc<Live>,
}

/// Whether the payload changes what a goal board shows: proofs, skips,
/// missions, members, posts (the unread counts), notices, votes, the score,
/// the team itself — not hearts, stickers, comments or pokes.
pub fn moves_the_board(payload: &Payload) -> bool {
    use Payload as P;
    match payload {
        P::ProofSubmitted(_)
        | P::ProofDeleted(_)
        | P::MissionSkipped(_)
        | P::MissionCreated(_)
        | P::MissionUpdated(_)
        | P::MissionEnded(_)
        | P::TeamScoreChanged(_)
        | P::MissionContentHidden(_)
        | P::MissionContentReviewed(_)
        | P::TeamUpdated(_)
        | P::TeamFinished(_)
        | P::TeamDisbanded(_)
        | P::MemberJoined(_)
        | P::MemberLeft(_)
        | P::MemberRemoved(_)
        | P::LeaderChanged(_)
        | P::MeetingScheduleChanged(_)
        | P::PostCreated(_)
        | P::PostDeleted(_)
        | P::VoteOpened(_)
        | P::VoteClosed(_)
        | P::VoteCast(_)
        | P::VoteRetracted(_) => true,
        P::PostUpdated(e) => e.became_notice || e.is_notice,
        _ => false,
    }
}

#[tonic::async_trait]
impl EventSink for BoardSink {
    async fn deliver(
        &self,
        request: Request<DeliverRequest>,
    ) -> Result<Response<DeliverResponse>, Status> {
        let events = request.into_inner().events;
        let teams: BTreeSet<Uuid> = events
            .iter()
            .filter(|e| e.payload.as_ref().is_some_and(moves_the_board))
            .filter_map(|e| Uuid::parse_str(&e.team_id).ok())
            .collect();
        if !teams.is_empty() {
            self.live
                .changed(&teams.into_iter().collect::<Vec<_>>())
                .await;
        }
        // A block hides a member on every board the two share.
        if events.iter().any(|e| {
            matches!(
                e.payload,
                Some(Payload::MemberBlocked(_) | Payload::MemberUnblocked(_))
            )
        }) {
            self.live.changed_everywhere().await;
        }
        Ok(Response::new(DeliverResponse {
            applied: events.len() as i32,
            duplicates: 0,
        }))
    }
}
