//! Tests of rank.rs, compiled only under #[cfg(test)] (see its `mod tests`).

use super::*;
use sha2::{Digest, Sha256};

fn sha_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Deterministic pseudo-random numbers (splitmix64) for test populations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `size` distinct keys of varied shape: ASCII, U+001F separators,
/// non-ASCII, empty columns.
fn population(rng: &mut Rng, size: usize) -> Vec<String> {
    const PARTS: [&str; 6] = ["", "CHG-", "ü", "\u{1f}", "2024-01-01 00:00:00", "NULL"];
    (0..size)
        .map(|i| {
            let mut key = String::new();
            for _ in 0..rng.below(4) {
                key.push_str(PARTS[rng.below(PARTS.len() as u64) as usize]);
                key.push_str(&rng.below(1000).to_string());
            }
            key.push('\u{1f}');
            key.push_str(&i.to_string());
            key
        })
        .collect()
}

fn naive_selection(seed: &str, keys: &[String], n: usize) -> Vec<Ranked> {
    let mut all: Vec<Ranked> =
        keys.iter().map(|k| Ranked { key: k.clone(), rank: sha_hex(&format!("{seed}:{k}")) }).collect();
    all.sort_by(|a, b| a.rank.cmp(&b.rank));
    all.truncate(n);
    all
}

fn naive_fingerprint(keys: &[String]) -> String {
    let mut hashes: Vec<String> = keys.iter().map(|k| sha_hex(k)).collect();
    hashes.sort();
    sha_hex(&hashes.join("\n"))
}

fn rank_single(seed: &str, keys: &[String], n: usize) -> Ranking {
    let mut ranker = Ranker::new(seed, n);
    for key in keys {
        ranker.push(key);
    }
    ranker.finish()
}

