//! Process and HTTP helpers shared by the root end-to-end tests (included with `#[path]`):
//! loopback port picking, `meso` children (any, or an agent) whose stderr goes to a log file
//! and which are killed when dropped, a one-shot `GET` returning the body, a child's stdout read line by
//! line on a thread, and polling with a hang guard.
//! Invariant: the hang guard only stops a stuck test; it never asserts speed.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `meso` binary built for this test run.
pub const MESO: &str = env!("CARGO_BIN_EXE_meso");
/// How long a wait may last before the test is declared hung.
pub const HANG_GUARD: Duration = Duration::from_secs(120);

/// A loopback port that was free when asked.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A child killed (SIGKILL) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `meso` with `args`, stderr to `log`, stdout discarded.
pub fn spawn_logged(args: &[&str], log: &Path) -> Proc {
    let file = std::fs::File::create(log).expect("log file");
    let child = Command::new(MESO)
        .args(args)
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .expect("meso starts");
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

/// The body of `GET path` on loopback `port`, or `None` if anything failed.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// Polls `ok` every 50 ms until it holds; panics naming `what` past the hang guard.
pub fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < HANG_GUARD, "hang guard: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for `child` to exit (polled every 50 ms); panics naming `what` past the hang guard.
pub fn wait_exit(what: &str, child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        assert!(start.elapsed() < HANG_GUARD, "hang guard: {what}");
        std::thread::sleep(Duration::from_millis(50));
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
