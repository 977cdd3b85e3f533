//! `am-bench holds`: the party drop with holds and its waiting list.
//!
//! A party of `BENCH_PARTY_SEATS` (5,000) seats whose holds last one minute (`hold_minutes` 1).
//! Wave 1: `BENCH_PARTY_CLIENTS` (256) clients make `BENCH_PARTY_ATTEMPTS` (20,000) attempts, each
//! `POST /holds` of one seat; a holder waits a random 0 to 200 ms (the form) and books with the
//! token, except a fifth of the holders (exactly `seats / 5` of the first `seats` holders, chosen
//! at random) who walk away at once and never book. The first time a client is refused
//! `slot_full`, it joins the party's waiting list (`POST /waitlist`, its own email): one place per
//! client at most, in the join order the server answers as positions. Then the run waits until
//! every abandoned hold's `expires_at` has passed and checks that each answers `expired`.
//!
//! The drain: the waiting clients look at their places (`GET /waitlist/{code}`, 32 at a time,
//! in join order, 100 ms between rounds); the first look reclaims the expired holds, whose seats are offered to
//! the places in join order, and a client whose place is `offered` books at once with the
//! offer's `hold_token`. Wave 2: the same clients make plain bookings (no token) until each of
//! them is refused `slot_full`, which only abandoned seats that no place was offered can
//! satisfy (none when the list is at least as long as the seats abandoned).
//!
//! The randomness (each attempt's delay, who abandons) comes from `BENCH_HOLDS_SEED` (default:
//! from the clock), which the report names, so a run's choices can be replayed.
//!
//! Checks (the run exits non-zero if one fails): every seat held in wave 1 (as many holds as
//! seats, wave 1 shorter than a hold's life); no booking of a hold refused (`slot_full`,
//! `hold_ended` or anything else); every join answered 201 with positions 1 to P, each once;
//! as many offers as seats abandoned or places, whichever is fewer (N), made to join positions
//! 1 to N, each booked with its token; the other places still `waiting`, at their join position
//! minus N; wave 2 books exactly the abandoned seats not offered; every abandoned hold `expired`
//! before the drain and at the end, every booked one and every offer `booked` with its
//! booking's id; the owner's listing of the party holds exactly `seats` active bookings, each
//! one of the 201s of the run; seat counters equal the bookings in the database; no 5xx.

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

/// A client's `POST /waitlist` in wave 1, after a hold of its was refused `slot_full`.
#[derive(Debug, Clone)]
struct Join {
    client: usize,
    email: String,
    answer: Answer,
}

/// A place on the waiting list, from its join's 201.
#[derive(Debug, Clone)]
struct Place {
    code: String,
    email: String,
    /// The position the join answered: the join order.
    position: u64,
}

/// An offer as the place's client first saw it.
#[derive(Debug, Clone)]
struct Offer {
    token: String,
    expires_at: Option<DateTime<Utc>>,
    /// When it was seen, from the drain's start.
    seen_at: Duration,
}

/// A place through the drain.
#[derive(Debug, Clone)]
struct Drained {
    place: Place,
    /// Its `GET /waitlist/{code}` answers, in order.
    polls: Vec<Answer>,
    offer: Option<Offer>,
    /// The booking with the offer's token.
    book: Option<Answer>,
}

