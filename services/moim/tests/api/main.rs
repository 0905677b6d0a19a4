//! API tests of the moim service through the generated gRPC client, against a real MariaDB.

mod concurrency;
mod fuzz;
mod health;
mod helpers;
mod internal;
mod invites;
mod teams;
