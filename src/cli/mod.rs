//! The headless command line: one file per subcommand, output formatting in
//! `output`. Errors go to stderr; exit codes are documented in `--help`.

/// `println!` for text a person reads: every line passes the sanitiser, so
/// evidence, mapping names and labels reach the terminal only as text.
/// A closed pipe returns from the command (`?`) as `BrokenPipe`, which
/// `run` takes for the reader having read enough: no panic, exit 0.
macro_rules! say {
    () => { $crate::cli::output::say("")? };
    ($($arg:tt)*) => { $crate::cli::output::say(&$crate::text::visible_lines(&format!($($arg)*)))? };
}

/// `eprintln!` that never panics: with stderr closed the message is lost,
/// not the command's exit code.
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod ask;
mod attach;
mod audit;
mod check;
mod completions;
mod controls;
mod criteria;
mod demo;
mod documents;
mod failure;
mod findings;
mod ingest;
mod init;
pub mod output;
mod packet;
mod progress;
pub use failure::Failure;
mod pull;
mod query;
mod review;
mod sample;
mod sources;
mod systems;
mod test;
mod values;
mod verdict;
mod verify;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::workspace::discovery::{Discovered, discover};
use crate::workspace::{Access, Clock, OpenOptions, Workspace, WorkspaceError};
use output::Format;

const GLOBAL: &str = "Global options";

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the command ran and found problems (check: mapping problems; test: a failing or inconclusive test; verify: a broken
     action log), or an unexpected error
  2  usage error (unknown command or option, a value not in its list: verdict, severity, status)
  3  the workspace cannot be used: not found, locked by another process, newer schema, or a write refused by --read-only
  4  bad input refused, nothing changed: malformed evidence or configuration, unknown source, control, audit, finding or
     key, refused SQL, bad period, an illegal finding transition, a review by one of the control's testers, any change
     to a closed audit
  5  a query or test ran past the statement timeout ([limits] in quarterdeck.toml) or was stopped; nothing changed
  6  pull: a source failed to fetch or to load (each is named on stderr; the evidence it would have changed is as it
     was)";

