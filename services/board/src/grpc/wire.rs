//! Proto ⇄ domain: the validated domain inputs of the requests (`TryFrom`,
//! every field-level error at once) and the encoders of domain values into
//! `pb::` messages (a member's view of posts, comments, votes and reports; the
//! goal board's pieces).

mod requests;
mod views;

use std::collections::HashMap;

use moing_common::Validator;
use moing_proto::moing::board::v1 as pb;
use uuid::Uuid;
pub use views::*;

use crate::{
    domain::{CloseReason, ContentKind, Page},
    error::BoardError,
};

/// Display data (nickname, image key) of members, by id.
pub type Names = HashMap<Uuid, (String, String)>;

/// One page of an already ordered list (its errors come after the caller's checks).
pub fn page<T: Clone>(items: &[T], p: &Page) -> Result<(Vec<T>, String), BoardError> {
    let mut v = Validator::new();
    let out = v.page(items, p.size, &p.token);
    v.finish()?;
    Ok(out)
}

impl From<ContentKind> for pb::ReportedContentKind {
    fn from(k: ContentKind) -> Self {
        match k {
            ContentKind::Post => Self::Post,
            ContentKind::Comment => Self::PostComment,
        }
    }
}

impl From<CloseReason> for pb::VoteCloseReason {
    fn from(r: CloseReason) -> Self {
        match r {
            CloseReason::ByAuthor => Self::ByAuthor,
            CloseReason::ByLeader => Self::ByLeader,
            CloseReason::Deadline => Self::Deadline,
            CloseReason::TeamEnded => Self::TeamEnded,
        }
    }
}

pub fn vote_state(open: bool) -> i32 {
    if open {
        pb::VoteState::Open as i32
    } else {
        pb::VoteState::Closed as i32
    }
}

fn close_reason(r: Option<CloseReason>) -> i32 {
    r.map_or(pb::VoteCloseReason::Unspecified, Into::into) as i32
}
