//! Test processes and helpers shared by the integration tests.
#![allow(dead_code)]

use libprocess::{
    Context, Handlers, HttpReply, HttpRequest, Node, Pid, Process, RemoteMessage, Upid,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::mpsc;

/// Hang guard for awaits in tests: generous, never an assertion of speed.
pub const GUARD: Duration = Duration::from_secs(60);

/// A numbered note.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Note(pub u64);
impl RemoteMessage for Note {
    const NAME: &'static str = "test.Note";
}

/// A text message.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);
impl RemoteMessage for Text {
    const NAME: &'static str = "test.Text";
}

/// What a recorder saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Initialized(Upid),
    Note { from: Option<Upid>, n: u64 },
    Text { from: Option<Upid>, text: String },
    Exited(Upid),
    Http { route: String, body: String },
    Finalized,
}

/// The recorder's messages.
pub enum RecMsg {
    Note(Note),
    Text(Text),
    Link(Upid),
    Forward { to: Upid, n: u64 },
}
impl From<Note> for RecMsg {
    fn from(n: Note) -> Self {
        RecMsg::Note(n)
    }
}
impl From<Text> for RecMsg {
    fn from(t: Text) -> Self {
        RecMsg::Text(t)
    }
}

/// Records every hook into a channel; answers asks of `Note(n)` with `Note(n + 1)`; answers
/// HTTP with the route; `stream` routes open a chunked response of three chunks.
pub struct Recorder {
    pub events: mpsc::UnboundedSender<Event>,
}

impl Recorder {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Recorder { events: tx }, rx)
    }
}

impl Process for Recorder {
    type Message = RecMsg;
    fn base_name(&self) -> &str {
        "recorder"
    }
    fn install(h: &mut Handlers<Self>) {
        h.on::<Note>().on::<Text>();
    }
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        let _ = self
            .events
            .send(Event::Initialized(ctx.self_upid().clone()));
    }
    fn handle(&mut self, ctx: &mut Context<Self>, msg: RecMsg) {
        match msg {
            RecMsg::Note(Note(n)) => {
                let _ = self.events.send(Event::Note {
                    from: ctx.from().cloned(),
                    n,
                });
                let _ = ctx.reply(Note(n + 1));
            }
            RecMsg::Text(Text(text)) => {
                let _ = self.events.send(Event::Text {
                    from: ctx.from().cloned(),
                    text,
                });
            }
            RecMsg::Link(upid) => ctx.link(&upid),
            RecMsg::Forward { to, n } => {
                // Recorder: tests assert on the notes that arrive, so a failed send shows there.
                let _ = ctx.send(&to, Note(n));
            }
        }
    }
    fn exited(&mut self, _ctx: &mut Context<Self>, pid: Upid) {
        let _ = self.events.send(Event::Exited(pid));
    }
    fn http(&mut self, _ctx: &mut Context<Self>, request: HttpRequest, reply: HttpReply) {
        let _ = self.events.send(Event::Http {
            route: request.route.clone(),
            body: String::from_utf8_lossy(&request.body).into_owned(),
        });
        if request.route == "/stream" {
            let stream = reply.stream(http::StatusCode::OK, http::HeaderMap::new());
            for chunk in ["one\n", "two\n", "three\n"] {
                stream.send(chunk).unwrap();
            }
            return;
        }
        reply.respond(libprocess::HttpResponse::text(
            http::StatusCode::OK,
            format!("route={} query={:?}", request.route, request.query),
        ));
    }
    fn finalize(&mut self, _ctx: &mut Context<Self>) {
        let _ = self.events.send(Event::Finalized);
    }
}

/// Next event, with a hang guard.
pub async fn next(rx: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(GUARD, rx.recv())
        .await
        .expect("hang guard: an event was expected")
        .expect("recorder channel open")
}

/// Skips the `Initialized` event.
pub async fn started(rx: &mut mpsc::UnboundedReceiver<Event>) {
    assert!(matches!(next(rx).await, Event::Initialized(_)));
}

/// A node on loopback whose timers follow the test clock `clock`.
pub async fn clocked_node(clock: &libprocess::TestClock) -> Node {
    Node::builder()
        .test_clock(clock)
        .build()
        .await
        .expect("node binds on loopback")
}

/// A recorder spawned on `node`, past its `Initialized` event, with its events.
pub async fn recorder(node: &Node) -> (Pid<Recorder>, mpsc::UnboundedReceiver<Event>) {
    let (rec, mut rx) = Recorder::new();
    let pid = node.spawn(rec).expect("a recorder spawns");
    started(&mut rx).await;
    (pid, rx)
}

/// Has recorder `from` forward notes `0..count` to `to`, in order.
pub fn forward_notes(from: &Pid<Recorder>, to: &Upid, count: u64) {
    for n in 0..count {
        from.send(RecMsg::Forward { to: to.clone(), n })
            .expect("the recorder runs");
    }
}

pub async fn node() -> Node {
    Node::builder()
        .build()
        .await
        .expect("node binds on loopback")
}

/// A raw HTTP/1.1 exchange on a fresh connection; returns the whole response text.
pub async fn raw_http(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(GUARD, s.read_to_end(&mut out))
        .await
        .expect("hang guard: the server closes the connection");
    String::from_utf8_lossy(&out).into_owned()
}

/// GET `path` with `Connection: close`.
pub async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    raw_http(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
}

/// Reads a metric from `/metrics/snapshot` over HTTP.
pub async fn metric(addr: std::net::SocketAddr, name: &str) -> f64 {
    let text = get(addr, "/metrics/snapshot").await;
    let body = text.split_once("\r\n\r\n").expect("a body").1;
    let json: serde_json::Value = serde_json::from_str(body).expect("snapshot is json");
    json[name]
        .as_f64()
        .unwrap_or_else(|| panic!("metric {name} in {json}"))
}

/// Waits (hang-guarded) until `check` holds, polling.
pub async fn eventually(mut check: impl AsyncFnMut() -> bool) {
    let start = std::time::Instant::now();
    while !check().await {
        assert!(start.elapsed() < GUARD, "hang guard: condition never held");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A slog drain that keeps every message, for tests that check a log line was written.
#[derive(Clone, Default)]
pub struct CapturedLog(pub std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl slog::Drain for CapturedLog {
    type Ok = ();
    type Err = slog::Never;
    fn log(
        &self,
        record: &slog::Record<'_>,
        _values: &slog::OwnedKVList,
    ) -> Result<(), slog::Never> {
        self.0.lock().unwrap().push(record.msg().to_string());
        Ok(())
    }
}

impl CapturedLog {
    pub fn logger(&self) -> slog::Logger {
        slog::Logger::root(self.clone(), slog::o!())
    }
    pub fn contains(&self, text: &str) -> bool {
        self.0.lock().unwrap().iter().any(|m| m.contains(text))
    }
}
