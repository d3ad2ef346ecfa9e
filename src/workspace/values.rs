//! DuckDB values as JSON: numbers stay numbers, times become ISO text. Used
//! for query results and for the rows frozen into a sample.

use serde_json::{Value as Json, json};

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
        V::Float(f) => json!(f),
        V::Double(f) => json!(f),
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
            let secs = micros / 1_000_000;
            json!(format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60))
        }
        V::Blob(bytes) => json!(hex::encode(bytes)),
        V::List(items) | V::Array(items) => Json::Array(items.into_iter().map(to_json).collect()),
        V::Struct(fields) => Json::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v.clone()))).collect()),
        other => json!(format!("{other:?}")),
    }
}
