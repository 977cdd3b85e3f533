//! Metrics: `GET /metrics` in the Prometheus text format, counted per route template and booking
//! outcome, guarded by a bearer token or served on a listener of its own, and absent when neither
//! is configured. Each server has its own recorder, so these tests see only their own traffic.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json, setup, spawn_app, spawn_app_with};

const TOKEN: &str = "metrics-token-for-tests-0123456789";

async fn spawn_with_token() -> Option<TestApp> {
    spawn_app_with(|c| {
        c.metrics_token = Some(appointment_server::config::Secret::new(TOKEN));
    })
    .await
}

/// One scrape: every sample by its name and label set, and the text itself.
#[derive(Debug)]
struct Scrape {
    text: String,
    samples: BTreeMap<(String, BTreeMap<String, String>), f64>,
}

impl Scrape {
    /// The value of the sample `name` with exactly `labels`, if present.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples.get(&(name.to_owned(), labels)).copied()
    }

    /// As [`Scrape::get`], with an absent sample read as 0 (a series not yet recorded).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    /// The label sets of the samples named `name`.
    fn label_sets(&self, name: &str) -> Vec<&BTreeMap<String, String>> {
        self.samples
            .keys()
            .filter(|(n, _)| n == name)
            .map(|(_, l)| l)
            .collect()
    }
}

/// Parses the text format's sample lines (`name{k="v",…} value`). Written here because label
/// values hold route templates with braces (`/bookings/{booking_code}`), which the published
/// parsers' patterns cut short; `promtool` checks the format itself below.
fn parse(text: &str) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    let mut samples = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("a value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("labels end with }");
                (name, parse_labels(body))
            }
        };
        samples.insert((name.to_owned(), labels), value);
    }
    samples
}

fn parse_labels(body: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = body.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "a quoted value in {body}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => panic!("a dangling escape in {body}"),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').to_owned(), value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels
}

