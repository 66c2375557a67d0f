//! Three real `meso master` processes with `--peers` on loopback ports, for the failover
//! end-to-end tests and the failover benchmark: start them,
//! find the leader over HTTP, kill -9 it ([`Masters::kill9`], a crash), restart a killed
//! master on its own work dir ([`Masters::spawn`]), or stop and continue one with SIGSTOP /
//! SIGCONT ([`Masters::pause`], [`Masters::resume`]: it hangs with its sockets open, as a
//! master cut off from the others would).
//!
//! A master leads when `master/elected` is 1 in its `/metrics/snapshot`. Every wait has a
//! hang guard; none is an assertion of speed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::eventually::eventually_within;
use crate::http::blocking::try_get;
use crate::process::{free_port, spawn_bin_logged, Proc};

/// Whether the master on loopback `port` serves as the elected leader now (`master/elected`
/// is 1 in its `/metrics/snapshot`).
pub fn serves_as_leader_on(port: u16) -> bool {
    try_get(port, "/metrics/snapshot").is_some_and(|r| {
        r.status == 200
            && serde_json::from_slice::<serde_json::Value>(&r.body)
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
        self.procs[i] = Some(spawn_bin_logged(&self.meso, &args, &log));
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
        eventually_within("a master serves as leader", guard, || self.leader_now())
    }

    /// SIGKILLs master `i`.
    pub fn kill9(&mut self, i: usize) {
        if let Some(mut p) = self.procs[i].take() {
            p.kill9();
        }
    }

    /// SIGSTOPs master `i`: it stops answering but keeps its sockets and its work dir.
    pub fn pause(&self, i: usize) {
        self.procs[i]
            .as_ref()
            .unwrap_or_else(|| panic!("master {i} runs"))
            .stop();
    }

    /// SIGCONTs master `i` after [`Masters::pause`].
    pub fn resume(&self, i: usize) {
        self.procs[i]
            .as_ref()
            .unwrap_or_else(|| panic!("master {i} runs"))
            .cont();
    }

    /// Whether master `i` answers HTTP and names `leader_port`'s master as leader.
    pub fn follows(&self, i: usize, leader_port: u16) -> bool {
        try_get(self.ports[i], "/master/state").is_some_and(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).is_ok_and(|v| {
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
                // One text record per line: `... at_unix_ms=<digits> ...`.
                let rest = &l[l.find("at_unix_ms=")? + "at_unix_ms=".len()..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .next_back()
    }

    /// The OS process id of master `i`, if it runs (to read its memory from `/proc`).
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.procs[i].as_ref().map(|p| p.0.id())
    }

    /// The work and log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
