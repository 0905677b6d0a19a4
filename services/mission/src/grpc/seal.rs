//! Sealing the goal board's closed weeks (store/aggregates.rs): counted once
//! by the one rule when a week turns, kept, and read back by GetTeamProgress.
//! The rebuild command (`moing-mission rebuild-progress [TEAM_ID]`) clears the
//! kept counts and seals every team again from the proof rows.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::Missions;
use crate::{
    access::spans,
    domain::{
        Kind,
        progress::{MissionSpan, Span, seal_counts},
        tz, week_start,
    },
    error::MissionError,
    store::aggregates::NewSeal,
};

impl Missions {
    /// Counts and keeps a team's closed weeks up to the Monday of `today`'s
    /// week. Nothing is stored when someone sealed or unsealed meanwhile (the
    /// caller reads the seal again). A seal from a later week than today's (a
    /// clock moved back: tests and drills) is cleared first.
    pub(super) async fn reseal(
        &self,
        team: Uuid,
        missions: &[MissionSpan],
        roster: &HashMap<Uuid, Vec<Span>>,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(), MissionError> {
        let until = week_start(today);
        let mut seal = self.store.seal(team).await?;
        if seal.until.is_some_and(|u| u > until) {
            self.store.unseal(Some(team)).await?;
            seal = self.store.seal(team).await?;
        }
        if seal.until == Some(until) {
            return Ok(());
        }
        let origin = missions.iter().map(|m| m.start).min().unwrap_or(until);
        let from = seal.until.unwrap_or(week_start(origin)).min(until);
        let mut new = NewSeal::default();
        if from < until {
            let last = until.pred_opt().unwrap_or(until);
            let mut rows = self.store.team_rows(team, from, last).await?;
            let once: Vec<Uuid> = missions
                .iter()
                .filter(|m| m.kind == Kind::Once && m.start < from)
                .filter(|m| m.closed_on.is_none_or(|c| c >= from))
                .map(|m| m.id)
                .collect();
            rows.extend(self.store.rows_before(team, &once, from).await?);
            let (days, per_mission) = seal_counts(missions, roster, &rows, today, (from, until));
            new = NewSeal {
                days,
                missions: per_mission,
            };
        }
        self.store.store_seal(team, seal, until, &new, now).await?;
        Ok(())
    }

    /// Seals one team now (the rebuild command): its summary from moim, its
    /// missions, today in its zone.
    pub async fn seal_team(&self, team: Uuid) -> Result<(), MissionError> {
        let now = moing_common::clock::now();
        let summary = self.members.summary(team, true).await?;
        let today = now.with_timezone(&tz(&summary.time_zone)).date_naive();
        let roster: HashMap<Uuid, Vec<Span>> = spans(&summary).into_iter().collect();
        let missions: Vec<MissionSpan> = self
            .store
            .missions(team, None)
            .await?
            .iter()
            .map(|m| MissionSpan::of(m, now))
            .collect();
        self.reseal(team, &missions, &roster, today, now).await
    }

    /// Clears the kept counts (of one team, or all) and seals again from the
    /// proof rows; the number of teams sealed.
    pub async fn rebuild_progress(&self, team: Option<Uuid>) -> Result<usize, MissionError> {
        self.store.unseal(team).await?;
        let teams = match team {
            Some(t) => vec![t],
            None => self.store.teams().await?,
        };
        let mut sealed = 0;
        for t in teams {
            match self.seal_team(t).await {
                Ok(()) => sealed += 1,
                // A disbanded team moim no longer knows: its counts stay
                // cleared and are recounted if it is ever read again.
                Err(MissionError::TeamNotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(sealed)
    }
}
