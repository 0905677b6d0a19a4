//! moing-notification: device push tokens, FCM push, the inbox, push settings and automatic reminders.
//!
//! Layout (docs/service-inside.md):
//! - `config` (settings, loaded once in `main`), `startup` (wiring, background jobs, serve);
//! - `error` (the error enum, its gRPC mapping and the reason codes);
//! - `grpc` (the table of contents of `NotificationService` and
//!   `NotificationInternalService`), `grpc/<resource>` (handlers: devices,
//!   inbox, settings, internal) and `grpc/wire` (proto ⇄ domain);
//! - `domain` (types, categories, quiet hours, push placement; the drafts of
//!   `events`, `reminders` and `broadcasts`), `store` (all SQL);
//! - `events` (domain events → notifications), `sink` (the EventSink that sends
//!   the pushes after the event's commit), `push` (the dispatcher: attempt recorded
//!   before the send), `fcm` (FCM HTTP v1 client with service-account OAuth);
//! - `reminders` (the scheduler: plans occurrences, sends the due ones),
//!   `peers` (moim, mission, board and auth clients).
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
pub mod peers;
pub mod push;
pub mod reminders;
pub mod sink;
pub mod startup;
pub mod store;

/// This service's own schema migrations (the shared outbox tables come from moing-common).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
