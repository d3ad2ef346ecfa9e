//! App-level flows driven by Actions headless, and the behaviours that must
//! hold everywhere: read-only, every terminal size, untrusted text, stale
//! replies, the mouse, paging a population end to end.

use crossterm::event::{KeyCode, MouseButton, MouseEvent, MouseEventKind};

use super::{Harness, draw, text_of};
use crate::audit::browse::Filter;
use crate::audit::sampling::key::SampleKey;
use crate::audit::verdicts::Verdict;
use crate::tui::action::Action;
use crate::tui::effect::Tab;
use crate::tui::messages::{Envelope, Reply, Request};
use crate::tui::overlays::Overlay;
use crate::tui::views::evidence::Mode;
use crate::workspace::Access;

#[test]
fn a_whole_mock_audit_from_the_ui_alone() {
    let mut h = Harness::new();
    // Start, through the audits tab's form.
    h.act(Action::ShowAudits).act(Action::StartAudit);
    assert!(matches!(h.app.overlay, Some(Overlay::Form(_))));
    h.ctrl('u').keys("2026-Q3").key(KeyCode::Enter);
    let current = h.app.overview.as_ref().and_then(|o| o.current_audit()).expect("audit started");
    assert_eq!(current.audit.label, "2026-Q3");
    assert_eq!(current.sampled, 401);

    // Drill from the controls into AC-1's frozen sample.
    h.act(Action::ShowControls).act(Action::Select);
    assert_eq!(h.app.tab, Tab::Evidence);
    let sample = h.app.views.evidence.sample.clone().expect("sample");
    assert_eq!(sample.control, "AC-1");

    // Pass the first row, mark the second an exception and file its finding.
    h.act(Action::Pass).act(Action::Down).act(Action::Exception);
    let Some(Overlay::Form(form)) = &h.app.overlay else { panic!("the exception opens the finding form") };
    assert!(form.title.contains("AC-1 in 2026-Q3, row"), "{}", form.title);
    // The form opens on its first empty required field, the title.
    h.keys("MFA not enforced for one sign-in").key(KeyCode::Enter);
    assert!(h.app.overlay.is_none(), "{:?}", h.app.status);

    // Note on the first row (already passed): re-recorded with the note.
    h.act(Action::Top).act(Action::Note);
    assert!(h.app.typing());
    h.keys("checked in the IdP console").key(KeyCode::Enter);
    let sample = h.app.views.evidence.sample.clone().expect("sample");
    assert_eq!(sample.rows[0].verdict, Some(Verdict::Pass));
    assert_eq!(sample.rows[0].note.as_deref(), Some("checked in the IdP console"), "{:?}", h.app.status);
    assert_eq!(sample.rows[1].verdict, Some(Verdict::Exception));

    // The dashboard shows the exception, the finding and the progress.
    h.act(Action::ShowDashboard);
    let screen = h.screen(160, 45);
    assert!(screen.contains("3  exceptions noted"), "{screen}");
    assert!(screen.contains("Findings — 1 active"), "{screen}");
    assert!(screen.contains("2 of 401 sampled rows decided, 1 exception(s)"), "{screen}");
}

#[test]
fn read_only_says_so_and_no_key_writes() {
    let mut h = Harness::with(Access::ReadOnly, |ws| {
        let mappings = crate::workspace::mapping::Mappings::load(&ws.root);
        let period = crate::workspace::period::Period::parse("2026-Q3", ws.config.timezone).expect("period");
        crate::audit::audits::start(ws, &mappings, "2026-Q3", &period, &crate::audit::audits::Scope::All, None)
            .expect("audit");
    });
    assert!(h.app.read_only);
    let screen = h.screen(160, 45);
    assert!(screen.contains("READ-ONLY"), "{screen}");
    // The frozen samples are there to read.
    h.keys("3");
    assert!(h.screen(160, 45).contains("Sample (frozen)"));
    for keys in ["p", "x", "n", "3A", "5S", "5C", "6I", "4N"] {
        h.keys(keys);
        assert!(h.app.overlay.is_none(), "{keys} opened a form in read-only mode");
        assert!(h.app.status.as_ref().is_some_and(|s| s.error && s.text.contains("read-only")));
        assert!(h.app.outbox.is_empty());
    }
    // The question library would track a request: refused too.
    h.keys("7").key(KeyCode::Esc).key(KeyCode::Tab).key(KeyCode::Enter);
    assert!(h.app.status.as_ref().is_some_and(|s| s.error && s.text.contains("read-only")), "{:?}", h.app.status);
}

