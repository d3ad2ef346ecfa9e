//! Rows counted into slots: each group the grouped scan returns (a `per`
//! tuple, a 15-minute bucket, its rows) is added to every slot whose window
//! holds the bucket. Tuples are numbered as they first appear and counted in
//! one vector per tuple; the scan returns a tuple's buckets together, so a
//! year of daily slots for hundreds of systems costs one lookup per tuple
//! and one binary search per bucket.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use duckdb::arrow::array::{Array, AsArray};
use duckdb::arrow::datatypes::Int64Type;
use duckdb::arrow::record_batch::RecordBatch;

use crate::workspace::calendar;

/// Between the parts of a `per` tuple in a lookup key.
const SEPARATOR: char = '\u{1f}';

/// Rows per tuple and slot.
pub(super) struct Tally {
    /// Each slot's window, in UTC microseconds.
    windows: Vec<(i64, i64)>,
    /// A DATE period column: a bucket is a date, its instant the local midnight.
    is_date: bool,
    tz: Tz,
    /// A DATE's bucket → its local midnight (a year holds 365 of them).
    midnights: HashMap<i64, i64>,
    /// The tuple as the evidence spells it → the tuple it counts for.
    spelled: HashMap<String, usize>,
    /// The tuple it counts for → its number.
    numbered: HashMap<Vec<String>, usize>,
    /// Each numbered tuple, and its rows per slot.
    tuples: Vec<(Vec<String>, Vec<u64>)>,
    /// The reused lookup key.
    key: String,
}

impl Tally {
    pub fn new(windows: &[(DateTime<Utc>, DateTime<Utc>)], is_date: bool, tz: Tz) -> Self {
        Self {
            windows: windows.iter().map(|(from, to)| (from.timestamp_micros(), to.timestamp_micros())).collect(),
            is_date,
            tz,
            midnights: HashMap::new(),
            spelled: HashMap::new(),
            numbered: HashMap::new(),
            tuples: Vec::new(),
            key: String::new(),
        }
    }

    /// Adds `rows` of the tuple `parts` (as spelled; `resolve` turns it into
    /// the tuple it counts for) in the bucket starting `micros` after the epoch.
    pub fn add<'p>(
        &mut self,
        parts: impl Iterator<Item = &'p str> + Clone,
        micros: i64,
        rows: u64,
        resolve: &impl Fn(Vec<String>) -> Vec<String>,
    ) {
        let id = self.tuple(parts, resolve);
        self.count(id, micros, rows);
    }

    /// The number of the tuple `parts`.
    fn tuple<'p>(
        &mut self,
        parts: impl Iterator<Item = &'p str> + Clone,
        resolve: &impl Fn(Vec<String>) -> Vec<String>,
    ) -> usize {
        self.key.clear();
        for part in parts.clone() {
            self.key.push_str(part);
            self.key.push(SEPARATOR);
        }
        match self.spelled.get(self.key.as_str()) {
            Some(id) => *id,
            None => self.number(parts, resolve),
        }
    }

    /// Adds `rows` of tuple `id` in the bucket starting `micros` after the epoch.
    fn count(&mut self, id: usize, micros: i64, rows: u64) {
        let t = match self.is_date {
            true => *self.midnights.entry(micros).or_insert_with(|| {
                let day = DateTime::from_timestamp_micros(micros).unwrap_or_default().date_naive();
                calendar::local_midnight(day, self.tz).timestamp_micros()
            }),
            false => micros,
        };
        // Windows start and end in order (they overlap only by the grace):
        // those holding t are the last ones starting at or before it.
        let windows = &self.windows;
        let last = windows.partition_point(|w| w.0 <= t);
        let counts = &mut self.tuples[id].1;
        for i in (0..last).rev().take_while(|&i| windows[i].1 > t) {
            counts[i] += rows;
        }
    }

    /// Numbers the tuple spelled `self.key`, first seen.
    fn number<'p>(
        &mut self,
        parts: impl Iterator<Item = &'p str>,
        resolve: &impl Fn(Vec<String>) -> Vec<String>,
    ) -> usize {
        let tuple = resolve(parts.map(str::to_string).collect());
        let next = self.tuples.len();
        let id = *self.numbered.entry(tuple.clone()).or_insert(next);
        if id == next {
            self.tuples.push((tuple, vec![0; self.windows.len()]));
        }
        self.spelled.insert(self.key.clone(), id);
        id
    }

    /// Adds every row of a batch of (tuple…, buckets) columns: VARCHAR
    /// tuple parts, then the tuple's buckets as a list of (bucket, rows)
    /// BIGINT pairs. Another column type is an error naming the column,
    /// never a silent zero.
    pub fn add_batch(
        &mut self,
        batch: &RecordBatch,
        width: usize,
        resolve: &impl Fn(Vec<String>) -> Vec<String>,
    ) -> Result<(), String> {
        let columns = batch.columns();
        let unexpected = |i: usize| format!("column {} of the grouped scan is {}", i + 1, columns[i].data_type());
        if columns.len() != width + 1 {
            return Err(format!("the grouped scan returned {} columns, not {}", columns.len(), width + 1));
        }
        let texts = (0..width)
            .map(|i| Texts::of(columns[i].as_ref()).ok_or_else(|| unexpected(i)))
            .collect::<Result<Vec<_>, _>>()?;
        let buckets = Buckets::of(columns[width].as_ref()).ok_or_else(|| unexpected(width))?;
        for row in 0..batch.num_rows() {
            let id = self.tuple(texts.iter().map(|column| column.at(row)), resolve);
            for (micros, n) in buckets.at(row) {
                self.count(id, micros, n.max(0) as u64);
            }
        }
        Ok(())
    }

    /// The number of `tuple`, if any of its rows were counted.
    pub fn id(&self, tuple: &[String]) -> Option<usize> {
        self.numbered.get(tuple).copied()
    }

    /// The rows of tuple `id` in slot `i`.
    pub fn rows(&self, id: usize, i: usize) -> u64 {
        self.tuples[id].1[i]
    }

    /// Every tuple counted, sorted.
    pub fn seen(&self) -> Vec<Vec<String>> {
        let mut seen: Vec<Vec<String>> = self.tuples.iter().map(|(t, _)| t.clone()).collect();
        seen.sort();
        seen
    }
}

