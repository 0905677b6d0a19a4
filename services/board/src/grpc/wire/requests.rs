//! The validated domain inputs of the requests (every field-level error at once).

use moing_common::{Validator, convert::from_timestamp};
use moing_proto::moing::board::v1 as pb;
use uuid::Uuid;

use crate::{
    domain::{
        self, Cast, ClosingQuery, CommentQuery, CommentRef, ContentKind, MemberRef, NewComment,
        NewPost, NewReport, NewVote, NonVotersQuery, Page, PostEdit, PostQuery, PostRef,
        ReportQuery, ReportReason, Review, TeamRef, VoteQuery, VoteRef,
    },
    error::BoardError,
};

fn page_of(size: i32, token: String) -> Page {
    Page { size, token }
}

fn id(v: &mut Validator, field: &str, value: &str) -> Uuid {
    v.id(field, value).unwrap_or_default()
}

fn team_ref(team_id: &str) -> Result<TeamRef, BoardError> {
    let mut v = Validator::new();
    let team = id(&mut v, "team_id", team_id);
    v.finish()?;
    Ok(TeamRef { team })
}

fn post_ref(team_id: &str, post_id: &str) -> Result<PostRef, BoardError> {
    let mut v = Validator::new();
    let (team, post) = (
        id(&mut v, "team_id", team_id),
        id(&mut v, "post_id", post_id),
    );
    v.finish()?;
    Ok(PostRef { team, post })
}

fn vote_ref(team_id: &str, vote_id: &str) -> Result<VoteRef, BoardError> {
    let mut v = Validator::new();
    let (team, vote) = (
        id(&mut v, "team_id", team_id),
        id(&mut v, "vote_id", vote_id),
    );
    v.finish()?;
    Ok(VoteRef { team, vote })
}

impl TryFrom<pb::GetGoalBoardRequest> for TeamRef {
    type Error = BoardError;
    fn try_from(r: pb::GetGoalBoardRequest) -> Result<Self, BoardError> {
        team_ref(&r.team_id)
    }
}

impl TryFrom<pb::WatchGoalBoardRequest> for TeamRef {
    type Error = BoardError;
    fn try_from(r: pb::WatchGoalBoardRequest) -> Result<Self, BoardError> {
        team_ref(&r.team_id)
    }
}

impl TryFrom<pb::GetUnreadPostCountRequest> for TeamRef {
    type Error = BoardError;
    fn try_from(r: pb::GetUnreadPostCountRequest) -> Result<Self, BoardError> {
        team_ref(&r.team_id)
    }
}

impl TryFrom<pb::CreatePostRequest> for NewPost {
    type Error = BoardError;
    fn try_from(r: pb::CreatePostRequest) -> Result<Self, BoardError> {
        let mut v = Validator::new();
        let team = id(&mut v, "team_id", &r.team_id);
        let title = v.text("title", &r.title, 1, domain::TITLE_MAX);
        let content = v.text("content", &r.content, 1, domain::POST_CONTENT_MAX);
        v.finish()?;
        Ok(NewPost {
            team,
            title,
            content,
            is_notice: r.is_notice,
        })
    }
}

impl TryFrom<pb::ListPostsRequest> for PostQuery {
    type Error = BoardError;
    fn try_from(r: pb::ListPostsRequest) -> Result<Self, BoardError> {
        Ok(PostQuery {
            team: team_ref(&r.team_id)?.team,
            notices_only: r.notices_only,
            page: page_of(r.page_size, r.page_token),
        })
    }
}

impl TryFrom<pb::GetPostRequest> for PostRef {
    type Error = BoardError;
    fn try_from(r: pb::GetPostRequest) -> Result<Self, BoardError> {
        post_ref(&r.team_id, &r.post_id)
    }
}

