//! The command line as a Unix tool: a closed pipe is a quiet success,
//! tables fit the terminal and are plain in a pipe, progress stays off
//! pipes, completions and the man page, `--version` everywhere.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use crate::common::{Run, Sandbox, workspace_in_audit};

/// Runs with stdout a pipe whose reader reads at most `read` bytes and then
/// goes away, as `| head -c N` does.
fn with_reader_gone(sb: &Sandbox, ws: &Path, args: &[&str], read: usize) -> Run {
    let mut all = vec!["--workspace", ws.to_str().unwrap()];
    all.extend_from_slice(args);
    let mut child = sb.command(&all).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = vec![0u8; read];
    if read > 0 {
        stdout.read_exact(&mut first).unwrap();
    }
    drop(stdout);
    child.wait_with_output().unwrap().into()
}

#[test]
fn a_reader_that_stops_early_is_a_quiet_success() {
    let sb = Sandbox::new();
    let (ws, finding) = workspace_in_audit(&sb);
    // Far more than a pipe buffers, so the writer meets the closed pipe.
    let long = "SELECT range AS n, repeat('x', 200) AS filler FROM range(20000)";
    for format in ["table", "json", "csv"] {
        let run = with_reader_gone(&sb, &ws, &["--format", format, "query", long], 4096);
        assert_eq!(run.code, 0, "query {format}: {}", run.stderr);
        assert_eq!(run.stderr, "", "query {format}");
    }
    // Every other way out to stdout, with the reader gone before the first byte.
    let commands: [&[&str]; 14] = [
        &["sources"],
        &["controls"],
        &["--format", "json", "criteria"],
        &["check"],
        &["--format", "json", "check"],
        &["verify"],
        &["--format", "json", "verify"],
        &["audit", "show", "2026-Q3"],
        &["--format", "json", "audit", "show", "2026-Q3"],
        &["findings", "show", &finding],
        &["sample", "CHG-1", "--audit", "2026-Q3"],
        &["test", "CHG-1", "--period", "2026-Q3"],
        &["completions", "bash"],
        &["man"],
    ];
    for args in commands {
        let run = with_reader_gone(&sb, &ws, args, 0);
        let expected = if args == ["test", "CHG-1", "--period", "2026-Q3"] { [0, 1] } else { [0, 0] };
        assert!(expected.contains(&run.code), "{args:?}: exit {}: {}", run.code, run.stderr);
        assert_eq!(run.stderr, "", "{args:?}");
    }
}

