//! A minimal, fast CSV writer: RFC 4180 quoting (fields containing a comma,
//! quote, CR or LF are quoted, quotes doubled), `\n` line ends, empty field
//! for NULL. A row is built in memory and handed to a `BufWriter` whole, so
//! there is one fallible call per row.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::DemoError;
use super::clock::Clock;

pub struct CsvOut<'c> {
    w: BufWriter<File>,
    path: PathBuf,
    rel: PathBuf,
    row: Vec<u8>,
    rows: u64,
    first: bool,
    clock: &'c Clock,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io { path: path.to_path_buf(), source }
}

/// Append the decimal digits of `v`, left-padded with zeros to `width`.
#[inline]
pub fn push_uint(buf: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let digits = tmp.len() - i;
    for _ in digits..width {
        buf.push(b'0');
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// `prefix` followed by `n` zero-padded to `width` digits, e.g. `auth-00000001`.
pub fn id(prefix: &str, n: u64, width: usize) -> String {
    let mut v = Vec::with_capacity(prefix.len() + width);
    v.extend_from_slice(prefix.as_bytes());
    push_uint(&mut v, n, width);
    String::from_utf8_lossy(&v).into_owned()
}

impl<'c> CsvOut<'c> {
    /// Create `dir/rel` and write the header row.
    pub fn create(dir: &Path, rel: &str, clock: &'c Clock, header: &[&str]) -> Result<Self, DemoError> {
        let path = dir.join(rel);
        let file = File::create(&path).map_err(io_err(&path))?;
        let mut out = CsvOut {
            w: BufWriter::with_capacity(1 << 20, file),
            path,
            rel: PathBuf::from(rel),
            row: Vec::with_capacity(512),
            rows: 0,
            first: true,
            clock,
        };
        for h in header {
            out.str(h);
        }
        out.end_line()?;
        Ok(out)
    }

    #[inline]
    fn sep(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.row.push(b',');
        }
    }

    /// A text field, quoted when it needs to be.
    #[inline]
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.sep();
        let b = s.as_bytes();
        if b.iter().any(|&c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
            self.row.push(b'"');
            for &c in b {
                if c == b'"' {
                    self.row.push(b'"');
                }
                self.row.push(c);
            }
            self.row.push(b'"');
        } else {
            self.row.extend_from_slice(b);
        }
        self
    }

    /// A text field or NULL.
    pub fn opt_str(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    /// An empty field (NULL).
    #[inline]
    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self
    }

    /// `YYYY-MM-DD HH:MM:SS`.
    #[inline]
    pub fn ts(&mut self, t: i64) -> &mut Self {
        self.sep();
        self.clock.push_ts(&mut self.row, t);
        self
    }

    pub fn opt_ts(&mut self, t: Option<i64>) -> &mut Self {
        match t {
            Some(t) => self.ts(t),
            None => self.null(),
        }
    }

    /// `YYYY-MM-DD` of a timestamp's day.
    pub fn date(&mut self, t: i64) -> &mut Self {
        self.sep();
        self.clock.push_date(&mut self.row, t);
        self
    }

    #[inline]
    pub fn uint(&mut self, v: u64) -> &mut Self {
        self.sep();
        push_uint(&mut self.row, v, 1);
        self
    }

    /// `prefix` + zero-padded number, without allocating.
    #[inline]
    pub fn id(&mut self, prefix: &str, n: u64, width: usize) -> &mut Self {
        self.sep();
        self.row.extend_from_slice(prefix.as_bytes());
        push_uint(&mut self.row, n, width);
        self
    }

    #[inline]
    pub fn boolean(&mut self, b: bool) -> &mut Self {
        self.sep();
        self.row.extend_from_slice(if b { b"true" } else { b"false" });
        self
    }

    /// A field whose bytes `f` appends; it must not need quoting.
    #[inline]
    pub fn with(&mut self, f: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        self.sep();
        f(&mut self.row);
        self
    }

    /// A fixed-point number with one decimal from an integer count of tenths.
    pub fn tenths(&mut self, v: u64) -> &mut Self {
        self.sep();
        push_uint(&mut self.row, v / 10, 1);
        self.row.push(b'.');
        push_uint(&mut self.row, v % 10, 1);
        self
    }

    /// End the row and hand it to the buffered writer.
    #[inline]
    pub fn end(&mut self) -> Result<(), DemoError> {
        self.rows += 1;
        self.end_line()
    }

    #[inline]
    fn end_line(&mut self) -> Result<(), DemoError> {
        self.row.push(b'\n');
        let r = self.w.write_all(&self.row);
        self.row.clear();
        self.first = true;
        r.map_err(io_err(&self.path))
    }

    /// Flush; returns the workspace-relative path and the number of data rows.
    pub fn finish(mut self) -> Result<(PathBuf, u64), DemoError> {
        self.w.flush().map_err(io_err(&self.path))?;
        Ok((self.rel, self.rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn quoting_and_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::new(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()).unwrap();
        let mut out = CsvOut::create(dir.path(), "t.csv", &clock, &["a", "b", "c", "d"]).unwrap();
        out.str("x,y").str("say \"hi\"").null().tenths(1234);
        out.end().unwrap();
        out.id("auth-", 1, 8).boolean(true).uint(0).ts(clock.start);
        out.end().unwrap();
        let (rel, rows) = out.finish().unwrap();
        assert_eq!((rel, rows), (PathBuf::from("t.csv"), 2));
        let text = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
        assert_eq!(text, "a,b,c,d\n\"x,y\",\"say \"\"hi\"\"\",,123.4\nauth-00000001,true,0,2025-11-26 00:00:00\n");
    }
}
