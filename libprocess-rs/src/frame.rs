//! The wire format of actor frames: a pure codec with no I/O.
//!
//! A connection that carries frames starts with the 4-byte [`PREAMBLE`]; then frames follow
//! back to back. Each frame is a little-endian `u32` body length followed by the body:
//!
//! ```text
//! kind: u8 (bit 7: tracked) | correlation: varint u64 | from: varint len + utf8 | to: varint len + utf8
//!          | name: varint len + utf8 | payload: the rest (postcard bytes of the message)
//! ```
//!
//! `from` is empty when the sender is not a process. The `tracked` bit marks a frame between
//! two nodes sharing a test clock, so the receiver tells the clock when it has handled it. Invariants: a body never exceeds the
//! configured maximum (checked when writing and when reading); decoding never panics and
//! borrows from the input.

use bytes::{BufMut, BytesMut};

/// The first bytes of a connection carrying frames. The first byte is not an ASCII letter, so
/// it never looks like the start of an HTTP request.
pub const PREAMBLE: [u8; 4] = [0xC0, b'L', b'P', 0x01];

/// Bytes of the length prefix.
pub const LEN_PREFIX: usize = 4;

/// What a frame asks the receiver to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    /// A one-way message to process `to`.
    Message = 1,
    /// A message expecting a reply carrying the same correlation id.
    Request = 2,
    /// The reply to a request; `to` is the asker.
    Reply = 3,
    /// `from` links to `to`: notify `from` when `to` exits.
    Link = 4,
    /// Process `from` has exited (or never existed); sent to a linker `to`.
    Exited = 5,
    /// `from` no longer wants exit notifications for `to`.
    Unlink = 6,
}

impl FrameKind {
    fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            1 => FrameKind::Message,
            2 => FrameKind::Request,
            3 => FrameKind::Reply,
            4 => FrameKind::Link,
            5 => FrameKind::Exited,
            6 => FrameKind::Unlink,
            _ => return None,
        })
    }
}

/// The header fields of a frame, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// What the frame asks for.
    pub kind: FrameKind,
    /// Request/reply correlation id; 0 when unused.
    pub correlation: u64,
    /// Sender upid text; empty when the sender is not a process.
    pub from: &'a str,
    /// Receiver upid text.
    pub to: &'a str,
    /// Message name (`RemoteMessage::NAME`); empty for link frames.
    pub name: &'a str,
    /// Counted as in flight by a shared test clock until the receiver handles it.
    pub tracked: bool,
}

/// A decoded frame body, borrowing from the bytes it was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The header.
    pub header: Header<'a>,
    /// The encoded message.
    pub payload: &'a [u8],
}

