//! Every view and overlay: keys in, screen asserted, snapshots in
//! `snapshots/`; colours asserted where they carry meaning.

use crossterm::event::KeyCode;
use ratatui::style::Color;

use super::{Harness, find, text_of};
use crate::tui::effect::Tab;

const W: u16 = 160;
const H: u16 = 45;

#[test]
fn dashboard_before_and_after_the_first_audit() {
    let mut h = Harness::new();
    let before = h.screen(W, H);
    assert!(before.contains("No mock audit yet: press 5, then S"), "{before}");
    assert!(before.contains("26  not in the audit's scope"), "{before}");
    insta::assert_snapshot!("dashboard_empty", before);

    h.start_audit("2026-Q3", "all").keys("1");
    let after = h.screen(W, H);
    assert!(after.contains("2026-Q3 fieldwork — 0 of 401 sampled rows decided"), "{after}");
    assert!(after.contains("24  not tested yet"), "{after}");
    insta::assert_snapshot!("dashboard_in_fieldwork", after);
}

#[test]
fn controls_filter_fuzzily_and_show_the_mapping_with_full_population_results() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").keys("2");
    h.keys("/chg").key(KeyCode::Enter);
    let screen = h.screen(W, H);
    assert!(screen.contains("CHG-1") && screen.contains("CHG-3"), "{screen}");
    assert!(!screen.contains("AC-1 "), "the filter keeps only the CHG controls:\n{screen}");
    assert!(screen.contains("population in 2026-Q3: 815 row(s)"), "{screen}");
    assert!(screen.contains("approved: 814 pass, 1 fail, 0 inconclusive"), "{screen}");
    insta::assert_snapshot!("controls_filtered", screen);

    // A failing full-population test is red.
    let buffer = h.buffer(W, H);
    let (x, y) = find(&buffer, "✗ approved").expect("failing test shown");
    assert_eq!(buffer[(x, y)].fg, Color::Red);

    // Esc in the list clears the filter.
    h.key(KeyCode::Esc);
    assert!(h.screen(W, H).contains("AC-1"));
}

#[test]
fn evidence_shows_the_frozen_sample_and_its_failing_rows() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").keys("2/CHG-1").key(KeyCode::Enter).key(KeyCode::Enter);
    assert_eq!(h.app.tab, Tab::Evidence);
    let screen = h.screen(W, H);
    assert!(screen.contains("CHG-1 / prod deploys"), "{screen}");
    assert!(screen.contains("population 815 row(s) · sample 25"), "{screen}");
    assert!(screen.contains("Sample (frozen)"), "{screen}");
    insta::assert_snapshot!("evidence_sample", screen);

    // e: the population's failing or inconclusive rows, with the red ✗.
    h.keys("e");
    let buffer = h.buffer(W, H);
    let screen = text_of(&buffer);
    assert!(screen.contains("Failing or inconclusive rows"), "{screen}");
    assert!(screen.contains("dep-0002834"), "{screen}");
    insta::assert_snapshot!("evidence_failing_rows", screen);
    // The table's row (the record pane names the key too, one line higher).
    let (x, y) = find(&buffer, "│dep-0002834").map(|(x, y)| (x + 1, y)).expect("row");
    let row: String = (x..W).map(|x| buffer[(x, y)].symbol().to_string()).collect();
    let cross = row.find('✗').expect("a failing test glyph");
    let cross_x = x + row[..cross].chars().count() as u16;
    assert_eq!(buffer[(cross_x, y)].fg, Color::Red);
    let question = row.find('?').expect("an inconclusive test glyph");
    assert_eq!(buffer[(x + row[..question].chars().count() as u16, y)].fg, Color::Yellow);

    // Verdicts are for sampled rows only.
    h.keys("p");
    assert!(h.app.status.as_ref().is_some_and(|s| s.error && s.text.contains("sampled rows")));
    h.keys("s");
    assert!(h.screen(W, H).contains("Sample (frozen)"));
}

