//! Worker threads spread over the cores.
//!
//! On some Linux hosts (virtual machines whose kernel packs tasks onto as
//! few virtual CPUs as it can) a thread that this process starts begins on
//! the core of the thread that started it and stays there for
//! milliseconds, sharing it, while another core is idle. A run of a few
//! tens of milliseconds then uses one core where it could use two. So
//! each worker, once it runs, moves itself to a core of its own: the
//! `n`-th worker to the `n`-th core after its starter's among those the
//! process may use. It does so by narrowing its CPU affinity to that core
//! (the kernel moves it before the call returns) and then restoring the
//! whole set at once, so the scheduler stays free to move it later. The
//! starter yields once its workers are started, so that they get to run
//! and move. Anywhere else (another system, a single allowed core, a
//! failed call) nothing happens.

/// Where the starting thread runs and which cores the process may use.
pub(crate) struct Spread {
    #[cfg(target_os = "linux")]
    inner: Option<linux::Plan>,
}

impl Spread {
    /// Read where the calling thread (the one about to start workers) runs.
    pub(crate) fn here() -> Spread {
        Spread {
            #[cfg(target_os = "linux")]
            inner: linux::Plan::here(),
        }
    }

    /// Nothing to spread (no worker is started).
    pub(crate) fn none() -> Spread {
        Spread {
            #[cfg(target_os = "linux")]
            inner: None,
        }
    }

    /// Start `f` on `scope` as the `n`-th worker (1 for the first): it
    /// moves to a core of its own first. Call [`Spread::started`] once
    /// every worker is started.
    pub(crate) fn spawn<'scope, T, F>(
        &'scope self,
        scope: &'scope std::thread::Scope<'scope, '_>,
        n: usize,
        f: F,
    ) -> std::thread::ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        scope.spawn(move || {
            self.settle(n);
            f()
        })
    }

    /// In the `n`-th worker (1 for the first started), move this thread to
    /// a core of its own.
    fn settle(&self, n: usize) {
        #[cfg(target_os = "linux")]
        if let Some(plan) = &self.inner {
            plan.settle(n);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = n;
    }

    /// In the starting thread, once its workers are started: give them
    /// the core for a moment, so that they move before it gets busy.
    pub(crate) fn started(&self) {
        #[cfg(target_os = "linux")]
        if self.inner.is_some() {
            std::thread::yield_now();
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use nix::sched::{sched_getaffinity, sched_getcpu, sched_setaffinity, CpuSet};
    use nix::unistd::Pid;

    pub(super) struct Plan {
        /// The cores the process may use, in order, starting after the
        /// starter's.
        order: Vec<usize>,
        /// All of them, restored once a worker has moved.
        allowed: CpuSet,
    }

    impl Plan {
        pub(super) fn here() -> Option<Plan> {
            let allowed = sched_getaffinity(Pid::from_raw(0)).ok()?;
            let from = sched_getcpu().ok()?;
            let cores: Vec<usize> = (0..CpuSet::count())
                .filter(|&c| allowed.is_set(c).unwrap_or(false))
                .collect();
            if cores.len() < 2 {
                return None;
            }
            let at = cores.iter().position(|&c| c == from)?;
            let mut order = cores;
            order.rotate_left(at);
            Some(Plan { order, allowed })
        }

        pub(super) fn settle(&self, n: usize) {
            let Some(&core) = self.order.get(n % self.order.len()) else {
                return;
            };
            let mut one = CpuSet::new();
            if one.set(core).is_err() {
                return;
            }
            let me = Pid::from_raw(0);
            if sched_setaffinity(me, &one).is_ok() {
                // Best effort: if the whole set cannot be restored the
                // thread stays on its core, which is where it was going.
                let _ = sched_setaffinity(me, &self.allowed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Spread;

    /// A worker that moved to a core of its own may still run anywhere the
    /// process may: its affinity is the starter's again.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_settled_worker_keeps_the_whole_set() {
        use nix::sched::sched_getaffinity;
        use nix::unistd::Pid;
        let before = sched_getaffinity(Pid::from_raw(0)).unwrap();
        let spread = Spread::here();
        let after = std::thread::scope(|s| {
            let worker = s.spawn(|| {
                for n in 1..4 {
                    spread.settle(n);
                }
                sched_getaffinity(Pid::from_raw(0)).unwrap()
            });
            spread.started();
            worker.join().unwrap()
        });
        assert_eq!(before, after);
    }

    /// With one allowed core (or no affinity calls) there is nothing to do.
    #[test]
    fn settling_without_a_plan_does_nothing() {
        let spread = Spread::none();
        spread.settle(1);
        spread.started();
    }
}
