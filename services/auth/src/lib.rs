//! moing-auth: accounts: social sign-in, sign-up, rotating device sessions, profiles, withdrawal; owns members, social identities and sessions (refresh state in Redis).
//!
//! Layout (STYLE.md): `config` (settings, loaded once in `main`), `startup`
//! (build and serve). The public API is `moing.auth.v1.AuthService` in
//! `proto/moing/auth/v1/`; until its issue lands the server answers health and
//! reflection only, which is what the foundation requires of an empty service.

pub mod config;
pub mod startup;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
