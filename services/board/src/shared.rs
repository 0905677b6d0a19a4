//! What every member's goal board of a team shares (moim's summary, mission's
//! progress, the display names), built once per change and reused by every
//! GetGoalBoard and every WatchGoalBoard stream of the team on this replica.
//!
//! An entry is dropped when [`crate::live::Live`] hears that the team's board
//! changed (an event on this replica or another, through Redis), when the
//! team's date turns, and after `board.team_cache_secs` at the latest (the
//! bound on anything that no event announces, such as a new nickname, and on
//! a replica that missed a Redis message). Concurrent callers of a team being
//! built wait for the one build; a failed build is not kept.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::OnceCell;
use uuid::Uuid;

struct Entry<T> {
    made: Instant,
    cell: Arc<OnceCell<Arc<T>>>,
}

pub struct Shared<T> {
    ttl: Duration,
    entries: Mutex<HashMap<Uuid, Entry<T>>>,
}

impl<T> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl<T> Shared<T> {
    /// A zero `ttl` keeps nothing (every call builds).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The team's shared value if `fresh` accepts it, else one built by
    /// `build` (once, whoever asks meanwhile).
    pub async fn get<F, Fut, E>(
        &self,
        team: Uuid,
        fresh: impl Fn(&T) -> bool,
        build: F,
    ) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if self.ttl.is_zero() {
            return build().await.map(Arc::new);
        }
        let cell = {
            let Ok(mut entries) = self.entries.lock() else {
                return build().await.map(Arc::new);
            };
            let stale = entries.get(&team).is_none_or(|e| {
                e.made.elapsed() >= self.ttl || e.cell.get().is_some_and(|v| !fresh(v))
            });
            if stale {
                entries.retain(|_, e| e.made.elapsed() < self.ttl);
                entries.insert(
                    team,
                    Entry {
                        made: Instant::now(),
                        cell: Arc::new(OnceCell::new()),
                    },
                );
            }
            entries
                .get(&team)
                .map(|e| e.cell.clone())
                .unwrap_or_default()
        };
        cell.get_or_try_init(|| async { build().await.map(Arc::new) })
            .await
            .cloned()
    }

    /// Forgets a team's value (None: every team's).
    pub fn forget(&self, team: Option<Uuid>) {
        if let Ok(mut entries) = self.entries.lock() {
            match team {
                Some(t) => {
                    entries.remove(&t);
                }
                None => entries.clear(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn one_build_per_change_however_many_ask() {
        let shared = Arc::new(Shared::<usize>::new(Duration::from_secs(60)));
        let builds = Arc::new(AtomicUsize::new(0));
        let team = Uuid::now_v7();
        let ask = |shared: Arc<Shared<usize>>, builds: Arc<AtomicUsize>| async move {
            shared
                .get(
                    team,
                    |_| true,
                    || async {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(builds.fetch_add(1, Ordering::SeqCst))
                    },
                )
                .await
        };
        let many: Vec<_> = (0..50)
            .map(|_| tokio::spawn(ask(shared.clone(), builds.clone())))
            .collect();
        for h in many {
            assert_eq!(*h.await.expect("join").expect("built"), 0);
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        shared.forget(Some(team));
        assert_eq!(
            *ask(shared.clone(), builds.clone()).await.expect("built"),
            1
        );
        // A value its caller finds stale is built again.
        let v = shared
            .get(team, |v| *v != 1, || async { Ok::<_, ()>(7) })
            .await;
        assert_eq!(*v.expect("built"), 7);
        // A failed build is not kept.
        shared.forget(None);
        let failed = shared
            .get(team, |_| true, || async { Err::<usize, _>("down") })
            .await;
        assert!(failed.is_err());
        let v = shared
            .get(team, |_| true, || async { Ok::<_, &str>(9) })
            .await;
        assert_eq!(*v.expect("built"), 9);
    }
}
