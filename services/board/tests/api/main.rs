//! API tests of the board service through the generated gRPC client, with moim
//! and mission in process (real MariaDB for each).

mod board;
mod concurrency;
mod edges;
mod helpers;
mod production;
mod votes;
