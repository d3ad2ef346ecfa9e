//! The nested tables of a connector source: `auth`, `paginate`, `since`
//! and `until`, each read with its unknown keys refused.

use std::path::PathBuf;

use chrono::Utc;
use toml::Spanned;

use super::{Auth, Paginate, RawConnectorKeys, SecretRef, TimeFormat, TimeParam};
use crate::workspace::problems::{Location, did_you_mean};

/// Reads the keys of an inline table, refusing any not in `known`.
struct Keys<'a> {
    table: &'a toml::Table,
    field: &'static str,
    known: &'static [&'static str],
}

impl<'a> Keys<'a> {
    fn check(&self, loc: &Location, report: &mut dyn FnMut(Location, String)) {
        for key in self.table.keys() {
            if !self.known.contains(&key.as_str()) {
                report(
                    loc.clone(),
                    format!(
                        "field `{}`: unknown key `{key}`{} (one of {})",
                        self.field,
                        did_you_mean(key, self.known.iter().copied()),
                        self.known.join(", ")
                    ),
                );
            }
        }
    }

    fn text(&self, key: &str, loc: &Location, report: &mut dyn FnMut(Location, String)) -> Option<String> {
        match self.table.get(key) {
            None => None,
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(_) => {
                report(loc.clone(), format!("field `{}`: `{key}` must be a non-empty string", self.field));
                None
            }
        }
    }
}

pub(super) fn auth(
    raw: &RawConnectorKeys,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    report: &mut dyn FnMut(Location, String),
) -> Option<Auth> {
    let shorthand = match (&raw.token_env, &raw.token_file) {
        (Some(env), None) => Some((SecretRef::Env(env.get_ref().clone()), env.span())),
        (None, Some(file)) => Some((SecretRef::File(PathBuf::from(file.get_ref())), file.span())),
        (Some(_), Some(file)) => {
            report(at(file.span()), "`token_env` and `token_file` both given; name one".into());
            None
        }
        (None, None) => None,
    };
    let Some(table) = &raw.auth else {
        // The preset decides the header and scheme of a bare token.
        return shorthand.map(|(token, _)| Auth::Header { header: String::new(), scheme: None, token });
    };
    let loc = at(table.span());
    let keys = Keys {
        table: table.get_ref(),
        field: "auth",
        known: &["header", "scheme", "token_env", "token_file", "username_env", "password_env"],
    };
    keys.check(&loc, report);
    let secret = |env: &str, file: &str, report: &mut dyn FnMut(Location, String)| match (
        keys.text(env, &loc, report),
        keys.text(file, &loc, report),
    ) {
        (Some(e), None) => Some(SecretRef::Env(e)),
        (None, Some(f)) => Some(SecretRef::File(PathBuf::from(f))),
        (Some(_), Some(_)) => {
            report(loc.clone(), format!("field `auth`: `{env}` and `{file}` both given; name one"));
            None
        }
        (None, None) => None,
    };
    let scheme = keys.text("scheme", &loc, report);
    if scheme.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("basic")) || keys.table.contains_key("username_env") {
        let username = keys.text("username_env", &loc, report).map(SecretRef::Env);
        let password = keys.text("password_env", &loc, report).map(SecretRef::Env);
        return match (username, password) {
            (Some(username), Some(password)) => Some(Auth::Basic { username, password }),
            _ => {
                report(loc.clone(), "field `auth`: basic auth needs `username_env` and `password_env`".into());
                None
            }
        };
    }
    let token = secret("token_env", "token_file", report).or_else(|| shorthand.map(|(t, _)| t));
    let Some(token) = token else {
        report(loc.clone(), "field `auth`: needs `token_env` (the token comes from an env var, never the file)".into());
        return None;
    };
    let header = keys.text("header", &loc, report).unwrap_or_else(|| "Authorization".into());
    if !header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        report(loc.clone(), format!("field `auth`: `{header}` is not a header name"));
    }
    Some(Auth::Header { header, scheme, token })
}

