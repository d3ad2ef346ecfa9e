//! The first hour on an 80×24 terminal: every key, finding id and audit
//! label whole on every tab; columns scroll sideways with the key pinned;
//! drill-downs, filters, `[`, Shift-Tab, the palette, help and NO_COLOR.
//! (Included from tests/mod.rs under #[cfg(test)].)

use crossterm::event::KeyCode;
use ratatui::style::Color;

use super::{Harness, find, text_of};
use crate::tui::action::Action;
use crate::tui::effect::Tab;
use crate::tui::overlays::Overlay;
use crate::tui::overlays::form::FormKind;
use crate::workspace::Access;

const W: u16 = 80;
const H: u16 = 24;

/// The keys of the sample rows on screen (the first `n`).
fn sample_keys(h: &Harness, n: usize) -> Vec<String> {
    let sample = h.app.views.evidence.sample.as_ref().expect("a sample");
    sample.rows.iter().take(n).map(|r| r.key.shown()).collect()
}

#[track_caller]
fn assert_whole(screen: &str, texts: &[String]) {
    for text in texts {
        assert!(screen.contains(text.as_str()), "`{text}` is not whole on the 80×24 screen:\n{screen}");
    }
}

/// CHG-1's evidence at 80×24.
fn chg1_evidence() -> Harness {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").keys("2/CHG-1").key(KeyCode::Enter).key(KeyCode::Enter);
    assert_eq!(h.app.tab, Tab::Evidence);
    h
}

#[test]
fn at_80x24_the_sample_shows_every_deploy_key_whole_with_its_period_and_tests() {
    let mut h = chg1_evidence();
    let screen = h.screen(W, H);
    let keys = sample_keys(&h, 12);
    assert!(keys.iter().all(|k| k.starts_with("dep-") && k.len() == 11), "{keys:?}");
    assert_whole(&screen, &keys);
    assert!(screen.contains("deployed_at"), "the period column comes first:\n{screen}");
    assert!(screen.contains("appro…"), "the tests follow it:\n{screen}");
    assert!(screen.contains("more column(s) · h/l"), "{screen}");
    // The record pane shows the whole selected row, wrapped, nothing cut.
    let row = &h.app.views.evidence.sample.as_ref().expect("sample").rows[0];
    let approver = row.row.get("approver").and_then(|v| v.as_str()).expect("an approver").to_string();
    let buffer = h.buffer(W, H);
    let (x0, y0) = find(&buffer, "┌ Record").expect("the record pane");
    // The pane's text, its wrapped lines joined back.
    let record: String = (y0 + 1..H)
        .map(|y| {
            (x0 + 1..W - 1).map(|x| buffer[(x, y)].symbol().to_string()).collect::<String>().trim_end().to_string()
        })
        .collect();
    assert!(record.contains(&approver), "the record shows `{approver}` whole (wrapped):\n{screen}");
    assert!(!screen.contains("dep-000…"), "{screen}");
}

#[test]
fn h_and_l_scroll_the_columns_and_the_key_stays_pinned() {
    let mut h = chg1_evidence();
    let header = |screen: &str| screen.lines().find(|l| l.starts_with("│key ")).unwrap_or_default().to_string();
    let before = h.screen(W, H);
    assert!(header(&before).contains("deployed_at"), "{before}");
    h.keys("l");
    let after = h.screen(W, H);
    assert_eq!(h.app.views.evidence.first_column, 1);
    assert!(!header(&after).contains("deployed_at"), "the first flexible column scrolled away:\n{after}");
    assert!(header(&after).contains("appro…"), "the next one is first now:\n{after}");
    assert_whole(&after, &sample_keys(&h, 10));
    assert!(after.contains("verdict"), "the verdict stays pinned:\n{after}");
    h.keys("h");
    assert!(header(&h.screen(W, H)).contains("deployed_at"));
    h.keys("hhh");
    assert_eq!(h.app.views.evidence.first_column, 0, "never left of the first column");
}

#[test]
fn at_80x24_the_population_and_its_failing_rows_keep_keys_whole() {
    let mut h = chg1_evidence();
    h.keys("e");
    let screen = h.screen(W, H);
    assert!(screen.contains("Failing or inconclusive rows"), "{screen}");
    assert!(screen.contains("dep-0002834"), "{screen}");
    h.keys("a");
    let screen = h.screen(W, H);
    let page = h.app.views.evidence.page.as_ref().expect("a page");
    let keys: Vec<String> = page
        .rows
        .iter()
        .take(10)
        .map(|r| crate::audit::sampling::key::SampleKey::canonical(r.key.clone()).shown())
        .collect();
    assert_whole(&screen, &keys);
}

