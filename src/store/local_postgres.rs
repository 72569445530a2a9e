//! Finding a PostgreSQL to talk to when none is configured: the machine's
//! local server, or a throwaway cluster started from the installed server
//! binaries. Tests and `shopsync demo` use this; `shopsync run` does not (an
//! operator is always given `DATABASE_URL`).

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Where a local server is expected when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Why no database could be found.
#[derive(Debug, thiserror::Error)]
pub enum LocalPostgresError {
    #[error(
        "DATABASE_URL={url} does not answer ({cause}); start that server or point DATABASE_URL at one that runs"
    )]
    ConfiguredUnreachable { url: String, cause: String },
    #[error(
        "no PostgreSQL answers at {DEFAULT_DATABASE_URL} and no PostgreSQL server binaries (initdb, pg_ctl) are installed. \
         Fix either way: set DATABASE_URL to a reachable server, or install the server binaries \
         (apt-get install postgresql) so a throwaway cluster can be started under {dir}"
    )]
    NothingAvailable { dir: String },
    #[error("starting the throwaway PostgreSQL cluster under {dir} failed: {detail}")]
    Throwaway { dir: String, detail: String },
}

/// Resolves the admin URL of a PostgreSQL server: `DATABASE_URL` if set, else
/// the local default, else a throwaway cluster under `scratch_dir`.
pub async fn resolve(scratch_dir: &Path) -> Result<String, LocalPostgresError> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return match probe(&url).await {
            Ok(()) => Ok(url),
            Err(cause) => Err(LocalPostgresError::ConfiguredUnreachable {
                url: redact(&url),
                cause,
            }),
        };
    }
    if probe(DEFAULT_DATABASE_URL).await.is_ok() {
        return Ok(DEFAULT_DATABASE_URL.to_owned());
    }
    let dir = scratch_dir.to_owned();
    let cluster = tokio::task::spawn_blocking(move || ThrowawayCluster::ensure_running(&dir))
        .await
        .map_err(|e| LocalPostgresError::Throwaway {
            dir: scratch_dir.display().to_string(),
            detail: e.to_string(),
        })??;
    Ok(cluster.url())
}

/// Connects once with a short timeout; the error text says why it failed.
pub async fn probe(url: &str) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_secs(3), PgConnection::connect(url)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 3s".to_owned()),
    }
}

/// Hides the password of a connection URL for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(unparseable URL)".to_owned(),
    }
}

/// A PostgreSQL cluster in a scratch directory, owned by the `postgres` user
/// when running as root (initdb refuses root). Started once and reused by
/// every process that asks for the same directory until it is stopped.
#[derive(Debug, Clone)]
pub struct ThrowawayCluster {
    dir: PathBuf,
    port: u16,
}

impl ThrowawayCluster {
    /// The admin URL (trust auth, user `postgres`).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the cluster in `dir` unless it already runs; safe to call from
    /// many processes at once (a file lock serialises them).
    pub fn ensure_running(dir: &Path) -> Result<ThrowawayCluster, LocalPostgresError> {
        let fail = |detail: String| LocalPostgresError::Throwaway {
            dir: dir.display().to_string(),
            detail,
        };
        let bin = server_bin_dir().ok_or_else(|| LocalPostgresError::NothingAvailable {
            dir: dir.display().to_string(),
        })?;
        fs::create_dir_all(dir).map_err(|e| fail(format!("creating the directory: {e}")))?;
        let lock = File::create(dir.join("lock")).map_err(|e| fail(e.to_string()))?;
        lock.lock().map_err(|e| fail(format!("locking: {e}")))?;

        let data = dir.join("data");
        let port_file = dir.join("port");
        if let Some(port) = read_port(&port_file) {
            let cluster = ThrowawayCluster {
                dir: dir.to_owned(),
                port,
            };
            if cluster.is_running(&bin) {
                return Ok(cluster);
            }
        }
        let as_root = is_root();
        if !data.join("PG_VERSION").exists() {
            let _ = fs::remove_dir_all(&data);
            fs::create_dir_all(&data).map_err(|e| fail(e.to_string()))?;
            if as_root {
                chown_postgres(dir).map_err(fail)?;
            }
            run(
                &bin.join("initdb"),
                &[
                    "-D",
                    path_str(&data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
                as_root,
            )
            .map_err(|e| fail(format!("initdb: {e}")))?;
        }
        let port = free_port().map_err(|e| fail(format!("finding a free port: {e}")))?;
        let sock = dir.join("sock");
        fs::create_dir_all(&sock).map_err(|e| fail(e.to_string()))?;
        if as_root {
            chown_postgres(dir).map_err(fail)?;
        }
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            sock.display()
        );
        let log = dir.join("server.log");
        run(
            &bin.join("pg_ctl"),
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&log),
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
            as_root,
        )
        .map_err(|e| fail(format!("pg_ctl start: {e} (see {})", log.display())))?;
        fs::write(&port_file, port.to_string()).map_err(|e| fail(e.to_string()))?;
        let cluster = ThrowawayCluster {
            dir: dir.to_owned(),
            port,
        };
        cluster.wait_ready(&bin).map_err(fail)?;
        Ok(cluster)
    }

    /// Stops the cluster (fast shutdown) and forgets its port.
    pub fn stop(&self) -> Result<(), LocalPostgresError> {
        let bin = server_bin_dir().ok_or_else(|| LocalPostgresError::NothingAvailable {
            dir: self.dir.display().to_string(),
        })?;
        let data = self.dir.join("data");
        let _ = fs::remove_file(self.dir.join("port"));
        run(
            &bin.join("pg_ctl"),
            &["-D", path_str(&data), "-m", "fast", "-w", "stop"],
            is_root(),
        )
        .map_err(|detail| LocalPostgresError::Throwaway {
            dir: self.dir.display().to_string(),
            detail,
        })
    }

    fn is_running(&self, bin: &Path) -> bool {
        Command::new(bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
            && self.dir.join("data").join("postmaster.pid").exists()
    }

    fn wait_ready(&self, bin: &Path) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.is_running(bin) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "the server on port {} did not become ready within 30s",
            self.port
        ))
    }
}

/// The directory holding initdb and pg_ctl: `PG_BIN_DIR`, else the newest
/// Debian-style install, else whatever `pg_config --bindir` says.
fn server_bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BIN_DIR") {
        return Some(PathBuf::from(dir)).filter(|d| d.join("initdb").exists());
    }
    let mut versions: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(newest) = versions.pop() {
        return Some(newest);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    dir.join("initdb").exists().then_some(dir)
}

fn run(program: &Path, args: &[&str], as_postgres: bool) -> Result<(), String> {
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    let out = cmd
        .args(args)
        .output()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} exited with {}: {}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn chown_postgres(dir: &Path) -> Result<(), String> {
    let out = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(dir)
        .output()
        .map_err(|e| format!("chown: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "chown: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn read_port(file: &Path) -> Option<u16> {
    fs::read_to_string(file).ok()?.trim().parse().ok()
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

/// Drops database `name` (ending its sessions) and creates it empty again;
/// returns its URL. For scratch databases: demos and benchmarks.
pub async fn recreate_database(admin_url: &str, name: &str) -> Result<String, sqlx::Error> {
    drop_database(admin_url, name).await?;
    let mut admin = PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let options: sqlx::postgres::PgConnectOptions = admin_url.parse()?;
    Ok(sqlx::ConnectOptions::to_url_lossy(&options.database(name)).to_string())
}

/// Drops database `name` if it exists, ending its sessions.
pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut admin = PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    admin.close().await
}
