//! Reports on posts and comments: the shared moderation tables
//! (`moing_moderation`) with the board's items and events.

use moing_moderation::{self as shared, Moderated, ReportError, Standing};
use moing_proto::moing::{
    board::v1 as pb,
    events::v1::{BoardContentHidden, BoardContentReported, BoardContentReviewed, event::Payload},
    moderation::v1 as mpb,
};
use sqlx::Row;
use uuid::Uuid;

use super::Store;
use crate::{
    domain::{ContentKind, NewReport, Post, ReportTarget, ReportedItem, Review, ReviewState},
    error::BoardError,
};

impl Store {
    /// An item's reports and moderation as `viewer` sees them; `reviewer` for
    /// its author and the leader.
    pub async fn standing(
        &self,
        kind: ContentKind,
        id: Uuid,
        viewer: Uuid,
        reviewer: bool,
    ) -> Result<Standing, BoardError> {
        Ok(shared::standing(&self.pool, kind.as_str(), id, viewer, reviewer).await?)
    }

    /// The post, author and post title of a reportable item of `team` (a post or
    /// a comment; deleted items included, as moderation outlives deletion).
    pub async fn reported_item(
        &self,
        kind: ContentKind,
        id: Uuid,
        team: Uuid,
    ) -> Result<Option<ReportedItem>, BoardError> {
        let sql = match kind {
            ContentKind::Post => {
                "SELECT p.id AS post_id, p.author_id, p.title FROM post p WHERE p.id = ? AND p.team_id = ?"
            }
            ContentKind::Comment => {
                "SELECT c.post_id, c.author_id, p.title FROM post_comment c JOIN post p ON p.id = c.post_id WHERE c.id = ? AND c.team_id = ?"
            }
        };
        let row = sqlx::query(sql)
            .bind(id)
            .bind(team)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(ReportedItem {
                post_id: r.try_get("post_id")?,
                author_id: r.try_get("author_id")?,
                post_title: r.try_get("title")?,
            }),
            None => None,
        })
    }

    /// Files `me`'s report with its BoardContentReported event, and
    /// BoardContentHidden when it put the item under review.
    pub async fn file_report(
        &self,
        me: Uuid,
        report: &NewReport,
        target: ReportTarget,
        post: &Post,
        team_name: &str,
    ) -> Result<(), BoardError> {
        let (team, kind) = (report.team, target.kind);
        let mut tx = self.pool.begin().await?;
        let now = moing_common::clock::now();
        let reason = report.reason.as_str();
        let filed = shared::file(
            &mut tx,
            kind.as_str(),
            target.id,
            team,
            me,
            reason,
            &report.text,
            now,
        );
        let (count, hidden) = match filed.await {
            Err(ReportError::AlreadyReported) => return Err(BoardError::AlreadyReported),
            Err(ReportError::Db(e)) => return Err(e.into()),
            Ok(filed) => filed,
        };
        let kind_pb = pb::ReportedContentKind::from(kind) as i32;
        let reported = Payload::BoardContentReported(BoardContentReported {
            content_kind: kind_pb,
            content_id: target.id.to_string(),
            post_id: target.post.to_string(),
            content_author_member_id: target.author.to_string(),
            reason: mpb::ReportReason::from(report.reason) as i32,
            report_count: count as i32,
        });
        self.outbox
            .enqueue(&mut tx, Some(team), Some(me), reported)
            .await?;
        if hidden {
            let event = Payload::BoardContentHidden(BoardContentHidden {
                content_kind: kind_pb,
                content_id: target.id.to_string(),
                post_id: target.post.to_string(),
                content_author_member_id: target.author.to_string(),
                report_count: count as i32,
                team_name: team_name.to_owned(),
                post_title: post.title.clone(),
            });
            self.outbox
                .enqueue(&mut tx, Some(team), None, event)
                .await?;
        }
        tx.commit().await?;
        self.outbox.wake();
        Ok(())
    }

    /// Restores or removes an item under review with its BoardContentReviewed
    /// event; REVIEW_NOT_PENDING when it is not under review.
    pub async fn review(
        &self,
        me: Uuid,
        review: &Review,
        item: &ReportedItem,
    ) -> Result<(), BoardError> {
        let mut tx = self.pool.begin().await?;
        let now = moing_common::clock::now();
        let kind = review.kind.as_str();
        if !shared::review(&mut tx, kind, review.id, review.team, review.remove, now).await? {
            return Err(BoardError::ReviewNotPending);
        }
        let decision = if review.remove {
            mpb::ReviewDecision::Remove
        } else {
            mpb::ReviewDecision::Restore
        };
        let event = Payload::BoardContentReviewed(BoardContentReviewed {
            content_kind: pb::ReportedContentKind::from(review.kind) as i32,
            content_id: review.id.to_string(),
            post_id: item.post_id.to_string(),
            content_author_member_id: item.author_id.to_string(),
            decision: decision as i32,
        });
        self.outbox
            .enqueue(&mut tx, Some(review.team), Some(me), event)
            .await?;
        tx.commit().await?;
        self.outbox.wake();
        Ok(())
    }

    /// A team's items under moderation (optionally in one state), newest first.
    pub async fn moderated(
        &self,
        team: Uuid,
        state: Option<ReviewState>,
    ) -> Result<Vec<Moderated>, BoardError> {
        Ok(shared::moderated(&self.pool, team, state.map(ReviewState::as_str)).await?)
    }
}
