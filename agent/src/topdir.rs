//! Where a new executor's directories land on disk: each framework's `executors/` directory
//! (in the sandboxes and under `meta/`) is marked as the top of independent directory
//! hierarchies (`chattr +T`, `FS_TOPDIR_FL`), so ext4's Orlov allocator places each new
//! executor directory, and the inodes under it, in a block group of its own choosing
//! instead of the parent's.
//!
//! Why: on ext4 without a journal, `find_inode_bit` skips every free inode of the group
//! whose inode-table block is cached and whose deletion time is under 60 s old (360 s while
//! that block is dirty), one `recently_deleted()` lookup each, on every allocation. The
//! parent's group is where the sandboxes of earlier agent runs (or collected ones) were, and
//! thousands of them deleted a minute ago make each `mkdir`/`creat` of the next launches
//! scan past all of them: `tasks_per_s` fell run after run until a cache drop (see
//! BENCHMARKS.md, "Session 9: tasks run after run"). A top directory's children are spread
//! to the least used groups, which a recent mass deletion does not fill.
//!
//! The flag is a placement hint and nothing else: files, layout and permissions are the
//! same. Best effort: a filesystem without the flag (tmpfs, xfs, btrfs) refuses the ioctl
//! and the directory is used as it is.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// `FS_TOPDIR_FL` from `linux/fs.h`.
const FS_TOPDIR_FL: libc::c_int = 0x0002_0000;

/// Creates the missing directories of `dir` and, when `dir` itself is new, marks it as a
/// top directory (see the module doc).
pub fn ensure_top_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {
            mark_top(dir);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Sets `FS_TOPDIR_FL` on the directory `dir`; whether the filesystem took it.
pub fn mark_top(dir: &Path) -> bool {
    let Ok(file) = File::open(dir) else {
        return false;
    };
    let fd = file.as_raw_fd();
    let mut flags: libc::c_int = 0;
    // SAFETY: both ioctls read or write one `int` (the kernel's `fileattr` flags word) at a
    // pointer to a live local, on a descriptor this function owns.
    let got = unsafe { libc::ioctl(fd, libc::FS_IOC_GETFLAGS, &mut flags as *mut libc::c_int) };
    if got != 0 {
        return false;
    }
    if flags & FS_TOPDIR_FL != 0 {
        return true;
    }
    flags |= FS_TOPDIR_FL;
    // SAFETY: as above.
    unsafe { libc::ioctl(fd, libc::FS_IOC_SETFLAGS, &flags as *const libc::c_int) == 0 }
}

/// Whether `dir` carries `FS_TOPDIR_FL` (`None`: the filesystem has no such flags).
pub fn is_top(dir: &Path) -> Option<bool> {
    let file = File::open(dir).ok()?;
    let mut flags: libc::c_int = 0;
    // SAFETY: as in `mark_top`.
    let got = unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            libc::FS_IOC_GETFLAGS,
            &mut flags as *mut libc::c_int,
        )
    };
    (got == 0).then_some(flags & FS_TOPDIR_FL != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_directory_is_created_and_marked_where_the_filesystem_can() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("a/b/executors");
        ensure_top_dir(&dir).unwrap();
        assert!(dir.is_dir());
        // Again: nothing to do, no error.
        ensure_top_dir(&dir).unwrap();
        // Where the filesystem takes the flag (ext2/3/4), it reads back, and a directory
        // created under the marked one does not inherit it.
        if mark_top(&dir) {
            assert_eq!(is_top(&dir), Some(true));
            std::fs::create_dir(dir.join("ex")).unwrap();
            assert_eq!(is_top(&dir.join("ex")), Some(false));
        }
    }

    #[test]
    fn a_file_in_the_way_is_an_error() {
        let base = tempfile::tempdir().unwrap();
        let path = base.path().join("executors");
        std::fs::write(&path, b"x").unwrap();
        assert!(ensure_top_dir(&path).is_err());
        assert!(!mark_top(&base.path().join("missing")));
    }
}
