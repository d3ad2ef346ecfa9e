//! Source locations in the workspace's TOML files, so that every problem can
//! be reported as `file:line:col: message`, the shape editors and CI read.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A place in a file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
}

impl Location {
    pub fn new(file: &Path, line: usize, col: usize) -> Self {
        Self { file: file.to_path_buf(), line, col }
    }

    /// The location of a byte offset in `text`.
    pub fn at_offset(file: &Path, text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        Self::new(file, line, col)
    }

    /// The location of the start of a span, if the parser gave one.
    pub fn at_span(file: &Path, text: &str, span: Option<Range<usize>>) -> Self {
        match span {
            Some(span) => Self::at_offset(file, text, span.start),
            None => Self::new(file, 1, 1),
        }
    }
}

/// Where each line of a text starts, so that many offsets into one large
/// file (a register of thousands of entries) become locations without
/// rescanning the text for each.
pub struct LineIndex<'a> {
    file: &'a Path,
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { file, text, starts }
    }

    /// The location of a byte offset, as [`Location::at_offset`] gives it.
    pub fn at(&self, offset: usize) -> Location {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.starts.partition_point(|&start| start <= offset);
        let line_start = self.starts[line - 1];
        let col = self.text[line_start..offset].chars().count() + 1;
        Location::new(self.file, line, col)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// One thing wrong with a workspace file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub location: Location,
    pub message: String,
    pub warning: bool,
}

impl Problem {
    pub fn error(location: Location, message: impl Into<String>) -> Self {
        Self { location, message: message.into(), warning: false }
    }

    pub fn warning(location: Location, message: impl Into<String>) -> Self {
        Self { location, message: message.into(), warning: true }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.warning { "warning: " } else { "" };
        write!(f, "{}: {kind}{}", self.location, self.message)
    }
}

/// Renders a TOML parse error as a problem at the place the parser points to.
pub fn toml_problem(file: &Path, text: &str, err: &toml::de::Error) -> Problem {
    let location = Location::at_span(file, text, err.span());
    Problem::error(location, err.message().trim().to_string())
}

/// A TOML date (`2026-02-01`) or a string holding one; never a time.
pub fn toml_date(
    value: &toml::Spanned<toml::Value>,
    label: &str,
    field: &str,
    at: &dyn Fn(Range<usize>) -> Location,
    report: &mut dyn FnMut(Location, String),
) -> Option<chrono::NaiveDate> {
    let parsed = match value.get_ref() {
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d
            .date
            .and_then(|d| chrono::NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))),
        toml::Value::String(s) => chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
        _ => None,
    };
    if parsed.is_none() {
        report(at(value.span()), format!("{label}: field `{field}`: `{}` is not a date (YYYY-MM-DD)", value.get_ref()));
    }
    parsed
}

/// "did you mean `x`?" for a misspelled name, from the closest candidate.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let lower = name.to_lowercase();
    // Ties (CC6.9 is as similar to CC6.1 as to CC6.8) go to the nearest
    // characters, so a mistyped number suggests its neighbour.
    let best = candidates
        .into_iter()
        .map(|c| {
            let other = c.to_lowercase();
            // A name that is the start of another (`deployed` → `deployed_at`) is the likeliest.
            let prefix = if other.starts_with(&lower) || lower.starts_with(&other) { 0.1 } else { 0.0 };
            (strsim::jaro_winkler(&lower, &other) + prefix, char_distance(&lower, &other), c)
        })
        .filter(|(score, _, _)| *score >= 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    match best {
        Some((_, _, c)) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

fn char_distance(a: &str, b: &str) -> u32 {
    let paired: u32 = a.chars().zip(b.chars()).map(|(x, y)| (x as u32).abs_diff(y as u32)).sum();
    let unpaired = a.chars().count().abs_diff(b.chars().count()) as u32;
    paired + 100 * unpaired
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_index_agrees_with_at_offset() {
        let text = "a = 1\nbé = 2\n\nlast";
        let index = LineIndex::new(Path::new("f.toml"), text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(index.at(offset), Location::at_offset(Path::new("f.toml"), text, offset), "{offset}");
        }
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nbb = 2\n";
        let loc = Location::at_offset(Path::new("f.toml"), text, 8);
        assert_eq!((loc.line, loc.col), (2, 3));
        assert_eq!(loc.to_string(), "f.toml:2:3");
    }

    #[test]
    fn suggests_the_closest_criterion() {
        assert_eq!(did_you_mean("CC6.9", ["CC6.8", "CC7.1", "A1.2"]), "; did you mean `CC6.8`?");
        assert_eq!(did_you_mean("zzz", ["CC6.8"]), "");
        assert_eq!(did_you_mean("deployed", ["deployer", "deployed_at"]), "; did you mean `deployed_at`?");
    }
}
