//! `quarterdeck attach LABEL CONTROL KEY FILE [--note TEXT]`

use std::path::Path;

use super::{Context, Outcome};
use crate::audit::attachments::attach;
use crate::text::visible;

pub fn run(ctx: &Context, label: &str, control: &str, key: &str, file: &Path, note: Option<&str>) -> Outcome {
    let ws = ctx.open()?;
    let attached = attach(&ws, label, control, key, file, note)?;
    say!(
        "attached {} ({} bytes, sha256 {}) to {} in {control}, audit {label}; kept as {}",
        visible(&attached.name),
        attached.bytes,
        attached.sha256,
        visible(key),
        attached.stored
    );
    Ok(0)
}
