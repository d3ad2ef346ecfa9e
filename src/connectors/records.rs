//! Finding things in a JSON response: the record array, a cursor, a next
//! URL, a total — by dotted path, where a key may itself hold dots
//! (`@odata.nextLink`) — and picking a record's columns.

use serde_json::{Map, Value};

/// The value at `path` ("" = the root). At each level the longest run of
/// segments that is a key wins, so `@odata.nextLink` is one key.
pub fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(value);
    }
    let segments: Vec<&str> = path.split('.').collect();
    let mut current = value;
    let mut i = 0;
    while i < segments.len() {
        let Value::Object(map) = current else { return None };
        let (found, used) = (i + 1..=segments.len()).rev().find_map(|end| {
            let key = segments[i..end].join(".");
            map.get(&key).map(|v| (v, end))
        })?;
        current = found;
        i = used;
    }
    Some(current)
}

/// The page's records: the array at `path`.
pub fn records<'a>(body: &'a Value, path: &str) -> Result<&'a [Value], String> {
    match at(body, path) {
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!(
            "`{}` is {}, not an array of records",
            if path.is_empty() { "the response" } else { path },
            kind(other)
        )),
        None => Err(format!("the response has no `{path}`")),
    }
}

/// A record's columns: each `(column, path)` picked (null where absent);
/// the record whole when `fields` is empty.
pub fn project(record: &Value, fields: &[(String, String)]) -> Value {
    if fields.is_empty() {
        return record.clone();
    }
    let mut row = Map::new();
    for (column, path) in fields {
        row.insert(column.clone(), at(record, path).cloned().unwrap_or(Value::Null));
    }
    Value::Object(row)
}

/// A scalar as text (a cursor, a number), if it is one and not empty.
pub fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_paths_find_keys_that_hold_dots() {
        let v = json!({"@odata.nextLink": "u", "meta": {"next": "c"}, "value": [1, 2]});
        assert_eq!(at(&v, "@odata.nextLink"), Some(&json!("u")));
        assert_eq!(at(&v, "meta.next"), Some(&json!("c")));
        assert_eq!(records(&v, "value").unwrap().len(), 2);
        assert!(records(&v, "meta").unwrap_err().contains("an object"));
        assert!(records(&v, "items").unwrap_err().contains("no `items`"));
        assert_eq!(records(&json!([1]), "").unwrap().len(), 1);
    }

    #[test]
    fn projection_picks_columns_and_nulls_what_is_absent() {
        let r = json!({"user": {"login": "ana"}, "number": 7});
        let row = project(&r, &[("author".into(), "user.login".into()), ("gone".into(), "x.y".into())]);
        assert_eq!(row, json!({"author": "ana", "gone": null}));
    }
}
