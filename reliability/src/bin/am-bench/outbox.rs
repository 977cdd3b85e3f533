//! `am-bench outbox`: what the outbox and webhooks cost and how fast events travel.
//!
//! - The cost the outbox adds to a booking: `pgbench` runs the store's booking transaction with
//!   the outbox trigger, without it (disabled for the measure), and with it again.
//! - Events through the outbox: HTTP bookings (wrk) on an appointment whose owner has a webhook
//!   endpoint (a receiver in this process): events appended per second, delivered per second,
//!   and the time to deliver the rest once the load stops.
//! - Delivery lag: from an event's timestamp to its arrival at the receiver, p50 and p99, under
//!   that load, with the default `WEBHOOK_POLL_MS` (200 ms).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reliability::api;
use reliability::db;
use reliability::server::{ServerOptions, ServerProcess};
use serde_json::{Value, json};

/// Where the section of the report begins.
pub const BEGIN: &str = "<!-- outbox:begin -->";
/// Where it ends.
pub const END: &str = "<!-- outbox:end -->";

/// The lags (ms) of what the receiver got, and when it got the last.
#[derive(Default)]
struct Received {
    lags_ms: Vec<f64>,
    first: Option<Instant>,
    last: Option<Instant>,
}

async fn receiver() -> (String, Arc<Mutex<Received>>) {
    let got: Arc<Mutex<Received>> = Arc::default();
    let record = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let record = record.clone();
            async move {
                let now = chrono::Utc::now();
                let at = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v["timestamp"].as_str().map(str::to_owned))
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok());
                let mut r = record.lock().expect("receiver lock");
                if let Some(at) = at {
                    r.lags_ms
                        .push((now - at.with_timezone(&chrono::Utc)).as_seconds_f64() * 1e3);
                }
                let t = Instant::now();
                r.first.get_or_insert(t);
                r.last = Some(t);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the receiver");
    let url = format!(
        "http://{}/hook",
        listener.local_addr().expect("receiver address")
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

/// Runs the measures on a fresh database of the server `admin` names.
pub async fn run(
    admin: &str,
    pgbench_script: &PathBuf,
    out_dir: &std::path::Path,
    seconds: u64,
    connections: usize,
    pg_clients: usize,
) -> Value {
    let url = db::fresh_postgres_database(admin).await;
    let work = tempfile::tempdir().expect("temp dir");
    let mut opts = ServerOptions::new(url.clone(), work.path());
    opts.env = vec![("WEBHOOK_ALLOW_PRIVATE_TARGETS".into(), "1".into())];
    let server = ServerProcess::start(&opts).await;
    let base = server.base.clone();
    let client = api::client();
    let say = |s: &str| eprintln!("[am-bench] {s}");

    // The HTTP bookings' owner has an endpoint; pgbench books for another owner, whose events
    // are written (the trigger's cost) but sent nowhere.
    let (hook, got) = receiver().await;
    let owner = api::user(&client, &base, "owner").await;
    let res = client
        .post(format!("{base}/webhooks"))
        .bearer_auth(&owner.token)
        .json(&json!({"url": hook}))
        .send()
        .await
        .expect("POST /webhooks");
    assert_eq!(res.status().as_u16(), 201, "register the endpoint");
    let other = api::user(&client, &base, "other").await;
    let cap = 1_000_000u32;
    let http_app = api::appointment(&client, &base, &owner, "group", cap, 7).await;
    let sql_app = api::appointment(&client, &base, &other, "group", cap, 7).await;
    let week = api::slot_starts(&client, &base, &http_app, 56).await;
    let pg = sqlx::PgPool::connect(&url).await.expect("connect");
    let (sql_app_id, owner_id): (String, String) =
        sqlx::query_as("SELECT id::text, owner_id::text FROM appointments WHERE code = $1")
            .bind(&sql_app)
            .fetch_one(&pg)
            .await
            .expect("the pgbench appointment");
    let vars = [
        ("app", sql_app_id),
        ("owner", owner_id),
        ("code", sql_app.clone()),
        ("day0", api::tomorrow().to_string()),
        ("cap", cap.to_string()),
    ];

    say("outbox: pgbench with the trigger, without, with");
    let with1 = super::run_pgbench(&url, pgbench_script, pg_clients, seconds, &vars);
    let toggle = |on: bool| {
        let pg = pg.clone();
        async move {
            let sql = if on {
                "ALTER TABLE bookings ENABLE TRIGGER bookings_outbox_insert"
            } else {
                "ALTER TABLE bookings DISABLE TRIGGER bookings_outbox_insert"
            };
            sqlx::query(sql)
                .execute(&pg)
                .await
                .expect("toggle the trigger");
        }
    };
    toggle(false).await;
    let without = super::run_pgbench(&url, pgbench_script, pg_clients, seconds, &vars);
    toggle(true).await;
    let with2 = super::run_pgbench(&url, pgbench_script, pg_clients, seconds, &vars);
    let with = (with1 + with2) / 2.0;

    say("outbox: HTTP bookings with a webhook endpoint");
    let lua = out_dir.join("book-outbox.lua");
    std::fs::write(&lua, super::booking_lua(&http_app, &week)).expect("write the script");
    let before = got.lock().expect("lock").lags_ms.len();
    let started = Instant::now();
    let http = super::run_wrk(connections, seconds, Some(&lua), &base);
    let load_end = Instant::now();
    let delivered_during = got.lock().expect("lock").lags_ms.len() - before;
    // Everything the bookings appended reaches the endpoint.
    let expected = before + http.created as usize;
    let deadline = Instant::now() + Duration::from_secs(300);
    while got.lock().expect("lock").lags_ms.len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (all, drained_s, lags) = {
        let r = got.lock().expect("lock");
        let all = r.lags_ms.len();
        let drained_s = r.last.map_or(f64::NAN, |l| {
            l.saturating_duration_since(load_end).as_secs_f64()
        });
        (all, drained_s, r.lags_ms[before.min(all)..].to_vec())
    };
    let lags = &lags;
    let load_s = (load_end - started).as_secs_f64();
    let results = json!({
        "pgbench_with_outbox_tps": with,
        "pgbench_with_outbox_runs": [with1, with2],
        "pgbench_without_outbox_tps": without,
        "outbox_cost_ratio": with / without,
        "http_bookings": http.created,
        "http_bookings_per_s": http.created as f64 / http.seconds.max(1e-9),
        "http_p50_ms": http.p50_ms,
        "http_p99_ms": http.p99_ms,
        "events_delivered": all - before,
        "events_expected": http.created,
        "delivered_during_load_per_s": delivered_during as f64 / load_s.max(1e-9),
        "drained_after_load_s": drained_s,
        "lag_p50_ms": quantile(lags, 0.5),
        "lag_p99_ms": quantile(lags, 0.99),
        "pg_clients": pg_clients,
        "connections": connections,
        "seconds": seconds,
        "ok": all >= expected,
    });
    pg.close().await;
    drop(server);
    results
}

fn f(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |x| format!("{x:.1}"))
}

