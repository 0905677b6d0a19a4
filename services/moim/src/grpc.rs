//! `moing.moim.v1.TeamService`: thin handlers — validate, authorize, call the store.
//! A non-member gets TEAM_NOT_FOUND for every team RPC (existence is not
//! revealed); leader actions need the leader; writes need an ACTIVE team.

use std::{collections::HashMap, sync::Arc};

use moing_common::client::InternalChannel;
use moing_proto::moing::auth::v1::auth_internal_service_client::AuthInternalServiceClient;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use moing_common::{Validator, layer::principal, outbox::timestamp};
use moing_proto::moing::{
    common::v1::ImageRef,
    events::v1::{MeetingScheduleChanged, event::Payload},
    moim::v1::{self as pb, team_service_server::TeamService},
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    domain::{
        self, Category, NextMeeting, Role, SingleMeeting, Status as TeamStatus, Team, WeeklySlot,
    },
    error::MoimError,
    store::{Invite, Membership, NewTeam, Store, pb_date},
};

#[derive(Debug)]
pub struct Moim {
    pub store: Store,
    /// Display data (nickname, image) from auth; None where auth is not wired (tests).
    pub auth: Option<AuthInternalServiceClient<InternalChannel>>,
    /// Invite-code attempts per member per minute (brute-force guard).
    pub code_attempts: std::sync::Mutex<std::collections::HashMap<Uuid, (i64, u32)>>,
}

impl Moim {
    /// Nicknames and image keys in one batch call; empty when auth is unavailable
    /// (the lists still work, names fill in again when auth answers).
    async fn display(&self, ids: &[Uuid]) -> HashMap<Uuid, (String, String)> {
        match &self.auth {
            Some(client) => moing_common::display::names(client, ids).await,
            None => HashMap::new(),
        }
    }
}

/// Code lookups (preview, join) a member may make per minute.
pub const CODE_ATTEMPTS_PER_MINUTE: u32 = 30;

impl Moim {
    /// Counts one invite-code attempt; RESOURCE_EXHAUSTED past the limit.
    fn code_attempt(&self, member: Uuid) -> Result<(), Status> {
        let now = moing_common::clock::now().timestamp();
        let window = now / 60;
        let count = match self.code_attempts.lock() {
            Ok(mut map) => {
                if map.len() > 10_000 {
                    map.retain(|_, (w, _)| *w == window);
                }
                let e = map.entry(member).or_insert((window, 0));
                if e.0 != window {
                    *e = (window, 0);
                }
                e.1 += 1;
                e.1
            }
            Err(_) => 0,
        };
        if count > CODE_ATTEMPTS_PER_MINUTE {
            let wait = (60 - now % 60).max(1);
            return Err(moing_common::ApiError::new(
                tonic::Code::ResourceExhausted,
                moing_common::error::reason::RATE_LIMITED,
                format!("too many invite code attempts, retry in {wait} seconds"),
            )
            .with_metadata("retry_after_seconds", wait.to_string())
            .into());
        }
        Ok(())
    }
}

pub(crate) fn status_pb(s: TeamStatus) -> i32 {
    (match s {
        TeamStatus::Active => pb::TeamStatus::Active,
        TeamStatus::Finished => pb::TeamStatus::Finished,
        TeamStatus::Disbanded => pb::TeamStatus::Disbanded,
    }) as i32
}

pub(crate) fn role_pb(r: Role) -> i32 {
    (match r {
        Role::Leader => pb::TeamRole::Leader,
        Role::Member => pb::TeamRole::Member,
    }) as i32
}

fn time_pb(t: NaiveTime) -> moing_proto::google::r#type::TimeOfDay {
    use chrono::Timelike;
    moing_proto::google::r#type::TimeOfDay {
        hours: t.hour() as i32,
        minutes: t.minute() as i32,
        seconds: 0,
        nanos: 0,
    }
}

pub fn meeting_pb(m: &NextMeeting) -> pb::Meeting {
    pb::Meeting {
        date: Some(pb_date(m.date)),
        start_time: Some(time_pb(m.time)),
        starts_at: Some(timestamp(m.starts_at)),
        place: m.place.clone(),
        memo: m.memo.clone(),
        weekly: m.weekly,
    }
}

