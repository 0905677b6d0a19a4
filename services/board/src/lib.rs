//! moing-board: the goal board (목표보드), notices and posts with read marks and
//! comments, votes (named or anonymous), and reports on posts and comments.
//!
//! Layout (STYLE.md): `config` (settings), `startup` (build and serve), `grpc`
//! (BoardService, thin), `internal` (BoardInternalService), `posts`, `votes`
//! with `ballot` (the keyed hashes that keep anonymous votes anonymous),
//! `goal` (the goal board fan-out and the rate/ranking rules), `access`
//! (membership via moim), `error` (one exhaustive wire mapping).

pub mod access;
pub mod ballot;
pub mod config;
pub mod error;
pub mod goal;
pub mod grpc;
pub mod internal;
pub mod posts;
pub mod startup;
pub mod votes;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
