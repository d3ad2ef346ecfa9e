//! Fuzzy matching for every list a person types into — the palette, the
//! filters, the question library — scored by nucleo's matcher (the one
//! behind the helix editor). Smart case: a query with an upper-case letter
//! matches case; otherwise case is ignored. Each word of a query is matched
//! on its own, anywhere in the label.
//!
//! Nucleo alone scores 10,000 palette items in 5-10 ms per keystroke here
//! (benches/tui.rs), over the 2 ms budget; so a cheap pass filters by
//! subsequence and scores each match in one sweep, on two threads for long
//! lists, and nucleo orders the best [`RESCORED`] — the ones on screen.

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str, Utf32String};

/// How many of the best cheap matches nucleo re-scores and orders.
pub const RESCORED: usize = 64;

/// From how many candidates the cheap pass runs on two threads.
const PARALLEL_FROM: usize = 2_000;

/// Labels prepared once, ranked per keystroke.
pub struct Haystack {
    labels: Vec<Utf32String>,
    exact: Vec<Vec<u8>>,
    lower: Vec<Vec<u8>>,
    matcher: Matcher,
}

impl Haystack {
    pub fn new<S: AsRef<str>>(labels: impl IntoIterator<Item = S>) -> Self {
        let (mut utf32, mut exact, mut lower) = (Vec::new(), Vec::new(), Vec::new());
        for label in labels {
            let label = label.as_ref();
            utf32.push(Utf32String::from(label));
            exact.push(label.as_bytes().to_vec());
            lower.push(label.to_lowercase().into_bytes());
        }
        Self { labels: utf32, exact, lower, matcher: Matcher::new(Config::DEFAULT) }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The candidates matching `query`, best first (ties in candidate
    /// order); an empty query matches every candidate in order.
    pub fn rank(&mut self, query: &str, candidates: impl Iterator<Item = usize>) -> Vec<usize> {
        let words: Vec<&[u8]> = query.split_whitespace().map(str::as_bytes).collect();
        if words.is_empty() {
            return candidates.filter(|&i| i < self.labels.len()).collect();
        }
        if !query.is_ascii() {
            // Byte-wise matching is only sound on ASCII; nucleo does the rest.
            return self.nucleo_rank(query, candidates);
        }
        let exact_case = query.bytes().any(|b| b.is_ascii_uppercase());
        let hays = if exact_case { &self.exact } else { &self.lower };
        let score = |ids: &[usize]| -> Vec<(i64, usize)> {
            ids.iter()
                .filter_map(|&i| {
                    let hay = hays.get(i)?;
                    words.iter().try_fold(0, |sum, w| cheap_score(hay, w).map(|s| sum + s)).map(|s| (s, i))
                })
                .collect()
        };
        let candidates: Vec<usize> = candidates.collect();
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
        let mut ranked = self.nucleo_rank(query, best.into_iter());
        ranked.extend(rest);
        ranked
    }

    /// Candidates scored and ordered by nucleo alone.
    pub fn nucleo_rank(&mut self, query: &str, candidates: impl Iterator<Item = usize>) -> Vec<usize> {
        let pattern = Pattern::new(query, CaseMatching::Smart, Normalization::Never, AtomKind::Fuzzy);
        let mut scored: Vec<(u32, usize)> = candidates
            .filter_map(|i| {
                let label = self.labels.get(i)?;
                pattern.score(label.slice(..), &mut self.matcher).map(|s| (s, i))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, i)| i).collect()
    }
}

/// One word scored against texts, case ignored: for the question library,
/// which weighs each of an auditor's words on its own.
pub struct Word {
    pattern: Pattern,
    /// The word's score against itself: a whole-word match.
    pub own: u32,
}

impl Word {
    pub fn new(word: &str, matcher: &mut Matcher) -> Self {
        let pattern = Pattern::new(word, CaseMatching::Ignore, Normalization::Smart, AtomKind::Fuzzy);
        let mut buf = Vec::new();
        let own = pattern.score(Utf32Str::new(word, &mut buf), matcher).unwrap_or(0).max(1);
        Self { pattern, own }
    }

    pub fn score(&self, text: &str, matcher: &mut Matcher, buf: &mut Vec<char>) -> Option<u32> {
        self.pattern.score(Utf32Str::new(text, buf), matcher)
    }
}

/// A matcher for [`Word`] scoring.
pub fn matcher() -> Matcher {
    Matcher::new(Config::DEFAULT)
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

    #[test]
    fn matches_are_subsequences_and_substrings_rank_first() {
        let mut h =
            Haystack::new(["control AC-1 Sign-ins use SSO with MFA", "source sso_log", "finding F-1 stale scans", "x"]);
        assert_eq!(h.rank("sso", 0..h.len()).len(), 2);
        assert_eq!(h.rank("sso_", 0..h.len()), vec![1]);
        assert_eq!(h.rank("zzz", 0..h.len()), Vec::<usize>::new());
        assert_eq!(h.rank("ssowm", 0..h.len()), vec![0]);
        assert_eq!(h.rank("", 0..h.len()), vec![0, 1, 2, 3]);
    }

    #[test]
    fn smart_case() {
        let mut h = Haystack::new(["Deploys", "deploys"]);
        assert_eq!(h.rank("Dep", 0..h.len()), vec![0]);
        assert_eq!(h.rank("dep", 0..h.len()).len(), 2);
    }

    #[test]
    fn words_match_separately_and_non_ascii_goes_to_nucleo() {
        let mut h = Haystack::new(["Zugriff für Mitarbeiter", "start audit", "audit close"]);
        assert_eq!(h.rank("für", 0..h.len()), vec![0]);
        assert_eq!(h.rank("audit start", 0..h.len()), vec![1]);
        assert_eq!(h.rank("clo aud", [2, 1].into_iter()), vec![2]);
    }

    #[test]
    fn the_prefilter_keeps_what_nucleo_matches_and_nucleo_orders_the_top() {
        let labels: Vec<String> = (0..5000).map(|i| format!("control C-{i} item number {i} of the catalog")).collect();
        let mut h = Haystack::new(&labels);
        for query in ["C-42", "item 7 cat", "ctl", "number 12 of"] {
            let ranked = h.rank(query, 0..h.len());
            let nucleo = h.nucleo_rank(query, 0..h.len());
            assert_eq!(ranked.len(), nucleo.len(), "{query}: the same items match");
            assert_eq!(ranked[..RESCORED.min(ranked.len())].first(), nucleo.first(), "{query}");
        }
        assert_eq!(h.rank("C-42", 0..h.len()).first(), Some(&42));
    }

    #[test]
    fn the_best_are_split_off_without_sorting_the_rest() {
        let scored = vec![(5, 0), (9, 1), (5, 2), (1, 3), (9, 4), (5, 5)];
        assert_eq!(split_best(&scored, 3), (vec![0, 1, 4], vec![2, 3, 5]));
        assert_eq!(split_best(&scored, 10).0.len(), 6);
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"ab", b"abc"), None);
    }
}
