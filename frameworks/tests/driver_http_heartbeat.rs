//! The HTTP driver's heartbeat timeout through the public API, against a fake v1 master (std
//! sockets, one thread per connection): the master answers SUBSCRIBE with SUBSCRIBED and a
//! heartbeat interval of 0.1 s, then stays silent on the open stream. After three missed
//! heartbeats (of the driver's paused clock, moved by the test) the driver drops the stream, tells the scheduler it is disconnected, and
//! subscribes again with its framework id, which the master answers: re-registered. Waits
//! are hang guards.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use libprocess::{Node, TestClock, Upid};
use meso_api::v1::{FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskStatus};
use meso_frameworks::{DriverActions, Scheduler, SchedulerDriver};

/// Reads one request: its first line and its body.
fn read_request(stream: &TcpStream) -> Option<(String, String)> {
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((first, String::from_utf8_lossy(&body).into_owned()))
}

/// A fake master: each SUBSCRIBE body goes to `subscribes` and gets SUBSCRIBED (framework
/// `f1`, heartbeats every 0.1 s) on a stream that then stays silent; other calls get 202.
fn fake_master(subscribes: mpsc::Sender<String>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let subscribes = subscribes.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                while let Some((_, body)) = read_request(&stream) {
                    if !body.contains("\"SUBSCRIBE\"") {
                        let _ =
                            stream.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
                        continue;
                    }
                    let _ = subscribes.send(body);
                    let event = serde_json::json!({"type": "SUBSCRIBED", "subscribed": {
                        "framework_id": {"value": "f1"}, "heartbeat_interval_seconds": 0.1}})
                    .to_string();
                    let record = format!("{}\n{event}", event.len());
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                        Mesos-Stream-Id: s1\r\nTransfer-Encoding: chunked\r\n\r\n";
                    let chunk = format!("{:x}\r\n{record}\r\n", record.len());
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(chunk.as_bytes());
                    // Silent from now on; the connection stays open until the test ends.
                    std::thread::sleep(Duration::from_secs(120));
                    return;
                }
            });
        }
    });
    port
}

/// Reports its callbacks by name.
struct Recorder(mpsc::Sender<&'static str>);

impl Scheduler for Recorder {
    fn registered(&mut self, _: &mut DriverActions<'_>, _: &FrameworkId, _: &MasterInfo) {
        let _ = self.0.send("registered");
    }
    fn reregistered(&mut self, _: &mut DriverActions<'_>, _: &MasterInfo) {
        let _ = self.0.send("reregistered");
    }
    fn disconnected(&mut self, _: &mut DriverActions<'_>) {
        let _ = self.0.send("disconnected");
    }
    fn resource_offers(&mut self, _: &mut DriverActions<'_>, _: Vec<Offer>) {}
    fn status_update(&mut self, _: &mut DriverActions<'_>, _: &TaskStatus) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_stream_is_dropped_after_three_heartbeats_and_the_driver_resubscribes() {
    let (subscribes_tx, subscribes) = mpsc::channel();
    let port = fake_master(subscribes_tx);
    let (events_tx, events) = mpsc::channel();
    let master: Upid = format!("master@127.0.0.1:{port}").parse().expect("a pid");
    let info = FrameworkInfo::new("tester", "heartbeats");
    let driver = SchedulerDriver::new(master, info, Box::new(Recorder(events_tx))).over_http();
    let clock = TestClock::paused();
    let node = Node::builder().test_clock(&clock).build().await;
    let node = node.expect("node starts");
    let _driver = node.spawn(driver).expect("driver spawns");
    let guard = Duration::from_secs(60);
    let next = || events.recv_timeout(guard).expect("hang guard: a callback");
    assert_eq!(next(), "registered");
    // One second of the driver's time: ten announced intervals, but not three of the
    // default 15 s ones (the driver must go by the interval SUBSCRIBED announced).
    clock.advance(Duration::from_secs(1));
    assert_eq!(next(), "disconnected", "no heartbeat for three intervals");
    assert_eq!(next(), "reregistered");
    let first = subscribes.recv_timeout(guard).expect("first SUBSCRIBE");
    let second = subscribes.recv_timeout(guard).expect("second SUBSCRIBE");
    assert!(!first.contains("\"f1\""), "{first}");
    assert!(
        second.contains("\"f1\""),
        "resubscribes with its id: {second}"
    );
}
