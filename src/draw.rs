//! The draw of a fair start, as published: the permutation the grant script applies
//! (`store/lua/common.lua`, `draw_permute`), here to compute the digest of a draw's order
//! that `GET /api/waiting-room/events/{id}/draw` publishes with its seed.
//!
//! Algorithm `vestibule-feistel-sha1-v1`: the person drawn r-th (from 0) of a draw over
//! joins `lo+1 ..= lo+n` is join `lo + 1 + P(r)`, where P is a four-round Feistel network
//! on 2k bits (the least k ≥ 1 with 4^k ≥ n), walked in cycles until the value is below n.
//! Round i maps halves (L, R) to (R, (L + F_i(R)) mod 2^k), with F_i(x) the first 8 hex
//! digits of SHA-1("<seed>:<i>:<x>") (x in decimal) read as a number, modulo 2^k.

use sha1::{Digest, Sha1};
use sha2::Sha256;

/// The name the draw endpoint publishes.
pub const ALGORITHM: &str = "vestibule-feistel-sha1-v1";

const ROUNDS: u32 = 4;

/// 2^k, the size of one half.
fn half_size(n: u64) -> u64 {
    let mut k = 1;
    while 4u64.pow(k) < n {
        k += 1;
    }
    1 << k
}

fn round_value(seed: &str, round: u32, half: u64, m: u64) -> u64 {
    let digest = Sha1::digest(format!("{seed}:{round}:{half}").as_bytes());
    let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    u64::from(first) % m
}

/// P(r) for a draw of `n` with this seed: the offset (from 0) of the join drawn r-th.
pub fn permute(seed: &str, n: u64, mut x: u64) -> u64 {
    let m = half_size(n);
    loop {
        let (mut l, mut r) = (x / m, x % m);
        for round in 0..ROUNDS {
            (l, r) = (r, (l + round_value(seed, round, r, m)) % m);
        }
        x = l * m + r;
        if x < n {
            return x;
        }
    }
}

/// The join numbers of a draw over `lo+1 ..= lo+n`, in the order drawn.
pub fn order(seed: &str, lo: u64, n: u64) -> impl Iterator<Item = u64> + '_ {
    (0..n).map(move |r| lo + 1 + permute(seed, n, r))
}

/// `sha256:<hex>` of the drawn join numbers in order, each in decimal followed by `\n`.
pub fn digest(seed: &str, lo: u64, n: u64) -> String {
    let mut hash = Sha256::new();
    for q in order(seed, lo, n) {
        hash.update(q.to_string().as_bytes());
        hash.update(b"\n");
    }
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draw_is_a_permutation_of_its_joins() {
        for n in [1, 2, 3, 5, 16, 17, 100, 1_000] {
            let mut seen: Vec<u64> = order("ab12", 7, n).collect();
            seen.sort_unstable();
            assert_eq!(seen, (8..8 + n).collect::<Vec<_>>(), "n = {n}");
        }
    }

    #[test]
    fn the_seed_decides_the_order() {
        let a: Vec<u64> = order("seed-a", 0, 50).collect();
        let b: Vec<u64> = order("seed-b", 0, 50).collect();
        assert_ne!(a, b);
        assert_eq!(a, order("seed-a", 0, 50).collect::<Vec<_>>());
        assert_ne!(a, (1..=50).collect::<Vec<_>>());
    }

    /// The README's Python recomputation (README, "A fair start") gives these orders for
    /// these seeds; its `first` is `firstJoin`, which is `lo + 1`.
    #[test]
    fn the_readme_recomputation_gives_the_same_order() {
        assert_eq!(
            order("ab12", 6, 10).collect::<Vec<_>>(),
            [10, 15, 14, 11, 12, 7, 9, 16, 8, 13]
        );
        assert_eq!(
            order(&"9f".repeat(32), 0, 20).collect::<Vec<_>>(),
            [5, 1, 13, 2, 12, 16, 8, 10, 15, 9, 7, 3, 18, 14, 6, 17, 4, 19, 11, 20]
        );
    }
}
