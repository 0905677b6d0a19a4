//! Posts: rows, writes with their events, read marks and unread counts.

use chrono::NaiveDateTime;
use moing_proto::moing::events::v1::{PostCreated, PostDeleted, PostUpdated, event::Payload};
use sqlx::{MySqlConnection, Row, mysql::MySqlRow};
use uuid::Uuid;

use super::{Store, utc};
use crate::{
    domain::{ExportedPost, NewPost, Post, PostEdit, PostRef, Unread},
    error::BoardError,
};

const POST_SELECT: &str = "SELECT p.id, p.team_id, p.author_id, p.title, p.content, p.is_notice, p.comment_count, p.created_at, p.edited_at, \
    (SELECT 1 FROM post_read r WHERE r.post_id = p.id AND r.member_id = ?) AS is_read FROM post p";

fn post_row(r: &MySqlRow) -> Result<Post, sqlx::Error> {
    Ok(Post {
        id: r.try_get("id")?,
        team_id: r.try_get("team_id")?,
        author_id: r.try_get("author_id")?,
        title: r.try_get("title")?,
        content: r.try_get("content")?,
        is_notice: r.try_get("is_notice")?,
        comment_count: r.try_get("comment_count")?,
        created_at: utc(r.try_get("created_at")?),
        edited_at: r.try_get::<Option<NaiveDateTime>, _>("edited_at")?.map(utc),
        read: r.try_get::<Option<i64>, _>("is_read")?.is_some(),
    })
}

/// Counts of unread notices and unread posts (others' live posts without my read mark).
async fn unread_on(conn: &mut MySqlConnection, team: Uuid, me: Uuid) -> Result<Unread, BoardError> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(p.is_notice = 1), 0) AS SIGNED) AS notices, COUNT(*) AS posts FROM post p \
         WHERE p.team_id = ? AND p.deleted_at IS NULL AND p.author_id <> ? \
         AND NOT EXISTS (SELECT 1 FROM post_read r WHERE r.post_id = p.id AND r.member_id = ?)",
    )
    .bind(team)
    .bind(me)
    .bind(me)
    .fetch_one(&mut *conn)
    .await?;
    let notices: i64 = row.try_get("notices")?;
    let posts: i64 = row.try_get("posts")?;
    Ok(Unread {
        notices: notices as i32,
        posts: posts as i32,
    })
}

