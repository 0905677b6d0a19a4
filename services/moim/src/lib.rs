//! moing-moim: closed teams: invitations, membership, leadership, meeting schedules and blocks between members.
//!
//! Layout (STYLE.md): `config` (settings, loaded once in `main`), `startup`
//! (build and serve). The public API is `moing.moim.v1.TeamService` in
//! `proto/moing/moim/v1/`; until its issue lands the server answers health and
//! reflection only, which is what the foundation requires of an empty service.

pub mod config;
pub mod startup;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
