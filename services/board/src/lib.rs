//! moing-board: the goal board (목표보드), notices and posts with read marks and
//! comments, votes (named or anonymous), and reports on posts and comments.
//!
//! Layout (docs/service-inside.md): `config` (settings), `startup` (wiring),
//! `error` (the error enum, its one exhaustive wire mapping and the reason
//! codes), `grpc` (BoardService and BoardInternalService as tables of
//! contents; the handlers per resource in `grpc/`, proto ⇄ domain in
//! `grpc/wire`), `domain` (types and rules: posts, votes, reports, the goal
//! board's rates and ranking), `store` (all SQL and the outbox events),
//! `access` (membership via moim) and `ballot` (the keyed hashes that keep
//! anonymous votes anonymous).

pub mod access;
pub mod ballot;
pub mod config;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod live;
pub mod shared;
pub mod sink;
pub mod startup;
pub mod store;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
