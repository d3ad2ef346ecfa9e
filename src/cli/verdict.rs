//! `quarterdeck verdict LABEL CONTROL KEY pass|exception|na [--note TEXT]`

use super::{Context, Outcome};
use crate::audit::verdicts::{Verdict, record};

pub fn run(ctx: &Context, label: &str, control: &str, key: &str, verdict: Verdict, note: Option<&str>) -> Outcome {
    let ws = ctx.open()?;
    record(&ws, label, control, key, verdict, note)?;
    say!("{label} {control} {key}: {}", verdict.as_str());
    Ok(0)
}
