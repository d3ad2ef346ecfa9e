//! The document register: `documents.toml`, reviewed in git like the
//! mappings, and Markdown files under `documents/` that declare themselves
//! in TOML front matter between `+++` lines. Parsed with the place of every
//! field, so that `check` can point at the line to fix.

use std::path::{Path, PathBuf};

use chrono::{Months, NaiveDate};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::{DOCUMENTS_DIR, Kind, REGISTER_FILE};
use crate::workspace::mapping::Located;
use crate::workspace::problems::{LineIndex, Location, Problem, did_you_mean, toml_date, toml_problem};

/// One version of a document, as declared.
#[derive(Debug, Clone)]
pub struct Document {
    pub id: String,
    pub title: String,
    pub kind: Kind,
    pub version: String,
    /// Paths relative to the workspace, each under `documents/`.
    pub files: Vec<Located<String>>,
    /// The date it took effect: what places it in a period.
    pub effective: NaiveDate,
    /// The window it attests to (a vendor report's, a pentest's dates).
    pub covers: Option<(NaiveDate, NaiveDate)>,
    pub owner: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDate>,
    /// The renewal interval as written (`1y`), and when it falls due.
    pub renew: Option<(String, NaiveDate)>,
    pub subject: Option<String>,
    pub controls: Vec<Located<String>>,
    pub location: Location,
}

impl Document {
    /// `id | version`, the way keys are shown everywhere.
    pub fn key(&self) -> String {
        format!("{} | {}", self.id, self.version)
    }
}

/// Every declared document and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Register {
    pub documents: Vec<Document>,
    pub problems: Vec<Problem>,
    /// sha256 over the declaring texts: which register a collect read.
    pub version: String,
}

impl Register {
    pub fn document(&self, id: &str, version: &str) -> Option<&Document> {
        self.documents.iter().find(|d| d.id == id && d.version == version)
    }

    /// Reads `documents.toml` and the front matter of `documents/**/*.md`.
    pub fn load(root: &Path) -> Self {
        let mut register = Register::default();
        let mut hasher = Sha256::new();
        let file = PathBuf::from(REGISTER_FILE);
        match std::fs::read_to_string(root.join(&file)) {
            Ok(text) => {
                hash_text(&mut hasher, &file, &text);
                parse_register(&file, &text, &mut register);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => register.problems.push(Problem::error(Location::new(&file, 1, 1), format!("cannot read: {e}"))),
        }
        let listed: Vec<String> =
            register.documents.iter().flat_map(|d| d.files.iter().map(|f| f.value.clone())).collect();
        for path in markdown_files(&root.join(DOCUMENTS_DIR)) {
            let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            let shown_text = shown.to_string_lossy().replace('\\', "/");
            if listed.contains(&shown_text) {
                continue;
            }
            // Front matter is at the top: a few KB is plenty, and a large
            // file is never read whole here.
            let Some(text) = read_head(&path) else { continue };
            if let Some((offset, front)) = front_matter(&text) {
                hash_text(&mut hasher, &shown, front);
                parse_front_matter(&shown, &text, offset, front, &mut register);
            }
        }
        register.version = hex::encode(hasher.finalize());
        register
    }
}

fn hash_text(hasher: &mut Sha256, file: &Path, text: &str) {
    hasher.update(file.to_string_lossy().as_bytes());
    hasher.update([0]);
    hasher.update(text.as_bytes());
    hasher.update([0]);
}

/// Parses `documents.toml`'s text into the register.
pub fn parse_register(file: &Path, text: &str, into: &mut Register) {
    let raw: RawRegister = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            into.problems.push(toml_problem(file, text, &e));
            return;
        }
    };
    let index = LineIndex::new(file, text);
    let at = |span: std::ops::Range<usize>| index.at(span.start);
    for document in raw.document {
        if let Some(d) = document_of(document, None, &at, &mut into.problems) {
            into.documents.push(d);
        }
    }
}