async fn scrape_at(app: &TestApp, base: &str, token: Option<&str>) -> Scrape {
    let mut req = app.client.get(format!("{base}/metrics"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = res.text().await.unwrap();
    Scrape {
        samples: parse(&text),
        text,
    }
}

async fn scrape(app: &TestApp) -> Scrape {
    scrape_at(app, &app.address, Some(TOKEN)).await
}

/// An owner's one-day appointment (one seat a slot, one booking per email) and its slots'
/// starts.
async fn appointment(app: &TestApp) -> (String, Vec<String>) {
    let (_, code, starts) = setup(app, json!({"anti_scalping_level": "standard"})).await;
    (code, starts)
}

fn requests(method: &str, route: &str, status: &str) -> [(&'static str, String); 3] {
    [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_owned()),
    ]
}

fn labels<'a>(owned: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    owned.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn a_booking_moves_its_outcome_and_its_route_template_and_no_code_shows() {
    let Some(app) = spawn_with_token().await else {
        return;
    };
    let (code, starts) = appointment(&app).await;
    let before = scrape(&app).await;

    let booked = expect_json(
        app.book_guest(&code, &starts[0], "guest@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let booking_code = booked["booking_code"].as_str().unwrap().to_owned();
    let again = expect_error(
        app.book_guest(&code, &starts[1], "guest@example.com").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(again["code"], "duplicate");
    let res = app
        .get(&format!("/bookings/{booking_code}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .get(&format!("/no/such/route/{booking_code}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let after = scrape(&app).await;
    let rose = |name: &str, l: &[(&str, &str)]| after.value(name, l) - before.value(name, l);
    assert_eq!(
        rose("appointment_bookings_total", &[("outcome", "booked")]),
        1.0
    );
    assert_eq!(
        rose("appointment_bookings_total", &[("outcome", "duplicate")]),
        1.0
    );
    assert_eq!(
        rose("appointment_bookings_total", &[("outcome", "pending")]),
        0.0
    );
    let created = requests("POST", "/appointments/book", "201");
    let conflict = requests("POST", "/appointments/book", "409");
    let read = requests("GET", "/bookings/{booking_code}", "200");
    let unmatched = requests("GET", "unmatched", "404");
    for set in [&created, &conflict, &read, &unmatched] {
        let set = labels(set);
        assert_eq!(rose("http_requests_total", &set), 1.0, "{set:?}");
        assert_eq!(
            rose("http_request_duration_seconds_count", &set),
            1.0,
            "{set:?}"
        );
        let mut inf = set.clone();
        inf.push(("le", "+Inf"));
        assert_eq!(rose("http_request_duration_seconds_bucket", &inf), 1.0);
    }
    // The buckets run from 1 ms to 10 s.
    let les: Vec<&str> = after
        .label_sets("http_request_duration_seconds_bucket")
        .into_iter()
        .filter(|l| l["route"] == "/appointments/book" && l["status"] == "201")
        .map(|l| l["le"].as_str())
        .collect();
    assert!(les.contains(&"0.001") && les.contains(&"10"), "{les:?}");

    // Paths with codes in them show as their templates only.
    for secret in [booking_code.as_str(), code.as_str()] {
        assert!(!after.text.contains(secret), "{secret} in the metrics");
    }
    for labels in after.label_sets("http_requests_total") {
        let route = &labels["route"];
        assert!(
            route == "unmatched" || route.starts_with('/'),
            "odd route {route}"
        );
    }

    // The store's pools, the start time and the version.
    let pools = after.label_sets("appointment_store_pool_max_connections");
    assert!(!pools.is_empty(), "no pool gauges");
    for pool in pools {
        let name = pool["pool"].as_str();
        assert!(after.value("appointment_store_pool_max_connections", &[("pool", name)]) >= 1.0);
        for state in ["in_use", "idle"] {
            assert!(
                after
                    .get(
                        "appointment_store_pool_connections",
                        &[("pool", name), ("state", state)]
                    )
                    .is_some(),
                "{name} {state}"
            );
        }
    }
    assert!(after.value("process_start_time_seconds", &[]) > 1.6e9);
    assert_eq!(
        after.get(
            "appointment_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    // Every family says what it is.
    for line in after.text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split_whitespace().nth(2).unwrap();
        assert!(
            after.text.contains(&format!("# HELP {name} ")),
            "{name} has no HELP"
        );
    }
}

#[tokio::test]
async fn holds_and_waiting_list_joins_are_counted_by_outcome() {
    let Some(app) = spawn_with_token().await else {
        return;
    };
    let (code, starts) = appointment(&app).await;
    let before = scrape(&app).await;
    let hold = |start: &str| {
        app.post_json("/holds", &json!({"app_code": code, "start_time": start}))
            .send()
    };
    expect_json(hold(&starts[0]).await.unwrap(), StatusCode::CREATED).await;
    expect_json(
        app.book_guest(&code, &starts[1], "first@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let full = expect_error(hold(&starts[1]).await.unwrap(), StatusCode::CONFLICT).await;
    assert_eq!(full["code"], "slot_full");
    let join = |email: &str| {
        let body: Value =
            json!({"app_code": code, "start_time": starts[1], "name": "Wendy", "email": email});
        app.post_json("/waitlist", &body).send()
    };
    expect_json(
        join("waiting@example.com").await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    expect_error(join("not an email").await.unwrap(), StatusCode::BAD_REQUEST).await;

    let after = scrape(&app).await;
    let rose = |name: &str, outcome: &str| {
        after.value(name, &[("outcome", outcome)]) - before.value(name, &[("outcome", outcome)])
    };
    assert_eq!(rose("appointment_holds_total", "held"), 1.0);
    assert_eq!(rose("appointment_holds_total", "slot_full"), 1.0);
    assert_eq!(rose("appointment_waitlist_joins_total", "joined"), 1.0);
    assert_eq!(
        rose("appointment_waitlist_joins_total", "invalid_input"),
        1.0
    );
    assert_eq!(rose("appointment_bookings_total", "booked"), 1.0);
}

#[tokio::test]
async fn the_token_is_required() {
    let Some(app) = spawn_with_token().await else {
        return;
    };
    let res = app.get("/metrics").send().await.unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let body = expect_error(res, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["code"], "unauthorized");
    assert!(!body.to_string().contains(TOKEN));
    for wrong in [
        format!("Bearer {TOKEN}x"),
        format!("Bearer {}", &TOKEN[1..]),
        format!("Basic {TOKEN}"),
        "Bearer ".to_owned(),
    ] {
        let res = app
            .get("/metrics")
            .header("authorization", &wrong)
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::UNAUTHORIZED).await;
    }
    let ok = scrape(&app).await;
    // The refusals were counted; the token shows nowhere.
    assert_eq!(
        ok.value(
            "http_requests_total",
            &labels(&requests("GET", "/metrics", "401"))
        ),
        5.0
    );
    assert!(!ok.text.contains(TOKEN));
}

#[tokio::test]
async fn without_configuration_there_is_no_metrics_route() {
    let Some(app) = spawn_app().await else {
        return;
    };
    assert!(!app.state.metrics.is_on());
    assert!(app.metrics_address.is_none());
    for auth in [None, Some(TOKEN)] {
        let mut req = app.get("/metrics");
        if let Some(token) = auth {
            req = req.bearer_auth(token);
        }
        let body = expect_error(req.send().await.unwrap(), StatusCode::NOT_FOUND).await;
        assert_eq!(body["code"], "not_found");
    }
}

#[tokio::test]
async fn a_metrics_address_serves_metrics_there_only() {
    let Some(app) = spawn_app_with(|c| {
        c.metrics_addr = Some(([127, 0, 0, 1], 0).into());
    })
    .await
    else {
        return;
    };
    let metrics = app.metrics_address.clone().expect("a metrics listener");
    expect_error(
        app.get("/metrics").send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_json(app.get("/health").send().await.unwrap(), StatusCode::OK).await;
    let first = scrape_at(&app, &metrics, None).await;
    // The main port's requests are counted; the metrics listener serves nothing else.
    assert_eq!(
        first.value(
            "http_requests_total",
            &labels(&requests("GET", "/health", "200"))
        ),
        1.0
    );
    let res = app
        .client
        .get(format!("{metrics}/health"))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_metrics_address_with_a_token_requires_it() {
    let Some(app) = spawn_app_with(|c| {
        c.metrics_addr = Some(([127, 0, 0, 1], 0).into());
        c.metrics_token = Some(appointment_server::config::Secret::new(TOKEN));
    })
    .await
    else {
        return;
    };
    let metrics = app.metrics_address.clone().expect("a metrics listener");
    let res = app
        .client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED).await;
    scrape_at(&app, &metrics, Some(TOKEN)).await;
    // Not on the main port, token or not.
    let res = app.get("/metrics").bearer_auth(TOKEN).send().await.unwrap();
    expect_error(res, StatusCode::NOT_FOUND).await;
}

/// Whether a missing tool fails the run (CI, or `REQUIRE_PROMTOOL=1`) rather than skips.
fn promtool_required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("REQUIRE_PROMTOOL").is_ok_and(|v| v == "1")
}

#[tokio::test]
async fn promtool_accepts_a_scrape_after_traffic() {
    use std::io::Write;
    use std::process::{Command, Stdio};

    if Command::new("promtool").arg("--version").output().is_err() {
        assert!(
            !promtool_required(),
            "promtool is missing (Debian package prometheus; scripts/test-all.sh installs it) and CI or REQUIRE_PROMTOOL=1 requires it"
        );
        println!(
            "SKIPPED: promtool is not installed (apt-get install prometheus, or run scripts/test-all.sh); set REQUIRE_PROMTOOL=1 to make this a failure"
        );
        return;
    }
    let Some(app) = spawn_with_token().await else {
        return;
    };
    let (code, starts) = appointment(&app).await;
    expect_json(
        app.book_guest(&code, &starts[0], "guest@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        app.book_guest(&code, &starts[0], "other@example.com").await,
        StatusCode::CONFLICT,
    )
    .await;
    let res = app.get("/nowhere").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let text = scrape(&app).await.text;
    assert!(text.contains("http_request_duration_seconds_bucket"));

    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics: {said}\n{text}"
    );
}
