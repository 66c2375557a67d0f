//! Web UI benchmark (`scripts/bench/ui.sh`): one release `meso master` (a Raft cluster of
//! one, on a work dir) and `meso agent-emulator` with `--agents` emulated agents of
//! `--tasks-per-agent` tasks; the master is killed and restarted once so that every agent
//! re-registers with its tasks (the emulator reports tasks only on re-registration). Then,
//! in headless Chromium (chromedriver, `meso_testkit::browser`):
//!
//! - `ui_first_view_ms_p50` / `_max`: `--loads` cold loads of `/` (each in a new browser
//!   session, so nothing is cached): navigation start to the overview rendered (its
//!   summary and the first page of each task table drawn; the page records
//!   `performance.now()` then, as `window.__mesoFirstViewMs`);
//! - `ui_idle_bytes_per_min`: with the overview open and the cluster idle, the bytes
//!   Chromium's network log counts as received by the page (`Network.dataReceived`,
//!   the larger of its wire and decoded lengths) over `--idle-secs`, scaled to a minute; and `ui_idle_requests_per_min`,
//!   the requests it started then.
//!
//! Prints `name: value unit` lines. Usage: ui_bench [--meso PATH] [--agents N]
//! [--tasks-per-agent M] [--loads N] [--idle-secs S]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use meso_testkit::browser::Browser;
use meso_testkit::http::blocking::try_get;
use meso_testkit::masters::Masters;
use meso_testkit::process::Proc;
use serde_json::Value;

const GUARD: Duration = Duration::from_secs(600);

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[rank.min(v.len() - 1)]
}

fn wait_wave(lines: &mpsc::Receiver<String>, wave: u64) {
    let want = format!("emulator all_registered wave={wave} ");
    loop {
        let line = lines
            .recv_timeout(GUARD)
            .unwrap_or_else(|_| panic!("hang guard: waiting for `{want}`"));
        if line.starts_with(&want) {
            return;
        }
    }
}

fn main() {
    let mut meso = PathBuf::from("target/release/meso");
    let mut agents = 10_000usize;
    let mut tasks = 10usize;
    let mut loads = 5usize;
    let mut idle_secs = 60u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--meso" => meso = value().into(),
            "--agents" => agents = value().parse().expect("--agents: a number"),
            "--tasks-per-agent" => tasks = value().parse().expect("--tasks-per-agent: a number"),
            "--loads" => loads = value().parse().expect("--loads: a number"),
            "--idle-secs" => idle_secs = value().parse().expect("--idle-secs: a number"),
            other => panic!("unknown argument {other}"),
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut master = Masters::start(&meso, dir.path(), 1, &[]);
    master.wait_leader(GUARD);
    let mut child = Command::new(&meso)
        .args(["agent-emulator", "--master", &master.addresses()])
        .args(["--agents", &agents.to_string()])
        .args(["--tasks-per-agent", &tasks.to_string()])
        .args(["--initial-spread", "2secs"])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(dir.path().join("emulator.log")).expect("emulator log"),
        ))
        .spawn()
        .expect("meso agent-emulator starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let _emulator = Proc(child);
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    wait_wave(&lines, 1);
    master.kill9(0);
    master.spawn(0);
    master.wait_leader(GUARD);
    wait_wave(&lines, 2);
    let port = master.ports[0];
    let overview: Value = serde_json::from_slice(
        &try_get(port, "/master/overview")
            .expect("the master answers /master/overview")
            .body,
    )
    .expect("the overview is JSON");
    eprintln!(
        "cluster: {} active agents, {} active tasks",
        overview["agents"]["active"], overview["tasks"]["active"]
    );
    let url = format!("http://127.0.0.1:{port}/");

    let mut first_view = Vec::new();
    for _ in 0..loads {
        let browser = Browser::start();
        browser.goto(&url);
        browser.wait_for("the overview rendered", "body[data-overview=rendered]");
        let ms = browser
            .execute("return window.__mesoFirstViewMs;", vec![])
            .as_f64()
            .expect("the page recorded its first view");
        first_view.push(ms);
    }
    println!(
        "ui_first_view_ms_p50: {:.0} ms",
        percentile(&first_view, 50.0)
    );
    println!(
        "ui_first_view_ms_max: {:.0} ms",
        percentile(&first_view, 100.0)
    );

    let browser = Browser::start();
    browser.goto(&url);
    browser.wait_for("the overview rendered", "body[data-overview=rendered]");
    // Let the load's own requests (the refresh after SUBSCRIBED) finish, then start counting.
    std::thread::sleep(Duration::from_secs(5));
    let _ = browser.network_log();
    std::thread::sleep(Duration::from_secs(idle_secs));
    let events = browser.network_log();
    let bytes: f64 = events
        .iter()
        .filter(|e| e["method"] == "Network.dataReceived")
        .map(|e| {
            let p = &e["params"];
            // The larger of the bytes on the wire and the bytes decoded: a streamed
            // response may report its wire bytes only when it ends.
            p["encodedDataLength"]
                .as_f64()
                .unwrap_or(0.0)
                .max(p["dataLength"].as_f64().unwrap_or(0.0))
        })
        .sum();
    let requests = events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .count();
    let per_min = 60.0 / idle_secs as f64;
    println!("ui_idle_bytes_per_min: {:.0} B", bytes * per_min);
    println!("ui_idle_requests_per_min: {:.1}", requests as f64 * per_min);
}
