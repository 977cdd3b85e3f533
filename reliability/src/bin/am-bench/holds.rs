//! `am-bench holds`: the party drop with holds.
//!
//! A party of `BENCH_PARTY_SEATS` (5,000) seats whose holds last one minute (`hold_minutes` 1).
//! Wave 1: `BENCH_PARTY_CLIENTS` (256) clients make `BENCH_PARTY_ATTEMPTS` (20,000) attempts, each
//! `POST /holds` of one seat; a holder waits a random 0 to 200 ms (the form) and books with the
//! token, except a fifth of the holders (exactly `seats / 5` of the first `seats` holders, chosen
//! at random) who walk away at once and never book. Then the run waits until every abandoned
//! hold's `expires_at` has passed and checks that each answers `expired`. Wave 2: the same
//! clients make plain bookings (no token) until each of them is refused `slot_full`, which only
//! the reclaimed seats of the expired holds can satisfy.
//!
//! The randomness (each attempt's delay, who abandons) comes from `BENCH_HOLDS_SEED` (default:
//! from the clock), which the report names, so a run's choices can be replayed.
//!
//! Checks (the run exits non-zero if one fails): every seat held in wave 1 (as many holds as
//! seats, wave 1 shorter than a hold's life); no booking of a hold refused (`slot_full`,
//! `hold_ended` or anything else); wave 2 books exactly as many seats as were abandoned; every
//! abandoned hold `expired` before and after wave 2, every booked one `booked` with its
//! booking's id; the owner's listing of the party holds exactly `seats` active bookings, each one
//! of the 201s of the run; seat counters equal the bookings in the database.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reliability::api::{self, User};
use reliability::db::Db;
use reliability::server::ServerProcess;
use reqwest::Client;
use serde_json::{Value, json};

/// The begin marker of the section this mode owns in the report.
pub const BEGIN: &str = "<!-- holds:begin -->";
/// The end marker.
pub const END: &str = "<!-- holds:end -->";

/// The scenario's knobs.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Seats of the party.
    pub seats: usize,
    /// Hold attempts in wave 1.
    pub attempts: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// The party's `hold_minutes`.
    pub hold_minutes: u32,
    /// The longest a holder waits before booking, in ms (uniform from 0).
    pub max_delay_ms: u64,
    /// One holder in this many abandons.
    pub abandon_one_in: usize,
    /// The seed of every random choice.
    pub seed: u64,
}

/// SplitMix64: a small, well-mixed hash of a counter, enough for reproducible choices.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `i`-th draw of stream `stream` of seed `seed`.
fn draw(seed: u64, stream: u64, i: u64) -> u64 {
    splitmix64(seed ^ splitmix64(stream.wrapping_mul(0xA24B_AED4_963E_E407) ^ i))
}

/// Who abandons, by the order in which holds were granted: exactly `seats / one_in` of the first
/// `seats` holders (a seeded shuffle); any holder past those (only possible if holds expired
/// during wave 1) with chance `1 / one_in`.
#[derive(Debug, Clone)]
struct Abandon {
    first: Vec<bool>,
    seed: u64,
    one_in: u64,
}

impl Abandon {
    fn new(seed: u64, seats: usize, one_in: usize) -> Abandon {
        let mut order: Vec<usize> = (0..seats).collect();
        for k in (1..seats).rev() {
            let j = (draw(seed, 2, k as u64) % (k as u64 + 1)) as usize;
            order.swap(k, j);
        }
        let mut first = vec![false; seats];
        for &rank in order.iter().take(seats / one_in.max(1)) {
            first[rank] = true;
        }
        Abandon {
            first,
            seed,
            one_in: one_in.max(1) as u64,
        }
    }

    fn of(&self, rank: usize) -> bool {
        self.first
            .get(rank)
            .copied()
            .unwrap_or_else(|| draw(self.seed, 3, rank as u64).is_multiple_of(self.one_in))
    }
}

/// An answer: status (0 when none came), error code, the body, how long it took and when it
/// arrived (from the wave's start).
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    code: Option<String>,
    body: Value,
    latency: Duration,
    at: Duration,
}

