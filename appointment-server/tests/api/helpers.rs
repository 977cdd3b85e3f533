//! `spawn_app()` and friends.

use std::sync::{Arc, OnceLock};

use appointment_server::config::{Config, LogFormat, Secret};
use appointment_server::{Application, telemetry};
use chrono::{Duration, NaiveDate, Utc};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The JWT secret of every test server.
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

static TRACING: OnceLock<()> = OnceLock::new();

fn init_logs() {
    TRACING.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            telemetry::init(LogFormat::Json, "info", std::io::stdout);
        } else {
            telemetry::init(LogFormat::Json, "off", std::io::sink);
        }
    });
}

/// A running server and a client for it.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The client.
    pub client: Client,
    /// The server's state (its engine and store), for tests that set up what no endpoint can.
    pub state: appointment_server::state::AppState,
    /// `http://127.0.0.1:PORT` of the `METRICS_ADDR` listener, when the test configured one.
    pub metrics_address: Option<String>,
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

/// Whether this test binary runs against Postgres (`api_postgres`) rather than SQLite (`api`).
fn on_postgres() -> bool {
    env!("CARGO_CRATE_NAME") == "api_postgres"
}

/// The admin URL of the Postgres server the tests create their databases on, or `None` (after
/// saying so) when `TEST_POSTGRES_URL` is unset. With `REQUIRE_POSTGRES=1` that is a failure.
fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("REQUIRE_POSTGRES").map_or(true, |v| v != "1"),
                "REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set"
            );
            println!("SKIPPED: set TEST_POSTGRES_URL to run the API tests against Postgres");
            None
        }
    }
}

/// Creates a fresh, empty Postgres database and returns its URL.
async fn fresh_postgres_database(admin_url: &str) -> String {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to the test Postgres server");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    // Databases of earlier runs that nobody uses any more, and are older than ten minutes, go.
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database d WHERE datname LIKE 'am\\_api\\_test\\_%' \
         AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
    )
    .fetch_all(&mut admin)
    .await
    .expect("list test databases");
    for old in stale {
        let created: u64 = old
            .split('_')
            .nth(3)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if now.saturating_sub(created) > 600 {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{old}\""
            )))
            .execute(&mut admin)
            .await;
        }
    }
    let name = format!("am_api_test_{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let _ = admin.close().await;
    let (scheme, rest) = admin_url
        .split_once("://")
        .unwrap_or(("postgres", admin_url));
    let (before_query, query) = rest
        .split_once('?')
        .map_or((rest, None), |(b, q)| (b, Some(q)));
    let authority = before_query
        .split_once('/')
        .map_or(before_query, |(a, _)| a);
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

/// Starts a server on a fresh database (a SQLite file in a temp dir, or a new Postgres database
/// in the `api_postgres` binary), with bcrypt cost 4. `None` when the Postgres tests are skipped.
fn test_config(database_url: String) -> Config {
    Config {
        host: [127, 0, 0, 1].into(),
        port: 0,
        database_url,
        jwt_secret: Some(Secret::new(SECRET)),
        bcrypt_cost: 4,
        login_rate_per_minute: 1000,
        // No background writes besides the test's own; `tests/api/sweeper.rs` turns it on.
        expiry_sweep: std::time::Duration::ZERO,
        limits: appointment_server::config::Limits {
            registration_rate_per_hour: 1_000_000,
            owner_write_rate_per_minute: 1_000_000,
            ..appointment_server::config::Limits::default()
        },
        ..Config::default()
    }
}

/// A server on a SQLite store the test keeps a handle to, run the way the binary runs it: on a
/// runtime of its own that is dropped as soon as the server returns (as the process would exit),
/// so that whatever the server did not finish is cut off.
// Used by `tests/api` only: its copy in `tests/api_postgres` has no shutdown test.
#[allow(dead_code)]
#[derive(Debug)]
pub struct StoppableApp {
    /// The server, as the other tests see it.
    pub app: TestApp,
    /// The store the server runs on (its fault hooks are shared with the server's).
    pub store: appointment_store::SqliteStore,
    /// The database file's URL.
    pub database_url: String,
    /// Starts the graceful shutdown.
    pub stop: oneshot::Sender<()>,
    /// Answers once the server has returned and its runtime is gone.
    pub served: oneshot::Receiver<std::io::Result<()>>,
}

#[allow(dead_code)]
pub async fn spawn_stoppable_app(f: impl FnOnce(&mut Config) + Send + 'static) -> StoppableApp {
    init_logs();
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("test.db").display());
    let (ready, started) = oneshot::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let (done, served) = oneshot::channel();
    let url = database_url.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let result = rt.block_on(async move {
            let store = appointment_store::SqliteStore::connect(&url)
                .await
                .expect("open the store");
            let mut config = test_config(url);
            f(&mut config);
            let app = Application::build_with_store(config, Arc::new(store.clone()))
                .await
                .expect("the server starts");
            let _ = ready.send((app.port(), app.state().clone(), store));
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
        });
        drop(rt);
        let _ = done.send(result);
    });
    let (port, state, store) = started.await.expect("the server thread starts");
    // This server stops through `stop`; the sender a `TestApp` holds is never used.
    let (unused, _) = oneshot::channel::<()>();
    StoppableApp {
        app: TestApp {
            address: format!("http://127.0.0.1:{port}"),
            client: Client::new(),
            state,
            metrics_address: None,
            _dir: dir,
            _stop: unused,
        },
        store,
        database_url,
        stop,
        served,
    }
}

