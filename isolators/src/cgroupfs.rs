//! Direct cgroupfs I/O for v1 and v2 hierarchies: finding where each controller is mounted
//! (from `/proc/self/mountinfo`), creating a container's cgroup, writing and reading its
//! control files, and killing its processes and removing it.
//!
//! Why not `cgroups-rs`: its v2 hierarchy is fixed at `/sys/fs/cgroup` and it decides v1/v2
//! by the filesystem type of that one path, so on a hybrid machine (v1 controllers plus a
//! unified hierarchy at `/sys/fs/cgroup/unified`, as here) it cannot address the v2 tree at
//! all; and the launcher must join cgroups in the forked child with nothing but open/write,
//! which needs the plain paths anyway.
//!
//! Invariants: a container's cgroup is `<mount>/<root>/<container id>`; `root` (e.g. `meso`)
//! is created on demand and never removed (other containers share it); a container cgroup is
//! removed only once `cgroup.procs` is empty.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::error::{IsolatorError, Result};

/// The cgroup version a hierarchy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// One hierarchy per controller (or group of controllers), mounted as type `cgroup`.
    V1,
    /// The unified hierarchy, mounted as type `cgroup2`.
    V2,
}

/// Which hierarchy the cgroup isolators use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupMode {
    /// v1 where the controller is mounted as v1, otherwise v2 where it is enabled there.
    #[default]
    Auto,
    /// Only v1 hierarchies.
    V1,
    /// Only the unified (v2) hierarchy.
    V2,
}

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    /// v1 or v2.
    pub version: CgroupVersion,
    /// Where it is mounted.
    pub mount_point: PathBuf,
    /// For v1, the controllers bound to it (from the super options); empty for v2.
    pub controllers: Vec<String>,
}

/// Parses `/proc/self/mountinfo` text into the cgroup mounts it lists (pure).
pub fn parse_mountinfo(text: &str) -> Vec<CgroupMount> {
    let mut mounts = Vec::new();
    for line in text.lines() {
        // Fields: id parent major:minor root mount-point options [optional...] - fstype source super-options
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split_whitespace().collect();
        let right: Vec<&str> = right.split_whitespace().collect();
        if left.len() < 5 || right.is_empty() {
            continue;
        }
        let mount_point = PathBuf::from(unescape_mount_path(left[4]));
        match right[0] {
            "cgroup2" => mounts.push(CgroupMount {
                version: CgroupVersion::V2,
                mount_point,
                controllers: Vec::new(),
            }),
            "cgroup" => {
                let opts = right.get(2).copied().unwrap_or("");
                let controllers = opts
                    .split(',')
                    .filter(|o| {
                        !matches!(
                            *o,
                            "rw" | "ro" | "nosuid" | "nodev" | "noexec" | "relatime" | "noatime"
                        ) && !o.starts_with("name=")
                            && !o.starts_with("release_agent=")
                            && !o.starts_with("clone_children")
                    })
                    .map(str::to_string)
                    .collect();
                mounts.push(CgroupMount {
                    version: CgroupVersion::V1,
                    mount_point,
                    controllers,
                });
            }
            _ => {}
        }
    }
    mounts
}

