//! The audit's closed vocabularies (verdicts, statuses, results,
//! severities) as enums whose one spelling serves everywhere: serde, the
//! database, the command line and the screen. Each word is written once, in
//! the enum's declaration; `as_str`, `parse` and serde all derive from it.

/// Declares a vocabulary enum: `Variant = "word"` (`| "alias"` for
/// spellings also accepted on input).
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $word:literal $(| $alias:literal)*),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $word $(, alias = $alias)*)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The value's one spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }

            /// The value spelled `text` (or one of its aliases).
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($word $(| $alias)* => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// Other spellings accepted for the value on input.
            pub fn aliases(self) -> &'static [&'static str] {
                match self {
                    $(Self::$variant => &[$($alias),*]),+
                }
            }

            /// The accepted spellings, for messages: "a, b or c".
            pub fn spellings() -> String {
                let words = [$($word),+];
                match words.split_last() {
                    Some((last, [])) => last.to_string(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                }
            }
        }

        impl $crate::vocabulary::Word for $name {
            fn parse_word(text: &str) -> Option<Self> {
                Self::parse(text)
            }

            fn spellings() -> String {
                Self::spellings()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;

/// What every vocabulary enum can do, for code generic over them (reading
/// a stored word back, the CLI's value parser).
pub trait Word: Sized + Copy + 'static {
    fn parse_word(text: &str) -> Option<Self>;
    fn spellings() -> String;
}

#[cfg(test)]
mod tests {
    vocabulary! {
        pub enum Weather {
            Sunny = "sunny",
            Rain = "rain" | "rainy",
        }
    }

    #[test]
    fn one_spelling_for_serde_text_and_parse() {
        for w in Weather::ALL {
            assert_eq!(serde_json::to_string(w).unwrap(), format!("\"{}\"", w.as_str()));
            assert_eq!(Weather::parse(w.as_str()), Some(*w));
            assert_eq!(serde_json::from_str::<Weather>(&format!("\"{w}\"")).unwrap(), *w);
        }
        assert_eq!(Weather::parse("rainy"), Some(Weather::Rain));
        assert_eq!(serde_json::from_str::<Weather>("\"rainy\"").unwrap(), Weather::Rain);
        assert_eq!(Weather::parse("Rain"), None);
        assert_eq!(Weather::spellings(), "sunny or rain");
        assert_eq!(Weather::Rain.aliases(), ["rainy"]);
    }
}
