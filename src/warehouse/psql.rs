//! PostgreSQL through `psql`, the engine's own client (libpq: every auth
//! method, TLS, service files). One script per session, read-only, in one
//! REPEATABLE READ snapshot, in UTC; every result comes back as `COPY …
//! TO STDOUT` text (exact, NULL told from '') and is streamed line by line,
//! so a result of any size is never held whole. The URL is taken apart into
//! libpq's environment variables: it is never on a command line (another
//! account can read those) and never in a message.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::WarehouseError;
use super::psql_text::{decode_row, first_field, refuse_meta_commands};

/// A PostgreSQL session's settings, parsed from its URL.
#[derive(Clone)]
pub struct Postgres {
    /// libpq variables (PGHOST, PGUSER, PGPASSWORD, …).
    env: Vec<(&'static str, String)>,
    /// The password, to be scrubbed from anything psql prints.
    secret: Option<String>,
    pub timeout: Duration,
    pub warehouse: String,
    /// Stops its psql at once when requested.
    pub cancel: super::Cancel,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres").field("warehouse", &self.warehouse).finish_non_exhaustive()
    }
}

/// URL query parameters and the libpq variable each sets.
const PARAMETERS: &[(&str, &str)] = &[
    ("host", "PGHOST"),
    ("port", "PGPORT"),
    ("user", "PGUSER"),
    ("password", "PGPASSWORD"),
    ("dbname", "PGDATABASE"),
    ("sslmode", "PGSSLMODE"),
    ("sslrootcert", "PGSSLROOTCERT"),
    ("sslcert", "PGSSLCERT"),
    ("sslkey", "PGSSLKEY"),
    ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ("application_name", "PGAPPNAME"),
    ("options", "PGOPTIONS"),
    ("target_session_attrs", "PGTARGETSESSIONATTRS"),
];

/// Where a line between two results of one script says the next begins.
const MARK: &str = "__quarterdeck_result__";

/// One step of a session: a query whose rows are wanted (as COPY text), or
/// the names and types of a query's columns (`\\gdesc`, not run).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    Rows(String),
    Describe(String),
}

impl Step {
    fn sql(&self) -> &str {
        match self {
            Self::Rows(sql) | Self::Describe(sql) => sql,
        }
    }
}

