//! The `appointment-server` binary as a child process.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The server binary: `APPOINTMENT_SERVER_BIN`, or `appointment-server` in the cargo target
/// directory this test or tool was built in (built by `cargo test --workspace --all-features` or
/// `cargo build -p appointment-server --features postgres`).
pub fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("APPOINTMENT_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("the path of this executable");
    let mut dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    // Test binaries live in `<profile>/deps`, tools in `<profile>`.
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join(format!(
        "appointment-server{}",
        std::env::consts::EXE_SUFFIX
    ));
    assert!(
        bin.exists(),
        "{} does not exist: build it first with `cargo build -p appointment-server --all-features` \
         (or run `cargo test --workspace --all-features`), or set APPOINTMENT_SERVER_BIN",
        bin.display()
    );
    bin
}

/// A running server process. Dropping it kills the process.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// The port it listens on (on 127.0.0.1).
    pub port: u16,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// When the process was spawned.
    pub spawned_at: Instant,
    /// Where its output goes.
    pub log_path: PathBuf,
}

/// How to start a server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// `DATABASE_URL`.
    pub database_url: String,
    /// The working directory (the development JWT secret file lands here if none is given).
    pub work_dir: PathBuf,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// A fixed port (`0`: any free port).
    pub port: u16,
}

impl ServerOptions {
    /// A server on `database_url` with its files in `work_dir`.
    pub fn new(database_url: impl Into<String>, work_dir: impl Into<PathBuf>) -> Self {
        ServerOptions {
            database_url: database_url.into(),
            work_dir: work_dir.into(),
            env: Vec::new(),
            port: 0,
        }
    }
}

impl ServerProcess {
    /// Spawns a server and waits (at most 60 s) until it listens and `/health` answers 200.
    pub async fn start(opts: &ServerOptions) -> ServerProcess {
        let s = Self::spawn(opts);
        s.wait_healthy(Duration::from_secs(60)).await;
        s
    }

    /// Spawns a server and waits (at most 60 s) until it reports the port it listens on.
    pub fn spawn(opts: &ServerOptions) -> ServerProcess {
        let log_path = opts.work_dir.join(format!(
            "server-{}.log",
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..8)
                .unwrap_or("x")
        ));
        let mut cmd = Command::new(server_binary());
        cmd.arg("serve")
            .current_dir(&opts.work_dir)
            .env("DATABASE_URL", &opts.database_url)
            .env("HOST", "127.0.0.1")
            .env("PORT", opts.port.to_string())
            .env("ENV", "development")
            .env("JWT_SECRET_KEY", crate::SECRET)
            .env("BCRYPT_COST", "4")
            .env("LOGIN_RATE_PER_MINUTE", "100000")
            .env("REGISTRATION_RATE_PER_HOUR", "1000000")
            .env("OWNER_WRITE_RATE_PER_MINUTE", "1000000")
            .env("LOG_FORMAT", "json")
            .env_remove("DB_HOST")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let spawned_at = Instant::now();
        let mut child = cmd.spawn().expect("spawn appointment-server");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel::<u16>();
        let mut log = std::fs::File::create(&log_path).expect("server log file");
        let mut log_err = log.try_clone().expect("server log file");
        // Drains the output (a full pipe would stall the server), keeping it in the log file.
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let mut reported = false;
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if !reported
                    && line.contains("listening")
                    && let Some(port) = port_in(&line)
                {
                    let _ = tx.send(port);
                    reported = true;
                }
                let _ = log.write_all(line.as_bytes());
            }
        });
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut BufReader::new(stderr), &mut log_err);
        });
        let port = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(p) => p,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("appointment-server did not report a port; its output:\n{log}");
            }
        };
        ServerProcess {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
            spawned_at,
            log_path,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls `/health` until it answers 200; panics after `within`.
    pub async fn wait_healthy(&self, within: Duration) -> Duration {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let deadline = Instant::now() + within;
        loop {
            if let Ok(r) = client.get(format!("{}/health", self.base)).send().await
                && r.status().as_u16() == 200
            {
                return self.spawned_at.elapsed();
            }
            assert!(
                Instant::now() < deadline,
                "{} did not become healthy within {within:?}; log:\n{}",
                self.base,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Polls `/health` until it answers 200 again; returns how long that took (panics after
    /// `within`).
    pub async fn wait_healthy_again(&self, within: Duration) -> Duration {
        let t0 = Instant::now();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        loop {
            if let Ok(r) = client.get(format!("{}/health", self.base)).send().await
                && r.status().as_u16() == 200
            {
                return t0.elapsed();
            }
            assert!(
                t0.elapsed() < within,
                "{} did not recover within {within:?}",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Resident memory in KiB (Linux), from `/proc/PID/status`.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Resident memory of a process in KiB (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The `"port":N` field of a log line.
fn port_in(line: &str) -> Option<u16> {
    let i = line.find("\"port\":")? + "\"port\":".len();
    let digits: String = line[i..]
        .chars()
        .skip_while(|c| *c == ' ')
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_port_of_the_listening_line() {
        let line = r#"{"timestamp":"x","level":"INFO","message":"listening","port":40123}"#;
        assert_eq!(super::port_in(line), Some(40123));
    }
}
