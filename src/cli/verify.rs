//! `quarterdeck verify`: walks the action log's hash chain; exit 1 at the
//! first broken link or gap.

use super::{Context, Outcome};
use crate::audit::log::verify_log;

pub fn run(ctx: &Context) -> Outcome {
    let ws = ctx.open()?;
    match verify_log(&ws.conn)? {
        Ok((count, head)) => {
            match head {
                Some(head) => println!("action log ok: {count} entries, head seq {} hash {}", head.seq, head.hash),
                None => println!("action log ok: empty"),
            }
            Ok(0)
        }
        Err(broken) => {
            eprintln!("{broken}");
            Ok(1)
        }
    }
}