#[test]
fn findings_are_grouped_by_status_with_overdue_in_red_and_history() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").keys("2").key(KeyCode::Enter);
    // File a finding due yesterday (the harness's today is 2026-11-26).
    h.keys("x");
    h.keys("Sign-in without MFA").key(KeyCode::Tab).key(KeyCode::Right).key(KeyCode::Tab);
    h.key(KeyCode::Tab).ctrl('u').keys("2026-11-25").key(KeyCode::Enter);
    assert!(h.app.status.as_ref().is_some_and(|s| s.text.contains("F-2026Q3-001 filed")), "{:?}", h.app.status);
    h.keys("4");
    let buffer = h.buffer(W, H);
    let screen = text_of(&buffer);
    assert!(screen.lines().any(|l| l.starts_with("│open ") && l.contains("(1)")), "{screen}");
    assert!(screen.contains("F-2026Q3-001") && screen.contains("high"), "{screen}");
    assert!(screen.contains("2026-11-25 overdue"), "{screen}");
    assert!(screen.contains("— → open"), "history shows the opening event:\n{screen}");
    let (x, y) = find(&buffer, "2026-11-25 overdue").expect("due");
    assert_eq!(buffer[(x, y)].fg, Color::Red);
    let (x, y) = find(&buffer, "high").expect("severity");
    assert_eq!(buffer[(x, y)].fg, Color::Red);

    // The edit form offers only the transitions the lifecycle allows.
    h.keys("E");
    let screen = h.screen(W, H);
    assert!(screen.contains("Edit F-2026Q3-001 — now open"), "{screen}");
    h.key(KeyCode::Right);
    assert!(h.screen(W, H).contains("‹ remediating ›"));
    h.key(KeyCode::Right);
    assert!(h.screen(W, H).contains("‹ risk-accepted ›"));
    h.key(KeyCode::Right);
    assert!(h.screen(W, H).contains("‹ (unchanged) ›"), "closed is never offered to an operator");
    h.key(KeyCode::Right).key(KeyCode::Enter);
    assert!(h.app.status.as_ref().is_some_and(|s| s.text.contains("is remediating")), "{:?}", h.app.status);
    let screen = h.screen(W, H);
    assert!(screen.lines().any(|l| l.starts_with("│remediating ") && l.contains("(1)")), "{screen}");
    assert!(screen.contains("open → remediating"), "{screen}");
    // The history's times come from the wall clock, the age too, and the
    // actor (with the padding after it) from the account running the tests.
    insta::with_settings!({filters => vec![(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} \S+ ([^│]*?) *│", "[at] [actor] $1│")]}, {
        insta::assert_snapshot!("findings", screen.replace(&age_of(&h), "AGE"));
    });
}

/// The age column of the first finding, which depends on the wall clock.
fn age_of(h: &Harness) -> String {
    let overview = h.app.overview.as_ref().expect("overview");
    let f = &overview.findings[0];
    format!("{}d", (overview.now - f.created_at).num_days())
}

#[test]
fn audits_compare_with_the_previous_quarter_and_close_after_confirming() {
    let mut h = Harness::new();
    h.start_audit("2026-Q2", "AC-1,CHG-1");
    h.keys("C");
    let screen = h.screen(W, H);
    assert!(screen.contains("Close 2026-Q2?"), "{screen}");
    insta::assert_snapshot!("confirm_close", screen);
    // n (bound to "note" elsewhere) answers no here.
    h.keys("n");
    assert!(h.app.overlay.is_none());
    assert!(h.app.status.as_ref().is_some_and(|s| s.text == "cancelled"), "{:?}", h.app.status);
    h.keys("C");
    h.keys("y");
    assert!(h.app.status.as_ref().is_some_and(|s| s.text.contains("2026-Q2 closed")), "{:?}", h.app.status);
    h.start_audit("2026-Q3", "AC-1,CHG-1");
    let screen = h.screen(W, H);
    assert!(screen.contains("2026-Q2 closed"), "{screen}");
    assert!(screen.contains("previous — in 2026-Q2"), "{screen}");
    insta::assert_snapshot!("audits", screen);
    // A closed audit cannot be closed again.
    h.keys("k").keys("C");
    assert!(h.app.status.as_ref().is_some_and(|s| s.error && s.text.contains("already closed")));
}

#[test]
fn sources_show_freshness_and_mark_coverage_gaps() {
    let mut h = Harness::new();
    h.keys("6");
    let screen = h.screen(W, H);
    assert!(screen.contains("idp_auth_log") && screen.contains("fresh"), "{screen}");
    assert!(screen.contains("Rows per day in 2026-Q3"), "{screen}");
    // The last runs finished when the test ingested.
    insta::with_settings!({filters => vec![(r"#(\d+) ok \d{4}-\d{2}-\d{2} \d{2}:\d{2}", "#$1 ok [finished]")]}, {
        insta::assert_snapshot!("sources", screen);
    });
    // Walk down to a source with a planted gap: the marks and the ranges show.
    let mut found = false;
    for _ in 0..12 {
        let screen = h.screen(W, H);
        if screen.contains("day(s) without rows ▲") {
            found = true;
            let buffer = h.buffer(W, H);
            let (x, y) = find(&buffer, "▲").expect("gap mark");
            assert_eq!(buffer[(x, y)].fg, Color::Red);
            break;
        }
        h.keys("j");
    }
    assert!(found, "the demo plants coverage gaps in the last full quarter");
}

