//! Encoders of domain values into `pb::` messages: a member's view of posts,
//! comments, votes and reports, and the goal board's pieces.

use std::collections::HashSet;

use chrono::NaiveDate;
use moing_common::convert::{from_date, timestamp};
use moing_moderation::{
    Moderated, Standing,
    wire::{moderation_pb, reason_counts},
};
use moing_proto::moing::{
    board::v1 as pb,
    common::v1::ImageRef,
    moderation::v1 as mpb,
    moim::v1::{self as moim, TeamSummary},
};
use uuid::Uuid;

use super::{Names, close_reason, vote_state};
use crate::{
    domain::{
        self, Access, ClosingVote, Comment, ContentKind, MemberExport, Post, ReportedItem, Review,
        ReviewState, Vote, VoteResults,
    },
    error::BoardError,
};

fn image(key: String) -> Option<ImageRef> {
    (!key.is_empty()).then(|| ImageRef {
        key,
        url: String::new(),
    })
}

pub fn author_pb(id: Uuid, names: &Names, leader: Option<Uuid>) -> pb::Author {
    let (nickname, key) = names.get(&id).cloned().unwrap_or_default();
    pb::Author {
        member_id: id.to_string(),
        nickname,
        profile_image: image(key),
        is_leader: leader == Some(id),
        is_active_member: names.contains_key(&id),
    }
}

/// A post as `me` sees it (body withheld when hidden for me or under review).
pub fn post_pb(
    p: &Post,
    (me, access): (Uuid, &Access),
    names: &Names,
    leader: Option<Uuid>,
    s: &Standing,
) -> pb::Post {
    let mine = p.author_id == me;
    pb::Post {
        post_id: p.id.to_string(),
        team_id: p.team_id.to_string(),
        author: Some(author_pb(p.author_id, names, leader)),
        title: domain::shown(s, &p.title),
        content: domain::shown(s, &p.content),
        is_notice: p.is_notice,
        comment_count: p.comment_count,
        read_by_me: p.read || mine,
        is_mine: mine,
        can_edit: mine && access.writable,
        can_delete: access.author_or_leader(p.author_id, me) && access.writable,
        moderation: Some(moderation_pb(s)),
        created_at: Some(timestamp(p.created_at)),
        edited_at: p.edited_at.map(timestamp),
    }
}

pub fn comment_pb(
    c: &Comment,
    (me, access): (Uuid, &Access),
    names: &Names,
    s: &Standing,
) -> pb::PostComment {
    pb::PostComment {
        comment_id: c.id.to_string(),
        post_id: c.post_id.to_string(),
        author: Some(author_pb(c.author_id, names, None)),
        content: domain::shown(s, &c.content),
        is_mine: c.author_id == me,
        can_delete: access.author_or_leader(c.author_id, me) && access.writable,
        moderation: Some(moderation_pb(s)),
        created_at: Some(timestamp(c.created_at)),
    }
}

/// A vote with results as `me` sees them: counts for everyone; voters per
/// option only for named votes; my own choice from my ballot.
pub fn vote_pb(
    v: &Vote,
    (me, access): (Uuid, &Access),
    results: &VoteResults,
    names: &Names,
) -> pb::Vote {
    pb::Vote {
        vote_id: v.id.to_string(),
        team_id: v.team_id.to_string(),
        author: Some(author_pb(v.author_id, names, None)),
        title: v.title.clone(),
        memo: v.memo.clone(),
        options: options_pb(results, names),
        multiple_choice: v.multiple,
        anonymous: v.anonymous,
        closes_at: v.closes_at.map(timestamp),
        state: vote_state(v.open),
        closed_at: v.closed_at.map(timestamp),
        close_reason: close_reason(v.close_reason),
        voter_count: results.voters as i32,
        member_count: 0,
        voted_by_me: results.voted_by_me,
        my_option_ids: results.mine.iter().map(Uuid::to_string).collect(),
        can_close: v.can_close(me, access),
        created_at: Some(timestamp(v.created_at)),
    }
}

fn options_pb(results: &VoteResults, names: &Names) -> Vec<pb::VoteOption> {
    let option = |(oid, text): &(Uuid, String)| pb::VoteOption {
        option_id: oid.to_string(),
        text: text.clone(),
        vote_count: results.count(*oid) as i32,
        voters: results
            .named
            .iter()
            .filter(|(opt, _)| opt == oid)
            .map(|(_, m)| author_pb(*m, names, None))
            .collect(),
        chosen_by_me: results.mine.contains(oid),
    };
    results.options.iter().map(option).collect()
}

pub fn summary_pb(v: &Vote, voters: i64, voted: bool) -> pb::VoteSummary {
    pb::VoteSummary {
        vote_id: v.id.to_string(),
        title: v.title.clone(),
        author: Some(pb::Author {
            member_id: v.author_id.to_string(),
            ..Default::default()
        }),
        multiple_choice: v.multiple,
        anonymous: v.anonymous,
        state: vote_state(v.open),
        closes_at: v.closes_at.map(timestamp),
        closed_at: v.closed_at.map(timestamp),
        voter_count: voters as i32,
        member_count: 0,
        voted_by_me: voted,
        created_at: Some(timestamp(v.created_at)),
    }
}

