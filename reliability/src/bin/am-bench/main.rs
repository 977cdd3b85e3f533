//! `am-bench`: the load benchmark of `appointment-server` on Postgres, measured as ratios within
//! one run (the machines are shared and noisy):
//!
//! - booking through HTTP (wrk) against `pgbench` running the store's booking transaction on the
//!   same database, before and after;
//! - a party drop: 5,000 seats, 20,000 attempts, 256 clients;
//! - the read path (a week of slots) against a trivial endpoint of the same server (wrk);
//! - footprint: resident memory idle and under load, time from start to the first healthy answer.
//!
//! Run it through `scripts/bench-load.sh`, which builds the release binaries and draws the chart;
//! `am-bench report` rewrites the report from the last `results.json` (`scripts/bench-load.sh
//! report` does that and redraws the chart).
//!
//! `am-bench outbox` measures the outbox and webhooks ([`outbox`]) and writes only its own
//! section (between `<!-- outbox:begin -->` and `<!-- outbox:end -->`), which the full run keeps.
//!
//! `am-bench holds` runs only the party drop with holds and its waiting list ([`holds`]) on a
//! fresh database and writes only its own section of the report (between
//! `<!-- holds:begin -->` and `<!-- holds:end -->`, after the chart), and `holds.json`; the full
//! run and `report` keep that section as it is.
//! Configuration (environment): `TEST_POSTGRES_URL` (admin URL), `APPOINTMENT_SERVER_BIN`,
//! `BENCH_SECONDS` (10), `BENCH_CONNECTIONS` (64), `BENCH_PG_CLIENTS` (16, the server's pool),
//! `BENCH_PARTY_SEATS` (5000), `BENCH_PARTY_ATTEMPTS` (20000), `BENCH_PARTY_CLIENTS` (256),
//! `BENCH_OUT` (directory for `results.json` and scripts), `BENCH_MD` (the report to write),
//! `BENCH_NOTES` (hand-written notes appended to the report), `BENCH_PGBENCH_SCRIPT`,
//! `BENCH_HOLDS_SEED` (the holds scenario's seed; default from the clock).

mod holds;
mod outbox;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use reliability::api::{self, guest_booking};
use reliability::db::{self, Db};
use reliability::env_usize;
use reliability::load::{self, Load};
use reliability::server::{ServerOptions, ServerProcess, rss_kib};
use serde_json::{Value, json};

/// What wrk reports.
#[derive(Debug, Clone, Default)]
struct Wrk {
    rps: f64,
    seconds: f64,
    requests: u64,
    p50_ms: f64,
    p99_ms: f64,
    created: u64,
    other: u64,
    non_2xx: u64,
    socket_errors: String,
}

fn parse_duration_ms(s: &str) -> f64 {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| c.is_ascii_alphabetic())
        .map_or((s, "ms"), |i| (&s[..i], &s[i..]));
    let n: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

fn parse_wrk(out: &str) -> Wrk {
    let mut w = Wrk::default();
    for line in out.lines() {
        let t = line.trim();
        let fields: Vec<&str> = t.split_whitespace().collect();
        if let Some(v) = t.strip_prefix("Requests/sec:") {
            w.rps = v.trim().parse().unwrap_or(0.0);
        } else if t.starts_with("50%") && fields.len() == 2 {
            w.p50_ms = parse_duration_ms(fields[1]);
        } else if t.starts_with("99%") && fields.len() == 2 {
            w.p99_ms = parse_duration_ms(fields[1]);
        } else if fields.first() == Some(&"CREATED") && fields.len() == 4 {
            w.created = fields[1].parse().unwrap_or(0);
            w.other = fields[3].parse().unwrap_or(0);
        } else if let Some(v) = t.strip_prefix("Non-2xx or 3xx responses:") {
            w.non_2xx = v.trim().parse().unwrap_or(0);
        } else if t.starts_with("Socket errors:") {
            w.socket_errors = t.to_owned();
        } else if t.contains(" requests in ") && fields.len() >= 4 {
            w.requests = fields[0].parse().unwrap_or(0);
            w.seconds = parse_duration_ms(fields[3].trim_end_matches(',')) / 1000.0;
        }
    }
    w
}

