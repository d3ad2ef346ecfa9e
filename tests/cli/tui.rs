//! The terminal UI, for real: the binary in a detached tmux pane on a demo
//! workspace, driven with `send-keys` and read with `capture-pane`. Skipped
//! when tmux is not installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::Sandbox;

/// How long the UI may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(15);

pub(crate) fn tmux_missing() -> bool {
    let ok = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: tmux is not installed (`tmux -V` failed)");
    }
    !ok
}

/// The demo with a mock audit of 2026-Q3 started on every control.
fn demo_in_audit(sb: &Sandbox) -> PathBuf {
    let ws = sb.path().join("ws");
    sb.run(&["demo", ws.to_str().unwrap(), "--no-open", "--as-of", "2026-11-26"]).ok();
    sb.at(&ws, &["audit", "start", "2026-Q3", "--controls", "all"]).ok();
    ws
}

/// A word for `sh`, quoted.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The binary on `ws` under the Sandbox's environment, as a shell command:
/// the tmux server does not pass on the environment of our Command.
fn quarterdeck_command(sb: &Sandbox, ws: &Path) -> String {
    quarterdeck_command_with(sb, ws, &[])
}

/// [`quarterdeck_command`] with more environment variables.
pub(crate) fn quarterdeck_command_with(sb: &Sandbox, ws: &Path, more: &[(&str, &str)]) -> String {
    let home = sb.path().to_str().unwrap();
    let mut vars = vec![
        ("HOME", home.to_string()),
        ("XDG_DATA_HOME", format!("{home}/data")),
        ("XDG_CONFIG_HOME", format!("{home}/config")),
        ("QUARTERDECK_ACTOR", "tester".to_string()),
        ("QUARTERDECK_THREADS", "2".to_string()),
        ("QUARTERDECK_NOW", crate::common::NOW.to_string()),
    ];
    vars.extend(more.iter().map(|(k, v)| (*k, v.to_string())));
    // QUARTERDECK_LOG stays: the UI logs to its file, never over the screen.
    let mut words: Vec<String> = ["env", "-u", "QUARTERDECK_WORKSPACE"].map(String::from).into();
    words.extend(vars.iter().map(|(name, value)| quote(&format!("{name}={value}"))));
    words.push(quote(env!("CARGO_BIN_EXE_quarterdeck")));
    words.push("--workspace".into());
    words.push(quote(ws.to_str().unwrap()));
    words.join(" ")
}

/// A tmux server of our own (its own socket) with one 160×45 pane; killed on drop.
pub(crate) struct Tmux {
    socket: String,
    /// Where the server listens, to remove once it is gone (tmux leaves it).
    socket_path: Option<PathBuf>,
}

impl Tmux {
    /// Starts `command` (run by `sh -c`) in a detached 160×45 session.
    pub(crate) fn start(name: &str, sb: &Sandbox, command: &str) -> Self {
        Self::start_sized(name, sb, command, (160, 45))
    }

    /// Starts `command` in a detached session of `size` (columns, rows).
    fn start_sized(name: &str, sb: &Sandbox, command: &str, size: (u16, u16)) -> Self {
        let mut tmux = Self { socket: format!("qd-{name}-{}", std::process::id()), socket_path: None };
        let (x, y) = (size.0.to_string(), size.1.to_string());
        let out = tmux.command(&["new-session", "-d", "-x", &x, "-y", &y]).current_dir(sb.path()).arg(command).output();
        let out = out.expect("run tmux");
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        let path = tmux.run(&["display-message", "-p", "#{socket_path}"]).stdout;
        let path = String::from_utf8_lossy(&path).trim().to_string();
        tmux.socket_path = (!path.is_empty()).then(|| PathBuf::from(path));
        tmux
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("tmux");
        // No user configuration, a plain sh for the pane, and never the tmux we may run in.
        cmd.args(["-f", "/dev/null", "-L", &self.socket]).args(args).env("SHELL", "/bin/sh").env_remove("TMUX");
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p"]).stdout).into_owned()
    }