#[derive(Debug, Parser)]
#[command(
    name = "quarterdeck",
    version,
    propagate_version = true,
    about = "SOC 2 audit preparation over a DuckDB evidence workspace",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Workspace folder (else $QUARTERDECK_WORKSPACE, else the current folder
    /// if it holds quarterdeck.toml; only the terminal UI falls back to the
    /// demo workspace)
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
    pub workspace: Option<PathBuf>,
    /// Open the workspace read-only: every write is refused
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub read_only: bool,
    /// Output format; a command that cannot give it refuses it (exit 2)
    #[arg(long, global = true, value_enum, default_value_t = Format::Table, help_heading = GLOBAL)]
    pub format: Format,
    /// DuckDB worker threads (default: one per core)
    #[arg(long, global = true, hide = true, env = "QUARTERDECK_THREADS", help_heading = GLOBAL)]
    pub threads: Option<u32>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new workspace with example configuration, controls and evidence
    Init {
        /// The folder to create (it must not hold a workspace yet)
        dir: PathBuf,
    },
    /// Generate the demo workspace of a fictional company
    Demo(demo::DemoArgs),
    /// Validate every control mapping against the catalog and the workspace
    Check,
    /// List the SOC 2 criteria with the controls mapped to each
    Criteria,
    /// List the controls with criteria, owner and frequency
    Controls,
    /// Show each source's rows, freshness, last run and coverage gaps
    Sources {
        /// Audit period for coverage: 2026-Q3, 2026-07, 2026 or FROM..TO
        #[arg(long)]
        period: Option<String>,
    },
    /// Load files into an evidence source (append or replace, one transaction)
    Ingest {
        /// The source's name in quarterdeck.toml
        source: String,
        /// Files to load (default: the source's path in quarterdeck.toml)
        files: Vec<PathBuf>,
    },
    /// Re-read a source that lives where it lies (Parquet in place, or a
    /// warehouse): its files and footers or its columns, its row counts;
    /// nothing is copied
    Refresh {
        /// The source's name in quarterdeck.toml
        source: String,
    },
    /// Fetch connector sources (concurrently) and load what each pulled
    Pull {
        /// Sources to pull (default: every connector source in quarterdeck.toml)
        sources: Vec<String>,
        /// How many sources to fetch at once
        #[arg(long, default_value_t = 4)]
        jobs: usize,
    },
    /// The document register: each document's state, or `collect` to hash, keep and log its files
    Documents(documents::DocumentsArgs),
    /// The system inventory against the evidence: each system, the controls covering it, and the drift (exit 1 on drift)
    Systems {
        /// Period: 2026-Q3, 2026-07, 2026 or FROM..TO (default: the last full quarter)
        #[arg(long)]
        period: Option<String>,
        /// Only the drift lines: unknown, retired-but-active, uncovered, review-overdue, owner-unknown
        #[arg(long)]
        drift: bool,
    },
    /// Run a control's attribute tests over the whole population of a period
    Test {
        /// The control's id, e.g. CHG-1
        control: String,
        /// Period: 2026-Q3, 2026-07, 2026 or FROM..TO (default: the last full quarter)
        #[arg(long)]
        period: Option<String>,
    },
    /// Run one read-only SELECT against the workspace
    Query {
        /// One SELECT (or WITH … SELECT) over the evidence tables
        sql: String,
    },
    /// Mock audits: start, list, show, close
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// A control's sample: frozen in an audit, or drawn ad hoc for a period
    Sample(sample::SampleArgs),
    /// Record a verdict on a sampled row: pass, exception or na
    Verdict {
        /// The audit's label
        audit: String,
        /// The control's id
        control: String,
        /// The row's key as `sample` shows it (key columns joined by " | ")
        key: String,
        /// The verdict
        #[arg(value_enum)]
        verdict: crate::audit::verdicts::Verdict,
        /// Why (needed for a pass over a failing test)
        #[arg(long)]
        note: Option<String>,
    },
    /// Attach a file (a ticket, a screenshot, an approval kept elsewhere) to a sampled row,
    /// or a finding's population row: stored by its sha256 in the workspace, logged
    Attach {
        /// The audit's label
        audit: String,
        /// The control's id
        control: String,
        /// The row's key as `sample` shows it (key columns joined by " | ")
        key: String,
        /// The file to attach (copied into evidence/blobs/)
        file: PathBuf,
        /// What the file shows (logged; listed with the attachment)
        #[arg(long)]
        note: Option<String>,
    },
    /// Sign off a control's finished testing in an audit, as a reviewer who
    /// recorded none of its verdicts
    Review {
        /// The audit's label
        audit: String,
        /// The control's id
        control: String,
        /// The reviewer's conclusion on the testing (logged; shown in `audit show`)
        #[arg(long)]
        conclusion: String,
    },
    /// Findings: add, list, show, set
    #[command(subcommand)]
    Findings(findings::FindingsCommand),
    /// Answer an auditor's question with a frozen sample, and track the request
    Ask {
        /// The auditor's question, in their words
        text: String,
        /// When the auditor needs the answer (YYYY-MM-DD)
        #[arg(long)]
        due: Option<chrono::NaiveDate>,
    },
    /// Auditor requests
    #[command(subcommand)]
    Requests(RequestsCommand),
    /// Check the action log: its hash chain, its head against quarterdeck.head
    /// (or --expect-head), and the state tables replayed against it; exit 1 on
    /// any problem
    Verify {
        /// A head held elsewhere (SEQ:HASH, as `verify` prints it) that the log must still contain
        #[arg(long, value_name = "SEQ:HASH", conflicts_with = "packet")]
        expect_head: Option<String>,
        /// Check a packet (folder or zip) instead: every hash, each sample's ranks, and, run inside
        /// its workspace, each population recounted and the log
        #[arg(long, value_name = "DIR|ZIP")]
        packet: Option<PathBuf>,
    },
    /// Write an audit's packet for the auditor: README, index.html, workpapers, IPE sheets,
    /// findings, the log slice, OSCAL and a manifest (default packets/LABEL in the workspace)
    Packet(packet::PacketArgs),
    /// Print a shell completion script to stdout (needs no workspace)
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, or write one page per command (needs no workspace)
    Man {
        /// Write quarterdeck.1 and one page per subcommand into this folder instead
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// Every request with its status and the sample that answered it
    List,
}

/// What every subcommand gets: the global options.
pub struct Context {
    pub workspace: Option<PathBuf>,
    pub read_only: bool,
    pub format: Format,
    pub threads: Option<u32>,
    /// What "now" is: the wall clock, or `QUARTERDECK_NOW`.
    pub clock: Clock,
    /// Whether no workspace found means the demo (the terminal UI only: a
    /// command must never read or write the demo by accident).
    pub demo_fallback: bool,
}

impl Context {
    pub fn access(&self) -> Access {
        if self.read_only { Access::ReadOnly } else { Access::ReadWrite }
    }

    /// Opens the workspace chosen by flag, environment or current folder
    /// (for the terminal UI, failing those, the demo workspace).
    pub fn open(&self) -> Result<Workspace, Failure> {
        let dir = self.discover()?;
        self.open_at(&dir)
    }

    /// Opens for a command that only reads: read-only (no write lock, the
    /// instance locked down), unless the database must first be created or
    /// migrated, which only a read-write open can do.
    pub fn open_reading(&self) -> Result<Workspace, Failure> {
        let dir = self.discover()?;
        let reading = Context { workspace: self.workspace.clone(), read_only: true, ..*self };
        match reading.open_at(&dir) {
            Err(e)
                if !self.read_only
                    && e.error.downcast_ref::<WorkspaceError>().is_some_and(|w| {
                        matches!(w, WorkspaceError::NoDatabase { .. } | WorkspaceError::NeedsMigration { .. })
                    }) =>
            {
                self.open_at(&dir)
            }
            other => other,
        }
    }

    /// The workspace folder to use; the demo only where it may be the
    /// fallback (generated on first use), else exit 3 with what to do.
    pub fn discover(&self) -> Result<PathBuf, Failure> {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        let env = std::env::var("QUARTERDECK_WORKSPACE").ok();
        let located = discover(self.workspace.as_deref(), env.as_deref(), &cwd);
        if matches!(located, Discovered::Demo(_)) && !self.demo_fallback {
            return Err(NoWorkspace.into());
        }
        if let Discovered::Demo(dir) = &located
            && !dir.join(crate::workspace::config::CONFIG_FILE).exists()
        {
            if self.read_only {
                return Err(WorkspaceError::ReadOnly(format!(
                    "creating the demo workspace at {} (no workspace was given)",
                    dir.display()
                ))
                .into());
            }
            tell!("No workspace given; creating the demo workspace at {}", dir.display());
            demo::create(dir, &demo::DemoArgs::defaults(), self.threads, self.clock)?;
        }
        Ok(located.path().to_path_buf())
    }

    /// Opens the terminal UI on `dir`.
    pub fn open_tui(&self, dir: &Path) -> Outcome {
        let options = crate::tui::worker::Options {
            root: dir.to_path_buf(),
            access: self.access(),
            threads: self.threads,
            clock: self.clock,
        };
        crate::tui::run(options)?;
        Ok(0)
    }

    pub fn open_at(&self, dir: &Path) -> Result<Workspace, Failure> {
        let options = OpenOptions { threads: self.threads, clock: self.clock, progress: false };
        Ok(Workspace::open_with(dir, self.access(), &options)?)
    }
}

/// A command's result: an exit code when it ran but found problems.
pub type Outcome = Result<i32, Failure>;

/// Runs the command line. A reader that closed the pipe early (`| head`)
/// has read what it wanted: that is a success, said nowhere.
pub fn run(cli: Cli) -> Outcome {
    match dispatch(cli) {
        Err(failure) if failure.is_closed_pipe() => Ok(0),
        other => other,
    }
}

fn dispatch(cli: Cli) -> Outcome {
    let (name, formats) = formats(cli.command.as_ref());
    if !formats.contains(&cli.format) {
        let asked = clap::ValueEnum::to_possible_value(&cli.format).map(|v| v.get_name().to_string());
        tell!("error: --format {} is not supported by {name}", asked.unwrap_or_default());
        return Ok(2);
    }
    let clock = Clock::from_env().map_err(|e| BadInput(e.to_string()))?;
    let ctx = Context {
        workspace: cli.workspace,
        read_only: cli.read_only,
        format: cli.format,
        threads: cli.threads,
        clock,
        demo_fallback: cli.command.is_none(),
    };
    match cli.command {
        None => {
            if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                tell!("The terminal UI needs a terminal; use the subcommands (quarterdeck --help) in scripts.");
                return Ok(2);
            }
            let dir = ctx.discover()?;
            ctx.open_tui(&dir)
        }
        Some(Command::Init { dir }) => init::run(&ctx, &dir),
        Some(Command::Demo(args)) => demo::run(&ctx, &args),
        Some(Command::Check) => check::run(&ctx),
        Some(Command::Criteria) => criteria::run(&ctx),
        Some(Command::Controls) => controls::run(&ctx),
        Some(Command::Sources { period }) => sources::run(&ctx, period.as_deref()),
        Some(Command::Ingest { source, files }) => ingest::run(&ctx, &source, &files),
        Some(Command::Refresh { source }) => ingest::refresh(&ctx, &source),
        Some(Command::Pull { sources, jobs }) => pull::run(&ctx, &sources, jobs),
        Some(Command::Documents(args)) => documents::run(&ctx, &args),
        Some(Command::Systems { period, drift }) => systems::run(&ctx, period.as_deref(), drift),
        Some(Command::Test { control, period }) => test::run(&ctx, &control, period.as_deref()),
        Some(Command::Query { sql }) => query::run(&ctx, &sql),
        Some(Command::Audit(command)) => audit::run(&ctx, &command),
        Some(Command::Sample(args)) => sample::run(&ctx, &args),
        Some(Command::Verdict { audit, control, key, verdict, note }) => {
            verdict::run(&ctx, &audit, &control, &key, verdict, note.as_deref())
        }
        Some(Command::Attach { audit, control, key, file, note }) => {
            attach::run(&ctx, &audit, &control, &key, &file, note.as_deref())
        }
        Some(Command::Review { audit, control, conclusion }) => review::run(&ctx, &audit, &control, &conclusion),
        Some(Command::Findings(command)) => findings::run(&ctx, &command),
        Some(Command::Ask { text, due }) => ask::run_ask(&ctx, &text, due),
        Some(Command::Requests(RequestsCommand::List)) => ask::run_list(&ctx),
        Some(Command::Verify { packet: Some(path), .. }) => packet::verify_packet(&ctx, &path),
        Some(Command::Verify { expect_head, packet: None }) => verify::run(&ctx, expect_head.as_deref()),
        Some(Command::Packet(args)) => packet::run(&ctx, &args),
        Some(Command::Completions { shell }) => completions::completions(shell),
        Some(Command::Man { out }) => completions::man(out.as_deref()),
    }
}

