//! moing-notification: device push tokens, FCM push, the inbox, push settings and automatic reminders.
//!
//! Layout (STYLE.md):
//! - `config` (settings, loaded once in `main`), `startup` (build, background jobs, serve);
//! - `grpc` (public `NotificationService`: devices, inbox, settings) and `internal`
//!   (`NotificationInternalService`: broadcasts, delivery stats);
//! - `domain` (types, categories, quiet hours), `store` (SQL: devices, settings,
//!   inbox, the fan-out writing inbox and push rows);
//! - `events` (domain events → notifications), `sink` (the EventSink that sends
//!   the pushes after the event's commit), `push` (the dispatcher: attempt recorded
//!   before the send), `fcm` (FCM HTTP v1 client with service-account OAuth);
//! - `reminders` (planned occurrences, SKIP LOCKED claiming), `peers` (moim,
//!   mission, board and auth clients).
//!
//! Exactly once: an event's inbox rows commit with its id (redelivery does
//! nothing); each push row is claimed and marked SENDING before the HTTP call
//! (never sent twice); a reminder occurrence is one keyed row claimed by one replica.

pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod fcm;
pub mod grpc;
pub mod internal;
pub mod peers;
pub mod push;
pub mod reminders;
pub mod sink;
pub mod startup;
pub mod store;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