#[test]
fn a_narrow_terminal_cuts_long_text_but_never_the_identifier() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let id = "deploy-2026-09-14-production-eu-west-1-a";
    let sql = format!("SELECT '{id}' AS id, repeat('a long title ', 8) AS title, 'x' AS state");
    let run = sb.command(&["--workspace", ws.to_str().unwrap(), "query", &sql]).env("COLUMNS", "60").output().unwrap();
    let run = Run::from(run).ok();
    let row = run.stdout.lines().nth(1).unwrap();
    assert!(row.starts_with(id), "the id is whole: {row}");
    assert!(row.contains('…'), "{row}");
    assert!(run.stdout.lines().all(|l| l.chars().count() <= 60), "{}", run.stdout);
    let controls = sb.command(&["--workspace", ws.to_str().unwrap(), "controls"]).env("COLUMNS", "60").output();
    let controls = Run::from(controls.unwrap()).ok();
    assert!(controls.stdout.lines().all(|l| l.chars().count() <= 60), "{}", controls.stdout);
    assert!(controls.stdout.contains("CHG-1 ") && controls.stdout.contains('…'), "{}", controls.stdout);
    // Only prose is cut: a label, a state, a date and a number stay whole
    // even where the table cannot fit.
    let states = "SELECT 'F-2026Q3-001' AS id, '2026-Q3' AS audit, 'remediating' AS status, \
                  DATE '2026-12-31' AS due, 1234567 AS rows, repeat('a long title ', 8) AS title";
    let narrow = sb.command(&["--workspace", ws.to_str().unwrap(), "query", states]).env("COLUMNS", "40").output();
    let narrow = Run::from(narrow.unwrap()).ok();
    let row = narrow.stdout.lines().nth(1).unwrap_or_default();
    for whole in ["F-2026Q3-001", "2026-Q3", "remediating", "2026-12-31", "1234567"] {
        assert!(row.contains(whole), "{whole} is whole: {}", narrow.stdout);
    }
    assert!(row.contains('…') && !row.contains(&"a long title ".repeat(2)), "{}", narrow.stdout);
    // A sample too wide for the terminal leaves evidence columns out, says
    // so, and keeps the key, the tests and the period column; a pipe has all.
    let sample = ["sample", "CHG-1", "--period", "2026-Q3", "--seed", "1"];
    let mut args = vec!["--workspace", ws.to_str().unwrap()];
    args.extend(sample);
    let narrow = Run::from(sb.command(&args).env("COLUMNS", "70").output().unwrap()).ok();
    let header = narrow.stdout.lines().find(|l| l.starts_with("KEY")).unwrap_or_default().to_string();
    assert!(header.contains("APPROVED") && header.contains("DEPLOYED_AT") && !header.contains("SERVICE"), "{header}");
    assert!(narrow.stdout.contains("more column(s) left out to fit the terminal"), "{}", narrow.stdout);
    assert!(narrow.stdout.lines().all(|l| l.chars().count() <= 70 || !l.starts_with("d-")), "{}", narrow.stdout);
    let piped = Run::from(sb.command(&args).output().unwrap()).ok();
    assert!(piped.stdout.contains("SERVICE") && !piped.stdout.contains("left out"), "{}", piped.stdout);
    // In a pipe (no $COLUMNS) nothing is cut to fit.
    let wide = Run::from(sb.command(&["--workspace", ws.to_str().unwrap(), "query", &sql]).output().unwrap()).ok();
    assert!(wide.stdout.contains(&"a long title ".repeat(7)) && !wide.stdout.contains('…'), "{}", wide.stdout);
}

