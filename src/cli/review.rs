//! `quarterdeck review LABEL CONTROL --conclusion TEXT`

use super::{Context, Outcome};
use crate::audit::review::sign;
use crate::text::visible;

pub fn run(ctx: &Context, label: &str, control: &str, conclusion: &str) -> Outcome {
    let ws = ctx.open()?;
    let review = sign(&ws, label, control, conclusion)?;
    say!("{control} reviewed by {} in {label}: {}", visible(&review.reviewer), visible(&review.conclusion));
    Ok(0)
}