impl TryFrom<pb::UpdatePostRequest> for PostEdit {
    type Error = BoardError;
    fn try_from(r: pb::UpdatePostRequest) -> Result<Self, BoardError> {
        let mut v = Validator::new();
        let (team, post) = (
            id(&mut v, "team_id", &r.team_id),
            id(&mut v, "post_id", &r.post_id),
        );
        let body = r.post.unwrap_or_default();
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        v.check(
            !paths.is_empty(),
            "update_mask",
            "name the fields to change",
        );
        let mut edit = PostEdit {
            team,
            post,
            title: None,
            content: None,
            notice: None,
            paths: Vec::new(),
        };
        for path in &paths {
            match path.as_str() {
                "title" => {
                    edit.title = Some(v.text("post.title", &body.title, 1, domain::TITLE_MAX))
                }
                "content" => {
                    let max = domain::POST_CONTENT_MAX;
                    edit.content = Some(v.text("post.content", &body.content, 1, max));
                }
                "is_notice" => edit.notice = Some(body.is_notice),
                other => v.violation("update_mask", format!("`{other}` cannot be changed")),
            }
        }
        v.finish()?;
        edit.paths = paths;
        Ok(edit)
    }
}

impl TryFrom<pb::DeletePostRequest> for PostRef {
    type Error = BoardError;
    fn try_from(r: pb::DeletePostRequest) -> Result<Self, BoardError> {
        post_ref(&r.team_id, &r.post_id)
    }
}

impl TryFrom<pb::MarkPostReadRequest> for PostRef {
    type Error = BoardError;
    fn try_from(r: pb::MarkPostReadRequest) -> Result<Self, BoardError> {
        post_ref(&r.team_id, &r.post_id)
    }
}

impl TryFrom<pb::CreatePostCommentRequest> for NewComment {
    type Error = BoardError;
    fn try_from(r: pb::CreatePostCommentRequest) -> Result<Self, BoardError> {
        let mut v = Validator::new();
        let (team, post) = (
            id(&mut v, "team_id", &r.team_id),
            id(&mut v, "post_id", &r.post_id),
        );
        let content = v.text("content", &r.content, 1, domain::COMMENT_MAX);
        v.finish()?;
        Ok(NewComment {
            team,
            post,
            content,
        })
    }
}

impl TryFrom<pb::ListPostCommentsRequest> for CommentQuery {
    type Error = BoardError;
    fn try_from(r: pb::ListPostCommentsRequest) -> Result<Self, BoardError> {
        let at = post_ref(&r.team_id, &r.post_id)?;
        Ok(CommentQuery {
            team: at.team,
            post: at.post,
            page: page_of(r.page_size, r.page_token),
        })
    }
}

impl TryFrom<pb::DeletePostCommentRequest> for CommentRef {
    type Error = BoardError;
    fn try_from(r: pb::DeletePostCommentRequest) -> Result<Self, BoardError> {
        let mut v = Validator::new();
        let (team, post) = (
            id(&mut v, "team_id", &r.team_id),
            id(&mut v, "post_id", &r.post_id),
        );
        let comment = id(&mut v, "comment_id", &r.comment_id);
        v.finish()?;
        Ok(CommentRef {
            team,
            post,
            comment,
        })
    }
}

impl TryFrom<pb::CreateVoteRequest> for NewVote {
    type Error = BoardError;
    fn try_from(r: pb::CreateVoteRequest) -> Result<Self, BoardError> {
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let team = id(&mut v, "team_id", &r.team_id);
        let title = v.text("title", &r.title, 1, domain::TITLE_MAX);
        let memo = v.text("memo", &r.memo, 0, domain::VOTE_MEMO_MAX);
        let count_ok = domain::VOTE_OPTIONS.contains(&r.options.len());
        v.check(count_ok, "options", "give 2 to 10 options");
        let mut options = Vec::new();
        for (i, o) in r.options.iter().enumerate() {
            let text = v.text(&format!("options[{i}]"), o, 1, domain::VOTE_OPTION_MAX);
            if options.contains(&text) && !text.is_empty() {
                v.violation(&format!("options[{i}]"), "options must differ");
            }
            options.push(text);
        }
        let closes_at = v.timestamp("closes_at", r.closes_at.as_ref());
        let future = closes_at.is_none_or(|c| c > now);
        v.check(future, "closes_at", "must be in the future");
        v.finish()?;
        Ok(NewVote {
            team,
            title,
            memo,
            options,
            multiple: r.multiple_choice,
            anonymous: r.anonymous,
            closes_at,
            now,
        })
    }
}