/// The command's name as typed, and the formats it can give: every output
/// honours `--format` or refuses it, never ignores it.
fn formats(command: Option<&Command>) -> (&'static str, &'static [Format]) {
    use Format::{Csv, Json, Table};
    const ALL: &[Format] = &[Table, Json, Csv];
    const TEXT: &[Format] = &[Table];
    match command {
        None => ("the terminal UI", TEXT),
        Some(Command::Init { .. }) => ("init", TEXT),
        Some(Command::Demo(_)) => ("demo", TEXT),
        Some(Command::Check) => ("check", ALL),
        Some(Command::Criteria) => ("criteria", ALL),
        Some(Command::Controls) => ("controls", ALL),
        Some(Command::Sources { .. }) => ("sources", ALL),
        Some(Command::Ingest { .. }) => ("ingest", ALL),
        Some(Command::Refresh { .. }) => ("refresh", ALL),
        Some(Command::Pull { .. }) => ("pull", ALL),
        Some(Command::Documents(args)) => match args.command {
            Some(documents::DocumentsCommand::Collect { .. }) => ("documents collect", ALL),
            None => ("documents", ALL),
        },
        Some(Command::Systems { .. }) => ("systems", ALL),
        Some(Command::Test { .. }) => ("test", ALL),
        Some(Command::Query { .. }) => ("query", ALL),
        Some(Command::Audit(audit::AuditCommand::Start { .. })) => ("audit start", TEXT),
        Some(Command::Audit(audit::AuditCommand::List)) => ("audit list", ALL),
        Some(Command::Audit(audit::AuditCommand::Show { .. })) => ("audit show", ALL),
        Some(Command::Audit(audit::AuditCommand::Close { .. })) => ("audit close", TEXT),
        Some(Command::Sample(_)) => ("sample", ALL),
        Some(Command::Verdict { .. }) => ("verdict", TEXT),
        Some(Command::Attach { .. }) => ("attach", TEXT),
        Some(Command::Review { .. }) => ("review", TEXT),
        Some(Command::Findings(findings::FindingsCommand::Add { .. })) => ("findings add", TEXT),
        Some(Command::Findings(findings::FindingsCommand::List { .. })) => ("findings list", ALL),
        Some(Command::Findings(findings::FindingsCommand::Show { .. })) => ("findings show", ALL),
        Some(Command::Findings(findings::FindingsCommand::Set { .. })) => ("findings set", TEXT),
        Some(Command::Ask { .. }) => ("ask", ALL),
        Some(Command::Requests(RequestsCommand::List)) => ("requests list", ALL),
        Some(Command::Verify { .. }) => ("verify", &[Table, Json]),
        Some(Command::Packet(_)) => ("packet", &[Table, Json]),
        Some(Command::Completions { .. }) => ("completions", TEXT),
        Some(Command::Man { .. }) => ("man", TEXT),
    }
}

/// No workspace was named and none is here; only the terminal UI falls
/// back to the demo.
#[derive(Debug, thiserror::Error)]
#[error("no workspace here: pass --workspace DIR, set QUARTERDECK_WORKSPACE, cd into one, or run `quarterdeck demo`")]
pub struct NoWorkspace;

crate::error::kind!(Unusable: NoWorkspace);

/// Input the user can fix, reported as exit code 4.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

crate::error::kind!(BadInput: BadInput);

/// The period given, or the last full quarter in the workspace's zone.
pub fn period_or_last_quarter(
    ws: &Workspace,
    given: Option<&str>,
) -> Result<crate::workspace::period::Period, Failure> {
    use crate::workspace::period::Period;
    let tz = ws.config.timezone;
    Ok(match given {
        Some(text) => Period::parse(text, tz)?,
        None => Period::last_full_quarter(ws.today(), tz)?,
    })
}

#[cfg(test)]
mod tests;
