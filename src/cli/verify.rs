//! `quarterdeck verify`: the action log's hash chain, its head against the
//! head file beside the workspace (and `--expect-head`), and the state
//! tables replayed against the log. Every problem is printed; exit 1 on any.
//! It only reads: the workspace opens read-only. `--format json` gives the
//! same verdict as one object on stdout: {ok, entries, head, problems}.

use serde_json::json;

use super::output::{Format, print_json};
use super::{BadInput, Context, Outcome};
use crate::audit::replay::replay;
use crate::workspace::action_log::{HEAD_FILE, Head, check_head, read_head_file, verify_log};

pub fn run(ctx: &Context, expect_head: Option<&str>) -> Outcome {
    let expected = match expect_head {
        Some(text) => Some(Head::parse(text).ok_or_else(|| {
            BadInput(format!("--expect-head `{text}`: expected SEQ:HASH, e.g. 42:3f9c… (64 hex digits)"))
        })?),
        None => None,
    };
    let ws = Context { workspace: ctx.workspace.clone(), read_only: true, ..*ctx }.open()?;
    let mut problems: Vec<String> = Vec::new();
    let mut summary = String::new();
    let (mut entries, mut shown_head) = (None, None);
    match verify_log(&ws.conn)? {
        Ok((count, Some(head))) => {
            summary = format!("action log: {count} entries, chain intact, head {}:{}", head.seq, head.hash);
            (entries, shown_head) = (Some(count), Some(format!("{}:{}", head.seq, head.hash)));
        }
        Ok((count, None)) => {
            summary = "action log: empty".to_string();
            entries = Some(count);
        }
        Err(broken) => problems.push(format!("action log: {broken}")),
    }
    match read_head_file(&ws.root) {
        Ok(Some(head)) => {
            if let Err(mismatch) = check_head(&ws.conn, &head, HEAD_FILE) {
                problems.push(mismatch.to_string());
            }
        }
        Ok(None) => {}
        Err(unreadable) => problems.push(unreadable.to_string()),
    }
    if let Some(head) = &expected
        && let Err(mismatch) = check_head(&ws.conn, head, "--expect-head")
    {
        problems.push(mismatch.to_string());
    }
    for divergence in replay(&ws)? {
        problems.push(format!("state differs from the log: {divergence}"));
    }
    if ctx.format == Format::Json {
        print_json(&json!({"ok": problems.is_empty(), "entries": entries, "head": shown_head, "problems": problems}))?;
        return Ok(if problems.is_empty() { 0 } else { 1 });
    }
    if problems.is_empty() {
        say!("{summary}");
        say!(
            "state: audits, samples and their rows, verdicts, findings, ingest runs, collected documents and attachments agree with the log; every stored file matches its hash"
        );
        return Ok(0);
    }
    for problem in &problems {
        tell!("{}", crate::text::visible(problem));
    }
    tell!("verify: {} problem(s)", problems.len());
    Ok(1)
}
