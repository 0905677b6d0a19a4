//! API tests of the mission service through the generated gRPC client, with the
//! moim service in process for membership (real MariaDB for both).

mod aggregates;
mod concurrency;
mod edges;
mod fuzz;
mod helpers;
mod internal;
mod missions;
mod moderation;
mod pokes;
mod progress;
mod proofs;
mod reports;
mod uploads;
