//! RecordIO framing (Mesos's `docs/recordio.md`): `<decimal length>\n<length bytes>`,
//! records back to back with nothing between them.
//!
//! [`encode`] writes one record. [`Decoder`] reads a stream fed in arbitrary pieces (HTTP
//! chunk boundaries mean nothing to the framing) and refuses, with a typed
//! [`RecordIoError`], a length that has a non-digit, is zero, overflows `u64`, has more
//! than 20 digits or exceeds the decoder's record limit. After an error the decoder stays
//! failed: the stream cannot be resynchronised.

use thiserror::Error;

/// Most digits a length may have (`u64::MAX` has 20).
const MAX_LENGTH_DIGITS: usize = 20;

/// Why a RecordIO stream was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordIoError {
    /// A byte other than an ASCII digit where the length (or its `\n`) was expected.
    #[error(
        "RecordIO: expected a decimal length, found byte 0x{byte:02x} at stream offset {offset}"
    )]
    NonDigit {
        /// The byte.
        byte: u8,
        /// Its offset from the start of the stream.
        offset: u64,
    },
    /// A `\n` with no digits before it.
    #[error("RecordIO: empty length at stream offset {offset}")]
    EmptyLength {
        /// Offset of the `\n`.
        offset: u64,
    },
    /// A record of length 0 (Mesos never writes one).
    #[error("RecordIO: zero-length record at stream offset {offset}")]
    ZeroLength {
        /// Offset of the length's `\n`.
        offset: u64,
    },
    /// A length that does not fit in 64 bits or has too many digits.
    #[error("RecordIO: length '{digits}' overflows")]
    Overflow {
        /// The digits read so far.
        digits: String,
    },
    /// A record longer than the decoder accepts.
    #[error("RecordIO: record of {length} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The announced length.
        length: u64,
        /// The decoder's limit.
        limit: usize,
    },
    /// The stream ended inside a record.
    #[error("RecordIO: stream ended inside a record ({buffered} bytes buffered)")]
    Truncated {
        /// Bytes of the unfinished record (length digits included).
        buffered: usize,
    },
}

/// One record: `data.len()` in decimal, `\n`, then `data`.
pub fn encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + MAX_LENGTH_DIGITS + 1);
    encode_into(data, &mut out);
    out
}

/// Appends one record to `out`.
pub fn encode_into(data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(data.len().to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(data);
}

/// Where the decoder is inside the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Reading length digits; the value and digit count so far.
    Length { value: u64, digits: usize },
    /// Reading a record's bytes; how many are still missing.
    Data { remaining: usize },
    /// Refused; every later call returns the error.
    Failed(RecordIoError),
}

/// An incremental RecordIO decoder with a record size limit.
#[derive(Debug, Clone)]
pub struct Decoder {
    max_record_bytes: usize,
    state: State,
    /// The record being read.
    record: Vec<u8>,
    /// Stream offset of the next byte fed.
    offset: u64,
}

impl Decoder {
    /// A decoder refusing records longer than `max_record_bytes`.
    pub fn new(max_record_bytes: usize) -> Self {
        Decoder {
            max_record_bytes,
            state: State::Length {
                value: 0,
                digits: 0,
            },
            record: Vec::new(),
            offset: 0,
        }
    }