#[test]
fn at_80x24_findings_audits_sources_controls_and_dashboard_keep_ids_whole() {
    let mut h = Harness::new();
    h.start_audit("2026-Q2", "AC-1,CHG-1").keys("C").keys("y");
    h.start_audit("2026-Q3", "all").keys("2").key(KeyCode::Enter).keys("x");
    h.keys("Sign-in without MFA on a long, long title").key(KeyCode::Enter);
    assert!(h.app.status.as_ref().is_some_and(|s| s.text.contains("F-2026Q3-001 filed")), "{:?}", h.app.status);

    let findings = h.keys("4").screen(W, H);
    assert_whole(&findings, &["F-2026Q3-001".into(), "medium".into()]);

    let audits = h.keys("5").screen(W, H);
    assert_whole(&audits, &["2026-Q2".into(), "2026-Q3".into(), "closed".into(), "fieldwork".into()]);

    let sources = h.keys("6").screen(W, H);
    let names: Vec<String> =
        h.app.overview.as_ref().expect("overview").sources.iter().map(|s| s.name.clone()).collect();
    assert_whole(&sources, &names[..8]);

    let controls = h.keys("2").screen(W, H);
    assert_whole(&controls, &["AC-1".into(), "CHG-1".into(), "GOV-1".into(), "MON-1".into()]);

    let dashboard = h.keys("1").screen(W, H);
    assert_whole(&dashboard, &["2026-Q2".into(), "2026-Q3".into()]);
}

#[test]
fn at_80x24_a_query_keeps_its_first_column_whole() {
    let mut h = Harness::new();
    h.keys("7").keys("SELECT deploy_id, deployed_at, environment, service, approver, deployer FROM deploys ORDER BY 1");
    h.key(KeyCode::Enter);
    let screen = h.screen(W, H);
    assert!(screen.contains("deploy_id"), "{screen}");
    let result = h.app.views.query.result.as_ref().expect("a result");
    let keys: Vec<String> = result.rows.iter().take(5).map(|r| crate::text::cell(&r[0])).collect();
    assert!(keys.iter().all(|k| k.len() == 11), "{keys:?}");
    assert_whole(&screen, &keys);
}

#[test]
fn an_answered_question_shows_key_period_and_approvals_first_at_80x24() {
    let mut h = Harness::new();
    h.keys("7").key(KeyCode::Tab).key(KeyCode::Tab);
    let at = h
        .app
        .overview
        .as_ref()
        .and_then(|o| o.questions.iter().position(|q| q.text.contains("production changes")))
        .expect("the production-changes question");
    for _ in 0..at {
        h.keys("j");
    }
    h.key(KeyCode::Enter);
    let answered = h.app.views.query.answered.as_ref().expect("answered");
    assert_eq!(answered.period_column, "deployed_at");
    assert_eq!(answered.columns[..3], ["deployed_at", "approver", "deployer"], "{:?}", answered.columns);
    let keys: Vec<String> = answered.sample.rows.iter().take(5).map(|r| r.key.shown()).collect();
    let approver = answered.sample.rows[0].row.get("approver").and_then(|v| v.as_str()).unwrap_or("").to_string();
    let screen = h.screen(W, H);
    assert_whole(&screen, &keys);
    for column in ["deployed_at", "appro…", "indep…", "approver"] {
        assert!(screen.contains(column), "`{column}` on screen without scrolling:\n{screen}");
    }
    let shown: String = approver.chars().take(24).collect();
    assert!(screen.contains(&shown), "the approver `{approver}` on screen:\n{screen}");
    assert_eq!(h.app.views.query.focus, crate::tui::views::query::Pane::Results, "j/k move through the answer");
}

#[test]
fn enter_on_an_audit_shows_its_results_and_enter_on_a_control_opens_its_sample() {
    let mut h = Harness::new();
    h.start_audit("2026-Q2", "AC-1,CHG-1").keys("C").keys("y");
    h.start_audit("2026-Q3", "all");
    // The older, closed audit: its own results, then its own sample.
    h.keys("5").keys("k").key(KeyCode::Enter);
    assert_eq!(h.app.views.audits.control, Some(0));
    let screen = h.screen(W, H);
    assert!(screen.contains("enter: its sample"), "{screen}");
    h.keys("j").key(KeyCode::Enter);
    assert_eq!(h.app.tab, Tab::Evidence);
    let evidence = &h.app.views.evidence;
    assert_eq!(evidence.audit.as_deref(), Some("2026-Q2"));
    assert_eq!(evidence.control.as_deref(), Some("CHG-1"));
    let screen = h.screen(W, H);
    assert!(screen.contains("audit 2026-Q2"), "{screen}");
    assert_whole(&screen, &sample_keys(&h, 8));
    // Esc in the results goes back to the list of audits.
    h.keys("5").key(KeyCode::Esc);
    assert_eq!(h.app.views.audits.control, None);
}

