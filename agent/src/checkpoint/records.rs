//! The framing of every checkpoint file: a file is a sequence of frames
//! `[length: u32 LE][crc32 of the payload: u32 LE][payload]`. `.info` and pid files hold one
//! frame (a JSON value, or the pid in decimal); `task.updates` appends one frame per JSON
//! [`UpdateRecord`]. The checksum is what lets a reader tell a garbled file from a valid
//! one, even where the garbled bytes would still parse.
//!
//! Pure: encoding and decoding work on byte slices. Decoding reads records until the end
//! of the bytes and reports how far they were valid:
//! - a tail shorter than its header or its declared length is a **torn write** (the agent
//!   died mid-append): the records before it are the state, the tail is to be cut off;
//! - a record whose checksum or JSON does not match is **garbled**: decoding stops there
//!   and names the byte offset and the problem.
//!
//! Invariant: `decode(encode(a) ++ encode(b) ++ ...)` returns exactly `[a, b, ...]` with
//! no problem, and decoding any prefix of such bytes returns a prefix of the records.

use meso_api::wire::StatusUpdate;
use serde::{Deserialize, Serialize};

/// Largest record accepted when reading (a status update is a few KiB; a larger length is
/// a garbled header, not a record).
pub const MAX_RECORD_BYTES: u32 = 4 << 20;
const HEADER_BYTES: usize = 8;

/// One entry of a task's status update stream on disk (Mesos's `StatusUpdateRecord`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // written and read one at a time
pub enum UpdateRecord {
    /// The agent took this update (before forwarding it).
    Update(StatusUpdate),
    /// The framework acknowledged the update with this uuid.
    Ack {
        /// The acknowledged update's uuid.
        uuid: Vec<u8>,
    },
}

/// Where decoding stopped early, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// The bytes end inside a record (an interrupted append); harmless, cut it off.
    TornTail {
        /// Offset of the incomplete record.
        offset: u64,
    },
    /// A complete record that is not what was written.
    Garbled {
        /// Offset of the bad record.
        offset: u64,
        /// What is wrong with it.
        problem: String,
    },
}

/// Records decoded from a file, the length of the valid prefix, and the damage past it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The records of the valid prefix, in order.
    pub records: Vec<UpdateRecord>,
    /// Bytes of the valid prefix.
    pub valid_len: u64,
    /// What follows the valid prefix, if anything.
    pub damage: Option<Damage>,
}

