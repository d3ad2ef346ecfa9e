//! The hash-chained action log. Every change the tool makes appends an entry whose hash covers
//! its content and the previous entry's hash, so removing, reordering or altering an entry breaks
//! the chain. Pure: the caller stores entries and hands them back, in seq order, to `verify`.
//!
//! hash = lowercase hex sha256( prev_hash + "\n" + canonical JSON of {action, actor, at, payload, seq} )

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The prev_hash of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// JSON with object keys sorted (bytewise) at every depth, no whitespace; numbers and strings as serde_json writes them.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        // Null, booleans, numbers and strings: serde_json's own compact rendering.
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// One row of the action log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub payload: Value,
    pub prev_hash: String,
    pub hash: String,
}

impl LogEntry {
    /// The hash this entry's content and prev_hash call for (equal to `hash` unless altered).
    pub fn expected_hash(&self) -> String {
        entry_hash(&self.prev_hash, self.seq, &self.at, &self.actor, &self.action, &self.payload)
    }
}

pub fn entry_hash(prev_hash: &str, seq: i64, at: &str, actor: &str, action: &str, payload: &Value) -> String {
    let content = serde_json::json!({ "action": action, "actor": actor, "at": at, "payload": payload, "seq": seq });
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_json(&content).as_bytes());
    hex::encode(hasher.finalize())
}

/// Builds the next entry after `prev` (None: the first, seq 1, prev_hash GENESIS).
/// `prev` is the previous entry's (seq, hash).
pub fn next_entry(prev: Option<(&i64, &str)>, at: &str, actor: &str, action: &str, payload: Value) -> LogEntry {
    let (seq, prev_hash) = match prev {
        Some((seq, hash)) => (seq + 1, hash.to_string()),
        None => (1, GENESIS.to_string()),
    };
    let hash = entry_hash(&prev_hash, seq, at, actor, action, &payload);
    LogEntry { seq, at: at.to_string(), actor: actor.to_string(), action: action.to_string(), payload, prev_hash, hash }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("action log: seq {found} follows seq {previous}; entries are missing or reordered")]
    Gap { previous: i64, found: i64 },
    /// For the first entry, `previous` is 0 and stands for GENESIS.
    #[error(
        "action log: entry {seq}'s prev_hash does not match entry {previous}'s hash; an entry was removed or reordered"
    )]
    Link { seq: i64, previous: i64 },
    #[error("action log: entry {seq} was altered: its hash does not match its content")]
    Altered { seq: i64 },
    #[error("action log: the first entry is seq {0}, not 1")]
    BadStart(i64),
}

