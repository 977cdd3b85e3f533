//! The `appointment-server` binary: migrations, configuration checks, zero-setup start and
//! shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_appointment-server");

/// A command with a clean environment (no database or secret inherited from the caller).
fn server(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("BCRYPT_COST", "4")
        .env("RUST_LOG", "info");
    c
}

#[test]
fn help_lists_the_commands_and_every_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["serve", "--help"][..]] {
        let out = server(dir.path()).args(args).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        for (name, _, _) in appointment_server::config::ENVIRONMENT {
            assert!(
                text.contains(name),
                "{args:?} does not list {name}:\n{text}"
            );
        }
    }
    let out = server(dir.path()).arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("migrate") && text.contains("openapi"),
        "{text}"
    );
}

#[test]
fn migrate_up_down_and_to_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let run = |args: &[&str]| {
        let out = server(dir.path())
            .env("DATABASE_URL", &url)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let up = run(&["migrate", "up"]);
    assert!(up.contains("database at migration version"), "{up}");
    let latest: i64 = up.trim().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(latest >= 1);
    assert!(run(&["migrate", "to", "1"]).trim().ends_with(" 1"));
    assert!(run(&["migrate", "down"]).trim().ends_with(" 0"));
    assert!(
        run(&["migrate", "up"])
            .trim()
            .ends_with(&format!(" {latest}"))
    );
}

#[test]
fn production_refuses_to_start_without_a_strong_secret() {
    let dir = tempfile::tempdir().unwrap();
    for secret in [None, Some("too-short")] {
        let mut c = server(dir.path());
        c.env("ENV", "production")
            .env("DATABASE_URL", "memory:")
            .env("PORT", "0");
        if let Some(s) = secret {
            c.env("JWT_SECRET_KEY", s);
        }
        let out = c.output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("JWT_SECRET_KEY"), "{err}");
        assert!(!err.contains("too-short"), "the secret was printed");
    }
}

#[test]
fn an_unknown_env_refuses_to_start_and_writes_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out = server(dir.path())
        .env("ENV", "staging")
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .output()
        .unwrap();
    assert!(!out.status.success(), "started with ENV=staging");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ENV") && err.contains("production") && err.contains("development"),
        "{err}"
    );
    assert!(
        !dir.path().join("appointments.db.jwt-secret").exists(),
        "a development secret was written"
    );
    assert!(!dir.path().join("appointments.db").exists());
}

#[test]
fn openapi_subcommand_prints_the_committed_spec() {
    let dir = tempfile::tempdir().unwrap();
    let out = server(dir.path()).arg("openapi").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        appointment_server::openapi_json()
    );
}

#[cfg(unix)]
#[test]
fn starts_with_zero_setup_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = server(dir.path())
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    // Ready once it logs that it listens.
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("listening"))
        .expect("a 'listening' log line");
    let log: serde_json::Value = serde_json::from_str(&listening).unwrap();
    assert!(log["port"].as_u64().unwrap() > 0);
    assert!(
        dir.path().join("appointments.db").exists(),
        "no SQLite file"
    );
    let secret = dir.path().join("appointments.db.jwt-secret");
    assert!(secret.exists(), "no development secret file");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let status = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "did not shut down cleanly: {exit}");
}
