//! One check, run for real and blocking, within its timeout.
//!
//! - COMMAND: `/bin/sh -c <value>` (or `value` with `arguments` when `shell` is false) in
//!   the task's sandbox and environment plus the check's own, as its own process group;
//!   the exit code is the result. On timeout the whole group gets SIGKILL.
//! - HTTP: `GET <path>` to `127.0.0.1:<port>` over `std::net` (a request and the status
//!   line, nothing more); the status code is the result. HTTPS runs `curl -k` (Mesos runs
//!   every HTTP check through curl, not verifying certificates), keeping TLS out of the
//!   executor's own memory.
//! - TCP: a connect to `127.0.0.1:<port>`.
//!
//! [`Outcome::passed`] is Mesos's reading for a health check (exit 0, a status in
//! 200..=399, a connection); [`Outcome::check_status`] is the general check's result.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meso_api::v1::{
    CheckInfo, CheckStatusCommand, CheckStatusHttp, CheckStatusInfo, CheckStatusTcp, CheckType,
    CommandInfo, HealthCheck, HealthCheckType,
};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// What a check probes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Run a command.
    Command(CommandInfo),
    /// GET a path on a local port.
    Http {
        /// Port on 127.0.0.1.
        port: u16,
        /// Path, starting with `/`.
        path: String,
        /// Through TLS (curl).
        https: bool,
    },
    /// Connect to a local port.
    Tcp {
        /// Port on 127.0.0.1.
        port: u16,
    },
}

fn port(value: u32) -> Option<u16> {
    u16::try_from(value).ok().filter(|p| *p != 0)
}

impl Target {
    /// The target of a health check; `None` when its type and parts do not fit (the
    /// master's validation refuses those).
    pub fn of_health_check(check: &HealthCheck) -> Option<Self> {
        match check.kind? {
            HealthCheckType::Command => check.command.clone().map(Target::Command),
            HealthCheckType::Http => check.http.as_ref().and_then(|h| {
                Some(Target::Http {
                    port: port(h.port)?,
                    path: h.path.clone().unwrap_or_else(|| "/".into()),
                    https: h.scheme.as_deref() == Some("https"),
                })
            }),
            HealthCheckType::Tcp => check.tcp.as_ref().and_then(|t| {
                Some(Target::Tcp {
                    port: port(t.port)?,
                })
            }),
            HealthCheckType::Unknown => None,
        }
    }

    /// The target of a general check, as [`Target::of_health_check`].
    pub fn of_check(check: &CheckInfo) -> Option<Self> {
        match check.kind? {
            CheckType::Command => check
                .command
                .as_ref()
                .map(|c| Target::Command(c.command.clone())),
            CheckType::Http => check.http.as_ref().and_then(|h| {
                Some(Target::Http {
                    port: port(h.port)?,
                    path: h.path.clone().unwrap_or_else(|| "/".into()),
                    https: false,
                })
            }),
            CheckType::Tcp => check.tcp.as_ref().and_then(|t| {
                Some(Target::Tcp {
                    port: port(t.port)?,
                })
            }),
            CheckType::Unknown => None,
        }
    }
}

/// Where a COMMAND check runs: the task's working directory and environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// Working directory (the sandbox).
    pub cwd: Option<PathBuf>,
    /// Variables set on top of the executor's own (the task's, then the check's win).
    pub env: Vec<(String, String)>,
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The command exited with this code (a signal `n` reads as `128 + n`).
    Exited(i32),
    /// The HTTP server answered with this status code.
    Status(u16),
    /// The TCP connection was made (true) or refused (false).
    Connected(bool),
    /// The check could not run or did not finish in time.
    Failed(String),
}

impl Outcome {
    /// Whether a health check passed: exit 0, a status in 200..=399, a connection.
    pub fn passed(&self) -> bool {
        match self {
            Outcome::Exited(code) => *code == 0,
            Outcome::Status(code) => (200..400).contains(code),
            Outcome::Connected(made) => *made,
            Outcome::Failed(_) => false,
        }
    }

