//! Three real `meso master` processes with `--peers` on loopback ports, for the failover
//! end-to-end test and the failover benchmark (included by both with `#[path]`): start them,
//! find the leader over HTTP, kill -9 it, restart a killed master on its own work dir.
//!
//! A master leads when `master/elected` is 1 in its `/metrics/snapshot`. Every wait has a
//! hang guard; none is an assertion of speed.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child killed (SIGKILL) when dropped.
pub struct Proc(pub Child);

impl Proc {
    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// The OS pid.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `GET path` on loopback `port`: (status, body), or `None` when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// Polls `ok` every 20 ms until it holds; panics naming `what` after `guard`.
pub fn wait_until(what: &str, guard: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < guard, "hang guard ({guard:?}): {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether the master on loopback `port` serves as the elected leader now (`master/elected`
/// is 1 in its `/metrics/snapshot`).
pub fn serves_as_leader_on(port: u16) -> bool {
    http_get(port, "/metrics/snapshot").is_some_and(|(status, body)| {
        status == 200
            && serde_json::from_str::<serde_json::Value>(&body)
                .is_ok_and(|v| v["master/elected"].as_f64() == Some(1.0))
    })
}

/// Three masters of one cluster.
pub struct Masters {
    meso: PathBuf,
    dir: PathBuf,
    /// Ports, in `--peers` order.
    pub ports: Vec<u16>,
    procs: Vec<Option<Proc>>,
    extra: Vec<String>,
    starts: Vec<usize>,
}

impl Masters {
    /// Starts `n` masters of `meso` with work dirs and logs under `dir`, each with the extra
    /// flags `extra`.
    pub fn start(meso: &Path, dir: &Path, n: usize, extra: &[&str]) -> Masters {
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let mut masters = Masters {
            meso: meso.to_path_buf(),
            dir: dir.to_path_buf(),
            ports,
            procs: (0..n).map(|_| None).collect(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            starts: vec![0; n],
        };
        for i in 0..n {
            masters.spawn(i);
        }
        masters
    }

    /// `127.0.0.1:p1,127.0.0.1:p2,...`: the `--peers` and `--master` value.
    pub fn addresses(&self) -> String {
        self.ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Starts master `i` (again) on its work dir; its log gets a new file per start.
    pub fn spawn(&mut self, i: usize) {
        let port = self.ports[i].to_string();
        let work = self.dir.join(format!("master{i}"));
        self.starts[i] += 1;
        let log = self.dir.join(format!("master{i}.{}.log", self.starts[i]));
        let file = std::fs::File::create(&log).expect("master log file");
        let peers = self.addresses();
        let mut args: Vec<String> = vec![
            "master".into(),
            "--port".into(),
            port,
            "--peers".into(),
            peers,
            "--work-dir".into(),
            work.display().to_string(),
        ];
        args.extend(self.extra.iter().cloned());
        let child = Command::new(&self.meso)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("meso master starts");
        self.procs[i] = Some(Proc(child));
    }

    /// Whether master `i` serves as the elected leader now (`master/elected` is 1 in its
    /// `/metrics/snapshot`, which stays small however many agents the leader has).
    pub fn serves_as_leader(&self, i: usize) -> bool {
        serves_as_leader_on(self.ports[i])
    }

    /// The index of a running master serving as leader now, if any.
    pub fn leader_now(&self) -> Option<usize> {
        (0..self.ports.len()).find(|&i| self.procs[i].is_some() && self.serves_as_leader(i))
    }

    /// Waits for a leader (hang guard `guard`).
    pub fn wait_leader(&self, guard: Duration) -> usize {
        let mut found = None;
        wait_until("a master serves as leader", guard, || {
            found = self.leader_now();
            found.is_some()
        });
        found.expect("wait_until returned, so a leader was found")
    }

    /// SIGKILLs master `i`.
    pub fn kill9(&mut self, i: usize) {
        if let Some(mut p) = self.procs[i].take() {
            p.kill9();
        }
    }

    /// Whether master `i` answers HTTP and names `leader_port`'s master as leader.
    pub fn follows(&self, i: usize, leader_port: u16) -> bool {
        http_get(self.ports[i], "/master/state").is_some_and(|(_, body)| {
            serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|v| {
                v["leader"]
                    .as_str()
                    .is_some_and(|l| l.ends_with(&format!(":{leader_port}")))
            })
        })
    }

    /// When master `i`'s current run last logged `elected: this master leads` (its
    /// `at_unix_ms`), if it did. Read from its log: a leader busy with thousands of agents
    /// answers `/metrics/snapshot` late, so polling would see the election late.
    pub fn elected_at_unix_ms(&self, i: usize) -> Option<u64> {
        let log = self.dir.join(format!("master{i}.{}.log", self.starts[i]));
        let text = std::fs::read_to_string(log).ok()?;
        text.lines()
            .filter(|l| l.contains("elected: this master leads"))
            .filter_map(|l| {
                let rest = &l[l.find("at_unix_ms: ")? + "at_unix_ms: ".len()..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .next_back()
    }

    /// The work and log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
