//! Many concurrent clients booking, bounded in count and time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::Value;

/// One booking attempt and its answer.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Which attempt (0-based).
    pub index: usize,
    /// The HTTP status, or 0 when no answer came (connection refused or reset).
    pub status: u16,
    /// The booking code of a 201.
    pub booking_code: Option<String>,
    /// The `start_time` of a 201 (the slot).
    pub start_time: Option<String>,
    /// The seats a 201 took.
    pub seats: u32,
    /// The error code of an error answer.
    pub error_code: Option<String>,
    /// From sending to the full answer.
    pub latency: Duration,
    /// When it was sent.
    pub sent_at: Instant,
}

/// What a run of attempts gives.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Every attempt that was made.
    pub attempts: Vec<Attempt>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// When the last 201 arrived, from the start.
    pub last_created: Option<Duration>,
}

impl Outcome {
    /// Attempts with this status.
    pub fn count(&self, status: u16) -> usize {
        self.attempts.iter().filter(|a| a.status == status).count()
    }

    /// The 201s.
    pub fn created(&self) -> impl Iterator<Item = &Attempt> {
        self.attempts.iter().filter(|a| a.status == 201)
    }

    /// Seats taken by the 201s.
    pub fn seats_created(&self) -> u64 {
        self.created().map(|a| u64::from(a.seats)).sum()
    }

    /// A histogram of statuses, e.g. `201×5000 409×15000`.
    pub fn summary(&self) -> String {
        let mut by: std::collections::BTreeMap<u16, usize> = Default::default();
        for a in &self.attempts {
            *by.entry(a.status).or_default() += 1;
        }
        by.iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The `q`-quantile (0..=1) of the latencies.
    pub fn latency_quantile(&self, q: f64) -> Duration {
        let mut l: Vec<Duration> = self.attempts.iter().map(|a| a.latency).collect();
        if l.is_empty() {
            return Duration::ZERO;
        }
        l.sort();
        let i = ((l.len() - 1) as f64 * q).round() as usize;
        l[i.min(l.len() - 1)]
    }
}

/// How to run a load.
#[derive(Debug, Clone)]
pub struct Load {
    /// Base URLs; attempt `i` goes to `targets[i % len]`.
    pub targets: Vec<String>,
    /// The path to POST to, e.g. `/appointments/book`.
    pub path: String,
    /// Concurrent clients.
    pub clients: usize,
    /// Attempts in all.
    pub attempts: usize,
    /// No attempt starts after this much time.
    pub time_limit: Duration,
    /// Counts the 201s as they arrive (for a test that acts in the middle of a load).
    pub created: Arc<AtomicUsize>,
}

impl Load {
    /// `attempts` posts to `path` on `targets` from `clients` clients, within `time_limit`.
    pub fn new(
        targets: Vec<String>,
        path: &str,
        clients: usize,
        attempts: usize,
        time_limit: Duration,
    ) -> Load {
        Load {
            targets,
            path: path.to_owned(),
            clients,
            attempts,
            time_limit,
            created: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Waits until at least `n` attempts got a 201; false after `within`.
    pub async fn wait_created(&self, n: usize, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.created.load(Ordering::Relaxed) < n {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

/// Runs `load`, attempt `i` posting `body(i)` (whose `attendee_count`, default 1, is the seats it
/// asks for). Clients that get no answer carry on with the next attempt.
pub async fn run(
    client: &Client,
    load: &Load,
    body: impl Fn(usize) -> Value + Send + Sync + 'static,
) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let body = Arc::new(body);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(load.clients);
    for _ in 0..load.clients {
        let (client, next, body) = (client.clone(), next.clone(), body.clone());
        let (targets, path) = (load.targets.clone(), load.path.clone());
        let (attempts, limit) = (load.attempts, load.time_limit);
        let created = load.created.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= attempts || start.elapsed() > limit {
                    break;
                }
                let b = body(i);
                let seats = b["attendee_count"].as_u64().unwrap_or(1) as u32;
                let url = format!("{}{}", targets[i % targets.len()], path);
                let t0 = Instant::now();
                let mut a = Attempt {
                    index: i,
                    status: 0,
                    booking_code: None,
                    start_time: None,
                    seats,
                    error_code: None,
                    latency: Duration::ZERO,
                    sent_at: t0,
                };
                if let Ok(res) = client.post(url).json(&b).send().await {
                    a.status = res.status().as_u16();
                    if let Ok(v) = res.json::<Value>().await {
                        a.booking_code = v["booking_code"].as_str().map(str::to_owned);
                        a.start_time = v["start_time"].as_str().map(str::to_owned);
                        a.error_code = v["code"].as_str().map(str::to_owned);
                    } else if a.status == 201 {
                        // A 201 whose body was cut off: the booking may exist, its code is unknown.
                        a.status = 0;
                    }
                }
                a.latency = t0.elapsed();
                if a.status == 201 {
                    created.fetch_add(1, Ordering::Relaxed);
                }
                done.push((a, start.elapsed()));
            }
            done
        }));
    }
    let mut attempts = Vec::new();
    let mut last_created = None;
    for t in tasks {
        for (a, at) in t.await.expect("a load task") {
            if a.status == 201 {
                last_created = Some(last_created.map_or(at, |l: Duration| l.max(at)));
            }
            attempts.push(a);
        }
    }
    attempts.sort_by_key(|a| a.index);
    Outcome {
        attempts,
        elapsed: start.elapsed(),
        last_created,
    }
}
