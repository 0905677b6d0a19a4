//! All SQL of the board service: one `Store` (the pool and the outbox) with its
//! methods per resource in `store/<resource>.rs`. Writes and the events they
//! raise go into the outbox in one transaction; sqlx errors become
//! `BoardError` here.

mod comments;
mod export;
mod posts;
mod reports;
mod votes;

use chrono::{DateTime, NaiveDateTime, Utc};
use moing_common::outbox::Outbox;
use sqlx::MySqlPool;

#[derive(Debug, Clone)]
pub struct Store {
    pub pool: MySqlPool,
    pub outbox: Outbox,
}

impl Store {
    pub fn new(pool: MySqlPool, outbox: Outbox) -> Self {
        Self { pool, outbox }
    }

    /// This service's version of a team: its latest event
    /// (`moing_common::outbox::team_version`).
    pub async fn team_version(&self, team: uuid::Uuid) -> Result<u64, crate::error::BoardError> {
        Ok(moing_common::outbox::team_version(&self.pool, team).await?)
    }
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// `?, ?, …` for an `IN` list of `n` values.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}
