//! Ending the executors a test's agents left behind. A checkpointing framework's executors
//! outlive their agent by design (they wait for it to come back), so a test that kills its
//! agents would leave them, and their tasks, running for the recovery timeout: holding
//! ports and CPU for the next tests. [`end_executors_under`] ends every session an executor
//! recorded under a directory leads, its tasks included.

use std::path::Path;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// SIGKILLs every process of every session led by an executor whose `forked.pid`
/// checkpoint lies under `dir` (any depth).
pub fn end_executors_under(dir: &Path) {
    let mut sids = Vec::new();
    forked_pids(dir, &mut sids);
    if sids.is_empty() {
        return;
    }
    for pid in processes_in_sessions(&sids) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

fn forked_pids(dir: &Path, out: &mut Vec<i32>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            forked_pids(&path, out);
        } else if path.file_name().is_some_and(|n| n == "forked.pid") {
            // One frame: 8 header bytes, then the pid in decimal.
            if let Some(pid) = std::fs::read(&path).ok().and_then(|bytes| {
                let text = std::str::from_utf8(bytes.get(8..)?).ok()?;
                text.trim().parse::<i32>().ok()
            }) {
                if pid > 1 {
                    out.push(pid);
                }
            }
        }
    }
}

/// Processes whose session id is one of `sids`.
fn processes_in_sessions(sids: &[i32]) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After the command's closing parenthesis: state, ppid, pgrp, session.
        let rest = stat.rsplit(')').next().unwrap_or("");
        let sid = rest.split_whitespace().nth(3).and_then(|s| s.parse().ok());
        if sid.is_some_and(|s: i32| sids.contains(&s)) {
            out.push(pid);
        }
    }
    out
}
