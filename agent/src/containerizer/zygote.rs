//! The executor zygote: a helper process, started once by the agent from the command
//! executor's binary, that forks (without `exec`) a fresh built-in command executor for
//! each container. Every process start costs the dynamic loader's work (on this kind of VM
//! mostly its `cpuid` cache probing, which traps to the hypervisor) and the binary's
//! relocation; the zygote pays them once and each executor starts from its copy.
//!
//! Shape:
//! - [`ExecutorZygote`] (agent side) starts `<binary> executor` with [`ZYGOTE_ENV`] set and
//!   its stdin/stdout as pipes, and asks it for one executor at a time: a [`LaunchRequest`]
//!   (sandbox directory and the complete environment) is written, a [`LaunchReply`] (the
//!   executor's pid, or why not) is read back. Blocking and short (one `clone`).
//! - [`serve`] (zygote side) is the zygote's whole life: a single-threaded loop that reads
//!   requests from stdin until EOF. For each it opens the sandbox's `stdout`/`stderr`, then
//!   `clone(CLONE_PARENT)`s: the executor is the agent's child, not the zygote's, so the
//!   agent reaps it and reads its exit status exactly as for a spawned executor. The child
//!   joins the container's cgroups (when the cgroup isolators gave some), enters the
//!   sandbox, puts `/dev/null` and the two log files on fds 0-2 (which also
//!   drops the zygote's pipes), replaces its environment, starts its own session (own
//!   process group) and runs the executor; it never returns into the loop.
//!
//! The codec ([`LaunchRequest::encode`], [`LaunchRequest::decode`], [`LaunchReply`]) is
//! pure and tested on its own. Invariants: the zygote never starts a thread (so the fork
//! copies a consistent process); it dies with the agent (EOF on its stdin, whose only
//! writer is the agent); a reply follows every request, in order. The containerizer uses the zygote only
//! for the built-in executor on the plain path (no isolator needs code between fork and
//! exec, no rootfs); anything else, or a zygote that failed, takes the exec path.

use std::ffi::CString;
use std::fs::File;
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::error::AgentError;
use crate::executor_contract::ZYGOTE_ENV;

/// Largest request or reply accepted (a sandbox path and an executor's environment fit
/// many times over).
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

const PEER: &str = "executor zygote";

fn protocol(reason: impl Into<String>) -> AgentError {
    AgentError::Protocol {
        peer: PEER.into(),
        reason: reason.into(),
    }
}

/// One executor to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchRequest {
    /// The sandbox: working directory, home of the `stdout`/`stderr` files.
    pub directory: PathBuf,
    /// The executor's complete environment (applied in order: a later value wins).
    pub env: Vec<(String, String)>,
    /// `cgroup.procs` files the executor joins before it runs (the cgroup isolators').
    pub cgroup_procs: Vec<PathBuf>,
}