/// A Markdown file's `+++` front matter, declaring the file itself.
fn parse_front_matter(file: &Path, text: &str, offset: usize, front: &str, into: &mut Register) {
    let at = |span: std::ops::Range<usize>| Location::at_offset(file, text, offset + span.start);
    let raw: RawDocument = match toml::from_str(front) {
        Ok(raw) => raw,
        Err(e) => {
            let location = at(e.span().unwrap_or(0..0));
            into.problems.push(Problem::error(location, format!("front matter: {}", e.message().trim())));
            return;
        }
    };
    let this = file.to_string_lossy().replace('\\', "/");
    if let Some(d) = document_of(raw, Some(this), &at, &mut into.problems) {
        into.documents.push(d);
    }
}

/// The TOML between a leading `+++` line and the next, with its offset.
fn front_matter(text: &str) -> Option<(usize, &str)> {
    let rest = text.strip_prefix("+++\n").or_else(|| text.strip_prefix("+++\r\n"))?;
    let start = text.len() - rest.len();
    let end = rest.find("\n+++").map(|i| i + 1)?;
    Some((start, &rest[..end]))
}

fn read_head(path: &Path) -> Option<String> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(16 * 1024);
    std::fs::File::open(path).ok()?.take(64 * 1024).read_to_end(&mut head).ok()?;
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// `documents/**/*.md`, in name order, symlinks not followed.
fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.filter_map(Result::ok) {
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("md")) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

type At<'a> = &'a dyn Fn(std::ops::Range<usize>) -> Location;

fn document_of(raw: RawDocument, this_file: Option<String>, at: At, problems: &mut Vec<Problem>) -> Option<Document> {
    let before = problems.len();
    let location = at(raw.id.span());
    let id = raw.id.get_ref().trim().to_string();
    let mut report = |loc: Location, message: String| problems.push(Problem::error(loc, message));
    let label = if id.is_empty() { "document".to_string() } else { format!("document `{id}`") };
    if id.is_empty() || id.chars().any(|c| c.is_control() || c == '|') {
        report(location.clone(), format!("{label}: field `id` must be non-empty, without `|` or control characters"));
    }
    let kind = Kind::parse(raw.kind.get_ref());
    if kind.is_none() {
        report(
            at(raw.kind.span()),
            format!(
                "{label}: field `kind`: unknown kind `{}`{} (one of {})",
                raw.kind.get_ref(),
                did_you_mean(raw.kind.get_ref(), Kind::NAMES),
                Kind::NAMES.join(", ")
            ),
        );
    }
    let version = match &raw.version {
        None => "1".to_string(),
        Some(v) => match v.get_ref() {
            toml::Value::String(s) if !s.trim().is_empty() && !s.contains('|') => s.trim().to_string(),
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Float(_) => {
                report(
                    at(v.span()),
                    format!(
                        "{label}: field `version`: write it as a string (`\"3.10\"`): a number loses its trailing zeros"
                    ),
                );
                String::new()
            }
            _ => {
                report(at(v.span()), format!("{label}: field `version` must be a non-empty string without `|`"));
                String::new()
            }
        },
    };
    let effective = toml_date(&raw.effective, &label, "effective", at, &mut report);
    let approved_at = raw.approved_at.as_ref().and_then(|a| toml_date(a, &label, "approved_at", at, &mut report));
    let covers = raw.covers.as_ref().and_then(|c| {
        let from = toml_date(&c.get_ref().from, &label, "covers.from", at, &mut report)?;
        let to = toml_date(&c.get_ref().to, &label, "covers.to", at, &mut report)?;
        if from > to {
            report(at(c.span()), format!("{label}: field `covers`: `from` {from} is after `to` {to}"));
            return None;
        }
        Some((from, to))
    });
    if let (Some(approved), Some(effective)) = (approved_at, effective)
        && approved > effective
    {
        let span = raw.approved_at.as_ref().map_or(0..0, Spanned::span);
        report(
            at(span),
            format!(
                "{label}: approved on {approved}, after it took effect on {effective}: a document is approved before it is in force"
            ),
        );
    }
    if raw.approved_at.is_some() && raw.approved_by.is_none() {
        let span = raw.approved_at.as_ref().map_or(0..0, Spanned::span);
        report(at(span), format!("{label}: field `approved_at` without `approved_by`: who approved it?"));
    }
    let renew = raw.renew.as_ref().and_then(|r| {
        let Some(months) = renewal_months(r.get_ref()) else {
            report(
                at(r.span()),
                format!("{label}: field `renew`: `{}` is not an interval (`1y`, `6mo`, `3mo`)", r.get_ref()),
            );
            return None;
        };
        let due = effective?.checked_add_months(Months::new(months))?;
        Some((r.get_ref().clone(), due))
    });
    let files: Vec<Located<String>> = match (&raw.files, this_file) {
        (Some(files), _) => {
            files.get_ref().iter().map(|f| Located { value: f.get_ref().clone(), location: at(f.span()) }).collect()
        }
        (None, Some(this)) => vec![Located { value: this, location: location.clone() }],
        (None, None) => Vec::new(),
    };
    if files.is_empty() {
        let loc = raw.files.as_ref().map_or(location.clone(), |f| at(f.span()));
        report(
            loc,
            format!("{label}: field `files` lists no file; a document is its file(s) under `{DOCUMENTS_DIR}/`"),
        );
    }
    for file in &files {
        if let Err(why) = plain_path(&file.value) {
            report(file.location.clone(), format!("{label}: file `{}`: {why}", file.value));
        }
    }
    if problems.len() > before {
        return None;
    }
    let text =
        |s: &Option<Spanned<String>>| s.as_ref().map(|v| v.get_ref().trim().to_string()).filter(|v| !v.is_empty());
    Some(Document {
        id,
        title: raw.title.into_inner(),
        kind: kind?,
        version,
        files,
        effective: effective?,
        covers,
        owner: text(&raw.owner),
        approved_by: text(&raw.approved_by),
        approved_at,
        renew,
        subject: text(&raw.subject),
        controls: raw.controls.into_iter().map(|c| Located { location: at(c.span()), value: c.into_inner() }).collect(),
        location,
    })
}

