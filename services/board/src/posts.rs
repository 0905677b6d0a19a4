//! Notices and posts: create, list (notices first, newest first), get, edit and
//! delete by the author, delete by the leader, per-member read marks and unread
//! counts (a late joiner sees earlier notices as unread too), comments, reports.
//! Blocked members' posts and comments are hidden from the blocker.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use moing_common::{
    Validator,
    convert::timestamp,
    reports::{self as shared, ReportError, Visibility},
};
use moing_proto::moing::{
    board::v1 as pb,
    common::v1::ImageRef,
    events::v1::{
        BoardContentHidden, BoardContentReported, BoardContentReviewed, PostCommentCreated,
        PostCommentDeleted, PostCreated, PostDeleted, PostUpdated, event::Payload,
    },
};
use sqlx::{MySqlConnection, Row, mysql::MySqlRow};
use uuid::Uuid;

use crate::{access::Access, error::BoardError, grpc::Board};

pub const POST_KIND: &str = "POST";
pub const COMMENT_KIND: &str = "COMMENT";

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
    pub read: bool,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

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

const POST_SELECT: &str = "SELECT p.id, p.team_id, p.author_id, p.title, p.content, p.is_notice, p.comment_count, p.created_at, p.edited_at, \
    (SELECT 1 FROM post_read r WHERE r.post_id = p.id AND r.member_id = ?) AS is_read FROM post p";

/// Reasons of board reports, numbered as `moing.board.v1.ReportReason`.
fn reason_name(n: i32) -> Option<&'static str> {
    match n {
        1 => Some("SPAM"),
        3 => Some("INAPPROPRIATE"),
        4 => Some("ABUSE"),
        5 => Some("PRIVACY"),
        6 => Some("OTHER"),
        _ => None,
    }
}

fn reason_number(name: &str) -> i32 {
    (1..=6).find(|n| reason_name(*n) == Some(name)).unwrap_or(6)
}

fn moderation_pb(s: &shared::Standing) -> pb::Moderation {
    pb::Moderation {
        visibility: match s.visibility {
            Visibility::Visible => pb::ContentVisibility::Visible,
            Visibility::HiddenForMe => pb::ContentVisibility::HiddenForMe,
            Visibility::PendingReview => pb::ContentVisibility::PendingReview,
            Visibility::Removed => pb::ContentVisibility::Removed,
        } as i32,
        reported_by_me: s.reported_by_me,
        content_withheld: s.withheld,
        report_count: s.report_count as i32,
    }
}

/// Display data of authors for one page.
pub type Names = HashMap<Uuid, (String, String)>;

pub fn author_pb(id: Uuid, names: &Names, leader: Option<Uuid>) -> pb::Author {
    let (nickname, key) = names.get(&id).cloned().unwrap_or_default();
    pb::Author {
        member_id: id.to_string(),
        nickname,
        profile_image: (!key.is_empty()).then(|| ImageRef {
            key,
            url: String::new(),
        }),
        is_leader: leader == Some(id),
        is_active_member: names.contains_key(&id),
    }
}

/// Counts of unread notices and unread posts (others' live posts without my read mark).
pub async fn unread(
    conn: &mut MySqlConnection,
    team: Uuid,
    me: Uuid,
) -> Result<(i32, i32), sqlx::Error> {
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
    Ok((notices as i32, posts as i32))
}

