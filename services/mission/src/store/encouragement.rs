//! Hearts, stickers and comments on proofs (SQL + events). One heart and one
//! sticker of each kind per member per proof are primary keys; never on one's
//! own proof; every reaction notifies the proof's author through the outbox.

use chrono::{DateTime, NaiveDateTime, Utc};
use moing_proto::moing::{
    events::v1::{HeartAdded, ProofCommentCreated, StickerAdded, event::Payload},
    mission::v1 as pb,
};
use sqlx::Row;
use uuid::Uuid;

use super::Store;
use crate::{
    domain::{Comment, Mission, Proof, Reactions, Sticker},
    error::MissionError,
};

impl Store {
    pub async fn reactions(&self, proof: Uuid, me: Uuid) -> Result<Reactions, MissionError> {
        let hearts: Vec<Uuid> =
            sqlx::query_scalar("SELECT member_id FROM proof_heart WHERE proof_id = ?")
                .bind(proof)
                .fetch_all(&self.pool)
                .await?;
        let stickers = sqlx::query("SELECT kind, member_id FROM proof_sticker WHERE proof_id = ?")
            .bind(proof)
            .fetch_all(&self.pool)
            .await?;
        let comments: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM proof_comment WHERE proof_id = ? AND deleted_at IS NULL",
        )
        .bind(proof)
        .fetch_one(&self.pool)
        .await?;
        let mut counts = Vec::new();
        for sticker in Sticker::ALL {
            let mut n = 0;
            let mut mine = false;
            for row in &stickers {
                let k: String = row.try_get("kind")?;
                if k == sticker.as_str() {
                    n += 1;
                    mine |= row.try_get::<Uuid, _>("member_id")? == me;
                }
            }
            if n > 0 {
                counts.push((sticker, n, mine));
            }
        }
        Ok(Reactions {
            hearts: hearts.len() as i32,
            hearted_by_me: hearts.contains(&me),
            stickers: counts,
            comments: comments as i32,
        })
    }

    /// Adds a heart (idempotent); the author hears about the first one.
    pub async fn heart(
        &self,
        m: &Mission,
        team_name: &str,
        p: &Proof,
        me: Uuid,
    ) -> Result<(), MissionError> {
        moing_common::transaction!("mission.heart", Result<(), MissionError>, {
            let mut tx = self.pool.begin().await?;
            let added = sqlx::query("INSERT IGNORE INTO proof_heart (proof_id, member_id, team_id, created_at) VALUES (?, ?, ?, ?)")
                .bind(p.id)
                .bind(me)
                .bind(p.team_id)
                .bind(moing_common::clock::now().naive_utc())
                .execute(&mut *tx)
                .await?;
            if added.rows_affected() == 1 {
                let event = Payload::HeartAdded(HeartAdded {
                    proof_id: p.id.to_string(),
                    mission_id: m.id.to_string(),
                    mission_title: m.title.clone(),
                    team_name: team_name.to_owned(),
                    kind: pb::MissionKind::from(m.kind) as i32,
                    proof_author_member_id: p.member_id.to_string(),
                });
                self.outbox
                    .enqueue(&mut tx, Some(p.team_id), Some(me), event)
                    .await?;
            }
            tx.commit().await?;
            self.outbox.wake();
            Ok(())
        })
    }

    pub async fn unheart(&self, p: &Proof, me: Uuid) -> Result<(), MissionError> {
        sqlx::query("DELETE FROM proof_heart WHERE proof_id = ? AND member_id = ?")
            .bind(p.id)
            .bind(me)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn sticker(
        &self,
        m: &Mission,
        team_name: &str,
        p: &Proof,
        me: Uuid,
        sticker: Sticker,
    ) -> Result<(), MissionError> {
        moing_common::transaction!("mission.sticker", Result<(), MissionError>, {
            let name = sticker.as_str();
            let mut tx = self.pool.begin().await?;
            let added = sqlx::query("INSERT IGNORE INTO proof_sticker (proof_id, member_id, kind, team_id, created_at) VALUES (?, ?, ?, ?, ?)")
                .bind(p.id)
                .bind(me)
                .bind(name)
                .bind(p.team_id)
                .bind(moing_common::clock::now().naive_utc())
                .execute(&mut *tx)
                .await?;
            if added.rows_affected() == 1 {
                let event = Payload::StickerAdded(StickerAdded {
                    proof_id: p.id.to_string(),
                    mission_id: m.id.to_string(),
                    mission_title: m.title.clone(),
                    team_name: team_name.to_owned(),
                    kind: pb::MissionKind::from(m.kind) as i32,
                    proof_author_member_id: p.member_id.to_string(),
                    sticker: pb::StickerKind::from(sticker) as i32,
                });
                self.outbox
                    .enqueue(&mut tx, Some(p.team_id), Some(me), event)
                    .await?;
            }
            tx.commit().await?;
            self.outbox.wake();
            Ok(())
        })
    }

    pub async fn unsticker(
        &self,
        p: &Proof,
        me: Uuid,
        sticker: Sticker,
    ) -> Result<(), MissionError> {
        sqlx::query("DELETE FROM proof_sticker WHERE proof_id = ? AND member_id = ? AND kind = ?")
            .bind(p.id)
            .bind(me)
            .bind(sticker.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn comment(
        &self,
        m: &Mission,
        team_name: &str,
        p: &Proof,
        me: Uuid,
        content: &str,
    ) -> Result<Comment, MissionError> {
        moing_common::transaction!("mission.comment", Result<Comment, MissionError>, {
            let id = Uuid::now_v7();
            let now = moing_common::clock::now();
            let mut tx = self.pool.begin().await?;
            sqlx::query("INSERT INTO proof_comment (id, team_id, proof_id, member_id, content, created_at) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(id)
                .bind(p.team_id)
                .bind(p.id)
                .bind(me)
                .bind(content)
                .bind(now.naive_utc())
                .execute(&mut *tx)
                .await?;
            let event = Payload::ProofCommentCreated(ProofCommentCreated {
                comment_id: id.to_string(),
                proof_id: p.id.to_string(),
                mission_id: m.id.to_string(),
                mission_title: m.title.clone(),
                team_name: team_name.to_owned(),
                kind: pb::MissionKind::from(m.kind) as i32,
                proof_author_member_id: p.member_id.to_string(),
                content: content.to_owned(),
            });
            self.outbox
                .enqueue(&mut tx, Some(p.team_id), Some(me), event)
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(Comment {
                id,
                proof_id: p.id,
                member_id: me,
                content: content.to_owned(),
                created_at: now,
            })
        })
    }

    pub async fn comments(&self, proof: Uuid) -> Result<Vec<Comment>, MissionError> {
        let rows = sqlx::query("SELECT id, proof_id, member_id, content, created_at FROM proof_comment WHERE proof_id = ? AND deleted_at IS NULL ORDER BY created_at, id")
            .bind(proof)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let at: NaiveDateTime = r.try_get("created_at")?;
                Ok(Comment {
                    id: r.try_get("id")?,
                    proof_id: r.try_get("proof_id")?,
                    member_id: r.try_get("member_id")?,
                    content: r.try_get("content")?,
                    created_at: DateTime::from_naive_utc_and_offset(at, Utc),
                })
            })
            .collect()
    }

    /// Soft-deletes a comment; returns the remaining count.
    pub async fn delete_comment(&self, proof: Uuid, id: Uuid) -> Result<i32, MissionError> {
        sqlx::query("UPDATE proof_comment SET deleted_at = ? WHERE proof_id = ? AND id = ? AND deleted_at IS NULL")
            .bind(moing_common::clock::now().naive_utc())
            .bind(proof)
            .bind(id)
            .execute(&self.pool)
            .await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM proof_comment WHERE proof_id = ? AND deleted_at IS NULL",
        )
        .bind(proof)
        .fetch_one(&self.pool)
        .await?;
        Ok(n as i32)
    }
}