#[test]
fn dashboard_panels_are_selected_with_tab_and_enter_opens_their_list() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").keys("1");
    let screen = h.screen(W, H);
    assert!(screen.contains("▶ Controls"), "the selected panel is marked, not only coloured:\n{screen}");
    h.key(KeyCode::Tab);
    assert!(h.screen(W, H).contains("▶ Findings"));
    h.key(KeyCode::Enter);
    assert_eq!(h.app.tab, Tab::Findings);
    h.keys("1").key(KeyCode::Tab).key(KeyCode::Enter);
    assert_eq!(h.app.tab, Tab::Sources);
    // The current audit's panel opens the audit, drilled into its results.
    h.keys("1").keys("j").key(KeyCode::Enter);
    assert_eq!(h.app.tab, Tab::Audits);
    assert_eq!(h.app.views.audits.control, Some(0));
}

#[test]
fn slash_filters_findings_sources_audits_and_evidence_rows_and_esc_clears() {
    let mut h = Harness::new();
    h.keys("6/prov");
    assert!(h.app.typing(), "the filter has the keyboard");
    h.key(KeyCode::Enter);
    let screen = h.screen(W, H);
    assert!(screen.contains("provisioning") && screen.contains("deprovisioning"), "{screen}");
    assert!(!screen.contains("idp_auth_log"), "{screen}");
    assert!(screen.contains("/prov"), "{screen}");
    h.key(KeyCode::Esc);
    assert!(h.screen(W, H).contains("idp_auth_log"));

    h.start_audit("2026-Q2", "AC-1").keys("C").keys("y").start_audit("2026-Q3", "AC-1,CHG-1");
    h.keys("5/closed").key(KeyCode::Enter);
    assert_eq!(h.app.views.audits.shown.len(), 1);
    assert!(!h.screen(W, H).lines().any(|l| l.starts_with("│2026-Q3")), "only the closed audit is listed");
    h.key(KeyCode::Esc);
    assert_eq!(h.app.views.audits.shown.len(), 2);

    h.keys("2/CHG-1").key(KeyCode::Enter).key(KeyCode::Enter);
    let key = sample_keys(&h, 3)[2].clone();
    h.keys("/").keys(&key).key(KeyCode::Enter);
    let shown = h.app.views.evidence.shown.len();
    assert!((1..25).contains(&shown), "{shown} rows match {key}");
    assert_eq!(h.app.views.evidence.selected_key().as_deref(), Some(key.as_str()));
    h.keys("p");
    assert!(h.app.status.as_ref().is_some_and(|s| s.text.contains("pass recorded")), "{:?}", h.app.status);
    h.key(KeyCode::Esc);
    assert_eq!(h.app.views.evidence.shown.len(), 25);
    assert_eq!(h.app.tab, Tab::Evidence, "the first Esc clears the filter, it does not leave");

    h.keys("x");
    h.keys("Unapproved deploy").key(KeyCode::Enter);
    h.keys("4/unapproved").key(KeyCode::Enter);
    assert_eq!(h.app.views.findings.order.len(), 1);
    h.keys("/zzzz").key(KeyCode::Enter);
    assert!(h.app.views.findings.order.is_empty());
    h.key(KeyCode::Esc);
    assert_eq!(h.app.views.findings.order.len(), 1);
}

#[test]
fn shift_tab_goes_to_the_previous_tab() {
    let mut h = Harness::new();
    h.key(KeyCode::BackTab);
    assert_eq!(h.app.tab, Tab::Query);
    // The SQL line has the keyboard: Esc leaves it, then shift-tab switches again.
    h.key(KeyCode::Esc).key(KeyCode::BackTab);
    assert_eq!(h.app.tab, Tab::Sources);
}

/// CHG-1 with a second evidence spec, so that `[` and `]` have somewhere to go.
fn two_specs() -> Harness {
    Harness::with(Access::ReadWrite, |ws| {
        let file = ws.root.join("controls/change.toml");
        let text = std::fs::read_to_string(&file).expect("change.toml");
        let second = "\n[[control.evidence]]\nname = \"staging deploys\"\nsource = \"deploys\"\n\
                      where = \"environment = 'staging'\"\nperiod = \"deployed_at\"\nkey = [\"deploy_id\"]\n\
                      sample = 5\ntests = { approved = \"approver IS NOT NULL\" }\n";
        let at = text.find("[[control]]\nid = \"CHG-2\"").expect("CHG-2 follows CHG-1");
        std::fs::write(&file, format!("{}{second}\n{}", &text[..at], &text[at..])).expect("write");
    })
}