fn image(key: &str) -> Option<ImageRef> {
    (!key.is_empty()).then(|| ImageRef {
        key: key.to_owned(),
        url: String::new(),
    })
}

pub fn team_pb(
    t: &Team,
    me: Option<&Membership>,
    next: Option<&NextMeeting>,
    now: DateTime<Utc>,
) -> pb::Team {
    pb::Team {
        team_id: t.id.to_string(),
        name: t.name.clone(),
        category: t.category.number(),
        introduction: t.introduction.clone(),
        leader_promise: t.leader_promise.clone(),
        image: image(&t.image_key),
        start_date: Some(pb_date(t.start_date)),
        end_date: Some(pb_date(t.end_date)),
        time_zone: t.time_zone.clone(),
        member_cap: t.member_cap,
        allow_member_invites: t.allow_member_invites,
        status: status_pb(t.status(now)),
        leader_member_id: t.leader_id.to_string(),
        member_count: t.member_count,
        days_left: t.days_left(now),
        days_until_start: t.days_until_start(now),
        my_role: me.map_or(0, |m| role_pb(m.role)),
        my_joined_at: me.map(|m| timestamp(m.joined_at)),
        next_meeting: next.map(meeting_pb),
        created_at: Some(timestamp(t.created_at)),
        updated_at: Some(timestamp(t.updated_at)),
        disbanded_at: t.disbanded_at.map(timestamp),
        grace_ends_at: t.grace_ends_at().map(timestamp),
    }
}

fn invite_pb(i: &Invite, now: DateTime<Utc>) -> pb::Invite {
    let status = if i.revoked_at.is_some() {
        pb::InviteStatus::Revoked
    } else if i.expires_at <= now {
        pb::InviteStatus::Expired
    } else if i.max_uses > 0 && i.use_count >= i.max_uses {
        pb::InviteStatus::UsedUp
    } else {
        pb::InviteStatus::Active
    };
    pb::Invite {
        invite_id: i.id.to_string(),
        team_id: i.team_id.to_string(),
        code: i.code.clone(),
        created_by_member_id: i.created_by.to_string(),
        created_at: Some(timestamp(i.created_at)),
        expires_at: Some(timestamp(i.expires_at)),
        max_uses: i.max_uses,
        use_count: i.use_count,
        revoked_at: i.revoked_at.map(timestamp),
        status: status as i32,
    }
}

fn id_of(v: &mut Validator, field: &str, raw: &str) -> Uuid {
    v.id(field, raw).unwrap_or_default()
}

impl Moim {
    /// The team as seen by a member: NOT_FOUND for non-members and vanished teams.
    async fn member_view(
        &self,
        team_id: Uuid,
        member: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Team, Membership), MoimError> {
        let team = self
            .store
            .team(team_id)
            .await?
            .filter(|t| t.visible(now))
            .ok_or(MoimError::TeamNotFound)?;
        let m = self
            .store
            .active_membership(team_id, member)
            .await?
            .ok_or(MoimError::TeamNotFound)?;
        Ok((team, m))
    }

    async fn leader_view(
        &self,
        team_id: Uuid,
        member: Uuid,
        now: DateTime<Utc>,
        write: bool,
    ) -> Result<Team, MoimError> {
        let (team, m) = self.member_view(team_id, member, now).await?;
        if m.role != Role::Leader {
            return Err(MoimError::NotLeader);
        }
        if write && !team.writable(now) {
            return Err(MoimError::ReadOnly);
        }
        Ok(team)
    }

    async fn next_of(
        &self,
        team: &Team,
        now: DateTime<Utc>,
    ) -> Result<Option<NextMeeting>, MoimError> {
        let (weekly, singles, _) = self.store.schedule(team.id).await?;
        Ok(domain::next_meeting(team, &weekly, &singles, now))
    }
}