    /// Sends keys in tmux's names (`Enter`, `q`); one key a call, so that
    /// an Escape is never read as Alt with the key after it.
    pub(crate) fn send(&self, key: &str) {
        let out = self.run(&["send-keys", key]);
        assert!(out.status.success(), "tmux send-keys {key}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Polls the screen until it shows every one of `texts`; returns it.
    #[track_caller]
    pub(crate) fn wait_for(&self, texts: &[&str]) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if texts.iter().all(|t| screen.contains(t)) {
                return screen;
            }
            if Instant::now() >= deadline {
                panic!("after {PATIENCE:?} the screen does not show {texts:?}; it shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The pid of the pane's first process.
    fn pane_pid(&self) -> u32 {
        let out = self.run(&["list-panes", "-F", "#{pane_pid}"]);
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim().parse().unwrap_or_else(|_| panic!("pane pid: {text:?}"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Through `sh`, whose `kill` is a builtin.
fn kill(signal: &str, pid: u32) -> bool {
    Command::new("sh").args(["-c", &format!("kill -{signal} {pid} 2>/dev/null")]).status().is_ok_and(|s| s.success())
}

/// Whether `pid` still runs: a zombie does not (tmux may take a second to
/// reap its pane's process).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with(['Z', 'X'])),
        Err(_) if Path::new("/proc/self/stat").exists() => false,
        Err(_) => kill("0", pid),
    }
}

#[test]
fn a_verdict_recorded_in_the_tui_is_in_the_workspace() {
    if tmux_missing() {
        return;
    }
    let sb = Sandbox::new();
    let ws = demo_in_audit(&sb);
    let started = Instant::now();
    // The shell outlives the UI, to tell how it exited.
    let command = format!("{}; echo QD-EXITED $?; sleep 30", quarterdeck_command(&sb, &ws));
    let tmux = Tmux::start("verdict", &sb, &command);

    tmux.wait_for(&["Dashboard", "2026-Q3"]);
    tmux.send("2");
    tmux.wait_for(&["Mapping", "AC-1"]);
    tmux.send("Enter");
    // The header's count shows once the frozen sample has loaded.
    tmux.wait_for(&["Sample (frozen)", "population", "row(s) · sample", "auth-"]);
    tmux.send("p");
    tmux.wait_for(&["AC-1: pass recorded"]);
    tmux.send("q");
    tmux.wait_for(&["QD-EXITED 0"]);
    eprintln!("tui: drove and quit in {:?}", started.elapsed());

    let sample = sb.at(&ws, &["--format", "json", "sample", "AC-1", "--audit", "2026-Q3"]).ok().json();
    let rows = sample["rows"].as_array().expect("rows");
    let passed: Vec<&str> =
        rows.iter().filter(|r| r["verdict"] == "pass").map(|r| r["key"].as_str().unwrap_or("")).collect();
    assert_eq!(passed, [rows[0]["key"].as_str().unwrap()], "one pass, on the first sampled row: {sample:#}");
    assert!(rows.iter().skip(1).all(|r| r["verdict"].is_null()), "{sample:#}");
}

#[test]
fn the_palette_starts_an_audit_from_the_dashboard_at_80x24() {
    if tmux_missing() {
        return;
    }
    let sb = Sandbox::new();
    let ws = sb.path().join("ws");
    sb.run(&["demo", ws.to_str().unwrap(), "--no-open", "--as-of", "2026-11-26"]).ok();
    let command = format!("{}; echo QD-EXITED $?; sleep 30", quarterdeck_command(&sb, &ws));
    let tmux = Tmux::start_sized("palette", &sb, &command, (80, 24));

    tmux.wait_for(&["Dashboard", "No mock audit yet"]);
    tmux.send(":");
    tmux.wait_for(&["Palette"]);
    for c in "start a mock".chars() {
        tmux.send(&c.to_string());
    }
    // The command names its tab and shows its key.
    let screen = tmux.wait_for(&["Audits: Start a mock audit"]);
    let line = screen.lines().find(|l| l.contains("Audits: Start a mock audit")).unwrap_or_default();
    assert!(line.trim_end().trim_end_matches('│').trim_end().ends_with(" S"), "{screen}");
    tmux.send("Enter");
    // The palette switched to the Audits tab and opened the form there.
    tmux.wait_for(&["Start a mock audit", "Label (e.g. 2026-Q3)"]);
    tmux.send("Enter");
    let screen = tmux.wait_for(&["started:", "sample(s) drawn"]);
    assert!(screen.contains("fieldwork"), "{screen}");
    tmux.send("q");
    tmux.wait_for(&["QD-EXITED 0"]);

    let list = sb.at(&ws, &["audit", "list"]).ok();
    assert!(
        list.stdout.contains("fieldwork"),
        "the audit started from the palette is in the workspace: {}",
        list.stdout
    );
}

#[test]
fn sighup_and_sigterm_end_the_tui_and_free_the_workspace() {
    if tmux_missing() {
        return;
    }
    let sb = Sandbox::new();
    let ws = demo_in_audit(&sb);
    for signal in ["HUP", "TERM"] {
        ends_on_signal(&sb, &ws, signal);
    }
}

fn ends_on_signal(sb: &Sandbox, ws: &Path, signal: &str) {
    // `exec`: the pane's process is quarterdeck itself.
    let tmux = Tmux::start(&format!("sig{signal}"), sb, &format!("exec {}", quarterdeck_command(sb, ws)));
    tmux.wait_for(&["Dashboard", "2026-Q3"]);
    let pid = tmux.pane_pid();
    let locked = sb.at(ws, &["audit", "list"]);
    assert_eq!(locked.code, 3, "the open UI should hold the workspace: {}{}", locked.stdout, locked.stderr);
    assert!(locked.stderr.contains(&format!("(PID {pid})")), "{}", locked.stderr);

    assert!(kill(signal, pid), "kill -{signal} {pid}");
    let sent = Instant::now();
    while running(pid) {
        assert!(sent.elapsed() < Duration::from_secs(5), "quarterdeck (pid {pid}) still runs 5 s after SIG{signal}");
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("tui: exited {:?} after SIG{signal}", sent.elapsed());

    let list = sb.at(ws, &["audit", "list"]);
    assert_eq!(list.code, 0, "the workspace is still locked?\nstdout:\n{}\nstderr:\n{}", list.stdout, list.stderr);
    assert!(list.stdout.contains("2026-Q3"), "{}", list.stdout);
}

#[test]
fn a_bad_keymap_is_refused_before_the_screen_changes() {
    if tmux_missing() {
        return;
    }
    let sb = Sandbox::new();
    let ws = demo_in_audit(&sb);
    let config = sb.path().join("config/quarterdeck");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("keymap.toml"), "[keys]\n\"x\" = \"exeption\"\n").unwrap();
    let command = format!("{}; echo QD-EXITED $?; sleep 30", quarterdeck_command(&sb, &ws));
    let tmux = Tmux::start("keymap", &sb, &command);
    let screen = tmux.wait_for(&["QD-EXITED 1"]);
    assert!(screen.contains("keymap.toml: key `x`: unknown action `exeption`"), "{screen}");
    assert!(screen.contains("did you mean `exception`?"), "{screen}");
}

#[test]
fn a_panic_restores_the_terminal() {
    if tmux_missing() {
        return;
    }
    let sb = Sandbox::new();
    let ws = demo_in_audit(&sb);
    // The test binary is a debug build, where this variable makes the UI
    // panic right after its first frame. Afterwards the shell must find the
    // terminal cooked again (icanon, echo) and the normal screen back.
    let command = format!(
        "env QUARTERDECK_DEBUG_PANIC=1 RUST_BACKTRACE=0 {}; echo QD-EXITED $?; stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo; echo QD-STTY-SHOWN; sleep 30",
        quarterdeck_command(&sb, &ws)
    );
    let tmux = Tmux::start("panic", &sb, &command);
    // Wait for the stty line too: the exit status prints before it.
    let screen = tmux.wait_for(&["QD-EXITED 101", "QD-STTY-SHOWN"]);
    assert!(screen.contains("a deliberate panic after the first frame"), "{screen}");
    assert!(screen.contains("icanon echo"), "the terminal is still raw:\n{screen}");
    assert!(!screen.contains("Dashboard"), "the alternate screen is still shown:\n{screen}");
}

#[test]
fn the_console_in_a_shared_read_only_session_writes_nothing_and_esc_cancels() {
    if tmux_missing() {
        return;
    }
    let sb = Sandbox::new();
    let ws = demo_in_audit(&sb);
    let db = ws.join("workspace.duckdb");
    let before = crate::common::file_hash(&db);
    let shell = sb.path().join("x.sh");
    let command = format!("{} --read-only; echo QD-EXITED $?; sleep 30", quarterdeck_command(&sb, &ws));
    let tmux = Tmux::start("console", &sb, &command);
    tmux.wait_for(&["Dashboard", "READ-ONLY"]);
    tmux.send("7");
    for (sql, refusal) in [
        (
            format!("WITH x AS (COPY (SELECT 'echo pwned' AS l) TO '{}' (HEADER false)) SELECT 42", shell.display()),
            "a COPY inside",
        ),
        (format!("WITH x AS (COPY (SELECT 1) TO '{}' (USE_TMP_FILE false)) SELECT 42", db.display()), "a COPY inside"),
    ] {
        let out = tmux.run(&["send-keys", "-l", &sql]);
        assert!(out.status.success());
        tmux.send("Enter");
        tmux.wait_for(&[refusal]);
        tmux.send("C-u");
    }
    // A long query shows how to stop it, and Esc does.
    let out = tmux.run(&["send-keys", "-l", "SELECT count(*) FROM range(10000000000000)"]);
    assert!(out.status.success());
    tmux.send("Enter");
    tmux.wait_for(&["esc cancels"]);
    tmux.send("Escape");
    tmux.wait_for(&["cancelled"]);
    tmux.send("C-c");
    tmux.wait_for(&["QD-EXITED 0"]);
    assert!(!shell.exists(), "the console wrote {}", shell.display());
    assert_eq!(crate::common::file_hash(&db), before, "the workspace changed");
}

#[test]
fn with_no_workspace_named_the_tui_alone_opens_the_demo() {
    if tmux_missing() {
        return;
    }
    let sb = Sandbox::new();
    let demo = sb.path().join("data/quarterdeck/demo");
    sb.run(&["demo", "--no-open", "--as-of", "2026-11-26"]).ok();
    let named = quarterdeck_command(&sb, &demo);
    let unnamed = named.replace(&format!(" --workspace {}", quote(demo.to_str().unwrap())), "");
    assert_ne!(named, unnamed);
    let tmux = Tmux::start("fallback", &sb, &format!("{unnamed}; echo QD-EXITED $?; sleep 30"));
    // The demo's twelve sources: it is the demo that opened.
    tmux.wait_for(&["Dashboard", "Sources — 12"]);
    tmux.send("q");
    tmux.wait_for(&["QD-EXITED 0"]);
}