/// An item of the moderation queue.
pub fn reported_pb(m: &Moderated, item: ReportedItem) -> pb::ReportedContent {
    let kind = ContentKind::from_stored(&m.kind);
    pb::ReportedContent {
        kind: pb::ReportedContentKind::from(kind) as i32,
        content_id: m.content_id.to_string(),
        post_id: item.post_id.to_string(),
        post_title: item.post_title,
        content: None,
        report_count: m.reasons.iter().map(|(_, n)| *n as i32).sum(),
        reasons: reason_counts(&m.reasons),
        state: mpb::ReviewState::from(ReviewState::from_stored(&m.state)) as i32,
        hidden_at: Some(timestamp(m.hidden_at)),
        reviewed_at: m.reviewed_at.map(timestamp),
    }
}

/// Reported content after the leader's review.
pub fn reviewed_pb(r: &Review, item: &ReportedItem, s: &Standing) -> pb::ReportedContent {
    pb::ReportedContent {
        kind: pb::ReportedContentKind::from(r.kind) as i32,
        content_id: r.id.to_string(),
        post_id: item.post_id.to_string(),
        state: mpb::ReviewState::from(r.outcome()) as i32,
        report_count: s.report_count as i32,
        hidden_at: s.hidden_at.map(timestamp),
        reviewed_at: s.reviewed_at.map(timestamp),
        ..Default::default()
    }
}

pub fn closing_vote_pb(v: &ClosingVote) -> pb::ClosingVote {
    pb::ClosingVote {
        vote_id: v.id.to_string(),
        team_id: v.team_id.to_string(),
        title: v.title.clone(),
        closes_at: Some(timestamp(v.closes_at)),
        anonymous: v.anonymous,
    }
}

/// The JSON document of a member's board data.
/// An anonymous vote the member took part in: (vote, team, title, opened at).
pub type AnonymousVote = (Uuid, Uuid, String, chrono::DateTime<chrono::Utc>);

pub fn export_json(
    member: Uuid,
    data: &MemberExport,
    anonymous: &[AnonymousVote],
    parts: &[u8],
) -> Result<Vec<u8>, BoardError> {
    let id = |u: &Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
    let at =
        |t: &Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    let json = serde_json::json!({
        "member_id": member.to_string(),
        "posts": data.posts.iter().map(|p| serde_json::json!({"post_id": id(&p.id), "team_id": id(&p.team_id), "title": p.title, "content": p.content, "is_notice": p.is_notice, "created_at": at(&p.created_at)})).collect::<Vec<_>>(),
        "comments": data.comments.iter().map(|c| serde_json::json!({"comment_id": id(&c.id), "team_id": id(&c.team_id), "post_id": id(&c.post_id), "content": c.content, "created_at": at(&c.created_at)})).collect::<Vec<_>>(),
        "votes": data.votes.iter().map(|v| serde_json::json!({"vote_id": id(&v.vote_id), "title": v.title, "anonymous": v.anonymous, "voted_at": at(&v.voted_at)})).collect::<Vec<_>>(),
        "anonymous_votes_taken_part_in": anonymous.iter().map(|(v, t, title, opened)| serde_json::json!({"vote_id": v.to_string(), "team_id": t.to_string(), "title": title, "vote_opened_at": opened.to_rfc3339()})).collect::<Vec<_>>(),
    });
    let mut json = json;
    if let (Some(obj), Ok(serde_json::Value::Object(more))) = (
        json.as_object_mut(),
        serde_json::from_slice::<serde_json::Value>(parts),
    ) {
        for (k, v) in more {
            if k != "member_id" {
                obj.insert(k, v);
            }
        }
    }
    serde_json::to_vec(&json).map_err(|e| BoardError::Internal(e.into()))
}

// ---------------------------------------------------------------- goal board

/// The team as the goal board shows it (days counted in the team's today).
pub fn team_pb(s: &TeamSummary, me: Uuid, today: NaiveDate) -> moim::Team {
    let start = s.start_date.as_ref().and_then(from_date);
    let end = s.end_date.as_ref().and_then(from_date);
    let mine = s
        .memberships
        .iter()
        .find(|m| m.member_id == me.to_string() && m.left_at.is_none());
    moim::Team {
        team_id: s.team_id.clone(),
        name: s.name.clone(),
        category: s.category,
        image: image(s.image_key.clone()),
        start_date: s.start_date,
        end_date: s.end_date,
        time_zone: s.time_zone.clone(),
        member_cap: s.member_cap,
        status: s.status,
        leader_member_id: s.leader_member_id.clone(),
        member_count: s.member_count,
        days_left: end.map_or(0, |e| ((e - today).num_days() + 1).max(0) as i32),
        days_until_start: start.map_or(0, |st| (st - today).num_days().max(0) as i32),
        my_role: mine.map_or(0, |m| m.role),
        my_joined_at: mine.and_then(|m| m.joined_at),
        next_meeting: s.next_meeting.clone(),
        created_at: s.created_at,
        disbanded_at: s.disbanded_at,
        grace_ends_at: s.grace_ends_at,
        ..Default::default()
    }
}

/// The team's current members with their display data.
pub fn members_pb(
    s: &TeamSummary,
    names: &Names,
    blocked: &HashSet<Uuid>,
) -> Vec<moim::TeamMember> {
    s.memberships
        .iter()
        .filter(|m| m.left_at.is_none())
        .map(|m| {
            let id = Uuid::parse_str(&m.member_id).unwrap_or_default();
            let (nickname, key) = names.get(&id).cloned().unwrap_or_default();
            moim::TeamMember {
                member_id: m.member_id.clone(),
                role: m.role,
                joined_at: m.joined_at,
                nickname,
                profile_image: image(key),
                blocked_by_me: blocked.contains(&id),
            }
        })
        .collect()
}
