//! SQL of the auth service: one `Store` (the pool and the outbox) with the
//! member lookups here and the writes per resource in `store/` (accounts:
//! sign-in, sign-up, withdrawal; profiles). Returns domain types; sqlx errors
//! become `AuthError` here. Event payloads are built here because they are
//! written in the same transaction.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use moing_common::outbox::Outbox;
use moing_proto::moing::events::v1::event::Payload;
use sqlx::{MySqlConnection, MySqlPool, Row, mysql::MySqlRow};
use uuid::Uuid;

use crate::{
    domain::{Gender, Member, Provider, Status},
    error::AuthError,
};

mod accounts;
mod profiles;

const COLUMNS: &str = "id, status, nickname, introduction, image_key, gender, birth_date, email, \
                       provider, created_at, signed_up_at";

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

fn member(row: &MySqlRow) -> Result<Member, AuthError> {
    let status: String = row.try_get("status")?;
    let provider: String = row.try_get("provider")?;
    let gender: Option<String> = row.try_get("gender")?;
    let created: NaiveDateTime = row.try_get("created_at")?;
    let signed_up: Option<NaiveDateTime> = row.try_get("signed_up_at")?;
    Ok(Member {
        id: row.try_get("id")?,
        status: Status::parse(&status)
            .ok_or_else(|| anyhow::anyhow!("unknown member status {status}"))?,
        nickname: row.try_get("nickname")?,
        introduction: row.try_get("introduction")?,
        image_key: row.try_get("image_key")?,
        gender: gender.as_deref().and_then(Gender::parse),
        birth_date: row.try_get::<Option<NaiveDate>, _>("birth_date")?,
        email: row.try_get("email")?,
        provider: Provider::parse(&provider)
            .ok_or_else(|| anyhow::anyhow!("unknown provider {provider}"))?,
        created_at: utc(created),
        signed_up_at: signed_up.map(utc),
    })
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: MySqlPool,
    outbox: Outbox,
}

impl Store {
    pub fn new(pool: MySqlPool, outbox: Outbox) -> Self {
        Self { pool, outbox }
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    async fn by_id(conn: &mut MySqlConnection, id: Uuid) -> Result<Option<Member>, AuthError> {
        let sql = format!("SELECT {COLUMNS} FROM member WHERE id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(member).transpose()
    }

    pub async fn get(&self, id: Uuid) -> Result<Option<Member>, AuthError> {
        let mut conn = self.pool.acquire().await?;
        Self::by_id(&mut conn, id).await
    }

    pub async fn batch_get(&self, ids: &[Uuid]) -> Result<Vec<Member>, AuthError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; ids.len()].join(",");
        let sql = format!("SELECT {COLUMNS} FROM member WHERE id IN ({placeholders})");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(&self.pool).await?.iter().map(member).collect()
    }

    /// Emits an event that has no row change of its own (session revocations).
    pub async fn emit(&self, actor: Uuid, payload: Payload) -> Result<(), AuthError> {
        moing_common::transaction!("auth.emit", Result<(), AuthError>, {
            let mut tx = self.pool.begin().await?;
            self.outbox
                .enqueue(&mut tx, None, Some(actor), payload.clone())
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(())

        })
    }
}
