//! Fuzzy ranking fast enough for every keystroke over long lists: a cheap
//! pass filters by subsequence and scores each match in one sweep, then
//! fuzzy-matcher's skim scorer orders the best few — the ones on screen.
//! Smart case, as skim: a query with an upper-case letter matches case.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

/// How many of the best cheap matches skim re-scores and orders.
pub const RESCORED: usize = 64;

/// From how many candidates scoring runs on two threads.
const PARALLEL_FROM: usize = 2_000;

/// The labels, prepared once.
pub struct Haystack {
    labels: Vec<String>,
    lower: Vec<Vec<u8>>,
    matcher: SkimMatcherV2,
}

impl Haystack {
    pub fn new(labels: Vec<String>) -> Self {
        let lower = labels.iter().map(|l| l.to_lowercase().into_bytes()).collect();
        Self { labels, lower, matcher: SkimMatcherV2::default() }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The candidates matching `query`, best first.
    pub fn rank(&self, query: &str, candidates: impl Iterator<Item = usize>) -> Vec<usize> {
        if !query.is_ascii() {
            // Byte-wise matching is only sound on ASCII; skim does the rest.
            return self.skim_rank(query, candidates);
        }
        let exact_case = query.bytes().any(|b| b.is_ascii_uppercase());
        let needle = query.as_bytes();
        let score = |ids: &[usize]| -> Vec<(i64, usize)> {
            ids.iter()
                .filter_map(|&i| {
                    let hay = if exact_case { self.labels[i].as_bytes() } else { &self.lower[i] };
                    cheap_score(hay, needle).map(|s| (s, i))
                })
                .collect()
        };
        let candidates: Vec<usize> = candidates.collect();
        // Long lists are scored in two halves at once: a keystroke stays
        // well inside 2 ms over 10,000 items.
        let scored = if candidates.len() >= PARALLEL_FROM {
            let (left, right) = candidates.split_at(candidates.len() / 2);
            std::thread::scope(|scope| {
                let other = scope.spawn(|| score(right));
                let mut scored = score(left);
                scored.extend(other.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
                scored
            })
        } else {
            score(&candidates)
        };
        let (best, rest) = split_best(&scored, RESCORED);
        let mut ranked = self.skim_rank(query, best.into_iter());
        ranked.extend(rest);
        ranked
    }

    fn skim_rank(&self, query: &str, candidates: impl Iterator<Item = usize>) -> Vec<usize> {
        let mut scored: Vec<(i64, usize)> =
            candidates.filter_map(|i| self.matcher.fuzzy_match(&self.labels[i], query).map(|s| (s, i))).collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, i)| i).collect()
    }
}

/// The `n` best-scored candidates, and the others in their original order;
/// linear, without sorting them all.
fn split_best(scored: &[(i64, usize)], n: usize) -> (Vec<usize>, Vec<usize>) {
    if scored.len() <= n {
        return (scored.iter().map(|(_, i)| *i).collect(), Vec::new());
    }
    let mut scores: Vec<i64> = scored.iter().map(|(s, _)| *s).collect();
    let (_, threshold, _) = scores.select_nth_unstable_by(n - 1, |a, b| b.cmp(a));
    let threshold = *threshold;
    let above = scored.iter().filter(|(s, _)| *s > threshold).count();
    let mut ties = n - above;
    let (mut best, mut rest) = (Vec::with_capacity(n), Vec::with_capacity(scored.len() - n));
    for &(score, i) in scored {
        if score > threshold || (score == threshold && ties > 0) {
            if score == threshold {
                ties -= 1;
            }
            best.push(i);
        } else {
            rest.push(i);
        }
    }
    (best, rest)
}

/// Where `needle` first occurs in `hay`.
#[inline]
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while let Some(offset) = hay.get(from..)?.iter().position(|&b| b == first) {
        let at = from + offset;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[inline]
fn word_start(hay: &[u8], at: usize) -> bool {
    at == 0 || !hay[at - 1].is_ascii_alphanumeric()
}

/// A subsequence match scored in one pass: a substring scores highest
/// (earlier and at a word start better); otherwise each matched byte
/// scores, more when it follows the previous one or starts a word.
#[inline]
pub fn cheap_score(hay: &[u8], needle: &[u8]) -> Option<i64> {
    if needle.is_empty() {
        return Some(0);
    }
    if let Some(at) = find(hay, needle) {
        let bonus = if word_start(hay, at) { 200 } else { 0 };
        return Some(10_000 + bonus - at as i64);
    }
    let mut score = 0i64;
    let mut next = 0;
    let mut previous: Option<usize> = None;
    for (at, byte) in hay.iter().enumerate() {
        if *byte != needle[next] {
            continue;
        }
        score += 10;
        if previous.is_some_and(|p| p + 1 == at) {
            score += 15;
        }
        if word_start(hay, at) {
            score += 10;
        }
        if let Some(p) = previous {
            score -= ((at - p) as i64 / 4).min(10);
        }
        previous = Some(at);
        next += 1;
        if next == needle.len() {
            return Some(score);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn haystack(labels: &[&str]) -> Haystack {
        Haystack::new(labels.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn matches_are_subsequences_and_substrings_rank_first() {
        let h = haystack(&["control AC-1 Sign-ins use SSO with MFA", "source sso_log", "finding F-1 stale scans", "x"]);
        assert_eq!(h.rank("sso", 0..h.len()), vec![1, 0]);
        assert_eq!(h.rank("zzz", 0..h.len()), Vec::<usize>::new());
        assert_eq!(h.rank("ssowm", 0..h.len()), vec![0]);
    }

    #[test]
    fn smart_case_as_skim() {
        let h = haystack(&["Deploys", "deploys"]);
        assert_eq!(h.rank("Dep", 0..h.len()), vec![0]);
        assert_eq!(h.rank("dep", 0..h.len()).len(), 2);
    }

    #[test]
    fn the_top_is_ordered_by_skim_as_with_skim_alone() {
        let labels: Vec<String> = (0..500).map(|i| format!("control C-{i} item number {i} of the catalog")).collect();
        let h = Haystack::new(labels.clone());
        let ranked = h.rank("c-42", 0..h.len());
        assert_eq!(ranked.first(), Some(&42));
        let skim = h.skim_rank("c-42", 0..h.len());
        assert_eq!(ranked.len(), skim.len(), "the same items match");
    }

    #[test]
    fn the_best_are_split_off_without_sorting_the_rest() {
        let scored = vec![(5, 0), (9, 1), (5, 2), (1, 3), (9, 4), (5, 5)];
        assert_eq!(split_best(&scored, 3), (vec![0, 1, 4], vec![2, 3, 5]));
        assert_eq!(split_best(&scored, 10).0.len(), 6);
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"ab", b"abc"), None);
    }

    #[test]
    fn non_ascii_queries_go_to_skim() {
        let h = haystack(&["Zugriff für Mitarbeiter", "other"]);
        assert_eq!(h.rank("für", 0..h.len()), vec![0]);
    }
}