impl Postgres {
    /// Parses `postgres://user:password@host:port/db?sslmode=…`; `env` names
    /// the variable it came from, for messages (which never show the URL).
    pub fn from_url(warehouse: &str, env: &str, text: &str, timeout: Duration) -> Result<Self, WarehouseError> {
        let bad = |why: &str| WarehouseError::Url {
            warehouse: warehouse.to_string(),
            env: env.to_string(),
            why: why.to_string(),
        };
        // libpq takes `postgres://user@/db?host=/socket/dir` (no host before
        // the path); the URL parser needs one, so a stand-in is dropped again.
        let text = text.trim();
        let (text, hostless) = match text.split_once("@/") {
            Some((head, tail)) if !head.contains('/') || head.ends_with("//") || head.matches('/').count() == 2 => {
                (format!("{head}@hostless.invalid/{tail}"), true)
            }
            _ => (text.to_string(), false),
        };
        let url = url::Url::parse(&text).map_err(|_| bad("not a URL such as postgres://user@host:5432/db"))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(bad("its scheme is not postgres://"));
        }
        let decode =
            |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        let mut env_vars: Vec<(&'static str, String)> = Vec::new();
        let mut set = |var: &'static str, value: String| {
            env_vars.retain(|(v, _)| *v != var);
            env_vars.push((var, value));
        };
        if let Some(host) = url.host_str().filter(|h| !h.is_empty() && !hostless) {
            // A socket folder may come percent-encoded as the host.
            set("PGHOST", decode(host.trim_matches(['[', ']'])).unwrap_or_default());
        }
        if let Some(port) = url.port() {
            set("PGPORT", port.to_string());
        }
        if !url.username().is_empty() {
            set("PGUSER", decode(url.username()).unwrap_or_default());
        }
        let mut secret = url.password().and_then(decode);
        if let Some(password) = &secret {
            set("PGPASSWORD", password.clone());
        }
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() {
            set("PGDATABASE", decode(db).unwrap_or_default());
        }
        for (key, value) in url.query_pairs() {
            let Some((_, var)) = PARAMETERS.iter().find(|(k, _)| *k == key) else {
                return Err(bad(&format!("unknown parameter `{}`", crate::text::visible(&key))));
            };
            if *var == "PGPASSWORD" {
                secret = Some(value.to_string());
            }
            set(var, value.into_owned());
        }
        Ok(Self {
            env: env_vars,
            secret: secret.filter(|s| !s.is_empty()),
            timeout,
            warehouse: warehouse.to_string(),
            cancel: super::Cancel::default(),
        })
    }

    /// Runs `steps` in one read-only snapshot; `each(result, fields)` is
    /// called for every row of step `i` in order, and `ended(i)` as soon as
    /// step `i`'s last row is in (before the next step's first). Fails on
    /// any error, timeout or lost line.
    pub fn run_marked(
        &self,
        steps: &[Step],
        each: &mut dyn FnMut(usize, Vec<Option<String>>) -> Result<(), WarehouseError>,
        ended: &mut dyn FnMut(usize),
    ) -> Result<(), WarehouseError> {
        let script = self.script(steps)?;
        let mut result = 0usize;
        let (succeeded, stderr) = self.stream(script, &mut |line| {
            if line == MARK.as_bytes() {
                ended(result);
                result += 1;
                return Ok(());
            }
            each(result, decode_row(&String::from_utf8_lossy(line)))
        })?;
        match succeeded {
            true if result + 1 == steps.len() => Ok(()),
            true => Err(self.failed("psql returned fewer results than asked for")),
            false => Err(self.failed(&stderr)),
        }
    }

    /// [`Postgres::run_marked`] of `steps`, while a second session that imports
    /// this one's snapshot (`pg_export_snapshot`) streams the rows of
    /// `keys` to `key_of` on a thread of its own (then `key_of(None)`): the
    /// two scans run at once, over the same rows. Without steps, the keys
    /// stream in one session.
    pub fn run_beside(
        &self,
        steps: &[Step],
        keys: &str,
        each: &mut dyn FnMut(usize, Vec<Option<String>>) -> Result<(), WarehouseError>,
        key_of: &mut (dyn FnMut(Option<&str>) -> Result<(), WarehouseError> + Send),
    ) -> Result<(), WarehouseError> {
        refuse_meta_commands(std::iter::once(keys), &self.warehouse)?;
        if steps.is_empty() {
            // Nothing beside the keys: one session.
            let script = self.script(&[Step::Rows(keys.to_string())])?;
            let (succeeded, stderr) = self.stream(script, &mut |line| key_of(Some(&first_field(line))))?;
            if !succeeded {
                return Err(self.failed(&stderr));
            }
            return key_of(None);
        }
        let exporting = self.script_open(steps, "COPY (SELECT pg_export_snapshot()) TO STDOUT;\n")?;
        let (id_tx, id_rx) = mpsc::channel::<String>();
        let (commit_tx, commit_rx) = mpsc::channel::<String>();
        std::thread::scope(|scope| {
            let beside = scope.spawn(move || -> Result<bool, WarehouseError> {
                let Ok(id) = id_rx.recv() else { return Ok(false) };
                let script = format!(
                    "\\set ON_ERROR_STOP on\n{}BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;\n\
                     SET TRANSACTION SNAPSHOT '{id}';\n\\echo {MARK}\nCOPY ({keys}) TO STDOUT;\nCOMMIT;\n",
                    self.settings()
                );
                let mut commit = Some(commit_tx);
                let (succeeded, stderr) = self.stream(script, &mut |line| {
                    if commit.is_some() {
                        if line != MARK.as_bytes() {
                            return Err(self.failed("the key session printed before it took the snapshot"));
                        }
                        // The snapshot is taken: the exporting session may end.
                        if let Some(commit) = commit.take() {
                            let _ = commit.send("COMMIT;\n".into());
                        }
                        return Ok(());
                    }
                    key_of(Some(&first_field(line)))
                })?;
                if !succeeded || commit.is_some() {
                    return Err(self.failed(&stderr));
                }
                key_of(None)?;
                Ok(true)
            });
            let mut id_tx = Some(id_tx);
            let mut result = 0usize;
            let outcome = self.stream_fed(exporting, Some(commit_rx), &mut |line| {
                if line == MARK.as_bytes() {
                    result += 1;
                    return Ok(());
                }
                if result == 0 {
                    let id = String::from_utf8_lossy(line).into_owned();
                    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                        return Err(self.failed("pg_export_snapshot() returned no snapshot id"));
                    }
                    if let Some(tx) = id_tx.take() {
                        let _ = tx.send(id);
                    }
                    return Ok(());
                }
                each(result - 1, decode_row(&String::from_utf8_lossy(line)))
            });
            // A session that failed before its snapshot lets the other go.
            drop(id_tx);
            let beside = beside.join().unwrap_or_else(|_| Err(self.failed("the key session stopped")));
            let (succeeded, stderr) = outcome?;
            if !succeeded {
                return Err(self.failed(&stderr));
            }
            if result != steps.len() {
                return Err(self.failed("psql returned fewer results than asked for"));
            }
            match beside? {
                true => Ok(()),
                false => Err(self.failed("the key session did not start")),
            }
        })
    }

    /// Compiles each statement there without running it (`EXPLAIN`), each
    /// on its own: the error of each, None where it compiled.
    pub fn compile(&self, statements: &[String]) -> Result<Vec<Option<String>>, WarehouseError> {
        refuse_meta_commands(statements.iter().map(String::as_str), &self.warehouse)?;
        let mut script = self.settings();
        let mut spans = Vec::new();
        for statement in statements {
            let first = script.lines().count() + 1;
            script.push_str(&format!("EXPLAIN {statement};\n"));
            spans.push(first..=script.lines().count());
        }
        let (_, stderr) = self.stream(script, &mut |_| Ok(()))?;
        if stderr.contains("psql: error:") {
            return Err(self.failed(&stderr));
        }
        let mut errors: Vec<Option<String>> = vec![None; statements.len()];
        for line in stderr.lines() {
            let Some(rest) = line.strip_prefix("psql:<stdin>:") else { continue };
            let Some((number, message)) = rest.split_once(':') else { continue };
            let Ok(number) = number.parse::<usize>() else { continue };
            let message = message.trim();
            let Some(message) = message.strip_prefix("ERROR:") else { continue };
            if let Some(i) = spans.iter().position(|span| span.contains(&number)) {
                errors[i].get_or_insert_with(|| self.scrub(message.trim()));
            }
        }
        Ok(errors)
    }

    /// Runs a script, feeding each line of its output to `line_of`;
    /// returns whether psql succeeded and what it said on stderr (scrubbed
    /// of the password).
    fn stream(
        &self,
        script: String,
        line_of: &mut dyn FnMut(&[u8]) -> Result<(), WarehouseError>,
    ) -> Result<(bool, String), WarehouseError> {
        self.stream_fed(script, None, line_of)
    }

    /// [`Postgres::stream`] of a script whose end is sent later, part by
    /// part, on `more` (psql runs each line as it arrives; its input ends
    /// when `more` closes).
    fn stream_fed(
        &self,
        script: String,
        more: Option<mpsc::Receiver<String>>,
        line_of: &mut dyn FnMut(&[u8]) -> Result<(), WarehouseError>,
    ) -> Result<(bool, String), WarehouseError> {
        let mut child = self.spawn()?;
        let mut stdin = child.stdin.take().ok_or_else(|| self.failed("psql took no input"))?;
        let stdout = child.stdout.take().ok_or_else(|| self.failed("psql gave no output"))?;
        let stderr = child.stderr.take();
        let watchdog = Watchdog::start(child, self.timeout, self.cancel.clone());
        let fed = more.is_some();
        let writer = std::thread::spawn(move || {
            stdin.write_all(script.as_bytes())?;
            stdin.flush()?;
            for part in more.into_iter().flatten() {
                stdin.write_all(part.as_bytes())?;
                stdin.flush()?;
            }
            Ok::<(), std::io::Error>(())
        });
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut stderr) = stderr {
                let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            }
            text
        });
        let mut failure = None;
        let mut reader = BufReader::with_capacity(1 << 16, stdout);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    failure = Some(self.failed(&format!("reading psql's output: {e}")));
                    break;
                }
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            } else {
                failure = Some(self.failed("psql's output ended inside a row"));
                break;
            }
            if failure.is_some() {
                continue;
            }
            if let Err(e) = line_of(&line) {
                failure = Some(e);
                watchdog.stop_now();
            }
        }
        // A fed script's writer may still wait for its next part, which
        // comes from another session: it ends when that session's sender
        // goes, and writes nothing to a psql that has exited.
        if !fed {
            let _ = writer.join();
        }
        let status = watchdog.finish();
        let stderr = errors.join().unwrap_or_default();
        // Killed on request: whatever the cut-off output looked like.
        if matches!(status, Finished::Cancelled) {
            return Err(WarehouseError::Cancelled { warehouse: self.warehouse.clone() });
        }
        if let Some(failure) = failure {
            return Err(failure);
        }
        match status {
            Finished::TimedOut => {
                Err(WarehouseError::Timeout { warehouse: self.warehouse.clone(), after: self.timeout })
            }
            Finished::Exited(success) => Ok((success, self.scrub_all(&stderr))),
            Finished::Lost | Finished::Cancelled => Ok((false, self.scrub_all(&stderr))),
        }
    }

    /// The session's settings: UTC, ISO dates, a statement timeout.
    fn settings(&self) -> String {
        let millis = self.timeout.as_millis().max(1);
        format!(
            "SET default_transaction_read_only = on;\nSET TimeZone = 'UTC';\nSET DateStyle = 'ISO, YMD';\n\
             SET statement_timeout = {millis};\nSET client_encoding = 'UTF8';\nSET extra_float_digits = 1;\n\
             SET bytea_output = 'hex';\n"
        )
    }

    /// The script psql runs: settings, the snapshot, each step.
    fn script(&self, steps: &[Step]) -> Result<String, WarehouseError> {
        let mut script = self.script_open(steps, "")?;
        script.push_str("COMMIT;\n");
        Ok(script)
    }

    /// The script up to its COMMIT: settings, the snapshot, `first` (a
    /// result before the steps' own, then a mark), each step.
    fn script_open(&self, steps: &[Step], first: &str) -> Result<String, WarehouseError> {
        refuse_meta_commands(steps.iter().map(Step::sql), &self.warehouse)?;
        let mut script = format!(
            "\\set ON_ERROR_STOP on\n{}BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;\n\\pset fieldsep '\\t'\n{first}",
            self.settings()
        );
        for (i, step) in steps.iter().enumerate() {
            if i > 0 || !first.is_empty() {
                script.push_str(&format!("\\echo {MARK}\n"));
            }
            match step {
                Step::Rows(sql) => script.push_str(&format!("COPY ({sql}) TO STDOUT;\n")),
                Step::Describe(sql) => {
                    script.push_str(&format!("SELECT * FROM ({sql}) AS described LIMIT 0 \\gdesc\n"))
                }
            }
        }
        Ok(script)
    }

    fn spawn(&self) -> Result<Child, WarehouseError> {
        let mut command = Command::new(psql_program());
        command
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Only this warehouse's settings reach libpq.
        for (_, var) in PARAMETERS {
            command.env_remove(var);
        }
        command.env_remove("PGSERVICE");
        for (var, value) in &self.env {
            command.env(var, value);
        }
        command.spawn().map_err(|e| WarehouseError::NoClient { warehouse: self.warehouse.clone(), why: e.to_string() })
    }

    fn failed(&self, why: &str) -> WarehouseError {
        WarehouseError::Failed { warehouse: self.warehouse.clone(), message: self.scrub(why) }
    }

    /// All psql said, without the password.
    fn scrub_all(&self, text: &str) -> String {
        match &self.secret {
            Some(secret) => text.replace(secret.as_str(), "***"),
            None => text.to_string(),
        }
    }

    /// psql's message, without the password and on as few lines as it needs.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.trim().replace("psql:<stdin>:", "line ");
        if let Some(secret) = &self.secret {
            text = text.replace(secret.as_str(), "***");
        }
        let text: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(6).collect();
        crate::text::visible(&text.join(" / "))
    }
}