fn run_wrk(connections: usize, seconds: u64, script: Option<&PathBuf>, url: &str) -> Wrk {
    let mut c = Command::new("wrk");
    c.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--timeout",
        "10s",
        "--latency",
    ]);
    if let Some(s) = script {
        c.arg("-s").arg(s);
    }
    c.arg(url);
    let out = c.output().expect("run wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let w = parse_wrk(&text);
    assert!(w.rps > 0.0, "wrk measured nothing:\n{text}");
    w
}

/// pgbench's transactions per second, or why it failed (e.g. the shared server had no
/// connections to spare).
fn try_pgbench(
    url: &str,
    script: &PathBuf,
    clients: usize,
    seconds: u64,
    vars: &[(&str, String)],
) -> Result<f64, String> {
    let mut c = Command::new("pgbench");
    c.args([
        "-n",
        "-M",
        "prepared",
        "-c",
        &clients.to_string(),
        "-j",
        "2",
        "-T",
        &seconds.to_string(),
        "-f",
    ])
    .arg(script);
    for (k, v) in vars {
        c.arg("-D").arg(format!("{k}={v}"));
    }
    c.arg(url);
    let out = c.output().map_err(|e| format!("run pgbench: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "pgbench failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let failed = text
        .lines()
        .find(|l| l.starts_with("number of failed transactions:"))
        .unwrap_or("");
    if !failed.contains(": 0 ") {
        return Err(format!("pgbench transactions failed: {text}"));
    }
    Ok(tps)
}

/// As [`try_pgbench`], retried twice after a pause; panics if it keeps failing.
fn run_pgbench(
    url: &str,
    script: &PathBuf,
    clients: usize,
    seconds: u64,
    vars: &[(&str, String)],
) -> f64 {
    let mut last = String::new();
    for _ in 0..3 {
        match try_pgbench(url, script, clients, seconds, vars) {
            Ok(tps) => return tps,
            Err(e) => {
                eprintln!("[am-bench] {e}");
                last = e;
                std::thread::sleep(Duration::from_secs(2));
            }
        }
    }
    panic!("{last}");
}

/// CPU time (in clock ticks of 10 ms) spent while a run lasts: on the whole machine, by this
/// process, by its finished children (wrk, pgbench) and by the server.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    busy: f64,
    own: f64,
    children: f64,
    server: f64,
}

fn ticks(path: &str, fields: &[usize]) -> f64 {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    // After the command name in parentheses, fields count from 3.
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    fields
        .iter()
        .map(|i| f.get(i - 3).copied().unwrap_or(0.0))
        .sum()
}

impl Cpu {
    fn now(server_pid: u32) -> Cpu {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let cpu: Vec<f64> = stat
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .map(|x| x.parse().unwrap_or(0.0))
            .collect();
        // user nice system idle iowait irq softirq steal
        let busy = [0, 1, 2, 5, 6, 7]
            .iter()
            .map(|i| cpu.get(*i).copied().unwrap_or(0.0))
            .sum();
        Cpu {
            busy,
            own: ticks("/proc/self/stat", &[14, 15]),
            children: ticks("/proc/self/stat", &[16, 17]),
            server: ticks(&format!("/proc/{server_pid}/stat"), &[14, 15]),
        }
    }

    /// Microseconds of CPU per operation: (server, load generator, database and the rest).
    fn per_op(self, after: Cpu, ops: f64) -> (f64, f64, f64) {
        let us = |t: f64| t * 10_000.0 / ops.max(1.0);
        let server = after.server - self.server;
        let client = (after.children - self.children) + (after.own - self.own);
        let rest = (after.busy - self.busy) - server - client;
        (us(server), us(client), us(rest.max(0.0)))
    }
}

/// Samples a process's resident memory every 50 ms, keeping the largest.
struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    p.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        RssSampler {
            peak,
            stop,
            handle: Some(handle),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.peak.load(Ordering::Relaxed)
    }
}