/// mountinfo escapes space, tab, newline and backslash as octal `\ooo`.
fn unescape_mount_path(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if let Some(v) = raw
                .get(i + 1..i + 4)
                .and_then(|o| u8::from_str_radix(o, 8).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cgroup hierarchies of this machine.
#[derive(Debug, Clone, Default)]
pub struct CgroupLayout {
    /// Every cgroup mount found.
    pub mounts: Vec<CgroupMount>,
}

impl CgroupLayout {
    /// Reads `/proc/self/mountinfo`.
    pub fn detect() -> Result<Self> {
        let path = Path::new("/proc/self/mountinfo");
        let text = fs::read_to_string(path).map_err(|e| IsolatorError::io("read", path, e))?;
        Ok(CgroupLayout {
            mounts: parse_mountinfo(&text),
        })
    }

    /// The v1 mount point of `controller`, if it is mounted as v1.
    pub fn v1_mount(&self, controller: &str) -> Option<&Path> {
        self.mounts
            .iter()
            .find(|m| {
                m.version == CgroupVersion::V1 && m.controllers.iter().any(|c| c == controller)
            })
            .map(|m| m.mount_point.as_path())
    }

    /// The mount point of the unified hierarchy, if one is mounted.
    pub fn v2_mount(&self) -> Option<&Path> {
        self.mounts
            .iter()
            .find(|m| m.version == CgroupVersion::V2)
            .map(|m| m.mount_point.as_path())
    }

    /// Controllers the unified hierarchy offers at its root (its `cgroup.controllers`).
    pub fn v2_controllers(&self) -> Vec<String> {
        self.v2_mount()
            .and_then(|m| fs::read_to_string(m.join("cgroup.controllers")).ok())
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Where `controller`'s cgroups live under `mode`, with the version; or why not.
    pub fn locate(
        &self,
        controller: &str,
        mode: CgroupMode,
    ) -> std::result::Result<(CgroupVersion, PathBuf), String> {
        let v1 = self.v1_mount(controller);
        let v2 = self.v2_mount();
        let v2_has = self.v2_controllers().iter().any(|c| c == controller);
        match mode {
            CgroupMode::V1 | CgroupMode::Auto if v1.is_some() => {
                Ok((CgroupVersion::V1, v1.expect("checked is_some above").to_path_buf()))
            }
            CgroupMode::V2 | CgroupMode::Auto if v2.is_some() && v2_has => {
                Ok((CgroupVersion::V2, v2.expect("checked is_some above").to_path_buf()))
            }
            CgroupMode::V1 => Err(format!("the {controller} controller is not mounted as a cgroup v1 hierarchy")),
            CgroupMode::V2 => match v2 {
                None => Err("no cgroup v2 (cgroup2) hierarchy is mounted".to_string()),
                Some(m) => Err(format!(
                    "the {controller} controller is not enabled in the cgroup v2 hierarchy at {} (its cgroup.controllers lists {:?}; a controller bound to a v1 hierarchy cannot be used in v2)",
                    m.display(),
                    self.v2_controllers()
                )),
            },
            CgroupMode::Auto => Err(format!(
                "the {controller} controller is mounted neither as cgroup v1 nor enabled in a cgroup v2 hierarchy"
            )),
        }
    }
}

/// One container's cgroup in one hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupDir {
    /// The hierarchy's version.
    pub version: CgroupVersion,
    /// `<mount>/<root>/<container id>`.
    pub path: PathBuf,
}

impl CgroupDir {
    /// Creates `<mount>/<root>/<name>` (and `<root>` if missing). For v2, first enables
    /// `controllers` for the children of the mount's root and of `<root>`.
    pub fn create(
        version: CgroupVersion,
        mount: &Path,
        root: &str,
        name: &str,
        controllers: &[&str],
    ) -> Result<Self> {
        let parent = mount.join(root);
        if !parent.is_dir() {
            match fs::create_dir(&parent) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(IsolatorError::io("mkdir", parent, e)),
            }
        }
        if version == CgroupVersion::V2 {
            for dir in [mount, parent.as_path()] {
                for c in controllers {
                    let f = dir.join("cgroup.subtree_control");
                    fs::write(&f, format!("+{c}")).map_err(|e| IsolatorError::io("write", f, e))?;
                }
            }
        }
        let path = parent.join(name);
        match fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(IsolatorError::io("mkdir", path, e)),
        }
        Ok(CgroupDir { version, path })
    }

    /// The `cgroup.procs` file the launcher's child writes itself into.
    pub fn procs_file(&self) -> PathBuf {
        self.path.join("cgroup.procs")
    }

    /// Writes `value` to the control file `file`.
    pub fn write(&self, file: &str, value: &str) -> Result<()> {
        let p = self.path.join(file);
        fs::write(&p, value).map_err(|e| IsolatorError::io("write", p, e))
    }

    /// Reads the control file `file`.
    pub fn read(&self, file: &str) -> Result<String> {
        let p = self.path.join(file);
        fs::read_to_string(&p).map_err(|e| IsolatorError::io("read", p, e))
    }

    /// Reads a file holding one unsigned number (`max` reads as `u64::MAX`).
    pub fn read_u64(&self, file: &str) -> Result<u64> {
        let text = self.read(file)?;
        let t = text.trim();
        if t == "max" {
            return Ok(u64::MAX);
        }
        t.parse().map_err(|_| IsolatorError::Parse {
            path: self.path.join(file),
            reason: "expected an unsigned integer".into(),
            content: t.chars().take(80).collect(),
        })
    }

    /// Reads a flat keyed file (`key value` per line, as `memory.stat`, `cpu.stat`).
    pub fn read_keyed(&self, file: &str) -> Result<Vec<(String, u64)>> {
        Ok(parse_keyed(&self.read(file)?))
    }

    /// The pids listed in `cgroup.procs` (empty if the cgroup is gone).
    pub fn pids(&self) -> Result<Vec<i32>> {
        match fs::read_to_string(self.procs_file()) {
            Ok(text) => Ok(text
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(IsolatorError::io("read", self.procs_file(), e)),
        }
    }

    /// Moves every process in the cgroup into `to` (a cgroup of the same hierarchy), then
    /// SIGKILLs it, so that it runs its exit at `to`'s weight. Moving first: the kernel
    /// refuses to move a process that has begun exiting, which a kill sent first would
    /// race with. Errors are ignored: a process that is already gone needs neither.
    pub fn kill_into(&self, to: &CgroupDir) {
        let Ok(pids) = self.pids() else {
            return;
        };
        for pid in &pids {
            let _ = fs::write(to.procs_file(), pid.to_string());
        }
        for pid in pids {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }

    /// Kills every process in the cgroup and removes it. Bounded: gives up with
    /// `CgroupBusy` after about five seconds of processes reappearing.
    pub fn destroy(&self) -> Result<()> {
        if !self.path.exists() {
            return Ok(());
        }
        let kill_file = self.path.join("cgroup.kill");
        for attempt in 0..500u32 {
            let pids = self.pids()?;
            if pids.is_empty() {
                match fs::remove_dir(&self.path) {
                    Ok(()) => return Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                    // EBUSY: exiting tasks not yet released; try again shortly.
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
                    Err(e) => return Err(IsolatorError::io("rmdir", self.path.clone(), e)),
                }
            } else if self.version == CgroupVersion::V2 && kill_file.exists() {
                let _ = fs::write(&kill_file, "1");
            } else {
                for pid in &pids {
                    // ESRCH: already gone, which is what we want.
                    let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
                }
            }
            std::thread::sleep(Duration::from_millis(if attempt < 20 { 1 } else { 10 }));
        }
        Err(IsolatorError::CgroupBusy {
            path: self.path.clone(),
            pids: self.pids()?,
        })
    }
}

/// Parses `key value` lines; lines that do not fit are skipped (pure).
pub fn parse_keyed(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let k = it.next()?;
            let v = it.next()?.parse().ok()?;
            Some((k.to_string(), v))
        })
        .collect()
}

