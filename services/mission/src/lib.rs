//! moing-mission: missions, proofs (with photo uploads to S3), skips, hearts, stickers, comments, pokes and the team score.
//!
//! Layout (STYLE.md): `config` (settings, loaded once in `main`), `startup`
//! (build and serve). The public API is `moing.mission.v1.MissionService` in
//! `proto/moing/mission/v1/`; until its issue lands the server answers health and
//! reflection only, which is what the foundation requires of an empty service.

pub mod config;
pub mod startup;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