impl LaunchRequest {
    /// The payload: NUL-terminated fields, the directory first, then `E<KEY>=<value>` per
    /// variable and `C<path>` per `cgroup.procs` file. A NUL anywhere, an empty key or a key
    /// with `=` cannot be carried (nor set) and is refused naming it.
    pub fn encode(&self) -> Result<Vec<u8>, AgentError> {
        let text = |p: &Path, what: &str| -> Result<String, AgentError> {
            match p.to_str() {
                Some(t) if !t.is_empty() && !t.contains('\0') => Ok(t.to_string()),
                _ => Err(protocol(format!("unusable {what} path {:?}", p.display()))),
            }
        };
        let mut out = Vec::with_capacity(256 + 64 * self.env.len());
        out.extend_from_slice(text(&self.directory, "sandbox")?.as_bytes());
        out.push(0);
        for (k, v) in &self.env {
            if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
                return Err(protocol(format!(
                    "environment variable {k:?}={v:?} cannot be set"
                )));
            }
            out.push(b'E');
            out.extend_from_slice(k.as_bytes());
            out.push(b'=');
            out.extend_from_slice(v.as_bytes());
            out.push(0);
        }
        for procs in &self.cgroup_procs {
            out.push(b'C');
            out.extend_from_slice(text(procs, "cgroup.procs")?.as_bytes());
            out.push(0);
        }
        Ok(out)
    }

    /// The request in `payload` (as [`LaunchRequest::encode`] makes it).
    pub fn decode(payload: &[u8]) -> Result<Self, AgentError> {
        let text = std::str::from_utf8(payload)
            .map_err(|e| protocol(format!("request is not UTF-8: {e}")))?;
        let body = text
            .strip_suffix('\0')
            .ok_or_else(|| protocol("request does not end with NUL"))?;
        let mut fields = body.split('\0');
        let directory = match fields.next() {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => return Err(protocol("request has no sandbox path")),
        };
        let mut request = LaunchRequest {
            directory,
            env: Vec::new(),
            cgroup_procs: Vec::new(),
        };
        for field in fields {
            match field.split_at_checked(1) {
                Some(("E", var)) => match var.split_once('=') {
                    Some((k, v)) if !k.is_empty() => {
                        request.env.push((k.to_string(), v.to_string()))
                    }
                    _ => return Err(protocol(format!("malformed environment entry {var:?}"))),
                },
                Some(("C", path)) if !path.is_empty() => request.cgroup_procs.push(path.into()),
                _ => return Err(protocol(format!("malformed request field {field:?}"))),
            }
        }
        Ok(request)
    }
}

/// The zygote's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchReply {
    /// The executor runs with this pid.
    Started(u32),
    /// Nothing was started, for this reason.
    Failed(String),
}

impl LaunchReply {
    /// `S<pid>` or `F<reason>`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            LaunchReply::Started(pid) => format!("S{pid}").into_bytes(),
            LaunchReply::Failed(reason) => format!("F{reason}").into_bytes(),
        }
    }

    /// The reply in `payload`.
    pub fn decode(payload: &[u8]) -> Result<Self, AgentError> {
        let text = String::from_utf8_lossy(payload);
        match text.split_at_checked(1) {
            Some(("S", pid)) => pid
                .parse::<u32>()
                .ok()
                .filter(|p| *p > 0)
                .map(LaunchReply::Started)
                .ok_or_else(|| protocol(format!("bad pid {pid:?} in reply"))),
            Some(("F", reason)) => Ok(LaunchReply::Failed(reason.to_string())),
            _ => Err(protocol(format!("unknown reply {text:?}"))),
        }
    }
}

/// Writes `payload` with its length (4 bytes, little endian) in front.
fn write_frame(w: &mut impl Write, payload: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| std::io::Error::other("message longer than 4 GiB"))?;
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(payload);
    w.write_all(&frame)?;
    w.flush()
}

/// Reads one frame; `Ok(None)` on EOF before its first byte.
fn read_frame(r: &mut impl Read) -> Result<Option<Vec<u8>>, AgentError> {
    let io = |source| AgentError::Io {
        what: "reading from",
        path: PEER.into(),
        source,
    };
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(io(e)),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_MESSAGE_BYTES {
        return Err(protocol(format!(
            "message of {len} bytes (at most {MAX_MESSAGE_BYTES})"
        )));
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).map_err(io)?;
    Ok(Some(payload))
}

/// The agent's handle on a running zygote.
#[derive(Debug)]
pub struct ExecutorZygote {
    program: PathBuf,
    process: Child,
    requests: ChildStdin,
    replies: ChildStdout,
}

impl ExecutorZygote {
    /// Starts `<program> executor` as a zygote (its stderr goes where the agent's does).
    pub fn start(program: &Path) -> Result<Self, AgentError> {
        let mut process = Command::new(program)
            .arg("executor")
            .env(ZYGOTE_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|source| AgentError::Io {
                what: "starting the executor zygote",
                path: program.display().to_string(),
                source,
            })?;
        let (Some(requests), Some(replies)) = (process.stdin.take(), process.stdout.take()) else {
            unreachable!("invariant: both pipes were asked for at spawn");
        };
        Ok(ExecutorZygote {
            program: program.to_path_buf(),
            process,
            requests,
            replies,
        })
    }