/// The value of `key` among parsed keyed lines.
pub fn keyed(values: &[(String, u64)], key: &str) -> Option<u64> {
    values.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
25 30 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd
30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:14 - cgroup cgroup rw,cpu,cpuacct
31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory
32 25 0:29 / /sys/fs/cgroup/with\\040space rw shared:16 - cgroup cgroup rw,pids
";

    #[test]
    fn finds_v1_controllers_and_the_unified_mount() {
        let layout = CgroupLayout {
            mounts: parse_mountinfo(HYBRID),
        };
        assert_eq!(
            layout.v1_mount("cpuacct"),
            Some(Path::new("/sys/fs/cgroup/cpu,cpuacct"))
        );
        assert_eq!(
            layout.v1_mount("memory"),
            Some(Path::new("/sys/fs/cgroup/memory"))
        );
        assert_eq!(
            layout.v1_mount("pids"),
            Some(Path::new("/sys/fs/cgroup/with space"))
        );
        assert_eq!(layout.v1_mount("systemd"), None);
        assert_eq!(layout.v2_mount(), Some(Path::new("/sys/fs/cgroup/unified")));
        assert_eq!(layout.mounts.len(), 5);
    }

    #[test]
    fn locate_explains_what_is_missing() {
        let layout = CgroupLayout {
            mounts: parse_mountinfo(HYBRID),
        };
        let err = layout.locate("freezer", CgroupMode::V1).unwrap_err();
        assert!(err.contains("freezer"), "{err}");
        let (v, p) = layout.locate("memory", CgroupMode::Auto).unwrap();
        assert_eq!(
            (v, p.as_path()),
            (CgroupVersion::V1, Path::new("/sys/fs/cgroup/memory"))
        );
    }

    #[test]
    fn keyed_files_parse() {
        let v = parse_keyed("nr_periods 10\nnr_throttled 3\nbad line x\n");
        assert_eq!(keyed(&v, "nr_throttled"), Some(3));
        assert_eq!(keyed(&v, "bad"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn mountinfo_parser_never_panics(s in "\\PC{0,200}") {
            let _ = parse_mountinfo(&s);
        }
    }
}
