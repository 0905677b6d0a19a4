//! moing-e2e: tests of the whole cluster in one process (every service and the
//! gateway on port 0, real MariaDB and Redis), for what no single crate can
//! show: a trace crossing gateway → mission → moim → outbox → notification
//! (`tests/trace.rs`) and logs free of secrets (`tests/logs.rs`). Each test file
//! is its own binary because each installs the process-wide subscriber.
//!
//! The shared cluster wiring lives in `tests/support/mod.rs`.
