//! API tests of the notification service through the generated gRPC clients,
//! with moim (and mission, for reminders) in process, real MariaDB, and the
//! FCM stand-in speaking the real protocol.

mod broadcast;
mod devices;
mod events;
mod fcm;
mod fuzz;
mod helpers;
mod inbox;
mod reminders;
mod settings;