impl TryFrom<pb::ListVotesRequest> for VoteQuery {
    type Error = BoardError;
    fn try_from(r: pb::ListVotesRequest) -> Result<Self, BoardError> {
        let mut v = Validator::new();
        let team = id(&mut v, "team_id", &r.team_id);
        let state = pb::VoteState::try_from(r.state);
        let says = "must be a VoteState (OPEN or CLOSED, or unset for all)";
        v.check(state.is_ok(), "state", says);
        v.finish()?;
        let open = match state {
            Ok(pb::VoteState::Open) => Some(true),
            Ok(pb::VoteState::Closed) => Some(false),
            _ => None,
        };
        Ok(VoteQuery {
            team,
            open,
            page: page_of(r.page_size, r.page_token),
        })
    }
}

impl TryFrom<pb::GetVoteRequest> for VoteRef {
    type Error = BoardError;
    fn try_from(r: pb::GetVoteRequest) -> Result<Self, BoardError> {
        vote_ref(&r.team_id, &r.vote_id)
    }
}

fn cast(
    team_id: &str,
    vote_id: &str,
    options: &[String],
    retract: bool,
) -> Result<Cast, BoardError> {
    let mut v = Validator::new();
    let (team, vote) = (
        id(&mut v, "team_id", team_id),
        id(&mut v, "vote_id", vote_id),
    );
    let mut chosen: Vec<Uuid> = v.ids("option_ids", options);
    let some = retract || !options.is_empty();
    v.check(some, "option_ids", "choose at least one option");
    v.finish()?;
    chosen.sort();
    chosen.dedup();
    Ok(Cast {
        team,
        vote,
        chosen,
        retract,
    })
}

impl TryFrom<pb::CastVoteRequest> for Cast {
    type Error = BoardError;
    fn try_from(r: pb::CastVoteRequest) -> Result<Self, BoardError> {
        cast(&r.team_id, &r.vote_id, &r.option_ids, false)
    }
}

impl TryFrom<pb::RetractVoteRequest> for Cast {
    type Error = BoardError;
    fn try_from(r: pb::RetractVoteRequest) -> Result<Self, BoardError> {
        cast(&r.team_id, &r.vote_id, &[], true)
    }
}

impl TryFrom<pb::CloseVoteRequest> for VoteRef {
    type Error = BoardError;
    fn try_from(r: pb::CloseVoteRequest) -> Result<Self, BoardError> {
        vote_ref(&r.team_id, &r.vote_id)
    }
}

fn report(
    (team_id, post_id, comment_id): (&str, &str, Option<&str>),
    reason: i32,
    text: &str,
) -> Result<NewReport, BoardError> {
    let mut v = Validator::new();
    let (team, post) = (
        id(&mut v, "team_id", team_id),
        id(&mut v, "post_id", post_id),
    );
    let comment = comment_id.map(|c| id(&mut v, "comment_id", c));
    let text = v.text("text", text, 0, domain::REPORT_TEXT_MAX);
    let reason = moing_moderation::wire::report_reason(&mut v, reason, &domain::REPORT_REASONS);
    v.finish()?;
    Ok(NewReport {
        team,
        post,
        comment,
        reason: reason.unwrap_or(ReportReason::Other),
        text,
    })
}

impl TryFrom<pb::ReportPostRequest> for NewReport {
    type Error = BoardError;
    fn try_from(r: pb::ReportPostRequest) -> Result<Self, BoardError> {
        report((&r.team_id, &r.post_id, None), r.reason, &r.text)
    }
}