impl Drained {
    /// Still to be looked at: not offered yet, and waiting when last seen (or not seen yet).
    fn pending(&self) -> bool {
        self.offer.is_none()
            && self
                .polls
                .last()
                .is_none_or(|a| a.status == 200 && a.body["status"] == "waiting")
    }
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

/// Wave 1: the hold attempts, each client's join of the waiting list (after its first
/// `slot_full`), and the wave's length.
async fn wave_one(
    client: &Client,
    base: &str,
    code: &str,
    start_time: &str,
    cfg: Config,
) -> (Vec<HoldAttempt>, Vec<Join>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let granted = Arc::new(AtomicUsize::new(0));
    let abandon = Arc::new(Abandon::new(cfg.seed, cfg.seats, cfg.abandon_one_in));
    let limit = Duration::from_secs(600);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(cfg.clients);
    for c in 0..cfg.clients {
        let (client, next, granted, abandon) = (
            client.clone(),
            next.clone(),
            granted.clone(),
            abandon.clone(),
        );
        let (base, code, start_time) = (base.to_owned(), code.to_owned(), start_time.to_owned());
        tasks.push(tokio::spawn(async move {
            let (mut done, mut joins, mut joined) = (Vec::new(), Vec::new(), false);
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
                if !joined && a.hold.code.as_deref() == Some("slot_full") {
                    let email = format!("waiter{c}@example.com");
                    let body = json!({
                        "app_code": code, "start_time": start_time, "attendee_count": 1,
                        "name": format!("Waiting guest {c}"), "email": email,
                    });
                    let answer =
                        send(client.post(format!("{base}/waitlist")).json(&body), start).await;
                    // Only "seats are free" (400) lets the client try again at its next refusal.
                    joined = answer.status != 400;
                    joins.push(Join {
                        client: c,
                        email,
                        answer,
                    });
                }
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
            (done, joins)
        }));
    }
    let (mut all, mut joins) = (Vec::new(), Vec::new());
    for t in tasks {
        let (done, joined) = t.await.expect("a wave-1 client");
        all.extend(done);
        joins.extend(joined);
    }
    (all, joins, start.elapsed())
}

/// The pause between two rounds of looks at the places still waiting.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// The longest the drain goes on (an offer lasts the party's `hold_minutes`, one minute).
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// The drain: rounds of `GET /waitlist/{code}` over the places still waiting, 32 at a time in
/// join order, [`POLL_EVERY`] between rounds; a place seen `offered` is booked at once with the offer's token.
/// Ends once `expected` offers were seen, no place is left waiting, or after [`DRAIN_LIMIT`].
/// Answers the places and the rounds made; `seen_at` and each answer's `at` count from the
/// drain's start.
async fn drain(
    client: &Client,
    base: &str,
    code: &str,
    start_time: &str,
    places: Vec<Place>,
    expected: usize,
) -> (Vec<Drained>, usize) {
    let start = Instant::now();
    let mut all: Vec<Drained> = places
        .into_iter()
        .map(|place| Drained {
            place,
            polls: Vec::new(),
            offer: None,
            book: None,
        })
        .collect();
    let mut rounds = 0;
    loop {
        rounds += 1;
        // Popped from the end: first in line, first looked at.
        let queue: Vec<(usize, String, String)> = all
            .iter()
            .enumerate()
            .filter(|(_, d)| d.pending())
            .map(|(i, d)| (i, d.place.code.clone(), d.place.email.clone()))
            .rev()
            .collect();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (client, queue) = (client.clone(), queue.clone());
            let (base, code, start_time) =
                (base.to_owned(), code.to_owned(), start_time.to_owned());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let Some((i, place, email)) = queue
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .pop()
                    else {
                        break;
                    };
                    let seen = send(client.get(format!("{base}/waitlist/{place}")), start).await;
                    let token = (seen.status == 200 && seen.body["status"] == "offered")
                        .then(|| seen.body["hold_token"].as_str().map(str::to_owned))
                        .flatten();
                    let book = match &token {
                        Some(t) => {
                            let body = booking_body(&code, &start_time, &email, Some(t));
                            let req = client.post(format!("{base}/appointments/book")).json(&body);
                            Some(send(req, start).await)
                        }
                        None => None,
                    };
                    out.push((i, seen, token, book));
                }
                out
            }));
        }
        for t in tasks {
            for (i, seen, token, book) in t.await.expect("a waiting client") {
                let d = &mut all[i];
                if let Some(token) = token {
                    d.offer = Some(Offer {
                        token,
                        expires_at: seen.body["offer_expires_at"]
                            .as_str()
                            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                            .map(|t| t.with_timezone(&Utc)),
                        seen_at: seen.at,
                    });
                    d.book = book;
                }
                d.polls.push(seen);
            }
        }
        let offers = all.iter().filter(|d| d.offer.is_some()).count();
        if offers >= expected || !all.iter().any(Drained::pending) || start.elapsed() > DRAIN_LIMIT
        {
            break;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    (all, rounds)
}

/// What became of one place: its join position, whether it was offered and the offer booked
/// (201), and its status and position when looked at after the drain.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PlaceOutcome {
    join_position: u64,
    offered: bool,
    booked: bool,
    status: String,
    position: u64,
}

/// The waiting list's checks, for `abandoned` seats freed and the places in `places`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WaitlistChecks {
    /// Places (P).
    places: usize,
    /// Offers expected: N = min(abandoned, P).
    expected: usize,
    /// Offers made (seen).
    offers: usize,
    /// The joins answered positions 1 to P, each once.
    positions_once: bool,
    /// Join positions of the places offered when they should not have been, or not offered
    /// when they should (the first N), in order.
    misplaced: Vec<u64>,
    /// Offers not booked with their token (or not `booked` at the end).
    unbooked: usize,
    /// Places not offered that are `waiting` at their join position minus N.
    still_waiting: usize,
    /// What the other places not offered were, by status.
    not_waiting: BTreeMap<String, usize>,
}

