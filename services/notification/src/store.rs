//! All SQL of the notification service, behind one [`Store`] (the pool) with
//! methods per resource: `devices`, `settings`, `inbox` (and the fan-out that
//! writes inbox rows and push rows in the caller's transaction), `pushes`
//! (the dispatcher's claims and outcomes), `reminders`, `teams` (the
//! event-fed team copy) and `broadcasts` (with delivery statistics).
//! Free functions taking a connection run in the caller's transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::{MySql, MySqlPool, Transaction, pool::PoolConnection};

pub mod broadcasts;
pub mod devices;
pub mod export;
pub mod inbox;
pub mod pushes;
pub mod reminders;
pub mod settings;
pub mod teams;

pub use devices::{delete_session_device, erase_member, token_hash};
pub use inbox::{Fanout, fan_out};
pub use settings::settings_many;

/// IN-lists are cut to this many ids.
const CHUNK: usize = 500;

pub fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// The notification database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: MySqlPool,
}

impl Store {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// A transaction for the free functions of the store.
    pub async fn begin(&self) -> Result<Transaction<'static, MySql>, sqlx::Error> {
        self.pool.begin().await
    }

    /// A connection for the free functions of the store.
    pub async fn acquire(&self) -> Result<PoolConnection<MySql>, sqlx::Error> {
        self.pool.acquire().await
    }
}
