//! The audit's vocabularies as command-line values: `--help` lists them
//! and a typo is a usage error (exit 2), each spelled as the enum says.

use clap::builder::PossibleValue;

use crate::audit::lifecycle::{FindingStatus, Severity};
use crate::audit::record::AuditStatus;
use crate::audit::verdicts::Verdict;

macro_rules! value_enum {
    ($($t:ty),+ $(,)?) => {
        $(impl clap::ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                <$t>::ALL
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.as_str()).aliases(self.aliases().iter().copied()))
            }
        })+
    };
}

value_enum!(Verdict, Severity, FindingStatus, AuditStatus);

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn values_are_the_vocabulary_s_spellings() {
        for v in Verdict::ALL {
            assert_eq!(Verdict::from_str(v.as_str(), false), Ok(*v));
        }
        assert_eq!(Verdict::from_str("n/a", false), Ok(Verdict::NotApplicable));
        assert!(Severity::from_str("urgent", false).is_err());
        let listed: Vec<String> = FindingStatus::value_variants()
            .iter()
            .filter_map(|s| s.to_possible_value())
            .map(|p| p.get_name().to_string())
            .collect();
        assert_eq!(listed, ["open", "remediating", "ready-for-retest", "closed", "risk-accepted"]);
    }
}
