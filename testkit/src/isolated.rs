//! A test's own isolation for agent tests that run the real isolators: a cgroups root of its
//! own (`meso-t<pid>-<test>`), an agent harness whose containerizer uses it, and a look at
//! the container cgroups under it.
//!
//! Invariants: two tests (or a test and another agent on the machine) never share a cgroups
//! root, so they never see each other's cgroups; dropping an [`Isolated`] removes its
//! (empty) root in every hierarchy, and leaves a root that still holds a container cgroup
//! (the test has failed on it already). Waits are hang guards, never assertions of speed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use meso_agent::containerizer::IsolatingContainerizer;
use meso_isolators::IsolationConfig;

use crate::agent_harness::Harness;
use crate::eventually::eventually_async_within;

/// Hang guard for a container cgroup to appear (never an assertion of speed).
const HANG_GUARD: Duration = Duration::from_secs(90);

/// Where the cgroup v1 hierarchies are mounted.
pub const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// A test's isolation: its own cgroups root, and the test's settings on top.
pub struct Isolated {
    /// The cgroups root's name (the same in every hierarchy).
    pub root: String,
}

impl Isolated {
    /// The isolation of test `test` (a name unique among the tests of this process).
    pub fn new(test: &str) -> Isolated {
        Isolated {
            root: format!("meso-t{}-{test}", std::process::id()),
        }
    }

    /// An agent with `isolation` (and `tweak`'s settings), registered with the test master.
    pub async fn harness(
        &self,
        isolation: &str,
        tweak: impl FnOnce(&mut IsolationConfig),
    ) -> Harness {
        let mut config = IsolationConfig {
            isolation: isolation.into(),
            cgroups_root: self.root.clone(),
            ..IsolationConfig::default()
        };
        tweak(&mut config);
        let containerizer =
            IsolatingContainerizer::new(&config).expect("the isolators are available");
        let mut h = Harness::start_with(Box::new(containerizer)).await;
        h.registered().await;
        h
    }

    /// The container cgroups under this test's root, in every hierarchy.
    pub fn container_cgroups(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for hierarchy in std::fs::read_dir(CGROUP_MOUNT)
            .into_iter()
            .flatten()
            .flatten()
        {
            let root = hierarchy.path().join(&self.root);
            for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
                if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    found.push(entry.path());
                }
            }
        }
        found
    }

    /// The one container cgroup in `hierarchy` (e.g. `cpuacct`), once it exists.
    pub async fn container_cgroup(&self, hierarchy: &str) -> PathBuf {
        let root = Path::new(CGROUP_MOUNT).join(hierarchy).join(&self.root);
        let what = format!("one container cgroup in {root:?}");
        eventually_async_within(&what, HANG_GUARD, || async {
            let dirs: Vec<PathBuf> = std::fs::read_dir(&root)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                .map(|e| e.path())
                .collect();
            match dirs.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            }
        })
        .await
    }
}

impl Drop for Isolated {
    fn drop(&mut self) {
        // The (empty) roots themselves; a container cgroup left inside keeps its root, and
        // the test has failed on it already.
        for hierarchy in std::fs::read_dir(CGROUP_MOUNT)
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::remove_dir(hierarchy.path().join(&self.root));
        }
    }
}
