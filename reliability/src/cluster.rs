//! A private Postgres cluster in a temporary directory, on its own port, that a test may stop and
//! start (never the machine's shared server).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A cluster made by `initdb` in a temp dir, listening on 127.0.0.1 on its own port, trust auth,
/// superuser `postgres`. Dropping it stops the server and removes the directory.
#[derive(Debug)]
pub struct PrivateCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The port it listens on.
    pub port: u16,
    as_postgres: bool,
}

/// The directory of `initdb` and `pg_ctl`: on `PATH`, or the newest `/usr/lib/postgresql/*/bin`.
pub fn postgres_bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").exists() && dir.join("pg_ctl").exists() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn others_may_write_dev_null() -> bool {
    std::fs::metadata("/dev/null").is_ok_and(|m| m.permissions().mode() & 0o002 != 0)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A free TCP port on 127.0.0.1 (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl PrivateCluster {
    /// Runs `initdb` and starts the server; `None` (after printing why) when the Postgres server
    /// programs are not installed, a failure with `REQUIRE_POSTGRES=1`.
    pub fn start() -> Option<PrivateCluster> {
        let Some(bin) = postgres_bin_dir() else {
            assert!(
                !crate::postgres_required(),
                "REQUIRE_POSTGRES=1 but initdb and pg_ctl are not installed"
            );
            println!("SKIPPED: initdb and pg_ctl are not installed");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("am-pg-")
            .tempdir()
            .expect("a temp dir");
        // initdb refuses to run as root: then the cluster belongs to the `postgres` user.
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown").arg("postgres:").arg(dir.path()));
        }
        let cluster = PrivateCluster {
            dir,
            bin,
            port: free_port(),
            as_postgres,
        };
        let data = cluster.data_dir();
        cluster.run_pg(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        // Quick to stop and start, and small: a test cluster, not a tuned one.
        let conf = data.join("postgresql.conf");
        let mut c = std::fs::read_to_string(&conf).unwrap_or_default();
        c.push_str("\nfsync = off\nshared_buffers = 32MB\nmax_connections = 50\n");
        std::fs::write(&conf, c).expect("write postgresql.conf");
        cluster.start_server();
        Some(cluster)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_server(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log");
        self.run_pg(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data_dir()),
                "-o",
                &opts,
                "-l",
                path_str(&log),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops the server (`fast`: disconnects clients, aborts their transactions).
    pub fn stop_server(&self) {
        self.run_pg(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data_dir()),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "stop",
            ],
        );
    }

    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if !self.as_postgres {
            return Command::new(exe);
        }
        if others_may_write_dev_null() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            return c;
        }
        // Some sandboxes make /dev/null writable by root alone, and initdb and pg_ctl redirect
        // to it: in a private mount namespace a world-writable file stands in for it.
        let null = self.dir.path().join("null");
        if !null.exists() {
            std::fs::write(&null, b"").expect("create the stand-in for /dev/null");
            let _ = std::fs::set_permissions(&null, std::fs::Permissions::from_mode(0o666));
        }
        let mut c = Command::new("unshare");
        c.args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg("mount --bind \"$0\" /dev/null && exec runuser -u postgres -- \"$@\"")
            .arg(&null)
            .arg(exe);
        c
    }

    fn run_pg(&self, program: &str, args: &[&str]) {
        let mut c = self.command(program);
        c.args(args).current_dir(self.dir.path());
        run(&mut c);
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let mut c = self.command("pg_ctl");
        c.args(["-D", path_str(&self.data_dir()), "-m", "immediate", "stop"])
            .current_dir(self.dir.path());
        let _ = c.output();
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

fn run(c: &mut Command) -> Output {
    let out = c.output().unwrap_or_else(|e| panic!("run {c:?}: {e}"));
    assert!(
        out.status.success(),
        "{c:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
