//! A small deterministic PRNG: xoshiro256** seeded through SHA-256, so that
//! every evidence source draws from its own stream and adding draws to one
//! source never shifts another.

use sha2::{Digest, Sha256};

/// xoshiro256** (Blackman and Vigna). Not cryptographic; fast and stable.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// The stream named `name` under `seed`: state = SHA-256(seed || ':' || name).
    pub fn stream(seed: u64, name: &str) -> Rng {
        let mut h = Sha256::new();
        h.update(seed.to_le_bytes());
        h.update(b":");
        h.update(name.as_bytes());
        let d = h.finalize();
        let mut s = [0u64; 4];
        for (i, word) in s.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&d[i * 8..i * 8 + 8]);
            *word = u64::from_le_bytes(b);
        }
        if s == [0; 4] {
            s[0] = 0x9E37_79B9_7F4A_7C15;
        }
        Rng { s }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (multiply-high; `n == 0` yields 0).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index into a slice of length `n`.
    #[inline]
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in `lo..hi` (half-open); `lo` when the range is empty.
    #[inline]
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64) as i64
    }

    /// True with probability `num / den`.
    #[inline]
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// An element of a non-empty slice (the first element's type's default
    /// is never needed: callers pass fixed, non-empty tables).
    #[inline]
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// Index drawn from cumulative integer weights (`cum` ascending, last = total).
    #[inline]
    pub fn weighted(&mut self, cum: &[u32]) -> usize {
        let total = cum.last().copied().unwrap_or(0);
        let x = self.below(u64::from(total)) as u32;
        cum.iter().position(|&c| x < c).unwrap_or(0)
    }
}

/// Cumulative sums of a weight table, for [`Rng::weighted`].
pub fn cumulative(weights: &[u32]) -> Vec<u32> {
    let mut acc = 0u32;
    weights
        .iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// Selection sampling (Knuth's algorithm S): choose exactly `want` of `total`
/// items met one at a time, each with the right conditional probability.
#[derive(Clone, Debug)]
pub struct Selector {
    remaining: u64,
    want: u64,
}

impl Selector {
    pub fn new(want: u64, total: u64) -> Selector {
        Selector { remaining: total, want: want.min(total) }
    }

    /// Whether the next item is chosen.
    pub fn take(&mut self, rng: &mut Rng) -> bool {
        if self.remaining == 0 {
            return false;
        }
        let chosen = rng.below(self.remaining) < self.want;
        self.remaining -= 1;
        if chosen {
            self.want -= 1;
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_stable_and_independent() {
        let mut a = Rng::stream(7, "deploys");
        let mut b = Rng::stream(7, "deploys");
        let mut c = Rng::stream(7, "alerts");
        let xa: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn selector_picks_exactly() {
        let mut rng = Rng::stream(1, "sel");
        let mut sel = Selector::new(37, 1000);
        let n = (0..1000).filter(|_| sel.take(&mut rng)).count();
        assert_eq!(n, 37);
    }
}