async fn send(req: reqwest::RequestBuilder, start: Instant) -> Answer {
    let t0 = Instant::now();
    let mut a = Answer {
        status: 0,
        code: None,
        body: Value::Null,
        latency: Duration::ZERO,
        at: Duration::ZERO,
    };
    if let Ok(res) = req.send().await {
        a.status = res.status().as_u16();
        match res.json::<Value>().await {
            Ok(v) => {
                a.code = v["code"].as_str().map(str::to_owned);
                a.body = v;
            }
            // A body cut off: what happened is unknown.
            Err(_) => a.status = 0,
        }
    }
    a.latency = t0.elapsed();
    a.at = start.elapsed();
    a
}

/// One attempt of wave 1.
#[derive(Debug, Clone)]
struct HoldAttempt {
    hold: Answer,
    /// The order in which its hold was granted.
    rank: Option<usize>,
    abandoned: bool,
    token: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    /// The booking with the token (none when abandoned or not held).
    book: Option<Answer>,
}

/// `status` or `status code` of an answer, e.g. `409 slot_full`.
fn label(a: &Answer) -> String {
    match (&a.code, a.status) {
        (_, 0) => "no answer".to_owned(),
        (Some(c), s) if s >= 400 => format!("{s} {c}"),
        (_, s) => s.to_string(),
    }
}

fn mix<'a>(answers: impl Iterator<Item = &'a Answer>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for a in answers {
        *m.entry(label(a)).or_insert(0) += 1;
    }
    m
}

fn mix_text(m: &BTreeMap<String, usize>) -> String {
    if m.is_empty() {
        return "none".to_owned();
    }
    m.iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn quantile_ms(mut l: Vec<Duration>, q: f64) -> f64 {
    if l.is_empty() {
        return f64::NAN;
    }
    l.sort();
    let i = ((l.len() - 1) as f64 * q).round() as usize;
    l[i.min(l.len() - 1)].as_secs_f64() * 1e3
}

fn booking_body(code: &str, start: &str, email: &str, token: Option<&str>) -> Value {
    let mut b = json!({
        "app_code": code,
        "start_time": start,
        "name": "Guest",
        "email": email,
        "attendee_count": 1,
    });
    if let (Some(t), Some(o)) = (token, b.as_object_mut()) {
        o.insert("hold_token".into(), json!(t));
    }
    b
}

async fn wave_one(
    client: &Client,
    base: &str,
    code: &str,
    start_time: &str,
    cfg: Config,
) -> (Vec<HoldAttempt>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let granted = Arc::new(AtomicUsize::new(0));
    let abandon = Arc::new(Abandon::new(cfg.seed, cfg.seats, cfg.abandon_one_in));
    let limit = Duration::from_secs(600);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(cfg.clients);
    for _ in 0..cfg.clients {
        let (client, next, granted, abandon) = (
            client.clone(),
            next.clone(),
            granted.clone(),
            abandon.clone(),
        );
        let (base, code, start_time) = (base.to_owned(), code.to_owned(), start_time.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= cfg.attempts || start.elapsed() > limit {
                    break;
                }
                let body = json!({"app_code": code, "start_time": start_time, "attendee_count": 1});
                let hold = send(client.post(format!("{base}/holds")).json(&body), start).await;
                let mut a = HoldAttempt {
                    rank: None,
                    abandoned: false,
                    token: hold.body["hold_token"].as_str().map(str::to_owned),
                    expires_at: hold.body["expires_at"]
                        .as_str()
                        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                        .map(|t| t.with_timezone(&Utc)),
                    hold,
                    book: None,
                };
                if a.hold.status == 201 {
                    let rank = granted.fetch_add(1, Ordering::Relaxed);
                    a.rank = Some(rank);
                    a.abandoned = abandon.of(rank);
                    if !a.abandoned {
                        let delay = draw(cfg.seed, 1, i as u64) % (cfg.max_delay_ms + 1);
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        let body = booking_body(
                            &code,
                            &start_time,
                            &format!("holder{i}@example.com"),
                            a.token.as_deref(),
                        );
                        let req = client.post(format!("{base}/appointments/book")).json(&body);
                        a.book = Some(send(req, start).await);
                    }
                }
                done.push(a);
            }
            done
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("a wave-1 client"));
    }
    (all, start.elapsed())
}

