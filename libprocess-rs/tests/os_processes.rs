//! Two OS processes: this test binary starts a copy of itself as a child node (the
//! `child_node_entry` function below does the child's work only when `LP_CHILD_NODE` is set),
//! then exchanges messages with it, asks it, links to it, and kills it.

mod common;

use common::*;
use libprocess::{Context, Handlers, Process, Upid};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Echoes every note back to its sender, and answers asks with n + 1.
struct Echo;

impl Process for Echo {
    type Message = Note;
    fn install(h: &mut Handlers<Self>) {
        h.on::<Note>();
    }
    fn handle(&mut self, ctx: &mut Context<Self>, Note(n): Note) {
        if ctx.reply(Note(n + 1)).unwrap_or(false) {
            return;
        }
        if let Some(from) = ctx.from().cloned() {
            // Test process: the test asserts on the notes that arrive.
            let _ = ctx.send(&from, Note(n));
        }
    }
}

/// Not a test: the child's body, which does its work only when the parent starts this
/// binary with `LP_CHILD_NODE` set (and returns at once otherwise). A `#[test]` because that
/// is how a test binary can run a chosen function of its own. Prints `UPID <upid>` and
/// serves until killed.
#[test]
fn child_node_entry() {
    if std::env::var_os("LP_CHILD_NODE").is_none() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let node = node().await;
        let pid = node.spawn_named("echo", Echo).unwrap();
        println!("UPID {}", pid.upid());
        // Serve until the parent kills this process.
        std::future::pending::<()>().await;
    });
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_child() -> (Child, Upid) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_node_entry",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("LP_CHILD_NODE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the test binary can start itself");
    let stdout = child.stdout.take().unwrap();
    let child = Child(child);
    let mut lines = BufReader::new(stdout).lines();
    let upid = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("child exited without printing its upid"))
            .unwrap();
        // libtest may print "test child_node_entry ... " on the same line first.
        if let Some(at) = line.find("UPID ") {
            break line[at + 5..].trim().parse::<Upid>().unwrap();
        }
    };
    // Keep draining the child's stdout so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, upid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_asks_and_links_cross_os_processes() {
    let (mut child, echo) = start_child();
    let node = node().await;
    let (me, mut rx) = recorder(&node).await;

    // Ask across processes.
    let reply: Note = node
        .ask(&echo, Note(1), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(reply, Note(2));

    // One-way both directions, in order.
    forward_notes(&me, &echo, 1000);
    for n in 0..1000 {
        assert_eq!(
            next(&mut rx).await,
            Event::Note {
                from: Some(echo.clone()),
                n
            }
        );
    }

    // Killing the other OS process breaks the connection: the link reports it.
    me.send(RecMsg::Link(echo.clone())).unwrap();
    // The recorder handles messages in order: once it reports this text, the link is set.
    me.send(RecMsg::Text(Text("linked".into()))).unwrap();
    assert!(matches!(next(&mut rx).await, Event::Text { .. }));
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    assert_eq!(next(&mut rx).await, Event::Exited(echo));
    node.shutdown().await;
}