fn booking_lua(code: &str, starts: &[String]) -> String {
    let slots = starts
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"-- Guest bookings, one seat each, spread over the slots of a week.
local slots = {{{slots}}}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) created = 0; other = 0; n = 0 end
function request()
  n = n + 1
  local body = '{{"app_code":"{code}","start_time":"' .. slots[(n % #slots) + 1] ..
    '","name":"Guest","email":"guest@example.com","attendee_count":1}}'
  return wrk.format("POST", "/appointments/book", {{["Content-Type"] = "application/json"}}, body)
end
function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do c = c + t:get("created"); o = o + t:get("other") end
  io.write(string.format("CREATED %d OTHER %d\n", c, o))
end
"#
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn cmd_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let seconds = env_usize("BENCH_SECONDS", 10) as u64;
    let connections = env_usize("BENCH_CONNECTIONS", 64);
    let pg_clients = env_usize("BENCH_PG_CLIENTS", 16);
    let party_seats = env_usize("BENCH_PARTY_SEATS", 5_000);
    let party_attempts = env_usize("BENCH_PARTY_ATTEMPTS", 20_000);
    let party_clients = env_usize("BENCH_PARTY_CLIENTS", 256);
    let out_dir = PathBuf::from(std::env::var("BENCH_OUT").unwrap_or_else(|_| "bench-out".into()));
    std::fs::create_dir_all(&out_dir).expect("create BENCH_OUT");
    let md_path =
        PathBuf::from(std::env::var("BENCH_MD").unwrap_or_else(|_| "BENCHMARKS.md".into()));
    let pgbench_script = PathBuf::from(
        std::env::var("BENCH_PGBENCH_SCRIPT")
            .unwrap_or_else(|_| "scripts/bench/book.pgbench.sql".into()),
    );
    let notes = std::env::var("BENCH_NOTES")
        .ok()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    // `am-bench report`: rewrite the report from the last results (after editing the notes).
    if std::env::args().nth(1).as_deref() == Some("report") {
        let json = std::fs::read_to_string(out_dir.join("results.json")).expect("results.json");
        let results: Value = serde_json::from_str(&json).expect("results.json is JSON");
        std::fs::write(&md_path, report(&results, &notes, &md_path)).expect("write the report");
        print!("{}", table(&results));
        return;
    }
    let Some(admin) = db::postgres_admin_url("the load benchmark") else {
        std::process::exit(2);
    };
    if std::env::args().nth(1).as_deref() == Some("outbox") {
        let results = outbox::run(
            &admin,
            &pgbench_script,
            &out_dir,
            seconds,
            connections,
            pg_clients,
        )
        .await;
        std::fs::write(
            out_dir.join("outbox.json"),
            serde_json::to_string_pretty(&results).unwrap_or_default(),
        )
        .expect("write outbox.json");
        let commit = cmd_line("git", &["rev-parse", "--short", "HEAD"]);
        let date = cmd_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
        let section = outbox::section(&results, &date, &commit);
        let md = std::fs::read_to_string(&md_path).unwrap_or_default();
        std::fs::write(
            &md_path,
            holds::put_between(&md, &section, outbox::BEGIN, outbox::END),
        )
        .expect("write the report");
        print!("{section}");
        if results["ok"].as_bool() != Some(true) {
            eprintln!("[am-bench] not every event was delivered");
            std::process::exit(1);
        }
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("holds") {
        let cfg = holds::Config {
            seats: party_seats,
            attempts: party_attempts,
            clients: party_clients,
            hold_minutes: 1,
            max_delay_ms: 200,
            abandon_one_in: 5,
            seed: std::env::var("BENCH_HOLDS_SEED")
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or_else(|| {
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(1, |d| d.as_nanos() as u64)
                }),
        };
        let url = db::fresh_postgres_database(&admin).await;
        let work = tempfile::tempdir().expect("temp dir");
        let server = ServerProcess::start(&ServerOptions::new(url.clone(), work.path())).await;
        let results = holds::run(&server, &url, cfg).await;
        drop(server);
        let json_path = out_dir.join("holds.json");
        std::fs::write(
            &json_path,
            serde_json::to_string_pretty(&results).unwrap_or_default(),
        )
        .expect("write holds.json");
        let commit = cmd_line("git", &["rev-parse", "--short", "HEAD"]);
        let date = cmd_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
        let section = holds::section(&results, &date, &commit);
        let md = std::fs::read_to_string(&md_path).unwrap_or_default();
        std::fs::write(&md_path, holds::put_section(&md, &section)).expect("write the report");
        print!("{section}");
        eprintln!(
            "[am-bench] wrote {} and the holds section of {}",
            json_path.display(),
            md_path.display()
        );
        if results["ok"].as_bool() != Some(true) {
            eprintln!(
                "[am-bench] the party drop with holds FAILED: {}",
                results["failures"]
            );
            std::process::exit(1);
        }
        return;
    }
    let url = db::fresh_postgres_database(&admin).await;
    let work = tempfile::tempdir().expect("temp dir");
    let opts = ServerOptions::new(url.clone(), work.path());
    let say = |s: &str| eprintln!("[am-bench] {s}");

    // Footprint: start to first healthy answer (the first start migrates an empty database).
    say("start-up times");
    let first = ServerProcess::start(&opts).await;
    let first_start_ms = first
        .wait_healthy(Duration::from_secs(60))
        .await
        .as_secs_f64()
        * 1e3;
    drop(first);
    let mut warm = Vec::new();
    for _ in 0..5 {
        let s = ServerProcess::start(&opts).await;
        warm.push(s.wait_healthy(Duration::from_secs(60)).await.as_secs_f64() * 1e3);
    }
    let warm_start_ms = median(warm);
    let server = ServerProcess::start(&opts).await;
    let base = server.base.clone();

    // Set-up.
    let client = api::client();
    let owner = api::user(&client, &base, "owner").await;
    let cap = 1_000_000u32;
    let http_app = api::appointment(&client, &base, &owner, "group", cap, 7).await;
    let sql_app = api::appointment(&client, &base, &owner, "group", cap, 7).await;
    let party = api::appointment(&client, &base, &owner, "party", party_seats as u32, 1).await;
    let week = api::slot_starts(&client, &base, &http_app, 56).await;
    assert_eq!(week.len(), 56, "a week of slots");
    let pg = sqlx::PgPool::connect(&url).await.expect("connect");
    let (sql_app_id, owner_id): (String, String) =
        sqlx::query_as("SELECT id::text, owner_id::text FROM appointments WHERE code = $1")
            .bind(&sql_app)
            .fetch_one(&pg)
            .await
            .expect("the pgbench appointment");
    let day0 = api::tomorrow().to_string();
    let vars = [
        ("app", sql_app_id),
        ("owner", owner_id),
        ("code", sql_app.clone()),
        ("day0", day0),
        ("cap", cap.to_string()),
    ];
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle_kib = server.rss_kib().unwrap_or(0);
    let sampler = RssSampler::start(server.pid());

    // Booking against the ceiling: pgbench, HTTP, pgbench.
    say("booking: pgbench, HTTP, pgbench");
    let lua = out_dir.join("book.lua");
    std::fs::write(&lua, booking_lua(&http_app, &week)).expect("write book.lua");
    let spid = server.pid();
    let c0 = Cpu::now(spid);
    let pg_before = run_pgbench(&url, &pgbench_script, pg_clients, seconds, &vars);
    let c1 = Cpu::now(spid);
    let http = run_wrk(connections, seconds, Some(&lua), &base);
    let c2 = Cpu::now(spid);
    let pg_after = run_pgbench(&url, &pgbench_script, pg_clients, seconds, &vars);
    let c3 = Cpu::now(spid);
    let cpu_pg = c0.per_op(c1, pg_before * seconds as f64);
    let cpu_http = c1.per_op(c2, http.created as f64);
    let cpu_pg2 = c2.per_op(c3, pg_after * seconds as f64);
    // Only a reference: the shared server may not have this many connections to spare.
    let pg_wide = try_pgbench(&url, &pgbench_script, connections, seconds, &vars)
        .inspect_err(|e| eprintln!("[am-bench] {e}"))
        .unwrap_or(f64::NAN);
    let http_bookings_per_s = http.created as f64 / http.seconds.max(1e-9);
    let ceiling = pg_before.max(pg_after);
    let http_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings WHERE app_code = $1")
        .bind(&http_app)
        .fetch_one(&pg)
        .await
        .expect("count");

    // Party drop.
    say("party drop");
    let load = Load::new(
        vec![base.clone()],
        "/appointments/book",
        party_clients,
        party_attempts,
        Duration::from_secs(600),
    );
    let party_start = api::slot_starts(&client, &base, &party, 1).await.remove(0);
    let p = party.clone();
    let drop_out = load::run(&client, &load, move |i| {
        guest_booking(&p, &party_start, i, 1)
    })
    .await;
    let sold_out_s = drop_out.last_created.unwrap_or_default().as_secs_f64();

    // Read path: trivial, a week of slots, trivial.
    say("read path: GET /, a week of slots, GET /");
    let slots_url = format!("{base}/appointments/slots/{http_app}?per_page=56");
    let c4 = Cpu::now(spid);
    let trivial_a = run_wrk(connections, seconds, None, &format!("{base}/"));
    let c5 = Cpu::now(spid);
    let slots = run_wrk(connections, seconds, None, &slots_url);
    let c6 = Cpu::now(spid);
    let trivial_b = run_wrk(connections, seconds, None, &format!("{base}/"));
    let c7 = Cpu::now(spid);
    let cpu_trivial = c4.per_op(c5, trivial_a.requests as f64);
    let cpu_slots = c5.per_op(c6, slots.requests as f64);
    let cpu_trivial2 = c6.per_op(c7, trivial_b.requests as f64);
    let rss_load_kib = sampler.finish();

    // Oversold?
    let dbc = Db::open(&url).await;
    let facts = dbc.facts().await;
    let over_capacity = dbc
        .fullest()
        .await
        .into_iter()
        .filter(|(_, cap, fullest)| fullest > cap)
        .count();
    dbc.close().await;
    let oversold = facts.mismatched_counters + facts.uncounted_bookings + over_capacity as i64;
    let party_ok = drop_out.count(201) == party_seats;

    // Report.
    let trivial_rps = (trivial_a.rps + trivial_b.rps) / 2.0;
    let booking_ratio = http_bookings_per_s / ceiling;
    let read_ratio = slots.rps / trivial_rps;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_default();
    let pg_version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&pg)
        .await
        .unwrap_or_default();
    pg.close().await;
    let commit = cmd_line("git", &["rev-parse", "--short", "HEAD"]);
    let date = cmd_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let results = json!({
        "date": date, "commit": commit, "cores": cores, "cpu": cpu, "postgres": pg_version,
        "seconds": seconds, "connections": connections, "pg_clients": pg_clients,
        "booking": {
            "http_bookings_per_s": http_bookings_per_s, "http_requests_per_s": http.rps,
            "http_created": http.created, "http_other": http.other, "http_rows": http_rows,
            "http_p50_ms": http.p50_ms, "http_p99_ms": http.p99_ms,
            "pgbench_before_tps": pg_before, "pgbench_after_tps": pg_after,
            "pgbench_wide_tps": pg_wide, "ceiling_tps": ceiling, "ratio": booking_ratio,
            "goal": 0.70, "oversold": oversold,
            "cpu_us_http": {"server": cpu_http.0, "client": cpu_http.1, "database_and_rest": cpu_http.2},
            "cpu_us_pgbench": {"server": (cpu_pg.0 + cpu_pg2.0) / 2.0, "client": (cpu_pg.1 + cpu_pg2.1) / 2.0,
                               "database_and_rest": (cpu_pg.2 + cpu_pg2.2) / 2.0},
        },
        "party": {
            "seats": party_seats, "attempts": drop_out.attempts.len(), "clients": party_clients,
            "created": drop_out.count(201), "refused": drop_out.count(409),
            "summary": drop_out.summary(), "sold_out_s": sold_out_s,
            "bookings_per_s": drop_out.count(201) as f64 / sold_out_s.max(1e-9),
            "attempts_per_s": drop_out.attempts.len() as f64 / drop_out.elapsed.as_secs_f64(),
            "p50_ms": drop_out.latency_quantile(0.5).as_secs_f64() * 1e3,
            "p99_ms": drop_out.latency_quantile(0.99).as_secs_f64() * 1e3,
            "exact": party_ok,
        },
        "read": {
            "slots_rps": slots.rps, "slots_p50_ms": slots.p50_ms, "slots_p99_ms": slots.p99_ms,
            "slots_non_2xx": slots.non_2xx,
            "trivial_rps": trivial_rps, "trivial_p50_ms": (trivial_a.p50_ms + trivial_b.p50_ms) / 2.0,
            "trivial_p99_ms": (trivial_a.p99_ms + trivial_b.p99_ms) / 2.0,
            "ratio": read_ratio, "goal": 0.40, "p99_goal_ms": 20.0,
            "cpu_us_slots": {"server": cpu_slots.0, "client": cpu_slots.1, "database_and_rest": cpu_slots.2},
            "cpu_us_trivial": {"server": (cpu_trivial.0 + cpu_trivial2.0) / 2.0,
                               "client": (cpu_trivial.1 + cpu_trivial2.1) / 2.0,
                               "database_and_rest": (cpu_trivial.2 + cpu_trivial2.2) / 2.0},
        },
        "footprint": {
            "rss_idle_mib": rss_idle_kib as f64 / 1024.0, "rss_load_mib": rss_load_kib as f64 / 1024.0,
            "first_start_ms": first_start_ms, "warm_start_ms": warm_start_ms,
        },
    });
    let json_path = out_dir.join("results.json");
    std::fs::write(
        &json_path,
        serde_json::to_string_pretty(&results).unwrap_or_default(),
    )
    .expect("write results.json");
    let md = report(&results, &notes, &md_path);
    print!("{}", table(&results));
    std::fs::write(&md_path, md).expect("write the report");
    say(&format!(
        "wrote {} and {}",
        json_path.display(),
        md_path.display()
    ));
    if oversold != 0 || !party_ok {
        eprintln!(
            "[am-bench] OVERSOLD or inexact party: {}",
            drop_out.summary()
        );
        std::process::exit(1);
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

fn table(r: &Value) -> String {
    let b = &r["booking"];
    let p = &r["party"];
    let rd = &r["read"];
    let fp = &r["footprint"];
    let mut t = String::new();
    t.push_str("| measure | result | reference in the same run | ratio | goal |\n");
    t.push_str("|---|---|---|---|---|\n");
    t.push_str(&format!(
        "| Booking through HTTP (wrk, {} connections) | {:.0} bookings/s (p50 {:.1} ms, p99 {:.1} ms), {} oversold | pgbench, same transaction, {} clients: {:.0} tx/s (before {:.0}, after {:.0}; {} clients: {:.0}) | {:.0}% | ≥ 70%: {} |\n",
        r["connections"], f(&b["http_bookings_per_s"]), f(&b["http_p50_ms"]), f(&b["http_p99_ms"]),
        b["oversold"], r["pg_clients"], f(&b["ceiling_tps"]), f(&b["pgbench_before_tps"]),
        f(&b["pgbench_after_tps"]), r["connections"], f(&b["pgbench_wide_tps"]),
        f(&b["ratio"]) * 100.0, met(f(&b["ratio"]) >= 0.70)
    ));
    let ch = &b["cpu_us_http"];
    let cp = &b["cpu_us_pgbench"];
    t.push_str(&format!(
        "| CPU per booking (µs, whole machine) | HTTP: server {:.0}, wrk {:.0}, Postgres and the rest {:.0} | pgbench: client {:.0}, Postgres and the rest {:.0} | | |\n",
        f(&ch["server"]), f(&ch["client"]), f(&ch["database_and_rest"]),
        f(&cp["client"]), f(&cp["database_and_rest"])
    ));
    t.push_str(&format!(
        "| Party drop: {} seats, {} attempts, {} clients | sold out in {:.2} s: {:.0} bookings/s, {:.0} attempts/s (p50 {:.1} ms, p99 {:.1} ms) | {} | | exactly {} sold: {} |\n",
        p["seats"], p["attempts"], p["clients"], f(&p["sold_out_s"]), f(&p["bookings_per_s"]),
        f(&p["attempts_per_s"]), f(&p["p50_ms"]), f(&p["p99_ms"]),
        p["summary"].as_str().unwrap_or(""), p["seats"], met(p["exact"].as_bool() == Some(true))
    ));
    t.push_str(&format!(
        "| Read path: a week of slots (56), wrk, {} connections | {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms | `GET /`: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms | {:.0}% | ≥ 40%: {}; p99 < 20 ms: {} |\n",
        r["connections"], f(&rd["slots_rps"]), f(&rd["slots_p50_ms"]), f(&rd["slots_p99_ms"]),
        f(&rd["trivial_rps"]), f(&rd["trivial_p50_ms"]), f(&rd["trivial_p99_ms"]),
        f(&rd["ratio"]) * 100.0, met(f(&rd["ratio"]) >= 0.40), met(f(&rd["slots_p99_ms"]) < 20.0)
    ));
    let cs = &rd["cpu_us_slots"];
    let ct = &rd["cpu_us_trivial"];
    t.push_str(&format!(
        "| CPU per read (µs, whole machine) | week of slots: server {:.0}, wrk {:.0}, Postgres and the rest {:.0} | `GET /`: server {:.0}, wrk {:.0}, the rest {:.0} | | |\n",
        f(&cs["server"]), f(&cs["client"]), f(&cs["database_and_rest"]),
        f(&ct["server"]), f(&ct["client"]), f(&ct["database_and_rest"])
    ));
    t.push_str(&format!(
        "| Footprint | resident memory {:.1} MiB idle, {:.1} MiB peak under load; first healthy answer {:.0} ms after start (warm), {:.0} ms on an empty database (migrations) | | | |\n",
        f(&fp["rss_idle_mib"]), f(&fp["rss_load_mib"]), f(&fp["warm_start_ms"]), f(&fp["first_start_ms"])
    ));
    t
}

/// The whole report; the holds and outbox sections of the report at `previous` (if any) are
/// kept, after the chart.
fn report(r: &Value, notes: &str, previous: &std::path::Path) -> String {
    let md = whole_report(r, notes);
    let previous = std::fs::read_to_string(previous).unwrap_or_default();
    let md = match holds::section_in(&previous) {
        Some(section) => holds::put_section(&md, section),
        None => md,
    };
    match holds::section_between(&previous, outbox::BEGIN, outbox::END) {
        Some(section) => holds::put_between(&md, section, outbox::BEGIN, outbox::END),
        None => md,
    }
}

fn whole_report(r: &Value, notes: &str) -> String {
    format!(
        "# Benchmarks\n\n\
         Load on the REST service over loopback, on Postgres, measured as ratios within one run: these \
         machines are shared and noisy, so absolute numbers vary between runs; ratios much less.\n\n\
         ```bash\n./scripts/bench-load.sh\n```\n\n\
         Run of {date}, commit `{commit}`: {cores} cores ({cpu}), PostgreSQL {pg} on the same machine, \
         load generators (wrk, pgbench, the party clients) on the same cores as the server. \
         Each wrk and pgbench run lasts {secs} s; release build; the server logs every request (JSON, \
         its default).\n\n{table}\n![Throughput and ratios](benchmarks.png)\n\n{notes}",
        date = r["date"].as_str().unwrap_or(""),
        commit = r["commit"].as_str().unwrap_or(""),
        cores = r["cores"],
        cpu = r["cpu"].as_str().unwrap_or(""),
        pg = r["postgres"].as_str().unwrap_or(""),
        secs = r["seconds"],
        table = table(r),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let out = "Running 10s test @ http://127.0.0.1:1/\n  2 threads and 64 connections\n  Latency Distribution\n     50%  812.00us\n     75%    1.20ms\n     90%    2.00ms\n     99%   12.34ms\n  123456 requests in 10.01s, 20.00MB read\n  Non-2xx or 3xx responses: 7\nRequests/sec:  12333.45\nTransfer/sec:      2.00MB\nCREATED 100 OTHER 7\n";
        let w = parse_wrk(out);
        assert!((w.p50_ms - 0.812).abs() < 1e-9);
        assert!((w.p99_ms - 12.34).abs() < 1e-9);
        assert!((w.rps - 12333.45).abs() < 1e-9);
        assert_eq!(
            (w.requests, w.created, w.other, w.non_2xx),
            (123456, 100, 7, 7)
        );
        assert!((w.seconds - 10.01).abs() < 1e-9);
    }
}
