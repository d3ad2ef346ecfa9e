//! How often a control operates; it sets the default sample size (DOMAIN.md).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Frequency {
    Annual,
    Quarterly,
    Monthly,
    Weekly,
    Daily,
    PerEvent,
}

impl Frequency {
    pub const NAMES: [&'static str; 6] = ["annual", "quarterly", "monthly", "weekly", "daily", "per-event"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "annual" => Some(Self::Annual),
            "quarterly" => Some(Self::Quarterly),
            "monthly" => Some(Self::Monthly),
            "weekly" => Some(Self::Weekly),
            "daily" => Some(Self::Daily),
            "per-event" => Some(Self::PerEvent),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Annual => "annual",
            Self::Quarterly => "quarterly",
            Self::Monthly => "monthly",
            Self::Weekly => "weekly",
            Self::Daily => "daily",
            Self::PerEvent => "per-event",
        }
    }

    /// The sample sizes most firms use; the AICPA mandates none.
    pub fn default_sample_size(self) -> u32 {
        match self {
            Self::Annual => 1,
            Self::Quarterly | Self::Monthly => 2,
            Self::Weekly => 5,
            Self::Daily | Self::PerEvent => 25,
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
