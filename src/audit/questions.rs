//! The auditor question library (PBC requests), each question mapped to a control and one of its evidence
//! specs, and the matching of an auditor's words to a question, with the sample size and period asked for.
//!
//! Matching: size, period and stop words ("show", "me", …) are cut from the request. Each remaining word is
//! fuzzy-matched (nucleo, [`crate::fuzzy::Word`]) against a question's text (placeholders removed) and each alias; a word
//! scoring at least [`WORD_QUALITY`]% of its self-score adds its score. A question takes its best candidate,
//! and qualifies if that matched more than half the words and scored [`MATCH_THRESHOLD`] or more. The best
//! qualifying question wins (ties: the earlier one); none is [`QuestionError::NoMatch`].

use std::path::Path;

use chrono::{Datelike, Days, Months, NaiveDate};
use nucleo_matcher::Matcher;
use serde::Deserialize;

use crate::fuzzy::{Word, matcher};

/// The built-in library, used when a workspace has no `questions.toml`.
pub const DEFAULT_LIBRARY: &str = include_str!("../../assets/questions.toml");
/// The workspace's own library, next to `quarterdeck.toml`; replaces the default.
pub const FILE_NAME: &str = "questions.toml";
/// The lowest score a match needs (nucleo's scores): a whole three-letter word ("mfa", "iam": 88) or a
/// longer one ("scan" in "scans": 114); a two-letter one ("pr": 62) falls short.
pub const MATCH_THRESHOLD: i64 = 80;
/// How well (percent of its self-score) a word must match a candidate to count: a scattered
/// three-letter match ("ate" in "deploys and the prs they shipped": 70 of 88, 79%) does not.
pub const WORD_QUALITY: i64 = 85;
/// Words this short count only where they occur whole ("ate" is not "a… te…" in "and tested").
pub const SHORT_WORD: usize = 3;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    /// As an auditor asks it; `{n}` is the sample size, `{period}` the period.
    pub text: String,
    /// Control id, e.g. `CHG-1`.
    pub control: String,
    /// The exact name of one of the control's evidence specs.
    pub spec: String,
    /// Sample size when the request gives none.
    #[serde(default = "default_size")]
    pub size: u32,
    #[serde(default)]
    pub aliases: Vec<String>,
}

fn default_size() -> u32 {
    10
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LibraryFile {
    #[serde(default)]
    question: Vec<Question>,
}

#[derive(Debug, thiserror::Error)]
pub enum QuestionError {
    #[error("{file}:{line}:{col}: {message}")]
    Parse { file: String, line: usize, col: usize, message: String },
    #[error("cannot read {file}: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("no question in the library matches “{0}”")]
    NoMatch(String),
}

crate::error::kind!(BadInput: QuestionError);

#[derive(Debug, Clone)]
pub struct Library {
    pub questions: Vec<Question>,
    /// The file shown in messages.
    pub source: String,
}

/// The question an auditor's request matched, with what it asked for.
#[derive(Debug, Clone)]
pub struct Match<'a> {
    pub question: &'a Question,
    pub score: i64,
    /// From the request, else the question's default.
    pub size: u32,
    /// A period label: `2026-Q3`, `2026-07`, `2026` or `2026-07-01..2026-10-01` (exclusive end).
    pub period: Option<String>,
}

