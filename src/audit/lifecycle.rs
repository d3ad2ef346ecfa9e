//! The life of a finding: which status changes are allowed, who may make them,
//! when an accepted risk lapses and when a finding is overdue. Pure: no database.

use chrono::NaiveDate;

crate::vocabulary::vocabulary! {
    /// Where a finding stands. `open → remediating → ready-for-retest → closed`, or `risk-accepted`.
    pub enum FindingStatus {
        Open = "open",
        Remediating = "remediating",
        ReadyForRetest = "ready-for-retest",
        Closed = "closed",
        RiskAccepted = "risk-accepted",
    }
}

impl FindingStatus {
    /// Still needs work: open, remediating or ready-for-retest.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Open | Self::Remediating | Self::ReadyForRetest)
    }
}

crate::vocabulary::vocabulary! {
    /// How grave a finding is; ordered `Low < Medium < High < Critical`.
    #[derive(PartialOrd, Ord)]
    pub enum Severity {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

/// Who moves a finding: an operator with `findings set`, or the audit engine at retest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mover {
    Operator,
    Retest,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TransitionError {
    #[error("finding {id}: {from} → {to} is not allowed; from {from} it can go to {allowed}")]
    Illegal { id: String, from: &'static str, to: &'static str, allowed: String },
    #[error("finding {id}: risk acceptance needs an approver, a reason and an expiry date")]
    AcceptanceIncomplete { id: String },
    #[error("finding {id}: the acceptance expiry {expires} is not after today ({today})")]
    ExpiryInPast { id: String, expires: NaiveDate, today: NaiveDate },
    #[error(
        "finding {id}: only a passing retest closes a finding; set it to ready-for-retest and let the next audit retest it"
    )]
    CloseNeedsRetest { id: String },
}

crate::error::kind!(BadInput: TransitionError);

/// Who accepted a risk, why, and until when (exclusive: on `expires` the finding reopens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    pub approver: String,
    pub reason: String,
    pub expires: NaiveDate,
}

/// The statuses `mover` may move a finding to from `from`. A retest that leaves an open or
/// remediating finding where it is is a no-op, not a transition, so it is not listed.
pub fn allowed_from(from: FindingStatus, mover: Mover) -> Vec<FindingStatus> {
    use FindingStatus::*;
    match (mover, from) {
        (Mover::Operator, Open) => vec![Remediating, RiskAccepted],
        (Mover::Operator, Remediating) => vec![ReadyForRetest, Open, RiskAccepted],
        (Mover::Operator, ReadyForRetest) => vec![Remediating, RiskAccepted],
        (Mover::Operator, RiskAccepted) => vec![Open],
        (Mover::Operator, Closed) => vec![],
        (Mover::Retest, ReadyForRetest) => vec![Closed, Open],
        (Mover::Retest, Open | Remediating | Closed | RiskAccepted) => vec![],
    }
}

/// Checks a requested transition; returns Ok(()) or the reason it is refused.
///
/// A retest of a finding that is still open or remediating changes nothing: `Retest` asking
/// open → open or remediating → remediating is accepted as a no-op. An operator asking for the
/// status a finding already has is refused as `Illegal`.
pub fn check_transition(
    id: &str,
    from: FindingStatus,
    to: FindingStatus,
    mover: Mover,
    acceptance: Option<&Acceptance>,
    today: NaiveDate,
) -> Result<(), TransitionError> {
    let no_op_retest =
        mover == Mover::Retest && from == to && matches!(from, FindingStatus::Open | FindingStatus::Remediating);
    if no_op_retest {
        return Ok(());
    }
    let allowed = allowed_from(from, mover);
    if !allowed.contains(&to) {
        if mover == Mover::Operator && to == FindingStatus::Closed && from != FindingStatus::Closed {
            return Err(TransitionError::CloseNeedsRetest { id: id.to_string() });
        }
        return Err(TransitionError::Illegal {
            id: id.to_string(),
            from: from.as_str(),
            to: to.as_str(),
            allowed: describe(&allowed),
        });
    }
    if to == FindingStatus::RiskAccepted {
        let complete = acceptance.filter(|a| !a.approver.trim().is_empty() && !a.reason.trim().is_empty());
        let Some(acceptance) = complete else {
            return Err(TransitionError::AcceptanceIncomplete { id: id.to_string() });
        };
        if acceptance.expires <= today {
            return Err(TransitionError::ExpiryInPast { id: id.to_string(), expires: acceptance.expires, today });
        }
    }
    Ok(())
}

/// What a retest does to a finding: `Some(new status)`, or `None` when it leaves it as it is.
/// Only a ready-for-retest finding moves: to closed if the retest passed, back to open if not.
pub fn retest_outcome(status: FindingStatus, passed: bool) -> Option<FindingStatus> {
    match status {
        FindingStatus::ReadyForRetest if passed => Some(FindingStatus::Closed),
        FindingStatus::ReadyForRetest => Some(FindingStatus::Open),
        _ => None,
    }
}

