//! A real headless Chromium for the web UI's tests, driven through `chromedriver` over the
//! W3C WebDriver HTTP protocol with the kit's own HTTP client (no WebDriver crate: the
//! dozen commands the tests use are a few lines each, and nothing more has to build
//! offline).
//!
//! [`Browser::start`] runs `chromedriver` (Debian's `chromium-driver`) on a free port and
//! opens one session of `chromium --headless=new` with its own profile directory, browser
//! and network logging on, and background networking off (so every request the logs show
//! comes from the page). [`skip_unless_browser!`](crate::skip_unless_browser) skips a test
//! on a machine without them, and fails it under `CI=true`, as `skip_unless_root!` does.
//!
//! Invariants: every wait is a hang guard through [`eventually`](crate::eventually), never
//! an assertion of speed; dropping the `Browser` ends the session and kills chromedriver
//! (which ends Chromium).

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::http::wire::{header, split_head};
use crate::process::free_port;

/// Where Debian installs the driver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where Debian installs the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether chromedriver and Chromium are installed; when not, reports the test as
/// skipped (or panics under `CI=true`, where `.ci/run` installs them).
pub fn has_browser_or_skip(test: &str) -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test} needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver), which CI installs");
    }
    use std::io::Write;
    let line = format!("SKIPPED {test}: no {CHROMIUM} or {CHROMEDRIVER}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    false
}

/// Returns from the test (after saying SKIPPED) when no Chromium is installed.
#[macro_export]
macro_rules! skip_unless_browser {
    () => {
        if !$crate::browser::has_browser_or_skip(&$crate::root::current_test(module_path!())) {
            return;
        }
    };
}