    /// The binary the zygote runs (its executors run the same code).
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Starts one executor; returns its pid (a child of this process, to be reaped here).
    /// An error leaves nothing running; an I/O or protocol error means the zygote is no
    /// longer usable.
    pub fn launch(&mut self, request: &LaunchRequest) -> Result<u32, ZygoteFailure> {
        let payload = request.encode().map_err(ZygoteFailure::Refused)?;
        write_frame(&mut self.requests, &payload).map_err(|source| {
            ZygoteFailure::Broken(AgentError::Io {
                what: "writing to",
                path: PEER.into(),
                source,
            })
        })?;
        let reply = read_frame(&mut self.replies)
            .map_err(ZygoteFailure::Broken)?
            .ok_or_else(|| ZygoteFailure::Broken(protocol("the zygote exited")))?;
        match LaunchReply::decode(&reply).map_err(ZygoteFailure::Broken)? {
            LaunchReply::Started(pid) => Ok(pid),
            LaunchReply::Failed(reason) => Err(ZygoteFailure::Refused(AgentError::Io {
                what: "starting executor in",
                path: request.directory.display().to_string(),
                source: std::io::Error::other(reason),
            })),
        }
    }
}

impl Drop for ExecutorZygote {
    fn drop(&mut self) {
        // Its executors are not its children: ending the zygote leaves them running.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Why a zygote launch did not start an executor.
#[derive(Debug)]
pub enum ZygoteFailure {
    /// This request cannot be served (bad sandbox, environment); the zygote is fine.
    Refused(AgentError),
    /// The zygote is gone or spoke nonsense: do not use it again.
    Broken(AgentError),
}

/// The zygote's main loop (see the module docs); returns the process exit code. Runs in
/// `<binary> executor` when [`ZYGOTE_ENV`] is set, before anything else
/// (`executor_main.rs`); each forked child runs `executor` and exits with its result.
pub fn serve(executor: fn() -> i32) -> i32 {
    // No PR_SET_PDEATHSIG: it fires when the agent *thread* that started the zygote ends,
    // not the agent. The agent holds the only write end of stdin (close-on-exec), so EOF
    // there is the agent's end.
    // Plain descriptors, not `std::io::stdin()`/`stdout()`: their locks would be held
    // across the fork and stay held in every executor. Not closed here (ManuallyDrop).
    // SAFETY: fds 0 and 1 are the pipes the agent gave this process and stay open.
    let mut input = ManuallyDrop::new(unsafe { File::from_raw_fd(0) });
    let mut output = ManuallyDrop::new(unsafe { File::from_raw_fd(1) });
    loop {
        let payload = match read_frame(&mut *input) {
            Ok(Some(p)) => p,
            Ok(None) => return 0,
            Err(e) => {
                eprintln!("meso executor zygote: {e}");
                return 1;
            }
        };
        let reply = match LaunchRequest::decode(&payload) {
            Ok(request) => start_executor(&request, executor),
            Err(e) => LaunchReply::Failed(e.to_string()),
        };
        if write_frame(&mut *output, &reply.encode()).is_err() {
            return 1;
        }
    }
}

/// Opens the sandbox's log file `name` for the executor (created, truncated).
fn open_log(directory: &Path, name: &str) -> Result<File, String> {
    let path = directory.join(name);
    File::create(&path).map_err(|e| format!("creating {}: {e}", path.display()))
}

/// Everything the child needs, prepared before the fork so the child only makes syscalls.
struct ChildSetup {
    directory: CString,
    /// The `cgroup.procs` files, open for writing.
    cgroups: Vec<File>,
    stdin: File,
    stdout: File,
    stderr: File,
}

/// Forks one executor for `request` (zygote side).
fn start_executor(request: &LaunchRequest, executor: fn() -> i32) -> LaunchReply {
    let setup = match prepare_child(request) {
        Ok(s) => s,
        Err(reason) => return LaunchReply::Failed(reason),
    };
    // SAFETY: a raw clone without CLONE_VM and without a new stack is a fork (the child
    // runs on its copy of this stack); CLONE_PARENT makes the agent its parent. The zygote
    // is single-threaded, so no lock is held by a thread that does not exist in the child.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    match pid {
        0 => run_child(setup, request, executor),
        p if p > 0 => LaunchReply::Started(p as u32),
        _ => LaunchReply::Failed(format!("clone: {}", std::io::Error::last_os_error())),
    }
}

fn prepare_child(request: &LaunchRequest) -> Result<ChildSetup, String> {
    let directory = CString::new(request.directory.as_os_str().as_encoded_bytes())
        .map_err(|_| format!("sandbox path {:?} holds NUL", request.directory))?;
    let stdin = File::open("/dev/null").map_err(|e| format!("opening /dev/null: {e}"))?;
    let cgroups = request
        .cgroup_procs
        .iter()
        .map(|p| {
            File::options()
                .write(true)
                .open(p)
                .map_err(|e| format!("opening {}: {e}", p.display()))
        })
        .collect::<Result<_, _>>()?;
    Ok(ChildSetup {
        directory,
        cgroups,
        stdin,
        stdout: open_log(&request.directory, "stdout")?,
        stderr: open_log(&request.directory, "stderr")?,
    })
}

/// The child's side: sandbox, descriptors, environment, session, then the executor.
fn run_child(setup: ChildSetup, request: &LaunchRequest, executor: fn() -> i32) -> ! {
    let fail = |what: &str| -> ! {
        let e = std::io::Error::last_os_error();
        let msg = format!("meso executor (zygote child): {what}: {e}\n");
        // SAFETY: write(2) of a valid buffer to fd 2; _exit ends the child at once.
        unsafe {
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::_exit(127)
        }
    };
    // SAFETY: plain syscalls on descriptors this process owns and a valid C string.
    unsafe {
        // First into the container's cgroups ("0": the writing process), so everything the
        // executor starts is inside.
        for file in setup.cgroups {
            if libc::write(file.as_raw_fd(), b"0".as_ptr().cast(), 1) != 1 {
                fail("joining a cgroup");
            }
        }
        if libc::chdir(setup.directory.as_ptr()) < 0 {
            fail("chdir to the sandbox");
        }
        for (file, target) in [(setup.stdin, 0), (setup.stdout, 1), (setup.stderr, 2)] {
            let fd = file.into_raw_fd();
            if libc::dup2(fd, target) < 0 {
                fail("dup2");
            }
            libc::close(fd);
        }
        // The environment is replaced, not merged: the executor sees only its own.
        libc::clearenv();
        // Last, as on the exec path (where the executor's first act is setsid): once the
        // session is visible from outside, the sandbox and descriptors are in place.
        if libc::setsid() < 0 {
            fail("setsid");
        }
    }
    // Single-threaded here, so setting the environment races with nothing.
    for (k, v) in &request.env {
        std::env::set_var(k, v);
    }
    let code = executor();
    // Flushes Rust's stdout and runs exit handlers, as a normal executor's end does.
    std::process::exit(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn is_open(file: &impl AsRawFd) -> bool {
        // SAFETY: fcntl F_GETFD on a descriptor number only reads its flags.
        unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFD) >= 0 }
    }