#[test]
fn known_answers() {
    let seed = sample_seed("audit-2024", "CC8.1", "changes");
    assert_eq!(seed, sha_hex("audit-2024:CC8.1:changes"));
    assert_eq!(sample_seed("", "", ""), hex::encode(Sha256::digest(b"::")));

    let composite = "CHG-1\u{1f}\u{1f}2024-03-01";
    for key in ["CHG-1", composite, "", "ü"] {
        let by_hand = hex::encode(Sha256::digest(format!("{seed}:{key}").as_bytes()));
        assert_eq!(rank_hex(&seed, key), by_hand);
        assert_eq!(key_hash_hex(key), hex::encode(Sha256::digest(key.as_bytes())));
    }
    // U+001F is one byte 0x1f on the wire.
    assert_eq!(rank_hex("s", "a\u{1f}b"), hex::encode(Sha256::digest(b"s:a\x1fb")));
    // Fixed vectors (sha256 of "" and of "abc").
    assert_eq!(key_hash_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_eq!(key_hash_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    // Fingerprint: sorted hex key hashes joined by "\n", no trailing newline.
    let keys = ["CHG-2", composite, "", "CHG-1"];
    let mut hashes: Vec<String> = keys.iter().map(|k| hex::encode(Sha256::digest(k.as_bytes()))).collect();
    hashes.sort();
    let text = format!("{}\n{}\n{}\n{}", hashes[0], hashes[1], hashes[2], hashes[3]);
    let mut ranker = Ranker::new(&seed, 2);
    for key in keys {
        ranker.push(key);
    }
    let ranking = ranker.finish();
    assert_eq!(ranking.fingerprint, hex::encode(Sha256::digest(text.as_bytes())));
    assert_eq!(ranking.population, 4);
    assert!(ranking.duplicate_keys.is_empty());
    assert_eq!(ranking.duplicate_count, 0);
    let mut ranks: Vec<(String, &str)> = keys.iter().map(|k| (rank_hex(&seed, k), *k)).collect();
    ranks.sort();
    let expected: Vec<Ranked> =
        ranks[..2].iter().map(|(r, k)| Ranked { key: k.to_string(), rank: r.clone() }).collect();
    assert_eq!(ranking.selected, expected);

    // The same, re-performed with coreutils (what an auditor would do):
    //   S=$(printf 'audit-2024:CC8.1:changes' | sha256sum | cut -c1-64)
    //   printf '%s:CHG-1\x1f\x1f2024-03-01' "$S" | sha256sum
    //   printf '%s:' "$S" | sha256sum
    //   for k in CHG-2 $'CHG-1\x1f\x1f2024-03-01' '' CHG-1; do
    //     printf '%s' "$k" | sha256sum | cut -c1-64; done |
    //     LC_ALL=C sort | head -c -1 | sha256sum
    assert_eq!(seed, "b709c562ac71bdde7af10ee51e2e7fa870de42bec28ae79789ceba8490b0bc40");
    assert_eq!(rank_hex(&seed, composite), "74be3a7ed20a520cee04c5055b50fe2295f1b34e68d24443b7ce6c6f0f9649a9");
    assert_eq!(rank_hex(&seed, ""), "47d7fa6a049d32a13b12687081f134f26f8fad3e9ec342af47ec46d47599b4c8");
    assert_eq!(ranking.fingerprint, "cae24da9d11c1abda0f783cd7fa0e0d4f2ca265705775e9882de864923b5897c");

    // Empty population: sha256 of the empty string, nothing selected.
    let empty = Ranker::new(&seed, 25).finish();
    assert_eq!(empty.fingerprint, sha_hex(""));
    assert_eq!(empty.population, 0);
    assert!(empty.selected.is_empty());
}

#[test]
fn selection_matches_naive_method() {
    let mut rng = Rng(7);
    for n in [1usize, 2, 5, 25, 60] {
        let sizes = [0, 1, n.saturating_sub(1), n, n + 1, 1023, 1024, 1025, 2049, 10_000];
        for size in sizes {
            let keys = population(&mut rng, size);
            let seed = sample_seed("a", "c", &format!("{n}/{size}"));
            let ranking = rank_single(&seed, &keys, n);
            assert_eq!(ranking.selected, naive_selection(&seed, &keys, n), "n={n} size={size}");
            assert_eq!(ranking.population, size as u64);
            assert_eq!(ranking.fingerprint, naive_fingerprint(&keys), "size={size}");
            assert_eq!(ranking.duplicate_count, 0);
        }
    }
    // n = 0 selects nothing but still counts and fingerprints.
    let keys = population(&mut rng, 50);
    let ranking = rank_single("s", &keys, 0);
    assert!(ranking.selected.is_empty());
    assert_eq!(ranking.population, 50);
    assert_eq!(ranking.fingerprint, naive_fingerprint(&keys));
}

#[test]
fn parallel_and_merge_match_single_ranker() {
    let mut rng = Rng(11);
    let mut keys = population(&mut rng, 10_000);
    // Some duplicates too, so their reporting is compared as well.
    keys.extend_from_within(100..110);
    keys.push(keys[5].clone());
    for n in [0usize, 1, 25, 500, 20_000] {
        let seed = sample_seed("x", "CC6.1", &n.to_string());
        let single = rank_single(&seed, &keys, n);
        for threads in [1usize, 2, 4] {
            for batch in [1usize, 7, 1000, 100_000] {
                let batches = keys.chunks(batch).map(|c| c.to_vec());
                let parallel = rank_parallel(batches, &seed, n, threads);
                assert_eq!(parallel, single, "n={n} threads={threads} batch={batch}");
            }
        }
        // Public merge of unsorted rankers, in either order.
        let (a, b) = keys.split_at(keys.len() / 3);
        for (first, second) in [(a, b), (b, a)] {
            let mut left = Ranker::new(&seed, n);
            left.push_batch(first);
            let mut right = Ranker::new(&seed, n);
            right.push_batch(second);
            left.merge(right);
            assert_eq!(left.finish(), single, "merge n={n}");
        }
    }
    let empty = rank_parallel(std::iter::empty::<Vec<String>>(), "s", 5, 4);
    assert_eq!(empty, Ranker::new("s", 5).finish());
    assert_eq!(rank_parallel(std::iter::empty::<Vec<String>>(), "s", 5, 0), empty);
}

#[test]
fn duplicates_are_reported() {
    let keys: Vec<String> = ["a", "b", "a", "c", "b", "a", "", "", "d"].iter().map(|s| s.to_string()).collect();
    let ranking = rank_single("s", &keys, 100);
    assert_eq!(ranking.population, 9);
    assert_eq!(ranking.duplicate_count, 3);
    let mut expected: Vec<String> = ["a", "b", ""].iter().map(|k| key_hash_hex(k)).collect();
    expected.sort();
    assert_eq!(ranking.duplicate_keys, expected);
    // Every row counts in the fingerprint, duplicates included.
    assert_eq!(ranking.fingerprint, naive_fingerprint(&keys));

    // Only the first few are kept; all are counted.
    let many: Vec<String> = (0..40).map(|i| format!("k{}", i % 20)).collect();
    let ranking = rank_single("s", &many, 5);
    assert_eq!(ranking.duplicate_count, 20);
    assert_eq!(ranking.duplicate_keys.len(), SHOWN_DUPLICATES);
    let mut all: Vec<String> = (0..20).map(|i| key_hash_hex(&format!("k{i}"))).collect();
    all.sort();
    assert_eq!(ranking.duplicate_keys, all[..SHOWN_DUPLICATES]);
}

/// 400 seeded samples of 25 from 10,000 keys: the selected positions must
/// be spread evenly over the population's deciles (chi-square, p = 0.001).
#[test]
fn selection_is_uniform() {
    const POPULATION: usize = 10_000;
    const SAMPLES: usize = 400;
    const N: usize = 25;
    let keys: Vec<String> = (0..POPULATION).map(|i| format!("k{i}")).collect();
    let index: std::collections::HashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let buckets = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (keys, index) = (&keys, &index);
                scope.spawn(move || {
                    let mut buckets = [0u64; 10];
                    for j in (t..SAMPLES).step_by(threads) {
                        let mut ranker = Ranker::new(&format!("s{j}"), N);
                        ranker.push_batch(keys);
                        for r in ranker.finish().selected {
                            buckets[index[r.key.as_str()] * 10 / POPULATION] += 1;
                        }
                    }
                    buckets
                })
            })
            .collect();
        let mut total = [0u64; 10];
        for w in workers {
            for (t, b) in total.iter_mut().zip(w.join().unwrap()) {
                *t += b;
            }
        }
        total
    });
    assert_eq!(buckets.iter().sum::<u64>(), (SAMPLES * N) as u64);
    let expected = (SAMPLES * N) as f64 / 10.0;
    let chi2: f64 = buckets.iter().map(|&o| (o as f64 - expected).powi(2) / expected).sum();
    println!("deciles {buckets:?}, chi-square (9 dof) = {chi2:.3}");
    assert!(chi2 < 27.88, "chi-square {chi2} >= 27.88 (p = 0.001)");
}

