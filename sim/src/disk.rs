//! The simulated disk: an append-only file of checksummed records that belongs to the
//! world, not to the process writing it, so it outlives a crash of that process.
//!
//! A write lands in the page cache (`unsynced`); `sync` (fsync) moves everything written
//! so far to the platter (`durable`) or fails. Faults, drawn from the run's seed:
//! - an fsync fails ([`DiskFaults::fsync_fail_p`]); the file is then "broken" until the
//!   next crash (every later fsync fails too, as a real kernel may have dropped the dirty
//!   pages: the writer must not trust anything it did not see synced);
//! - a crash keeps some prefix of the unsynced bytes: none, all of them, or a cut inside a
//!   record (a torn last write, [`DiskFaults::torn_p`]);
//! - a crash in the middle of a write: [`SimDisk::on_next_write`] runs an action (the
//!   seat's crash request) at the next append, before its fsync.
//!
//! Record layout: `len: u32 LE`, `fnv64(payload): u64 LE`, payload. Reading stops at the
//! first record that is incomplete or fails its checksum, and truncates the file there
//! (what a log's recovery does with a torn tail).
//!
//! Invariant: every byte that a successful `sync` covered survives every later crash.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::rng::{fnv, SimRng};

const HEADER: usize = 12;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// The disk's fault probabilities.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DiskFaults {
    /// Probability that one fsync fails.
    pub fsync_fail_p: f64,
    /// Probability that a crash with unsynced bytes tears them inside a record (else all
    /// or none of them survive, evenly).
    pub torn_p: f64,
}

/// What a crash did to the unsynced tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashTail {
    /// Nothing was unsynced.
    Clean,
    /// The unsynced bytes were lost.
    Lost(usize),
    /// The unsynced bytes all reached the platter.
    Kept(usize),
    /// This many of that many unsynced bytes reached it (a torn write).
    Torn(usize, usize),
}

struct Inner {
    durable: Vec<u8>,
    unsynced: Vec<u8>,
    broken: bool,
    faults: DiskFaults,
    rng: SimRng,
    fsyncs: u64,
    failed_fsyncs: u64,
    on_write: Option<Box<dyn FnOnce() + Send>>,
    /// Crashes so far: a write's fsync after a crash belongs to a dead process.
    incarnation: u64,
}

/// One simulated file. Clones share it.
#[derive(Clone)]
pub struct SimDisk(Arc<Mutex<Inner>>);

/// Where one appended record ends, and in which incarnation of the writer (for
/// [`SimDisk::sync`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteEnd(pub u64, u64);

impl SimDisk {
    /// An empty file with these faults.
    pub fn new(rng: SimRng, faults: DiskFaults) -> SimDisk {
        SimDisk(Arc::new(Mutex::new(Inner {
            durable: Vec::new(),
            unsynced: Vec::new(),
            broken: false,
            faults,
            rng,
            fsyncs: 0,
            failed_fsyncs: 0,
            on_write: None,
            incarnation: 0,
        })))
    }

    /// Changes the faults (healing sets none).
    pub fn set_faults(&self, faults: DiskFaults) {
        self.0.lock().faults = faults;
    }

    /// Runs `action` at the next append (once), after the bytes reach the page cache.
    pub fn on_next_write(&self, action: impl FnOnce() + Send + 'static) {
        self.0.lock().on_write = Some(Box::new(action));
    }

    /// Forgets the action of [`SimDisk::on_next_write`].
    pub fn disarm(&self) {
        self.0.lock().on_write = None;
    }

    /// Appends one record (to the page cache).
    pub fn append(&self, payload: &[u8]) -> WriteEnd {
        let (end, action) = self.append_now(payload);
        if let Some(action) = action {
            action();
        }
        end
    }

    #[allow(clippy::type_complexity)]
    fn append_now(&self, payload: &[u8]) -> (WriteEnd, Option<Box<dyn FnOnce() + Send>>) {
        let mut s = self.0.lock();
        let len = u32::try_from(payload.len()).expect("invariant: a record is under 4 GiB");
        s.unsynced.extend_from_slice(&len.to_le_bytes());
        s.unsynced
            .extend_from_slice(&fnv(FNV_OFFSET, payload).to_le_bytes());
        s.unsynced.extend_from_slice(payload);
        let end = WriteEnd((s.durable.len() + s.unsynced.len()) as u64, s.incarnation);
        (end, s.on_write.take())
    }

