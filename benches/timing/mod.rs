//! Medians and the result table's rows, for the benchmarks that compare
//! against bare DuckDB.

use std::time::Duration;

pub fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

pub fn show(d: Duration) -> String {
    if d.as_secs_f64() >= 1.0 {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

/// One row: ours, bare, their ratio and the target.
pub fn report(what: &str, ours: &[Duration], bare: &[Duration], target: &str) {
    let (o, b) = (median(ours), median(bare));
    println!("| {what} | {} | {} | {:.2}× | {target} |", show(o), show(b), o.as_secs_f64() / b.as_secs_f64());
}