/// The report's section.
pub fn section(r: &Value, date: &str, commit: &str) -> String {
    let mut t = String::new();
    t.push_str(&format!("{BEGIN}\n## The outbox and webhooks\n\n"));
    t.push_str("```bash\n./scripts/bench-load.sh outbox   # only this; the rest of this file and the chart stay as they are\n```\n\n");
    t.push_str(&format!(
        "Run of {date}, commit `{commit}`: release server on a fresh Postgres database, \
         {s} s per measure, the webhook receiver in the benchmark process over loopback.\n\n",
        s = r["seconds"]
    ));
    t.push_str("| measure | result |\n|---|---|\n");
    t.push_str(&format!(
        "| The outbox's cost: pgbench, {} clients, the store's booking transaction with the outbox trigger (before and after) against the same without it | {} tps with (runs {} and {}) vs {} tps without: **{:.2}** of the speed without |\n",
        r["pg_clients"],
        f(&r["pgbench_with_outbox_tps"]),
        f(&r["pgbench_with_outbox_runs"][0]),
        f(&r["pgbench_with_outbox_runs"][1]),
        f(&r["pgbench_without_outbox_tps"]),
        r["outbox_cost_ratio"].as_f64().unwrap_or(f64::NAN)
    ));
    t.push_str(&format!(
        "| Events through the outbox: HTTP bookings (wrk, {} connections, a week of slots) whose owner has a webhook endpoint | {} bookings/s = events appended/s (booking p50 {} ms, p99 {} ms); {} events/s delivered while the load ran; the rest delivered {} s after it stopped; {} of {} events delivered |\n",
        r["connections"],
        f(&r["http_bookings_per_s"]),
        f(&r["http_p50_ms"]),
        f(&r["http_p99_ms"]),
        f(&r["delivered_during_load_per_s"]),
        f(&r["drained_after_load_s"]),
        r["events_delivered"],
        r["events_expected"]
    ));
    t.push_str(&format!(
        "| Delivery lag under that load: an event's timestamp to its arrival at the endpoint (`WEBHOOK_POLL_MS` 200, `WEBHOOK_CONCURRENCY` 16) | p50 {} ms, p99 {} ms |\n",
        f(&r["lag_p50_ms"]),
        f(&r["lag_p99_ms"])
    ));
    t.push_str(&format!("\n{END}\n"));
    t
}