/// Walks entries in seq order; the first broken link or gap, if any.
///
/// Entries must come as stored, ordered by seq (`ORDER BY seq`); a reordering shows as a gap.
/// Each entry is checked for its seq, then its link to the previous hash, then its own hash.
/// Returns the number of entries checked. Truncation at the end is not detectable here: compare
/// the count or the last hash against a copy kept elsewhere.
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a LogEntry>) -> Result<u64, ChainBreak> {
    let mut previous: Option<&LogEntry> = None;
    let mut checked = 0u64;
    for entry in entries {
        let (previous_seq, previous_hash) = match previous {
            None if entry.seq != 1 => return Err(ChainBreak::BadStart(entry.seq)),
            None => (0, GENESIS),
            Some(prev) => (prev.seq, prev.hash.as_str()),
        };
        if previous.is_some() && previous_seq.checked_add(1) != Some(entry.seq) {
            return Err(ChainBreak::Gap { previous: previous_seq, found: entry.seq });
        }
        if entry.prev_hash != previous_hash {
            return Err(ChainBreak::Link { seq: entry.seq, previous: previous_seq });
        }
        if entry.hash != entry.expected_hash() {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        previous = Some(entry);
        checked += 1;
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: i64) -> Vec<LogEntry> {
        let mut entries: Vec<LogEntry> = Vec::new();
        for i in 1..=n {
            let prev = entries.last().map(|e| (&e.seq, e.hash.as_str()));
            let at = format!("2026-07-01T09:{:02}:{:02}Z", i / 60, i % 60);
            let payload = json!({ "finding": format!("F-2026Q3-{i:03}"), "to": "remediating", "n": i });
            entries.push(next_entry(prev, &at, "ana@example.com", "finding.set", payload));
        }
        entries
    }

    /// Recomputes every hash from `from` on, as a forger rewriting the tail would.
    fn rehash_from(entries: &mut [LogEntry], from: usize) {
        for i in from..entries.len() {
            if i > 0 {
                entries[i].prev_hash = entries[i - 1].hash.clone();
            }
            entries[i].hash = entries[i].expected_hash();
        }
    }

    #[test]
    fn a_chain_of_100_entries_verifies() {
        let entries = chain(100);
        assert_eq!(entries[0].seq, 1);
        assert_eq!(entries[0].prev_hash, GENESIS);
        assert_eq!(entries[99].seq, 100);
        assert!(entries.iter().all(|e| e.hash.len() == 64 && e.hash == e.hash.to_lowercase()));
        assert_eq!(verify(&entries), Ok(100));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn altering_any_field_of_one_entry_is_caught_at_that_entry() {
        let alterations: [fn(&mut LogEntry); 6] = [
            |e| e.actor = "mallory@example.com".into(),
            |e| e.payload["to"] = json!("closed"),
            |e| e.payload["n"] = json!(41.0),
            |e| e.at = "2026-07-02T09:00:00Z".into(),
            |e| e.action = "finding.delete".into(),
            |e| e.hash = GENESIS.into(),
        ];
        for alter in alterations {
            for index in [0, 41, 99] {
                let mut entries = chain(100);
                alter(&mut entries[index]);
                assert_eq!(verify(&entries), Err(ChainBreak::Altered { seq: index as i64 + 1 }));
            }
        }
    }

    #[test]
    fn deleting_an_entry_leaves_a_gap() {
        let mut entries = chain(100);
        entries.remove(41);
        assert_eq!(verify(&entries), Err(ChainBreak::Gap { previous: 41, found: 43 }));
        let mut entries = chain(100);
        entries.remove(0);
        assert_eq!(verify(&entries), Err(ChainBreak::BadStart(2)));
        assert_eq!(ChainBreak::BadStart(2).to_string(), "action log: the first entry is seq 2, not 1");
    }

    #[test]
    fn swapping_two_entries_breaks_the_chain() {
        let mut entries = chain(100);
        entries.swap(10, 20);
        assert_eq!(verify(&entries), Err(ChainBreak::Gap { previous: 10, found: 21 }));
        // Renumbered and rehashed in place: the link to the untouched earlier entry still breaks.
        let mut entries = chain(100);
        entries.swap(10, 11);
        entries[10].seq = 11;
        entries[11].seq = 12;
        for i in [10, 11] {
            entries[i].hash = entries[i].expected_hash();
        }
        assert_eq!(verify(&entries), Err(ChainBreak::Link { seq: 11, previous: 10 }));
    }

    #[test]
    fn a_forger_who_rehashes_the_altered_entry_breaks_the_next_link() {
        let mut entries = chain(100);
        entries[41].payload["to"] = json!("closed");
        entries[41].hash = entries[41].expected_hash();
        let err = verify(&entries).unwrap_err();
        assert_eq!(err, ChainBreak::Link { seq: 43, previous: 42 });
        assert_eq!(
            err.to_string(),
            "action log: entry 43's prev_hash does not match entry 42's hash; an entry was removed or reordered"
        );
        // Only rewriting the whole tail goes unnoticed here; the last hash must be anchored elsewhere.
        rehash_from(&mut entries, 42);
        assert_eq!(verify(&entries), Ok(100));
        // A first entry that does not start from GENESIS.
        let mut entries = chain(3);
        entries[0].prev_hash = "f".repeat(64);
        rehash_from(&mut entries, 0);
        assert_eq!(verify(&entries), Err(ChainBreak::Link { seq: 1, previous: 0 }));
    }

    #[test]
    fn canonical_json_sorts_nested_keys_without_whitespace() {
        let value = json!({ "z": 1, "a": { "y": [ { "b": true, "a": null } ], "x": -2.5 }, "B": "s" });
        assert_eq!(canonical_json(&value), r#"{"B":"s","a":{"x":-2.5,"y":[{"a":null,"b":true}]},"z":1}"#);
    }

    #[test]
    fn canonical_json_is_stable_under_key_insertion_order() {
        let mut forward = serde_json::Map::new();
        let mut backward = serde_json::Map::new();
        let keys = ["seq", "actor", "é", "at", "Z", "payload"];
        for (i, key) in keys.iter().enumerate() {
            forward.insert(key.to_string(), json!(i));
        }
        for (i, key) in keys.iter().enumerate().rev() {
            backward.insert(key.to_string(), json!(i));
        }
        let (forward, backward) = (Value::Object(forward), Value::Object(backward));
        assert_ne!(forward.to_string(), backward.to_string(), "preserve_order keeps insertion order");
        assert_eq!(canonical_json(&forward), canonical_json(&backward));
        assert_eq!(canonical_json(&forward), r#"{"Z":4,"actor":1,"at":3,"payload":5,"seq":0,"é":2}"#);
    }

    #[test]
    fn canonical_json_escapes_as_serde_json_does() {
        let value = json!({ "note": "Zoë said \"ok\" \\ 😀\n\t\u{7}\u{7f}", "n": [1, 1.0, 1e300, -0.0, 18446744073709551615u64] });
        let expected = format!(
            r#"{{"n":{},"note":{}}}"#,
            serde_json::to_string(&value["n"]).unwrap(),
            serde_json::to_string(&value["note"]).unwrap()
        );
        assert_eq!(canonical_json(&value), expected);
        assert_eq!(
            canonical_json(&value),
            "{\"n\":[1,1.0,1e+300,-0.0,18446744073709551615],\"note\":\"Zoë said \\\"ok\\\" \\\\ 😀\\n\\t\\u0007\u{7f}\"}"
        );
    }

    #[test]
    fn entry_hash_known_answer() {
        let payload = json!({ "status": "open", "id": "F-2026Q3-004", "severity": "high" });
        let preimage = format!(
            "{GENESIS}\n{}",
            r#"{"action":"finding.create","actor":"ana@example.com","at":"2026-07-01T09:00:00Z","payload":{"id":"F-2026Q3-004","severity":"high","status":"open"},"seq":1}"#
        );
        let expected = hex::encode(Sha256::digest(preimage.as_bytes()));
        let hash = entry_hash(GENESIS, 1, "2026-07-01T09:00:00Z", "ana@example.com", "finding.create", &payload);
        assert_eq!(hash, expected);
        let first = next_entry(None, "2026-07-01T09:00:00Z", "ana@example.com", "finding.create", payload.clone());
        assert_eq!(first.hash, expected);
        let second =
            next_entry(Some((&first.seq, &first.hash)), "2026-07-01T09:01:00Z", "ana@example.com", "x", json!({}));
        assert_eq!((second.seq, second.prev_hash.as_str()), (2, expected.as_str()));
        assert_eq!(verify([&first, &second]), Ok(2));
    }
}
