//! API tests of the auth service through the generated gRPC client, against a
//! real MariaDB and Redis and local provider stand-ins.

mod concurrency;
mod fuzz;
mod helpers;
mod limits;
mod profile;
mod sessions;
mod sign_in;
mod withdrawal;