#[test]
fn every_size_renders_and_small_ones_say_so() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").keys("2").key(KeyCode::Enter);
    let sizes = [(1, 1), (2, 1), (1, 30), (10, 3), (59, 14), (60, 15), (80, 24), (120, 40), (200, 50), (500, 200)];
    for tab in Tab::ALL {
        h.app.tab = tab;
        for overlay in [None, Some(Action::Help), Some(Action::Palette)] {
            h.app.overlay = None;
            if let Some(action) = overlay {
                h.app.act(action);
            }
            for (w, h_) in sizes {
                let screen = text_of(&draw(&mut h.app, w, h_));
                if w < 60 || h_ < 15 {
                    assert!(screen.replace('\n', "").starts_with("Termin") || w < 6, "{w}×{h_}: {screen}");
                }
            }
        }
    }
    h.app.overlay = None;
    let screen = text_of(&draw(&mut h.app, 40, 10));
    assert!(screen.replace('\n', "").contains("Terminal too small: 40×10"), "{screen}");
}

#[test]
fn untrusted_text_never_reaches_the_terminal() {
    let mut h = Harness::new();
    let hostile = "SELECT 'ok' || chr(27) || '[2J' || chr(27) || ']0;pwned' || chr(7) || chr(155) || '31m' \
                   || chr(8238) || 'evil' || chr(8294) AS evil, repeat('日本語テキスト', 9) AS wide";
    h.keys("7").keys(hostile).key(KeyCode::Enter);
    let buffer = h.buffer(120, 30);
    let screen = text_of(&buffer);
    assert!(screen.contains("ok\\e[2J\\e]0;pwned\\u{7}\\u{9b}"), "{screen}");
    // The wide text is cut whole characters at a time, with an ellipsis.
    let line = screen.lines().find(|l| l.contains("日")).expect("the wide column");
    assert!(line.contains('…'), "{line}");
    for cell in buffer.content() {
        for c in cell.symbol().chars() {
            assert!(!c.is_control(), "control character {c:?} reached a cell");
            assert!(!('\u{202a}'..='\u{202e}').contains(&c) && !('\u{2066}'..='\u{2069}').contains(&c));
        }
    }
}

#[test]
fn stale_replies_are_dropped_and_the_latest_wins() {
    let mut h = Harness::new();
    h.keys("2");
    h.app.views.controls.detail = None;
    // Two detail requests in flight; the older one's reply must not land.
    h.app.send(Request::ControlDetail { control: "AC-1".into() });
    let first = h.app.outbox.pop().expect("queued");
    h.app.send(Request::ControlDetail { control: "AC-2".into() });
    let stale = Envelope {
        id: first.0,
        track: first.1.track(),
        result: Ok(Reply::ControlDetail { control: "AC-1".into(), specs: Vec::new() }),
    };
    h.app.on_reply(stale);
    assert!(h.app.views.controls.detail.is_none(), "a superseded reply was applied");
    assert!(h.app.busy(), "the newer request is still in flight");
    h.settle();
    assert_eq!(h.app.views.controls.detail.as_ref().map(|(id, _)| id.as_str()), Some("AC-2"));
    assert!(!h.app.busy());
}

#[test]
fn the_mouse_switches_tabs() {
    let mut h = Harness::new();
    let _ = h.screen(160, 45);
    h.app.tab_hits = crate::tui::ui::tab_positions(ratatui::layout::Rect::new(0, 0, 160, 1))
        .into_iter()
        .map(|(x0, x1, tab)| (x0, x1, 0, tab))
        .collect();
    let (x0, _, _, _) = h.app.tab_hits[5];
    h.app.on_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x0 + 2,
        row: 0,
        modifiers: crossterm::event::KeyModifiers::NONE,
    });
    h.settle();
    assert_eq!(h.app.tab, Tab::Sources);
}

