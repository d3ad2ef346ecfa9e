//! init, which workspace opens, one process per workspace, --read-only,
//! schema versions, help and exit codes.

use crate::common::{Sandbox, file_hash, scalar};

#[test]
fn init_creates_a_workspace_that_checks_clean() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    for file in ["quarterdeck.toml", "controls/change.toml", "workspace.duckdb"] {
        assert!(ws.join(file).is_file(), "{file}");
    }
    let run = sb.at(&ws, &["check"]).ok();
    assert!(run.stdout.starts_with("ok: 2 control(s), 2 evidence spec(s), 2 source(s)"), "{}", run.stdout);
}

#[test]
fn init_refuses_an_existing_workspace_and_changes_nothing() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let before = file_hash(&ws.join("quarterdeck.toml"));
    let run = sb.run(&["init", ws.to_str().unwrap()]);
    assert_eq!(run.code, 4);
    assert!(run.stderr.contains("already holds a workspace"), "{}", run.stderr);
    assert_eq!(file_hash(&ws.join("quarterdeck.toml")), before);
}

#[test]
fn the_workspace_comes_from_flag_then_env_then_current_folder() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let from_env = sb.command(&["--format", "json", "sources"]).env("QUARTERDECK_WORKSPACE", &ws).output().unwrap();
    assert!(from_env.status.success());
    let from_cwd = sb.command(&["--format", "json", "sources"]).current_dir(&ws).output().unwrap();
    assert!(from_cwd.status.success());
    assert_eq!(from_env.stdout.len(), from_cwd.stdout.len());
    let missing = sb.run(&["--workspace", "nowhere", "sources"]);
    assert_eq!(missing.code, 3);
    assert!(missing.stderr.contains("no workspace at nowhere"), "{}", missing.stderr);
}

#[test]
fn without_a_workspace_a_command_refuses_and_never_touches_the_demo() {
    let sb = Sandbox::new();
    let commands: [&[&str]; 8] = [
        &["--format", "json", "controls"],
        &["sources"],
        &["check"],
        &["ingest", "deploys"],
        &["query", "SELECT 1"],
        &["audit", "start", "2026-Q3"],
        &["findings", "list"],
        &["verify"],
    ];
    for args in commands {
        let run = sb.run(args);
        assert_eq!(run.code, 3, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(
                "no workspace here: pass --workspace DIR, set QUARTERDECK_WORKSPACE, cd into one, or run `quarterdeck demo`"
            ),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    assert!(!sb.path().join("data/quarterdeck/demo").exists(), "no command may create the demo");
    // `demo` is how the demo is made, and then it is there for --workspace.
    let demo = sb.path().join("data/quarterdeck/demo");
    sb.run(&["demo", "--no-open", "--as-of", "2026-11-26"]).ok();
    assert!(demo.join("quarterdeck.toml").is_file());
    assert_eq!(sb.run(&["controls"]).code, 3, "the demo existing changes nothing");
    assert!(sb.at(&demo, &["--format", "json", "controls"]).ok().json().as_array().unwrap().len() >= 15);
}

#[test]
fn a_second_process_is_told_who_holds_the_workspace_and_writes_nothing() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let db = ws.join("workspace.duckdb");
    let before = file_hash(&db);
    // This test process holds the database, as a running quarterdeck would.
    let holder = duckdb::Connection::open(&db).unwrap();
    let run = sb.at(&ws, &["ingest", "deploys"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("is open in another process"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("(PID {})", std::process::id())), "{}", run.stderr);
    let read_only = sb.at(&ws, &["--read-only", "sources"]);
    assert_eq!(read_only.code, 3, "a read-only open also needs the lock: {}", read_only.stderr);
    drop(holder);
    assert_eq!(file_hash(&db), before);
}

#[test]
fn read_only_refuses_every_write_and_changes_nothing() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let db = ws.join("workspace.duckdb");
    let before = file_hash(&db);
    let run = sb.at(&ws, &["--read-only", "ingest", "deploys"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("open read-only: ingest is refused; it was opened with --read-only"), "{}", run.stderr);
    sb.at(&ws, &["--read-only", "sources"]).ok();
    sb.at(&ws, &["--read-only", "check"]).ok();
    sb.at(&ws, &["--read-only", "test", "CHG-1", "--period", "2026-Q3"]);
    assert_eq!(file_hash(&db), before);
}

#[test]
fn a_workspace_from_a_newer_quarterdeck_is_refused() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    {
        let conn = duckdb::Connection::open(ws.join("workspace.duckdb")).unwrap();
        conn.execute("UPDATE qd.meta SET value = '99' WHERE key = 'schema_version'", []).unwrap();
    }
    let run = sb.at(&ws, &["sources"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("written by a newer Quarterdeck (schema v99"), "{}", run.stderr);
    assert_eq!(scalar(&ws, "SELECT value FROM qd.meta WHERE key = 'schema_version'"), "99");
}

#[test]
fn help_documents_exit_codes() {
    let sb = Sandbox::new();
    let run = sb.run(&["--help"]).ok();
    assert!(run.stdout.contains("Exit codes:"));
    assert!(run.stdout.contains("3  the workspace cannot be used"));
}

#[test]
fn a_bad_config_names_file_line_and_field() {
    let sb = Sandbox::new();
    let ws = sb.example_workspace();
    let config = ws.join("quarterdeck.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace("fresh_within = \"2d\"", "fresh_within = \"soon\"");
    std::fs::write(&config, text).unwrap();
    let run = sb.at(&ws, &["sources"]);
    assert_eq!(run.code, 4);
    assert!(run.stderr.contains("quarterdeck.toml:15:16: source `deploys`: field `fresh_within`"), "{}", run.stderr);
}

#[test]
fn a_corrupt_database_is_named_and_refused_with_exit_3() {
    let sb = crate::common::Sandbox::new();
    let ws = sb.example_workspace();
    std::fs::write(ws.join("workspace.duckdb"), b"not a database at all, just some bytes").unwrap();
    for args in [&["sources"][..], &["--read-only", "query", "SELECT 1"], &["test", "CHG-1", "--period", "2026-Q3"]] {
        let run = sb.at(&ws, args);
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("workspace.duckdb cannot be opened"), "{args:?}: {}", run.stderr);
    }
}