impl TryFrom<pb::ReportPostCommentRequest> for NewReport {
    type Error = BoardError;
    fn try_from(r: pb::ReportPostCommentRequest) -> Result<Self, BoardError> {
        let at = (
            r.team_id.as_str(),
            r.post_id.as_str(),
            Some(r.comment_id.as_str()),
        );
        report(at, r.reason, &r.text)
    }
}

impl TryFrom<pb::ListReportedContentRequest> for ReportQuery {
    type Error = BoardError;
    fn try_from(r: pb::ListReportedContentRequest) -> Result<Self, BoardError> {
        let mut v = Validator::new();
        let team = id(&mut v, "team_id", &r.team_id);
        let state = moing_moderation::wire::review_filter(&mut v, r.state);
        v.finish()?;
        Ok(ReportQuery {
            team,
            state,
            page: page_of(r.page_size, r.page_token),
        })
    }
}

impl TryFrom<pb::ReviewReportedContentRequest> for Review {
    type Error = BoardError;
    fn try_from(r: pb::ReviewReportedContentRequest) -> Result<Self, BoardError> {
        let mut v = Validator::new();
        let team = id(&mut v, "team_id", &r.team_id);
        let content = id(&mut v, "content_id", &r.content_id);
        let kind = match pb::ReportedContentKind::try_from(r.kind) {
            Ok(pb::ReportedContentKind::Post) => ContentKind::Post,
            Ok(pb::ReportedContentKind::PostComment) => ContentKind::Comment,
            _ => {
                v.violation("kind", "POST or POST_COMMENT");
                ContentKind::Post
            }
        };
        let remove = moing_moderation::wire::review_decision(&mut v, r.decision).unwrap_or(false);
        v.finish()?;
        Ok(Review {
            team,
            kind,
            id: content,
            remove,
        })
    }
}

impl TryFrom<pb::ListVotesClosingBetweenRequest> for ClosingQuery {
    type Error = BoardError;
    fn try_from(r: pb::ListVotesClosingBetweenRequest) -> Result<Self, BoardError> {
        let mut v = Validator::new();
        let from = r.closes_from.as_ref().and_then(from_timestamp);
        let to = r.closes_to.as_ref().and_then(from_timestamp);
        v.check(from.is_some(), "closes_from", "is required");
        v.check(to.is_some(), "closes_to", "is required");
        let ordered = from.zip(to).is_none_or(|(f, t)| f <= t);
        v.check(ordered, "closes_to", "must not be before closes_from");
        v.finish()?;
        let (Some(from), Some(to)) = (from, to) else {
            return Err(BoardError::Invalid(vec![]));
        };
        Ok(ClosingQuery {
            from,
            to,
            page: page_of(r.page_size, r.page_token),
        })
    }
}

impl TryFrom<pb::ListVoteNonVotersRequest> for NonVotersQuery {
    type Error = BoardError;
    fn try_from(r: pb::ListVoteNonVotersRequest) -> Result<Self, BoardError> {
        let mut v = Validator::new();
        let team = id(&mut v, "team_id", &r.team_id);
        let vote = id(&mut v, "vote_id", &r.vote_id);
        let n = r.member_ids.len();
        v.check(
            n > 0 && n <= domain::NON_VOTERS_MAX,
            "member_ids",
            "give 1 to 100 members",
        );
        let members: Vec<Uuid> = v.ids("member_ids", &r.member_ids);
        v.finish()?;
        Ok(NonVotersQuery {
            team,
            vote,
            members,
            page: page_of(r.page_size, r.page_token),
        })
    }
}

impl TryFrom<pb::ExportMemberBoardDataRequest> for MemberRef {
    type Error = BoardError;
    fn try_from(r: pb::ExportMemberBoardDataRequest) -> Result<Self, BoardError> {
        let mut v = Validator::new();
        let member = id(&mut v, "member_id", &r.member_id);
        v.finish()?;
        Ok(MemberRef { member })
    }
}