#[test]
fn brackets_step_through_the_specs_both_ways() {
    let mut h = two_specs();
    h.start_audit("2026-Q3", "all").keys("2/CHG-1").key(KeyCode::Enter).key(KeyCode::Enter);
    assert_eq!(h.app.views.evidence.spec.as_deref(), Some("prod deploys"));
    h.keys("]");
    assert_eq!(h.app.views.evidence.spec.as_deref(), Some("staging deploys"));
    h.keys("[");
    assert_eq!(h.app.views.evidence.spec.as_deref(), Some("prod deploys"));
    h.keys("[");
    assert_eq!(h.app.views.evidence.spec.as_deref(), Some("staging deploys"), "[ wraps round to the last");
    assert!(h.screen(W, H).contains("CHG-1 / staging deploys"));
}

#[test]
fn help_is_grouped_by_tab_scrolls_and_names_the_config_file() {
    let mut h = Harness::new();
    h.app.keymap.file = Some(std::path::PathBuf::from("/home/auditor/.config/quarterdeck/keymap.toml"));
    h.keys("?");
    let top = h.screen(W, H);
    assert!(top.contains("Everywhere"), "{top}");
    assert!(top.contains("lines 1-"), "{top}");
    h.keys("j");
    assert!(matches!(h.app.overlay, Some(Overlay::Help(1))));
    assert!(!h.screen(W, H).contains("Everywhere"), "one line down, the heading scrolled away");
    h.keys("k").key(KeyCode::PageDown).key(KeyCode::PageDown).key(KeyCode::PageDown);
    h.keys("G");
    let bottom = h.screen(W, H);
    assert!(bottom.contains("/home/auditor/.config/quarterdeck/keymap.toml"), "{bottom}");
    assert!(bottom.contains("mouse = false"), "{bottom}");
    let text: Vec<String> = crate::tui::overlays::help::lines(&h.app.keymap).iter().map(|l| l.to_string()).collect();
    let at = |heading: &str| text.iter().position(|l| l == heading).unwrap_or_else(|| panic!("{heading}: {text:?}"));
    assert!(at("3 Evidence") < at("4 Findings") && at("4 Findings") < at("5 Audits"));
    let pass = text.iter().position(|l| l.contains("(pass)")).expect("pass");
    assert!(pass > at("3 Evidence") && pass < at("4 Findings"), "pass is an Evidence key");
    h.keys("g");
    assert!(h.screen(W, H).contains("Everywhere"));
    h.key(KeyCode::Esc);
    assert!(h.app.overlay.is_none());
}

#[test]
fn the_palette_lists_commands_with_their_keys_not_motions() {
    let mut h = Harness::new();
    h.keys(":");
    let Some(Overlay::Palette(palette)) = &h.app.overlay else { panic!("palette") };
    let labels: Vec<&str> = palette.items.iter().map(|i| i.label.as_str()).collect();
    assert!(!labels.iter().any(|l| ["Move up", "Move down", "Page up", "Page down"].contains(l)), "{labels:?}");
    let start = palette.items.iter().find(|i| i.label.contains("Start a mock audit")).expect("start");
    assert_eq!(start.keys, "S");
    h.keys("start a mock");
    let screen = h.screen(W, H);
    assert!(screen.contains("Audits: Start a mock audit"), "{screen}");
    let (x, y) = find(&h.buffer(W, H), "Audits: Start a mock audit").expect("shown");
    let row: String = (x..W).map(|x| h.buffer(W, H)[(x, y)].symbol().to_string()).collect();
    assert!(row.trim_end().trim_end_matches('│').trim_end().ends_with(" S"), "the key beside the command: {row:?}");
}