/// The bytes of one frame holding `payload`.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len())
        .expect("invariant: a checkpointed value is far smaller than 4 GiB");
    let mut out = Vec::with_capacity(HEADER_BYTES + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The payload of a file written as exactly one frame, or what is wrong with it.
pub fn single_frame(bytes: &[u8]) -> Result<&[u8], String> {
    let (payloads, valid_len, damage) = frames(bytes);
    match (damage, payloads.as_slice()) {
        (Some(Damage::TornTail { offset }), _) => Err(format!(
            "truncated: {} bytes, the frame at byte {offset} is incomplete",
            bytes.len()
        )),
        (Some(Damage::Garbled { offset, problem }), _) => {
            Err(format!("garbled at byte {offset}: {problem}"))
        }
        (None, [one]) => Ok(one),
        (None, []) => Err("is empty".into()),
        (None, many) => Err(format!(
            "holds {} frames where one was written ({valid_len} bytes)",
            many.len()
        )),
    }
}

/// The bytes of one update record.
pub fn encode(record: &UpdateRecord) -> Vec<u8> {
    let payload = serde_json::to_vec(record)
        .expect("invariant: an UpdateRecord of plain data always serializes to JSON");
    frame(&payload)
}

/// Decodes every update record in `bytes`, stopping at the first damaged one.
pub fn decode(bytes: &[u8]) -> Decoded {
    let (payloads, _, mut damage) = frames(bytes);
    let mut records = Vec::new();
    let mut valid_len = 0u64;
    for payload in payloads {
        match serde_json::from_slice::<UpdateRecord>(payload) {
            Ok(record) => records.push(record),
            Err(e) => {
                damage = Some(Damage::Garbled {
                    offset: valid_len,
                    problem: format!("record is not a status update record: {e}"),
                });
                break;
            }
        }
        valid_len += (HEADER_BYTES + payload.len()) as u64;
    }
    Decoded {
        records,
        valid_len,
        damage,
    }
}

/// The payloads of the valid frames in `bytes`, the bytes they span, and the damage after.
fn frames(bytes: &[u8]) -> (Vec<&[u8]>, u64, Option<Damage>) {
    let mut payloads = Vec::new();
    let mut at = 0usize;
    let damage = loop {
        let rest = &bytes[at..];
        if rest.is_empty() {
            break None;
        }
        if rest.len() < HEADER_BYTES {
            break Some(Damage::TornTail { offset: at as u64 });
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let sum = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_RECORD_BYTES {
            break Some(Damage::Garbled {
                offset: at as u64,
                problem: format!("record length {len} exceeds the {MAX_RECORD_BYTES}-byte limit"),
            });
        }
        let end = HEADER_BYTES + len as usize;
        if rest.len() < end {
            break Some(Damage::TornTail { offset: at as u64 });
        }
        let payload = &rest[HEADER_BYTES..end];
        let actual = crc32(payload);
        if actual != sum {
            break Some(Damage::Garbled {
                offset: at as u64,
                problem: format!("checksum mismatch (stored {sum:08x}, computed {actual:08x})"),
            });
        }
        payloads.push(payload);
        at += end;
    };
    (payloads, at as u64, damage)
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// CRC-32 (IEEE 802.3, the one of zlib and gzip).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for b in bytes {
        c = CRC_TABLE[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{FrameworkId, TaskId, TaskState, TaskStatus};
    use proptest::prelude::*;

    fn update(uuid: u8, state: TaskState) -> UpdateRecord {
        let mut status = TaskStatus::new(TaskId::new("t"), state);
        status.uuid = Some(vec![uuid; 16]);
        UpdateRecord::Update(StatusUpdate {
            framework_id: FrameworkId::new("fw"),
            executor_id: None,
            agent_id: None,
            status,
            timestamp: 1.5,
            uuid: Some(vec![uuid; 16]),
            latest_state: None,
        })
    }

    fn record(n: u8) -> UpdateRecord {
        match n % 3 {
            0 => update(n, TaskState::Running),
            1 => update(n, TaskState::Finished),
            _ => UpdateRecord::Ack { uuid: vec![n; 16] },
        }
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn records_round_trip() {
        let recs = vec![record(0), record(1), record(2)];
        let bytes: Vec<u8> = recs.iter().flat_map(encode).collect();
        let d = decode(&bytes);
        assert_eq!(d.records, recs);
        assert_eq!(d.valid_len, bytes.len() as u64);
        assert_eq!(d.damage, None);
    }

    #[test]
    fn a_flipped_payload_byte_is_named_garbled_at_its_record() {
        let first = encode(&record(0));
        let mut bytes = first.clone();
        bytes.extend(encode(&record(2)));
        let last = bytes.len() - 3;
        bytes[last] ^= 0x40;
        let d = decode(&bytes);
        assert_eq!(d.records, vec![record(0)]);
        assert_eq!(d.valid_len, first.len() as u64);
        match d.damage {
            Some(Damage::Garbled { offset, problem }) => {
                assert_eq!(offset, first.len() as u64);
                assert!(problem.contains("checksum"), "{problem}");
            }
            other => panic!("expected garbled, got {other:?}"),
        }
    }

    #[test]
    fn an_absurd_length_is_garbled_not_an_allocation() {
        let mut bytes = u32::MAX.to_le_bytes().to_vec();
        bytes.extend([0; 8]);
        assert!(matches!(
            decode(&bytes).damage,
            Some(Damage::Garbled { offset: 0, .. })
        ));
    }

    proptest! {
        /// Any prefix of a file of records decodes to a prefix of the records, torn at most
        /// at the record it ends in; any single corrupted byte yields a valid prefix of
        /// the records and damage at or before the corrupted record.
        #[test]
        fn truncation_and_garbling_yield_a_valid_prefix(
            ns in prop::collection::vec(any::<u8>(), 0..8),
            cut in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            xor in 1u8..=255,
        ) {
            let recs: Vec<UpdateRecord> = ns.iter().map(|n| record(*n)).collect();
            let mut ends = Vec::new();
            let mut bytes = Vec::new();
            for r in &recs {
                bytes.extend(encode(r));
                ends.push(bytes.len());
            }
            // Truncation.
            let at = if bytes.is_empty() { 0 } else { cut.index(bytes.len() + 1) };
            let d = decode(&bytes[..at]);
            let whole = ends.iter().filter(|e| **e <= at).count();
            prop_assert_eq!(&d.records[..], &recs[..whole]);
            let valid = if whole == 0 { 0 } else { ends[whole - 1] };
            prop_assert_eq!(d.valid_len, valid as u64);
            if at == valid {
                prop_assert_eq!(d.damage, None);
            } else {
                prop_assert_eq!(d.damage, Some(Damage::TornTail { offset: valid as u64 }));
            }
            // Garbling one byte.
            if !bytes.is_empty() {
                let i = flip.index(bytes.len());
                let mut bad = bytes.clone();
                bad[i] ^= xor;
                let d = decode(&bad);
                let hit = ends.iter().filter(|e| **e <= i).count();
                prop_assert!(d.records.len() <= hit);
                prop_assert_eq!(&d.records[..], &recs[..d.records.len()]);
                prop_assert!(d.damage.is_some());
            }
        }
    }
}
