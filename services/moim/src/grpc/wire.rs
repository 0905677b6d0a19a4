//! Proto ⇄ domain for moim: the validated domain inputs read from requests
//! (field-level violations) and the encoders of domain values into `pb::…`
//! messages. The enum conversions are `From` impls, so the store builds its
//! event payloads with them too.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use moing_common::{Validator, outbox::timestamp};
use moing_proto::{
    google::r#type::{Date, DayOfWeek, TimeOfDay},
    moing::{common::v1::ImageRef, moim::v1 as pb},
};
use uuid::Uuid;

use crate::{
    domain::{
        self, Category, Invite, InviteState, Membership, NewTeam, NextMeeting, Role,
        ScheduleChange, SingleMeeting, Status as TeamStatus, Team, WeeklySlot,
    },
    error::MoimError,
};

/// Calendar days on the wire (shared conversion).
pub use moing_common::convert::date as pb_date;

// ---- enums -----------------------------------------------------------------

impl From<Category> for pb::TeamCategory {
    fn from(c: Category) -> Self {
        match c {
            Category::Study => Self::Study,
            Category::Sports => Self::Sports,
            Category::Habit => Self::Habit,
            Category::Test => Self::Test,
            Category::Reading => Self::Reading,
            Category::Etc => Self::Etc,
        }
    }
}

/// A category from its wire number; None for UNSPECIFIED and unknown numbers.
pub fn category(n: i32) -> Option<Category> {
    match pb::TeamCategory::try_from(n).ok()? {
        pb::TeamCategory::Unspecified => None,
        pb::TeamCategory::Study => Some(Category::Study),
        pb::TeamCategory::Sports => Some(Category::Sports),
        pb::TeamCategory::Habit => Some(Category::Habit),
        pb::TeamCategory::Test => Some(Category::Test),
        pb::TeamCategory::Reading => Some(Category::Reading),
        pb::TeamCategory::Etc => Some(Category::Etc),
    }
}

/// The wire number of a category.
pub fn category_pb(c: Category) -> i32 {
    pb::TeamCategory::from(c) as i32
}

impl From<TeamStatus> for pb::TeamStatus {
    fn from(s: TeamStatus) -> Self {
        match s {
            TeamStatus::Active => Self::Active,
            TeamStatus::Finished => Self::Finished,
            TeamStatus::Disbanded => Self::Disbanded,
        }
    }
}

pub fn status_pb(s: TeamStatus) -> i32 {
    pb::TeamStatus::from(s) as i32
}

/// Whether a wire number names a status (ACTIVE, FINISHED or DISBANDED).
pub fn is_status(n: i32) -> bool {
    pb::TeamStatus::try_from(n).is_ok_and(|s| s != pb::TeamStatus::Unspecified)
}

impl From<Role> for pb::TeamRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Leader => Self::Leader,
            Role::Member => Self::Member,
        }
    }
}

pub fn role_pb(r: Role) -> i32 {
    pb::TeamRole::from(r) as i32
}

impl From<InviteState> for pb::InviteStatus {
    fn from(s: InviteState) -> Self {
        match s {
            InviteState::Active => Self::Active,
            InviteState::Expired => Self::Expired,
            InviteState::Revoked => Self::Revoked,
            InviteState::UsedUp => Self::UsedUp,
        }
    }
}

/// A membership row's state column on the wire (anything unknown reads as WITHDRAWN).
pub fn membership_state_pb(state: &str) -> i32 {
    (match state {
        "ACTIVE" => pb::MembershipState::Active,
        "LEFT" => pb::MembershipState::Left,
        "REMOVED" => pb::MembershipState::Removed,
        _ => pb::MembershipState::Withdrawn,
    }) as i32
}

// ---- scalar inputs ---------------------------------------------------------

/// A required id; the nil id (with a violation) when malformed.
pub fn id_of(v: &mut Validator, field: &str, raw: &str) -> Uuid {
    v.id(field, raw).unwrap_or_default()
}

/// Validates a required calendar date.
pub fn date(v: &mut Validator, field: &str, d: Option<&Date>) -> Option<NaiveDate> {
    if d.is_none() {
        v.violation(field, "is required");
    }
    v.date(field, d)
}

/// A time of day (hours 0-23, minutes 0-59); midnight with a violation otherwise.
fn time_of_day(v: &mut Validator, field: &str, t: Option<&TimeOfDay>) -> NaiveTime {
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
}

// ---- request inputs --------------------------------------------------------