/// One headless Chromium session.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session (window 1400x1000).
    pub fn start() -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {CHROMEDRIVER}: {e}"));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        crate::eventually("chromedriver answers /status", || {
            exchange(addr, "GET", "/status", None, Duration::from_secs(5))
                .is_ok_and(|(_, doc)| doc["value"]["ready"] == true)
        });
        let profile = tempfile::tempdir().expect("a Chromium profile directory");
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1400,1000".into(),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-extensions".into(),
            "--disable-default-apps".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
            "unhandledPromptBehavior": "ignore",
        }}});
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
            _profile: profile,
        };
        let answer = browser.command("POST", "/session", Some(caps));
        browser.session = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver opened no session: {answer}"))
            .to_string();
        browser
    }

    /// Sends one WebDriver command; its `value`. Panics on a WebDriver error, naming it.
    pub fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, doc) = exchange(self.addr, method, path, body.as_ref(), READ_GUARD)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        if status >= 400 {
            panic!("WebDriver {method} {path} failed ({status}): {doc}");
        }
        doc["value"].clone()
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url` and waits for its load event.
    pub fn goto(&self, url: &str) {
        self.command(
            "POST",
            &self.session_path("/url"),
            Some(json!({"url": url})),
        );
    }

    /// The page's URL now.
    pub fn url(&self) -> String {
        self.command("GET", &self.session_path("/url"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page; its result.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.command(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({"script": script, "args": args})),
        )
    }

    /// The text of the first element matching `css`, or `None` when there is none.
    pub fn text(&self, css: &str) -> Option<String> {
        self.execute(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            vec![json!(css)],
        )
        .as_str()
        .map(str::to_string)
    }

    /// The texts of every element matching `css`.
    pub fn texts(&self, css: &str) -> Vec<String> {
        let v = self.execute(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent);",
            vec![json!(css)],
        );
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.execute(
            "return document.querySelectorAll(arguments[0]).length;",
            vec![json!(css)],
        )
        .as_u64()
        .unwrap_or(0) as usize
    }

    /// Waits (hang guard) until the first element matching `css` has text for which `ok`
    /// holds; that text.
    pub fn wait_text(&self, what: &str, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let mut seen = String::new();
        crate::eventually(what, || match self.text(css) {
            Some(t) if ok(&t) => {
                seen = t;
                true
            }
            _ => false,
        });
        seen
    }

    /// Waits until an element matches `css`.
    pub fn wait_for(&self, what: &str, css: &str) {
        crate::eventually(what, || self.count(css) > 0);
    }

    /// Clicks the first element matching `css` as a user would (WebDriver element click).
    pub fn click(&self, css: &str) {
        let element = self.element(css);
        self.command(
            "POST",
            &self.session_path(&format!("/element/{element}/click")),
            Some(json!({})),
        );
    }

    /// Types `text` into the first element matching `css`.
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.command(
            "POST",
            &self.session_path(&format!("/element/{element}/value")),
            Some(json!({"text": text})),
        );
    }

    fn element(&self, css: &str) -> String {
        let v = self.command(
            "POST",
            &self.session_path("/element"),
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element matches {css}"))
            .to_string()
    }

    /// Runs a Chrome DevTools protocol command (chromedriver's `goog/cdp/execute`), e.g.
    /// `Emulation.setEmulatedMedia`; its result.
    pub fn devtools(&self, command: &str, params: Value) -> Value {
        self.command(
            "POST",
            &self.session_path("/goog/cdp/execute"),
            Some(json!({"cmd": command, "params": params})),
        )
    }

    /// Writes a PNG screenshot of the page to `path` (its directory is created).
    pub fn screenshot(&self, path: &Path) {
        let b64 = self.command("GET", &self.session_path("/screenshot"), None);
        let png = decode_base64(b64.as_str().unwrap_or_default());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create the screenshot directory");
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// The console messages logged since the last call (`{level, message}`).
    pub fn console(&self) -> Vec<Value> {
        self.log("browser")
    }

    /// The URLs of every request the page made since the last look at the network log.
    pub fn requests(&self) -> Vec<String> {
        self.network_log()
            .iter()
            .filter(|m| m["method"] == "Network.requestWillBeSent")
            .filter_map(|m| m["params"]["request"]["url"].as_str().map(str::to_string))
            .collect()
    }

    /// Chromium's DevTools network events since the last look (`{method, params}` each:
    /// `Network.requestWillBeSent`, `Network.dataReceived`, ...).
    pub fn network_log(&self) -> Vec<Value> {
        self.log("performance")
            .iter()
            .filter_map(|entry| {
                let m: Value = serde_json::from_str(entry["message"].as_str()?).ok()?;
                let event = m["message"].clone();
                event["method"]
                    .as_str()
                    .is_some_and(|name| name.starts_with("Network."))
                    .then_some(event)
            })
            .collect()
    }

    fn log(&self, kind: &str) -> Vec<Value> {
        self.command(
            "POST",
            &self.session_path("/se/log"),
            Some(json!({"type": kind})),
        )
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// Where a test writes its screenshots: `target/ui-screenshots/` of the workspace.
    pub fn screenshot_dir() -> PathBuf {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .parent()
                    .expect("the kit lives in the workspace")
                    .join("target")
            });
        target.join("ui-screenshots")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = exchange(self.addr, "DELETE", &path, None, Duration::from_secs(10));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Hang guard on one WebDriver answer (a page load is one command).
const READ_GUARD: Duration = Duration::from_secs(120);

/// One WebDriver request and its JSON answer. chromedriver wants a loopback `Host` and
/// keeps connections open, so the answer is read by its `Content-Length`, not to the close.
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
    guard: Duration,
) -> std::io::Result<(u16, Value)> {
    use std::io::{Error, Read, Write};
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(guard))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        if let Some((at, status, headers)) = split_head(&raw) {
            let length: usize = header(&headers, "content-length")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if raw.len() >= at + length {
                let doc = serde_json::from_slice(&raw[at..at + length]).unwrap_or(Value::Null);
                return Ok((status, doc));
            }
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(Error::other(
                "chromedriver closed the connection mid-answer",
            ));
        }
        raw.extend_from_slice(&buf[..n]);
    }
}

/// Standard base64 (with padding) to bytes; characters outside the alphabet are skipped.
pub fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u32> = text.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().fold(0u32, |acc, d| (acc << 6) | d) << (6 * (4 - chunk.len()));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(decode_base64("aGVsbG8="), b"hello");
        assert_eq!(decode_base64("aGVsbG8h"), b"hello!");
        assert_eq!(decode_base64("aGk="), b"hi");
        assert_eq!(decode_base64(""), b"");
    }
}
