//! moing-board: the goal board, notices and posts with comments and read marks, and votes.
//!
//! Layout (STYLE.md): `config` (settings, loaded once in `main`), `startup`
//! (build and serve). The public API is `moing.board.v1.BoardService` in
//! `proto/moing/board/v1/`; until its issue lands the server answers health and
//! reflection only, which is what the foundation requires of an empty service.

pub mod config;
pub mod startup;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