impl Library {
    /// The workspace's questions.toml if present, else the default set. (root = workspace folder)
    pub fn load(root: &Path) -> Result<Self, QuestionError> {
        let path = root.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Self::parse("questions.toml (built in)", DEFAULT_LIBRARY)
            }
            Err(source) => Err(QuestionError::Io { file: path.display().to_string(), source }),
        }
    }

    /// Parses a library; `source` names it in errors, which carry line and column.
    pub fn parse(source: &str, text: &str) -> Result<Self, QuestionError> {
        let err = |offset: usize, message: String| {
            let before = text.get(..offset).unwrap_or(text);
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let (line, col) = (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1);
            QuestionError::Parse { file: source.to_string(), line, col, message }
        };
        let file: LibraryFile =
            toml::from_str(text).map_err(|e| err(e.span().map_or(0, |s| s.start), e.message().trim().to_string()))?;
        if file.question.is_empty() {
            return Err(err(0, "no [[question]] in the file".to_string()));
        }
        // Offsets of each `[[question]]` header, to place a per-question error.
        let at_line_start = |i: usize| text[..i].trim_end_matches([' ', '\t']).chars().last().is_none_or(|c| c == '\n');
        let headers: Vec<usize> =
            text.match_indices("[[question]]").map(|(i, _)| i).filter(|&i| at_line_start(i)).collect();
        for (n, q) in file.question.iter().enumerate() {
            let problems = [
                (q.id.trim().is_empty() || q.text.trim().is_empty(), "needs a non-empty id and text"),
                (q.size == 0, "size must be at least 1"),
                (file.question[..n].iter().any(|p| p.id == q.id), "the id is used twice"),
            ];
            if let Some((_, problem)) = problems.into_iter().find(|(bad, _)| *bad) {
                return Err(err(headers.get(n).copied().unwrap_or(0), format!("question `{}`: {problem}", q.id)));
            }
        }
        Ok(Library { questions: file.question, source: source.to_string() })
    }

    /// The best question for an auditor's words, with the size and period they asked for.
    pub fn match_request(&self, request: &str, today: NaiveDate) -> Result<Match<'_>, QuestionError> {
        let (words, size, period) = parse_request(request, today);
        let (mut matcher, words) = prepared(&words);
        let mut best: Option<(i64, &Question)> = None;
        for q in &self.questions {
            let (score, matched) = score(&mut matcher, q, &words);
            if score >= MATCH_THRESHOLD && matched * 2 > words.len() && best.is_none_or(|(s, _)| score > s) {
                best = Some((score, q));
            }
        }
        let (score, question) = best.ok_or_else(|| QuestionError::NoMatch(request.trim().to_string()))?;
        Ok(Match { question, score, size: size.unwrap_or(question.size), period })
    }

    /// Every question ranked by fuzzy score (for a palette / `ask --list`),
    /// best first, ties in library order; questions that match nothing score 0.
    pub fn ranked(&self, query: &str) -> Vec<(i64, &Question)> {
        let (words, _, _) = parse_request(query, NaiveDate::default());
        let (mut matcher, words) = prepared(&words);
        let mut out: Vec<(i64, &Question)> =
            self.questions.iter().map(|q| (score(&mut matcher, q, &words).0, q)).collect();
        out.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
        out
    }
}

/// A matcher and the request's words, each with its self-score.
fn prepared(words: &[String]) -> (Matcher, Vec<(&str, Word)>) {
    let mut matcher = matcher();
    let words = words.iter().map(|w| (w.as_str(), Word::new(w, &mut matcher))).collect();
    (matcher, words)
}

/// (score, how many words matched) of a question: its best candidate.
fn score(matcher: &mut Matcher, q: &Question, words: &[(&str, Word)]) -> (i64, usize) {
    let text = q.text.replace("{n}", "").replace("{period}", "");
    let mut buf = Vec::new();
    let mut best = (0, 0);
    for candidate in std::iter::once(&text).chain(&q.aliases) {
        let lower = candidate.to_lowercase();
        let hits: Vec<i64> = (words.iter())
            .filter(|(text, _)| text.chars().count() > SHORT_WORD || lower.contains(*text))
            .filter_map(|(_, w)| {
                let s = w.score(candidate, matcher, &mut buf)?;
                (u64::from(s) * 100 >= u64::from(w.own) * WORD_QUALITY as u64).then_some(i64::from(s))
            })
            .collect();
        best = best.max((hits.iter().sum(), hits.len()));
    }
    best
}

/// Words that say nothing about which question is meant.
const STOP_WORDS: &str = " a all an and any are as at audit be by can could did do does during each every evidence few for \
    from get give how i in is it its let like me need of on or over period pick please proof random sample samples see \
    show showing some that the their them these they those to us was we were what when which who with within would you ";
const UNITS: &str =
    " minute minutes hour hours day days week weeks month months quarter quarters year years % percent ";
const MONTHS: &str = "january february march april may june july august september october november december";