    #[test]
    fn request_round_trips_and_bad_fields_are_refused() {
        let r = LaunchRequest {
            directory: "/tmp/sand box".into(),
            env: vec![("A".into(), "x=y".into()), ("EMPTY".into(), String::new())],
            cgroup_procs: vec!["/sys/fs/cgroup/memory/m/c/cgroup.procs".into()],
        };
        assert_eq!(LaunchRequest::decode(&r.encode().unwrap()).unwrap(), r);
        for (k, v) in [("", "v"), ("A=B", "v"), ("A\0", "v"), ("A", "v\0w")] {
            let bad = LaunchRequest {
                directory: "/tmp".into(),
                env: vec![(k.into(), v.into())],
                cgroup_procs: vec![],
            };
            let err = bad.encode().unwrap_err().to_string();
            assert!(err.contains("cannot be set"), "{err}");
        }
        let err = LaunchRequest {
            directory: PathBuf::new(),
            env: vec![],
            cgroup_procs: vec![],
        }
        .encode()
        .unwrap_err();
        assert!(err.to_string().contains("sandbox"), "{err}");
        let err = LaunchRequest {
            directory: "/tmp".into(),
            env: vec![],
            cgroup_procs: vec!["".into()],
        }
        .encode()
        .unwrap_err();
        assert!(err.to_string().contains("cgroup.procs"), "{err}");
    }

