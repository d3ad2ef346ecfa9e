//! Tokens, read from an env var or an owner-only file when a pull starts,
//! held in a type that never prints them. Everything a pull writes down
//! (errors, run records, stored headers and pages) passes [`Secrets::scrub`].

use std::fmt;
use std::path::Path;

use crate::workspace::connector::SecretRef;

use super::ConnectorError;

/// A secret's value. Debug and Display show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A value made from secrets (a basic-auth pair's encoding), to scrub too.
    pub(super) fn from_derived(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Reads a secret; the error names where it looked, never a value.
pub fn read(root: &Path, source: &str, reference: &SecretRef) -> Result<Secret, ConnectorError> {
    let missing = |why: String| ConnectorError::Secret { source_name: source.to_string(), why };
    let value = match reference {
        SecretRef::Env(name) => match std::env::var(name) {
            Ok(value) => value,
            Err(std::env::VarError::NotPresent) => return Err(missing(format!("env var {name} is not set"))),
            Err(std::env::VarError::NotUnicode(_)) => return Err(missing(format!("env var {name} is not UTF-8"))),
        },
        SecretRef::File(relative) => {
            let path = root.join(relative);
            let meta = std::fs::metadata(&path).map_err(|e| missing(format!("{}: {e}", path.display())))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(missing(format!(
                        "{} has mode {mode:04o}; a secrets file must be readable by its owner only (chmod 600)",
                        path.display()
                    )));
                }
            }
            if !meta.is_file() {
                return Err(missing(format!("{} is not a regular file", path.display())));
            }
            std::fs::read_to_string(&path).map_err(|e| missing(format!("{}: {e}", path.display())))?
        }
    };
    let value = value.trim().to_string();
    if value.is_empty() {
        return Err(missing(format!("{} is empty", reference.describe())));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(missing(format!("{} holds control characters", reference.describe())));
    }
    Ok(Secret(value))
}

/// The secrets of one pull, to scrub from whatever it writes down.
#[derive(Debug, Clone, Default)]
pub struct Secrets(Vec<Secret>);

impl Secrets {
    pub fn push(&mut self, secret: &Secret) {
        // Short values would scrub ordinary words; tokens are never this short.
        if secret.0.len() >= 6 {
            self.0.push(secret.clone());
        }
    }

    /// `text` with every secret (and its base64 and URL-encoded forms) as `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.0 {
            for form in forms(&secret.0) {
                if out.contains(&form) {
                    out = out.replace(&form, "***");
                }
            }
        }
        out
    }

    pub fn appears_in(&self, bytes: &[u8]) -> bool {
        self.0.iter().any(|s| forms(&s.0).iter().any(|form| contains(bytes, form.as_bytes())))
    }

    /// `bytes` scrubbed, if a secret appears in them.
    pub fn scrub_bytes(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        self.appears_in(bytes).then(|| self.scrub(&String::from_utf8_lossy(bytes)).into_bytes())
    }
}

fn forms(value: &str) -> Vec<String> {
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut forms = vec![value.to_string()];
    if encoded != value {
        forms.push(encoded);
    }
    forms
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let s = Secret("sentinel-token-123".into());
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        let mut all = Secrets::default();
        all.push(&s);
        assert_eq!(all.scrub("Bearer sentinel-token-123 and sentinel-token-123"), "Bearer *** and ***");
        assert!(all.appears_in(b"x=sentinel-token-123"));
    }

    #[test]
    fn a_secrets_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "abcdefgh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = read(dir.path(), "s", &SecretRef::File("token".into())).unwrap_err().to_string();
            assert!(err.contains("chmod 600") && !err.contains("abcdefgh"), "{err}");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(read(dir.path(), "s", &SecretRef::File("token".into())).unwrap().expose(), "abcdefgh");
    }
}
