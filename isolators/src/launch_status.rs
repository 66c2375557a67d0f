//! The status pipe between the launcher (`launcher.rs`) and its forked child (`child.rs`):
//! the names of the child's setup steps and the fixed-size record a failing step writes.
//!
//! The launcher makes a close-on-exec pipe before the fork. A child whose setup step fails
//! writes one record, `(step index, errno)` as two native-endian 32-bit integers, and
//! `_exit`s; a child that reaches `execve` writes nothing, and the pipe's end-of-file is
//! the launcher's sign of success. Invariant: [`encode`] neither allocates nor locks (the
//! child runs it between fork and exec); [`decode`] accepts any bytes and names an unknown
//! or short record as such instead of failing.

/// Size of one status record.
pub(crate) const RECORD_BYTES: usize = 8;

/// The child's setup steps, in order; an index into this travels back on failure.
pub(crate) const STEPS: &[&str] = &[
    "reset signals",
    "setsid",
    "join cgroup",
    "unshare mount namespace",
    "make mounts private",
    "bind rootfs",
    "bind sandbox",
    "bind device",
    "mount /proc",
    "pivot_root",
    "fork command in pid namespace",
    "dup2 stdio",
    "chdir",
    "exec",
    "bind volume",
    "remount volume read-only",
    "switch user",
];
pub(crate) const STEP_SIGNALS: u32 = 0;
pub(crate) const STEP_SETSID: u32 = 1;
pub(crate) const STEP_CGROUP: u32 = 2;
pub(crate) const STEP_UNSHARE: u32 = 3;
pub(crate) const STEP_PRIVATE: u32 = 4;
pub(crate) const STEP_BIND_ROOTFS: u32 = 5;
pub(crate) const STEP_BIND_SANDBOX: u32 = 6;
pub(crate) const STEP_BIND_DEVICE: u32 = 7;
pub(crate) const STEP_PROC: u32 = 8;
pub(crate) const STEP_PIVOT: u32 = 9;
pub(crate) const STEP_FORK: u32 = 10;
pub(crate) const STEP_STDIO: u32 = 11;
pub(crate) const STEP_CHDIR: u32 = 12;
pub(crate) const STEP_EXEC: u32 = 13;
pub(crate) const STEP_BIND_VOLUME: u32 = 14;
pub(crate) const STEP_VOLUME_READ_ONLY: u32 = 15;
pub(crate) const STEP_USER: u32 = 16;

/// The record for `step` failing with `errno` (no allocation: the child calls this).
pub(crate) fn encode(step: u32, errno: i32) -> [u8; RECORD_BYTES] {
    let mut buf = [0u8; RECORD_BYTES];
    buf[..4].copy_from_slice(&step.to_ne_bytes());
    buf[4..].copy_from_slice(&errno.to_ne_bytes());
    buf
}

/// The step's name and the errno in `record` (the bytes the launcher read before
/// end-of-file). An index past [`STEPS`] is "unknown step"; a record cut short is
/// "unknown step (short status record)" with errno 0.
pub(crate) fn decode(record: &[u8]) -> (&'static str, i32) {
    let (Some(step), Some(errno)) = (record.get(..4), record.get(4..RECORD_BYTES)) else {
        return ("unknown step (short status record)", 0);
    };
    let mut step_bytes = [0u8; 4];
    step_bytes.copy_from_slice(step);
    let mut errno_bytes = [0u8; 4];
    errno_bytes.copy_from_slice(errno);
    let step = u32::from_ne_bytes(step_bytes) as usize;
    (
        STEPS.get(step).copied().unwrap_or("unknown step"),
        i32::from_ne_bytes(errno_bytes),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_round_trips_with_its_errno() {
        for (index, name) in STEPS.iter().enumerate() {
            let record = encode(index as u32, libc::EPERM);
            assert_eq!(decode(&record), (*name, libc::EPERM));
        }
        assert_eq!(STEPS[STEP_EXEC as usize], "exec");
        assert_eq!(STEPS[STEP_SIGNALS as usize], "reset signals");
    }

    #[test]
    fn unknown_and_short_records_are_named_not_fatal() {
        assert_eq!(
            decode(&encode(99, libc::ENOENT)),
            ("unknown step", libc::ENOENT)
        );
        assert_eq!(
            decode(&[1, 2, 3]),
            ("unknown step (short status record)", 0)
        );
        assert_eq!(decode(&[]), ("unknown step (short status record)", 0));
    }
}