impl Board {
    async fn post(&self, team: Uuid, id: Uuid, me: Uuid) -> Result<Post, BoardError> {
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

    /// A post as `me` sees it (body withheld when hidden for me or under review).
    pub async fn post_pb(
        &self,
        p: &Post,
        me: Uuid,
        access: &Access,
        names: &Names,
        leader: Option<Uuid>,
    ) -> Result<pb::Post, BoardError> {
        let s = shared::standing(
            &self.pool,
            POST_KIND,
            p.id,
            me,
            p.author_id == me || access.leader,
        )
        .await?;
        Ok(pb::Post {
            post_id: p.id.to_string(),
            team_id: p.team_id.to_string(),
            author: Some(author_pb(p.author_id, names, leader)),
            title: if s.withheld {
                String::new()
            } else {
                p.title.clone()
            },
            content: if s.withheld {
                String::new()
            } else {
                p.content.clone()
            },
            is_notice: p.is_notice,
            comment_count: p.comment_count,
            read_by_me: p.read || p.author_id == me,
            is_mine: p.author_id == me,
            can_edit: p.author_id == me && access.writable,
            can_delete: (p.author_id == me || access.leader) && access.writable,
            moderation: Some(moderation_pb(&s)),
            created_at: Some(timestamp(p.created_at)),
            edited_at: p.edited_at.map(timestamp),
        })
    }

    async fn names_for(&self, ids: &[Uuid]) -> Names {
        moing_common::display::names(&self.auth, ids).await
    }

    fn leader_of(access: &Access, me: Uuid) -> Option<Uuid> {
        access.leader.then_some(me)
    }

    pub async fn create_post(
        &self,
        me: Uuid,
        r: pb::CreatePostRequest,
    ) -> Result<pb::Post, BoardError> {
        moing_common::transaction!("board.create_post", Result<pb::Post, BoardError>, {
            let mut v = Validator::new();
            let team = v.id("team_id", &r.team_id).unwrap_or_default();
            let title = v.text("title", &r.title, 1, 30);
            let content = v.text("content", &r.content, 1, 2000);
            v.finish()?;
            let access = self.members.check(team, me).await?;
            if !access.writable {
                return Err(BoardError::ReadOnly);
            }
            if r.is_notice && !access.leader {
                return Err(BoardError::NoticeNeedsLeader);
            }
            let id = Uuid::now_v7();
            let now = moing_common::clock::now();
            let mut tx = self.pool.begin().await?;
            sqlx::query("INSERT INTO post (id, team_id, author_id, title, content, is_notice, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(id)
                .bind(team)
                .bind(me)
                .bind(&title)
                .bind(&content)
                .bind(r.is_notice)
                .bind(now.naive_utc())
                .execute(&mut *tx)
                .await?;
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team),
                    Some(me),
                    Payload::PostCreated(PostCreated {
                        post_id: id.to_string(),
                        team_name: access.team_name.clone(),
                        post_title: title,
                        is_notice: r.is_notice,
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            let p = self.post(team, id, me).await?;
            let names = self.names_for(&[me]).await;
            self.post_pb(&p, me, &access, &names, Self::leader_of(&access, me))
                .await

        })
    }

    pub async fn list_posts(
        &self,
        me: Uuid,
        r: pb::ListPostsRequest,
    ) -> Result<pb::ListPostsResponse, BoardError> {
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id).unwrap_or_default();
        v.finish()?;
        let access = self.members.check(team, me).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{POST_SELECT} WHERE p.team_id = ? AND p.deleted_at IS NULL AND (? = 0 OR p.is_notice = 1) \
             ORDER BY p.is_notice DESC, p.created_at DESC, p.id DESC"
        )))
        .bind(me)
        .bind(team)
        .bind(r.notices_only)
        .fetch_all(&self.pool)
        .await?;
        let posts: Vec<Post> = rows.iter().map(post_row).collect::<Result<_, _>>()?;
        let authors: Vec<Uuid> = posts.iter().map(|p| p.author_id).collect();
        let blocked = self.members.blocked_by(me, &authors).await?;
        let visible: Vec<Post> = posts
            .into_iter()
            .filter(|p| !blocked.contains(&p.author_id))
            .collect();
        let mut v = Validator::new();
        let (page, next) = v.page(&visible, r.page_size, &r.page_token);
        v.finish()?;
        let names = self
            .names_for(&page.iter().map(|p| p.author_id).collect::<Vec<_>>())
            .await;
        let mut out = Vec::with_capacity(page.len());
        for p in &page {
            out.push(self.post_pb(p, me, &access, &names, None).await?);
        }
        Ok(pb::ListPostsResponse {
            posts: out,
            next_page_token: next,
        })
    }

    fn ids(v: &mut Validator, team: &str, post: &str) -> (Uuid, Uuid) {
        (
            v.id("team_id", team).unwrap_or_default(),
            v.id("post_id", post).unwrap_or_default(),
        )
    }

    pub async fn get_post(&self, me: Uuid, team: &str, post: &str) -> Result<pb::Post, BoardError> {
        let mut v = Validator::new();
        let (team, id) = Self::ids(&mut v, team, post);
        v.finish()?;
        let access = self.members.check(team, me).await?;
        let p = self.post(team, id, me).await?;
        if !self
            .members
            .blocked_by(me, &[p.author_id])
            .await?
            .is_empty()
        {
            return Err(BoardError::PostNotFound);
        }
        let names = self.names_for(&[p.author_id]).await;
        self.post_pb(&p, me, &access, &names, None).await
    }

    pub async fn update_post(
        &self,
        me: Uuid,
        r: pb::UpdatePostRequest,
    ) -> Result<pb::Post, BoardError> {
        moing_common::transaction!("board.update_post", Result<pb::Post, BoardError>, {
            let mut v = Validator::new();
            let (team, id) = Self::ids(&mut v, &r.team_id, &r.post_id);
            let body = r.post.clone().unwrap_or_default();
            let paths = r.update_mask.clone().map(|m| m.paths).unwrap_or_default();
            v.check(
                !paths.is_empty(),
                "update_mask",
                "name the fields to change",
            );
            let mut title = None;
            let mut content = None;
            let mut notice = None;
            for path in &paths {
                match path.as_str() {
                    "title" => title = Some(v.text("post.title", &body.title, 1, 30)),
                    "content" => content = Some(v.text("post.content", &body.content, 1, 2000)),
                    "is_notice" => notice = Some(body.is_notice),
                    other => v.violation("update_mask", format!("`{other}` cannot be changed")),
                }
            }
            v.finish()?;
            let access = self.members.check(team, me).await?;
            if !access.writable {
                return Err(BoardError::ReadOnly);
            }
            let p = self.post(team, id, me).await?;
            if p.author_id != me {
                return Err(BoardError::NotAuthor);
            }
            if notice.is_some_and(|n| n != p.is_notice) && !access.leader {
                return Err(BoardError::NoticeNeedsLeader);
            }
            let now = moing_common::clock::now();
            let mut tx = self.pool.begin().await?;
            sqlx::query("UPDATE post SET title = COALESCE(?, title), content = COALESCE(?, content), is_notice = COALESCE(?, is_notice), edited_at = ? WHERE id = ? AND team_id = ? AND deleted_at IS NULL")
                .bind(&title)
                .bind(&content)
                .bind(notice)
                .bind(now.naive_utc())
                .bind(id)
                .bind(team)
                .execute(&mut *tx)
                .await?;
            let is_notice = notice.unwrap_or(p.is_notice);
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team),
                    Some(me),
                    Payload::PostUpdated(PostUpdated {
                        post_id: id.to_string(),
                        author_member_id: me.to_string(),
                        post_title: title.clone().unwrap_or(p.title.clone()),
                        is_notice,
                        became_notice: is_notice && !p.is_notice,
                        updated_fields: paths.clone(),
                        team_name: access.team_name.clone(),
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            let p = self.post(team, id, me).await?;
            let names = self.names_for(&[me]).await;
            self.post_pb(&p, me, &access, &names, Self::leader_of(&access, me))
                .await

        })
    }

    pub async fn delete_post(&self, me: Uuid, team: &str, post: &str) -> Result<(), BoardError> {
        moing_common::transaction!("board.delete_post", Result<(), BoardError>, {
            let mut v = Validator::new();
            let (team, id) = Self::ids(&mut v, team, post);
            v.finish()?;
            let access = self.members.check(team, me).await?;
            if !access.writable {
                return Err(BoardError::ReadOnly);
            }
            let p = self.post(team, id, me).await?;
            if p.author_id != me && !access.leader {
                return Err(BoardError::NotAuthorOrLeader);
            }
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query(
                "UPDATE post SET deleted_at = ? WHERE id = ? AND team_id = ? AND deleted_at IS NULL",
            )
            .bind(moing_common::clock::now().naive_utc())
            .bind(id)
            .bind(team)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                self.outbox
                    .enqueue(
                        &mut tx,
                        Some(team),
                        Some(me),
                        Payload::PostDeleted(PostDeleted {
                            post_id: id.to_string(),
                            author_member_id: p.author_id.to_string(),
                            by_moderator: p.author_id != me,
                            was_notice: p.is_notice,
                        }),
                    )
                    .await?;
            }
            tx.commit().await?;
            self.outbox.wake();
            Ok(())

        })
    }

    pub async fn mark_read(
        &self,
        me: Uuid,
        team: &str,
        post: &str,
    ) -> Result<(i32, i32), BoardError> {
        let mut v = Validator::new();
        let (team, id) = Self::ids(&mut v, team, post);
        v.finish()?;
        self.members.check(team, me).await?;
        self.post(team, id, me).await?;
        let mut conn = self.pool.acquire().await?;
        sqlx::query("INSERT IGNORE INTO post_read (post_id, member_id, team_id, read_at) VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(me)
            .bind(team)
            .bind(moing_common::clock::now().naive_utc())
            .execute(&mut *conn)
            .await?;
        Ok(unread(&mut conn, team, me).await?)
    }

    pub async fn unread_counts(&self, me: Uuid, team: &str) -> Result<(i32, i32), BoardError> {
        let mut v = Validator::new();
        let team = v.id("team_id", team).unwrap_or_default();
        v.finish()?;
        self.members.check(team, me).await?;
        let mut conn = self.pool.acquire().await?;
        Ok(unread(&mut conn, team, me).await?)
    }

    async fn comment_pb(
        &self,
        row: &MySqlRow,
        me: Uuid,
        access: &Access,
        names: &Names,
    ) -> Result<pb::PostComment, BoardError> {
        let id: Uuid = row.try_get("id")?;
        let author: Uuid = row.try_get("author_id")?;
        let post: Uuid = row.try_get("post_id")?;
        let content: String = row.try_get("content")?;
        let created: NaiveDateTime = row.try_get("created_at")?;
        let s = shared::standing(
            &self.pool,
            COMMENT_KIND,
            id,
            me,
            author == me || access.leader,
        )
        .await?;
        Ok(pb::PostComment {
            comment_id: id.to_string(),
            post_id: post.to_string(),
            author: Some(author_pb(author, names, None)),
            content: if s.withheld { String::new() } else { content },
            is_mine: author == me,
            can_delete: (author == me || access.leader) && access.writable,
            moderation: Some(moderation_pb(&s)),
            created_at: Some(timestamp(utc(created))),
        })
    }

    pub async fn create_comment(
        &self,
        me: Uuid,
        r: pb::CreatePostCommentRequest,
    ) -> Result<pb::PostComment, BoardError> {
        moing_common::transaction!("board.create_comment", Result<pb::PostComment, BoardError>, {
            let mut v = Validator::new();
            let (team, post) = Self::ids(&mut v, &r.team_id, &r.post_id);
            let content = v.text("content", &r.content, 1, 300);
            v.finish()?;
            let access = self.members.check(team, me).await?;
            if !access.writable {
                return Err(BoardError::ReadOnly);
            }
            let p = self.post(team, post, me).await?;
            let id = Uuid::now_v7();
            let mut tx = self.pool.begin().await?;
            sqlx::query("INSERT INTO post_comment (id, team_id, post_id, author_id, content, created_at) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(id)
                .bind(team)
                .bind(post)
                .bind(me)
                .bind(&content)
                .bind(moing_common::clock::now().naive_utc())
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE post SET comment_count = comment_count + 1 WHERE id = ?")
                .bind(post)
                .execute(&mut *tx)
                .await?;
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team),
                    Some(me),
                    Payload::PostCommentCreated(PostCommentCreated {
                        comment_id: id.to_string(),
                        post_id: post.to_string(),
                        post_author_member_id: p.author_id.to_string(),
                        post_title: p.title.clone(),
                        content_excerpt: content.chars().take(40).collect(),
                        team_name: access.team_name.clone(),
                        post_is_notice: p.is_notice,
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            let row = sqlx::query("SELECT * FROM post_comment WHERE id = ?")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
            let names = self.names_for(&[me]).await;
            self.comment_pb(&row, me, &access, &names).await

        })
    }

    pub async fn list_comments(
        &self,
        me: Uuid,
        r: pb::ListPostCommentsRequest,
    ) -> Result<pb::ListPostCommentsResponse, BoardError> {
        let mut v = Validator::new();
        let (team, post) = Self::ids(&mut v, &r.team_id, &r.post_id);
        v.finish()?;
        let access = self.members.check(team, me).await?;
        self.post(team, post, me).await?;
        let rows = sqlx::query("SELECT * FROM post_comment WHERE post_id = ? AND team_id = ? AND deleted_at IS NULL ORDER BY created_at, id")
            .bind(post)
            .bind(team)
            .fetch_all(&self.pool)
            .await?;
        let authors: Vec<Uuid> = rows
            .iter()
            .map(|r| r.try_get("author_id"))
            .collect::<Result<_, _>>()?;
        let blocked = self.members.blocked_by(me, &authors).await?;
        let visible: Vec<usize> = (0..rows.len())
            .filter(|i| !blocked.contains(&authors[*i]))
            .collect();
        let mut v = Validator::new();
        let (page, next) = v.page(&visible, r.page_size, &r.page_token);
        v.finish()?;
        let names = self
            .names_for(&page.iter().map(|i| authors[*i]).collect::<Vec<_>>())
            .await;
        let mut out = Vec::with_capacity(page.len());
        for i in page {
            out.push(self.comment_pb(&rows[i], me, &access, &names).await?);
        }
        Ok(pb::ListPostCommentsResponse {
            comments: out,
            next_page_token: next,
        })
    }

    pub async fn delete_comment(
        &self,
        me: Uuid,
        r: pb::DeletePostCommentRequest,
    ) -> Result<(), BoardError> {
        moing_common::transaction!("board.delete_comment", Result<(), BoardError>, {
            let mut v = Validator::new();
            let (team, post) = Self::ids(&mut v, &r.team_id, &r.post_id);
            let id = v.id("comment_id", &r.comment_id).unwrap_or_default();
            v.finish()?;
            let access = self.members.check(team, me).await?;
            if !access.writable {
                return Err(BoardError::ReadOnly);
            }
            let author: Uuid = sqlx::query_scalar("SELECT author_id FROM post_comment WHERE id = ? AND post_id = ? AND team_id = ? AND deleted_at IS NULL")
                .bind(id)
                .bind(post)
                .bind(team)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(BoardError::CommentNotFound)?;
            if author != me && !access.leader {
                return Err(BoardError::NotAuthorOrLeader);
            }
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query(
                "UPDATE post_comment SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
            )
            .bind(moing_common::clock::now().naive_utc())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                sqlx::query("UPDATE post SET comment_count = comment_count - 1 WHERE id = ? AND comment_count > 0")
                    .bind(post)
                    .execute(&mut *tx)
                    .await?;
                self.outbox
                    .enqueue(
                        &mut tx,
                        Some(team),
                        Some(me),
                        Payload::PostCommentDeleted(PostCommentDeleted {
                            comment_id: id.to_string(),
                            post_id: post.to_string(),
                            author_member_id: author.to_string(),
                            by_moderator: author != me,
                        }),
                    )
                    .await?;
            }
            tx.commit().await?;
            self.outbox.wake();
            Ok(())

        })
    }

    /// The post, author and post title of a reportable item of `team` (a post or
    /// a comment; deleted items included, as moderation outlives deletion).
    async fn reported_item(
        &self,
        kind: &str,
        id: Uuid,
        team: Uuid,
    ) -> Result<Option<(Uuid, Uuid, String)>, BoardError> {
        let sql = if kind == POST_KIND {
            "SELECT p.id AS post_id, p.author_id, p.title FROM post p WHERE p.id = ? AND p.team_id = ?"
        } else {
            "SELECT c.post_id, c.author_id, p.title FROM post_comment c JOIN post p ON p.id = c.post_id WHERE c.id = ? AND c.team_id = ?"
        };
        let row = sqlx::query(sql)
            .bind(id)
            .bind(team)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((
                r.try_get("post_id")?,
                r.try_get("author_id")?,
                r.try_get("title")?,
            )),
            None => None,
        })
    }

    /// Reports a post (comment None) or a comment; returns the reporter's view.
    pub async fn report(
        &self,
        me: Uuid,
        team: &str,
        post: &str,
        comment: Option<&str>,
        reason: i32,
        text: &str,
    ) -> Result<pb::Moderation, BoardError> {
        moing_common::transaction!("board.report", Result<pb::Moderation, BoardError>, {
            let mut v = Validator::new();
            let (team, post) = Self::ids(&mut v, team, post);
            let comment = comment.map(|c| v.id("comment_id", c).unwrap_or_default());
            let text = v.text("text", text, 0, 300);
            let reason_str = reason_name(reason);
            if reason_str.is_none() {
                v.violation("reason", "choose a report reason");
            }
            v.finish()?;
            let reason_str = reason_str.unwrap_or("OTHER");
            let access = self.members.check(team, me).await?;
            let p = self.post(team, post, me).await?;
            let (kind, kind_pb, id, author) = match comment {
                None => (POST_KIND, 1, post, p.author_id),
                Some(c) => {
                    let author: Uuid = sqlx::query_scalar("SELECT author_id FROM post_comment WHERE id = ? AND post_id = ? AND deleted_at IS NULL")
                        .bind(c)
                        .bind(post)
                        .fetch_optional(&self.pool)
                        .await?
                        .ok_or(BoardError::CommentNotFound)?;
                    (COMMENT_KIND, 2, c, author)
                }
            };
            if author == me {
                return Err(BoardError::CannotReportOwn);
            }
            let mut tx = self.pool.begin().await?;
            let (count, hidden) =
                match shared::file(&mut tx, kind, id, team, me, reason_str, &text, moing_common::clock::now()).await {
                    Err(ReportError::AlreadyReported) => return Err(BoardError::AlreadyReported),
                    Err(ReportError::Db(e)) => return Err(e.into()),
                    Ok(filed) => filed,
                };
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team),
                    Some(me),
                    Payload::BoardContentReported(BoardContentReported {
                        content_kind: kind_pb,
                        content_id: id.to_string(),
                        post_id: post.to_string(),
                        content_author_member_id: author.to_string(),
                        reason,
                        report_count: count as i32,
                    }),
                )
                .await?;
            if hidden {
                self.outbox
                    .enqueue(
                        &mut tx,
                        Some(team),
                        None,
                        Payload::BoardContentHidden(BoardContentHidden {
                            content_kind: kind_pb,
                            content_id: id.to_string(),
                            post_id: post.to_string(),
                            content_author_member_id: author.to_string(),
                            report_count: count as i32,
                            team_name: access.team_name.clone(),
                            post_title: p.title.clone(),
                        }),
                    )
                    .await?;
            }
            tx.commit().await?;
            self.outbox.wake();
            let s = shared::standing(&self.pool, kind, id, me, access.leader).await?;
            Ok(moderation_pb(&s))

        })
    }

    pub async fn list_reported(
        &self,
        me: Uuid,
        r: pb::ListReportedContentRequest,
    ) -> Result<pb::ListReportedContentResponse, BoardError> {
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id).unwrap_or_default();
        v.check(
            pb::ReviewState::try_from(r.state).is_ok(),
            "state",
            "must be a ReviewState (PENDING, RESTORED or REMOVED, or unset for all)",
        );
        v.finish()?;
        let access = self.members.check(team, me).await?;
        let state = match pb::ReviewState::try_from(r.state) {
            Ok(pb::ReviewState::Pending) => Some("PENDING"),
            Ok(pb::ReviewState::Restored) => Some("RESTORED"),
            Ok(pb::ReviewState::Removed) => Some("REMOVED"),
            _ => None,
        };
        let mut items = Vec::new();
        for m in shared::moderated(&self.pool, team, state).await? {
            let Some((post_id, author, title)) =
                self.reported_item(&m.kind, m.content_id, team).await?
            else {
                continue;
            };
            // The leader sees the queue; authors see reports on their own content.
            if !access.leader && author != me {
                continue;
            }
            items.push(pb::ReportedContent {
                kind: if m.kind == POST_KIND { 1 } else { 2 },
                content_id: m.content_id.to_string(),
                post_id: post_id.to_string(),
                post_title: title,
                content: None,
                report_count: m.reasons.iter().map(|(_, n)| *n as i32).sum(),
                reasons: m
                    .reasons
                    .iter()
                    .map(|(name, n)| pb::ReportReasonCount {
                        reason: reason_number(name),
                        count: *n as i32,
                    })
                    .collect(),
                state: match m.state.as_str() {
                    "PENDING" => pb::ReviewState::Pending,
                    "RESTORED" => pb::ReviewState::Restored,
                    _ => pb::ReviewState::Removed,
                } as i32,
                hidden_at: Some(timestamp(m.hidden_at)),
                reviewed_at: m.reviewed_at.map(timestamp),
            });
        }
        let mut v = Validator::new();
        let (page, next) = v.page(&items, r.page_size, &r.page_token);
        v.finish()?;
        Ok(pb::ListReportedContentResponse {
            items: page,
            next_page_token: next,
        })
    }

    pub async fn review(
        &self,
        me: Uuid,
        r: pb::ReviewReportedContentRequest,
    ) -> Result<pb::ReportedContent, BoardError> {
        moing_common::transaction!("board.review", Result<pb::ReportedContent, BoardError>, {
            let mut v = Validator::new();
            let team = v.id("team_id", &r.team_id).unwrap_or_default();
            let id = v.id("content_id", &r.content_id).unwrap_or_default();
            let kind = match r.kind {
                1 => POST_KIND,
                2 => COMMENT_KIND,
                _ => {
                    v.violation("kind", "POST or POST_COMMENT");
                    POST_KIND
                }
            };
            let remove = match r.decision {
                1 => false,
                2 => true,
                _ => {
                    v.violation("decision", "RESTORE or REMOVE");
                    false
                }
            };
            v.finish()?;
            let access = self.members.check(team, me).await?;
            let (post, author, _) =
                self.reported_item(kind, id, team)
                    .await?
                    .ok_or(if kind == POST_KIND {
                        BoardError::PostNotFound
                    } else {
                        BoardError::CommentNotFound
                    })?;
            // The author may ask for a review; the leader decides (PRODUCT.md §6).
            if !access.leader {
                return Err(BoardError::ReviewNeedsLeader);
            }
            if author == me {
                return Err(BoardError::CannotReviewOwn);
            }
            let mut tx = self.pool.begin().await?;
            if !shared::review(&mut tx, kind, id, team, remove, moing_common::clock::now()).await? {
                return Err(BoardError::ReviewNotPending);
            }
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team),
                    Some(me),
                    Payload::BoardContentReviewed(BoardContentReviewed {
                        content_kind: r.kind,
                        content_id: id.to_string(),
                        post_id: post.to_string(),
                        content_author_member_id: author.to_string(),
                        decision: r.decision,
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            let s = shared::standing(&self.pool, kind, id, me, true).await?;
            Ok(pb::ReportedContent {
                kind: r.kind,
                content_id: id.to_string(),
                post_id: post.to_string(),
                state: if remove {
                    pb::ReviewState::Removed
                } else {
                    pb::ReviewState::Restored
                } as i32,
                report_count: s.report_count as i32,
                hidden_at: s.hidden_at.map(timestamp),
                reviewed_at: s.reviewed_at.map(timestamp),
                ..Default::default()
            })

        })
    }
}
