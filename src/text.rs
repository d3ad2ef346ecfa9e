//! Evidence text is untrusted: before it reaches a terminal (a table cell,
//! a header, an error on stderr, a status line), control
//! characters, escape sequences (CSI, OSC, 8-bit C1) and bidi overrides are
//! made visible as escapes, and text is cut by display width.

use unicode_width::UnicodeWidthChar;

/// Bidi controls that can reorder what the reader sees (Trojan Source).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A character a terminal would act on or reorder by, rather than show.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// The text with every control character shown as a visible escape: ESC as
/// `\e`, tabs and newlines as `\t` `\n`, other C0/C1 controls and bidi
/// controls as `\u{…}`. Nothing that a terminal interprets survives.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{1b}' => out.push_str("\\e"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{1f}' => out.push_str(" | "),
            c if c.is_control() || is_bidi_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// [`visible`] for multi-line messages: each line sanitised, the line
/// breaks between them kept.
pub fn visible_lines(text: &str) -> String {
    text.split('\n').map(visible).collect::<Vec<_>>().join("\n")
}

/// Serialised JSON with the bidi controls escaped (`\u202e`): still the
/// same JSON to a parser, but nothing that reorders what a reader sees.
/// (serde_json already escapes every C0 control.)
pub fn json_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            c if is_bidi_control(c) || ('\u{7f}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Display width of already-visible text.
pub fn width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// The visible text cut to at most `max` display columns, with `…` when cut.
/// A wide character that would straddle the edge is dropped, never split.
pub fn fit(text: &str, max: usize) -> String {
    let text = visible(text);
    if width(&text) <= max {
        return text;
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// A JSON value as one line of visible text (strings without quotes).
pub fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => visible(s),
        other => visible(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_reach_the_screen_only_as_text() {
        let hostile = "ok\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\u{202e}evil\u{2066}";
        let shown = visible(hostile);
        assert!(!shown.chars().any(|c| c.is_control() || is_bidi_control(c)), "{shown:?}");
        assert_eq!(shown, "ok\\e[2J\\e]0;pwned\\u{7}\\u{9b}31m\\u{202e}evil\\u{2066}");
    }

    #[test]
    fn wide_characters_are_cut_by_display_width() {
        assert_eq!(fit("日本語テキスト", 6), "日本…");
        assert_eq!(width(&fit("日本語テキスト", 6)), 5);
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
        assert_eq!(fit("abcd", 0), "");
    }

    #[test]
    fn json_keeps_its_meaning_without_bidi_controls() {
        let json = serde_json::to_string(&serde_json::json!({"t": "a\u{202e}b\u{9b}c\u{1b}"})).unwrap();
        let safe = json_safe(&json);
        assert!(!safe.chars().any(|c| c.is_control() || is_bidi_control(c)), "{safe}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap()["t"], "a\u{202e}b\u{9b}c\u{1b}");
    }

    #[test]
    fn key_separators_read_as_bars() {
        assert_eq!(visible("a\u{1f}b"), "a | b");
    }
}