/// An auditor's request: its content words, and the size and period cut out of it.
fn parse_request(request: &str, today: NaiveDate) -> (Vec<String>, Option<u32>, Option<String>) {
    let cut = |c: char| c.is_whitespace() || ",;:?!()[]\"“”`".contains(c);
    let mut toks: Vec<String> = request
        .to_lowercase()
        .replace(['‘', '’'], "'")
        .split(cut)
        .map(|t| t.trim_end_matches('.').trim_end_matches("'s").trim_matches('\'').to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let found = (0..toks.len()).find_map(|i| period_at(&toks, i, today).map(|(label, used)| (label, i..i + used)));
    let period = found.map(|(label, used)| {
        toks.drain(used);
        label
    });
    let is_size = |i: usize, n: u32| {
        let (prev, next) = (i.checked_sub(1).map(|p| toks[p].as_str()), toks.get(i + 1).map(String::as_str));
        n > 0
            && !(1900..=2999).contains(&n)
            && !next.is_some_and(|t| UNITS.contains(&format!(" {t} ")))
            && !prev.is_some_and(|t| ["soc", "sev", "p", "type", "tier", "priority", "severity"].contains(&t))
    };
    let size_at = (0..toks.len()).find_map(|i| number(&toks[i]).filter(|&n| is_size(i, n)).map(|n| (i, n)));
    if let Some((i, _)) = size_at {
        toks.remove(i);
    }
    // Content words: no stop words, and no leftover numbers or the units after them.
    let numeric = |i: usize| number(&toks[i]).is_some();
    let words = (0..toks.len())
        .filter(|&i| !STOP_WORDS.contains(&format!(" {} ", toks[i])) && !numeric(i))
        .filter(|&i| !(i > 0 && numeric(i - 1) && UNITS.contains(&format!(" {} ", toks[i]))))
        .map(|i| toks[i].clone())
        .collect();
    (words, size_at.map(|(_, n)| n), period)
}

/// A period starting at token `i`: its label and how many tokens it used.
fn period_at(t: &[String], i: usize, today: NaiveDate) -> Option<(String, usize)> {
    let tok = |k: usize| t.get(i + k).map(String::as_str).unwrap_or("");
    let year_at = |k: usize| tok(k).parse::<i32>().ok().filter(|y| (1971..=9998).contains(y) && tok(k).len() == 4);
    let (y, m, q) = (today.year(), today.month(), today.month0() / 3 + 1);
    let relative = |back: i32, unit: &str| match unit {
        "quarter" => Some(if q as i32 > back { format!("{y}-Q{}", q as i32 - back) } else { format!("{}-Q4", y - 1) }),
        "month" => Some(today.checked_sub_months(Months::new(back as u32))?.format("%Y-%m").to_string()),
        "year" => Some(format!("{}", y - back)),
        _ => None,
    };
    let range = |from: NaiveDate, to: NaiveDate| (from < to).then(|| format!("{from}..{to}"));
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    match tok(0) {
        "last" | "previous" | "prior" | "past" => {
            if let Some(label) = relative(1, tok(1)) {
                return Some((label, 2));
            }
            let n = number(tok(1)).filter(|&n| n > 0)?;
            let to = today.checked_add_days(Days::new(1))?;
            let from = match tok(2) {
                "day" | "days" => to.checked_sub_days(Days::new(n.into())),
                "week" | "weeks" => to.checked_sub_days(Days::new(u64::from(n) * 7)),
                "month" | "months" => to.checked_sub_months(Months::new(n)),
                _ => None,
            }?;
            Some((range(from, to)?, 3))
        }
        "this" | "current" => relative(0, tok(1)).map(|label| (label, 2)),
        s if quarter(s).is_some() => {
            let n = quarter(s)?; // this year's, or last year's if it has not begun yet
            let guessed = (format!("{}-Q{n}", if n > q { y - 1 } else { y }), 1);
            Some(year_at(1).map_or(guessed, |year| (format!("{year}-Q{n}"), 2)))
        }
        s => {
            if let Some(year) = year_at(0) {
                return Some(quarter(tok(1)).map_or((year.to_string(), 1), |n| (format!("{year}-Q{n}"), 2)));
            }
            if let Some((a, b)) = s.split_once("..") {
                return Some((range(date(a)?, date(b)?)?, 1));
            }
            if let Some(from) = date(s) {
                let (to, used) = match (tok(1), date(tok(2))) {
                    ("to" | "through" | "thru" | "until" | "and" | "-", Some(end)) => (end, 3),
                    _ => (from, 1),
                };
                return Some((range(from, to.checked_add_days(Days::new(1))?)?, used));
            }
            if let Some((year, b)) = s.split_once('-').filter(|(a, _)| a.len() == 4 && a.parse::<i32>().is_ok()) {
                if let Some(n) = quarter(b) {
                    return Some((format!("{year}-Q{n}"), 1));
                }
                let month = b.parse::<u32>().ok().filter(|m| (1..=12).contains(m) && b.len() == 2)?;
                return Some((format!("{year}-{month:02}"), 1));
            }
            // A full month name, or "may" or an abbreviation ("aug", "sept") after "in"/"for"/… or before a year.
            let month = MONTHS.split(' ').position(|name| s.len() >= 3 && name.starts_with(s))? as u32 + 1;
            let full = MONTHS.split(' ').any(|name| name == s && s != "may");
            let after_preposition = i > 0 && ["in", "for", "during", "from", "of"].contains(&t[i - 1].as_str());
            let guessed =
                (full || after_preposition).then(|| (format!("{}-{month:02}", if month > m { y - 1 } else { y }), 1));
            year_at(1).map(|year| (format!("{year}-{month:02}"), 2)).or(guessed)
        }
    }
}

/// "q1" to "q4".
fn quarter(s: &str) -> Option<u32> {
    s.strip_prefix('q').filter(|n| n.len() == 1)?.parse().ok().filter(|n| (1..=4).contains(n))
}

/// "10", "ten", "twenty-five" (one to ninety-nine in words).
fn number(s: &str) -> Option<u32> {
    const ONES: &str = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen \
        sixteen seventeen eighteen nineteen";
    const TENS: &str = "twenty thirty forty fifty sixty seventy eighty ninety";
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let word = |w: &str, list: &str| list.split_whitespace().position(|x| x == w).map(|p| p as u32);
    match s.split_once('-') {
        Some((tens, ones)) => Some(word(tens, TENS)? * 10 + 20 + word(ones, ONES).filter(|n| (1..=9).contains(n))?),
        None => word(s, ONES).or_else(|| word(s, TENS).map(|t| t * 10 + 20)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn default() -> Library {
        Library::parse("test", DEFAULT_LIBRARY).unwrap()
    }

    /// "control / spec / size / period" of a request asked on 2026-11-26.
    fn ask(request: &str) -> String {
        let lib = default();
        let m = lib.match_request(request, day("2026-11-26")).unwrap_or_else(|e| panic!("{e}"));
        format!("{} / {} / {} / {}", m.question.control, m.question.spec, m.size, m.period.as_deref().unwrap_or("-"))
    }

    /// Lines of `request => expected` (`;` may join several on one line).
    fn table(cases: &str, f: impl Fn(&str) -> String) {
        for (request, want) in cases.split(['\n', ';']).filter_map(|l| l.split_once("=>")) {
            assert_eq!(f(request.trim()), want.trim(), "{}", request.trim());
        }
    }

    #[test]
    fn ten_random_production_changes_last_quarter() {
        let got = ask("show me 10 random production changes from last quarter, with their approvals");
        assert_eq!(got, "CHG-1 / prod deploys / 10 / 2026-Q3");
    }

    #[test]
    fn the_auditors_typical_questions() {
        table(
            "terminations in the period and when access was removed => AC-3 / terminations / 10 / -
            every customer-impacting incident and its postmortem => OPS-4 / incidents / 25 / -
            5 user provisioning events with approval in Q2 => AC-2 / access grants / 5 / 2026-Q2
            10 random user provisioning events, with approval => AC-2 / access grants / 10 / -",
            ask,
        );
    }

    #[test]
    fn every_control_can_be_asked_for_in_other_words() {
        let control = |r: &str| ask(r).split(' ').next().unwrap_or_default().to_string();
        table(
            "evidence of multi-factor authentication => AC-1; offboarding => AC-3; UAR => AC-4
            privileged access changes => AC-5; sign in logs collected every day => AC-6
            change management => CHG-1; pull requests merged without approval => CHG-2
            deploys and the PRs they shipped => CHG-3; vuln scans => OPS-1; security alerts triage => OPS-3
            P1 and P2 alerts acknowledged within 30 minutes => OPS-2; SEV1 incidents resolution times => OPS-5
            how were incidents detected => OPS-6; backups => RES-1; did you test restoring backups => RES-2
            weekly backup report review => RES-3; vendor SOC 2 reports => VEN-1; vendor inventory => VEN-2",
            control,
        );
    }

    #[test]
    fn nonsense_is_no_match() {
        let requests = "what is the airspeed velocity of an unladen swallow; encryption at rest; ate; \
            background checks for new hires; show me 10 from last quarter; firewall rules; ";
        for r in requests.split("; ") {
            let got = default().match_request(r, day("2026-11-26")).map(|m| m.question.id.clone());
            assert!(matches!(&got, Err(QuestionError::NoMatch(said)) if said == r), "{r}: {got:?}");
        }
    }

    #[test]
    fn periods_are_read_relative_to_today() {
        let period = |r: &str| ask(&format!("production changes {r}")).replace("CHG-1 / prod deploys / 10 / ", "");
        table(
            "last quarter => 2026-Q3; previous quarter => 2026-Q3; this quarter => 2026-Q4; q3 => 2026-Q3
            Q3 2026 => 2026-Q3; 2026-Q1 => 2026-Q1; 2025 q4 => 2025-Q4; last month => 2026-10; this year => 2026
            in August => 2026-08; August 2026 => 2026-08; in may => 2026-05; december => 2025-12
            Sept 2025 => 2025-09; 2026-07 => 2026-07; last year => 2025; 2025 => 2025; in the period => -
            last 90 days => 2026-08-29..2026-11-27; the past two weeks => 2026-11-13..2026-11-27
            last 3 months => 2026-08-27..2026-11-27; 2026-07-01..2026-10-01 => 2026-07-01..2026-10-01
            2026-07-01 to 2026-09-30 => 2026-07-01..2026-10-01; on 2026-08-14 => 2026-08-14..2026-08-15
            may we see => -; from Jan => 2026-01; jan => -",
            period,
        );
        let on = |today: &str, r: &str| default().match_request(r, day(today)).unwrap().period.unwrap_or_default();
        assert_eq!([on("2026-02-01", "q1 deploys"), on("2026-01-15", "deploys last quarter")], ["2026-Q1", "2025-Q4"]);
    }

    #[test]
    fn sizes_in_digits_and_words() {
        table(
            "ten production changes => 10; 25 random production changes => 25; twenty-five deploys => 25
            production changes: three => 3; production changes => 10; production changes in the last 30 days => 10
            production changes q3 2026 => 10; vendor SOC 2 reports => 10; P1 alerts acked within 30 minutes => 10
            production changes over the last two quarters => 10",
            |r| ask(r).split(" / ").nth(2).unwrap_or_default().to_string(),
        );
    }

    #[test]
    fn a_workspace_questions_toml_overrides_the_default() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Library::load(dir.path()).unwrap().questions.len(), default().questions.len());
        let own = "[[question]]\nid = \"hr\"\ntext = \"{n} background checks\"\ncontrol = \"HR-1\"\nspec = \"s\"\n";
        std::fs::write(dir.path().join(FILE_NAME), own).unwrap();
        let lib = Library::load(dir.path()).unwrap();
        assert_eq!((lib.questions.len(), lib.source.ends_with(FILE_NAME)), (1, true));
        let m = lib.match_request("3 background checks", day("2026-11-26")).unwrap();
        assert_eq!((m.question.control.as_str(), m.size, lib.questions[0].size), ("HR-1", 3, 10));
        assert!(lib.match_request("production changes", day("2026-11-26")).is_err());
    }

    #[test]
    fn a_malformed_questions_toml_gives_file_line_col() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let q = "[[question]]\nid = \"a\"\ntext = \"x\"\ncontrol = \"C\"\nspec = \"s\"\n";
        std::fs::write(&path, format!("{q}size = \"ten\"\n")).unwrap();
        let err = Library::load(dir.path()).map(|_| ()).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:6:8: invalid type", path.display())), "{err}");
        let err = Library::parse("q.toml", &format!("{q}\n{q}")).map(|_| ()).unwrap_err().to_string();
        assert_eq!(err, "q.toml:7:1: question `a`: the id is used twice");
        let err = Library::parse("q.toml", &format!("{q}colour = 1\n")).map(|_| ()).unwrap_err().to_string();
        assert!(err.starts_with("q.toml:6:1: unknown field `colour`"), "{err}");
    }

    #[test]
    fn ranked_puts_the_best_first() {
        let lib = default();
        let ids = |q: &str| lib.ranked(q).iter().map(|(_, q)| q.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids("backup")[..3], ["nightly-backups", "restore-tests", "backup-reviews"]);
        assert_eq!(ids("changes prod")[0], "prod-changes");
        assert_eq!(ids(""), lib.questions.iter().map(|q| q.id.clone()).collect::<Vec<_>>());
    }

    #[test]
    fn every_default_question_names_a_demo_control_and_spec() {
        let dir = tempfile::tempdir().unwrap();
        crate::demo::write_demo_files(dir.path(), &crate::demo::DemoOptions::new(day("2026-11-26"))).unwrap();
        let mut specs = Vec::new();
        for entry in std::fs::read_dir(dir.path().join("controls")).unwrap() {
            let file: toml::Value = toml::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
            for c in file["control"].as_array().unwrap() {
                let spec =
                    |e: &toml::Value| (c["id"].as_str().unwrap().to_string(), e["name"].as_str().unwrap().into());
                specs.extend(c["evidence"].as_array().unwrap().iter().map(spec));
            }
        }
        assert_eq!(specs.iter().map(|(c, _)| c).collect::<std::collections::BTreeSet<_>>().len(), 26);
        for q in &default().questions {
            assert!(specs.contains(&(q.control.clone(), q.spec.clone())), "{}: {} / {}", q.id, q.control, q.spec);
        }
        assert!(specs.iter().all(|(c, _)| default().questions.iter().any(|q| &q.control == c)), "a control unasked");
    }
}
