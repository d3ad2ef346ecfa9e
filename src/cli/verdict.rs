//! `quarterdeck verdict LABEL CONTROL KEY pass|exception|na [--note TEXT]`

use super::{BadInput, Context, Outcome};
use crate::audit::verdicts::{Verdict, record};

pub fn run(ctx: &Context, label: &str, control: &str, key: &str, verdict: &str, note: Option<&str>) -> Outcome {
    let verdict = Verdict::parse(verdict)
        .ok_or_else(|| BadInput(format!("verdict `{verdict}`: expected pass, exception or na")))?;
    let ws = ctx.open()?;
    record(&ws, label, control, key, verdict, note)?;
    say!("{label} {control} {key}: {}", verdict.as_str());
    Ok(0)
}