/// Wave 2: each client books (no token) until it is refused `slot_full`.
async fn wave_two(
    client: &Client,
    base: &str,
    code: &str,
    start_time: &str,
    clients: usize,
    max_attempts: usize,
) -> (Vec<Answer>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let limit = Duration::from_secs(600);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (client, next) = (client.clone(), next.clone());
        let (base, code, start_time) = (base.to_owned(), code.to_owned(), start_time.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= max_attempts || start.elapsed() > limit {
                    break;
                }
                let body = booking_body(&code, &start_time, &format!("late{i}@example.com"), None);
                let req = client.post(format!("{base}/appointments/book")).json(&body);
                let a = send(req, start).await;
                let full = a.code.as_deref() == Some("slot_full");
                done.push(a);
                if full {
                    break;
                }
            }
            done
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("a wave-2 client"));
    }
    (all, start.elapsed())
}

/// `GET /holds/{token}` for each token, 32 at a time: token → (status, booking_id).
async fn hold_states(
    client: &Client,
    base: &str,
    tokens: &[String],
) -> HashMap<String, (String, Option<String>)> {
    let queue = Arc::new(std::sync::Mutex::new(tokens.to_vec()));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (client, queue, base) = (client.clone(), queue.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let Some(t) = queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .pop()
                else {
                    break;
                };
                let a = send(client.get(format!("{base}/holds/{t}")), Instant::now()).await;
                let status = if a.status == 200 {
                    a.body["status"].as_str().unwrap_or("?").to_owned()
                } else {
                    label(&a)
                };
                let booking = a.body["booking_id"].as_str().map(str::to_owned);
                out.push((t, (status, booking)));
            }
            out
        }));
    }
    let mut all = HashMap::new();
    for t in tasks {
        all.extend(t.await.expect("a hold reader"));
    }
    all
}

/// The owner's listing of the party, every page: (booking code, id, status, seats).
async fn owner_listing(
    client: &Client,
    base: &str,
    owner: &User,
    code: &str,
) -> Vec<(String, String, String, u64)> {
    let mut all = Vec::new();
    for page in 1.. {
        let res = client
            .get(format!(
                "{base}/appointments/users/{code}?page={page}&per_page=100"
            ))
            .bearer_auth(&owner.token)
            .send()
            .await
            .expect("GET /appointments/users/{code}");
        assert_eq!(res.status().as_u16(), 200, "the owner's listing");
        let body: Value = res.json().await.expect("listing JSON");
        let items = body["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        for b in items {
            all.push((
                b["booking_code"].as_str().unwrap_or("").to_owned(),
                b["id"].as_str().unwrap_or("").to_owned(),
                b["status"].as_str().unwrap_or("").to_owned(),
                b["attendee_count"].as_u64().unwrap_or(0),
            ));
        }
        if body["total_pages"].as_u64().is_some_and(|n| page >= n) {
            break;
        }
    }
    all
}