#[test]
fn the_population_pages_by_keyset_through_every_row_and_back() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").keys("2/CHG-1").key(KeyCode::Enter).key(KeyCode::Enter).keys("a");
    assert_eq!(h.app.views.evidence.mode, Mode::Population(Filter::All));
    let count = h.app.views.evidence.sample.as_ref().expect("sample").population_count as usize;
    let mut keys = Vec::new();
    loop {
        let page = h.app.views.evidence.page.clone().expect("page");
        keys.extend(page.rows.iter().map(|r| r.key.clone()));
        if page.at_end {
            break;
        }
        let first = page.rows[0].key.clone();
        let mut presses = 0;
        while h.app.views.evidence.page.as_ref().and_then(|p| p.rows.first()).map(|r| &r.key) == Some(&first) {
            h.act(Action::PageDown);
            presses += 1;
            assert!(presses < 50, "PageDown never reached the next page");
        }
    }
    assert_eq!(keys.len(), count, "every row of the population once");
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), count);
    // Up from the first row of a page brings the previous page, ending on its last row.
    h.act(Action::Top);
    h.act(Action::Bottom);
    assert!(h.app.views.evidence.page.as_ref().is_some_and(|p| p.at_end));
    let last_page = h.app.views.evidence.page.clone().expect("page");
    h.app.views.evidence.selected = 0;
    h.act(Action::Up);
    let previous = h.app.views.evidence.page.clone().expect("page");
    assert_eq!(h.app.views.evidence.selected, previous.rows.len() - 1);
    let before = &keys[keys.len() - last_page.rows.len() - previous.rows.len()..keys.len() - last_page.rows.len()];
    let got: Vec<String> = previous.rows.iter().map(|r| r.key.clone()).collect();
    assert_eq!(got, before, "the page before the last, in order");
}

#[test]
fn long_work_shows_a_spinner_its_progress_and_its_time() {
    let mut h = Harness::new();
    h.app.send(Request::Ingest { source: "deploys".into() });
    let id = h.app.outbox.last().expect("queued").0;
    if let Some(work) = h.app.writes.get_mut(&id) {
        work.since -= std::time::Duration::from_secs(3);
    }
    h.app.progress = Some(42.4);
    let screen = h.screen(160, 45);
    let status = screen.lines().last().expect("status line");
    assert!(status.contains("ingesting deploys… 42% · 3 s"), "{status}");
    h.settle();
    assert!(h.app.progress.is_none() && !h.app.busy());
    assert!(h.screen(160, 45).lines().last().is_some_and(|l| l.contains("deploys:")), "the result shows");
}

#[test]
fn the_query_console_changes_nothing_even_through_a_select() {
    let mut h = Harness::new();
    h.keys("7").keys("SELECT nextval('qd.request_seq') AS n").key(KeyCode::Enter);
    let screen = h.screen(160, 45);
    assert!(screen.contains("function `nextval` is refused in read-only queries"), "{screen}");
    h.key(KeyCode::Esc).key(KeyCode::Tab).key(KeyCode::Enter);
    let status = h.app.status.clone().expect("status");
    assert!(status.text.starts_with("request #1 tracked"), "{status:?}");
}

#[test]
fn evidence_follows_the_current_audit_and_a_filter_starts_afresh() {
    let mut h = Harness::new();
    h.start_audit("2026-Q2", "AC-1,CHG-1").keys("2/chg").key(KeyCode::Enter).key(KeyCode::Enter);
    assert_eq!(h.app.views.evidence.audit.as_deref(), Some("2026-Q2"));
    assert_eq!(h.app.views.evidence.control.as_deref(), Some("CHG-1"));
    h.keys("5C").keys("y");
    h.start_audit("2026-Q3", "AC-1,CHG-1");
    assert_eq!(h.app.views.evidence.audit.as_deref(), Some("2026-Q3"), "the evidence moved to the new audit");
    assert_eq!(h.app.views.evidence.sample.as_ref().map(|s| s.period.label.as_str()), Some("2026-Q3"));
    // `/` again: the old filter text is gone.
    h.keys("2/ac-1").key(KeyCode::Enter);
    assert_eq!(h.app.views.controls.filter.text, "ac-1");
    let first = h.app.views.controls.shown.first().copied().expect("a match");
    assert_eq!(h.app.overview.as_ref().expect("overview").controls[first].id, "AC-1", "the best match first");
}

#[test]
fn the_console_refuses_writes_hidden_in_a_cte_in_either_mode() {
    for access in [crate::workspace::Access::ReadWrite, crate::workspace::Access::ReadOnly] {
        let mut h = Harness::with(access, |_| {});
        let dir = tempfile::tempdir().expect("tempdir");
        let shell = dir.path().join("x.sh");
        let attacks = [
            (
                format!(
                    "WITH x AS (COPY (SELECT 'echo pwned' AS l) TO '{}' (HEADER false)) SELECT 42",
                    shell.display()
                ),
                "a COPY inside the query",
            ),
            ("WITH x AS (DELETE FROM deploys RETURNING *) SELECT count(*) FROM x".to_string(), "a DELETE inside"),
            ("SELECT * FROM (SHOW '/etc/passwd')".to_string(), "SHOW / DESCRIBE"),
            ("SELECT sleep_ms(3600000)".to_string(), "sleep_ms"),
        ];
        h.keys("7");
        for (sql, needle) in &attacks {
            h.keys(sql).key(KeyCode::Enter);
            let screen = h.screen(160, 45);
            assert!(screen.contains(needle), "{access:?} {sql}:\n{screen}");
            h.ctrl('u');
        }
        assert!(!shell.exists(), "the console wrote {}", shell.display());
        h.keys("SELECT count(*) AS n FROM deploys").key(KeyCode::Enter);
        let rows = h.app.views.query.result.as_ref().map(|r| r.rows.clone()).unwrap_or_default();
        assert!(
            rows.first().is_some_and(|r| r[0].as_i64().is_some_and(|n| n > 0)),
            "{access:?}: deploys are all there"
        );
    }
}

