//! The draw of a fair start, as published: the shuffle that orders the people of a draw.
//! The granter computes it once per draw and writes it to Redis (`store/grant.rs`), where
//! the grant script admits rank after rank of it; anyone can recompute it from the
//! published seed (README, "A fair start").
//!
//! Algorithm `vestibule-fisher-yates-sha256-v2`: a Fisher–Yates shuffle of the offsets
//! `0..n` driven by a keystream of SHA-256 in counter mode keyed with the seed. Block `b`
//! (from 0) of the keystream is SHA-256 of the text `"<seed>:<b>"`; each block gives eight
//! 32-bit words, big-endian, used in order. A uniform number below `k` is the next word
//! `w` with `w < 2^32 - (2^32 mod k)` (words above are skipped, so no number is favoured),
//! taken modulo `k`. The shuffle: start from `a = [0, 1, …, n-1]`; for `i` from `n-1` down
//! to 1, swap `a[i]` with `a[j]`, `j` the next uniform number below `i + 1`. The person
//! drawn r-th (from 0) of a draw over joins `lo+1 ..= lo+n` is join `lo + 1 + a[r]`. Every
//! one of the n! orders is equally likely, for any n, as long as SHA-256 behaves as a
//! random function (it replaced a four-round Feistel network, `vestibule-feistel-sha1-v1`,
//! which was measurably biased for small draws).

use sha2::{Digest, Sha256};

/// The name the draw endpoint publishes.
pub const ALGORITHM: &str = "vestibule-fisher-yates-sha256-v2";

/// Most people one draw can order: offsets are written to Redis as 4-byte numbers.
pub const MAX_DRAW: u64 = u32::MAX as u64;

/// The keystream: SHA-256 of `"<seed>:<block>"`, eight big-endian words a block.
struct Keystream<'a> {
    seed: &'a str,
    block: u64,
    words: [u32; 8],
    used: usize,
}

impl<'a> Keystream<'a> {
    fn new(seed: &'a str) -> Self {
        Self {
            seed,
            block: 0,
            words: [0; 8],
            used: 8,
        }
    }

    fn word(&mut self) -> u32 {
        if self.used == 8 {
            let digest = Sha256::digest(format!("{}:{}", self.seed, self.block).as_bytes());
            for (i, w) in self.words.iter_mut().enumerate() {
                *w = u32::from_be_bytes([
                    digest[4 * i],
                    digest[4 * i + 1],
                    digest[4 * i + 2],
                    digest[4 * i + 3],
                ]);
            }
            self.block += 1;
            self.used = 0;
        }
        self.used += 1;
        self.words[self.used - 1]
    }

    /// A uniform number below `k` (1 ≤ k ≤ 2^32), by rejection.
    fn below(&mut self, k: u64) -> u64 {
        let limit = (1u64 << 32) - (1u64 << 32) % k;
        loop {
            let w = u64::from(self.word());
            if w < limit {
                return w % k;
            }
        }
    }
}

/// The offsets (from 0) of the `n` people of a draw, in the order drawn.
pub fn shuffle(seed: &str, n: u32) -> Vec<u32> {
    let mut a: Vec<u32> = (0..n).collect();
    let mut keys = Keystream::new(seed);
    for i in (1..a.len()).rev() {
        let j = keys.below(i as u64 + 1) as usize;
        a.swap(i, j);
    }
    a
}

/// Each offset's rank (from 0): the inverse of [`shuffle`]'s order.
pub fn ranks(order: &[u32]) -> Vec<u32> {
    let mut rank = vec![0u32; order.len()];
    for (r, &offset) in order.iter().enumerate() {
        rank[offset as usize] = r as u32;
    }
    rank
}

/// The join numbers of a draw over `lo+1 ..= lo+n`, in the order drawn.
pub fn order(seed: &str, lo: u64, n: u32) -> Vec<u64> {
    shuffle(seed, n)
        .into_iter()
        .map(|offset| lo + 1 + u64::from(offset))
        .collect()
}

/// `sha256:<hex>` of the drawn join numbers in order (`lo + 1 + offset`), each in
/// decimal followed by `\n`.
pub fn digest_of(lo: u64, order: &[u32]) -> String {
    let mut hash = Sha256::new();
    let mut line = String::with_capacity(24);
    for &offset in order {
        use std::fmt::Write;
        line.clear();
        let _ = writeln!(line, "{}", lo + 1 + u64::from(offset));
        hash.update(line.as_bytes());
    }
    format!("sha256:{}", hex::encode(hash.finalize()))
}

