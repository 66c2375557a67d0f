//! The thread that removes what garbage collection hands it, one tree at a time, paced:
//! after every [`UNLINKS_PER_PAUSE`] removals it sleeps [`PAUSE`], so a burst of expired
//! sandboxes is spread out instead of freeing thousands of inodes at once while the agent
//! creates the next sandboxes. Symlinks are removed, never followed.
//!
//! Invariant: nothing outside the handed path is touched but its run's `latest` symlink,
//! and that only while it names the removed run.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use slog::{info, warn, Logger};

/// Removals between two pauses.
pub const UNLINKS_PER_PAUSE: u32 = 64;
/// The pause (at most ~3,200 removals a second).
pub const PAUSE: Duration = Duration::from_millis(20);

/// Removes the tree at `path` (a missing one is fine), pausing every `per_pause` removals
/// for `pause`; returns how many entries went.
pub fn remove_tree_paced(path: &Path, per_pause: u32, pause: Duration) -> std::io::Result<u64> {
    let mut removed = 0u64;
    let mut since_pause = 0u32;
    let mut tick = |removed: &mut u64| {
        *removed += 1;
        since_pause += 1;
        if since_pause >= per_pause {
            since_pause = 0;
            std::thread::sleep(pause);
        }
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
        Ok(m) if !m.is_dir() => {
            std::fs::remove_file(path)?;
            return Ok(1);
        }
        Ok(_) => {}
    }
    // Depth first, without recursion: a directory is removed once it has been emptied.
    let mut stack: Vec<(PathBuf, bool)> = vec![(path.to_path_buf(), false)];
    while let Some((dir, emptied)) = stack.pop() {
        if emptied {
            std::fs::remove_dir(&dir)?;
            tick(&mut removed);
            continue;
        }
        stack.push((dir.clone(), true));
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push((entry.path(), false));
            } else {
                std::fs::remove_file(entry.path())?;
                tick(&mut removed);
            }
        }
    }
    Ok(removed)
}

/// Removes `runs/latest` if it names the run directory `run`.
fn unlink_latest(run: &Path) {
    let (Some(runs), Some(name)) = (run.parent(), run.file_name()) else {
        return;
    };
    let latest = runs.join("latest");
    if std::fs::read_link(&latest).is_ok_and(|target| target.as_os_str() == name) {
        let _ = std::fs::remove_file(latest);
    }
}

/// The deleting thread; dropping it lets the thread finish its queue and end.
#[derive(Debug)]
pub struct Deleter {
    tx: mpsc::Sender<PathBuf>,
}

impl Deleter {
    /// Starts the thread.
    pub fn start(log: Logger) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<PathBuf>();
        std::thread::Builder::new()
            .name("sandbox-gc".into())
            .spawn(move || {
                for path in rx {
                    // The link first, so no moment shows a `latest` naming a missing run.
                    unlink_latest(&path);
                    match remove_tree_paced(&path, UNLINKS_PER_PAUSE, PAUSE) {
                        Ok(entries) => {
                            info!(log, "garbage collected"; "path" => %path.display(),
                                "entries" => entries);
                        }
                        Err(e) => warn!(log, "garbage collection failed";
                            "path" => %path.display(), "error" => %e),
                    }
                }
            })?;
        Ok(Deleter { tx })
    }

    /// Queues `path` for removal.
    pub fn delete(&self, path: PathBuf) {
        // The thread only ends when this sender is dropped, so the send cannot fail.
        let _ = self.tx.send(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_the_tree_and_never_follows_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep"), b"x").unwrap();
        let runs = dir.path().join("runs");
        let run = runs.join("c1");
        std::fs::create_dir_all(run.join("a/b")).unwrap();
        for i in 0..10 {
            std::fs::write(run.join(format!("a/b/f{i}")), b"x").unwrap();
        }
        std::os::unix::fs::symlink(&outside, run.join("a/out")).unwrap();
        std::os::unix::fs::symlink("c1", runs.join("latest")).unwrap();
        let removed = remove_tree_paced(&run, 3, Duration::from_millis(1)).unwrap();
        unlink_latest(&run);
        assert_eq!(removed, 10 + 1 + 3, "files, the symlink and a, a/b, c1");
        assert!(!run.exists());
        assert!(std::fs::symlink_metadata(runs.join("latest")).is_err());
        assert!(outside.join("keep").exists(), "a symlink's target is kept");
        assert_eq!(
            remove_tree_paced(&run, 3, PAUSE).unwrap(),
            0,
            "gone is fine"
        );
    }
}