    #[test]
    fn malformed_requests_and_replies_are_errors() {
        for bad in [
            &b""[..],
            b"/tmp",
            b"\0",
            b"/tmp\0noequals\0",
            b"/tmp\0=v\0",
            b"\xff\0",
        ] {
            assert!(LaunchRequest::decode(bad).is_err(), "{bad:?}");
        }
        for bad in [&b""[..], b"S", b"S0", b"Sx", b"Q1", b"S-4"] {
            assert!(LaunchReply::decode(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            LaunchReply::decode(b"Fno room").unwrap(),
            LaunchReply::Failed("no room".into())
        );
    }

    #[test]
    fn frames_carry_payloads_and_refuse_oversized_ones() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"one").unwrap();
        write_frame(&mut buf, b"").unwrap();
        let mut r = &buf[..];
        assert_eq!(read_frame(&mut r).unwrap(), Some(b"one".to_vec()));
        assert_eq!(read_frame(&mut r).unwrap(), Some(Vec::new()));
        assert_eq!(read_frame(&mut r).unwrap(), None);
        let huge = ((MAX_MESSAGE_BYTES + 1) as u32).to_le_bytes();
        let err = read_frame(&mut &huge[..]).unwrap_err().to_string();
        assert!(err.contains("bytes"), "{err}");
        // A frame cut short is an error, not a clean end.
        let mut cut = &buf[..5];
        assert!(read_frame(&mut cut).is_err());
    }

    #[test]
    fn child_setup_opens_the_logs_in_the_sandbox() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("procs"), "").unwrap();
        let setup = prepare_child(&LaunchRequest {
            directory: dir.path().to_path_buf(),
            env: vec![],
            cgroup_procs: vec![dir.path().join("procs")],
        })
        .unwrap();
        assert_eq!(setup.cgroups.len(), 1);
        assert!(is_open(&setup.stdout) && is_open(&setup.stderr) && is_open(&setup.stdin));
        assert!(dir.path().join("stdout").exists() && dir.path().join("stderr").exists());
        let err = prepare_child(&LaunchRequest {
            directory: dir.path().join("missing"),
            env: vec![],
            cgroup_procs: vec![],
        })
        .err()
        .unwrap();
        assert!(err.contains("missing"), "{err}");
        let err = prepare_child(&LaunchRequest {
            directory: dir.path().to_path_buf(),
            env: vec![],
            cgroup_procs: vec![dir.path().join("no-cgroup/cgroup.procs")],
        })
        .err()
        .unwrap();
        assert!(err.contains("no-cgroup"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn any_settable_request_round_trips(
            dir in "/[a-z0-9 ._/-]{1,40}",
            env in proptest::collection::vec(("[A-Z_][A-Z0-9_]{0,10}", "[^\0]{0,20}"), 0..8),
            cgroups in proptest::collection::vec("/[a-z0-9/]{1,30}", 0..4),
        ) {
            let r = LaunchRequest {
                directory: dir.into(),
                env,
                cgroup_procs: cgroups.into_iter().map(PathBuf::from).collect(),
            };
            prop_assert_eq!(LaunchRequest::decode(&r.encode().unwrap()).unwrap(), r);
        }

        #[test]
        fn replies_round_trip(pid in 1u32.., reason in "[^\0]{0,30}") {
            for reply in [LaunchReply::Started(pid), LaunchReply::Failed(reason.clone())] {
                prop_assert_eq!(LaunchReply::decode(&reply.encode()).unwrap(), reply);
            }
        }
    }
}
