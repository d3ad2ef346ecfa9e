//! DuckDB values as JSON: numbers stay numbers, times become ISO text. Used
//! for query results and for the rows frozen into a sample. A column whose
//! type the Rust side cannot read faithfully (NULL, INTERVAL, MAP, UNION,
//! BIT, TIMETZ, …) is rendered by DuckDB itself, as its own text.

use serde_json::{Value as Json, json};

use super::sql::quote_ident;

/// A DuckDB value as JSON: numbers stay numbers, times become ISO text.
pub fn to_json(value: duckdb::types::Value) -> Json {
    use duckdb::types::Value as V;
    match value {
        V::Null => Json::Null,
        V::Boolean(b) => json!(b),
        V::TinyInt(n) => json!(n),
        V::SmallInt(n) => json!(n),
        V::Int(n) => json!(n),
        V::BigInt(n) => json!(n),
        V::UTinyInt(n) => json!(n),
        V::USmallInt(n) => json!(n),
        V::UInt(n) => json!(n),
        V::UBigInt(n) => json!(n),
        V::HugeInt(n) => json!(n.to_string()),
        V::UHugeInt(n) => json!(n.to_string()),
        V::Float(f) => float(f64::from(f)),
        V::Double(f) => float(f),
        V::Decimal(d) => json!(d.to_string()),
        V::Text(s) | V::Enum(s) => json!(s),
        V::Timestamp(unit, v) => {
            let micros = unit.to_micros(v);
            match chrono::DateTime::from_timestamp_micros(micros) {
                Some(t) => json!(t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string()),
                None => json!(micros),
            }
        }
        V::Date32(days) => match chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(i64::from(days))))
        {
            Some(d) => json!(d.to_string()),
            None => json!(days),
        },
        V::Time64(unit, v) => {
            let micros = unit.to_micros(v);
            let secs = micros.div_euclid(1_000_000);
            let frac = micros.rem_euclid(1_000_000);
            let text = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
            json!(if frac == 0 { text } else { format!("{text}.{frac:06}") })
        }
        V::Blob(bytes) | V::Geometry(bytes) => json!(hex::encode(bytes)),
        V::List(items) | V::Array(items) => Json::Array(items.into_iter().map(to_json).collect()),
        V::Struct(fields) => Json::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v.clone()))).collect()),
        V::Union(inner) => to_json(*inner),
        V::Map(entries) => Json::Array(
            entries.iter().map(|(k, v)| json!({"key": to_json(k.clone()), "value": to_json(v.clone())})).collect(),
        ),
        V::Interval { months, days, nanos } => json!(interval_text(months, days, nanos)),
        // A variant a later duckdb-rs adds: shown, never a panic.
        other => json!(format!("{other:?}")),
    }
}

/// JSON has no NaN or infinity: they are kept as DuckDB's own words.
fn float(f: f64) -> Json {
    if f.is_nan() {
        json!("nan")
    } else if f.is_infinite() {
        json!(if f > 0.0 { "inf" } else { "-inf" })
    } else {
        json!(f)
    }
}

/// An interval as DuckDB prints it: `1 year 2 months 3 days 04:05:06.5`.
fn interval_text(months: i32, days: i32, nanos: i64) -> String {
    let mut parts = Vec::new();
    let (years, months) = (months / 12, months % 12);
    let unit = |n: i64, one: &str, many: &str| format!("{n} {}", if n.abs() == 1 { one } else { many });
    if years != 0 {
        parts.push(unit(i64::from(years), "year", "years"));
    }
    if months != 0 {
        parts.push(unit(i64::from(months), "month", "months"));
    }
    if days != 0 {
        parts.push(unit(i64::from(days), "day", "days"));
    }
    if nanos != 0 || parts.is_empty() {
        let sign = if nanos < 0 { "-" } else { "" };
        let micros = (nanos / 1000).unsigned_abs();
        let secs = micros / 1_000_000;
        let frac = micros % 1_000_000;
        let mut time = format!("{sign}{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
        if frac != 0 {
            time.push_str(format!(".{frac:06}").trim_end_matches('0'));
        }
        parts.push(time);
    }
    parts.join(" ")
}

/// Type names whose values `to_json` reads faithfully from DuckDB's Arrow
/// output; lists and fixed-size arrays of them too (a STRUCT or MAP is
/// rendered by DuckDB).
const NATIVE_TYPES: &[&str] = &[
    "BOOLEAN",
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "VARCHAR",
    "DATE",
    "TIMESTAMP",
    "BLOB",
    "UUID",
];

/// Whether a column of DuckDB type `kind` can be read without DuckDB's help.
pub fn is_native(kind: &str) -> bool {
    let kind = kind.trim();
    if let Some(inner) = kind.strip_suffix("[]") {
        return is_native(inner);
    }
    if let Some(open) = kind.find('[')
        && kind.ends_with(']')
        && kind[open + 1..kind.len() - 1].chars().all(|c| c.is_ascii_digit())
    {
        return is_native(&kind[..open]);
    }
    let base = kind.split('(').next().unwrap_or(kind).trim();
    if base == "DECIMAL" {
        return true;
    }
    !kind.contains('(') && NATIVE_TYPES.contains(&base)
}

/// `sql` as it can be read: unchanged when every column is native, else
/// wrapped so that DuckDB renders the other columns as its own text
/// (`CAST(… AS VARCHAR)`, which is how DuckDB itself prints them).
pub fn readable_sql(conn: &duckdb::Connection, sql: &str) -> duckdb::Result<String> {
    let columns = super::population::describe(conn, sql)?;
    if columns.iter().all(|(_, kind)| is_native(kind)) {
        return Ok(sql.to_string());
    }
    let select = columns
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| {
            let column = format!("#{}", i + 1);
            let expr = if is_native(kind) { column } else { format!("CAST({column} AS VARCHAR)") };
            format!("{expr} AS {}", quote_ident(name))
        })
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!("SELECT {select} FROM ({sql}) AS __qd_rendered"))
}

#[cfg(test)]
mod tests;