pub(super) fn paginate_style(
    table: &Spanned<toml::Table>,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    report: &mut dyn FnMut(Location, String),
) -> Paginate {
    let loc = at(table.span());
    let keys = Keys {
        table: table.get_ref(),
        field: "paginate",
        known: &[
            "link",
            "cursor_field",
            "cursor_param",
            "last_field",
            "next_url_field",
            "page_param",
            "page_start",
            "offset_param",
            "more_field",
        ],
    };
    keys.check(&loc, report);
    let t = |key: &str, report: &mut dyn FnMut(Location, String)| keys.text(key, &loc, report);
    let styles = [
        keys.table.contains_key("link"),
        keys.table.contains_key("cursor_field"),
        keys.table.contains_key("next_url_field"),
        keys.table.contains_key("page_param"),
        keys.table.contains_key("offset_param"),
    ];
    if styles.iter().filter(|s| **s).count() != 1 {
        report(
            loc.clone(),
            "field `paginate`: name exactly one style: `link`, `cursor_field`, `next_url_field`, `page_param` or `offset_param`"
                .into(),
        );
        return Paginate::None;
    }
    if let Some(rel) = t("link", report) {
        return Paginate::Link { rel };
    }
    if let Some(field) = t("cursor_field", report) {
        let Some(param) = t("cursor_param", report) else {
            report(loc.clone(), "field `paginate`: `cursor_field` needs `cursor_param`".into());
            return Paginate::None;
        };
        return Paginate::Cursor { field, param, last_field: t("last_field", report) };
    }
    if let Some(field) = t("next_url_field", report) {
        return Paginate::NextUrl { field };
    }
    if let Some(param) = t("page_param", report) {
        let start = match keys.table.get("page_start") {
            None => 1,
            Some(toml::Value::Integer(n)) if *n >= 0 => *n as u64,
            Some(_) => {
                report(loc.clone(), "field `paginate`: `page_start` must be a number from 0".into());
                1
            }
        };
        return Paginate::Page { param, start };
    }
    if let Some(param) = t("offset_param", report) {
        return Paginate::Offset { param, more_field: t("more_field", report) };
    }
    Paginate::None
}

pub(super) fn time_param(
    table: &Spanned<toml::Table>,
    field: &'static str,
    at: &dyn Fn(std::ops::Range<usize>) -> Location,
    report: &mut dyn FnMut(Location, String),
) -> Option<TimeParam> {
    let loc = at(table.span());
    let keys = Keys { table: table.get_ref(), field, known: &["param", "format", "template"] };
    keys.check(&loc, report);
    let Some(param) = keys.text("param", &loc, report) else {
        report(loc.clone(), format!("field `{field}`: needs `param` (the query parameter's name)"));
        return None;
    };
    let format = match keys.text("format", &loc, report).as_deref() {
        None | Some("rfc3339") => TimeFormat::Rfc3339 { millis: false },
        Some("rfc3339_millis") => TimeFormat::Rfc3339 { millis: true },
        Some("date") => TimeFormat::Date,
        Some("epoch") => TimeFormat::Epoch,
        Some("epoch_ms") => TimeFormat::EpochMillis,
        Some(pattern) if pattern.contains('%') => {
            let probe = chrono::DateTime::<Utc>::UNIX_EPOCH;
            let mut rendered = String::new();
            if std::fmt::write(&mut rendered, format_args!("{}", probe.format(pattern))).is_err() {
                report(loc.clone(), format!("field `{field}`: `{pattern}` is not a strftime pattern"));
            }
            TimeFormat::Pattern(pattern.to_string())
        }
        Some(other) => {
            report(
                loc.clone(),
                format!(
                    "field `{field}`: format `{other}` is not rfc3339, rfc3339_millis, date, epoch, epoch_ms or a strftime pattern"
                ),
            );
            TimeFormat::Rfc3339 { millis: false }
        }
    };
    let template = keys.text("template", &loc, report);
    if template.as_deref().is_some_and(|t| !t.contains("{value}")) {
        report(loc.clone(), format!("field `{field}`: `template` must contain `{{value}}`"));
    }
    Some(TimeParam { param, format, template })
}
