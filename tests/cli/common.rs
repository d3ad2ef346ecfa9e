//! Helpers shared by the CLI tests: run the binary in an isolated
//! environment and read its output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A scratch home: the user's data folder and the working folder live here.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

/// "Now" for every run of the binary in these tests (the demo's as-of day, noon UTC).
pub const NOW: &str = "2026-11-26T12:00:00Z";

impl Sandbox {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("tempdir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_quarterdeck"));
        cmd.args(args)
            .current_dir(self.path())
            .env_remove("QUARTERDECK_WORKSPACE")
            // Tables are as wide as their content and plain unless a test says otherwise.
            .env_remove("COLUMNS")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env("HOME", self.path())
            .env("XDG_DATA_HOME", self.path().join("data"))
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("QUARTERDECK_ACTOR", "tester")
            .env("QUARTERDECK_THREADS", "2")
            // No test reads the wall clock: every run is as of the demo's day.
            .env("QUARTERDECK_NOW", NOW);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().expect("run quarterdeck").into()
    }

    /// `quarterdeck init ws` with the example evidence ingested.
    pub fn example_workspace(&self) -> PathBuf {
        let ws = self.path().join("ws");
        self.run(&["init", ws.to_str().unwrap()]).ok();
        self.run(&["--workspace", ws.to_str().unwrap(), "ingest", "deploys"]).ok();
        self.run(&["--workspace", ws.to_str().unwrap(), "ingest", "pull_requests"]).ok();
        ws
    }

    /// Runs against a workspace folder.
    pub fn at(&self, ws: &Path, args: &[&str]) -> Run {
        let mut all = vec!["--workspace", ws.to_str().unwrap()];
        all.extend_from_slice(args);
        self.run(&all)
    }
}

/// The example workspace with an audit of 2026-Q3 and one finding in it.
pub fn workspace_in_audit(sb: &Sandbox) -> (PathBuf, String) {
    let ws = sb.example_workspace();
    sb.at(&ws, &["audit", "start", "2026-Q3", "--seed", "s"]).ok();
    let added = sb.at(
        &ws,
        &[
            "findings",
            "add",
            "--audit",
            "2026-Q3",
            "--control",
            "CHG-1",
            "--title",
            "Deploy without review",
            "--severity",
            "high",
            "--owner",
            "ana@acme.example",
            "--due",
            "2026-10-01",
        ],
    );
    let id = added.ok().stdout.trim().to_string();
    (ws, id)
}

/// A value read straight from the workspace's database, from this process.
pub fn scalar(ws: &Path, sql: &str) -> String {
    let config = duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly).unwrap();
    let conn = duckdb::Connection::open_with_flags(ws.join("workspace.duckdb"), config).unwrap();
    conn.query_row(&format!("SELECT CAST(({sql}) AS VARCHAR)"), [], |r| r.get::<_, Option<String>>(0))
        .unwrap()
        .unwrap_or_default()
}

/// sha256 of a file, to prove it did not change.
pub fn file_hash(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// ../shared/data beside the checkout, where the real public data lives.
pub fn shared_data() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    dir.join("openssh_commits.csv").is_file().then_some(dir)
}
