//! Meeting schedule handlers: read it with the upcoming meetings, replace the
//! weekly slots and/or single meetings (leader only, emits
//! MeetingScheduleChanged).

use moing_common::{Validator, layer::principal};
use moing_proto::moing::{
    events::v1::{MeetingScheduleChanged, event::Payload},
    moim::v1 as pb,
};
use tonic::{Request, Response, Status};

use super::{
    Moim,
    wire::{id_of, meeting_pb, schedule_pb},
};
use crate::{
    domain::{self, ScheduleChange},
    error::MoimError,
};

/// Upcoming meetings listed with a schedule.
const UPCOMING: usize = 5;

pub(super) async fn get_meeting_schedule(
    moim: &Moim,
    req: Request<pb::GetMeetingScheduleRequest>,
) -> Result<Response<pb::GetMeetingScheduleResponse>, Status> {
    let who = principal(&req)?;
    let mut v = Validator::new();
    let id = id_of(&mut v, "team_id", &req.get_ref().team_id);
    v.finish().map_err(MoimError::from)?;
    let (team, _) = moim
        .member_view(id, who.member_id, moing_common::clock::now())
        .await?;
    let (weekly, singles, updated) = moim.store.schedule(id).await?;
    let upcoming = domain::upcoming_meetings(
        &team,
        &weekly,
        &singles,
        moing_common::clock::now(),
        UPCOMING,
    );
    Ok(Response::new(pb::GetMeetingScheduleResponse {
        meeting_schedule: Some(schedule_pb(&team, &weekly, &singles, updated)),
        upcoming_meetings: upcoming.iter().map(meeting_pb).collect(),
    }))
}

pub(super) async fn update_meeting_schedule(
    moim: &Moim,
    req: Request<pb::UpdateMeetingScheduleRequest>,
) -> Result<Response<pb::UpdateMeetingScheduleResponse>, Status> {
    let who = principal(&req)?;
    let now = moing_common::clock::now();
    let change = ScheduleChange::try_from(req.into_inner())?;
    let team = moim
        .leader_view(change.team_id, who.member_id, now, true)
        .await?;
    let (old_weekly, old_singles, _) = moim.store.schedule(team.id).await?;
    let weekly = change.weekly.unwrap_or(old_weekly);
    let singles = change.singles.unwrap_or(old_singles);
    let next = domain::next_meeting(&team, &weekly, &singles, now);
    let schedule = schedule_pb(&team, &weekly, &singles, Some(now));
    let event = Payload::MeetingScheduleChanged(MeetingScheduleChanged {
        team_name: team.name.clone(),
        meeting_schedule: Some(schedule.clone()),
        next_meeting: next.as_ref().map(meeting_pb),
    });
    moim.store
        .set_schedule(&team, who.member_id, &weekly, &singles, event)
        .await?;
    let upcoming = domain::upcoming_meetings(&team, &weekly, &singles, now, UPCOMING);
    Ok(Response::new(pb::UpdateMeetingScheduleResponse {
        meeting_schedule: Some(schedule),
        upcoming_meetings: upcoming.iter().map(meeting_pb).collect(),
    }))
}
