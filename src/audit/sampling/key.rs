//! A sampled row's key. Its canonical form is the key columns, each
//! `CAST AS VARCHAR` (NULL as ''), joined by U+001F — what the rank hashes
//! and the database stores. People see it with ` | ` between the columns,
//! and may type either form back; a column value that itself contains
//! ` | ` is still found, because typed text is matched against each sampled
//! key's display form, not split.

use std::fmt;

use duckdb::Connection;

use crate::audit::AuditError;

/// Between key columns in the canonical form.
pub const SEPARATOR: char = '\u{1f}';
/// Between key columns as people read and type them.
pub const SHOWN_SEPARATOR: &str = " | ";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SampleKey(String);

impl SampleKey {
    /// A key in its canonical form (as stored and ranked).
    pub fn canonical(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The canonical form: columns joined by U+001F.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key columns' values.
    pub fn parts(&self) -> impl Iterator<Item = &str> {
        self.0.split(SEPARATOR)
    }

    /// The one display form: the columns joined by ` | `.
    pub fn shown(&self) -> String {
        self.0.replace(SEPARATOR, SHOWN_SEPARATOR)
    }
}

impl fmt::Display for SampleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl PartialEq<str> for SampleKey {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// The row of the audit's current samples of `control` whose key is `typed`
/// (its canonical or its display form): its sample id and key. A typed form
/// that names two rows is refused rather than guessed.
pub fn find_sampled_row(
    conn: &Connection,
    audit: &str,
    control: &str,
    typed: &str,
) -> Result<(i64, SampleKey), AuditError> {
    let mut stmt = conn.prepare(
        "SELECT r.sample_id, r.key FROM qd.sample_rows r JOIN qd.samples s USING (sample_id)
         WHERE s.audit = ? AND s.control = ? AND s.current
           AND (r.key = ? OR replace(r.key, chr(31), ' | ') = ?)
         ORDER BY r.key = ? DESC, r.sample_id, r.key LIMIT 2",
    )?;
    let found = stmt
        .query_map(duckdb::params![audit, control, typed, typed, typed], |r| {
            Ok((r.get::<_, i64>(0)?, SampleKey::canonical(r.get::<_, String>(1)?)))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut found = found.into_iter();
    match (found.next(), found.next()) {
        (None, _) => Err(AuditError::NotSampled {
            audit: audit.to_string(),
            control: control.to_string(),
            key: typed.to_string(),
        }),
        // An exact canonical match wins; otherwise one display match.
        (Some(only), None) => Ok(only),
        (Some(first), Some(_)) if first.1 == *typed => Ok(first),
        (Some(first), Some(second)) => {
            Err(AuditError::AmbiguousKey { typed: typed.to_string(), first: first.1, second: second.1 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_and_shown_forms() {
        let key = SampleKey::canonical("CHG-1\u{1f}\u{1f}2024-03-01");
        assert_eq!(key.shown(), "CHG-1 |  | 2024-03-01");
        assert_eq!(key.parts().collect::<Vec<_>>(), ["CHG-1", "", "2024-03-01"]);
        assert_eq!(serde_json::to_string(&key).unwrap(), "\"CHG-1\\u001f\\u001f2024-03-01\"");
        assert_eq!(key.to_string(), key.shown());
    }

    /// Three sampled rows of one control: a single-column key whose value
    /// contains " | ", a two-column key, and two keys whose display forms
    /// collide.
    fn sampled(keys: &[&str]) -> (tempfile::TempDir, crate::workspace::Workspace) {
        let dir = tempfile::tempdir().unwrap();
        let ws = crate::workspace::init::init(&dir.path().join("ws")).unwrap();
        ws.conn
            .execute_batch(
                "INSERT INTO qd.samples VALUES (1, 'Q', 'C-1', 'e', true, 's', 'm', 'q', '[]', 'Q',
                 TIMESTAMP '2026-07-01', TIMESTAMP '2026-10-01', 3, 'f', 3, TIMESTAMP '2026-10-02', 'me', NULL)",
            )
            .unwrap();
        for (i, key) in keys.iter().enumerate() {
            ws.conn
                .execute("INSERT INTO qd.sample_rows VALUES (1, ?, ?, 'r', '{}', '{}')", duckdb::params![i as i64, key])
                .unwrap();
        }
        (dir, ws)
    }

    #[test]
    fn a_person_names_a_key_by_either_form_even_with_a_bar_in_a_value() {
        let (_dir, ws) = sampled(&["deploy | rollback", "CHG-7\u{1f}2026-08-01", "x\u{1f}y | z", "x | y\u{1f}z"]);
        let find = |typed: &str| find_sampled_row(&ws.conn, "Q", "C-1", typed).map(|(_, key)| key);
        // A value containing " | " is found as typed, not split.
        assert_eq!(find("deploy | rollback").unwrap().as_str(), "deploy | rollback");
        // A composite key by its display form or its canonical form.
        assert_eq!(find("CHG-7 | 2026-08-01").unwrap().as_str(), "CHG-7\u{1f}2026-08-01");
        assert_eq!(find("CHG-7\u{1f}2026-08-01").unwrap().as_str(), "CHG-7\u{1f}2026-08-01");
        // Two keys shown alike: the canonical form tells them apart, the
        // display form is refused naming both.
        assert_eq!(find("x\u{1f}y | z").unwrap().as_str(), "x\u{1f}y | z");
        match find("x | y | z") {
            Err(AuditError::AmbiguousKey { first, second, .. }) => {
                assert_eq!((first.as_str(), second.as_str()), ("x\u{1f}y | z", "x | y\u{1f}z"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(find("CHG-8"), Err(AuditError::NotSampled { .. })));
    }
}
