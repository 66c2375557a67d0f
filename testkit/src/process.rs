//! Real `meso` processes for the end-to-end tests: finding the built binaries, loopback
//! ports, children whose stderr goes to a log file and which are SIGKILLed when dropped,
//! SIGSTOP/SIGCONT, waiting for an exit, a child's stdout read line by line, and the tail of
//! a log for failure messages.
//!
//! Invariants: a [`Proc`] never outlives its owner (dropping it kills and reaps the
//! child); every wait is hang-guarded by [`HANG_GUARD`] and never an assertion of speed.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::eventually::poll_within;
pub use crate::eventually::HANG_GUARD;

/// How many last lines of a log [`log_tail`] shows.
const LOG_TAIL_LINES: usize = 40;

/// The path of binary `name` built by cargo for this test run: `CARGO_BIN_EXE_<name>` when
/// the runner sets it (nextest does), else beside the test binary's `deps/` directory.
pub fn cargo_bin(name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(format!("CARGO_BIN_EXE_{name}")) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let dir = exe
        .parent()
        .map(|d| {
            if d.ends_with("deps") {
                d.parent().unwrap_or(d)
            } else {
                d
            }
        })
        .expect("the test binary lives in a directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "no {name} binary at {} (build it: it is a [[bin]] of a workspace crate)",
        path.display()
    );
    path
}

/// The path of example `name` of workspace package `package` (`target/<profile>/examples/`
/// beside the test binary's `deps/`), built with `cargo build --example` first when it is
/// missing (a test run of one package does not build another package's examples).
pub fn example_bin(package: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let profile_dir = exe
        .parent()
        .map(|d| {
            if d.ends_with("deps") {
                d.parent().unwrap_or(d)
            } else {
                d
            }
        })
        .expect("the test binary lives in a directory")
        .to_path_buf();
    let path = profile_dir.join("examples").join(name);
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "-q", "-p", package, "--example", name]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(
            status.success(),
            "cargo build -p {package} --example {name} failed"
        );
    }
    assert!(path.exists(), "no example {name} at {}", path.display());
    path
}

/// The `meso` binary built for this test run.
pub fn meso_bin() -> PathBuf {
    cargo_bin("meso")
}

/// A loopback port that was free when asked (bound and released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A child killed (SIGKILL) and reaped when dropped.
pub struct Proc(pub Child);

impl Proc {
    /// SIGKILL and reap (kill -9: no chance to clean up, as a crash).
    pub fn kill9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// The OS pid.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// SIGSTOP: the process stops running but keeps its sockets open, so peers see it
    /// hang rather than vanish.
    pub fn stop(&self) {
        self.signal(Signal::SIGSTOP);
    }

    /// SIGCONT: a stopped process runs again.
    pub fn cont(&self) {
        self.signal(Signal::SIGCONT);
    }

    fn signal(&self, signal: Signal) {
        let pid = i32::try_from(self.pid()).expect("pids fit in i32");
        kill(Pid::from_raw(pid), signal)
            .unwrap_or_else(|e| panic!("{signal} to process {pid}: {e}"));
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Starts `meso` with `args`, stderr to `log`, stdout discarded.
pub fn spawn_logged(args: &[&str], log: &Path) -> Proc {
    spawn_bin_logged(&meso_bin(), args, log)
}

/// Starts `bin` with `args`, stderr to `log`, stdout discarded.
pub fn spawn_bin_logged<S: AsRef<std::ffi::OsStr>>(bin: &Path, args: &[S], log: &Path) -> Proc {
    let file = std::fs::File::create(log).expect("log file");
    let child = Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("{} starts: {e}", bin.display()));
    Proc(child)
}

/// Starts `meso agent` on a free port, registering with `masters` (`host:port`, or several
/// joined by commas), with work dir `dir/<name>`, stderr to `dir/<name>.log`, `resources`,
/// and then `extra` flags.
pub fn spawn_agent(masters: &str, dir: &Path, name: &str, resources: &str, extra: &[&str]) -> Proc {
    let work = dir.join(name);
    let port = free_port().to_string();
    let mut args = vec![
        "agent",
        "--master",
        masters,
        "--port",
        &port,
        "--work-dir",
        work.to_str().expect("utf-8 temp path"),
        "--resources",
        resources,
    ];
    args.extend_from_slice(extra);
    spawn_logged(&args, &dir.join(format!("{name}.log")))
}

/// Waits for `child` to exit; past the hang guard kills it and panics naming `what`.
pub fn wait_exit(what: &str, child: &mut Child) -> ExitStatus {
    match poll_within(HANG_GUARD, || {
        child.try_wait().expect("the child can be waited for")
    }) {
        Ok(status) => status,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hang guard ({HANG_GUARD:?}): {what}");
        }
    }
}

/// A child's stdout lines, read on a thread as they come, and every line waited through.
pub struct Lines {
    rx: mpsc::Receiver<String>,
    /// The lines read so far by [`Lines::wait_for`], in order.
    pub seen: Vec<String>,
}

impl Lines {
    /// Takes `child`'s piped stdout and reads it on a thread.
    pub fn of(child: &mut Child) -> Lines {
        let stdout = child.stdout.take().expect("the child's stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    /// Reads lines (keeping them in `seen`) until one contains `what`; panics past the hang
    /// guard or when the child's stdout ends first.
    pub fn wait_for(&mut self, what: &str) {
        loop {
            let line = self
                .rx
                .recv_timeout(HANG_GUARD)
                .unwrap_or_else(|e| panic!("hang guard ({e}): {what}; saw {:?}", self.seen));
            self.seen.push(line.clone());
            if line.contains(what) {
                return;
            }
        }
    }
}

/// The last lines of the file at `path` (empty when it cannot be read).
pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(LOG_TAIL_LINES).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// The tails of the logs `names` in `dir`, each under a header naming it: what a failing
/// e2e test prints.
pub fn logs_in(dir: &Path, names: &[&str]) -> String {
    names
        .iter()
        .map(|f| format!("--- {f} (last lines)\n{}", log_tail(&dir.join(f))))
        .collect::<Vec<_>>()
        .join("\n")
}