#[test]
fn query_console_runs_one_select_and_refuses_writes() {
    let mut h = Harness::new();
    h.keys("7").keys("SELECT environment, count(*) AS n FROM deploys GROUP BY ALL ORDER BY 1").key(KeyCode::Enter);
    let screen = h.screen(W, H);
    assert!(screen.contains("2 row(s)") && screen.contains("production"), "{screen}");
    insta::assert_snapshot!("query", screen);
    h.ctrl('u').keys("DELETE FROM deploys").key(KeyCode::Enter);
    let screen = h.screen(W, H);
    assert!(screen.contains("Refused"), "{screen}");
    h.ctrl('u').keys("SELECT count(*) FROM deploys").key(KeyCode::Enter);
    assert!(h.screen(W, H).contains("4000"), "nothing was deleted");
    // q types into the field; Esc leaves it; then q quits.
    h.keys("q");
    assert!(!h.app.quit);
    h.key(KeyCode::Esc).keys("q");
    assert!(h.app.quit);
}

#[test]
fn question_library_answers_with_a_frozen_sample_and_tracks_the_request() {
    let mut h = Harness::new();
    h.keys("7").key(KeyCode::Tab).key(KeyCode::Tab);
    h.keys("jjjjjj").key(KeyCode::Enter);
    let status = h.app.status.clone().expect("status");
    assert!(status.text.starts_with("request #1 tracked: CHG-1"), "{status:?}");
    let screen = h.screen(W, H);
    assert!(screen.contains("Request #1"), "{screen}");
}

#[test]
fn a_question_library_that_cannot_be_read_is_named_in_the_query_tab() {
    let mut h = Harness::with(crate::workspace::Access::ReadWrite, |ws| {
        std::fs::write(ws.root.join("questions.toml"), "[[question]]\ntext = 3\n").expect("write");
    });
    h.keys("7");
    let screen = h.screen(W, H);
    assert!(screen.contains("cannot be read: "), "{screen}");
    assert!(screen.contains("questions.toml:2:"), "{screen}");
    // Enter on the library asks nothing.
    h.key(KeyCode::Tab).key(KeyCode::Tab).key(KeyCode::Enter);
    assert!(h.app.writes.is_empty() && h.app.outbox.is_empty());
}

#[test]
fn palette_reaches_actions_controls_sources_and_questions() {
    let mut h = Harness::new();
    h.keys(":");
    assert!(h.app.typing());
    h.keys("idp_auth");
    let screen = h.screen(W, H);
    assert!(screen.contains("source    idp_auth_log"), "{screen}");
    insta::assert_snapshot!("palette", screen);
    h.key(KeyCode::Enter);
    assert_eq!(h.app.tab, Tab::Sources);
    // Ctrl-K opens it too; an action runs from it.
    h.ctrl('k').keys("mock audits by").key(KeyCode::Enter);
    assert_eq!(h.app.tab, Tab::Audits);
    h.ctrl('k').key(KeyCode::Esc);
    assert!(h.app.overlay.is_none());
}

#[test]
fn help_is_generated_from_the_live_keymap() {
    let mut h = Harness::new();
    h.app.keymap.overlay("keymap.toml", "[keys]\n\"ctrl-p\" = \"palette\"\n\"P\" = \"pass\"\n").expect("keymap");
    h.keys("?");
    let screen = h.screen(W, H);
    assert!(screen.contains(": ctrl-k ctrl-p  Command palette"), "{screen}");
    assert!(screen.contains("P p  Verdict: pass"), "{screen}");
    insta::assert_snapshot!("help", screen);
    h.key(KeyCode::Esc);
    assert!(h.app.overlay.is_none());
}

#[test]
fn criteria_show_their_controls_and_flag_unmapped_ones() {
    let mut h = Harness::new();
    h.keys("2").key(KeyCode::Tab);
    let screen = h.screen(W, H);
    assert!(screen.contains("Criteria — enter: its controls"), "{screen}");
    assert!(screen.contains("unmapped"), "{screen}");
    insta::assert_snapshot!("criteria", screen);
    let buffer = h.buffer(W, H);
    let (x, y) = find(&buffer, "unmapped").expect("an unmapped criterion");
    assert_eq!(buffer[(x, y)].fg, Color::Yellow);
    // Walk to CC8.1 and show its controls.
    let at = h.app.overview.as_ref().expect("overview").catalog.criteria.iter().position(|c| c.id == "CC8.1");
    for _ in 0..at.expect("CC8.1 in the catalog") {
        h.keys("j");
    }
    h.key(KeyCode::Enter);
    let screen = h.screen(W, H);
    assert!(screen.contains("criterion CC8.1"), "{screen}");
    assert!(screen.contains("CHG-1") && screen.contains("CHG-3") && !screen.contains("AC-1 "), "{screen}");
    h.key(KeyCode::Esc);
    assert!(h.screen(W, H).contains("AC-1"));
}