/// Why a frame body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The body is empty.
    #[error("frame body is empty")]
    Empty,
    /// The kind byte is not a known kind.
    #[error("frame has unknown kind byte {0}")]
    UnknownKind(u8),
    /// The body ends inside a field.
    #[error("frame body ends inside field {0}")]
    Truncated(&'static str),
    /// A varint is longer than 10 bytes or overflows.
    #[error("frame field {0} has an overlong varint")]
    BadVarint(&'static str),
    /// A text field is not UTF-8.
    #[error("frame field {0} is not utf-8")]
    BadUtf8(&'static str),
}

/// Why a frame could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The body would exceed the maximum frame size.
    #[error("frame body of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Body length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The payload could not be serialized.
    #[error("message could not be encoded: {0}")]
    Payload(#[from] postcard::Error),
}

fn put_varint(buf: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

fn put_str(buf: &mut BytesMut, s: &str) {
    put_varint(buf, s.len() as u64);
    buf.put_slice(s.as_bytes());
}

/// Largest prefix + header assembled on the stack (typical headers are under 100 bytes).
const STACK_HEADER: usize = 256;

/// Writes `v` as a varint at `out[at..]`; returns the new position, or `None` if it does not
/// fit.
fn write_varint(out: &mut [u8], mut at: usize, mut v: u64) -> Option<usize> {
    while v >= 0x80 {
        *out.get_mut(at)? = (v as u8) | 0x80;
        at += 1;
        v >>= 7;
    }
    *out.get_mut(at)? = v as u8;
    Some(at + 1)
}

fn write_str(out: &mut [u8], at: usize, s: &str) -> Option<usize> {
    let at = write_varint(out, at, s.len() as u64)?;
    let end = at.checked_add(s.len())?;
    out.get_mut(at..end)?.copy_from_slice(s.as_bytes());
    Some(end)
}

/// The length prefix (zero for now) and header, assembled in `out`; returns their length,
/// or `None` if they do not fit.
fn write_head(out: &mut [u8; STACK_HEADER], header: &Header<'_>) -> Option<usize> {
    out[..LEN_PREFIX].fill(0);
    out[LEN_PREFIX] = header.kind as u8 | if header.tracked { 0x80 } else { 0 };
    let at = write_varint(out, LEN_PREFIX + 1, header.correlation)?;
    let at = write_str(out, at, header.from)?;
    let at = write_str(out, at, header.to)?;
    write_str(out, at, header.name)
}

/// Appends one frame (length prefix and body) to `buf`. `payload` writes the message bytes.
/// On error `buf` is left as it was.
pub fn encode(
    buf: &mut BytesMut,
    header: &Header<'_>,
    max_body: usize,
    payload: impl FnOnce(&mut BytesMut) -> Result<(), postcard::Error>,
) -> Result<(), EncodeError> {
    let start = buf.len();
    // One append of the whole head instead of one capacity-checked append per field.
    let mut head = [0u8; STACK_HEADER];
    match write_head(&mut head, header) {
        Some(len) => buf.extend_from_slice(&head[..len]),
        None => {
            buf.put_u32_le(0);
            buf.put_u8(header.kind as u8 | if header.tracked { 0x80 } else { 0 });
            put_varint(buf, header.correlation);
            put_str(buf, header.from);
            put_str(buf, header.to);
            put_str(buf, header.name);
        }
    }
    if let Err(e) = payload(buf) {
        buf.truncate(start);
        return Err(e.into());
    }
    let len = buf.len() - start - LEN_PREFIX;
    if len > max_body || u32::try_from(len).is_err() {
        buf.truncate(start);
        return Err(EncodeError::TooLarge { len, max: max_body });
    }
    buf[start..start + LEN_PREFIX].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(())
}

/// The outcome of looking for a frame at the start of a read buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Split<'a> {
    /// A whole body is available; `consumed` bytes (prefix and body) make up the frame.
    Frame {
        /// The body, borrowed from the buffer.
        body: &'a [u8],
        /// Bytes to skip to reach the next frame.
        consumed: usize,
    },
    /// More bytes are needed.
    Incomplete,
    /// The length prefix announces a body over the limit.
    TooLarge(usize),
}

/// Finds the first whole frame at the start of `buf`, if there is one. Borrows, so a reader
/// can walk a buffer of many frames and drop the consumed bytes once.
pub fn split(buf: &[u8], max_body: usize) -> Split<'_> {
    let Some(prefix) = buf.get(..LEN_PREFIX) else {
        return Split::Incomplete;
    };
    let len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    if len > max_body {
        return Split::TooLarge(len);
    }
    match buf.get(LEN_PREFIX..LEN_PREFIX + len) {
        Some(body) => Split::Frame {
            body,
            consumed: LEN_PREFIX + len,
        },
        None => Split::Incomplete,
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self, field: &'static str) -> Result<u64, FrameError> {
        // Lengths and most correlation ids fit one byte.
        if let Some((&b, rest)) = self.rest.split_first() {
            if b < 0x80 {
                self.rest = rest;
                return Ok(u64::from(b));
            }
        }
        let mut v: u64 = 0;
        for i in 0..10 {
            let (&b, rest) = self
                .rest
                .split_first()
                .ok_or(FrameError::Truncated(field))?;
            self.rest = rest;
            let bits = u64::from(b & 0x7f);
            if i == 9 && b > 1 {
                return Err(FrameError::BadVarint(field));
            }
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(FrameError::BadVarint(field))
    }

    fn bytes(&mut self, field: &'static str) -> Result<&'a [u8], FrameError> {
        let len = self.varint(field)?;
        let len = usize::try_from(len).map_err(|_| FrameError::Truncated(field))?;
        if len > self.rest.len() {
            return Err(FrameError::Truncated(field));
        }
        let (bytes, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(bytes)
    }
}

/// A decoded frame body whose `from` and `to` are still raw bytes: a reader that remembers
/// the previous frame's sender and receiver compares bytes and validates only new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFrame<'a> {
    /// What the frame asks for.
    pub kind: FrameKind,
    /// Request/reply correlation id; 0 when unused.
    pub correlation: u64,
    /// Sender upid text, not yet checked to be UTF-8.
    pub from: &'a [u8],
    /// Receiver upid text, not yet checked to be UTF-8.
    pub to: &'a [u8],
    /// Message name.
    pub name: &'a str,
    /// Counted by a shared test clock.
    pub tracked: bool,
    /// The encoded message.
    pub payload: &'a [u8],
}

/// A frame body split into fields with every text still raw bytes: a connection reader
/// compares them with the previous frame's and validates only new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawFields<'a> {
    pub kind: FrameKind,
    pub correlation: u64,
    pub from: &'a [u8],
    pub to: &'a [u8],
    /// Message name, not yet checked to be UTF-8.
    pub name: &'a [u8],
    pub tracked: bool,
    pub payload: &'a [u8],
}

/// Splits a frame body (without its length prefix) into fields, validating no text.
pub(crate) fn decode_fields(body: &[u8]) -> Result<RawFields<'_>, FrameError> {
    let (&kind_byte, rest) = body.split_first().ok_or(FrameError::Empty)?;
    let tracked = kind_byte & 0x80 != 0;
    let kind = FrameKind::from_u8(kind_byte & 0x7f).ok_or(FrameError::UnknownKind(kind_byte))?;
    let mut r = Reader { rest };
    let correlation = r.varint("correlation")?;
    let from = r.bytes("from")?;
    let to = r.bytes("to")?;
    let name = r.bytes("name")?;
    Ok(RawFields {
        kind,
        correlation,
        from,
        to,
        name,
        tracked,
        payload: r.rest,
    })
}

/// Decodes a frame body (without its length prefix), leaving `from` and `to` unvalidated.
pub fn decode_raw(body: &[u8]) -> Result<RawFrame<'_>, FrameError> {
    let f = decode_fields(body)?;
    let name = std::str::from_utf8(f.name).map_err(|_| FrameError::BadUtf8("name"))?;
    Ok(RawFrame {
        kind: f.kind,
        correlation: f.correlation,
        from: f.from,
        to: f.to,
        name,
        tracked: f.tracked,
        payload: f.payload,
    })
}

