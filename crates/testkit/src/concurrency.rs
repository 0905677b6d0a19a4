//! Shared by the concurrency tests of every service: a client that retries
//! ABORTED as the API asks it to, and the retry counter of the shared
//! transaction mechanism (`moing_common::transaction!`).

use std::{
    collections::BTreeMap,
    future::Future,
    sync::atomic::{AtomicUsize, Ordering},
};

use tonic::{Code, Response, Status};

/// Runs `call` until it answers something other than ABORTED (at most 5 times,
/// as a client would) and fails the test on INTERNAL or UNKNOWN. Each ABORTED
/// must carry `CONCURRENT_UPDATE` and is counted in `aborted`.
pub async fn settle<T, F, Fut>(what: &str, aborted: &AtomicUsize, mut call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Response<T>, Status>>,
{
    for _ in 0..5 {
        match call().await {
            Err(s) if s.code() == Code::Aborted => {
                assert_eq!(
                    moing_common::error::status_reason(&s).as_deref(),
                    Some("CONCURRENT_UPDATE"),
                    "{what}: {s:?}"
                );
                aborted.fetch_add(1, Ordering::Relaxed);
            }
            other => {
                if let Err(s) = &other {
                    assert!(
                        !matches!(s.code(), Code::Internal | Code::Unknown),
                        "{what} answered {s:?}"
                    );
                }
                return other.map(Response::into_inner);
            }
        }
    }
    panic!("{what}: still ABORTED after 5 tries");
}

/// `moing_db_transaction_retries_total` per transaction, from this process's registry.
pub fn retries() -> BTreeMap<String, u64> {
    moing_common::metrics::render()
        .lines()
        .filter_map(|l| l.strip_prefix("moing_db_transaction_retries_total{"))
        .filter_map(|l| {
            let (labels, n) = l.rsplit_once("} ")?;
            let name = labels.split('"').nth(1)?.to_owned();
            Some((name, n.trim().parse().ok()?))
        })
        .collect()
}
