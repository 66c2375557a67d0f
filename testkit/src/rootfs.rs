//! A root filesystem small enough to build in a test: `/bin/sh` and the libraries it links.
//! Used by the agent's rootfs tests and the root crate's `tests/rootfs_e2e.rs`.
//!
//! Invariant: the tree holds exactly `bin/sh` (the host's, resolved through links) and the
//! absolute library paths `ldd` prints for it, at the same paths under the root.

use std::path::Path;
use std::process::Command;

/// Copies `/bin/sh` (resolved) and the libraries `ldd` names into `root`.
pub fn tiny_rootfs(root: &Path) {
    let sh = std::fs::canonicalize("/bin/sh").expect("/bin/sh exists");
    std::fs::create_dir_all(root.join("bin")).expect("the rootfs's bin/ can be made");
    std::fs::copy(&sh, root.join("bin/sh")).expect("/bin/sh copies into the rootfs");
    let ldd = Command::new("ldd").arg(&sh).output().expect("ldd runs");
    let text = String::from_utf8_lossy(&ldd.stdout);
    for lib in text.split_whitespace().filter(|w| w.starts_with('/')) {
        let target = root.join(lib.trim_start_matches('/'));
        let dir = target
            .parent()
            .expect("a library path under the root has a parent");
        std::fs::create_dir_all(dir).expect("the library's directory can be made");
        std::fs::copy(lib, &target).expect("the library copies into the rootfs");
    }
}