#[test]
fn the_finding_form_is_prefilled_from_the_evidence_row() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").keys("2").key(KeyCode::Enter).keys("x");
    let screen = h.screen(W, H);
    assert!(screen.contains("New finding — AC-1 in 2026-Q3, row auth-"), "{screen}");
    assert!(screen.contains("Owner: it@northwind.example"), "{screen}");
    assert!(screen.contains("Due (YYYY-MM-DD): 2026-12-26"), "{screen}");
    insta::assert_snapshot!("finding_form", screen);
    // A field-level problem is named, and nothing is filed.
    h.key(KeyCode::Enter);
    let screen = h.screen(W, H);
    assert!(screen.contains("Title: a finding needs a title"), "{screen}");
    assert!(h.app.overview.as_ref().is_some_and(|o| o.findings.is_empty()));
    h.key(KeyCode::Esc);
    assert!(h.app.overlay.is_none());
}

#[test]
fn cancelling_the_form_after_x_says_the_exception_stands_without_a_finding() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").keys("2").key(KeyCode::Enter).keys("x");
    let Some(crate::tui::overlays::Overlay::Form(form)) = &h.app.overlay else { panic!("x opens the finding form") };
    assert_eq!(form.fields[form.focus].label, "Title", "the form starts on its first empty required field");
    h.key(KeyCode::Esc);
    assert!(h.app.overlay.is_none());
    let status = h.app.status.clone().expect("a status");
    assert!(status.text.contains("exception recorded without a finding"), "{status:?}");
    assert!(h.screen(W, H).contains("exception recorded without a finding"));
    // The exception is there, and no finding.
    let o = h.app.overview.as_ref().expect("overview");
    assert!(o.findings.is_empty());
    assert_eq!(o.current_audit().map(|a| a.exceptions), Some(1));
}

#[test]
fn hostile_mapping_text_and_audit_labels_reach_every_tab_only_as_text() {
    const HOSTILE: &str = "x\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}\u{200f}\u{61c}y";
    let mut h = Harness::with(crate::workspace::Access::ReadWrite, |ws| {
        let control = format!(
            "[[control]]\nid = \"ZZ-1\"\ntitle = \"{t}\"\ncriteria = [\"CC8.1\"]\nowner = \"{t}\"\nfrequency = \"daily\"\n\
             practice = \"{t}\"\n\n[[control.evidence]]\nname = \"{t}\"\nsource = \"deploys\"\nsample = 2\n\
             tests = {{ \"ok{t}\" = \"approver IS NOT NULL\" }}\n",
            t = toml_escaped(HOSTILE)
        );
        std::fs::write(ws.root.join("controls/zz-hostile.toml"), control).expect("write the mapping");
    });
    h.start_audit(&format!("Q{HOSTILE}"), "ZZ-1");
    let controls = h.keys("2").screen(W, H);
    assert!(
        controls.contains("ZZ-1") && controls.contains("x\\e]0;pwned"),
        "the hostile mapping is shown, as text:\n{controls}"
    );
    for tab in ["1", "2", "3", "4", "5", "6", "7"] {
        h.keys(tab);
        let buffer = h.buffer(W, H);
        for cell in buffer.content.iter() {
            assert!(!cell.symbol().chars().any(crate::text::is_unsafe), "tab {tab}: {:?}", cell.symbol());
        }
    }
}

/// TOML basic-string escapes (`\uXXXX`) for everything but printable ASCII.
fn toml_escaped(text: &str) -> String {
    text.chars()
        .map(
            |c| {
                if c.is_ascii_graphic() && c != '"' && c != '\\' {
                    c.to_string()
                } else {
                    format!("\\u{:04X}", c as u32)
                }
            },
        )
        .collect()
}

