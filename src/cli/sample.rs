//! `quarterdeck sample CONTROL …`: inside an audit, the frozen sample (drawn
//! once; a redraw needs a logged reason); outside one, an ad-hoc draw.

use serde_json::{Value, json};

use super::output::{Format, Listing, print_json, visible};
use super::{BadInput, Context, Outcome};
use crate::audit::sampling::audit_sample::{SampleRequest, audit_sample};
use crate::audit::sampling::columns::sample_columns;
use crate::audit::sampling::rank::sample_seed;
use crate::audit::sampling::{Sample, default_size, draw};
use crate::audit::{find_control, find_spec};
use crate::workspace::mapping::Mappings;
use crate::workspace::period::Period;
use crate::workspace::population;

#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// The control's id, e.g. CHG-1
    pub control: String,
    /// Evidence spec name (needed when the control has several)
    #[arg(long)]
    pub spec: Option<String>,
    /// The audit whose frozen sample to show (or draw, the first time)
    #[arg(long, conflicts_with = "period")]
    pub audit: Option<String>,
    /// An ad-hoc period outside any audit: 2026-Q3, 2026-07, 2026 or FROM..TO
    #[arg(long)]
    pub period: Option<String>,
    /// Seed (ad hoc: the sample seed itself; on --redraw: a new audit seed)
    #[arg(long)]
    pub seed: Option<String>,
    /// Sample size, 1 to 1000000 (default: by the control's frequency)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::workspace::config::MAX_SAMPLE_SIZE)))]
    pub n: Option<u32>,
    /// Draw the audit's sample again, replacing the frozen one
    #[arg(long, requires = "audit")]
    pub redraw: bool,
    /// Why the sample is redrawn (logged)
    #[arg(long)]
    pub reason: Option<String>,
}

pub fn run(ctx: &Context, args: &SampleArgs) -> Outcome {
    let ws = ctx.open()?;
    let mappings = Mappings::load(&ws.root);
    let control = find_control(&mappings, &args.control)?;
    let spec = find_spec(control, args.spec.as_deref())?;
    let n = args.n.unwrap_or_else(|| default_size(&ws, control, spec));
    let sample = match (&args.audit, &args.period) {
        (Some(label), _) => {
            let reason = match (args.redraw, &args.reason) {
                (true, reason) => Some(reason.as_deref().unwrap_or("")),
                (false, _) => None,
            };
            let request = SampleRequest {
                audit: label,
                control: &control.id,
                spec: Some(&spec.name),
                n: Some(n),
                redraw: reason,
                seed: args.seed.as_deref(),
            };
            audit_sample(&ws, &mappings, &request)?
        }
        (None, Some(period)) => {
            let period = Period::parse(period, ws.config.timezone)?;
            let seed = args.seed.clone().unwrap_or_else(|| sample_seed(&ws.now_text(), &control.id, &spec.name));
            draw(&ws, control, spec, &period, &seed, n)?
        }
        (None, None) => return Err(BadInput("give --audit LABEL or --period P".into()).into()),
    };
    let period_column = population::resolve(&ws, control, spec)?.period_column;
    print(ctx.format, &sample, &sample_columns(&sample, &period_column, &spec.tests))?;
    Ok(0)
}

/// A row's attachments in one cell: name, size and sha256 each (the
/// table shortens the hash; `--format json` gives every field).
fn attachments_cell(attachments: &[crate::audit::attachments::Attachment], format: Format) -> String {
    attachments
        .iter()
        .map(|a| {
            let sha = if format == Format::Table { a.sha256.get(..12).unwrap_or(&a.sha256) } else { &a.sha256 };
            format!("{} ({} bytes, sha256 {sha})", visible(&a.name), a.bytes)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Which columns a narrow table leaves out first: the evidence columns from
/// the last to the second (the ones the tests read come first, so they stay
/// longest), then the rank, then the first column the tests read; never the
/// key, the tests, the period column or the verdict.
fn drop_order(columns: &[String]) -> Vec<String> {
    let mut order: Vec<String> = columns.iter().skip(2).rev().cloned().collect();
    order.push("rank".into());
    order.extend(columns.get(1).cloned());
    order
}

/// The sample: in JSON its whole shape; as a table or CSV one line a row —
/// key, rank, the tests, then the row's `columns` (in the order the question
/// asks for them: the period column, what the tests read, the rest), verdict
/// and note. A table too wide for the terminal leaves columns out
/// ([`drop_order`]) and says so.
pub fn print(format: Format, sample: &Sample, columns: &[String]) -> std::io::Result<()> {
    match format {
        Format::Json => print_json(&sample.to_json())?,
        Format::Table | Format::Csv => {
            if format == Format::Table {
                say!(
                    "{} / {} — period {} [{} .. {})",
                    sample.control,
                    sample.spec,
                    sample.period.label,
                    sample.period.start.to_rfc3339(),
                    sample.period.end.to_rfc3339()
                );
                say!("  population {} row(s), fingerprint {}", sample.population_count, sample.fingerprint);
                say!("  seed {}; {} row(s) sampled", sample.seed, sample.size);
            }
            let tests: Vec<String> =
                sample.rows.first().map(|r| r.tests.iter().map(|(n, _)| n.clone()).collect()).unwrap_or_default();
            let mut header = vec!["key", "rank"];
            header.extend(tests.iter().map(String::as_str));
            header.extend(columns.iter().map(String::as_str));
            header.extend(["verdict", "note", "attachments"]);
            let mut listing = Listing::new(&header).optional(&drop_order(columns));
            for row in &sample.rows {
                let mut cells = vec![
                    json!(visible(&row.key.shown())),
                    json!(if format == Format::Table {
                        row.rank.get(..16).unwrap_or(&row.rank)
                    } else {
                        row.rank.as_str()
                    }),
                ];
                // A test's result is true or false, or empty when inconclusive.
                cells.extend(row.tests.iter().map(|(_, r)| json!(r)));
                cells.extend(columns.iter().map(|c| match row.row.get(c) {
                    Some(Value::String(text)) => json!(visible(text)),
                    Some(value) => value.clone(),
                    None => Value::Null,
                }));
                cells.push(json!(row.verdict));
                cells.push(json!(row.note));
                cells.push(json!(attachments_cell(&row.attachments, format)));
                listing.push(cells);
            }
            listing.print(format)?;
        }
    }
    Ok(())
}