    /// The general check's result of `kind` (empty when the check could not run).
    pub fn check_status(&self, kind: CheckType) -> CheckStatusInfo {
        let mut status = CheckStatusInfo::empty(kind);
        match (kind, self) {
            (CheckType::Command, Outcome::Exited(code)) => {
                status.command = Some(CheckStatusCommand {
                    exit_code: Some(*code),
                })
            }
            (CheckType::Http, Outcome::Status(code)) => {
                status.http = Some(CheckStatusHttp {
                    status_code: Some(u32::from(*code)),
                })
            }
            (CheckType::Tcp, Outcome::Connected(made)) => {
                status.tcp = Some(CheckStatusTcp {
                    succeeded: Some(*made),
                })
            }
            _ => {}
        }
        status
    }

    /// A short description for logs.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Exited(code) => format!("exited with status {code}"),
            Outcome::Status(code) => format!("answered HTTP {code}"),
            Outcome::Connected(true) => "connected".into(),
            Outcome::Connected(false) => "connection refused".into(),
            Outcome::Failed(why) => why.clone(),
        }
    }
}

/// Runs one check of `target` within `timeout` (zero: no limit but a day).
pub fn run(target: &Target, context: &Context, timeout: Duration) -> Outcome {
    let timeout = if timeout.is_zero() {
        Duration::from_secs(24 * 3600)
    } else {
        timeout
    };
    let deadline = Instant::now() + timeout;
    match target {
        Target::Command(command) => run_command(command, context, deadline, timeout),
        Target::Http {
            port,
            path,
            https: false,
        } => http_get(*port, path, deadline),
        Target::Http {
            port,
            path,
            https: true,
        } => https_get(*port, path, deadline, timeout),
        Target::Tcp { port } => tcp_connect(*port, timeout),
    }
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn run_command(
    command: &CommandInfo,
    context: &Context,
    deadline: Instant,
    timeout: Duration,
) -> Outcome {
    let Some(value) = command.value.as_deref() else {
        return Outcome::Failed("the check's command has no value".into());
    };
    let mut cmd = if command.shell {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(value);
        c
    } else {
        let mut c = Command::new(value);
        if let Some((argv0, rest)) = command.arguments.split_first() {
            use std::os::unix::process::CommandExt;
            c.arg0(argv0).args(rest);
        }
        c
    };
    for (name, value) in &context.env {
        cmd.env(name, value);
    }
    if let Some(environment) = &command.environment {
        for var in &environment.variables {
            cmd.env(&var.name, var.value.as_deref().unwrap_or(""));
        }
    }
    if let Some(dir) = &context.cwd {
        cmd.current_dir(dir);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match spawn_in_group(cmd) {
        Ok(child) => match wait_until(child, deadline) {
            Some(code) => Outcome::Exited(code),
            None => Outcome::Failed(format!("command did not finish within {timeout:?}")),
        },
        Err(e) => Outcome::Failed(format!("cannot start the check's command: {e}")),
    }
}

fn spawn_in_group(mut cmd: Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0).spawn()
}

/// Waits for `child` until `deadline`: its exit code (`128 + signal` when signalled), or
/// `None` after killing its whole group at the deadline.
fn wait_until(mut child: Child, deadline: Instant) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    let mut pause = Duration::from_millis(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return Some(
                    status
                        .code()
                        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
                )
            }
            Ok(None) => {}
            Err(_) => return None,
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

fn http_get(port: u16, path: &str, deadline: Instant) -> Outcome {
    let fail = |what: &str, e: std::io::Error| Outcome::Failed(format!("{what}: {e}"));
    let Some(left) = remaining(deadline) else {
        return Outcome::Failed("timed out".into());
    };
    let mut stream = match TcpStream::connect_timeout(&local(port), left) {
        Ok(s) => s,
        Err(e) => return fail("cannot connect", e),
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: meso-health-check\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.set_write_timeout(remaining(deadline));
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return fail("cannot send the request", e);
    }
    // Only the status line matters: `HTTP/1.x NNN ...`.
    let mut head = [0u8; 64];
    let mut filled = 0;
    while filled < 12 {
        let Some(left) = remaining(deadline) else {
            return Outcome::Failed("timed out waiting for the response".into());
        };
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => return fail("cannot read the response", e),
        }
    }
    parse_status_line(&head[..filled])
        .map(Outcome::Status)
        .unwrap_or_else(|| Outcome::Failed("not an HTTP response".into()))
}