/// CreateTeam's fields as a new team; the image must be one of the caller's
/// uploads and the period starts today or later in the team's zone.
pub fn new_team(
    r: &pb::CreateTeamRequest,
    member: Uuid,
    now: DateTime<Utc>,
) -> Result<NewTeam, MoimError> {
    let mut v = Validator::new();
    let name = v.text("name", &r.name, 1, 20);
    let category = category(r.category);
    v.check(
        category.is_some(),
        "category",
        "must be one of STUDY, SPORTS, HABIT, TEST, READING, ETC",
    );
    let introduction = v.text("introduction", &r.introduction, 0, 300);
    let leader_promise = v.text("leader_promise", &r.leader_promise, 0, 100);
    let image_key = domain::image_key(&mut v, "image_key", member, None, &r.image_key);
    let time_zone = domain::time_zone(&mut v, "time_zone", &r.time_zone);
    let start = date(&mut v, "start_date", r.start_date.as_ref());
    let end = date(&mut v, "end_date", r.end_date.as_ref());
    domain::check_period(&mut v, start, end, domain::today_in(&time_zone, now));
    v.finish()?;
    let (Some(category), Some(start_date), Some(end_date)) = (category, start, end) else {
        return Err(MoimError::Invalid(vec![]));
    };
    Ok(NewTeam {
        name,
        category,
        introduction,
        leader_promise,
        image_key,
        start_date,
        end_date,
        time_zone,
        allow_member_invites: r.allow_member_invites,
    })
}

/// The paths of an UpdateTeam mask applied to `team` (the leader's view of it).
pub fn apply_team_update(
    v: &mut Validator,
    team: &mut Team,
    input: &pb::Team,
    paths: &[String],
    member: Uuid,
) {
    for p in paths {
        match p.as_str() {
            "name" => team.name = v.text("team.name", &input.name, 1, 20),
            "category" => match category(input.category) {
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
                team.leader_promise = v.text("team.leader_promise", &input.leader_promise, 0, 100)
            }
            "image" | "image.key" => {
                let key = input.image.as_ref().map_or("", |i| i.key.as_str());
                team.image_key = domain::image_key(v, "team.image.key", member, Some(team.id), key);
            }
            "allow_member_invites" => team.allow_member_invites = input.allow_member_invites,
            other => v.violation(
                "update_mask",
                format!("unknown or read-only path {other:?}"),
            ),
        }
    }
}

impl TryFrom<pb::UpdateMeetingScheduleRequest> for ScheduleChange {
    type Error = MoimError;

    fn try_from(r: pb::UpdateMeetingScheduleRequest) -> Result<Self, MoimError> {
        let mut v = Validator::new();
        let team_id = id_of(&mut v, "team_id", &r.team_id);
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        v.check(
            !paths.is_empty(),
            "update_mask",
            "list weekly_slots and/or single_meetings",
        );
        let input = r.meeting_schedule.unwrap_or_default();
        let mut change = ScheduleChange {
            team_id,
            weekly: None,
            singles: None,
        };
        for p in &paths {
            match p.as_str() {
                "weekly_slots" => change.weekly = Some(weekly_slots(&mut v, &input)),
                "single_meetings" => change.singles = Some(single_meetings(&mut v, &input)),
                other => v.violation("update_mask", format!("unknown path {other:?}")),
            }
        }
        v.finish()?;
        Ok(change)
    }
}

fn weekly_slots(v: &mut Validator, s: &pb::MeetingSchedule) -> Vec<WeeklySlot> {
    v.check(
        s.weekly_slots.len() <= 14,
        "meeting_schedule.weekly_slots",
        "at most 14 weekly slots",
    );
    s.weekly_slots
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let f = format!("meeting_schedule.weekly_slots[{i}]");
            v.check(
                DayOfWeek::try_from(w.day_of_week).is_ok_and(|d| d != DayOfWeek::Unspecified),
                &format!("{f}.day_of_week"),
                "must be MONDAY..SUNDAY",
            );
            WeeklySlot {
                weekday: w.day_of_week.clamp(1, 7) as u32,
                time: time_of_day(v, &format!("{f}.start_time"), w.start_time.as_ref()),
                place: v.text(&format!("{f}.place"), &w.place, 0, 50),
                memo: v.text(&format!("{f}.memo"), &w.memo, 0, 100),
            }
        })
        .collect()
}

fn single_meetings(v: &mut Validator, s: &pb::MeetingSchedule) -> Vec<SingleMeeting> {
    v.check(
        s.single_meetings.len() <= 50,
        "meeting_schedule.single_meetings",
        "at most 50 single meetings",
    );
    s.single_meetings
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let f = format!("meeting_schedule.single_meetings[{i}]");
            let date = date(v, &format!("{f}.date"), m.date.as_ref())?;
            Some(SingleMeeting {
                date,
                time: time_of_day(v, &format!("{f}.start_time"), m.start_time.as_ref()),
                place: v.text(&format!("{f}.place"), &m.place, 0, 50),
                memo: v.text(&format!("{f}.memo"), &m.memo, 0, 100),
            })
        })
        .collect()
}