/// "remediating, open or risk-accepted"; "nothing" when the list is empty.
fn describe(statuses: &[FindingStatus]) -> String {
    let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    match names.split_last() {
        None => "nothing".to_string(),
        Some((last, [])) => last.to_string(),
        Some((last, init)) => format!("{} or {last}", init.join(", ")),
    }
}

/// An accepted risk whose expiry has passed goes back to open (the engine records that as an event).
/// The acceptance holds until the day before `expires`; an acceptance without an expiry is not
/// valid, so it counts as expired.
pub fn acceptance_expired(status: FindingStatus, expires: Option<NaiveDate>, today: NaiveDate) -> bool {
    status == FindingStatus::RiskAccepted && expires.is_none_or(|expires| expires <= today)
}

/// Overdue is computed, never stored: due before today and the finding still active.
pub fn is_overdue(status: FindingStatus, due: Option<NaiveDate>, today: NaiveDate) -> bool {
    status.is_active() && due.is_some_and(|due| due < today)
}

/// Finding ids like F-2026Q3-004: audit label without the dash, then a 3-digit (or wider) sequence.
/// Any label is reduced to its ASCII letters and digits, uppercased.
pub fn finding_id(audit_label: &str, sequence: u32) -> String {
    let label: String =
        audit_label.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect();
    format!("F-{label}-{sequence:03}")
}

#[cfg(test)]
mod tests {
    use super::FindingStatus::*;
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn acceptance(approver: &str, reason: &str, expires: &str) -> Acceptance {
        Acceptance { approver: approver.into(), reason: reason.into(), expires: day(expires) }
    }

    const TODAY: &str = "2026-07-15";

    fn op(from: FindingStatus, to: FindingStatus) -> Result<(), TransitionError> {
        let ok = acceptance("cfo@example.com", "compensating control", "2026-12-31");
        check_transition("F-2026Q3-004", from, to, Mover::Operator, Some(&ok), day(TODAY))
    }

    fn retest(from: FindingStatus, to: FindingStatus) -> Result<(), TransitionError> {
        check_transition("F-2026Q3-004", from, to, Mover::Retest, None, day(TODAY))
    }

    #[test]
    fn names_round_trip_and_severity_orders_by_gravity() {
        let json = |name: &str| Some(serde_json::Value::from(name));
        assert!(FindingStatus::ALL.iter().all(|&s| FindingStatus::parse(s.as_str()) == Some(s)));
        assert!(FindingStatus::ALL.iter().all(|&s| serde_json::to_value(s).ok() == json(s.as_str())));
        assert!(Severity::ALL.iter().all(|&s| Severity::parse(s.as_str()) == Some(s)));
        assert!(Severity::ALL.iter().all(|&s| serde_json::to_value(s).ok() == json(s.as_str())));
        assert_eq!((FindingStatus::parse("Open"), Severity::ALL.iter().max()), (None, Some(&Severity::Critical)));
        assert!(Severity::Low < Severity::Medium && Severity::High < Severity::Critical);
        assert_eq!(FindingStatus::ALL.iter().filter(|s| s.is_active()).count(), 3);
    }

    #[test]
    fn an_operator_cannot_close_a_finding() {
        for from in [Open, Remediating, ReadyForRetest, RiskAccepted] {
            assert_eq!(op(from, Closed), Err(TransitionError::CloseNeedsRetest { id: "F-2026Q3-004".into() }));
        }
        assert_eq!(
            op(Closed, Open).unwrap_err().to_string(),
            "finding F-2026Q3-004: closed → open is not allowed; from closed it can go to nothing"
        );
        // Asking for the status it already has is refused too.
        let err = op(Remediating, Remediating).unwrap_err();
        assert_eq!(
            err.to_string(),
            "finding F-2026Q3-004: remediating → remediating is not allowed; \
             from remediating it can go to ready-for-retest, open or risk-accepted"
        );
    }

    #[test]
    fn a_failed_retest_reopens_it() {
        assert_eq!(retest(ReadyForRetest, Open), Ok(()));
        assert_eq!(retest_outcome(ReadyForRetest, false), Some(Open));
        assert_eq!(retest_outcome(ReadyForRetest, true), Some(Closed));
        // Not yet ready: the retest changes nothing.
        assert_eq!(retest(Open, Open), Ok(()));
        assert_eq!(retest(Remediating, Remediating), Ok(()));
        assert_eq!(retest_outcome(Remediating, false), None);
        assert_eq!(retest_outcome(Open, true), None);
        assert!(matches!(retest(Remediating, Open), Err(TransitionError::Illegal { .. })));
    }

