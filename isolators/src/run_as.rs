//! The user a container's first process runs as (the agent's `--switch-user`, Mesos's
//! `CommandInfo.user` / `FrameworkInfo.user`): looked up by name before the fork, applied
//! in the child after everything that needs root (cgroups, namespaces, mounts) and before
//! `exec`, in the order that cannot be undone: supplementary groups, then the group, then
//! the user. The sandbox is given to the user ([`RunAs::chown_tree`]) before the launch.
//!
//! Invariants: a name that does not resolve is an error naming it, never a silent root;
//! [`RunAs::apply`] makes only async-signal-safe system calls on memory prepared before
//! the fork.

use std::path::Path;

use crate::error::{IsolatorError, Result};

/// A resolved user: name, uid, primary gid and supplementary groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunAs {
    /// The user's name, for messages.
    pub name: String,
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// Every group the user is in (the primary one included), as `initgroups` would set.
    pub groups: Vec<u32>,
}

impl RunAs {
    /// Looks `name` up in the user database (`getpwnam`, `getgrouplist`); an unknown user
    /// is [`IsolatorError::UnknownUser`].
    pub fn lookup(name: &str) -> Result<RunAs> {
        let unknown = |reason: String| IsolatorError::UnknownUser {
            user: name.to_string(),
            reason,
        };
        let user = nix::unistd::User::from_name(name)
            .map_err(|e| unknown(format!("looking it up failed: {e}")))?
            .ok_or_else(|| unknown("no such user on this agent".into()))?;
        let cname = std::ffi::CString::new(name)
            .map_err(|_| unknown("the name contains a NUL byte".into()))?;
        let groups = nix::unistd::getgrouplist(&cname, user.gid)
            .map_err(|e| unknown(format!("reading its groups failed: {e}")))?;
        Ok(RunAs {
            name: name.to_string(),
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            groups: groups.into_iter().map(|g| g.as_raw()).collect(),
        })
    }

    /// Gives `dir` and everything below it (symlinks themselves, not their targets) to
    /// the user, so the container can write its sandbox.
    pub fn chown_tree(&self, dir: &Path) -> Result<()> {
        let chown = |path: &Path| {
            std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))
                .map_err(|e| IsolatorError::io("chown", path, e))
        };
        chown(dir)?;
        let meta = std::fs::symlink_metadata(dir).map_err(|e| IsolatorError::io("stat", dir, e))?;
        if meta.is_dir() {
            let entries =
                std::fs::read_dir(dir).map_err(|e| IsolatorError::io("read_dir", dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| IsolatorError::io("read_dir", dir, e))?;
                let path = entry.path();
                let kind = entry
                    .file_type()
                    .map_err(|e| IsolatorError::io("stat", &path, e))?;
                if kind.is_dir() {
                    self.chown_tree(&path)?;
                } else {
                    chown(&path)?;
                }
            }
        }
        Ok(())
    }

    /// Drops to this user in a forked child: `setgroups`, `setgid`, `setuid`. Returns the
    /// errno of the first call that failed.
    ///
    /// # Safety
    /// Async-signal-safe system calls only; for the child between fork and exec.
    pub unsafe fn apply(&self) -> std::result::Result<(), libc::c_int> {
        let groups: &[libc::gid_t] = &self.groups;
        if libc::setgroups(groups.len(), groups.as_ptr()) < 0
            || libc::setgid(self.gid) < 0
            || libc::setuid(self.uid) < 0
        {
            return Err(*libc::__errno_location());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_resolves_and_an_unknown_user_is_named() {
        let root = RunAs::lookup("root").expect("root exists");
        assert_eq!((root.uid, root.gid), (0, 0));
        assert!(root.groups.contains(&0));
        let e = RunAs::lookup("no-such-user-meso").unwrap_err().to_string();
        assert!(
            e.contains("no-such-user-meso") && e.contains("no such user"),
            "{e}"
        );
    }
}
