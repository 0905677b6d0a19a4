//! API tests of the board service through the generated gRPC client, with moim
//! and mission in process (real MariaDB for each).

mod blocks;
mod board;
mod concurrency;
mod edges;
mod export;
mod fuzz;
mod helpers;
mod live;
mod moderation;
mod production;
mod votes;