#[test]
fn hostile_text_in_a_result_reaches_the_screen_only_as_text() {
    let mut h = Harness::new();
    h.keys("7")
        .keys("SELECT 'a\u{1b}]0;pwned\u{7}b\u{202e}c' AS \"h\u{1b}[2J\", NULL AS n, INTERVAL 2 DAY AS i")
        .key(KeyCode::Enter);
    let buffer = h.buffer(160, 45);
    for cell in buffer.content.iter() {
        assert!(!cell.symbol().chars().any(crate::text::is_unsafe), "{:?}", cell.symbol());
    }
    let screen = h.screen(160, 45);
    assert!(screen.contains("2 days"), "{screen}");
}

#[test]
fn two_writes_in_flight_both_answer_and_the_first_refusal_is_shown() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all");
    let controls: Vec<String> =
        h.app.overview.as_ref().expect("overview").controls.iter().map(|c| c.id.clone()).collect();
    // A sampled row with a failing test (a pass over it needs a note) and,
    // in the same sample, a row whose tests all pass.
    let failing = |r: &crate::audit::sampling::SampleRow| r.tests.iter().any(|(_, t)| *t == Some(false));
    let mut found = None;
    for control in controls {
        h.app.apply(vec![crate::tui::effect::Effect::Drill { control, spec: None, audit: None }]);
        h.settle();
        let Some(sample) = h.app.views.evidence.sample.as_ref() else { continue };
        let bad = sample.rows.iter().position(failing);
        let good = sample.rows.iter().position(|r| !failing(r) && r.tests.iter().all(|(_, t)| *t == Some(true)));
        if let (Some(bad), Some(good)) = (bad, good) {
            found = Some((bad, good, sample.rows[bad].key.clone(), sample.rows[good].key.clone()));
            break;
        }
    }
    let (bad, good, bad_key, good_key) = found.expect("the demo has a sample with a failing and a passing row");

    // `p` on the failing row, then quickly on the passing one: both writes
    // are in flight before either reply arrives.
    h.app.views.evidence.selected = bad;
    h.app.act(Action::Pass);
    h.app.views.evidence.selected = good;
    h.app.act(Action::Pass);
    assert_eq!(h.app.writes.len(), 2, "both writes are tracked");
    assert_eq!(h.app.outbox.iter().filter(|(_, r)| r.writes()).count(), 2);
    h.settle();
    assert!(h.app.writes.is_empty());
    let status = h.app.status.clone().expect("status");
    assert!(status.error, "{status:?}");
    assert!(status.text.contains(&format!("row `{bad_key}`")) && status.text.contains("press n"), "{status:?}");
    assert!(status.text.contains("then:") && status.text.contains("pass recorded"), "{status:?}");
    let sample = h.app.views.evidence.sample.clone().expect("sample");
    let verdict = |key: &SampleKey| sample.rows.iter().find(|r| r.key == *key).and_then(|r| r.verdict);
    assert_eq!(verdict(&good_key), Some(Verdict::Pass));
    assert_eq!(verdict(&bad_key), None, "the refused pass recorded nothing");

    // `n` opens the note on the refused row; Enter records the pass with it.
    h.act(Action::Note);
    assert!(h.app.typing());
    assert_eq!(h.app.views.evidence.selected, bad);
    h.keys("exception approved by the CISO, ticket SEC-12").key(KeyCode::Enter);
    let sample = h.app.views.evidence.sample.clone().expect("sample");
    let row = sample.rows.iter().find(|r| r.key == bad_key).expect("row");
    assert_eq!(row.verdict, Some(Verdict::Pass), "{:?}", h.app.status);
    assert_eq!(row.note.as_deref(), Some("exception approved by the CISO, ticket SEC-12"));
}