fn read_schedule(
    v: &mut Validator,
    s: &pb::MeetingSchedule,
    paths: &[String],
) -> (Option<Vec<WeeklySlot>>, Option<Vec<SingleMeeting>>) {
    let time =
        |v: &mut Validator, field: &str, t: Option<&moing_proto::google::r#type::TimeOfDay>| {
            let parsed = t.and_then(|t| {
                NaiveTime::from_hms_opt(
                    u32::try_from(t.hours).ok()?,
                    u32::try_from(t.minutes).ok()?,
                    0,
                )
            });
            if parsed.is_none() {
                v.violation(field, "must be a time of day (hours 0-23, minutes 0-59)");
            }
            parsed.unwrap_or_default()
        };
    let mut weekly = None;
    let mut singles = None;
    for p in paths {
        match p.as_str() {
            "weekly_slots" => {
                v.check(
                    s.weekly_slots.len() <= 14,
                    "meeting_schedule.weekly_slots",
                    "at most 14 weekly slots",
                );
                weekly = Some(
                    s.weekly_slots
                        .iter()
                        .enumerate()
                        .map(|(i, w)| {
                            let f = format!("meeting_schedule.weekly_slots[{i}]");
                            v.check(
                                (1..=7).contains(&w.day_of_week),
                                &format!("{f}.day_of_week"),
                                "must be MONDAY..SUNDAY",
                            );
                            WeeklySlot {
                                weekday: w.day_of_week.clamp(1, 7) as u32,
                                time: time(v, &format!("{f}.start_time"), w.start_time.as_ref()),
                                place: v.text(&format!("{f}.place"), &w.place, 0, 50),
                                memo: v.text(&format!("{f}.memo"), &w.memo, 0, 100),
                            }
                        })
                        .collect(),
                );
            }
            "single_meetings" => {
                v.check(
                    s.single_meetings.len() <= 50,
                    "meeting_schedule.single_meetings",
                    "at most 50 single meetings",
                );
                singles = Some(
                    s.single_meetings
                        .iter()
                        .enumerate()
                        .filter_map(|(i, m)| {
                            let f = format!("meeting_schedule.single_meetings[{i}]");
                            let date = domain::date(
                                v,
                                &format!("{f}.date"),
                                m.date.as_ref().map(|d| (d.year, d.month, d.day)),
                            )?;
                            Some(SingleMeeting {
                                date,
                                time: time(v, &format!("{f}.start_time"), m.start_time.as_ref()),
                                place: v.text(&format!("{f}.place"), &m.place, 0, 50),
                                memo: v.text(&format!("{f}.memo"), &m.memo, 0, 100),
                            })
                        })
                        .collect(),
                );
            }
            other => v.violation("update_mask", format!("unknown path {other:?}")),
        }
    }
    (weekly, singles)
}

fn schedule_pb(
    team: &Team,
    weekly: &[WeeklySlot],
    singles: &[SingleMeeting],
    updated: Option<DateTime<Utc>>,
) -> pb::MeetingSchedule {
    pb::MeetingSchedule {
        weekly_slots: weekly
            .iter()
            .map(|w| pb::WeeklyMeetingSlot {
                day_of_week: w.weekday as i32,
                start_time: Some(time_pb(w.time)),
                place: w.place.clone(),
                memo: w.memo.clone(),
            })
            .collect(),
        single_meetings: singles
            .iter()
            .map(|m| pb::SingleMeeting {
                date: Some(pb_date(m.date)),
                start_time: Some(time_pb(m.time)),
                place: m.place.clone(),
                memo: m.memo.clone(),
            })
            .collect(),
        time_zone: team.time_zone.clone(),
        updated_at: updated.map(timestamp),
    }
}

