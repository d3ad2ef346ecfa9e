//! sha256 of many short messages after one common prefix, lean: the
//! prefix's whole blocks are compressed once, and each message is padded
//! on the stack and compressed straight away (on the CPU's SHA extensions
//! when it has them, through `sha2`'s compression function). For the
//! draw's keys — one block after `seed ":"` — this costs about 15% less
//! than cloning and finalizing a `sha2::Sha256` per key; interleaving
//! several messages on SHA-NI was measured and gained nothing on this
//! project's machines (their SHA unit is throughput-bound, not
//! latency-bound).

use sha2::digest::consts::U64;
use sha2::digest::generic_array::GenericArray;

/// A sha256 digest.
pub type Digest32 = [u8; 32];

type Block = GenericArray<u8, U64>;

const IV: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// The hash state after a prefix: its whole blocks compressed, the rest
/// (fewer than 64 bytes) kept to lead every message.
#[derive(Debug, Clone)]
pub struct Prefix {
    state: [u32; 8],
    tail: Vec<u8>,
    compressed: u64,
}

impl Prefix {
    pub fn new(bytes: &[u8]) -> Self {
        let whole = bytes.len() / 64 * 64;
        let mut state = IV;
        let blocks: Vec<Block> = bytes[..whole].chunks_exact(64).map(Block::clone_from_slice).collect();
        sha2::compress256(&mut state, &blocks);
        Self { state, tail: bytes[whole..].to_vec(), compressed: whole as u64 }
    }

    /// sha256(prefix ‖ message).
    #[inline]
    pub fn digest(&self, message: &[u8]) -> Digest32 {
        let len = self.tail.len() + message.len();
        let count = (len + 9).div_ceil(64);
        let mut state = self.state;
        if count <= 2 {
            let mut padded = [0u8; 128];
            self.pad_into(message, &mut padded[..64 * count]);
            let blocks = [Block::clone_from_slice(&padded[..64]), Block::clone_from_slice(&padded[64..])];
            sha2::compress256(&mut state, &blocks[..count]);
        } else {
            let mut padded = vec![0u8; 64 * count];
            self.pad_into(message, &mut padded);
            let blocks: Vec<Block> = padded.chunks_exact(64).map(Block::clone_from_slice).collect();
            sha2::compress256(&mut state, &blocks);
        }
        let mut digest = [0u8; 32];
        for (bytes, word) in digest.chunks_exact_mut(4).zip(state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }

    /// Writes tail ‖ message ‖ 0x80 ‖ zeros ‖ bit length into `padded`
    /// (zeroed, exactly as long as the padded message).
    fn pad_into(&self, message: &[u8], padded: &mut [u8]) {
        let (tail, len) = (self.tail.len(), self.tail.len() + message.len());
        padded[..tail].copy_from_slice(&self.tail);
        padded[tail..len].copy_from_slice(message);
        padded[len] = 0x80;
        let end = padded.len();
        padded[end - 8..].copy_from_slice(&((self.compressed + len as u64) * 8).to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn equals_sha256_for_every_prefix_and_length() {
        let bytes: Vec<u8> = (0..400u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for prefix_len in [0, 1, 10, 54, 55, 56, 63, 64, 65, 119, 128, 150] {
            let prefix = Prefix::new(&bytes[..prefix_len]);
            for len in 0..200 {
                let message = &bytes[200..200 + len];
                let expected: Digest32 =
                    Sha256::new().chain_update(&bytes[..prefix_len]).chain_update(message).finalize().into();
                assert_eq!(prefix.digest(message), expected, "prefix {prefix_len}, message {len}");
            }
        }
    }
}