impl Store {
    /// A live post of `team` as `me` reads it, or POST_NOT_FOUND.
    pub async fn post(&self, team: Uuid, id: Uuid, me: Uuid) -> Result<Post, BoardError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{POST_SELECT} WHERE p.team_id = ? AND p.id = ? AND p.deleted_at IS NULL"
        )))
        .bind(me)
        .bind(team)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(post_row)
            .transpose()?
            .ok_or(BoardError::PostNotFound)
    }

    /// A team's live posts: notices first, newest first.
    pub async fn posts(
        &self,
        team: Uuid,
        me: Uuid,
        notices_only: bool,
    ) -> Result<Vec<Post>, BoardError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{POST_SELECT} WHERE p.team_id = ? AND p.deleted_at IS NULL AND (? = 0 OR p.is_notice = 1) \
             ORDER BY p.is_notice DESC, p.created_at DESC, p.id DESC"
        )))
        .bind(me)
        .bind(team)
        .bind(notices_only)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(post_row).collect::<Result<_, _>>()?)
    }

    /// Writes a post and its PostCreated event; returns its id.
    pub async fn create_post(
        &self,
        me: Uuid,
        new: &NewPost,
        team_name: &str,
    ) -> Result<Uuid, BoardError> {
        let id = Uuid::now_v7();
        let now = moing_common::clock::now();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO post (id, team_id, author_id, title, content, is_notice, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(id)
            .bind(new.team)
            .bind(me)
            .bind(&new.title)
            .bind(&new.content)
            .bind(new.is_notice)
            .bind(now.naive_utc())
            .execute(&mut *tx)
            .await?;
        let event = Payload::PostCreated(PostCreated {
            post_id: id.to_string(),
            team_name: team_name.to_owned(),
            post_title: new.title.clone(),
            is_notice: new.is_notice,
        });
        self.outbox
            .enqueue(&mut tx, Some(new.team), Some(me), event)
            .await?;
        tx.commit().await?;
        self.outbox.wake();
        Ok(id)
    }

    /// Applies an edit and writes its PostUpdated event.
    pub async fn update_post(
        &self,
        me: Uuid,
        edit: &PostEdit,
        before: &Post,
        team_name: &str,
    ) -> Result<(), BoardError> {
        let now = moing_common::clock::now();
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE post SET title = COALESCE(?, title), content = COALESCE(?, content), is_notice = COALESCE(?, is_notice), edited_at = ? WHERE id = ? AND team_id = ? AND deleted_at IS NULL")
            .bind(&edit.title)
            .bind(&edit.content)
            .bind(edit.notice)
            .bind(now.naive_utc())
            .bind(edit.post)
            .bind(edit.team)
            .execute(&mut *tx)
            .await?;
        let is_notice = edit.is_notice(before);
        let event = Payload::PostUpdated(PostUpdated {
            post_id: edit.post.to_string(),
            author_member_id: me.to_string(),
            post_title: edit.title.clone().unwrap_or(before.title.clone()),
            is_notice,
            became_notice: is_notice && !before.is_notice,
            updated_fields: edit.paths.clone(),
            team_name: team_name.to_owned(),
        });
        self.outbox
            .enqueue(&mut tx, Some(edit.team), Some(me), event)
            .await?;
        tx.commit().await?;
        self.outbox.wake();
        Ok(())
    }

    /// Soft-deletes a post; the PostDeleted event only when this call deleted it.
    pub async fn delete_post(&self, me: Uuid, at: PostRef, p: &Post) -> Result<(), BoardError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE post SET deleted_at = ? WHERE id = ? AND team_id = ? AND deleted_at IS NULL",
        )
        .bind(moing_common::clock::now().naive_utc())
        .bind(at.post)
        .bind(at.team)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            let event = Payload::PostDeleted(PostDeleted {
                post_id: at.post.to_string(),
                author_member_id: p.author_id.to_string(),
                by_moderator: p.author_id != me,
                was_notice: p.is_notice,
            });
            self.outbox
                .enqueue(&mut tx, Some(at.team), Some(me), event)
                .await?;
        }
        tx.commit().await?;
        self.outbox.wake();
        Ok(())
    }

    /// Marks a post read by `me`; returns my unread counts after it.
    pub async fn mark_read(&self, at: PostRef, me: Uuid) -> Result<Unread, BoardError> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("INSERT IGNORE INTO post_read (post_id, member_id, team_id, read_at) VALUES (?, ?, ?, ?)")
            .bind(at.post)
            .bind(me)
            .bind(at.team)
            .bind(moing_common::clock::now().naive_utc())
            .execute(&mut *conn)
            .await?;
        unread_on(&mut conn, at.team, me).await
    }

    /// My unread notices and posts in `team`.
    pub async fn unread(&self, team: Uuid, me: Uuid) -> Result<Unread, BoardError> {
        let mut conn = self.pool.acquire().await?;
        unread_on(&mut conn, team, me).await
    }

    /// A member's live posts, for a data export.
    pub async fn exported_posts(&self, member: Uuid) -> Result<Vec<ExportedPost>, BoardError> {
        let rows = sqlx::query("SELECT id, team_id, title, content, is_notice, created_at FROM post WHERE author_id = ? AND deleted_at IS NULL ORDER BY created_at")
            .bind(member)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| ExportedPost {
                id: r.try_get("id").ok(),
                team_id: r.try_get("team_id").ok(),
                title: r.try_get("title").unwrap_or_default(),
                content: r.try_get("content").unwrap_or_default(),
                is_notice: r.try_get("is_notice").unwrap_or(false),
                created_at: r.try_get::<NaiveDateTime, _>("created_at").ok().map(utc),
            })
            .collect())
    }
}
