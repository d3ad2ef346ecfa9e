//! The README's tour, run as written: every command of its shell blocks, in
//! order, in one shell, on a fresh demo; each must exit 0, or the code its
//! comment names ("exits 1"). Run on today's clock and on a day years ahead:
//! the tour pins the demo's date, so its keys hold on any day.

use std::process::{Command, Stdio};

use crate::common::Sandbox;

/// The tour's command lines (continuations joined), each with the exit
/// code its comment expects.
fn tour_commands() -> Vec<(String, i32)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let start = readme.find("\n## A tour").expect("the README has a tour");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |end| end + 3)];
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if !in_block || line.trim().is_empty() {
            continue;
        }
        pending.push_str(line.trim_end_matches('\\'));
        if line.ends_with('\\') {
            continue;
        }
        let whole = std::mem::take(&mut pending);
        let (code, comment) = match whole.find(" # ") {
            Some(at) => (whole[..at].trim().to_string(), whole[at..].to_string()),
            None => (whole.trim().to_string(), String::new()),
        };
        let expected = comment
            .split("exits ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        commands.push((code, expected));
    }
    commands
}

fn run_tour(now: Option<&str>) {
    let commands = tour_commands();
    assert!(commands.len() >= 20, "the tour was not found: {commands:?}");
    let sandbox = Sandbox::new();
    let tmp = sandbox.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // The tour's own build and `qd` definition stand for the binary under test.
    let mut script = String::from("qd() { \"$QD\" \"$@\"; }\n");
    let mut run = Vec::new();
    for (i, (command, expected)) in commands.iter().enumerate() {
        if command.starts_with("cargo build") || command.starts_with("QD=") {
            continue;
        }
        script.push_str(&format!("{command}\nprintf 'tour-step %d %d\\n' {i} $? >&3\n"));
        run.push((i, command.clone(), *expected));
    }
    let mut shell = Command::new("bash");
    shell
        .arg("-c")
        .arg(format!("exec 3>\"$TOUR_STEPS\"\n{script}"))
        .current_dir(sandbox.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", sandbox.path())
        .env("TMPDIR", &tmp)
        .env("XDG_DATA_HOME", sandbox.path().join("data"))
        .env("QD", env!("CARGO_BIN_EXE_quarterdeck"))
        .env("TOUR_STEPS", sandbox.path().join("steps"))
        .stdin(Stdio::null());
    if let Some(now) = now {
        shell.env("QUARTERDECK_NOW", now);
    }
    let out = shell.output().expect("bash runs");
    let transcript = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let steps = std::fs::read_to_string(sandbox.path().join("steps")).unwrap_or_default();
    let codes: Vec<(usize, i32)> = steps
        .lines()
        .filter_map(|l| {
            let mut parts = l.strip_prefix("tour-step ")?.split(' ');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .collect();
    assert_eq!(codes.len(), run.len(), "every command ran\n{transcript}");
    for ((i, command, expected), (step, code)) in run.iter().zip(&codes) {
        assert_eq!(i, step);
        assert_eq!(code, expected, "README tour, command `{command}` (now {now:?}):\n{transcript}");
    }
    assert!(transcript.contains("row dep-0002834 (population"), "the planted row is linked:\n{transcript}");
}

#[test]
fn the_readme_tour_runs_as_written_today() {
    run_tour(None);
}

#[test]
fn the_readme_tour_runs_as_written_years_from_now() {
    run_tour(Some("2029-06-15T12:00:00Z"));
}

#[test]
fn a_demo_generated_otherwise_is_refused_not_reused_when_options_are_pinned() {
    let sb = Sandbox::new();
    let dir = sb.path().join("northwind");
    let dir = dir.to_str().unwrap();
    sb.run(&["demo", dir, "--no-open", "--as-of", "2026-11-26"]).ok();
    let hash = crate::common::file_hash(&std::path::Path::new(dir).join("evidence/deploys.csv"));
    // The same options: the demo is there already, nothing to do.
    let again = sb.run(&["demo", dir, "--no-open", "--as-of", "2026-11-26"]).ok();
    assert!(again.stdout.contains("already at"), "{}", again.stdout);
    for other in [&["--as-of", "2026-11-25"][..], &["--seed", "8"], &["--scale", "2"]] {
        let mut args = vec!["demo", dir, "--no-open"];
        args.extend_from_slice(other);
        let refused = sb.run(&args);
        assert_eq!(refused.code, 4, "{other:?}: {}{}", refused.stdout, refused.stderr);
        assert!(refused.stderr.contains("--seed 7 --scale 1 --as-of 2026-11-26"), "{}", refused.stderr);
        assert!(refused.stderr.contains("--fresh"), "{}", refused.stderr);
    }
    assert_eq!(crate::common::file_hash(&std::path::Path::new(dir).join("evidence/deploys.csv")), hash);
}
