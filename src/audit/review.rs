//! Reviewer sign-off: a second person concludes on a control's finished
//! testing in an audit. The reviewer recorded none of the control's verdicts;
//! a re-review (after more testing) is a new row, and the latest counts.

use std::collections::BTreeMap;

use duckdb::Connection;
use serde_json::json;

use super::AuditError;
use super::record;
use super::verdicts::control_results;
use crate::workspace::action_log;
use crate::workspace::{Workspace, actor};

/// One reviewer's sign-off on one control of an audit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Review {
    pub audit: String,
    pub control: String,
    pub reviewer: String,
    pub conclusion: String,
    /// DuckDB's TIMESTAMP text (UTC), as the other stored times.
    pub reviewed_at: String,
}

/// Records the acting person's sign-off on a control's testing: refused
/// while any sampled row is undecided, and when they recorded any of its
/// verdicts.
pub fn sign(ws: &Workspace, audit: &str, control: &str, conclusion: &str) -> Result<Review, AuditError> {
    sign_as(ws, audit, control, conclusion, &actor())
}

/// [`sign`] by a reviewer named here rather than read from the process's
/// environment: lib tests act as two people without touching the one
/// environment every test thread shares.
fn sign_as(ws: &Workspace, label: &str, control: &str, conclusion: &str, reviewer: &str) -> Result<Review, AuditError> {
    ws.ensure_writable("signing off a review")?;
    let audit = record::open_for_change(ws, label)?;
    if !audit.controls.iter().any(|c| c == control) {
        return Err(AuditError::NotInScope { audit: label.to_string(), control: control.to_string() });
    }
    if conclusion.trim().is_empty() {
        return Err(AuditError::ConclusionNeeded);
    }
    // The same counts the control's result is read from: a review signs off
    // exactly the testing `audit show` reports.
    let outcome = control_results(&ws.conn, &audit)?.into_iter().find(|o| o.control == control);
    let (sampled, undecided) = outcome.map_or((0, 0), |o| (o.sampled, o.undecided));
    if sampled == 0 {
        return Err(AuditError::NothingToReview { audit: label.to_string(), control: control.to_string() });
    }
    if undecided > 0 {
        return Err(AuditError::TestingUnfinished {
            audit: label.to_string(),
            control: control.to_string(),
            undecided,
            sampled,
        });
    }
    // Every verdict counts, not only the latest: whoever decided a row once
    // has tested the control.
    if testers(&ws.conn, label, control)?.iter().any(|t| same_person(t, reviewer)) {
        return Err(AuditError::ReviewerTested {
            reviewer: reviewer.to_string(),
            audit: label.to_string(),
            control: control.to_string(),
        });
    }
    action_log::change(ws, || -> Result<Review, AuditError> {
        let reviewed_at: String = ws.conn.query_row(
            "INSERT INTO qd.reviews VALUES (?, ?, ?, ?, CAST(? AS TIMESTAMP)) RETURNING CAST(reviewed_at AS VARCHAR)",
            duckdb::params![label, control, reviewer, conclusion, ws.now_text()],
            |r| r.get(0),
        )?;
        action_log::append(
            ws,
            "review.sign",
            json!({"audit": label, "control": control, "reviewer": reviewer, "conclusion": conclusion}),
        )?;
        Ok(Review {
            audit: label.to_string(),
            control: control.to_string(),
            reviewer: reviewer.to_string(),
            conclusion: conclusion.to_string(),
            reviewed_at,
        })
    })
}

/// Everyone who recorded a verdict on the control's current samples in the audit.
fn testers(conn: &Connection, audit: &str, control: &str) -> duckdb::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT v.decided_by FROM qd.verdicts v JOIN qd.samples s USING (sample_id)
         WHERE s.audit = ? AND s.control = ? AND s.current ORDER BY 1",
    )?;
    stmt.query_map([audit, control], |r| r.get(0))?.collect()
}