impl WaitlistChecks {
    fn of(places: &[PlaceOutcome], abandoned: usize) -> WaitlistChecks {
        let mut positions: Vec<u64> = places.iter().map(|p| p.join_position).collect();
        positions.sort_unstable();
        let expected = abandoned.min(places.len());
        let n = expected as u64;
        let mut misplaced: Vec<u64> = places
            .iter()
            .filter(|p| p.offered != (p.join_position <= n))
            .map(|p| p.join_position)
            .collect();
        misplaced.sort_unstable();
        let mut not_waiting = BTreeMap::new();
        let mut still_waiting = 0;
        for p in places.iter().filter(|p| !p.offered) {
            if p.status == "waiting" && p.position == p.join_position.saturating_sub(n) {
                still_waiting += 1;
            } else {
                let k = if p.status == "waiting" {
                    "waiting at another position".to_owned()
                } else {
                    p.status.clone()
                };
                *not_waiting.entry(k).or_insert(0) += 1;
            }
        }
        WaitlistChecks {
            places: places.len(),
            expected,
            offers: places.iter().filter(|p| p.offered).count(),
            positions_once: positions.iter().copied().eq(1..=places.len() as u64),
            misplaced,
            unbooked: places
                .iter()
                .filter(|p| p.offered && !(p.booked && p.status == "booked"))
                .count(),
            still_waiting,
            not_waiting,
        }
    }

    /// One line per failed check.
    fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        let (p, n) = (self.places, self.expected);
        if !self.positions_once {
            f.push(format!(
                "the {p} joins did not answer positions 1 to {p} each once"
            ));
        }
        if self.offers != n {
            f.push(format!("{} offers, expected {n}", self.offers));
        }
        if !self.misplaced.is_empty() {
            f.push(format!(
                "offers not in join order: the places at join positions {:?}{} were offered \
                 though not among the first {n}, or not offered though among them",
                &self.misplaced[..self.misplaced.len().min(10)],
                if self.misplaced.len() > 10 { "…" } else { "" }
            ));
        }
        if self.unbooked != 0 {
            f.push(format!(
                "{} offers not booked with their token",
                self.unbooked
            ));
        }
        if !self.not_waiting.is_empty() {
            f.push(format!(
                "places not offered that are not waiting at their join position minus {n}: {}",
                mix_text(&self.not_waiting)
            ));
        }
        f
    }
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

/// `GET {base}{path}` for each path, 32 at a time: path → answer.
async fn get_each(client: &Client, base: &str, paths: Vec<String>) -> HashMap<String, Answer> {
    let queue = Arc::new(std::sync::Mutex::new(paths));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (client, queue, base) = (client.clone(), queue.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let Some(path) = queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .pop()
                else {
                    break;
                };
                let a = send(client.get(format!("{base}{path}")), Instant::now()).await;
                out.push((path, a));
            }
            out
        }));
    }
    let mut all = HashMap::new();
    for t in tasks {
        all.extend(t.await.expect("a reader"));
    }
    all
}

/// The `status` of a 200, or the answer's label.
fn status_of(a: &Answer) -> String {
    if a.status == 200 {
        a.body["status"].as_str().unwrap_or("?").to_owned()
    } else {
        label(a)
    }
}

/// `GET /holds/{token}` for each token, 32 at a time: token → (status, booking_id).
async fn hold_states(
    client: &Client,
    base: &str,
    tokens: &[String],
) -> HashMap<String, (String, Option<String>)> {
    let paths = tokens.iter().map(|t| format!("/holds/{t}")).collect();
    get_each(client, base, paths)
        .await
        .into_iter()
        .map(|(path, a)| {
            let token = path.trim_start_matches("/holds/").to_owned();
            let booking = a.body["booking_id"].as_str().map(str::to_owned);
            (token, (status_of(&a), booking))
        })
        .collect()
}

