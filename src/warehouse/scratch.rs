//! A throwaway PostgreSQL cluster for the tests and the benchmarks: `initdb`
//! in a temp folder, a server on a Unix socket only (no TCP, no system
//! service), stopped and removed on drop. As root, initdb and postgres run
//! as `nobody` (they refuse root).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct ScratchCluster {
    dir: PathBuf,
    server: Child,
}

/// The socket's port number (it only names the socket file in `dir`).
const PORT: &str = "5439";
/// The unprivileged account the server runs as under root.
const NOBODY: u32 = 65534;

/// A PostgreSQL server binary: on the PATH, else Debian's newest
/// /usr/lib/postgresql/*/bin.
pub fn server_binary(name: &str) -> Option<PathBuf> {
    let on_path =
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|b| b.is_file()));
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
            .filter(|b| b.is_file())
            .collect();
        found.sort();
        found.pop()
    })
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false)
}

fn as_server_user(program: &Path, root: bool) -> Command {
    if root {
        let mut command = Command::new("setpriv");
        command.args([format!("--reuid={NOBODY}"), format!("--regid={NOBODY}"), "--clear-groups".into()]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl ScratchCluster {
    /// A started cluster; Ok(None) when the server binaries are absent.
    pub fn start(tag: &str) -> Result<Option<Self>, String> {
        let (Some(initdb), Some(postgres)) = (server_binary("initdb"), server_binary("postgres")) else {
            return Ok(None);
        };
        let root = is_root();
        // Short: a socket's path has a length limit.
        let dir = PathBuf::from(format!("/tmp/qdpg-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if root {
            std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).map_err(|e| format!("chown: {e}"))?;
        }
        let init = as_server_user(&initdb, root)
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-A", "trust", "-U", "qd", "-E", "UTF8", "--locale=C", "--no-sync"])
            .stdout(Stdio::null())
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !init.status.success() {
            return Err(format!("initdb: {}", String::from_utf8_lossy(&init.stderr)));
        }
        let server = as_server_user(&postgres, root)
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-k")
            .arg(&dir)
            .args(["-p", PORT, "-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=20"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("postgres: {e}"))?;
        let cluster = Self { dir, server };
        for _ in 0..400 {
            if cluster.psql("SELECT 1").is_ok() {
                return Ok(Some(cluster));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Err("PostgreSQL did not start in 20 s".into())
    }

    /// A libpq URL to the cluster's `postgres` database as `qd`, with
    /// `password` in it (trust auth ignores it).
    pub fn url(&self, password: &str) -> String {
        format!("postgres://qd:{password}@/postgres?host={}&port={PORT}", self.dir.display())
    }

    /// The cluster's folder (the socket, and room for files to `\copy`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs SQL (or a psql meta-command) with psql; its unaligned output.
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .env("PGHOST", &self.dir)
            .env("PGPORT", PORT)
            .env("PGUSER", "qd")
            .env("PGDATABASE", "postgres")
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end_matches('\n').to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

impl Drop for ScratchCluster {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