#[test]
fn a_failing_population_row_gets_its_finding_from_the_failing_rows_browser() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").keys("2/CHG-1").key(KeyCode::Enter).key(KeyCode::Enter).keys("e");
    assert_eq!(h.app.views.evidence.mode, Mode::Population(Filter::Failing));
    let key = h.app.views.evidence.selected_key().expect("a failing row");
    assert_eq!(key, "dep-0002834");
    // No verdict off the sample, and the status line says what to do instead.
    h.act(Action::Exception);
    assert!(h.app.status.as_ref().is_some_and(|s| s.text.contains("N files a finding")), "{:?}", h.app.status);
    h.act(Action::NewFinding);
    let Some(Overlay::Form(form)) = &h.app.overlay else { panic!("N opens the finding form: {:?}", h.app.status) };
    assert!(form.title.contains("dep-0002834"), "{}", form.title);
    h.keys("Deploy without approval").key(KeyCode::Enter);
    assert!(h.app.overlay.is_none(), "{:?}", h.app.status);
    let id = h.app.overview.as_ref().and_then(|o| o.findings.first()).expect("the finding is filed").id.clone();
    let finding = crate::audit::findings::load(&h.workspace().conn, &id).expect("load").expect("the finding");
    assert_eq!(finding.control, "CHG-1");
    assert!(finding.rows.is_empty(), "no sampled row claimed");
    assert_eq!(finding.population_rows.len(), 1);
    assert_eq!(finding.population_rows[0].key.as_str(), "dep-0002834");
    // The Findings tab shows the row beside the finding.
    h.act(Action::ShowFindings);
    let screen = h.screen(160, 45);
    assert!(screen.contains("Population rows (not sampled)"), "{screen}");
    assert!(screen.contains("prod deploys: dep-0002834"), "{screen}");
}

#[test]
fn the_audits_view_exports_the_packet_even_read_only() {
    let mut h = Harness::with(Access::ReadOnly, |ws| {
        let mappings = crate::workspace::mapping::Mappings::load(&ws.root);
        let period = crate::workspace::period::Period::parse("2026-Q3", ws.config.timezone).expect("period");
        crate::audit::audits::start(ws, &mappings, "2026-Q3", &period, &crate::audit::audits::Scope::All, None)
            .expect("audit");
    });
    h.keys("5X");
    let status = h.app.status.clone().expect("a status");
    assert!(!status.error && status.text.contains("packet of 2026-Q3 written to"), "{status:?}");
    assert!(status.text.contains("not reviewed"), "{status:?}");
    let packet = h.workspace().root.join("packets/2026-Q3");
    assert!(packet.join("index.html").is_file() && packet.join("manifest.json").is_file());
    let files = crate::packet::archive::read(&packet).expect("read back");
    let report = crate::packet::verify::verify(&files, Some(h.workspace()), &crate::progress::Silent);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn long_domain_work_reports_its_steps_as_a_percentage() {
    use crate::progress::Progress;
    let steps = crate::tui::worker::Steps::default();
    assert_eq!(steps.percentage(), None);
    steps.step("control CHG-1", 3, 12);
    assert_eq!(steps.percentage(), Some(25.0));
}

#[test]
fn a_file_is_attached_from_the_evidence_view_by_a_completed_path() {
    let mut h = Harness::new();
    h.start_audit("2026-Q3", "all").act(Action::ShowControls).act(Action::Select);
    assert_eq!(h.app.tab, Tab::Evidence);
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("approval-CHG-4711.txt"), "approved by ana in the change ticket").unwrap();
    std::fs::write(folder.path().join("other.txt"), "x").unwrap();
    h.act(Action::Top).act(Action::Attach);
    assert!(h.app.typing(), "A opens the path field");
    h.keys(&format!("{}/appr", folder.path().display())).key(KeyCode::Tab);
    let typed = h.app.views.evidence.attach.as_ref().map(|a| a.input.text.clone()).unwrap_or_default();
    assert!(typed.ends_with("/approval-CHG-4711.txt"), "Tab completes the name: {typed}");
    h.key(KeyCode::Enter);
    assert!(!h.app.typing());
    let sample = h.app.views.evidence.sample.clone().expect("sample");
    let attached = &sample.rows[0].attachments;
    assert_eq!(attached.len(), 1, "{:?}", h.app.status);
    assert_eq!(attached[0].name, "approval-CHG-4711.txt");
    assert_eq!(attached[0].bytes, 36);
    let screen = h.screen(160, 45);
    assert!(screen.contains("attached"), "the record pane lists it:\n{screen}");
    assert!(
        h.app.status.as_ref().is_some_and(|s| s.text.contains("approval-CHG-4711.txt attached")),
        "{:?}",
        h.app.status
    );
    assert!(h.workspace().root.join(&attached[0].stored).is_file());
}