#[tonic::async_trait]
impl TeamService for Moim {
    async fn create_team(
        &self,
        req: Request<pb::CreateTeamRequest>,
    ) -> Result<Response<pb::CreateTeamResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let name = v.text("name", &r.name, 1, 20);
        let category = Category::from_number(r.category);
        v.check(
            category.is_some(),
            "category",
            "must be one of STUDY, SPORTS, HABIT, TEST, READING, ETC",
        );
        let introduction = v.text("introduction", &r.introduction, 0, 300);
        let leader_promise = v.text("leader_promise", &r.leader_promise, 0, 100);
        let image_key = domain::image_key(&mut v, "image_key", who.member_id, None, &r.image_key);
        let time_zone = domain::time_zone(&mut v, "time_zone", &r.time_zone);
        let start = domain::date(
            &mut v,
            "start_date",
            r.start_date.map(|d| (d.year, d.month, d.day)),
        );
        let end = domain::date(
            &mut v,
            "end_date",
            r.end_date.map(|d| (d.year, d.month, d.day)),
        );
        domain::check_period(&mut v, start, end, domain::today_in(&time_zone, now));
        v.finish().map_err(MoimError::from)?;
        let (Some(category), Some(start_date), Some(end_date)) = (category, start, end) else {
            return Err(MoimError::Invalid(vec![]).into());
        };
        let team = self
            .store
            .create_team(
                who.member_id,
                NewTeam {
                    name,
                    category,
                    introduction,
                    leader_promise,
                    image_key,
                    start_date,
                    end_date,
                    time_zone,
                    allow_member_invites: r.allow_member_invites,
                },
                now,
            )
            .await?;
        let me = self.store.active_membership(team.id, who.member_id).await?;
        Ok(Response::new(pb::CreateTeamResponse {
            team: Some(team_pb(&team, me.as_ref(), None, now)),
        }))
    }

    async fn get_team(
        &self,
        req: Request<pb::GetTeamRequest>,
    ) -> Result<Response<pb::GetTeamResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &req.get_ref().team_id);
        v.finish().map_err(MoimError::from)?;
        let now = moing_common::clock::now();
        let (team, me) = self.member_view(id, who.member_id, now).await?;
        let next = self.next_of(&team, now).await?;
        Ok(Response::new(pb::GetTeamResponse {
            team: Some(team_pb(&team, Some(&me), next.as_ref(), now)),
        }))
    }

    async fn list_my_teams(
        &self,
        req: Request<pb::ListMyTeamsRequest>,
    ) -> Result<Response<pb::ListMyTeamsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        for (i, s) in r.statuses.iter().enumerate() {
            v.check(
                (1..=3).contains(s),
                &format!("statuses[{i}]"),
                "must be ACTIVE, FINISHED or DISBANDED",
            );
        }
        let all: Vec<(Team, Membership)> = self
            .store
            .my_teams(who.member_id)
            .await?
            .into_iter()
            .filter(|(t, _)| t.visible(now))
            .filter(|(t, _)| {
                r.statuses.is_empty() || r.statuses.contains(&status_pb(t.status(now)))
            })
            .collect();
        let active = self
            .store
            .my_teams(who.member_id)
            .await?
            .iter()
            .filter(|(t, _)| t.status(now) == TeamStatus::Active)
            .count();
        let (chunk, next) = v.page(&all, r.page_size, &r.page_token);
        v.finish().map_err(MoimError::from)?;
        let mut teams = Vec::with_capacity(chunk.len());
        for (t, m) in &chunk {
            let next_meeting = self.next_of(t, now).await?;
            teams.push(team_pb(t, Some(m), next_meeting.as_ref(), now));
        }
        Ok(Response::new(pb::ListMyTeamsResponse {
            teams,
            next_page_token: next,
            active_team_count: active as i32,
            active_team_limit: domain::ACTIVE_TEAM_LIMIT as i32,
        }))
    }

    async fn update_team(
        &self,
        req: Request<pb::UpdateTeamRequest>,
    ) -> Result<Response<pb::UpdateTeamResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &r.team_id);
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        v.check(
            !paths.is_empty(),
            "update_mask",
            "list the fields to change",
        );
        v.finish().map_err(MoimError::from)?;
        let mut team = self.leader_view(id, who.member_id, now, true).await?;
        let input = r.team.unwrap_or_default();
        let mut v = Validator::new();
        for p in &paths {
            match p.as_str() {
                "name" => team.name = v.text("team.name", &input.name, 1, 20),
                "category" => match Category::from_number(input.category) {
                    Some(c) => team.category = c,
                    None => v.violation(
                        "team.category",
                        "must be one of STUDY, SPORTS, HABIT, TEST, READING, ETC",
                    ),
                },
                "introduction" => {
                    team.introduction = v.text("team.introduction", &input.introduction, 0, 300)
                }
                "leader_promise" => {
                    team.leader_promise =
                        v.text("team.leader_promise", &input.leader_promise, 0, 100)
                }
                "image" | "image.key" => {
                    let key = input.image.as_ref().map_or("", |i| i.key.as_str());
                    team.image_key = domain::image_key(
                        &mut v,
                        "team.image.key",
                        who.member_id,
                        Some(team.id),
                        key,
                    );
                }
                "allow_member_invites" => team.allow_member_invites = input.allow_member_invites,
                other => v.violation(
                    "update_mask",
                    format!("unknown or read-only path {other:?}"),
                ),
            }
        }
        v.finish().map_err(MoimError::from)?;
        let updated = self.store.update_team(&team, who.member_id, paths).await?;
        let me = self.store.active_membership(id, who.member_id).await?;
        Ok(Response::new(pb::UpdateTeamResponse {
            team: Some(team_pb(&updated, me.as_ref(), None, now)),
        }))
    }

    async fn extend_team_end_date(
        &self,
        req: Request<pb::ExtendTeamEndDateRequest>,
    ) -> Result<Response<pb::ExtendTeamEndDateResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &r.team_id);
        let end = domain::date(
            &mut v,
            "new_end_date",
            r.new_end_date.map(|d| (d.year, d.month, d.day)),
        );
        v.finish().map_err(MoimError::from)?;
        let mut team = self.leader_view(id, who.member_id, now, true).await?;
        let mut v = Validator::new();
        if let Some(end) = end {
            v.check(
                end > team.end_date,
                "new_end_date",
                "must be after the current end date",
            );
            let limit = team.start_date.checked_add_months(chrono::Months::new(12));
            v.check(
                limit.is_none_or(|l| end <= l),
                "new_end_date",
                "must be at most one year after start_date",
            );
            team.end_date = end;
        }
        v.finish().map_err(MoimError::from)?;
        let updated = self
            .store
            .update_team(&team, who.member_id, vec!["end_date".into()])
            .await?;
        let me = self.store.active_membership(id, who.member_id).await?;
        Ok(Response::new(pb::ExtendTeamEndDateResponse {
            team: Some(team_pb(&updated, me.as_ref(), None, now)),
        }))
    }

    async fn disband_team(
        &self,
        req: Request<pb::DisbandTeamRequest>,
    ) -> Result<Response<pb::DisbandTeamResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &req.get_ref().team_id);
        v.finish().map_err(MoimError::from)?;
        let now = moing_common::clock::now();
        let team = self.leader_view(id, who.member_id, now, false).await?;
        if team.disbanded_at.is_some() {
            return Err(MoimError::ReadOnly.into());
        }
        let done = self.store.disband(&team, who.member_id, now).await?;
        let me = self.store.active_membership(id, who.member_id).await?;
        Ok(Response::new(pb::DisbandTeamResponse {
            team: Some(team_pb(&done, me.as_ref(), None, now)),
        }))
    }

    async fn create_invite(
        &self,
        req: Request<pb::CreateInviteRequest>,
    ) -> Result<Response<pb::CreateInviteResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &r.team_id);
        let hours = if r.valid_for_hours == 0 {
            168
        } else {
            r.valid_for_hours
        };
        v.check(
            (1..=720).contains(&hours),
            "valid_for_hours",
            "must be 1-720 (default 168)",
        );
        v.check(
            (0..=100).contains(&r.max_uses),
            "max_uses",
            "must be 0 (unlimited) to 100",
        );
        v.finish().map_err(MoimError::from)?;
        let (team, me) = self.member_view(id, who.member_id, now).await?;
        if me.role != Role::Leader && !team.allow_member_invites {
            return Err(MoimError::NotLeader.into());
        }
        if !team.writable(now) {
            return Err(MoimError::ReadOnly.into());
        }
        let invite = self
            .store
            .create_invite(
                id,
                who.member_id,
                now + Duration::hours(i64::from(hours)),
                r.max_uses,
            )
            .await?;
        Ok(Response::new(pb::CreateInviteResponse {
            invite: Some(invite_pb(&invite, now)),
        }))
    }

    async fn list_invites(
        &self,
        req: Request<pb::ListInvitesRequest>,
    ) -> Result<Response<pb::ListInvitesResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &r.team_id);
        v.finish().map_err(MoimError::from)?;
        let (team, me) = self.member_view(id, who.member_id, now).await?;
        if me.role != Role::Leader && !team.allow_member_invites {
            return Err(MoimError::NotLeader.into());
        }
        let mut invites: Vec<pb::Invite> = self
            .store
            .invites(id)
            .await?
            .iter()
            .map(|i| invite_pb(i, now))
            .collect();
        if !r.include_inactive {
            invites.retain(|i| i.status == pb::InviteStatus::Active as i32);
        }
        // Members who may invite see only their own codes; the leader sees all.
        if me.role != Role::Leader {
            invites.retain(|i| i.created_by_member_id == who.member_id.to_string());
        }
        let mut v = Validator::new();
        let (chunk, next) = v.page(&invites, r.page_size, &r.page_token);
        v.finish().map_err(MoimError::from)?;
        Ok(Response::new(pb::ListInvitesResponse {
            invites: chunk,
            next_page_token: next,
        }))
    }

    async fn revoke_invite(
        &self,
        req: Request<pb::RevokeInviteRequest>,
    ) -> Result<Response<pb::RevokeInviteResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let team_id = id_of(&mut v, "team_id", &r.team_id);
        let invite_id = id_of(&mut v, "invite_id", &r.invite_id);
        v.finish().map_err(MoimError::from)?;
        let (_, me) = self.member_view(team_id, who.member_id, now).await?;
        let invite = self
            .store
            .invite_by_id(team_id, invite_id)
            .await?
            .ok_or(MoimError::InviteNotFound)?;
        if me.role != Role::Leader && invite.created_by != who.member_id {
            return Err(MoimError::NotLeader.into());
        }
        let revoked = self
            .store
            .revoke_invite(team_id, invite_id)
            .await?
            .ok_or(MoimError::InviteNotFound)?;
        Ok(Response::new(pb::RevokeInviteResponse {
            invite: Some(invite_pb(&revoked, now)),
        }))
    }

    async fn preview_invite(
        &self,
        req: Request<pb::PreviewInviteRequest>,
    ) -> Result<Response<pb::PreviewInviteResponse>, Status> {
        let who = principal(&req)?;
        let now = moing_common::clock::now();
        self.code_attempt(who.member_id)?;
        let code = domain::normalize_code(&req.get_ref().code).ok_or(MoimError::InviteNotFound)?;
        let invite = self
            .store
            .invite_by_code(&code)
            .await?
            .ok_or(MoimError::InviteNotFound)?;
        let team = self
            .store
            .team(invite.team_id)
            .await?
            .filter(|t| t.visible(now))
            .ok_or(MoimError::InviteNotFound)?;
        if invite.revoked_at.is_some() {
            return Err(MoimError::InviteRevoked.into());
        }
        if invite.expires_at <= now {
            return Err(MoimError::InviteExpired.into());
        }
        if invite.max_uses > 0 && invite.use_count >= invite.max_uses {
            return Err(MoimError::InviteUsedUp.into());
        }
        if team.writable(now)
            && self
                .store
                .removed_since(team.id, who.member_id, invite.created_at)
                .await?
        {
            return Err(MoimError::InvitePredatesRemoval.into());
        }
        let already = self
            .store
            .active_membership(team.id, who.member_id)
            .await?
            .is_some();
        let mine = self
            .store
            .my_teams(who.member_id)
            .await?
            .iter()
            .filter(|(t, _)| t.status(now) == TeamStatus::Active)
            .count() as i64;
        let leader = self
            .display(&[team.leader_id])
            .await
            .remove(&team.leader_id)
            .unwrap_or_default();
        Ok(Response::new(pb::PreviewInviteResponse {
            preview: Some(pb::InvitePreview {
                team_id: team.id.to_string(),
                team_name: team.name.clone(),
                category: team.category.number(),
                introduction: team.introduction.clone(),
                image: image(&team.image_key),
                leader_member_id: team.leader_id.to_string(),
                leader_nickname: leader.0,
                leader_profile_image: image(&leader.1),
                member_count: team.member_count,
                member_cap: team.member_cap,
                start_date: Some(pb_date(team.start_date)),
                end_date: Some(pb_date(team.end_date)),
                expires_at: Some(timestamp(invite.expires_at)),
                already_member: already,
                team_full: team.member_count >= team.member_cap,
                my_team_limit_reached: mine >= domain::ACTIVE_TEAM_LIMIT,
            }),
        }))
    }

    async fn join_team(
        &self,
        req: Request<pb::JoinTeamRequest>,
    ) -> Result<Response<pb::JoinTeamResponse>, Status> {
        let who = principal(&req)?;
        let now = moing_common::clock::now();
        self.code_attempt(who.member_id)?;
        let code = domain::normalize_code(&req.get_ref().code).ok_or(MoimError::InviteNotFound)?;
        let team = self.store.join(&code, who.member_id, now).await?;
        let me = self.store.active_membership(team.id, who.member_id).await?;
        Ok(Response::new(pb::JoinTeamResponse {
            team: Some(team_pb(&team, me.as_ref(), None, now)),
        }))
    }

    async fn list_team_members(
        &self,
        req: Request<pb::ListTeamMembersRequest>,
    ) -> Result<Response<pb::ListTeamMembersResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &r.team_id);
        v.finish().map_err(MoimError::from)?;
        self.member_view(id, who.member_id, now).await?;
        let members = self.store.memberships(id, false).await?;
        let ids: Vec<Uuid> = members.iter().map(|m| m.member_id).collect();
        let (_, blocked) = self.store.filter_blocked(who.member_id, &ids).await?;
        let mut v = Validator::new();
        let (chunk, next) = v.page(&members, r.page_size, &r.page_token);
        v.finish().map_err(MoimError::from)?;
        let names = self
            .display(&chunk.iter().map(|m| m.member_id).collect::<Vec<_>>())
            .await;
        Ok(Response::new(pb::ListTeamMembersResponse {
            members: chunk
                .iter()
                .map(|m| pb::TeamMember {
                    member_id: m.member_id.to_string(),
                    role: role_pb(m.role),
                    joined_at: Some(timestamp(m.joined_at)),
                    nickname: names
                        .get(&m.member_id)
                        .map(|n| n.0.clone())
                        .unwrap_or_default(),
                    profile_image: names.get(&m.member_id).and_then(|n| image(&n.1)),
                    blocked_by_me: blocked.contains(&m.member_id),
                })
                .collect(),
            next_page_token: next,
        }))
    }

    async fn leave_team(
        &self,
        req: Request<pb::LeaveTeamRequest>,
    ) -> Result<Response<pb::LeaveTeamResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &req.get_ref().team_id);
        v.finish().map_err(MoimError::from)?;
        let now = moing_common::clock::now();
        self.member_view(id, who.member_id, now).await?;
        let disbanded = self.store.leave(id, who.member_id, now).await?;
        Ok(Response::new(pb::LeaveTeamResponse {
            team_disbanded: disbanded,
        }))
    }

    async fn remove_team_member(
        &self,
        req: Request<pb::RemoveTeamMemberRequest>,
    ) -> Result<Response<pb::RemoveTeamMemberResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &r.team_id);
        let target = id_of(&mut v, "member_id", &r.member_id);
        v.finish().map_err(MoimError::from)?;
        let now = moing_common::clock::now();
        self.leader_view(id, who.member_id, now, true).await?;
        let member_count = self.store.remove(id, who.member_id, target, now).await?;
        Ok(Response::new(pb::RemoveTeamMemberResponse { member_count }))
    }

    async fn transfer_leadership(
        &self,
        req: Request<pb::TransferLeadershipRequest>,
    ) -> Result<Response<pb::TransferLeadershipResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &r.team_id);
        let next = id_of(&mut v, "new_leader_member_id", &r.new_leader_member_id);
        v.finish().map_err(MoimError::from)?;
        let now = moing_common::clock::now();
        self.leader_view(id, who.member_id, now, true).await?;
        let team = self.store.transfer(id, who.member_id, next).await?;
        let me = self.store.active_membership(id, who.member_id).await?;
        Ok(Response::new(pb::TransferLeadershipResponse {
            team: Some(team_pb(&team, me.as_ref(), None, now)),
        }))
    }

    async fn get_meeting_schedule(
        &self,
        req: Request<pb::GetMeetingScheduleRequest>,
    ) -> Result<Response<pb::GetMeetingScheduleResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &req.get_ref().team_id);
        v.finish().map_err(MoimError::from)?;
        let (team, _) = self
            .member_view(id, who.member_id, moing_common::clock::now())
            .await?;
        let (weekly, singles, updated) = self.store.schedule(id).await?;
        let upcoming =
            domain::upcoming_meetings(&team, &weekly, &singles, moing_common::clock::now(), 5);
        Ok(Response::new(pb::GetMeetingScheduleResponse {
            meeting_schedule: Some(schedule_pb(&team, &weekly, &singles, updated)),
            upcoming_meetings: upcoming.iter().map(meeting_pb).collect(),
        }))
    }

    async fn update_meeting_schedule(
        &self,
        req: Request<pb::UpdateMeetingScheduleRequest>,
    ) -> Result<Response<pb::UpdateMeetingScheduleResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let id = id_of(&mut v, "team_id", &r.team_id);
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        v.check(
            !paths.is_empty(),
            "update_mask",
            "list weekly_slots and/or single_meetings",
        );
        let input = r.meeting_schedule.unwrap_or_default();
        let (weekly, singles) = read_schedule(&mut v, &input, &paths);
        v.finish().map_err(MoimError::from)?;
        let team = self.leader_view(id, who.member_id, now, true).await?;
        let (old_weekly, old_singles, _) = self.store.schedule(id).await?;
        let weekly = weekly.unwrap_or(old_weekly);
        let singles = singles.unwrap_or(old_singles);
        let next = domain::next_meeting(&team, &weekly, &singles, now);
        let schedule = schedule_pb(&team, &weekly, &singles, Some(now));
        let event = Payload::MeetingScheduleChanged(MeetingScheduleChanged {
            team_name: team.name.clone(),
            meeting_schedule: Some(schedule.clone()),
            next_meeting: next.as_ref().map(meeting_pb),
        });
        self.store
            .set_schedule(&team, who.member_id, &weekly, &singles, event)
            .await?;
        let upcoming = domain::upcoming_meetings(&team, &weekly, &singles, now, 5);
        Ok(Response::new(pb::UpdateMeetingScheduleResponse {
            meeting_schedule: Some(schedule),
            upcoming_meetings: upcoming.iter().map(meeting_pb).collect(),
        }))
    }

    async fn block_member(
        &self,
        req: Request<pb::BlockMemberRequest>,
    ) -> Result<Response<pb::BlockMemberResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let target = id_of(&mut v, "member_id", &req.get_ref().member_id);
        v.check(
            target != who.member_id,
            "member_id",
            "you cannot block yourself",
        );
        v.finish().map_err(MoimError::from)?;
        let at = self.store.block(who.member_id, target).await?;
        Ok(Response::new(pb::BlockMemberResponse {
            blocked_member: Some(pb::BlockedMember {
                member_id: target.to_string(),
                nickname: String::new(),
                profile_image: None,
                blocked_at: Some(timestamp(at)),
            }),
        }))
    }

    async fn unblock_member(
        &self,
        req: Request<pb::UnblockMemberRequest>,
    ) -> Result<Response<pb::UnblockMemberResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let target = id_of(&mut v, "member_id", &req.get_ref().member_id);
        v.finish().map_err(MoimError::from)?;
        let was = self.store.unblock(who.member_id, target).await?;
        Ok(Response::new(pb::UnblockMemberResponse {
            was_blocked: was,
        }))
    }

    async fn list_blocked_members(
        &self,
        req: Request<pb::ListBlockedMembersRequest>,
    ) -> Result<Response<pb::ListBlockedMembersResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let blocks = self.store.blocks_of(who.member_id).await?;
        let mut v = Validator::new();
        let (chunk, next) = v.page(&blocks, r.page_size, &r.page_token);
        v.finish().map_err(MoimError::from)?;
        Ok(Response::new(pb::ListBlockedMembersResponse {
            blocked_members: chunk
                .iter()
                .map(|(id, at)| pb::BlockedMember {
                    member_id: id.to_string(),
                    nickname: String::new(),
                    profile_image: None,
                    blocked_at: Some(timestamp(*at)),
                })
                .collect(),
            next_page_token: next,
        }))
    }
}

/// Shared handle for both services.
pub type Shared = Arc<Moim>;
