//! Background work of the mission service: ONCE missions end at their deadline,
//! and team endings arriving as events end the team's missions. The SQL is in
//! `store/jobs.rs`; `startup` runs them (`moing_common::jobs::every`, the
//! event sink).

pub use crate::store::jobs::{TeamEvents, end_due};
