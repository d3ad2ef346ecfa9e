//! The order a sample's columns are shown in, for every edge: what an
//! auditor's question asks for first. After the key (shown on its own), the
//! period (timestamp) column, then the columns the attribute tests read
//! ("with their approvals": the approver, the approval time), the most
//! tested first, then the rest in the row's own order.

use super::Sample;
use crate::workspace::mapping::AttributeTest;

/// A sample's row columns (its first row's, without the key) in the order
/// the question asks for them; see [`question_order`].
pub fn sample_columns(sample: &Sample, period_column: &str, tests: &[AttributeTest]) -> Vec<String> {
    let row_columns: Vec<String> = sample.rows.first().map(|r| r.row.keys().cloned().collect()).unwrap_or_default();
    question_order(&row_columns, &sample.key_columns, Some(period_column), tests)
}

/// `columns` (a row's, in its order) rearranged: period column, columns the
/// `tests` mention, the others; key columns left out.
pub fn question_order(
    columns: &[String],
    key_columns: &[String],
    period_column: Option<&str>,
    tests: &[AttributeTest],
) -> Vec<String> {
    let data: Vec<&String> = columns.iter().filter(|c| !key_columns.contains(c)).collect();
    // How many tests read a column, and the first that does.
    let reads = |c: &str| {
        let readers: Vec<usize> = (0..tests.len()).filter(|&i| mentions(&tests[i].expr, c)).collect();
        (readers.len(), readers.first().copied().unwrap_or(usize::MAX))
    };
    let period = data.iter().filter(|c| Some(c.as_str()) == period_column);
    let mut read: Vec<&&String> = data.iter().filter(|c| Some(c.as_str()) != period_column && reads(c).0 > 0).collect();
    read.sort_by_key(|c| {
        let (count, first) = reads(c);
        (std::cmp::Reverse(count), first)
    });
    let rest = data.iter().filter(|c| Some(c.as_str()) != period_column && reads(c).0 == 0);
    period.chain(read).chain(rest).map(|c| (*c).clone()).collect()
}

/// Whether the SQL expression names `column` as a word (quoted or not).
fn mentions(expr: &str, column: &str) -> bool {
    expr.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|word| word.eq_ignore_ascii_case(column))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::problems::Location;

    fn test(expr: &str) -> AttributeTest {
        AttributeTest {
            name: "t".into(),
            expr: expr.into(),
            location: Location { file: "c.toml".into(), line: 1, col: 1 },
        }
    }

    #[test]
    fn the_period_and_what_the_tests_read_come_first() {
        let columns: Vec<String> =
            ["deploy_id", "environment", "service", "deployer", "deployed_at", "approver"].map(String::from).into();
        let order = question_order(
            &columns,
            &["deploy_id".to_string()],
            Some("deployed_at"),
            &[test("approver IS NOT NULL"), test("\"approver\" <> deployer")],
        );
        // approver is read by both tests, deployer by one.
        assert_eq!(order, ["deployed_at", "approver", "deployer", "environment", "service"]);
    }
}
