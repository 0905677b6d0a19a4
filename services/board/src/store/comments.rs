//! Comments on posts: rows, writes with their events (and the post's count).

use chrono::NaiveDateTime;
use moing_proto::moing::events::v1::{PostCommentCreated, PostCommentDeleted, event::Payload};
use sqlx::{Row, mysql::MySqlRow};
use uuid::Uuid;

use super::{Store, utc};
use crate::{
    domain::{Comment, CommentRef, ExportedComment, NewComment, Post},
    error::BoardError,
};

fn comment_row(r: &MySqlRow) -> Result<Comment, sqlx::Error> {
    Ok(Comment {
        id: r.try_get("id")?,
        post_id: r.try_get("post_id")?,
        author_id: r.try_get("author_id")?,
        content: r.try_get("content")?,
        created_at: utc(r.try_get::<NaiveDateTime, _>("created_at")?),
    })
}

impl Store {
    /// Writes a comment, counts it on the post and writes its
    /// PostCommentCreated event; returns the comment as stored.
    pub async fn create_comment(
        &self,
        me: Uuid,
        new: &NewComment,
        post: &Post,
        team_name: &str,
    ) -> Result<Comment, BoardError> {
        let id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO post_comment (id, team_id, post_id, author_id, content, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(id)
            .bind(new.team)
            .bind(new.post)
            .bind(me)
            .bind(&new.content)
            .bind(moing_common::clock::now().naive_utc())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE post SET comment_count = comment_count + 1 WHERE id = ?")
            .bind(new.post)
            .execute(&mut *tx)
            .await?;
        let event = Payload::PostCommentCreated(PostCommentCreated {
            comment_id: id.to_string(),
            post_id: new.post.to_string(),
            post_author_member_id: post.author_id.to_string(),
            post_title: post.title.clone(),
            content_excerpt: new.excerpt(),
            team_name: team_name.to_owned(),
            post_is_notice: post.is_notice,
        });
        self.outbox
            .enqueue(&mut tx, Some(new.team), Some(me), event)
            .await?;
        tx.commit().await?;
        self.outbox.wake();
        let row = sqlx::query("SELECT * FROM post_comment WHERE id = ?")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(comment_row(&row)?)
    }

    /// A post's live comments, oldest first.
    pub async fn comments(&self, team: Uuid, post: Uuid) -> Result<Vec<Comment>, BoardError> {
        let rows = sqlx::query("SELECT * FROM post_comment WHERE post_id = ? AND team_id = ? AND deleted_at IS NULL ORDER BY created_at, id")
            .bind(post)
            .bind(team)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(comment_row).collect::<Result<_, _>>()?)
    }

    /// The author of a live comment of the team's post, or COMMENT_NOT_FOUND.
    pub async fn comment_author(&self, at: CommentRef) -> Result<Uuid, BoardError> {
        sqlx::query_scalar("SELECT author_id FROM post_comment WHERE id = ? AND post_id = ? AND team_id = ? AND deleted_at IS NULL")
            .bind(at.comment)
            .bind(at.post)
            .bind(at.team)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(BoardError::CommentNotFound)
    }

    /// The author of a live comment of a post, or COMMENT_NOT_FOUND.
    pub async fn comment_author_on(&self, post: Uuid, comment: Uuid) -> Result<Uuid, BoardError> {
        sqlx::query_scalar("SELECT author_id FROM post_comment WHERE id = ? AND post_id = ? AND deleted_at IS NULL")
            .bind(comment)
            .bind(post)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(BoardError::CommentNotFound)
    }

    /// Soft-deletes a comment; uncounts it and writes PostCommentDeleted only
    /// when this call deleted it.
    pub async fn delete_comment(
        &self,
        me: Uuid,
        at: CommentRef,
        author: Uuid,
    ) -> Result<(), BoardError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE post_comment SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
        )
        .bind(moing_common::clock::now().naive_utc())
        .bind(at.comment)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            sqlx::query("UPDATE post SET comment_count = comment_count - 1 WHERE id = ? AND comment_count > 0")
                .bind(at.post)
                .execute(&mut *tx)
                .await?;
            let event = Payload::PostCommentDeleted(PostCommentDeleted {
                comment_id: at.comment.to_string(),
                post_id: at.post.to_string(),
                author_member_id: author.to_string(),
                by_moderator: author != me,
            });
            self.outbox
                .enqueue(&mut tx, Some(at.team), Some(me), event)
                .await?;
        }
        tx.commit().await?;
        self.outbox.wake();
        Ok(())
    }

    /// A member's live comments, for a data export.
    pub async fn exported_comments(
        &self,
        member: Uuid,
    ) -> Result<Vec<ExportedComment>, BoardError> {
        let rows = sqlx::query("SELECT id, team_id, post_id, content, created_at FROM post_comment WHERE author_id = ? AND deleted_at IS NULL ORDER BY created_at")
            .bind(member)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| ExportedComment {
                id: r.try_get("id").ok(),
                team_id: r.try_get("team_id").ok(),
                post_id: r.try_get("post_id").ok(),
                content: r.try_get("content").unwrap_or_default(),
                created_at: r.try_get::<NaiveDateTime, _>("created_at").ok().map(utc),
            })
            .collect())
    }
}
