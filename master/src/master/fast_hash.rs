//! A small, fast, non-cryptographic hasher (FNV-1a, 64-bit) for the state builders' per-id
//! sums, where SipHash showed up as the largest cost after JSON escaping. Keys are ids the
//! master itself assigned, so hash flooding is not a concern.

use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a over the bytes written.
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A `HashMap` with [`Fnv1a`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Fnv1a>>;