/// `GET /waitlist/{code}` for each place, 32 at a time: code → (status, position).
async fn place_states(
    client: &Client,
    base: &str,
    codes: &[String],
) -> HashMap<String, (String, u64)> {
    let paths = codes.iter().map(|c| format!("/waitlist/{c}")).collect();
    get_each(client, base, paths)
        .await
        .into_iter()
        .map(|(path, a)| {
            let code = path.trim_start_matches("/waitlist/").to_owned();
            let position = a.body["position"].as_u64().unwrap_or(0);
            (code, (status_of(&a), position))
        })
        .collect()
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
                } else if s.starts_with("WL-") {
                    "{waitlist_code}"
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
    let (w1, joins, w1_time) = wave_one(&client, &base, &party, &start_time, cfg).await;
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
    // The waiting list: a place per client that joined (201), in the order of its positions.
    let join_mix = mix(joins.iter().map(|j| &j.answer));
    let mut places: Vec<Place> = joins
        .iter()
        .filter(|j| j.answer.status == 201)
        .map(|j| Place {
            code: j.answer.body["waitlist_code"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            email: j.email.clone(),
            position: j.answer.body["position"].as_u64().unwrap_or(0),
        })
        .collect();
    places.sort_by_key(|p| p.position);
    let joined_clients: HashSet<usize> = joins
        .iter()
        .filter(|j| j.answer.status == 201)
        .map(|j| j.client)
        .collect();
    if join_mix.keys().any(|k| k != "201") {
        failures.push(format!("POST /waitlist answered {}", mix_text(&join_mix)));
    }
    if joined_clients.len() != places.len()
        || joins.iter().filter(|j| j.answer.status == 201).any(|j| {
            j.answer.body["status"] != "waiting" || !j.answer.body["waitlist_code"].is_string()
        })
    {
        failures.push(
            "a join's 201 was not one `waiting` place with a waitlist_code per client".into(),
        );
    }
    let join_lat: Vec<Duration> = joins.iter().map(|j| j.answer.latency).collect();
    let first_join = joins.iter().map(|j| j.answer.at).min().unwrap_or_default();
    let last_join = joins.iter().map(|j| j.answer.at).max().unwrap_or_default();

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

    // The drain: the waiting clients look at their places and book their offers.
    let expected_offers = abandoned.len().min(places.len());
    say(&format!(
        "holds, waiting list: {} places, {expected_offers} offers expected",
        places.len()
    ));
    let (drained, rounds) = drain(
        &client,
        &base,
        &party,
        &start_time,
        places.clone(),
        expected_offers,
    )
    .await;
    let codes: Vec<String> = places.iter().map(|p| p.code.clone()).collect();
    let finals = place_states(&client, &base, &codes).await;
    let outcomes: Vec<PlaceOutcome> = drained
        .iter()
        .map(|d| {
            let (status, position) = finals
                .get(&d.place.code)
                .cloned()
                .unwrap_or_else(|| ("not read".to_owned(), 0));
            PlaceOutcome {
                join_position: d.place.position,
                offered: d.offer.is_some(),
                booked: d.book.as_ref().is_some_and(|b| b.status == 201),
                status,
                position,
            }
        })
        .collect();
    let wl = WaitlistChecks::of(&outcomes, abandoned.len());
    failures.extend(wl.failures());
    let offered: Vec<&Drained> = drained.iter().filter(|d| d.offer.is_some()).collect();
    let offer_books: Vec<&Answer> = offered.iter().filter_map(|d| d.book.as_ref()).collect();
    let offer_booked: Vec<&Answer> = offer_books
        .iter()
        .copied()
        .filter(|b| b.status == 201)
        .collect();
    let polls: Vec<&Answer> = drained.iter().flat_map(|d| d.polls.iter()).collect();
    let poll_mix: BTreeMap<String, usize> = {
        let mut m = BTreeMap::new();
        for a in &polls {
            *m.entry(status_of(a)).or_insert(0) += 1;
        }
        m
    };
    let final_mix: BTreeMap<String, usize> = {
        let mut m = BTreeMap::new();
        for o in &outcomes {
            *m.entry(o.status.clone()).or_insert(0) += 1;
        }
        m
    };
    let last_offer_seen = offered
        .iter()
        .filter_map(|d| d.offer.as_ref().map(|o| o.seen_at))
        .max()
        .unwrap_or_default();
    let drain_time = offer_booked.iter().map(|b| b.at).max().unwrap_or_default();
    // When the server made the offers: an offer's hold lasts `hold_minutes` from then.
    let offer_made: Vec<DateTime<Utc>> = offered
        .iter()
        .filter_map(|d| d.offer.as_ref()?.expires_at)
        .map(|t| t - chrono::TimeDelta::minutes(i64::from(cfg.hold_minutes)))
        .collect();
    let offer_instants = offer_made.iter().collect::<HashSet<_>>().len();
    // Offers seen only at a later look: what the place's earlier looks answered.
    let mut earlier_looks: BTreeMap<String, usize> = BTreeMap::new();
    for d in &offered {
        for a in &d.polls[..d.polls.len().saturating_sub(1)] {
            let k = format!("{} at position {}", status_of(a), a.body["position"]);
            *earlier_looks.entry(k).or_insert(0) += 1;
        }
    }
    let offered_later = offered.iter().filter(|d| d.polls.len() > 1).count();
    // A waiting place's position is its join position until the offers, then that minus the
    // offers made (nobody leaves): any other position answered is one the place never had.
    let n_offered = offered.len() as u64;
    let mut waiting_looks = 0usize;
    let mut wrong_positions: Vec<u64> = Vec::new();
    for d in &drained {
        for a in d.polls.iter().filter(|a| status_of(a) == "waiting") {
            waiting_looks += 1;
            let p = a.body["position"].as_u64().unwrap_or(0);
            let join = d.place.position;
            if p != join && (join <= n_offered || p != join - n_offered) {
                wrong_positions.push(join);
            }
        }
    }
    wrong_positions.sort_unstable();
    if !wrong_positions.is_empty() {
        failures.push(format!(
            "{} looks at waiting places answered a position the place never had",
            wrong_positions.len()
        ));
    }
    let offer_span_ms = match (offer_made.iter().min(), offer_made.iter().max()) {
        (Some(a), Some(b)) => (*b - *a).num_microseconds().unwrap_or(0) as f64 / 1e3,
        _ => 0.0,
    };

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
    if w2_created.len() != abandoned.len() - expected_offers {
        failures.push(format!(
            "wave 2 booked {} seats, {} holds were abandoned and {expected_offers} offered",
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
        .chain(offer_booked.iter().copied())
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
    // The offers' holds: each booked, by the booking made with its token.
    let offer_tokens: Vec<String> = offered
        .iter()
        .filter_map(|d| Some(d.offer.as_ref()?.token.clone()))
        .collect();
    let offer_booking_ids: HashMap<&str, &str> = offered
        .iter()
        .filter_map(|d| {
            Some((
                d.offer.as_ref()?.token.as_str(),
                d.book.as_ref()?.body["id"].as_str()?,
            ))
        })
        .collect();
    let offer_holds = hold_states(&client, &base, &offer_tokens).await;
    let mut offer_hold_mix: BTreeMap<String, usize> = BTreeMap::new();
    let mut wrong_offers = 0usize;
    for (t, (status, booking)) in &offer_holds {
        *offer_hold_mix.entry(status.clone()).or_insert(0) += 1;
        wrong_offers += usize::from(
            !(status == "booked"
                && booking.as_deref() == offer_booking_ids.get(t.as_str()).copied()),
        );
    }
    if wrong_offers != 0 || offer_holds.len() != offered.len() {
        failures.push(format!(
            "{wrong_offers} offers' holds not booked by their booking at the end ({})",
            mix_text(&offer_hold_mix)
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
    let posts = w1.len() + joins.len() + bookers.len() + offer_books.len() + w2.len();
    let posted = |m: &BTreeMap<String, usize>| -> usize {
        m.iter()
            .filter(|(k, _)| {
                k.starts_with("POST /holds ")
                    || k.starts_with("POST /waitlist ")
                    || k.starts_with("POST /appointments/book ")
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
    let poll_lat: Vec<Duration> = polls.iter().map(|a| a.latency).collect();
    let offer_book_lat: Vec<Duration> = offer_books.iter().map(|a| a.latency).collect();
    let secs = |d: Duration| d.as_secs_f64();
    let waitlist = json!({
        "joins": joins.len(), "places": places.len(), "clients_joined": joined_clients.len(),
        "join_mix": join_mix, "first_join_s": secs(first_join), "last_join_s": secs(last_join),
        "join_p50_ms": quantile_ms(join_lat.clone(), 0.5), "join_p99_ms": quantile_ms(join_lat, 0.99),
        "positions_once": wl.positions_once,
        "expected_offers": wl.expected, "offers": wl.offers,
        "misplaced": wl.misplaced, "offers_booked": offer_booked.len(),
        "unbooked": wl.unbooked, "book_mix": mix(offer_books.iter().copied()),
        "still_waiting": wl.still_waiting, "not_waiting": wl.not_waiting,
        "final_mix": final_mix, "offer_holds": offer_hold_mix,
        "rounds": rounds, "polls": polls.len(), "poll_mix": poll_mix,
        "poll_p50_ms": quantile_ms(poll_lat.clone(), 0.5),
        "poll_p99_ms": quantile_ms(poll_lat.clone(), 0.99),
        "poll_max_ms": quantile_ms(poll_lat, 1.0),
        "last_offer_seen_s": secs(last_offer_seen),
        "offers_per_s": offered.len() as f64 / secs(last_offer_seen).max(1e-9),
        "drain_s": secs(drain_time),
        "book_p50_ms": quantile_ms(offer_book_lat.clone(), 0.5),
        "book_p99_ms": quantile_ms(offer_book_lat, 0.99),
        "offer_instants": offer_instants, "offer_span_ms": offer_span_ms,
        "offered_at_a_later_look": offered_later, "earlier_looks_of_offered": earlier_looks,
        "waiting_looks": waiting_looks, "wrong_positions": wrong_positions.len(),
        "wrong_positions_joins": format!(
            "{} to {}",
            wrong_positions.first().unwrap_or(&0),
            wrong_positions.last().unwrap_or(&0)
        ),
    });
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
        "waitlist": waitlist,
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
    let wl = &r["waitlist"];
    let seats = r["seats"].as_u64().unwrap_or(0);
    let abandoned = w1["abandoned"].as_u64().unwrap_or(0);
    let places = wl["places"].as_u64().unwrap_or(0);
    let n = wl["expected_offers"].as_u64().unwrap_or(0);
    let offers = wl["offers"].as_u64().unwrap_or(0);
    let misplaced = wl["misplaced"].as_array().map_or(0, Vec::len);
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
        "| Wave 1, waiting list: a client refused `slot_full` joins the party's list once (`POST /waitlist`, its own email) | {} places for {} clients ({} joins: {}), from {:.2} s to {:.2} s (p50 {:.1} ms, p99 {:.1} ms); positions answered: {} | one place per client, join order 1 to {}: {} |\n",
        places, r["clients"], wl["joins"], mix_of(&wl["join_mix"]),
        f(&wl["first_join_s"]), f(&wl["last_join_s"]), f(&wl["join_p50_ms"]), f(&wl["join_p99_ms"]),
        if wl["positions_once"].as_bool() == Some(true) {
            format!("1 to {places}, each once")
        } else {
            "**not** 1 to P each once".to_owned()
        },
        places,
        met(wl["positions_once"].as_bool() == Some(true)
            && wl["clients_joined"].as_u64() == Some(places)
            && wl["join_mix"].as_object().is_some_and(|m| m.keys().all(|k| k == "201"))),
    ));
    t.push_str(&format!(
        "| Wait for the abandoned holds to expire | {:.1} s: until 50 ms past the last abandoned `expires_at`: {} of the {} abandoned holds still answered `held`; then `GET /holds/{{token}}`: {} of {} `expired` | {} |\n",
        f(&wait["seconds"]), wait["held_just_past_stated_expiry"], abandoned,
        wait["abandoned_expired_before_wave2"], abandoned,
        met(wait["abandoned_expired_before_wave2"].as_u64() == Some(abandoned)
            && wait["held_just_past_stated_expiry"].as_u64() == Some(0)),
    ));
    t.push_str(&format!(
        "| Drain: the waiting clients look at their places (`GET /waitlist/{{code}}`, 32 at a time in join order, {} ms between rounds) and book an offer at once with its `hold_token` | {} offers for {} seats abandoned and {} places, to join positions {}; all seen {:.2} s after the first look ({:.0} offers/s), {}; {} booked with their token, the last at {:.2} s (the drain time; booking p50 {:.1} ms, p99 {:.1} ms); {} rounds, {} looks (p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms){} | {} offers (fewer of seats abandoned and places): {}; to the first {} in join order: {}; every offer booked: {} |\n",
        POLL_EVERY.as_millis(), offers, abandoned, places,
        if misplaced == 0 {
            format!("1 to {offers}")
        } else {
            format!("**other than** 1 to {n} ({misplaced} misplaced)")
        },
        f(&wl["last_offer_seen_s"]), f(&wl["offers_per_s"]),
        match wl["offer_instants"].as_u64() {
            Some(1) => "all made at the same instant of the server's clock (equal `offer_expires_at`)".to_owned(),
            k => format!(
                "made at {} instants of the server's clock over {:.1} ms (`offer_expires_at` minus `hold_minutes`)",
                k.unwrap_or(0), f(&wl["offer_span_ms"])
            ),
        },
        wl["offers_booked"], f(&wl["drain_s"]), f(&wl["book_p50_ms"]), f(&wl["book_p99_ms"]),
        wl["rounds"], wl["polls"], f(&wl["poll_p50_ms"]), f(&wl["poll_p99_ms"]), f(&wl["poll_max_ms"]),
        if wl["offered_at_a_later_look"].as_u64().unwrap_or(0) > 0 {
            format!(
                "; {} offers seen only at their place's second look or later, the earlier looks answering {}",
                wl["offered_at_a_later_look"],
                mix_of(&wl["earlier_looks_of_offered"])
            )
        } else {
            String::new()
        },
        n, met(offers == n), n, met(misplaced == 0),
        met(wl["unbooked"].as_u64() == Some(0) && wl["offers_booked"].as_u64() == Some(offers)),
    ));
    let wrong = wl["wrong_positions"].as_u64().unwrap_or(0);
    t.push_str(&format!(
        "| Positions answered by the drain's looks at waiting places | {} of {} `waiting` answers{} at a position the place never had (its join position before the offers, that minus {} after) | every position the place's own: {} |\n",
        wrong, wl["waiting_looks"],
        if wrong > 0 {
            format!(", for places at join positions {},", wl["wrong_positions_joins"].as_str().unwrap_or(""))
        } else {
            String::new()
        },
        offers,
        if wrong == 0 { "met" } else { "**missed** (see below)" },
    ));
    t.push_str(&format!(
        "| Places not offered, looked at after the drain | {}{} | the rest still waiting, in order: {} |\n",
        if places > offers {
            format!(
                "{} of {}: `waiting`, each at its join position minus {n}",
                wl["still_waiting"],
                places - offers
            )
        } else {
            "none: every place was offered".to_owned()
        },
        if wl["not_waiting"].as_object().is_some_and(|m| !m.is_empty()) {
            format!("; **other**: {}", mix_of(&wl["not_waiting"]))
        } else {
            String::new()
        },
        met(wl["still_waiting"].as_u64() == Some(places.saturating_sub(n))
            && wl["not_waiting"].as_object().is_some_and(serde_json::Map::is_empty)),
    ));
    t.push_str(&format!(
        "| Wave 2: plain bookings (no token) by the same {} clients until each is refused `slot_full` | {}, {} attempts (p50 {:.1} ms, p99 {:.1} ms) | abandoned seats not offered resold exactly once ({} = {} − {}): {} |\n",
        r["clients"],
        if w2["booked"].as_u64().unwrap_or(0) > 0 {
            format!(
                "{} booked in {:.2} s ({:.0} bookings/s)",
                w2["booked"], f(&w2["full_in_s"]), f(&w2["bookings_per_s"])
            )
        } else {
            "none booked".to_owned()
        },
        w2["attempts"], f(&w2["p50_ms"]), f(&w2["p99_ms"]), w2["booked"], abandoned, n,
        met(w2["booked"].as_u64() == Some(abandoned - n)),
    ));
    t.push_str(&format!(
        "| At the end | owner's listing (`GET /appointments/users/{{app_code}}`): {} active bookings, {} seats, {} the 201s of the run; wave 1's holds: {}; the offers' holds: {}; the places: {}; the party's seat counter {} | exactly {} booked: {} |\n",
        end["listed_active"], end["listed_seats"],
        if end["listed_are_the_201s"].as_bool() == Some(true) { "exactly" } else { "**not**" },
        mix_of(&end["hold_states"]), mix_of(&wl["offer_holds"]), mix_of(&wl["final_mix"]),
        end["counter"], seats,
        met(end["listed_active"].as_u64() == Some(seats) && end["listed_seats"].as_u64() == Some(seats)
            && end["listed_are_the_201s"].as_bool() == Some(true)),
    ));
    t.push_str(&format!(
        "| Answers (client side) | `POST /holds`: {}; booking with a token: {}; `POST /waitlist`: {}; looks at a place (by status): {}; booking an offer: {}; wave 2: {} | |\n",
        mix_of(&w1["hold_mix"]),
        mix_of(&w1["book_mix"]),
        mix_of(&wl["join_mix"]),
        mix_of(&wl["poll_mix"]),
        mix_of(&wl["book_mix"]),
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
         guest bookings, waiting lists and hold reads have no rate limit, and {} connections \
         are far below `MAX_CONNECTIONS` (4096), so no answer above is a 429 or a 503. A hold \
         that expires is not swept: the first look at a waiting place gives the expired holds' \
         seats back and offers them to the places in join order, in its own transaction. The \
         drain's clock starts at that first look, once every abandoned hold had expired, so \
         offers/s is how fast the clients saw offers already made, not how fast holds expire.\n",
        r["clients"]
    ));
    if wrong > 0 {
        t.push_str(&format!(
            "\n**Wrong answers to looks at a place.** {wrong} looks that ran while another look's \
             transaction was giving back the expired holds and offering their seats answered \
             `waiting` at a position the place never had, for places that were by then offered \
             (a later look showed the offer). No seat is wrong; the answer is.\n"
        ));
    }
    if places > abandoned {
        t.push_str(&format!(
            "\nThe list ({places} places) is longer than the seats abandoned ({abandoned}): the \
             first {n} places got the seats and the others still wait; wave 2 finds the party \
             full.\n"
        ));
    } else {
        t.push_str(&format!(
            "\nWith one place per client, the list holds at most {} places, here {places}, \
             {} the {abandoned} seats abandoned: every place was offered, and wave 2 sold the \
             other {} seats. A smaller party (`BENCH_PARTY_SEATS=1000`: 200 seats abandoned) \
             leaves places waiting.\n",
            r["clients"],
            if places == abandoned {
                "as many as"
            } else {
                "fewer than"
            },
            abandoned - n
        ));
    }
    t.push_str(&format!("{END}\n"));
    t
}

/// The section of `md` between the markers (both included), if any.
pub fn section_in(md: &str) -> Option<&str> {
    section_between(md, BEGIN, END)
}

/// The part of `md` from `begin` to `end` (and the newline after it), if there is one.
pub fn section_between<'a>(md: &'a str, begin: &str, end: &str) -> Option<&'a str> {
    let b = md.find(begin)?;
    let e = md[b..].find(end)? + b + end.len();
    let e = if md[e..].starts_with('\n') { e + 1 } else { e };
    Some(&md[b..e])
}

/// `md` with `section` in place of its section, or, when it has none, inserted after the chart
/// that follows the main table (before "## How it is measured" if there is no chart; at the end
/// if neither is there).
pub fn put_section(md: &str, section: &str) -> String {
    put_between(md, section, BEGIN, END)
}

/// As [`put_section`], for the section between `begin` and `end`.
pub fn put_between(md: &str, section: &str, begin: &str, end: &str) -> String {
    if let Some(old) = section_between(md, begin, end) {
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

    /// Places 1 to `p` in join order, the first `offered` offered and booked, the others
    /// waiting at their join position minus `offered`.
    fn drained_well(p: u64, offered: u64) -> Vec<PlaceOutcome> {
        (1..=p)
            .map(|j| PlaceOutcome {
                join_position: j,
                offered: j <= offered,
                booked: j <= offered,
                status: if j <= offered { "booked" } else { "waiting" }.to_owned(),
                position: j.saturating_sub(offered),
            })
            .collect()
    }

    #[test]
    fn a_list_drained_in_order_passes() {
        let more_places = WaitlistChecks::of(&drained_well(5, 2), 2);
        assert_eq!(more_places.failures(), Vec::<String>::new());
        assert_eq!((more_places.expected, more_places.still_waiting), (2, 3));
        let more_seats = WaitlistChecks::of(&drained_well(3, 3), 10);
        assert_eq!(more_seats.failures(), Vec::<String>::new());
        assert_eq!((more_seats.expected, more_seats.still_waiting), (3, 0));
        assert!(WaitlistChecks::of(&[], 4).failures().is_empty());
    }

    #[test]
    fn an_offer_out_of_order_fails() {
        // Join position 3 offered instead of 2, which then waits first in line.
        let mut places = drained_well(5, 2);
        places[1] = PlaceOutcome {
            join_position: 2,
            offered: false,
            booked: false,
            status: "waiting".into(),
            position: 1,
        };
        places[2] = PlaceOutcome {
            join_position: 3,
            offered: true,
            booked: true,
            status: "booked".into(),
            position: 0,
        };
        let c = WaitlistChecks::of(&places, 2);
        assert_eq!(c.misplaced, vec![2, 3]);
        assert_eq!(c.offers, 2);
        let f = c.failures();
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].starts_with("offers not in join order"), "{f:?}");
        assert!(f[1].ends_with("waiting at another position ×1"), "{f:?}");
    }

    #[test]
    fn a_surplus_or_missing_offer_fails() {
        let surplus = WaitlistChecks::of(&drained_well(5, 3), 2);
        assert_eq!(surplus.offers, 3);
        assert!(
            surplus
                .failures()
                .iter()
                .any(|f| f == "3 offers, expected 2")
        );
        let missing = WaitlistChecks::of(&drained_well(5, 1), 2);
        assert!(
            missing
                .failures()
                .iter()
                .any(|f| f == "1 offers, expected 2")
        );
    }

    #[test]
    fn repeated_positions_an_unbooked_offer_and_a_lost_place_fail() {
        let mut places = drained_well(4, 1);
        places[3].join_position = 3;
        places[0].booked = false;
        places[1].status = "expired".into();
        let c = WaitlistChecks::of(&places, 1);
        assert!(!c.positions_once);
        assert_eq!(c.unbooked, 1);
        assert_eq!(c.not_waiting.get("expired"), Some(&1));
        // The second place answered 3 waits at 3, where 3 - 1 = 2 would be right.
        assert_eq!(c.not_waiting.get("waiting at another position"), Some(&1));
        assert_eq!(c.failures().len(), 3, "{:?}", c.failures());
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