    #[test]
    fn risk_acceptance_needs_approver_reason_and_future_expiry() {
        let today = day(TODAY);
        let check = |a: Option<&Acceptance>| check_transition("F-1", Open, RiskAccepted, Mover::Operator, a, today);
        let incomplete = Err(TransitionError::AcceptanceIncomplete { id: "F-1".into() });
        assert_eq!(check(None), incomplete);
        assert_eq!(check(Some(&acceptance(" ", "vendor fix due", "2026-12-31"))), incomplete);
        assert_eq!(check(Some(&acceptance("cfo", "", "2026-12-31"))), incomplete);
        for expires in [TODAY, "2026-01-01"] {
            let err = check(Some(&acceptance("cfo", "vendor fix due", expires))).unwrap_err();
            assert_eq!(err, TransitionError::ExpiryInPast { id: "F-1".into(), expires: day(expires), today });
        }
        assert_eq!(
            check(Some(&acceptance("cfo", "vendor fix due", TODAY))).unwrap_err().to_string(),
            "finding F-1: the acceptance expiry 2026-07-15 is not after today (2026-07-15)"
        );
        assert_eq!(check(Some(&acceptance("cfo", "vendor fix due", "2026-07-16"))), Ok(()));
        // The retest engine never accepts risk, even with a complete acceptance.
        let ok = acceptance("cfo", "vendor fix due", "2026-12-31");
        assert!(check_transition("F-1", Open, RiskAccepted, Mover::Retest, Some(&ok), today).is_err());
    }

    #[test]
    fn an_expired_acceptance_reopens() {
        let today = day(TODAY);
        assert!(!acceptance_expired(RiskAccepted, Some(day("2026-07-16")), today));
        assert!(acceptance_expired(RiskAccepted, Some(today), today));
        assert!(acceptance_expired(RiskAccepted, Some(day("2026-03-31")), today));
        assert!(acceptance_expired(RiskAccepted, None, today));
        assert!(!acceptance_expired(Open, Some(day("2026-03-31")), today));
        assert_eq!(op(RiskAccepted, Open), Ok(()));
    }

    #[test]
    fn overdue_is_computed_from_due_date_and_status() {
        let today = day(TODAY);
        let past = Some(day("2026-07-14"));
        for status in [Open, Remediating, ReadyForRetest] {
            assert!(is_overdue(status, past, today));
            assert!(!is_overdue(status, Some(today), today), "due today is not yet overdue");
            assert!(!is_overdue(status, None, today));
        }
        assert!(!is_overdue(Closed, past, today));
        assert!(!is_overdue(RiskAccepted, past, today));
    }

    #[test]
    fn finding_ids_carry_the_audit_label_and_a_padded_sequence() {
        assert_eq!(finding_id("2026-Q3", 4), "F-2026Q3-004");
        assert_eq!(finding_id("2026-Q3", 1234), "F-2026Q3-1234");
        assert_eq!(finding_id("pre audit/2026 h1", 12), "F-PREAUDIT2026H1-012");
    }

    #[test]
    fn every_status_pair_for_both_movers() {
        #[rustfmt::skip]
        let operator = [
            //                 to: Open   Remed  Ready  Closed RiskAc
            (Open,           [false, true,  false, false, true ]),
            (Remediating,    [true,  false, true,  false, true ]),
            (ReadyForRetest, [false, true,  false, false, true ]),
            (Closed,         [false, false, false, false, false]),
            (RiskAccepted,   [true,  false, false, false, false]),
        ];
        #[rustfmt::skip]
        let retests = [
            (Open,           [true,  false, false, false, false]), // open → open: no-op
            (Remediating,    [false, true,  false, false, false]), // remediating → remediating: no-op
            (ReadyForRetest, [true,  false, false, true,  false]),
            (Closed,         [false, false, false, false, false]),
            (RiskAccepted,   [false, false, false, false, false]),
        ];
        for (mover, table) in [(Mover::Operator, operator), (Mover::Retest, retests)] {
            for (from, row) in table {
                for (&to, expected) in FindingStatus::ALL.iter().zip(row) {
                    let ok = acceptance("cfo", "compensating control", "2026-12-31");
                    let got = check_transition("F-1", from, to, mover, Some(&ok), day(TODAY));
                    assert_eq!(got.is_ok(), expected, "{mover:?}: {from} → {to}: {got:?}");
                    if from != to {
                        assert_eq!(allowed_from(from, mover).contains(&to), expected, "{mover:?}: {from} → {to}");
                    }
                    if let Err(TransitionError::Illegal { allowed, .. }) = got {
                        assert_eq!(allowed, describe(&allowed_from(from, mover)));
                    }
                }
            }
        }
    }
}
