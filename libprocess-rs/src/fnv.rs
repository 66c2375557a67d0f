//! A fast non-cryptographic hasher (FNV-1a) for the runtime's small internal tables keyed by
//! process ids, message names and peer addresses, looked up on every delivery. The keys are
//! not attacker-chosen in bulk (names come from the process's own table; a peer can only
//! make lookups miss), so hash flooding is not a concern here.

use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a, 64-bit.
#[derive(Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// `HashMap<K, V, FnvBuild>` for the runtime's tables.
pub(crate) type FnvBuild = BuildHasherDefault<Fnv>;
pub(crate) type FnvHashMap<K, V> = std::collections::HashMap<K, V, FnvBuild>;
