//! SQL of the mission service: one [`Store`] (the pool and the outbox) with
//! methods per resource in `store/`. Returns domain types; sqlx errors become
//! `MissionError` here (duplicate keys become the matching proof errors). Event
//! payloads are built here, as they are written in the same transaction.

pub mod aggregates;
pub mod encouragement;
pub mod export;
pub mod jobs;
pub mod missions;
pub mod pokes;
pub mod proofs;
pub mod reports;

use chrono::{DateTime, NaiveDateTime, Utc};
use moing_common::outbox::Outbox;
use sqlx::{MySqlPool, Row, mysql::MySqlRow};

use crate::{
    domain::{EndReason, Kind, Mission, Proof, Way, progress::ProofRow},
    error::MissionError,
};

pub use proofs::TEAM_ROWS_SQL;

#[derive(Debug, Clone)]
pub struct Store {
    pool: MySqlPool,
    outbox: Outbox,
}

impl Store {
    pub fn new(pool: MySqlPool, outbox: Outbox) -> Self {
        Self { pool, outbox }
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

fn mission(r: &MySqlRow) -> Result<Mission, MissionError> {
    let kind: String = r.try_get("kind")?;
    let way: String = r.try_get("way")?;
    let state: String = r.try_get("state")?;
    let deadline: Option<NaiveDateTime> = r.try_get("deadline")?;
    let ended_at: Option<NaiveDateTime> = r.try_get("ended_at")?;
    let end_reason: Option<String> = r.try_get("end_reason")?;
    Ok(Mission {
        id: r.try_get("id")?,
        team_id: r.try_get("team_id")?,
        title: r.try_get("title")?,
        content: r.try_get("content")?,
        rule: r.try_get("rule")?,
        kind: Kind::parse(&kind),
        way: Way::parse(&way),
        deadline: deadline.map(utc),
        times_per_week: r.try_get("times_per_week")?,
        ended: state == "ENDED",
        end_reason: end_reason.as_deref().and_then(EndReason::parse),
        ended_at: ended_at.map(utc),
        maker_id: r.try_get("maker_id")?,
        time_zone: r.try_get("time_zone")?,
        created_at: utc(r.try_get("created_at")?),
        updated_at: utc(r.try_get("updated_at")?),
        targets: Vec::new(),
    })
}

const PROOF_COLUMNS: &str = "id, team_id, mission_id, member_id, status, way, body_text, link_url, photo_key, skip_reason, caption, day, created_at";

fn proof(r: &MySqlRow) -> Result<Proof, MissionError> {
    let status: String = r.try_get("status")?;
    let way: String = r.try_get("way")?;
    Ok(Proof {
        id: r.try_get("id")?,
        team_id: r.try_get("team_id")?,
        mission_id: r.try_get("mission_id")?,
        member_id: r.try_get("member_id")?,
        skipped: status == "SKIPPED",
        way: Way::parse(&way),
        text: r.try_get("body_text")?,
        link_url: r.try_get("link_url")?,
        photo_key: r.try_get("photo_key")?,
        skip_reason: r.try_get("skip_reason")?,
        caption: r.try_get("caption")?,
        day: r.try_get("day")?,
        created_at: utc(r.try_get("created_at")?),
    })
}

fn progress_row(r: &MySqlRow) -> Result<ProofRow, MissionError> {
    let status: String = r.try_get("status")?;
    Ok(ProofRow {
        id: r.try_get("id")?,
        mission: r.try_get("mission_id")?,
        member: r.try_get("member_id")?,
        day: r.try_get("day")?,
        done: status == "DONE",
        at: utc(r.try_get("created_at")?),
    })
}
