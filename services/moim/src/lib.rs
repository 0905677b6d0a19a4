//! moing-moim: closed teams. Creation with a period and time zone, invitations
//! (80-bit codes, expiry, use limits, revocation, preview), joins under the
//! 20-member and 3-active-team caps (enforced in the database), leaving,
//! removal, leadership hand-over, disbanding with a 3-day grace, meeting
//! schedules with the next meeting, blocks, and the internal API other services
//! use for membership checks and team summaries. Changes emit events through
//! the outbox.
//!
//! Layout (docs/service-inside.md): `config`, `startup` (wiring), `error` (the
//! error enum, its gRPC mapping, the reason codes), `grpc` (TeamService and
//! TeamInternalService in proto order; handlers per resource in `grpc/`, proto ⇄
//! domain in `grpc/wire.rs`), `domain` (rules, dates, codes, meetings), `store`
//! (all SQL, per resource in `store/`), `events` (the consumed events).

pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod grpc;
pub mod startup;
pub mod store;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
