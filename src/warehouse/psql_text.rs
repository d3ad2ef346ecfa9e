//! The text psql reads and prints: the SQL it would rewrite before the
//! server sees it (refused), and COPY's text format as it prints rows — a
//! row per line, tab-separated fields, `\N` for NULL, backslash escapes
//! for the rest.

use super::WarehouseError;

/// psql reads a backslash anywhere in a script as one of its own commands
/// (`\!` runs a shell command), and `:name` outside quotes as one of its
/// variables: SQL headed there may hold neither.
pub(super) fn refuse_meta_commands<'a>(
    mut sql: impl Iterator<Item = &'a str>,
    warehouse: &str,
) -> Result<(), WarehouseError> {
    match sql.find_map(psql_syntax) {
        Some(why) => Err(WarehouseError::Failed { warehouse: warehouse.to_string(), message: why.into() }),
        None => Ok(()),
    }
}

/// Why psql would not pass `sql` to the server as written (None: it would).
fn psql_syntax(sql: &str) -> Option<&'static str> {
    if sql.contains('\\') {
        return Some(
            "SQL for a PostgreSQL warehouse may not contain a backslash (psql would read it as one of its commands); write chr(92) for one",
        );
    }
    let bytes = sql.as_bytes();
    let mut why = None;
    crate::workspace::sql::each_unquoted(sql, |i| {
        let (previous, next) = (i.checked_sub(1).map(|p| bytes[p]), bytes.get(i + 1));
        if bytes[i] == b';' {
            why = Some(
                "SQL for a PostgreSQL warehouse is one statement: a `;` outside quotes would make psql send what follows as another",
            );
        } else if bytes[i] == b':'
            && previous != Some(b':')
            && next.is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'\'' | b'"' | b'{'))
        {
            why = Some(
                "SQL for a PostgreSQL warehouse may not hold `:name` outside quotes (psql would put one of its variables there); quote the text",
            );
        }
        why.is_none()
    });
    why
}

/// The first field of one row of COPY's text format, NULL as '' — without
/// copying it where it has no escape (a key stream's millions of rows).
pub(super) fn first_field(line: &[u8]) -> std::borrow::Cow<'_, str> {
    let field = line.split(|b| *b == b'\t').next().unwrap_or_default();
    if field == b"\\N" {
        return std::borrow::Cow::Borrowed("");
    }
    match String::from_utf8_lossy(field) {
        std::borrow::Cow::Borrowed(text) if !text.contains('\\') => std::borrow::Cow::Borrowed(text),
        text => std::borrow::Cow::Owned(unescape(&text)),
    }
}

/// One row of COPY's text format: tab-separated, `\N` for NULL, backslash
/// escapes for the rest.
pub fn decode_row(line: &str) -> Vec<Option<String>> {
    line.split('\t').map(|field| if field == "\\N" { None } else { Some(unescape(field)) }).collect()
}

fn unescape(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_string();
    }
    let mut bytes: Vec<u8> = Vec::with_capacity(field.len());
    let raw = field.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' || i + 1 == raw.len() {
            bytes.push(raw[i]);
            i += 1;
            continue;
        }
        let next = raw[i + 1];
        i += 2;
        match next {
            b'b' => bytes.push(8),
            b'f' => bytes.push(12),
            b'n' => bytes.push(b'\n'),
            b'r' => bytes.push(b'\r'),
            b't' => bytes.push(b'\t'),
            b'v' => bytes.push(11),
            b'0'..=b'7' => {
                let mut value = u32::from(next - b'0');
                let mut digits = 1;
                while digits < 3 && i < raw.len() && (b'0'..=b'7').contains(&raw[i]) {
                    value = value * 8 + u32::from(raw[i] - b'0');
                    i += 1;
                    digits += 1;
                }
                bytes.push(value as u8);
            }
            b'x' => {
                let hex: String =
                    raw[i..].iter().take(2).take_while(|b| b.is_ascii_hexdigit()).map(|b| *b as char).collect();
                i += hex.len();
                bytes.push(u8::from_str_radix(&hex, 16).unwrap_or(b'x'));
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_psql_would_rewrite_is_refused() {
        assert!(psql_syntax("SELECT a::text, ':' || b FROM t -- :c\n WHERE d = 'x:y' /* :e */").is_none());
        assert!(psql_syntax("SELECT 1 \\! rm -rf /").is_some());
        assert!(psql_syntax("SELECT * FROM t WHERE u = :USER").is_some());
        assert!(psql_syntax("SELECT * FROM t WHERE u = :'DBNAME'").is_some());
        assert!(psql_syntax("SELECT \"a:b\" FROM t").is_none());
        assert!(psql_syntax("SELECT 1) AS x; DROP TABLE t; SELECT (1").is_some());
        assert!(psql_syntax("SELECT ';' AS semicolon -- ;\n").is_none());
    }

    #[test]
    fn copy_text_rows_decode_nulls_and_escapes() {
        assert_eq!(decode_row("a\t\\N\t"), vec![Some("a".into()), None, Some(String::new())]);
        assert_eq!(decode_row("x\\ty\\\\z\\nw"), vec![Some("x\ty\\z\nw".into())]);
        assert_eq!(decode_row("\\101\\x42"), vec![Some("AB".into())]);
    }

    #[test]
    fn a_key_streams_first_field_decodes_like_the_whole_row() {
        for line in ["evt-1", "a\tb", "x\\ty\\\\z\\nw", "\\N", "", "k\u{1f}2026-07-01 00:00:00", "\\101\\x42"] {
            let whole = decode_row(line).into_iter().next().flatten().unwrap_or_default();
            assert_eq!(first_field(line.as_bytes()), whole, "{line:?}");
        }
        assert!(matches!(first_field(b"evt-1\tmore"), std::borrow::Cow::Borrowed("evt-1")));
        assert_eq!(first_field(b"bad \xff byte"), "bad \u{fffd} byte");
    }
}
