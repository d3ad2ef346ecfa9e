//! Reading Quarterdeck's own state back from the database. What was stored
//! is trusted to parse; when it does not (a hand edit, a bug, a newer
//! writer), the read fails naming the table, the row and the field — it
//! never becomes an empty default that a report would then show as fact.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::vocabulary::Word;

/// A stored value that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{table} row `{row}`: {field} `{value}` cannot be read: {expected}")]
pub struct Unreadable {
    pub table: &'static str,
    pub row: String,
    pub field: &'static str,
    pub value: String,
    pub expected: String,
}

/// Where a value was stored: the table and the row's identity.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub table: &'static str,
    pub row: &'a str,
}

impl At<'_> {
    fn unreadable(&self, index: usize, field: &'static str, value: &str, expected: String) -> duckdb::Error {
        let error =
            Unreadable { table: self.table, row: self.row.to_string(), field, value: value.to_string(), expected };
        duckdb::Error::FromSqlConversionFailure(index, duckdb::types::Type::Text, Box::new(error))
    }

    /// A vocabulary word (a status, a severity) stored in column `index`.
    pub fn word<T: Word>(&self, index: usize, field: &'static str, text: &str) -> duckdb::Result<T> {
        T::parse_word(text).ok_or_else(|| self.unreadable(index, field, text, format!("expected {}", T::spellings())))
    }

    /// A TIMESTAMP read back as text (UTC).
    pub fn utc(&self, index: usize, field: &'static str, text: &str) -> duckdb::Result<DateTime<Utc>> {
        utc_of_db(text).ok_or_else(|| self.unreadable(index, field, text, "expected a timestamp".into()))
    }

    /// A DATE read back as text.
    pub fn date(&self, index: usize, field: &'static str, text: &str) -> duckdb::Result<chrono::NaiveDate> {
        text.parse().map_err(|_| self.unreadable(index, field, text, "expected a date".into()))
    }

    /// A value Quarterdeck stored as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(
        &self,
        index: usize,
        field: &'static str,
        text: &str,
    ) -> duckdb::Result<T> {
        serde_json::from_str(text).map_err(|e| self.unreadable(index, field, text, e.to_string()))
    }
}

/// A TIMESTAMP read back as text (UTC), as a UTC instant.
fn utc_of_db(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| DateTime::from_naive_utc_and_offset(t, Utc))
}