#[test]
fn a_palette_command_from_the_dashboard_switches_to_its_tab_or_says_why_not() {
    let mut h = Harness::new();
    h.keys(":").keys("start a mock").key(KeyCode::Enter);
    assert_eq!(h.app.tab, Tab::Audits);
    assert!(matches!(&h.app.overlay, Some(Overlay::Form(f)) if matches!(f.kind, FormKind::StartAudit)));
    h.key(KeyCode::Esc);
    // A verdict with no audit: never silence.
    h.keys("1").keys(":").keys("verdict: pass").key(KeyCode::Enter);
    assert_eq!(h.app.tab, Tab::Evidence);
    let status = h.app.status.clone().expect("a notice");
    assert!(status.text.contains("audit") || status.text.contains("row"), "{status:?}");
    // Every command, from the Dashboard, does something or says something.
    for action in crate::tui::action::Action::ALL.iter().filter(|a| !a.is_motion() && **a != Action::Quit) {
        h.keys("1");
        h.app.status = None;
        h.app.command(*action);
        h.settle();
        let said = h.app.status.is_some() || h.app.overlay.is_some() || h.app.tab != Tab::Dashboard;
        assert!(said, "{action:?} from the Dashboard did nothing and said nothing");
        h.app.overlay = None;
        if h.app.typing() {
            h.key(KeyCode::Esc);
        }
    }
}

#[test]
fn no_color_draws_without_any_colour_and_meaning_survives() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").keys("2/CHG-1").key(KeyCode::Enter).key(KeyCode::Enter).keys("e");
    h.app.no_color = true;
    let buffer = h.buffer(W, H);
    assert!(buffer.content.iter().all(|c| c.fg == Color::Reset && c.bg == Color::Reset), "no colour at all");
    let screen = text_of(&buffer);
    assert!(screen.contains('✗'), "a failing test is a glyph, not only red:\n{screen}");
    h.keys("4");
    let findings = text_of(&h.buffer(W, H));
    assert!(findings.contains("/ filters"), "{findings}");
}

#[test]
fn lists_scroll_sideways_with_their_names_pinned() {
    let mut h = Harness::new();
    h.keys("6");
    let header = |s: &str| s.lines().find(|l| l.starts_with("│source ")).unwrap_or_default().to_string();
    let before = h.screen(W, H);
    assert!(header(&before).contains("state"), "{before}");
    h.keys("l");
    let after = h.screen(W, H);
    assert!(!header(&after).contains("state") && header(&after).contains("rows"), "{after}");
    assert!(after.contains("idp_auth_log") && after.contains("deprovisioning"), "names stay:\n{after}");
    h.keys("lllllllll");
    assert_eq!(h.app.views.sources.first_column, 5, "never past the last column");
    h.keys("hhhhhhhhhh");
    assert!(header(&h.screen(W, H)).contains("state"));
}

#[test]
fn at_80x24_every_tab_title_is_on_the_tab_bar() {
    let mut h = Harness::new();
    let screen = h.screen(W, H);
    let bar = screen.lines().next().unwrap_or_default();
    for tab in Tab::ALL {
        assert!(bar.contains(&format!("{} {}", tab.index() + 1, tab.title())), "{tab:?} on the bar: {bar:?}");
    }
    // A click lands where the title is drawn.
    let hits = crate::tui::ui::tab_positions(ratatui::layout::Rect::new(0, 0, W, 1));
    let (x0, _, tab) = hits[6];
    assert_eq!(tab, Tab::Query);
    let drawn = bar.chars().skip(x0 as usize).collect::<String>();
    assert!(drawn.starts_with(" 7 Query"), "{drawn:?}");
}

#[test]
fn slash_filters_the_question_library_and_enter_asks_the_match() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all");
    // Query tab, Tab to the results, Tab to the library, then `/`.
    h.keys("7").key(KeyCode::Tab).key(KeyCode::Tab).keys("/");
    assert!(h.app.typing(), "the library's filter has the keyboard");
    h.keys("production changes approvals").key(KeyCode::Enter);
    let shown = h.app.views.query.shown_questions.clone().expect("a filter is set");
    assert!(!shown.is_empty() && shown.len() < 5, "{shown:?}");
    let screen = h.screen(W, H);
    assert!(screen.contains("Show me 10 random production changes from last quarter"), "{screen}");
    assert!(screen.contains("/production changes approvals"), "{screen}");
    assert!(h.app.views.query.input.text.is_empty(), "nothing went to the SQL line");
    h.key(KeyCode::Enter);
    let answered = h.app.views.query.answered.as_ref().expect("the matched question is answered");
    assert_eq!(answered.sample.control, "CHG-1");
    // The answer has the keyboard; Tab is the library again, where Esc
    // clears the filter before anything else.
    h.key(KeyCode::Tab).keys("/zzzz").key(KeyCode::Enter);
    assert_eq!(h.app.views.query.shown_questions.as_ref().map(Vec::len), Some(0));
    h.key(KeyCode::Enter);
    assert!(h.app.status.as_ref().is_some_and(|s| s.text.contains("no question matches")), "{:?}", h.app.status);
    h.key(KeyCode::Esc);
    assert!(h.app.views.query.shown_questions.is_none());
    assert_eq!(h.app.tab, Tab::Query);
}
