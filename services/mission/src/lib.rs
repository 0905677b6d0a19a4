//! moing-mission: missions, proofs (text, link, or a photo uploaded to S3) and
//! skips, hearts, stickers, comments, pokes, the team score, reports on proofs
//! and proof comments, and the progress queries behind the goal board and the
//! reminders.
//!
//! Every RPC of the public `moing.mission.v1.MissionService` and of the internal
//! `MissionInternalService` (`proto/moing/mission/v1/`) is served; membership is
//! checked through moim on every call.
//!
//! Layout (STYLE.md): `config` (settings, loaded once in `main`), `startup`
//! (build and serve), `grpc` (MissionService, thin handlers), `internal`
//! (MissionInternalService) and `goal` (its GetTeamProgress), `domain` (kinds,
//! ways, periods), `progress` (the counting rules, pure), `encouragement`
//! (hearts, stickers, comments), `pokes` (pokes and the score rule), `reports`
//! (reports and reviews), `storage` (S3: presigned PUT/GET, HeadObject,
//! DeleteObject), `access` (membership via moim, cached), `store` (SQL),
//! `error` (the one wire mapping). `jobs` ends ONCE missions at their deadline
//! and the missions of finished or disbanded teams (moim's events, received on
//! `moing.events.v1.EventSink`). `seed` writes long histories for the benchmarks
//! only.

pub mod access;
pub mod config;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod jobs;
pub mod seed;
pub mod startup;
pub mod storage;
pub mod store;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