/// The server's own count of answers from byte `from` of its log on: `METHOD path status`,
/// with appointment codes written `{app_code}` (hold tokens and booking codes are redacted by
/// the server itself).
fn server_mix(log: &Path, from: usize) -> BTreeMap<String, usize> {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(text.get(from..).unwrap_or_default());
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(status) = v["status"].as_u64() else {
            continue;
        };
        let path = v["span"]["path"]
            .as_str()
            .unwrap_or("?")
            .split('/')
            .map(|s| {
                if s.starts_with("AP-") {
                    "{app_code}"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = v["span"]["method"].as_str().unwrap_or("?");
        *m.entry(format!("{method} {path} {status}")).or_insert(0) += 1;
    }
    m
}

fn log_len(log: &Path) -> usize {
    std::fs::metadata(log).map_or(0, |m| m.len() as usize)
}

/// Runs the scenario on `server` (a fresh database at `url`) and returns its results; `ok`
/// says whether every check passed.
pub async fn run(server: &ServerProcess, url: &str, cfg: Config) -> Value {
    let say = |s: &str| eprintln!("[am-bench] {s}");
    let base = server.base.clone();
    let client = api::client();
    let owner = api::user(&client, &base, "owner").await;
    let party = api::appointment_with(
        &client,
        &base,
        &owner,
        "party",
        cfg.seats as u32,
        1,
        json!({"hold_minutes": cfg.hold_minutes}),
    )
    .await;
    let start_time = api::slot_starts(&client, &base, &party, 1).await.remove(0);
    let mut failures: Vec<String> = Vec::new();

    // Wave 1.
    say(&format!(
        "holds, wave 1: {} hold attempts by {} clients on {} seats (seed {})",
        cfg.attempts, cfg.clients, cfg.seats, cfg.seed
    ));
    let log_from = log_len(&server.log_path);
    let (w1, w1_time) = wave_one(&client, &base, &party, &start_time, cfg).await;
    let held: Vec<&HoldAttempt> = w1.iter().filter(|a| a.hold.status == 201).collect();
    let abandoned: Vec<&HoldAttempt> = held.iter().copied().filter(|a| a.abandoned).collect();
    let bookers: Vec<&HoldAttempt> = held.iter().copied().filter(|a| !a.abandoned).collect();
    let booked: Vec<&HoldAttempt> = bookers
        .iter()
        .copied()
        .filter(|a| a.book.as_ref().is_some_and(|b| b.status == 201))
        .collect();
    let hold_book_mix = mix(bookers.iter().filter_map(|a| a.book.as_ref()));
    let hold_book_refused = bookers.len() - booked.len();
    let hold_book_slot_full = bookers
        .iter()
        .filter(|a| {
            a.book
                .as_ref()
                .is_some_and(|b| b.code.as_deref() == Some("slot_full"))
        })
        .count();
    let last_hold = held.iter().map(|a| a.hold.at).max().unwrap_or_default();
    let last_hold_booked = booked
        .iter()
        .filter_map(|a| a.book.as_ref().map(|b| b.at))
        .max()
        .unwrap_or_default();
    // How long before the first hold expired wave 1 was over (its headroom).
    let headroom = held
        .iter()
        .filter_map(|a| a.expires_at)
        .min()
        .map(|t| (t - Utc::now()).num_milliseconds() as f64 / 1e3);
    if held.len() != cfg.seats {
        failures.push(format!(
            "wave 1 held {} seats of {} (a hold lasts {} min; wave 1 took {:.1} s)",
            held.len(),
            cfg.seats,
            cfg.hold_minutes,
            w1_time.as_secs_f64()
        ));
    }
    if held
        .iter()
        .any(|a| a.token.is_none() || a.expires_at.is_none())
    {
        failures.push("a 201 of POST /holds without hold_token or expires_at".into());
    }
    if hold_book_refused != 0 {
        failures.push(format!(
            "{hold_book_refused} bookings of a hold not made ({}), {hold_book_slot_full} of them slot_full",
            mix_text(&hold_book_mix)
        ));
    }
    let hold_mix = mix(w1.iter().map(|a| &a.hold));
    if hold_mix.keys().any(|k| k != "201" && k != "409 slot_full") {
        failures.push(format!("POST /holds answered {}", mix_text(&hold_mix)));
    }

    // Wait for the abandoned holds to expire (the server's clock is this machine's): just past
    // the last `expires_at` (sent to the microsecond, the instant a hold ends), every abandoned
    // hold must answer `expired`.
    let last_expiry = abandoned.iter().filter_map(|a| a.expires_at).max();
    let wait_from = Instant::now();
    let until = |t: DateTime<Utc>| (t - Utc::now()).to_std().unwrap_or_default();
    let abandoned_tokens: Vec<String> = abandoned.iter().filter_map(|a| a.token.clone()).collect();
    let mut held_past_stated = 0;
    if let Some(t) = last_expiry {
        let margin = chrono::TimeDelta::milliseconds(50);
        say(&format!(
            "holds: waiting {:.1} s for {} abandoned holds to expire",
            until(t + margin).as_secs_f64(),
            abandoned.len()
        ));
        tokio::time::sleep(until(t + margin)).await;
        held_past_stated = hold_states(&client, &base, &abandoned_tokens)
            .await
            .values()
            .filter(|(s, _)| s == "held")
            .count();
    }
    let waited = wait_from.elapsed();
    let before = hold_states(&client, &base, &abandoned_tokens).await;
    let not_expired = before.values().filter(|(s, _)| s != "expired").count();
    if held_past_stated != 0 {
        failures.push(format!(
            "{held_past_stated} abandoned holds still held 50 ms after their expires_at"
        ));
    }
    if not_expired != 0 || before.len() != abandoned.len() {
        failures.push(format!(
            "{not_expired} of {} abandoned holds not `expired` once their expires_at had passed",
            abandoned.len()
        ));
    }

    // Wave 2.
    say("holds, wave 2: plain bookings until the party is full");
    let (w2, w2_time) = wave_two(
        &client,
        &base,
        &party,
        &start_time,
        cfg.clients,
        cfg.attempts,
    )
    .await;
    let w2_created: Vec<&Answer> = w2.iter().filter(|a| a.status == 201).collect();
    let w2_mix = mix(w2.iter());
    let w2_last = w2_created.iter().map(|a| a.at).max().unwrap_or_default();
    if w2_created.len() != abandoned.len() {
        failures.push(format!(
            "wave 2 booked {} seats, {} holds were abandoned",
            w2_created.len(),
            abandoned.len()
        ));
    }
    if w2_mix.keys().any(|k| k != "201" && k != "409 slot_full") {
        failures.push(format!("wave 2 answered {}", mix_text(&w2_mix)));
    }

    // The end: the owner's listing, the holds, the database.
    let listing = owner_listing(&client, &base, &owner, &party).await;
    let active: Vec<_> = listing.iter().filter(|b| b.2 == "active").collect();
    let active_seats: u64 = active.iter().map(|b| b.3).sum();
    let made: HashSet<String> = booked
        .iter()
        .filter_map(|a| a.book.as_ref())
        .chain(w2_created.iter().copied())
        .filter_map(|b| b.body["booking_code"].as_str().map(str::to_owned))
        .collect();
    let listed: HashSet<String> = active.iter().map(|b| b.0.clone()).collect();
    if active.len() != cfg.seats || active_seats != cfg.seats as u64 {
        failures.push(format!(
            "the owner's listing shows {} active bookings with {active_seats} seats, not {}",
            active.len(),
            cfg.seats
        ));
    }
    if listed != made || listed.len() != active.len() {
        failures.push(format!(
            "listed bookings ({}) are not the 201s of the run ({})",
            listed.len(),
            made.len()
        ));
    }
    let all_tokens: Vec<String> = held.iter().filter_map(|a| a.token.clone()).collect();
    let after = hold_states(&client, &base, &all_tokens).await;
    let abandoned_set: HashSet<&String> = abandoned_tokens.iter().collect();
    let booking_ids: HashMap<&str, &str> = booked
        .iter()
        .filter_map(|a| Some((a.token.as_deref()?, a.book.as_ref()?.body["id"].as_str()?)))
        .collect();
    let mut hold_state_mix: BTreeMap<String, usize> = BTreeMap::new();
    let mut wrong_states = 0usize;
    for (t, (status, booking)) in &after {
        *hold_state_mix.entry(status.clone()).or_insert(0) += 1;
        let right = if abandoned_set.contains(t) {
            status == "expired" && booking.is_none()
        } else {
            status == "booked" && booking.as_deref() == booking_ids.get(t.as_str()).copied()
        };
        wrong_states += usize::from(!right);
    }
    if wrong_states != 0 || after.len() != held.len() {
        failures.push(format!(
            "{wrong_states} holds in the wrong state at the end ({})",
            mix_text(&hold_state_mix)
        ));
    }
    let dbc = Db::open(url).await;
    let facts = dbc.facts().await;
    let fullest = dbc
        .fullest()
        .await
        .into_iter()
        .find(|(c, _, _)| *c == party)
        .map_or(-1, |(_, _, f)| f);
    dbc.close().await;
    if facts.mismatched_counters != 0 || facts.uncounted_bookings != 0 {
        failures.push(format!("seat counters differ from the bookings: {facts:?}"));
    }
    if fullest != cfg.seats as i64 {
        failures.push(format!(
            "the party's counter is {fullest}, not {}",
            cfg.seats
        ));
    }

    // The server's own count of the waves' answers (its log is written by another thread: wait
    // until it has them all, at most 10 s).
    let posts = w1.len() + bookers.len() + w2.len();
    let posted = |m: &BTreeMap<String, usize>| -> usize {
        m.iter()
            .filter(|(k, _)| {
                k.starts_with("POST /holds ") || k.starts_with("POST /appointments/book ")
            })
            .map(|(_, n)| n)
            .sum()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut answers = server_mix(&server.log_path, log_from);
    while posted(&answers) < posts && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        answers = server_mix(&server.log_path, log_from);
    }
    if posted(&answers) != posts {
        failures.push(format!(
            "the server logged {} answers to the waves' {posts} POSTs",
            posted(&answers)
        ));
    }
    let server_errors: BTreeMap<String, usize> = answers
        .iter()
        .filter(|(k, _)| {
            k.rsplit(' ')
                .next()
                .and_then(|s| s.parse::<u16>().ok())
                .is_some_and(|s| s >= 400)
        })
        .map(|(k, n)| (k.clone(), *n))
        .collect();
    let server_5xx: usize = answers
        .iter()
        .filter(|(k, _)| k.rsplit(' ').next().is_some_and(|s| s.starts_with('5')))
        .map(|(_, n)| n)
        .sum();
    if server_5xx != 0 {
        failures.push(format!("the server answered {server_5xx} 5xx"));
    }

    let hold_lat: Vec<Duration> = w1.iter().map(|a| a.hold.latency).collect();
    let book_lat: Vec<Duration> = bookers
        .iter()
        .filter_map(|a| a.book.as_ref().map(|b| b.latency))
        .collect();
    let w2_lat: Vec<Duration> = w2.iter().map(|a| a.latency).collect();
    let secs = |d: Duration| d.as_secs_f64();
    json!({
        "seats": cfg.seats, "attempts": cfg.attempts, "clients": cfg.clients,
        "hold_minutes": cfg.hold_minutes, "max_delay_ms": cfg.max_delay_ms,
        "abandon_one_in": cfg.abandon_one_in, "seed": cfg.seed.to_string(),
        "wave1": {
            "seconds": secs(w1_time), "attempts": w1.len(),
            "holds": held.len(), "held_out_s": secs(last_hold),
            "holds_per_s": held.len() as f64 / secs(last_hold).max(1e-9),
            "hold_attempts_per_s": w1.len() as f64 / secs(w1_time).max(1e-9),
            "booked": booked.len(), "abandoned": abandoned.len(),
            "bookings_per_s": booked.len() as f64 / secs(last_hold_booked).max(1e-9),
            "last_booking_s": secs(last_hold_booked),
            "hold_mix": hold_mix, "book_mix": hold_book_mix,
            "book_refused": hold_book_refused, "book_slot_full": hold_book_slot_full,
            "hold_p50_ms": quantile_ms(hold_lat.clone(), 0.5), "hold_p99_ms": quantile_ms(hold_lat, 0.99),
            "book_p50_ms": quantile_ms(book_lat.clone(), 0.5), "book_p99_ms": quantile_ms(book_lat, 0.99),
            "headroom_s": headroom,
        },
        "wait": {
            "seconds": secs(waited), "abandoned_expired_before_wave2": abandoned.len() - not_expired,
            "held_just_past_stated_expiry": held_past_stated,
        },
        "wave2": {
            "seconds": secs(w2_time), "attempts": w2.len(), "booked": w2_created.len(),
            "full_in_s": secs(w2_last),
            "bookings_per_s": w2_created.len() as f64 / secs(w2_last).max(1e-9),
            "mix": w2_mix,
            "p50_ms": quantile_ms(w2_lat.clone(), 0.5), "p99_ms": quantile_ms(w2_lat, 0.99),
        },
        "end": {
            "listed_active": active.len(), "listed_seats": active_seats,
            "listed_are_the_201s": listed == made, "hold_states": hold_state_mix,
            "counter": fullest, "mismatched_counters": facts.mismatched_counters,
        },
        "server_mix": answers, "server_errors": server_errors,
        "server_5xx": server_5xx,
        "failures": failures, "ok": failures.is_empty(),
    })
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn mix_of(v: &Value) -> String {
    let m: BTreeMap<String, usize> = v
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0) as usize))
                .collect()
        })
        .unwrap_or_default();
    mix_text(&m)
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// The report's section (between [`BEGIN`] and [`END`]) for the results `r` of [`run`], run at
/// `date` on `commit`.
pub fn section(r: &Value, date: &str, commit: &str) -> String {
    let (w1, wait, w2, end) = (&r["wave1"], &r["wait"], &r["wave2"], &r["end"]);
    let seats = r["seats"].as_u64().unwrap_or(0);
    let abandoned = w1["abandoned"].as_u64().unwrap_or(0);
    let mut t = String::new();
    t.push_str(&format!("{BEGIN}\n## Party drop with holds\n\n"));
    t.push_str("```bash\n./scripts/bench-load.sh holds   # only this scenario; the rest of this file and the chart stay as they are\n```\n\n");
    t.push_str(&format!(
        "Run of {date}, commit `{commit}`, same machine and set-up as above (release server, fresh \
         Postgres database, the clients in the benchmark process); seed `{seed}` \
         (`BENCH_HOLDS_SEED={seed}` replays the delays and who abandons).\n\n",
        seed = r["seed"].as_str().unwrap_or("")
    ));
    t.push_str("| measure | result | check |\n|---|---|---|\n");
    t.push_str(&format!(
        "| Wave 1: {} hold attempts of 1 seat by {} clients on a {}-seat party, `hold_minutes` {} | {} holds in {:.2} s ({:.0} holds/s; {:.0} attempts/s; `POST /holds` p50 {:.1} ms, p99 {:.1} ms); {} booked with their token after 0 to {} ms, the last at {:.2} s ({:.0} bookings/s; booking p50 {:.1} ms, p99 {:.1} ms); {} abandoned; wave over in {:.2} s, {:.1} s before the first hold expired | every seat held: {} |\n",
        w1["attempts"], r["clients"], seats, r["hold_minutes"],
        w1["holds"], f(&w1["held_out_s"]), f(&w1["holds_per_s"]), f(&w1["hold_attempts_per_s"]),
        f(&w1["hold_p50_ms"]), f(&w1["hold_p99_ms"]),
        w1["booked"], r["max_delay_ms"], f(&w1["last_booking_s"]), f(&w1["bookings_per_s"]),
        f(&w1["book_p50_ms"]), f(&w1["book_p99_ms"]),
        abandoned, f(&w1["seconds"]), f(&w1["headroom_s"]),
        met(w1["holds"].as_u64() == Some(seats)),
    ));
    t.push_str(&format!(
        "| Bookings of a hold refused | {} (`slot_full` {}) | a held seat is never lost: {} |\n",
        w1["book_refused"],
        w1["book_slot_full"],
        met(w1["book_refused"].as_u64() == Some(0)),
    ));
    t.push_str(&format!(
        "| Wait for the abandoned holds to expire | {:.1} s: until 50 ms past the last abandoned `expires_at`: {} of the {} abandoned holds still answered `held`; then `GET /holds/{{token}}`: {} of {} `expired` | {} |\n",
        f(&wait["seconds"]), wait["held_just_past_stated_expiry"], abandoned,
        wait["abandoned_expired_before_wave2"], abandoned,
        met(wait["abandoned_expired_before_wave2"].as_u64() == Some(abandoned)
            && wait["held_just_past_stated_expiry"].as_u64() == Some(0)),
    ));
    t.push_str(&format!(
        "| Wave 2: plain bookings (no token) by the same {} clients until each is refused `slot_full` | {} booked in {:.2} s ({:.0} bookings/s; p50 {:.1} ms, p99 {:.1} ms), {} attempts | abandoned seats resold exactly once ({} = {}): {} |\n",
        r["clients"], w2["booked"], f(&w2["full_in_s"]), f(&w2["bookings_per_s"]),
        f(&w2["p50_ms"]), f(&w2["p99_ms"]), w2["attempts"], w2["booked"], abandoned,
        met(w2["booked"].as_u64() == Some(abandoned)),
    ));
    t.push_str(&format!(
        "| At the end | owner's listing (`GET /appointments/users/{{app_code}}`): {} active bookings, {} seats, {} the 201s of the run; holds: {}; the party's seat counter {} | exactly {} booked: {} |\n",
        end["listed_active"], end["listed_seats"],
        if end["listed_are_the_201s"].as_bool() == Some(true) { "exactly" } else { "**not**" },
        mix_of(&end["hold_states"]), end["counter"], seats,
        met(end["listed_active"].as_u64() == Some(seats) && end["listed_seats"].as_u64() == Some(seats)
            && end["listed_are_the_201s"].as_bool() == Some(true)),
    ));
    t.push_str(&format!(
        "| Answers (client side) | `POST /holds`: {}; booking with a token: {}; wave 2: {} | |\n",
        mix_of(&w1["hold_mix"]),
        mix_of(&w1["book_mix"]),
        mix_of(&w2["mix"]),
    ));
    t.push_str(&format!(
        "| Error answers (the server's log, from wave 1 to the last check) | {} | no 5xx: {} |\n",
        mix_of(&r["server_errors"]),
        met(r["server_5xx"].as_u64() == Some(0)),
    ));
    let failures: Vec<String> = r["failures"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if failures.is_empty() {
        t.push_str("\nEvery check passed.\n");
    } else {
        t.push_str(&format!("\n**Failed checks:** {}.\n", failures.join("; ")));
    }
    t.push_str(&format!(
        "\nThe server runs as in the party drop above: the benchmark harness raises the login, \
         registration and owner-write limits (`LOGIN_RATE_PER_MINUTE`, \
         `REGISTRATION_RATE_PER_HOUR`, `OWNER_WRITE_RATE_PER_MINUTE`) out of the way; holds, \
         guest bookings and hold reads have no rate limit, and {} connections are far below \
         `MAX_CONNECTIONS` (4096), so no answer above is a 429 or a 503. A hold that expires is \
         not swept: wave 2's claims find the party full and give the expired holds' seats back \
         in their own transaction.\n\n\
         Not built yet: the waiting list of the original scenario (guests refused in wave 1 \
         queue, and an expired hold's seat is offered to the head of the queue); wave 2 stands \
         in for it with plain bookings.\n",
        r["clients"]
    ));
    t.push_str(&format!("{END}\n"));
    t
}

/// The section of `md` between the markers (both included), if any.
pub fn section_in(md: &str) -> Option<&str> {
    let b = md.find(BEGIN)?;
    let e = md[b..].find(END)? + b + END.len();
    let e = if md[e..].starts_with('\n') { e + 1 } else { e };
    Some(&md[b..e])
}

/// `md` with `section` in place of its section, or, when it has none, inserted after the chart
/// that follows the main table (before "## How it is measured" if there is no chart; at the end
/// if neither is there).
pub fn put_section(md: &str, section: &str) -> String {
    if let Some(old) = section_in(md) {
        return md.replacen(old, section, 1);
    }
    let chart = "![Throughput and ratios](benchmarks.png)\n";
    let at = md
        .find(chart)
        .map(|i| i + chart.len())
        .or_else(|| md.find("## How it is measured"))
        .unwrap_or(md.len());
    let (head, tail) = md.split_at(at);
    let mut out = String::with_capacity(md.len() + section.len() + 2);
    out.push_str(head);
    if !head.ends_with("\n\n") && !head.is_empty() {
        out.push('\n');
    }
    out.push_str(section);
    if !tail.is_empty() && !tail.starts_with('\n') {
        out.push('\n');
    }
    out.push_str(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abandons_exactly_a_fifth_of_the_first_holders() {
        let a = Abandon::new(42, 5000, 5);
        assert_eq!((0..5000).filter(|&r| a.of(r)).count(), 1000);
        let b = Abandon::new(43, 5000, 5);
        assert_ne!(
            (0..5000).filter(|&r| a.of(r)).collect::<Vec<_>>(),
            (0..5000).filter(|&r| b.of(r)).collect::<Vec<_>>(),
            "another seed, other holders"
        );
        let again = Abandon::new(42, 5000, 5);
        assert!((0..6000).all(|r| a.of(r) == again.of(r)), "a seed replays");
    }

    #[test]
    fn the_section_goes_after_the_chart_and_is_replaced_in_place() {
        let md = "# Benchmarks\n\n| t |\n\n![Throughput and ratios](benchmarks.png)\n\n## How it is measured\n\nx\n";
        let s1 = format!("{BEGIN}\none\n{END}\n");
        let once = put_section(md, &s1);
        assert_eq!(
            once,
            format!(
                "# Benchmarks\n\n| t |\n\n![Throughput and ratios](benchmarks.png)\n\n{s1}\n## How it is measured\n\nx\n"
            )
        );
        let s2 = format!("{BEGIN}\ntwo\n{END}\n");
        let twice = put_section(&once, &s2);
        assert_eq!(twice, once.replace("one", "two"));
        assert_eq!(section_in(&twice), Some(s2.as_str()));
        assert_eq!(section_in(md), None);
    }
}