#[test]
fn the_inventory_pane_highlights_drift_shows_coverage_and_files_a_finding_naming_the_system() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all");
    // The dashboard's schedule panel: the drift and the audit's missed slots.
    let dashboard = h.keys("1").screen(W, H);
    assert!(dashboard.contains("3  drift in 2026-Q3: 1 unknown · 1 retired-but-active · 1 uncovered"), "{dashboard}");
    assert!(
        dashboard.contains("2  expected occurrence(s) missed in 2026-Q3: AC-4 2026-Q3 | snowflake · OPS-1 2026-W36"),
        "{dashboard}"
    );
    insta::assert_snapshot!("dashboard_schedule", dashboard);

    // Sources, then tab: the inventory pane on its drift.
    h.keys("6").key(KeyCode::Tab);
    let screen = h.screen(W, H);
    assert!(screen.contains("Drift in 2026-Q3 — 3 line(s)"), "{screen}");
    for line in ["unknown", "ledger-sync", "retired-but-active", "zoom", "uncovered", "snowflake"] {
        assert!(screen.contains(line), "{line}:\n{screen}");
    }
    assert!(screen.contains("Systems × controls in 2026-Q3"), "{screen}");
    assert!(screen.contains("not in the inventory"), "the unknown service is a row of the matrix:\n{screen}");
    insta::assert_snapshot!("systems", screen);
    // Drift is red: the colour says it, and the word beside it too.
    let buffer = h.buffer(W, H);
    let (x, y) = find(&buffer, "retired-but-active").expect("drift line");
    assert_eq!(buffer[(x, y)].fg, Color::Red);
    // The uncovered cell of the matrix (snowflake under AC-4): ✗ 0, red.
    let (x, y) = find(&buffer, "✗ 0  ·").expect("an uncovered cell");
    assert_eq!(buffer[(x, y)].fg, Color::Red);

    // N on the first drift line (the unknown service) files a finding naming it.
    h.keys("N");
    let Some(crate::tui::overlays::Overlay::Form(form)) = &h.app.overlay else { panic!("N opens the finding form") };
    assert!(form.title.contains("CHG-1 in 2026-Q3, system ledger-sync"), "{}", form.title);
    h.key(KeyCode::Enter);
    assert!(h.app.overlay.is_none(), "{:?}", h.app.status);
    let filed = h.app.overview.as_ref().and_then(|o| o.findings.last().cloned()).expect("a finding");
    assert_eq!(filed.system.as_deref(), Some("ledger-sync"));
    assert_eq!(filed.control, "CHG-1");
    assert!(filed.title.starts_with("Ledger-sync is in deploys"), "{}", filed.title);

    // The third line (snowflake uncovered by AC-4) files on AC-4.
    h.keys("jjN");
    let Some(crate::tui::overlays::Overlay::Form(form)) = &h.app.overlay else { panic!("N opens the finding form") };
    assert!(form.title.contains("AC-4 in 2026-Q3, system snowflake"), "{}", form.title);
    h.key(KeyCode::Enter);
    let filed = h.app.overview.as_ref().and_then(|o| o.findings.last().cloned()).expect("a finding");
    assert_eq!((filed.control.as_str(), filed.system.as_deref()), ("AC-4", Some("snowflake")));

    // The second line (zoom, retired but signing in) files on the control whose evidence showed it.
    h.keys("kN").key(KeyCode::Enter);
    let filed = h.app.overview.as_ref().and_then(|o| o.findings.last().cloned()).expect("a finding");
    assert_eq!((filed.control.as_str(), filed.system.as_deref()), ("AC-1", Some("zoom")), "{:?}", h.app.status);

    // A missed occurrence: the finding form of the Findings tab takes its slot.
    h.keys("4N");
    h.key(KeyCode::BackTab).ctrl('u').keys("OPS-1").key(KeyCode::Tab);
    h.keys("No vulnerability scan in 2026-W36");
    for _ in 0..5 {
        h.key(KeyCode::Tab);
    }
    h.keys("2026-W36").key(KeyCode::Enter);
    assert!(h.app.overlay.is_none(), "{:?}", h.app.status);
    let filed = h.app.overview.as_ref().and_then(|o| o.findings.last().cloned()).expect("a finding");
    assert_eq!((filed.control.as_str(), filed.slot.as_deref()), ("OPS-1", Some("2026-W36")));

    // The Controls view shows AC-4's calendar beside its tests, the missed slot named.
    h.keys("2/AC-4").key(KeyCode::Enter);
    let screen = h.screen(W, H);
    assert!(screen.contains("expect quarterly per system:"), "{screen}");
    assert!(screen.contains("7 met, 1 missed, 0 due — missed 2026-Q3 |"), "{screen}");
    h.key(KeyCode::Esc).keys("6");

    // Tab to the matrix, then back to the sources list.
    h.key(KeyCode::Tab);
    assert_eq!(h.app.views.sources.systems.focus, crate::tui::views::systems::Focus::Matrix);
    h.key(KeyCode::Tab);
    assert!(h.screen(W, H).contains("Rows per day in 2026-Q3"), "back on the sources");
}
