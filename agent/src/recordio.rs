//! RecordIO framing of the v1 streaming APIs: `<decimal length>\n<exactly that many bytes>`,
//! nothing between records.
//!
//! [`encode`] frames one record; [`Decoder`] takes bytes in arbitrary pieces (HTTP chunk
//! boundaries mean nothing) and hands back whole records. Invariant of the decoder: it holds
//! at most one partial record plus its header, and refuses a record longer than its limit
//! (so a peer cannot make it buffer without bound).

/// Frames one record.
pub fn encode(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + 8);
    out.extend_from_slice(record.len().to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(record);
    out
}

/// What is wrong with a RecordIO stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordIoError {
    /// The length header is not a positive decimal number.
    #[error("bad RecordIO length header {0:?}")]
    BadHeader(String),
    /// A record longer than the decoder accepts.
    #[error("RecordIO record of {len} bytes exceeds the limit of {limit}")]
    TooLong {
        /// The announced length.
        len: u64,
        /// The limit.
        limit: usize,
    },
}

/// Incremental RecordIO decoder.
#[derive(Debug)]
pub struct Decoder {
    buffer: Vec<u8>,
    max_record_bytes: usize,
}

/// Longest header accepted: 20 digits hold any u64.
const MAX_HEADER_BYTES: usize = 20;

impl Decoder {
    /// A decoder refusing records longer than `max_record_bytes`.
    pub fn new(max_record_bytes: usize) -> Self {
        Decoder {
            buffer: Vec::new(),
            max_record_bytes,
        }
    }

    /// Adds bytes and returns every record now complete, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, RecordIoError> {
        self.buffer.extend_from_slice(bytes);
        let mut records = Vec::new();
        let mut start = 0;
        loop {
            let rest = &self.buffer[start..];
            let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
                if rest.len() > MAX_HEADER_BYTES {
                    return Err(RecordIoError::BadHeader(
                        String::from_utf8_lossy(&rest[..MAX_HEADER_BYTES]).into_owned(),
                    ));
                }
                break;
            };
            let header = &rest[..newline];
            let text = std::str::from_utf8(header).unwrap_or("");
            let len: u64 = match text.parse() {
                Ok(n) if n > 0 && text.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => {
                    return Err(RecordIoError::BadHeader(
                        String::from_utf8_lossy(header).into_owned(),
                    ))
                }
            };
            if len > self.max_record_bytes as u64 {
                return Err(RecordIoError::TooLong {
                    len,
                    limit: self.max_record_bytes,
                });
            }
            let len = len as usize;
            if rest.len() < newline + 1 + len {
                break;
            }
            records.push(rest[newline + 1..newline + 1 + len].to_vec());
            start += newline + 1 + len;
        }
        self.buffer.drain(..start);
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_and_decodes() {
        let mut d = Decoder::new(1024);
        let mut bytes = encode(b"{\"a\":1}");
        bytes.extend(encode(b"xy"));
        assert_eq!(
            d.feed(&bytes).unwrap(),
            vec![b"{\"a\":1}".to_vec(), b"xy".to_vec()]
        );
    }

    #[test]
    fn bad_headers_and_long_records_are_refused() {
        assert!(matches!(
            Decoder::new(10).feed(b"x\n"),
            Err(RecordIoError::BadHeader(_))
        ));
        assert!(matches!(
            Decoder::new(10).feed(b"0\n"),
            Err(RecordIoError::BadHeader(_))
        ));
        assert_eq!(
            Decoder::new(10).feed(b"11\n"),
            Err(RecordIoError::TooLong { len: 11, limit: 10 })
        );
        assert!(Decoder::new(10).feed(&[b'9'; 30]).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn any_split_of_any_records_decodes_to_the_records(
            records in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..50), 0..8),
            cuts in prop::collection::vec(0usize..400, 0..6),
        ) {
            let stream: Vec<u8> = records.iter().flat_map(|r| encode(r)).collect();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
            cuts.sort();
            let mut d = Decoder::new(64);
            let mut out = Vec::new();
            let mut at = 0;
            for c in cuts.into_iter().chain([stream.len()]) {
                out.extend(d.feed(&stream[at..c]).unwrap());
                at = c;
            }
            prop_assert_eq!(out, records);
        }
    }
}