    /// fsync: makes every byte up to `end` durable, or fails (and the file stays broken
    /// until the next crash).
    pub fn sync(&self, end: WriteEnd) -> Result<(), String> {
        let mut s = self.0.lock();
        if end.1 != s.incarnation {
            // The process that wrote it crashed: nothing of it may be acknowledged (its
            // bytes may be on the platter, torn, or gone).
            return Err("the writer crashed before this fsync".into());
        }
        if s.durable.len() as u64 >= end.0 {
            return Ok(());
        }
        s.fsyncs += 1;
        if s.broken {
            s.failed_fsyncs += 1;
            return Err("fsync failed earlier; the file is not trusted until a restart".into());
        }
        let p = s.faults.fsync_fail_p;
        if s.rng.chance(p) {
            s.broken = true;
            s.failed_fsyncs += 1;
            return Err("fsync failed (simulated EIO)".into());
        }
        let tail = std::mem::take(&mut s.unsynced);
        s.durable.extend_from_slice(&tail);
        Ok(())
    }

    /// The writing process crashed: some prefix of the unsynced bytes reaches the platter.
    pub fn crash(&self) -> CrashTail {
        let mut s = self.0.lock();
        s.broken = false;
        s.incarnation += 1;
        let tail = std::mem::take(&mut s.unsynced);
        if tail.is_empty() {
            return CrashTail::Clean;
        }
        let torn_p = s.faults.torn_p;
        let keep = if s.rng.chance(torn_p) {
            s.rng.range(1, tail.len() as u64 - 1) as usize
        } else if s.rng.chance(0.5) {
            tail.len()
        } else {
            0
        };
        s.durable.extend_from_slice(&tail[..keep]);
        if keep == 0 {
            CrashTail::Lost(tail.len())
        } else if keep == tail.len() {
            CrashTail::Kept(keep)
        } else {
            CrashTail::Torn(keep, tail.len())
        }
    }

    /// Opens the file after a crash: its whole records, in order; a torn or corrupt tail
    /// is cut off (its length is returned).
    pub fn recover(&self) -> (Vec<Vec<u8>>, usize) {
        let mut s = self.0.lock();
        debug_assert!(s.unsynced.is_empty(), "recover follows a crash");
        let mut records = Vec::new();
        let mut at = 0;
        let bytes = &s.durable;
        while bytes.len() - at >= HEADER {
            let len = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
            let sum = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().expect("8 bytes"));
            let Some(payload) = bytes.get(at + HEADER..at + HEADER + len) else {
                break;
            };
            if fnv(FNV_OFFSET, payload) != sum {
                break;
            }
            records.push(payload.to_vec());
            at += HEADER + len;
        }
        let cut = s.durable.len() - at;
        s.durable.truncate(at);
        (records, cut)
    }

    /// fsyncs done and failed.
    pub fn fsyncs(&self) -> (u64, u64) {
        let s = self.0.lock();
        (s.fsyncs, s.failed_fsyncs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(faults: DiskFaults) -> SimDisk {
        SimDisk::new(SimRng::stream(7, "disk"), faults)
    }

    #[test]
    fn synced_records_survive_a_crash_and_unsynced_ones_may_not() {
        let d = disk(DiskFaults::default());
        let end = d.append(b"one");
        d.sync(end).unwrap();
        d.append(b"two");
        let tail = d.crash();
        let (records, _) = d.recover();
        assert_eq!(records[0], b"one");
        match tail {
            CrashTail::Lost(_) => assert_eq!(records.len(), 1),
            CrashTail::Kept(_) => assert_eq!(records.len(), 2),
            other => panic!("no torn writes asked for: {other:?}"),
        }
    }

    #[test]
    fn an_fsync_after_the_writer_crashed_fails() {
        let d = disk(DiskFaults::default());
        let end = d.append(b"in flight");
        d.crash();
        d.recover();
        let later = d.append(b"the next process writes");
        d.sync(later).unwrap();
        assert!(
            d.sync(end).is_err(),
            "the dead writer's fsync acknowledges nothing"
        );
    }

    #[test]
    fn a_torn_tail_is_cut_at_the_last_whole_record() {
        let d = disk(DiskFaults {
            torn_p: 1.0,
            ..Default::default()
        });
        let end = d.append(b"kept");
        d.sync(end).unwrap();
        d.append(&[9u8; 100]);
        assert!(matches!(d.crash(), CrashTail::Torn(..)));
        let (records, cut) = d.recover();
        assert_eq!(records, vec![b"kept".to_vec()]);
        assert!(cut > 0);
        let (again, cut) = d.recover();
        assert_eq!((again.len(), cut), (1, 0), "recovery truncated the tail");
    }

    #[test]
    fn after_a_failed_fsync_nothing_syncs_until_a_crash() {
        let d = disk(DiskFaults {
            fsync_fail_p: 1.0,
            ..Default::default()
        });
        let end = d.append(b"x");
        assert!(d.sync(end).is_err());
        d.set_faults(DiskFaults::default());
        assert!(d.sync(end).is_err(), "still broken");
        d.crash();
        d.recover();
        let end = d.append(b"y");
        assert!(d.sync(end).is_ok());
    }
}