/// Actor names compared as a person would: `Ana@acme.example ` is still Ana.
fn same_person(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Every sign-off of the audit, by control, then in the order they were made.
pub fn list(conn: &Connection, audit: &str) -> duckdb::Result<Vec<Review>> {
    let mut stmt = conn.prepare(
        "SELECT audit, control, reviewer, conclusion, CAST(reviewed_at AS VARCHAR) FROM qd.reviews
         WHERE audit = ? ORDER BY control, reviewed_at, rowid",
    )?;
    stmt.query_map([audit], |r| {
        Ok(Review {
            audit: r.get(0)?,
            control: r.get(1)?,
            reviewer: r.get(2)?,
            conclusion: r.get(3)?,
            reviewed_at: r.get(4)?,
        })
    })?
    .collect()
}

/// The sign-off that counts for each control: the last one in `list`'s order.
pub fn latest_by_control(reviews: &[Review]) -> BTreeMap<String, &Review> {
    let mut latest = BTreeMap::new();
    for review in reviews {
        latest.insert(review.control.clone(), review);
    }
    latest
}

/// The controls, of those given (an audit's scope), that no one has signed
/// off, in the order given.
pub fn unreviewed(controls: &[String], reviews: &[Review]) -> Vec<String> {
    controls.iter().filter(|c| !reviews.iter().any(|r| &r.control == *c)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::audits::{self, Scope};
    use crate::audit::verdicts::{self, Verdict};
    use crate::workspace::mapping::Mappings;
    use crate::workspace::period::Period;

    /// The example workspace with audit 2026-Q3 over CHG-1 and CHG-2; the
    /// one verdict in it (on CHG-2) recorded by this process's actor.
    fn in_audit(dir: &std::path::Path) -> Workspace {
        let ws = crate::workspace::init::init(&dir.join("ws")).unwrap();
        crate::workspace::ingest::ingest_all(&ws).unwrap();
        let period = Period::parse("2026-Q3", ws.config.timezone).unwrap();
        let scope = Scope::Listed(vec!["CHG-1".into(), "CHG-2".into()]);
        audits::start(&ws, &Mappings::load(&ws.root), "2026-Q3", &period, &scope, Some("s".into())).unwrap();
        ws
    }

    fn sampled_keys(ws: &Workspace, control: &str) -> Vec<String> {
        let mut stmt = ws
            .conn
            .prepare(
                "SELECT r.key FROM qd.sample_rows r JOIN qd.samples s USING (sample_id)
                 WHERE s.audit = '2026-Q3' AND s.control = ? AND s.current ORDER BY r.position",
            )
            .unwrap();
        stmt.query_map([control], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    /// Every sampled row of the control decided (pass, with a note for the
    /// rows whose tests failed) by this process's actor.
    fn test_all(ws: &Workspace, control: &str) {
        for key in sampled_keys(ws, control) {
            verdicts::record(ws, "2026-Q3", control, &key, Verdict::Pass, Some("checked by hand")).unwrap();
        }
    }

    /// Someone other than whoever this process acts as.
    fn other_person() -> String {
        format!("reviewer-not-{}", actor())
    }

    fn log_count(ws: &Workspace) -> i64 {
        ws.conn.query_row("SELECT count(*) FROM qd.action_log", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_tester_cannot_review_their_own_control_and_someone_else_can() {
        let dir = tempfile::tempdir().unwrap();
        let ws = in_audit(dir.path());
        test_all(&ws, "CHG-1");
        let before = log_count(&ws);
        let err = sign(&ws, "2026-Q3", "CHG-1", "testing is complete").unwrap_err();
        assert!(matches!(&err, AuditError::ReviewerTested { reviewer, .. } if *reviewer == actor()), "{err}");
        assert!(err.to_string().contains("a tester cannot review their own work"), "{err}");
        // The same person however the name is cased or padded.
        let shouted = format!(" {} ", actor().to_uppercase());
        assert!(matches!(sign_as(&ws, "2026-Q3", "CHG-1", "ok", &shouted), Err(AuditError::ReviewerTested { .. })));
        assert_eq!(log_count(&ws), before, "a refusal writes nothing");

        let reviewer = other_person();
        let review = sign_as(&ws, "2026-Q3", "CHG-1", "testing is complete", &reviewer).unwrap();
        assert_eq!(review.reviewer, reviewer);
        assert_eq!(list(&ws.conn, "2026-Q3").unwrap(), vec![review.clone()]);
        let (action, payload): (String, String) = ws
            .conn
            .query_row("SELECT action, payload FROM qd.action_log ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(action, "review.sign");
        let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(
            payload,
            json!({"audit": "2026-Q3", "control": "CHG-1", "reviewer": reviewer, "conclusion": "testing is complete"})
        );
        assert_eq!(crate::audit::replay::replay(&ws).unwrap(), vec![]);
    }

    #[test]
    fn unfinished_testing_blank_conclusions_and_other_controls_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ws = in_audit(dir.path());
        let reviewer = other_person();
        let keys = sampled_keys(&ws, "CHG-1");
        assert!(keys.len() > 1, "{keys:?}");
        verdicts::record(&ws, "2026-Q3", "CHG-1", &keys[0], Verdict::Pass, Some("seen")).unwrap();
        let err = sign_as(&ws, "2026-Q3", "CHG-1", "fine", &reviewer).unwrap_err();
        let left = keys.len() as u64 - 1;
        assert!(
            matches!(err, AuditError::TestingUnfinished { undecided, sampled, .. }
                if undecided == left && sampled == keys.len() as u64),
            "{err}"
        );
        assert!(err.to_string().contains(&format!("{left} of {} sampled row(s) have no verdict yet", keys.len())));
        test_all(&ws, "CHG-1");
        assert!(matches!(sign_as(&ws, "2026-Q3", "CHG-1", " \n ", &reviewer), Err(AuditError::ConclusionNeeded)));
        assert!(matches!(sign_as(&ws, "2026-Q3", "AC-1", "fine", &reviewer), Err(AuditError::NotInScope { .. })));
        assert!(matches!(sign_as(&ws, "2026-Q9", "CHG-1", "fine", &reviewer), Err(AuditError::UnknownAudit(_))));
        assert!(list(&ws.conn, "2026-Q3").unwrap().is_empty());
        let kind = crate::error::Kind::kind(&AuditError::ConclusionNeeded);
        assert_eq!(kind, crate::error::ErrorKind::BadInput);
    }

    #[test]
    fn a_closed_audit_refuses_a_review() {
        let dir = tempfile::tempdir().unwrap();
        let ws = in_audit(dir.path());
        test_all(&ws, "CHG-1");
        audits::close::close(&ws, "2026-Q3").unwrap();
        let err = sign_as(&ws, "2026-Q3", "CHG-1", "too late", &other_person()).unwrap_err();
        assert!(matches!(err, AuditError::Closed(_)), "{err}");
    }

    #[test]
    fn a_re_review_is_a_new_row_and_the_latest_counts() {
        let dir = tempfile::tempdir().unwrap();
        let ws = in_audit(dir.path());
        test_all(&ws, "CHG-1");
        let first = sign_as(&ws, "2026-Q3", "CHG-1", "first look", "ana@acme.example").unwrap();
        let second = sign_as(&ws, "2026-Q3", "CHG-1", "after more testing", "ben@acme.example").unwrap();
        let reviews = list(&ws.conn, "2026-Q3").unwrap();
        assert_eq!(reviews, vec![first, second.clone()]);
        let latest = latest_by_control(&reviews);
        assert_eq!(latest.len(), 1);
        assert_eq!(latest["CHG-1"], &second);
        let scope = vec!["CHG-1".to_string(), "CHG-2".to_string()];
        assert_eq!(unreviewed(&scope, &reviews), vec!["CHG-2".to_string()]);
        assert_eq!(unreviewed(&scope, &[]), scope);
        assert_eq!(crate::audit::replay::replay(&ws).unwrap(), vec![]);
    }

    #[test]
    fn a_review_edited_or_deleted_behind_the_tools_back_is_reported_by_replay() {
        let dir = tempfile::tempdir().unwrap();
        let ws = in_audit(dir.path());
        test_all(&ws, "CHG-1");
        sign_as(&ws, "2026-Q3", "CHG-1", "testing is complete", "ana@acme.example").unwrap();
        let replayed = |sql: &str| {
            ws.conn.execute_batch(sql).unwrap();
            crate::audit::replay::replay(&ws).unwrap().iter().map(ToString::to_string).collect::<Vec<_>>()
        };
        let edited = replayed("UPDATE qd.reviews SET reviewer = 'mallory'");
        assert_eq!(
            edited,
            [
                "qd.reviews: CHG-1 in 2026-Q3 reviewed by `mallory` (`testing is complete`) is recorded but not in the log",
                "qd.reviews: CHG-1 in 2026-Q3 reviewed by `ana@acme.example` (`testing is complete`) is in the log but not in the table",
            ]
        );
        let deleted = replayed("DELETE FROM qd.reviews");
        assert_eq!(
            deleted,
            [
                "qd.reviews: CHG-1 in 2026-Q3 reviewed by `ana@acme.example` (`testing is complete`) is in the log but not in the table"
            ]
        );
        let added = replayed(
            "INSERT INTO qd.reviews VALUES ('2026-Q3', 'CHG-1', 'ana@acme.example', 'testing is complete', now());
             INSERT INTO qd.reviews VALUES ('2026-Q3', 'CHG-1', 'ana@acme.example', 'testing is complete', now())",
        );
        assert_eq!(
            added,
            [
                "qd.reviews: CHG-1 in 2026-Q3 reviewed by `ana@acme.example` (`testing is complete`) is recorded but not in the log"
            ]
        );
    }
}