/// `cargo test --release -- --ignored --nocapture bench_ranking`
#[test]
#[ignore = "benchmark"]
fn bench_ranking() {
    use std::time::Instant;
    const KEYS: usize = 2_000_000;
    let keys: Vec<String> = (0..KEYS).map(|i| format!("CHG-{i:08}\u{1f}2024-03-{:02} 12:00:00", i % 28 + 1)).collect();
    let seed = sample_seed("bench", "CC8.1", "changes");
    let per_key = |t: std::time::Duration| t.as_nanos() as f64 / KEYS as f64;

    // Hot-path components.
    let prefix = seed_prefix(&seed);
    let start = Instant::now();
    let mut acc = 0u8;
    for k in &keys {
        acc ^= rank_digest(&prefix, k)[0];
    }
    let cloned = start.elapsed();
    let start = Instant::now();
    for k in &keys {
        let d: [u8; 32] = Sha256::new().chain_update(&seed).chain_update(":").chain_update(k).finalize().into();
        acc ^= d[0];
    }
    let scratch = start.elapsed();
    let start = Instant::now();
    for k in &keys {
        acc ^= Sha256::digest(k)[0];
    }
    let key_hash = start.elapsed();
    println!(
        "rank hash: prefix clone {:.1} ns/key, from scratch {:.1} ns/key; key hash {:.1} ns/key ({acc})",
        per_key(cloned),
        per_key(scratch),
        per_key(key_hash)
    );

    let start = Instant::now();
    let mut ranker = Ranker::new(&seed, 25);
    ranker.push_batch(&keys);
    let pushed = start.elapsed();
    let single = ranker.finish();
    let total = start.elapsed();
    println!(
        "1 thread: {:.1} ns/key (push {:.1}, finish {:.1})",
        per_key(total),
        per_key(pushed),
        per_key(total - pushed)
    );

    // Owned batches as a producer hands them over; dropping them is part
    // of the cost.
    for threads in [1usize, 2] {
        let batches: Vec<Vec<String>> = keys.chunks(2048).map(|c| c.to_vec()).collect();
        let start = Instant::now();
        let parallel = rank_parallel(batches.into_iter(), &seed, 25, threads);
        let threads_ns = per_key(start.elapsed());
        println!("rank_parallel, {threads} worker thread(s): {threads_ns:.1} ns/key");
        assert_eq!(parallel, single);
    }
}

#[test]
fn candidates_settle_the_sample_unless_leads_tie_at_the_cut() {
    let ranked = |keys: &[&str]| {
        let mut all: Vec<Ranked> = keys.iter().map(|k| Ranked { key: k.to_string(), rank: rank_hex("s", k) }).collect();
        all.sort_by(|a, b| a.rank.cmp(&b.rank));
        all
    };
    let candidates = |leads: &[(&str, u64)]| leads.iter().map(|(k, l)| (k.to_string(), *l)).collect::<Vec<_>>();
    // Ties inside the sample are settled by the full rank.
    let got = select_candidates("s", 2, candidates(&[("c", 3), ("a", 1), ("b", 1)]));
    assert_eq!(got, Some(ranked(&["a", "b"])));
    // A tie at the cut could hide other rows with the same lead.
    assert_eq!(select_candidates("s", 2, candidates(&[("a", 1), ("b", 2), ("c", 2)])), None);
    // Fewer rows than the size: all of them; size 0: none.
    assert_eq!(select_candidates("s", 5, candidates(&[("x", 9), ("y", 9)])), Some(ranked(&["x", "y"])));
    assert_eq!(select_candidates("s", 0, candidates(&[("x", 9)])), Some(Vec::new()));
}
