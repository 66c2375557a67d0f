//! The simulator's own random source: SplitMix64, small, fast and fully specified here, so
//! a seed means the same run on every machine and every version of the `rand` crate.
//!
//! Each concern (the network, the fault schedule, each framework's workload, each node's
//! libprocess rng) draws from its own stream, derived from the run's seed and a stream
//! name, so adding draws to one concern does not shift the others.

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    /// The stream `stream` of run `seed`.
    pub fn stream(seed: u64, stream: &str) -> SimRng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in stream.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let mut rng = SimRng(seed ^ h.rotate_left(17));
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `lo..=hi` (`lo` when `hi <= lo`); the tiny modulo bias does not matter
    /// for a fault schedule.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `p` (0.0 to 1.0).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        ((self.next_u64() >> 11) as f64) / ((1u64 << 53) as f64) < p
    }

    /// An index below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// The FNV-1a hash of `bytes`, continuing from `h` (the trace's running digest).
pub fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The FNV-1a offset basis.
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_repeat_and_differ() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = SimRng::stream(7, "net");
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = SimRng::stream(7, "net");
                move |_| r.next_u64()
            })
            .collect();
        let c = SimRng::stream(7, "faults").next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
        let mut r = SimRng::stream(1, "x");
        assert!((0..100).all(|_| (3..=9).contains(&r.range(3, 9))));
    }
}