/// A `STRUCT(bucket BIGINT, rows BIGINT)[]` column as Arrow holds it.
struct Buckets<'a> {
    offsets: Vec<usize>,
    buckets: &'a [i64],
    rows: &'a [i64],
}

impl<'a> Buckets<'a> {
    fn of(column: &'a dyn Array) -> Option<Self> {
        let (offsets, values): (Vec<usize>, _) = if let Some(lists) = column.as_list_opt::<i32>() {
            (lists.value_offsets().iter().map(|o| (*o).max(0) as usize).collect(), lists.values())
        } else {
            let lists = column.as_list_opt::<i64>()?;
            (lists.value_offsets().iter().map(|o| (*o).max(0) as usize).collect(), lists.values())
        };
        let pairs = values.as_struct_opt()?;
        let field = |name: &str| {
            let values = pairs.column_by_name(name)?.as_primitive_opt::<Int64Type>()?;
            (values.null_count() == 0).then(|| values.values().as_ref())
        };
        Some(Buckets { offsets, buckets: field("bucket")?, rows: field("rows")? })
    }

    /// The (bucket, rows) pairs at `row` (none for a NULL list).
    fn at(&self, row: usize) -> impl Iterator<Item = (i64, i64)> + 'a {
        let from = self.offsets.get(row).copied().unwrap_or_default();
        let to = self.offsets.get(row + 1).copied().unwrap_or(from);
        let buckets = self.buckets.get(from..to).unwrap_or_default();
        let rows = self.rows.get(from..to).unwrap_or_default();
        buckets.iter().copied().zip(rows.iter().copied())
    }
}

/// A VARCHAR column as Arrow holds it.
enum Texts<'a> {
    Utf8(&'a duckdb::arrow::array::StringArray),
    LargeUtf8(&'a duckdb::arrow::array::LargeStringArray),
    View(&'a duckdb::arrow::array::StringViewArray),
}

impl<'a> Texts<'a> {
    fn of(column: &'a dyn Array) -> Option<Self> {
        column
            .as_string_opt::<i32>()
            .map(Texts::Utf8)
            .or_else(|| column.as_string_opt::<i64>().map(Texts::LargeUtf8))
            .or_else(|| column.as_string_view_opt().map(Texts::View))
    }

    /// The cell at `row`, `""` for NULL (the scan keeps no NULL tuple part).
    fn at(&self, row: usize) -> &'a str {
        match self {
            Texts::Utf8(a) if !a.is_null(row) => a.value(row),
            Texts::LargeUtf8(a) if !a.is_null(row) => a.value(row),
            Texts::View(a) if !a.is_null(row) => a.value(row),
            _ => "",
        }
    }
}
