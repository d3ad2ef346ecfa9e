//! A sampled control's workpaper, in the layout auditors use: a header
//! (control, criteria, objective, period, tester, owner, reviewer), the
//! population (source, size, method, seed, sample size), a legend of the
//! attributes (each test's SQL), then one line per sampled row (key, period
//! timestamp, each attribute, verdict, note, tester, tested at, findings).
//! Built once; the CSV and the HTML section both draw from it.

use serde::Serialize;
use serde_json::Value as Json;

use super::dossier::{ControlDossier, Dossier, SampleDossier};
use super::files::sample_dir;
use crate::audit::sampling::columns::sample_columns;
use crate::text::visible;

/// One attribute: a test of the spec, its legend letter and its SQL.
#[derive(Debug, Clone, Serialize)]
pub struct Attribute {
    /// `A1`, `A2`, … in the order of the sample's tests.
    pub label: String,
    pub name: String,
    pub sql: String,
}

/// One attached file as the workpaper shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AttachedFile {
    /// Name, size and sha256.
    pub shown: String,
    /// The file in the packet, relative to the workpaper's folder.
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkpaperRow {
    pub key: String,
    pub period_timestamp: String,
    /// Each attribute's result: Some(true) pass, Some(false) fail, None inconclusive.
    pub attributes: Vec<Option<bool>>,
    pub verdict: String,
    pub note: String,
    pub tester: String,
    pub tested_at: String,
    /// Findings that name this row.
    pub findings: Vec<String>,
    /// Files attached to the row, and where the packet holds each.
    pub attachments: Vec<AttachedFile>,
    /// The row's evidence, one value per [`Workpaper::columns`] entry.
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Workpaper {
    pub dir: String,
    pub control: String,
    pub title: String,
    pub spec: String,
    pub criteria: Vec<String>,
    pub objective: String,
    pub period: String,
    pub period_start: String,
    pub period_end: String,
    /// Everyone who decided a verdict on the sample, in order of first verdict.
    pub testers: Vec<String>,
    pub owner: String,
    pub procedure: String,
    pub reviewer: Option<String>,
    pub reviewed_at: Option<String>,
    pub conclusion: Option<String>,
    pub source: String,
    pub population: u64,
    pub method: String,
    pub seed: String,
    pub sample_size: u64,
    pub fingerprint: String,
    pub drawn_at: String,
    pub drawn_by: String,
    pub redraw_reason: Option<String>,
    pub period_column: String,
    /// The row's other columns, in the order a question shows them: the
    /// ones the tests read first.
    pub columns: Vec<String>,
    pub attributes: Vec<Attribute>,
    pub rows: Vec<WorkpaperRow>,
}

/// The workpaper of one sample of a control.
pub fn workpaper(dossier: &Dossier, control: &ControlDossier, drawn: &SampleDossier) -> Workpaper {
    let sample = &drawn.sample;
    let spec = control.control.as_ref().and_then(|c| c.evidence.iter().find(|s| s.name == sample.spec));
    let names: Vec<String> =
        sample.rows.first().map(|r| r.tests.iter().map(|(n, _)| n.clone()).collect()).unwrap_or_default();
    let attributes = names
        .iter()
        .enumerate()
        .map(|(i, name)| Attribute {
            label: format!("A{}", i + 1),
            name: name.clone(),
            sql: spec
                .and_then(|s| s.tests.iter().find(|t| &t.name == name))
                .map_or_else(|| "(no longer in the mapping)".to_string(), |t| t.expr.clone()),
        })
        .collect();
    let period_column = drawn.period_column.clone().unwrap_or_else(|| period_column_of(&sample.sql));
    let tests = spec.map(|s| s.tests.as_slice()).unwrap_or_default();
    let columns: Vec<String> =
        sample_columns(sample, &period_column, tests).into_iter().filter(|c| *c != period_column).collect();
    let mut testers: Vec<String> = Vec::new();
    for row in &sample.rows {
        if let Some(t) = &row.tester
            && !testers.contains(t)
        {
            testers.push(t.clone());
        }
    }
    let rows = sample
        .rows
        .iter()
        .map(|row| WorkpaperRow {
            key: row.key.shown(),
            period_timestamp: row.row.get(&period_column).map(cell_text).unwrap_or_default(),
            attributes: row.tests.iter().map(|(_, r)| *r).collect(),
            verdict: row.verdict.map(|v| v.as_str().to_string()).unwrap_or_default(),
            note: row.note.clone().unwrap_or_default(),
            tester: row.tester.clone().unwrap_or_default(),
            tested_at: row.tested_at.clone().unwrap_or_default(),
            findings: dossier
                .findings
                .iter()
                .filter(|f| f.finding.rows.iter().any(|(id, key)| *id == drawn.sample_id && *key == row.key))
                .map(|f| f.finding.id.clone())
                .collect(),
            attachments: row
                .attachments
                .iter()
                .map(|a| AttachedFile {
                    shown: format!("{} ({} bytes, sha256 {})", a.name, a.bytes, a.sha256),
                    path: super::evidence_files::attachment_path(a),
                })
                .collect(),
            values: columns.iter().map(|c| row.row.get(c).map(cell_text).unwrap_or_default()).collect(),
        })
        .collect();
    Workpaper {
        dir: sample_dir(&control.id, &sample.spec),
        control: control.id.clone(),
        title: control.control.as_ref().map(|c| c.title.clone()).unwrap_or_default(),
        spec: sample.spec.clone(),
        criteria: control.criteria.iter().map(|c| c.id.clone()).collect(),
        objective: control.criteria.iter().map(|c| format!("{}: {}", c.id, c.title)).collect::<Vec<_>>().join("; "),
        period: sample.period.label.clone(),
        period_start: drawn.ipe.period_start.clone(),
        period_end: drawn.ipe.period_end.clone(),
        testers,
        owner: control.control.as_ref().map(|c| c.owner.clone()).unwrap_or_default(),
        procedure: control.control.as_ref().map(|c| c.practice.clone()).unwrap_or_default(),
        reviewer: control.review.as_ref().map(|r| r.reviewer.clone()),
        reviewed_at: control.review.as_ref().map(|r| r.reviewed_at.clone()),
        conclusion: control.review.as_ref().map(|r| r.conclusion.clone()),
        source: drawn.ipe.sources.join(", "),
        population: sample.population_count,
        method: sample.method.clone(),
        seed: sample.seed.clone(),
        sample_size: sample.size,
        fingerprint: sample.fingerprint.clone(),
        drawn_at: drawn.drawn_at.clone(),
        drawn_by: drawn.drawn_by.clone(),
        redraw_reason: drawn.redraw_reason.clone(),
        period_column,
        columns,
        attributes,
        rows,
    }
}

/// The column the frozen population SQL bounds by period (its last WHERE).
fn period_column_of(sql: &str) -> String {
    let bound = sql.rsplit("\nWHERE ").next().unwrap_or_default();
    let name = bound.strip_prefix('"').and_then(|rest| rest.split_once("\" >=")).map(|(n, _)| n.replace("\"\"", "\""));
    name.unwrap_or_default()
}

/// An evidence value as text: strings as they are, others as JSON.
fn cell_text(value: &Json) -> String {
    match value {
        Json::Null => String::new(),
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A text cell for a spreadsheet: control and bidi characters made visible
/// and a leading `=`, `+`, `-`, `@` (or tab, carriage return) neutralised
/// with a `'`, so no cell is ever a formula.
pub fn csv_text(text: &str) -> String {
    let shown = visible(text);
    match shown.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{shown}"),
        _ => shown,
    }
}

/// An attribute in the CSV: true, false or null.
fn csv_attribute(result: Option<bool>) -> &'static str {
    match result {
        Some(true) => "true",
        Some(false) => "false",
        None => "null",
    }
}

/// The workpaper as CSV: header, population, legend, then the rows.
pub fn to_csv(paper: &Workpaper) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    let t = csv_text;
    out.write_record(["Workpaper", &t(&format!("{} / {}", paper.control, paper.spec))])?;
    out.write_record(["Control", &t(&paper.control), &t(&paper.title)])?;
    out.write_record(["Criteria", &t(&paper.criteria.join(" "))])?;
    out.write_record(["Objective", &t(&paper.objective)])?;
    out.write_record(["Test procedure", &t(&paper.procedure)])?;
    out.write_record(["Period", &t(&paper.period), &paper.period_start, &paper.period_end])?;
    out.write_record(["Tester", &t(&paper.testers.join(", "))])?;
    out.write_record(["Control owner", &t(&paper.owner)])?;
    match (&paper.reviewer, &paper.reviewed_at, &paper.conclusion) {
        (Some(reviewer), Some(at), Some(conclusion)) => {
            out.write_record(["Reviewer", &t(reviewer), &t(at), &t(conclusion)])?
        }
        _ => out.write_record(["Reviewer", "not reviewed"])?,
    }
    out.write_record([""])?;
    out.write_record(["Population source", &t(&paper.source)])?;
    out.write_record(["Population size", &paper.population.to_string()])?;
    out.write_record(["Fingerprint", &paper.fingerprint])?;
    out.write_record(["Method", &t(&paper.method)])?;
    out.write_record(["Seed", &t(&paper.seed)])?;
    out.write_record(["Sample size", &paper.sample_size.to_string()])?;
    out.write_record(["Drawn", &t(&paper.drawn_at), &t(&paper.drawn_by)])?;
    if let Some(reason) = &paper.redraw_reason {
        out.write_record(["Redrawn because", &t(reason)])?;
    }
    out.write_record([""])?;
    out.write_record(["Attribute", "Test", "SQL (true = pass, false = exception, null = inconclusive)"])?;
    for a in &paper.attributes {
        out.write_record([&a.label, &t(&a.name), &t(&a.sql)])?;
    }
    out.write_record([""])?;
    let mut header = vec!["Key".to_string(), format!("Period timestamp ({})", t(&paper.period_column))];
    header.extend(paper.attributes.iter().map(|a| format!("{} {}", a.label, t(&a.name))));
    header.extend(["Verdict", "Note", "Tester", "Tested at", "Findings", "Attachments"].map(String::from));
    header.extend(paper.columns.iter().map(|c| t(c)));
    out.write_record(&header)?;
    for row in &paper.rows {
        let mut cells = vec![t(&row.key), t(&row.period_timestamp)];
        cells.extend(row.attributes.iter().map(|r| csv_attribute(*r).to_string()));
        cells.extend([
            t(&row.verdict),
            t(&row.note),
            t(&row.tester),
            t(&row.tested_at),
            t(&row.findings.join(" ")),
            t(&row.attachments.iter().map(|a| format!("{} {}", a.shown, a.path)).collect::<Vec<_>>().join("; ")),
        ]);
        cells.extend(row.values.iter().map(|v| t(v)));
        out.write_record(&cells)?;
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_is_never_a_formula_nor_a_terminal_escape() {
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_text("+1"), "'+1");
        assert_eq!(csv_text("-2"), "'-2");
        assert_eq!(csv_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_text("\tx"), "\\tx");
        assert_eq!(csv_text("plain"), "plain");
        assert!(!csv_text("\u{1b}[2J").contains('\u{1b}'));
        assert!(!csv_text("abc\u{202e}def").contains('\u{202e}'));
    }

    #[test]
    fn the_period_column_is_read_back_from_the_frozen_bound() {
        let sql = "SELECT * FROM (SELECT * FROM \"deploys\") AS population\nWHERE \"deployed_at\" >= TIMESTAMP '2026-07-01 00:00:00' AND \"deployed_at\" < TIMESTAMP '2026-10-01 00:00:00'";
        assert_eq!(period_column_of(sql), "deployed_at");
        assert_eq!(period_column_of("SELECT 1"), "");
    }
}
