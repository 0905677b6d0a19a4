//! moing-mission: missions, proofs (text, link, or a photo uploaded to S3) and
//! skips, hearts, stickers, comments, pokes, the team score, reports on proofs
//! and proof comments, and the progress queries behind the goal board and the
//! reminders.
//!
//! Every RPC of the public `moing.mission.v1.MissionService` and of the internal
//! `MissionInternalService` (`proto/moing/mission/v1/`) is served; membership is
//! checked through moim on every call.
//!
//! Layout (docs/service-inside.md): `config` (settings, loaded once in
//! `main`), `startup` (wiring: database, store, clients, jobs, serve), `error`
//! (the error enum, its wire mapping and the reason codes), `grpc` (the
//! service struct and both services as a table of contents; handlers in
//! `grpc/<resource>.rs`, proto ⇄ domain in `grpc/wire.rs`), `domain` (kinds,
//! ways, periods, proofs, reactions, the score rule; the counting rules in
//! `domain/progress.rs`), `store` (all SQL, one `Store` with methods per
//! resource in `store/`), `storage` (S3: presigned PUT/GET, HeadObject,
//! DeleteObject) and `access` (membership via moim, cached). `jobs` ends ONCE
//! missions at their deadline and the missions of finished or disbanded teams
//! (moim's events, received on `moing.events.v1.EventSink`). `seed` writes
//! long histories for the benchmarks only.

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