    /// Feeds the next bytes of the stream; returns the records they complete, in order.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, RecordIoError> {
        let mut records = Vec::new();
        while !bytes.is_empty() {
            match &mut self.state {
                State::Failed(e) => return Err(e.clone()),
                State::Length { value, digits } => {
                    let byte = bytes[0];
                    let offset = self.offset;
                    bytes = &bytes[1..];
                    self.offset += 1;
                    match byte {
                        b'0'..=b'9' => {
                            let next = value
                                .checked_mul(10)
                                .and_then(|v| v.checked_add(u64::from(byte - b'0')));
                            *digits += 1;
                            match next {
                                Some(v) if *digits <= MAX_LENGTH_DIGITS => *value = v,
                                _ => {
                                    let digits = format!("{value}{}", byte as char);
                                    return Err(self.fail(RecordIoError::Overflow { digits }));
                                }
                            }
                        }
                        b'\n' if *digits == 0 => {
                            return Err(self.fail(RecordIoError::EmptyLength { offset }));
                        }
                        b'\n' => {
                            let length = *value;
                            if length == 0 {
                                return Err(self.fail(RecordIoError::ZeroLength { offset }));
                            }
                            if length > self.max_record_bytes as u64 {
                                return Err(self.fail(RecordIoError::TooLarge {
                                    length,
                                    limit: self.max_record_bytes,
                                }));
                            }
                            // Fits in usize: it is at most max_record_bytes.
                            let remaining = length as usize;
                            self.record = Vec::with_capacity(remaining.min(1 << 20));
                            self.state = State::Data { remaining };
                        }
                        other => {
                            return Err(self.fail(RecordIoError::NonDigit {
                                byte: other,
                                offset,
                            }));
                        }
                    }
                }
                State::Data { remaining } => {
                    let take = (*remaining).min(bytes.len());
                    self.record.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    self.offset += take as u64;
                    *remaining -= take;
                    if *remaining == 0 {
                        records.push(std::mem::take(&mut self.record));
                        self.state = State::Length {
                            value: 0,
                            digits: 0,
                        };
                    }
                }
            }
        }
        match &self.state {
            State::Failed(e) => Err(e.clone()),
            _ => Ok(records),
        }
    }

    /// Declares the end of the stream: an error if it stopped inside a record.
    pub fn finish(&self) -> Result<(), RecordIoError> {
        match &self.state {
            State::Failed(e) => Err(e.clone()),
            State::Length { digits: 0, .. } => Ok(()),
            State::Length { digits, .. } => Err(RecordIoError::Truncated { buffered: *digits }),
            State::Data { .. } => Err(RecordIoError::Truncated {
                buffered: self.record.len(),
            }),
        }
    }

    fn fail(&mut self, error: RecordIoError) -> RecordIoError {
        self.state = State::Failed(error.clone());
        self.record = Vec::new();
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_length_newline_bytes_with_nothing_after() {
        assert_eq!(
            encode(b"{\"type\":\"HEARTBEAT\"}"),
            b"20\n{\"type\":\"HEARTBEAT\"}"
        );
        let mut two = encode(b"ab");
        encode_into(b"c", &mut two);
        assert_eq!(two, b"2\nab1\nc");
    }

    #[test]
    fn decodes_split_anywhere() {
        let stream = b"2\nab10\n0123456789";
        for cut in 0..=stream.len() {
            let mut d = Decoder::new(64);
            let mut got = d.feed(&stream[..cut]).unwrap();
            got.extend(d.feed(&stream[cut..]).unwrap());
            assert_eq!(
                got,
                vec![b"ab".to_vec(), b"0123456789".to_vec()],
                "cut {cut}"
            );
            d.finish().unwrap();
        }
    }

    #[test]
    fn refuses_bad_lengths() {
        let err = |bytes: &[u8]| Decoder::new(100).feed(bytes).unwrap_err();
        assert_eq!(
            err(b"x"),
            RecordIoError::NonDigit {
                byte: b'x',
                offset: 0
            }
        );
        // A newline after a record (what some servers wrongly add) is an empty length.
        assert_eq!(err(b"1\na\n1\nb"), RecordIoError::EmptyLength { offset: 3 });
        assert_eq!(
            err(b" 1\na"),
            RecordIoError::NonDigit {
                byte: b' ',
                offset: 0
            }
        );
        assert_eq!(
            err(b"-1\na"),
            RecordIoError::NonDigit {
                byte: b'-',
                offset: 0
            }
        );
        assert_eq!(err(b"\n"), RecordIoError::EmptyLength { offset: 0 });
        assert_eq!(err(b"0\n"), RecordIoError::ZeroLength { offset: 1 });
        assert_eq!(
            err(b"101\n"),
            RecordIoError::TooLarge {
                length: 101,
                limit: 100
            }
        );
        assert!(matches!(
            err(b"18446744073709551616\n"),
            RecordIoError::Overflow { .. }
        ));
        assert!(matches!(
            err(b"000000000000000000001\n"),
            RecordIoError::Overflow { .. }
        ));
    }

    #[test]
    fn failure_is_sticky_and_truncation_is_reported() {
        let mut d = Decoder::new(10);
        assert!(d.feed(b"x").is_err());
        assert!(d.feed(b"1\na").is_err());
        let mut d = Decoder::new(10);
        assert!(d.feed(b"5\nab").unwrap().is_empty());
        assert_eq!(d.finish(), Err(RecordIoError::Truncated { buffered: 2 }));
        let mut d = Decoder::new(10);
        d.feed(b"12").unwrap();
        assert_eq!(d.finish(), Err(RecordIoError::Truncated { buffered: 2 }));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn round_trip_in_random_pieces(
            records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..200), 0..12),
            cuts in proptest::collection::vec(0usize..4000, 0..8),
        ) {
            let mut stream = Vec::new();
            for r in &records {
                encode_into(r, &mut stream);
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
            cuts.sort_unstable();
            let mut d = Decoder::new(200);
            let mut got = Vec::new();
            let mut start = 0;
            for cut in cuts.into_iter().chain([stream.len()]) {
                got.extend(d.feed(&stream[start..cut]).unwrap());
                start = cut;
            }
            prop_assert_eq!(got, records);
            prop_assert!(d.finish().is_ok());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), split in 0usize..512) {
            let mut d = Decoder::new(64);
            let split = split.min(bytes.len());
            let first = d.feed(&bytes[..split]);
            let second = d.feed(&bytes[split..]);
            if first.is_err() {
                prop_assert_eq!(first.unwrap_err(), second.unwrap_err());
            }
            let _ = d.finish();
        }

        #[test]
        fn digit_heavy_noise_never_panics(bytes in proptest::collection::vec(prop_oneof![Just(b'\n'), b'0'..=b'9', any::<u8>()], 0..256)) {
            let mut d = Decoder::new(32);
            for chunk in bytes.chunks(3) {
                if d.feed(chunk).is_err() {
                    break;
                }
            }
            let _ = d.finish();
        }
    }
}
