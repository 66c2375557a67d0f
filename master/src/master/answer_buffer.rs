//! One spare buffer for the master's largest answers (`/master/state`, GET_STATE,
//! SUBSCRIBED; issue 22): at 50,000 agents an answer is 160-210 MB, and writing it into
//! fresh memory costs a page fault and a zeroed page every 4 kB (about a fifth of the
//! answer's CPU in a profile). An answer's bytes hold their buffer ([`AnswerBuffer::bytes`]);
//! when the last copy is dropped (the body sent), the buffer comes back as the spare and
//! the next answer is written into it, its pages already mapped.
//!
//! Invariants: at most one spare is kept (the largest given back), so the memory this holds
//! is bounded by the largest answer's capacity; a spare is handed out empty; answers in
//! flight at the same time each get their own buffer. Pure apart from the allocation: no
//! I/O, no clock.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

/// The spare buffer, shared with the answers that will give it back.
#[derive(Debug, Default, Clone)]
pub struct AnswerBuffer {
    spare: Arc<Mutex<Option<Vec<u8>>>>,
}

impl AnswerBuffer {
    /// An empty buffer with room for at least `capacity` bytes: the spare if it is large
    /// enough (a smaller one is freed), else a new one.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let spare = self
            .spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match spare {
            Some(mut buf) if buf.capacity() >= capacity => {
                buf.clear();
                buf
            }
            _ => Vec::with_capacity(capacity),
        }
    }

    /// `buf[start..]` as bytes that give `buf` back as the spare once the last of them
    /// (and of their slices) is dropped.
    pub fn bytes(&self, buf: Vec<u8>, start: usize) -> Bytes {
        Bytes::from_owner(Lent {
            buf,
            home: Arc::clone(&self.spare),
        })
        .slice(start..)
    }

    /// The capacity of the spare, if one is kept.
    pub fn spare_capacity(&self) -> Option<usize> {
        self.spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(Vec::capacity)
    }
}

/// A buffer lent to an answer's bytes.
struct Lent {
    buf: Vec<u8>,
    home: Arc<Mutex<Option<Vec<u8>>>>,
}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        let mut spare = self.home.lock().unwrap_or_else(PoisonError::into_inner);
        if spare
            .as_ref()
            .is_none_or(|kept| kept.capacity() < buf.capacity())
        {
            *spare = Some(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_answer_gives_its_buffer_back_and_the_next_answer_reuses_it() {
        let answers = AnswerBuffer::default();
        let mut buf = answers.take(1024);
        buf.extend_from_slice(b"..{\"a\":1}");
        let ptr = buf.as_ptr();
        let bytes = answers.bytes(buf, 2);
        assert_eq!(&bytes[..], b"{\"a\":1}");
        let copy = bytes.slice(1..);
        drop(bytes);
        assert_eq!(answers.spare_capacity(), None, "a slice still holds it");
        assert_eq!(&copy[..], b"\"a\":1}");
        drop(copy);
        assert!(answers.spare_capacity().is_some_and(|c| c >= 1024));
        let again = answers.take(512);
        assert!(again.is_empty(), "handed out empty");
        assert_eq!(again.as_ptr(), ptr, "the same memory");
        assert_eq!(answers.spare_capacity(), None, "taken");
    }

    #[test]
    fn only_the_largest_buffer_is_kept_and_a_small_spare_is_not_used_for_a_large_answer() {
        let answers = AnswerBuffer::default();
        let (small, large) = (answers.take(16), answers.take(4096));
        let (small, large) = (answers.bytes(small, 0), answers.bytes(large, 0));
        drop(large);
        drop(small);
        assert!(answers.spare_capacity().is_some_and(|c| c >= 4096));
        let big = answers.take(1 << 20);
        assert!(big.capacity() >= 1 << 20);
        assert_eq!(answers.spare_capacity(), None);
    }
}