/// The digest of the draw with this seed over `lo+1 ..= lo+n` (see [`digest_of`]).
pub fn digest(seed: &str, lo: u64, n: u32) -> String {
    digest_of(lo, &shuffle(seed, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draw_is_a_permutation_of_its_joins() {
        for n in [0, 1, 2, 3, 5, 16, 17, 100, 1_000] {
            let mut seen = order("ab12", 7, n);
            seen.sort_unstable();
            assert_eq!(seen, (8..8 + u64::from(n)).collect::<Vec<_>>(), "n = {n}");
            let o = shuffle("ab12", n);
            let r = ranks(&o);
            for (rank, &offset) in o.iter().enumerate() {
                assert_eq!(r[offset as usize] as usize, rank);
            }
        }
    }

    #[test]
    fn the_seed_decides_the_order() {
        let a = order("seed-a", 0, 50);
        let b = order("seed-b", 0, 50);
        assert_ne!(a, b);
        assert_eq!(a, order("seed-a", 0, 50));
        assert_ne!(a, (1..=50).collect::<Vec<_>>());
    }

    /// The README's Python recomputation (README, "A fair start") gives these orders for
    /// these seeds; its `first` is `firstJoin`, which is `lo + 1`.
    #[test]
    fn the_readme_recomputation_gives_the_same_order() {
        assert_eq!(
            order("ab12", 6, 10),
            [8, 10, 15, 12, 11, 13, 7, 14, 16, 9],
            "seed ab12"
        );
        assert_eq!(
            order(&"9f".repeat(32), 0, 20),
            [3, 1, 8, 17, 20, 4, 9, 16, 12, 11, 6, 15, 5, 10, 19, 2, 7, 14, 13, 18],
            "seed 9f…"
        );
    }

    /// Pearson's statistic of observed counts against a uniform expectation.
    fn chi_square(counts: &[u64]) -> f64 {
        let total: u64 = counts.iter().sum();
        let expected = total as f64 / counts.len() as f64;
        counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum()
    }

    /// The χ² value a test at p = 0.0001 refuses above, for `df` degrees of freedom
    /// (Wilson–Hilferty: accurate to well under 1 % from df = 5 on).
    fn chi_square_limit(df: f64) -> f64 {
        let z = 3.719; // the standard normal's 1 − 0.0001 quantile
        df * (1.0 - 2.0 / (9.0 * df) + z * (2.0 / (9.0 * df)).sqrt()).powi(3)
    }

    fn seeds(count: u64) -> impl Iterator<Item = String> {
        (0..count).map(|i| format!("{:064x}", u128::from(i) * 0x9e37_79b9_7f4a_7c15))
    }

    /// Every whole order of a small draw is equally likely: over 30,000 seeds for n = 2…5
    /// (all n! orders counted) and 20,000 for n = 6…10 (the n × n table of arrival against
    /// place: every person is equally likely at every place).
    #[test]
    fn small_draws_are_uniform() {
        for n in 2..=5u32 {
            let orders: Vec<Vec<u32>> = permutations(n);
            let mut counts = vec![0u64; orders.len()];
            for seed in seeds(30_000) {
                let o = shuffle(&seed, n);
                counts[orders.iter().position(|p| *p == o).unwrap()] += 1;
            }
            let (stat, df) = (chi_square(&counts), (orders.len() - 1) as f64);
            let limit = if df < 5.0 {
                [0.0, 15.14, 18.42, 21.11, 23.51][df as usize]
            } else {
                chi_square_limit(df)
            };
            assert!(
                stat < limit,
                "n = {n}: χ² = {stat:.1} on {df} df (limit {limit:.1})"
            );
        }
        for n in 6..=10u32 {
            let mut table = vec![0u64; (n * n) as usize];
            for seed in seeds(20_000) {
                for (place, &who) in shuffle(&seed, n).iter().enumerate() {
                    table[(who * n) as usize + place] += 1;
                }
            }
            let stat = chi_square(&table);
            let df = f64::from((n - 1) * (n - 1));
            assert!(
                stat < chi_square_limit(df),
                "n = {n}: χ² = {stat:.1} on {df} df"
            );
        }
    }

    /// A large draw: where the first, a middle and the last joiner land, over 2,000 seeds,
    /// in ten bands of places, is uniform; and no place is favoured for person 0.
    #[test]
    fn a_large_draw_is_uniform() {
        let n = 10_000u32;
        let mut bands = vec![0u64; 30];
        for seed in seeds(2_000) {
            let r = ranks(&shuffle(&seed, n));
            for (k, who) in [0, n / 2, n - 1].into_iter().enumerate() {
                bands[k * 10 + (r[who as usize] * 10 / n) as usize] += 1;
            }
        }
        for k in 0..3 {
            let stat = chi_square(&bands[k * 10..k * 10 + 10]);
            assert!(stat < 33.7, "person {k}: χ² = {stat:.1} on 9 df");
        }
    }

    fn permutations(n: u32) -> Vec<Vec<u32>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut out = Vec::new();
        for p in permutations(n - 1) {
            for i in 0..=p.len() {
                let mut q = p.clone();
                q.insert(i, n - 1);
                out.push(q);
            }
        }
        out
    }
}