// ---- encoders --------------------------------------------------------------

fn time_pb(t: NaiveTime) -> TimeOfDay {
    use chrono::Timelike;
    TimeOfDay {
        hours: t.hour() as i32,
        minutes: t.minute() as i32,
        seconds: 0,
        nanos: 0,
    }
}

pub fn image(key: &str) -> Option<ImageRef> {
    (!key.is_empty()).then(|| ImageRef {
        key: key.to_owned(),
        url: String::new(),
    })
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

/// The team view of one member (`me`), with its next meeting when known.
pub fn team_pb(
    t: &Team,
    me: Option<&Membership>,
    next: Option<&NextMeeting>,
    now: DateTime<Utc>,
) -> pb::Team {
    pb::Team {
        team_id: t.id.to_string(),
        name: t.name.clone(),
        category: category_pb(t.category),
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

pub fn invite_pb(i: &Invite, now: DateTime<Utc>) -> pb::Invite {
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
        status: pb::InviteStatus::from(i.state(now)) as i32,
    }
}

pub fn schedule_pb(
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

/// A blocked member (display fields are left to the app).
pub fn blocked_pb(member: Uuid, at: DateTime<Utc>) -> pb::BlockedMember {
    pb::BlockedMember {
        member_id: member.to_string(),
        nickname: String::new(),
        profile_image: None,
        blocked_at: Some(timestamp(at)),
    }
}

/// One membership stint in a team summary.
pub fn team_membership_pb(m: &Membership) -> pb::TeamMembership {
    pb::TeamMembership {
        member_id: m.member_id.to_string(),
        role: role_pb(m.role),
        state: membership_state_pb(&m.state),
        joined_at: Some(timestamp(m.joined_at)),
        left_at: m.left_at.map(timestamp),
    }
}

/// A team as other services see it.
pub fn summary_pb(
    team: &Team,
    memberships: &[Membership],
    next: Option<&NextMeeting>,
    now: DateTime<Utc>,
) -> pb::TeamSummary {
    pb::TeamSummary {
        team_id: team.id.to_string(),
        name: team.name.clone(),
        category: category_pb(team.category),
        image_key: team.image_key.clone(),
        time_zone: team.time_zone.clone(),
        start_date: Some(pb_date(team.start_date)),
        end_date: Some(pb_date(team.end_date)),
        status: status_pb(team.status(now)),
        leader_member_id: team.leader_id.to_string(),
        member_cap: team.member_cap,
        member_count: team.member_count,
        memberships: memberships.iter().map(team_membership_pb).collect(),
        next_meeting: next.map(meeting_pb),
        created_at: Some(timestamp(team.created_at)),
        disbanded_at: team.disbanded_at.map(timestamp),
        grace_ends_at: team.grace_ends_at().map(timestamp),
    }
}

/// One of a member's teams as other services see it.
pub fn member_team_pb(t: &Team, m: &Membership, now: DateTime<Utc>) -> pb::MemberTeam {
    pb::MemberTeam {
        team_id: t.id.to_string(),
        name: t.name.clone(),
        time_zone: t.time_zone.clone(),
        status: status_pb(t.status(now)),
        role: role_pb(m.role),
        joined_at: Some(timestamp(m.joined_at)),
        end_date: Some(pb_date(t.end_date)),
    }
}

/// What the app shows before joining.
pub fn preview_pb(
    team: &Team,
    invite: &Invite,
    leader: (String, String),
    already: bool,
    my_active_teams: i64,
) -> pb::InvitePreview {
    pb::InvitePreview {
        team_id: team.id.to_string(),
        team_name: team.name.clone(),
        category: category_pb(team.category),
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
        my_team_limit_reached: my_active_teams >= domain::ACTIVE_TEAM_LIMIT,
    }
}

/// A member of a team with the display data auth gave for it (if any).
pub fn team_member_pb(
    m: &Membership,
    names: Option<&(String, String)>,
    blocked_by_me: bool,
) -> pb::TeamMember {
    pb::TeamMember {
        member_id: m.member_id.to_string(),
        role: role_pb(m.role),
        joined_at: Some(timestamp(m.joined_at)),
        nickname: names.map(|n| n.0.clone()).unwrap_or_default(),
        profile_image: names.and_then(|n| image(&n.1)),
        blocked_by_me,
    }
}
