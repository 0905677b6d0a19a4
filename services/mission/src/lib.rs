//! moing-mission: missions, proofs (with photo uploads to S3), skips, hearts, stickers, comments, pokes and the team score.
//!
//! Layout (STYLE.md): `config` (settings, loaded once in `main`), `startup`
//! (build and serve). The public API is `moing.mission.v1.MissionService` in
//! `proto/moing/mission/v1/`. Served so far: missions (create, get, list with my
//! progress, update, end) and proofs (submit text/link, skip, delete today's,
//! list, get), hearts, stickers and comments, with membership checked through
//! moim, and photo uploads (presigned S3); pokes and the team score; the rest of the API ( score, reports, progress queries) answers
//! UNIMPLEMENTED until it lands. `jobs` ends ONCE missions at their deadline
//! and the missions of finished or disbanded teams (moim's events).

pub mod access;
pub mod config;
pub mod domain;
pub mod encouragement;
pub mod error;
pub mod goal;
pub mod grpc;
pub mod internal;
pub mod jobs;
pub mod pokes;
pub mod progress;
pub mod reports;
pub mod seed;
pub mod startup;
pub mod storage;
pub mod store;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