pub async fn spawn_app() -> Option<TestApp> {
    spawn_app_with(|_| {}).await
}

/// As [`spawn_app`], with the configuration adjusted by `f`.
pub async fn spawn_app_with(f: impl FnOnce(&mut Config)) -> Option<TestApp> {
    init_logs();
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = if on_postgres() {
        fresh_postgres_database(&postgres_admin_url()?).await
    } else {
        format!("sqlite://{}", dir.path().join("test.db").display())
    };
    let mut config = test_config(database_url);
    f(&mut config);
    let app = Application::build(config).await.expect("the server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    Some(TestApp {
        address,
        client: Client::new(),
        state,
        metrics_address,
        _dir: dir,
        _stop: stop,
    })
}

/// A user with a session.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// The user's id.
    pub id: String,
    /// The user's email.
    pub email: String,
    /// A bearer token.
    pub token: String,
}

/// The first date with slots in the tests: tomorrow (UTC), so that every slot is in the future.
pub fn tomorrow() -> NaiveDate {
    (Utc::now() + Duration::days(1)).date_naive()
}

impl TestApp {
    /// A URL on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    /// `POST path` with a JSON body.
    pub fn post_json(&self, path: &str, body: &Value) -> RequestBuilder {
        self.client.post(self.url(path)).json(body)
    }

    /// Registers a user and logs in.
    pub async fn user(&self, name: &str) -> TestUser {
        let email = format!("{}-{}@example.com", name, uuid::Uuid::new_v4().simple());
        let res = self
            .post_json(
                "/users",
                &json!({"name": name, "email": email, "password": "securepass123"}),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::CREATED);
        let res = self
            .post_json(
                "/login",
                &json!({"email": email, "password": "securepass123"}),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("json");
        TestUser {
            id: body["user"]["id"].as_str().expect("id").to_owned(),
            email,
            token: body["token"].as_str().expect("token").to_owned(),
        }
    }

    /// Creates an appointment for `owner` from tomorrow on, `days` days long, window 09:00 to
    /// 12:00 UTC, 60-minute slots (3 a day), with `extra` fields merged into the request.
    pub async fn appointment(&self, owner: &TestUser, days: i64, extra: Value) -> Value {
        let start = tomorrow();
        let end = start + Duration::days(days - 1);
        let mut body = json!({
            "title": "Consultation Session",
            "start_time": format!("{start}T09:00:00Z"),
            "end_time": format!("{start}T12:00:00Z"),
            "start_date": format!("{start}T00:00:00Z"),
            "end_date": format!("{end}T00:00:00Z"),
            "booking_duration": 60,
            "type": "single",
            "description": "Professional consultation"
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let res = self
            .post_json("/appointments", &body)
            .bearer_auth(&owner.token)
            .send()
            .await
            .expect("request");
        let status = res.status();
        let body: Value = res.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// The first page of an appointment's slots.
    pub async fn slots(&self, app_code: &str, query: &str) -> Value {
        let res = self
            .get(&format!("/appointments/slots/{app_code}{query}"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.expect("json")
    }

    /// Books `start_time` of `app_code` as a guest.
    pub async fn book_guest(&self, app_code: &str, start_time: &str, email: &str) -> Response {
        self.post_json(
            "/appointments/book",
            &json!({
                "app_code": app_code,
                "start_time": start_time,
                "name": "Jane Smith",
                "email": email,
                "phone": "+1987654321",
                "attendee_count": 1,
            }),
        )
        .send()
        .await
        .expect("request")
    }
}

/// An owner, a one-day appointment of theirs made with `extra` (see [`TestApp::appointment`]),
/// and its slots' start times.
pub async fn setup(app: &TestApp, extra: Value) -> (TestUser, String, Vec<String>) {
    let owner = app.user("owner").await;
    let a = app.appointment(&owner, 1, extra).await;
    let code = a["app_code"].as_str().expect("app_code").to_owned();
    let slots = app.slots(&code, "").await;
    let starts = slots["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["start_time"].as_str().expect("start_time").to_owned())
        .collect();
    (owner, code, starts)
}

/// Reads a JSON body, asserting the status first.
pub async fn expect_json(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Asserts an error answer: the status, a JSON body with `code`, `message` and `error` (the
/// original service's field, equal to `message`), and returns it.
pub async fn expect_error(res: Response, status: StatusCode) -> Value {
    let body = expect_json(res, status).await;
    assert!(body["code"].is_string(), "no code in {body}");
    assert!(body["message"].is_string(), "no message in {body}");
    assert_eq!(
        body["error"], body["message"],
        "`error` (the original's field) must repeat `message`: {body}"
    );
    body
}