/// Decodes a frame body (without its length prefix).
pub fn decode(body: &[u8]) -> Result<Frame<'_>, FrameError> {
    let raw = decode_raw(body)?;
    let from = std::str::from_utf8(raw.from).map_err(|_| FrameError::BadUtf8("from"))?;
    let to = std::str::from_utf8(raw.to).map_err(|_| FrameError::BadUtf8("to"))?;
    Ok(Frame {
        header: Header {
            kind: raw.kind,
            correlation: raw.correlation,
            from,
            to,
            name: raw.name,
            tracked: raw.tracked,
        },
        payload: raw.payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Buf;
    use proptest::prelude::*;

    fn kinds() -> impl Strategy<Value = FrameKind> {
        (1u8..=6).prop_map(|b| FrameKind::from_u8(b).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn encode_then_split_then_decode_roundtrips(
            kind in kinds(), correlation in any::<u64>(), from in ".{0,30}", to in ".{0,30}",
            name in ".{0,30}", tracked in any::<bool>(), payload in proptest::collection::vec(any::<u8>(), 0..200),
            long_from in any::<bool>(),
            chunk in 1usize..64,
        ) {
            // Sometimes a header too long for the stack path, to cover the fallback.
            let from = if long_from { from.repeat(20) + &"f".repeat(300) } else { from };
            let header = Header { kind, correlation, from: &from, to: &to, name: &name, tracked };
            let mut wire = BytesMut::new();
            encode(&mut wire, &header, 1 << 20, |b| { b.extend_from_slice(&payload); Ok(()) }).unwrap();
            encode(&mut wire, &header, 1 << 20, |_| Ok(())).unwrap();
            // Feed the reader in small chunks, as a socket would.
            let mut buf = BytesMut::new();
            let mut bodies = Vec::new();
            for piece in wire.chunks(chunk) {
                buf.extend_from_slice(piece);
                while let Split::Frame { body, consumed } = split(&buf, 1 << 20) {
                    bodies.push(body.to_vec());
                    buf.advance(consumed);
                }
            }
            prop_assert_eq!(bodies.len(), 2);
            let first = decode(&bodies[0]).unwrap();
            prop_assert_eq!(first.header, header);
            prop_assert_eq!(first.payload, &payload[..]);
            prop_assert!(decode(&bodies[1]).unwrap().payload.is_empty());
        }

        #[test]
        fn decoding_random_bytes_never_panics(body in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = decode(&body);
            let _ = split(&body, 64);
        }
    }

    #[test]
    fn oversize_is_refused_on_both_sides() {
        let header = Header {
            kind: FrameKind::Message,
            correlation: 0,
            from: "",
            to: "a@1.2.3.4:5",
            name: "n",
            tracked: false,
        };
        let mut buf = BytesMut::from(&b"keep"[..]);
        let err = encode(&mut buf, &header, 16, |b| {
            b.extend_from_slice(&[0; 32]);
            Ok(())
        })
        .unwrap_err();
        assert!(
            matches!(err, EncodeError::TooLarge { max: 16, .. }),
            "{err}"
        );
        assert_eq!(
            &buf[..],
            b"keep",
            "a refused frame leaves the buffer untouched"
        );
        assert_eq!(split(&1000u32.to_le_bytes(), 999), Split::TooLarge(1000));
    }

    #[test]
    fn truncated_and_bad_fields_are_named() {
        assert_eq!(decode(&[]), Err(FrameError::Empty));
        assert_eq!(decode(&[9]), Err(FrameError::UnknownKind(9)));
        assert_eq!(decode(&[1]), Err(FrameError::Truncated("correlation")));
        assert_eq!(decode(&[1, 0, 5, b'a']), Err(FrameError::Truncated("from")));
        assert_eq!(
            decode(&[1, 0, 1, 0xff, 0, 0]),
            Err(FrameError::BadUtf8("from"))
        );
        assert_eq!(
            decode(&[1, 0, 0, 1, 0xff, 0]),
            Err(FrameError::BadUtf8("to"))
        );
        assert_eq!(
            decode(&[1, 0, 0, 0, 1, 0xff]),
            Err(FrameError::BadUtf8("name"))
        );
        assert_eq!(
            decode(&[1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            Err(FrameError::BadVarint("correlation"))
        );
    }
}
