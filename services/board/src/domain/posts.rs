//! Posts and comments, and who may change them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Access, COMMENT_EXCERPT, Page};
use crate::error::BoardError;

/// A live post as one member reads it.
#[derive(Debug, Clone)]
pub struct Post {
    pub id: Uuid,
    pub team_id: Uuid,
    pub author_id: Uuid,
    pub title: String,
    pub content: String,
    pub is_notice: bool,
    pub comment_count: i32,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// The reader's read mark.
    pub read: bool,
}

impl Post {
    /// Only the author edits.
    pub fn require_author(&self, me: Uuid) -> Result<(), BoardError> {
        if self.author_id == me {
            Ok(())
        } else {
            Err(BoardError::NotAuthor)
        }
    }

    /// The author deletes their post, the leader any post.
    pub fn require_author_or_leader(&self, me: Uuid, access: &Access) -> Result<(), BoardError> {
        if access.author_or_leader(self.author_id, me) {
            Ok(())
        } else {
            Err(BoardError::NotAuthorOrLeader)
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewPost {
    pub team: Uuid,
    pub title: String,
    pub content: String,
    pub is_notice: bool,
}

impl NewPost {
    /// Only the leader writes notices.
    pub fn check(&self, access: &Access) -> Result<(), BoardError> {
        access.require_writable()?;
        if self.is_notice && !access.leader {
            return Err(BoardError::NoticeNeedsLeader);
        }
        Ok(())
    }
}

/// The fields an update mask names (None: unchanged).
#[derive(Debug, Clone)]
pub struct PostEdit {
    pub team: Uuid,
    pub post: Uuid,
    pub title: Option<String>,
    pub content: Option<String>,
    pub notice: Option<bool>,
    /// The mask's paths, as the event names them.
    pub paths: Vec<String>,
}

impl PostEdit {
    /// The author edits; turning a post into a notice (or back) needs the leader.
    pub fn check(&self, before: &Post, me: Uuid, access: &Access) -> Result<(), BoardError> {
        before.require_author(me)?;
        if self.notice.is_some_and(|n| n != before.is_notice) && !access.leader {
            return Err(BoardError::NoticeNeedsLeader);
        }
        Ok(())
    }

    pub fn is_notice(&self, before: &Post) -> bool {
        self.notice.unwrap_or(before.is_notice)
    }
}

/// A post named in a request.
#[derive(Debug, Clone, Copy)]
pub struct PostRef {
    pub team: Uuid,
    pub post: Uuid,
}

#[derive(Debug, Clone)]
pub struct PostQuery {
    pub team: Uuid,
    pub notices_only: bool,
    pub page: Page,
}

/// Unread notices and unread posts (others' live posts without my read mark;
/// a late joiner sees earlier notices as unread too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unread {
    pub notices: i32,
    pub posts: i32,
}

// ---------------------------------------------------------------- comments

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: Uuid,
    pub post_id: Uuid,
    pub author_id: Uuid,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewComment {
    pub team: Uuid,
    pub post: Uuid,
    pub content: String,
}

impl NewComment {
    /// What the comment's event quotes.
    pub fn excerpt(&self) -> String {
        self.content.chars().take(COMMENT_EXCERPT).collect()
    }
}

/// A comment named in a request.
#[derive(Debug, Clone, Copy)]
pub struct CommentRef {
    pub team: Uuid,
    pub post: Uuid,
    pub comment: Uuid,
}

#[derive(Debug, Clone)]
pub struct CommentQuery {
    pub team: Uuid,
    pub post: Uuid,
    pub page: Page,
}

/// The author deletes their comment, the leader any comment.
pub fn may_delete_comment(author: Uuid, me: Uuid, access: &Access) -> Result<(), BoardError> {
    if access.author_or_leader(author, me) {
        Ok(())
    } else {
        Err(BoardError::NotAuthorOrLeader)
    }
}