/// The status code of `HTTP/1.x NNN`.
fn parse_status_line(bytes: &[u8]) -> Option<u16> {
    let rest = bytes.strip_prefix(b"HTTP/1.")?;
    let code = rest.get(2..5)?;
    if rest.get(1) != Some(&b' ') || !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

fn https_get(port: u16, path: &str, deadline: Instant, timeout: Duration) -> Outcome {
    let mut cmd = Command::new("curl");
    cmd.args(["-k", "-s", "-S", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg("--max-time")
        .arg(format!("{:.3}", timeout.as_secs_f64()))
        .arg(format!("https://127.0.0.1:{port}{path}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = match spawn_in_group(cmd) {
        Ok(child) => child,
        Err(e) => return Outcome::Failed(format!("cannot run curl for an HTTPS check: {e}")),
    };
    let stdout = child.stdout.take();
    if wait_until(child, deadline).is_none() {
        return Outcome::Failed(format!("HTTPS check did not finish within {timeout:?}"));
    }
    let mut text = String::new();
    if let Some(mut out) = stdout {
        let _ = out.by_ref().take(16).read_to_string(&mut text);
    }
    match text.trim().parse::<u16>() {
        Ok(code) if code > 0 => Outcome::Status(code),
        _ => Outcome::Failed("no HTTPS response".into()),
    }
}

fn tcp_connect(port: u16, timeout: Duration) -> Outcome {
    match TcpStream::connect_timeout(&local(port), timeout) {
        Ok(_) => Outcome::Connected(true),
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            Outcome::Failed(format!("connect did not finish within {timeout:?}"))
        }
        Err(_) => Outcome::Connected(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn status_lines_are_parsed() {
        assert_eq!(parse_status_line(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(parse_status_line(b"HTTP/1.0 503"), Some(503));
        assert_eq!(parse_status_line(b"HTTP/1.1 2x4"), None);
        assert_eq!(parse_status_line(b"SSH-2.0"), None);
    }

    #[test]
    fn commands_run_in_the_context_and_time_out() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ok"), "").unwrap();
        let context = Context {
            cwd: Some(dir.path().to_path_buf()),
            env: vec![("WANT".into(), "ok".into())],
        };
        let check = |line: &str, timeout| {
            run(
                &Target::Command(CommandInfo::shell(line)),
                &context,
                timeout,
            )
        };
        assert_eq!(
            check("test -f \"$WANT\"", Duration::from_secs(30)),
            Outcome::Exited(0)
        );
        assert_eq!(check("exit 3", Duration::from_secs(30)), Outcome::Exited(3));
        let slow = check("sleep 30", Duration::from_millis(200));
        assert!(
            matches!(slow, Outcome::Failed(ref why) if why.contains("within")),
            "{slow:?}"
        );
        assert!(!slow.passed());
    }

    #[test]
    fn http_and_tcp_checks_reach_a_local_server() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /ready HTTP/1.1\r\n"));
            conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            listener
        });
        let target = Target::Http {
            port,
            path: "/ready".into(),
            https: false,
        };
        let outcome = run(&target, &Context::default(), Duration::from_secs(30));
        assert_eq!(outcome, Outcome::Status(503));
        assert!(!outcome.passed());
        assert_eq!(
            outcome
                .check_status(CheckType::Http)
                .http
                .unwrap()
                .status_code,
            Some(503)
        );
        let listener = server.join().unwrap();
        let tcp = run(
            &Target::Tcp { port },
            &Context::default(),
            Duration::from_secs(30),
        );
        assert_eq!(tcp, Outcome::Connected(true));
        drop(listener);
        let refused = run(
            &Target::Tcp { port },
            &Context::default(),
            Duration::from_secs(30),
        );
        assert_eq!(refused, Outcome::Connected(false));
        assert_eq!(
            refused.check_status(CheckType::Tcp).tcp.unwrap().succeeded,
            Some(false)
        );
        let http_down = run(&target, &Context::default(), Duration::from_secs(30));
        assert!(matches!(http_down, Outcome::Failed(_)));
        assert_eq!(
            http_down.check_status(CheckType::Http),
            CheckStatusInfo::empty(CheckType::Http)
        );
    }
}