/// A path a register may name: relative, under `documents/`, no `..`.
fn plain_path(path: &str) -> Result<(), String> {
    let p = Path::new(path);
    if path.chars().any(char::is_control) {
        return Err("the path holds control characters".into());
    }
    if p.is_absolute() {
        return Err(format!("give the path relative to the workspace, under `{DOCUMENTS_DIR}/`"));
    }
    let mut parts = p.components();
    if !matches!(parts.next(), Some(std::path::Component::Normal(first)) if first == DOCUMENTS_DIR) {
        return Err(format!("a document's files live under `{DOCUMENTS_DIR}/`"));
    }
    if !parts.clone().all(|c| matches!(c, std::path::Component::Normal(_))) || parts.next().is_none() {
        return Err("the path must name a file, without `.` or `..`".into());
    }
    Ok(())
}

/// `1y`, `2y`, `6mo`, `18mo`, `12m` → months.
pub fn renewal_months(text: &str) -> Option<u32> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u32 = number.parse().ok().filter(|n| (1..=120).contains(n))?;
    match unit.trim() {
        "y" | "yr" | "year" | "years" => n.checked_mul(12),
        "mo" | "m" | "month" | "months" => Some(n),
        "q" | "quarter" | "quarters" => n.checked_mul(3),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegister {
    #[serde(default)]
    document: Vec<RawDocument>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    id: Spanned<String>,
    title: Spanned<String>,
    kind: Spanned<String>,
    version: Option<Spanned<toml::Value>>,
    files: Option<Spanned<Vec<Spanned<String>>>>,
    effective: Spanned<toml::Value>,
    covers: Option<Spanned<RawCovers>>,
    owner: Option<Spanned<String>>,
    approved_by: Option<Spanned<String>>,
    approved_at: Option<Spanned<toml::Value>>,
    renew: Option<Spanned<String>>,
    subject: Option<Spanned<String>>,
    #[serde(default)]
    controls: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCovers {
    from: Spanned<toml::Value>,
    to: Spanned<toml::Value>,
}

#[cfg(test)]
mod tests;