/// The psql to run: $QUARTERDECK_PSQL, else `psql` on the PATH.
fn psql_program() -> String {
    std::env::var("QUARTERDECK_PSQL").ok().filter(|p| !p.trim().is_empty()).unwrap_or_else(|| "psql".into())
}

enum Finished {
    Exited(bool),
    TimedOut,
    Cancelled,
    Lost,
}

/// Kills psql when the session outlives its timeout (a server that stops
/// answering is a failure, not a hang), when its session is cancelled, or
/// at once on `stop_now`.
struct Watchdog {
    stop: mpsc::Sender<()>,
    handle: std::thread::JoinHandle<Finished>,
}

/// Stops psql so that the server stops too: SIGINT makes psql send the
/// server a cancel request for the running statement (and exit, as
/// ON_ERROR_STOP is on); killed if it has not exited two seconds later.
/// (A killed psql alone would leave the server running the statement until
/// it next writes to the connection.)
fn interrupt(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) on the pid of a child not yet reaped touches no memory.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
        let asked = std::time::Instant::now();
        while asked.elapsed() < Duration::from_secs(2) {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Watchdog {
    fn start(mut child: Child, timeout: Duration, cancel: super::Cancel) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        // A margin over the server's own statement_timeout, so that its
        // clear message usually wins; connecting counts too.
        let limit = timeout + Duration::from_secs(5);
        let handle = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => return Finished::Exited(status.success()),
                    Ok(None) => {}
                    Err(_) => return Finished::Lost,
                }
                if started.elapsed() > limit {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Finished::TimedOut;
                }
                if cancel.requested() {
                    interrupt(&mut child);
                    return Finished::Cancelled;
                }
                match stopped.recv_timeout(Duration::from_millis(20)) {
                    Ok(()) => {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Finished::Lost;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) | Err(mpsc::RecvTimeoutError::Disconnected) => {}
                }
            }
        });
        Self { stop, handle }
    }

    fn stop_now(&self) {
        let _ = self.stop.send(());
    }

    fn finish(self) -> Finished {
        self.handle.join().unwrap_or(Finished::Lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_becomes_libpq_settings_and_its_password_is_scrubbed() {
        let pg = Postgres::from_url(
            "pg",
            "PG_URL",
            "postgres://alice:s%40cret@db.example:6543/evidence?sslmode=require",
            Duration::from_secs(5),
        )
        .unwrap();
        let get = |var: &str| pg.env.iter().find(|(v, _)| *v == var).map(|(_, x)| x.as_str());
        assert_eq!(get("PGHOST"), Some("db.example"));
        assert_eq!(get("PGPORT"), Some("6543"));
        assert_eq!(get("PGUSER"), Some("alice"));
        assert_eq!(get("PGPASSWORD"), Some("s@cret"));
        assert_eq!(get("PGDATABASE"), Some("evidence"));
        assert_eq!(get("PGSSLMODE"), Some("require"));
        assert_eq!(pg.scrub("FATAL: password s@cret rejected"), "FATAL: password *** rejected");
        assert!(!format!("{pg:?}").contains("s@cret"));
        let socket = Postgres::from_url(
            "pg",
            "PG_URL",
            "postgres://qd:pw@/evidence?host=/run/pg&port=5439",
            Duration::from_secs(1),
        )
        .unwrap();
        let get = |var: &str| socket.env.iter().find(|(v, _)| *v == var).map(|(_, x)| x.clone());
        assert_eq!(get("PGHOST").as_deref(), Some("/run/pg"));
        assert_eq!(get("PGDATABASE").as_deref(), Some("evidence"));
        assert_eq!(get("PGUSER").as_deref(), Some("qd"));
        let err = Postgres::from_url("pg", "PG_URL", "postgres://a:hunter2@h/db?colour=red", Duration::from_secs(1))
            .unwrap_err();
        assert!(err.to_string().contains("colour") && !err.to_string().contains("hunter2"), "{err}");
        let err = Postgres::from_url("pg", "PG_URL", "mysql://a:hunter2@h/db", Duration::from_secs(1)).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