#[test]
fn colour_only_when_asked_for_and_never_without_the_word() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    // deploys ran up to 2026-09: abandoned by 2026-11-26.
    let plain = sb.at(&ws, &["sources"]).ok();
    assert!(plain.stdout.contains("abandoned"), "{}", plain.stdout);
    assert!(!plain.stdout.contains('\u{1b}'), "a pipe gets no escapes: {:?}", plain.stdout);
    let forced = sb.command(&["--workspace", ws.to_str().unwrap(), "sources"]).env("CLICOLOR_FORCE", "1").output();
    let forced = Run::from(forced.unwrap()).ok();
    assert!(forced.stdout.contains("\u{1b}[38;5;9mabandoned"), "red, and still the word: {:?}", forced.stdout);
    let refused = sb
        .command(&["--workspace", ws.to_str().unwrap(), "sources"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output();
    let refused = Run::from(refused.unwrap()).ok();
    assert!(!refused.stdout.contains('\u{1b}'), "NO_COLOR wins: {:?}", refused.stdout);
    assert_eq!(refused.stdout, plain.stdout);
    // The result of a test over the population too.
    let test = ["--workspace", ws.to_str().unwrap(), "test", "CHG-1", "--period", "2026-Q3"];
    let plain = Run::from(sb.command(&test).output().unwrap());
    assert!(plain.stdout.contains("FAIL ") && !plain.stdout.contains('\u{1b}'), "{:?}", plain.stdout);
    let forced = Run::from(sb.command(&test).env("CLICOLOR_FORCE", "1").output().unwrap());
    assert!(forced.stdout.contains("\u{1b}[38;5;9mFAIL "), "{:?}", forced.stdout);
    assert_eq!(forced.code, 1, "a failing test still exits 1");
    // JSON and CSV are never coloured.
    let csv = sb
        .command(&["--workspace", ws.to_str().unwrap(), "--format", "csv", "sources"])
        .env("CLICOLOR_FORCE", "1")
        .output();
    assert!(!Run::from(csv.unwrap()).ok().stdout.contains('\u{1b}'));
}

#[test]
fn long_work_in_a_pipe_shows_no_progress() {
    let sb = Sandbox::new();
    let dir = sb.path().join("northwind");
    let demo = sb.run(&["demo", dir.to_str().unwrap(), "--no-open", "--as-of", "2026-11-26"]).ok();
    assert!(!demo.stderr.contains('\r') && !demo.stderr.contains('\u{1b}'), "{:?}", demo.stderr);
    assert!(!demo.stderr.contains("generating") && !demo.stderr.contains("[="), "{:?}", demo.stderr);
    assert!(demo.stderr.contains("idp_auth_log"), "the row counts stay: {}", demo.stderr);
    let ingest = sb.at(&dir, &["ingest", "deploys"]).ok();
    assert_eq!(ingest.stderr, "");
    let audit = sb.at(&dir, &["audit", "start", "2026-Q3"]).ok();
    assert_eq!(audit.stderr, "");
}

#[test]
fn completions_and_the_man_page_need_no_workspace() {
    let sb = Sandbox::new();
    let bash = sb.run(&["completions", "bash"]).ok();
    assert!(bash.stdout.contains("quarterdeck") && bash.stdout.contains("sources"), "{}", bash.stdout);
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let run = sb.run(&["completions", shell]).ok();
        assert!(run.stdout.contains("quarterdeck") && run.stdout.contains("findings"), "{shell}");
    }
    assert_eq!(sb.run(&["completions", "tcsh"]).code, 2);
    let man = sb.run(&["man"]).ok();
    assert!(man.stdout.starts_with(".TH quarterdeck 1"), "{}", &man.stdout[..man.stdout.len().min(200)]);
    for sub in ["sources", "audit", "findings", "completions", "\\-\\-workspace"] {
        assert!(man.stdout.contains(sub), "{sub}");
    }
    let pages = sb.path().join("man");
    sb.run(&["man", "--out", pages.to_str().unwrap()]).ok();
    for page in ["quarterdeck.1", "quarterdeck-audit.1", "quarterdeck-audit-show.1", "quarterdeck-sources.1"] {
        assert!(pages.join(page).is_file(), "{page}");
    }
    assert!(!sb.path().join("data/quarterdeck/demo").exists());
}

#[test]
fn every_subcommand_answers_version() {
    let sb = Sandbox::new();
    let expected = format!(" {}\n", env!("CARGO_PKG_VERSION"));
    for args in [&["--version"][..], &["sources", "--version"], &["audit", "show", "--version"], &["man", "--version"]]
    {
        let run = sb.run(args).ok();
        assert!(run.stdout.starts_with("quarterdeck") && run.stdout.ends_with(&expected), "{args:?}: {}", run.stdout);
    }
}

#[test]
fn long_work_on_a_terminal_shows_progress_on_stderr() {
    // util-linux `script` gives the run a terminal; without it, say so and skip.
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let sb = Sandbox::new();
    let dir = sb.path().join("northwind");
    let line = format!("{} demo {} --no-open --as-of 2026-11-26", env!("CARGO_BIN_EXE_quarterdeck"), dir.display());
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(sb.path())
        .env_remove("QUARTERDECK_WORKSPACE")
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .env("HOME", sb.path())
        .env("XDG_DATA_HOME", sb.path().join("data"))
        .env("QUARTERDECK_ACTOR", "tester")
        .env("QUARTERDECK_THREADS", "2")
        .env("QUARTERDECK_NOW", crate::common::NOW)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("generating the demo") && shown.contains("ingesting"), "{shown:?}");
    assert!(dir.join("quarterdeck.toml").is_file());
}

#[test]
fn a_stderr_nobody_reads_loses_the_message_not_the_exit_code() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    for (args, code) in
        [(vec!["sources"], 3), (vec!["--workspace", ws.to_str().unwrap(), "check", "--format", "xml"], 2)]
    {
        // A pipe whose reader is gone: every write to it fails with EPIPE,
        // which eprintln! turns into a panic (exit 101).
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        drop(reader);
        let out = sb.command(&args).stderr(Stdio::from(writer)).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }
}
