//! Token attacks on every protected endpoint of the spec, and cross-owner access.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reliability::SECRET;
use reliability::api::{self, guest_booking};
use reliability::server::{ServerOptions, ServerProcess};
use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::ONE_AT_A_TIME;

/// Every operation of the spec that requires a bearer token (no anonymous alternative):
/// `(method, path template)`.
fn protected_operations(spec: &Value) -> Vec<(Method, String)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(security) = op["security"].as_array() else {
                continue;
            };
            let anonymous_allowed = security
                .iter()
                .any(|s| s.as_object().is_some_and(serde_json::Map::is_empty));
            if !security.is_empty() && !anonymous_allowed {
                ops.push((method.to_uppercase().parse().unwrap(), path.clone()));
            }
        }
    }
    ops
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn sign(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )
    .unwrap()
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Tokens that must all be refused, with what each one tries.
fn hostile_tokens(
    user_id: &str,
    valid: &str,
    device_token: &str,
    revoked: &str,
) -> Vec<(&'static str, Option<String>)> {
    let claims = |sub: &str, aud: &str, iss: &str, exp: i64| {
        json!({"sub": sub, "aud": aud, "iss": iss, "iat": now() - 10, "exp": exp,
               "jti": uuid::Uuid::new_v4().to_string()})
    };
    let user_aud = "appointment-master:user";
    let iss = "appointment-master";
    let good = claims(user_id, user_aud, iss, now() + 3600);
    let none_alg = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(good.to_string().as_bytes())
    );
    let parts: Vec<&str> = valid.split('.').collect();
    let other_user = uuid::Uuid::new_v4().to_string();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64url(
            claims(&other_user, user_aud, iss, now() + 3600)
                .to_string()
                .as_bytes()
        ),
        parts[2]
    );
    vec![
        ("no token", None),
        ("empty bearer", Some(String::new())),
        ("garbage", Some("not.a.jwt".into())),
        ("alg none", Some(none_alg)),
        (
            "wrong key",
            Some(sign(&good, b"another-secret-another-secret-0123456789")),
        ),
        (
            "expired",
            Some(sign(
                &claims(user_id, user_aud, iss, now() - 3600),
                SECRET.as_bytes(),
            )),
        ),
        (
            "wrong issuer",
            Some(sign(
                &claims(user_id, user_aud, "evil", now() + 3600),
                SECRET.as_bytes(),
            )),
        ),
        (
            "wrong audience",
            Some(sign(
                &claims(user_id, "appointment-master:device", iss, now() + 3600),
                SECRET.as_bytes(),
            )),
        ),
        (
            "unknown user",
            Some(sign(
                &claims(&other_user, user_aud, iss, now() + 3600),
                SECRET.as_bytes(),
            )),
        ),
        (
            "sub not a uuid",
            Some(sign(
                &claims("admin", user_aud, iss, now() + 3600),
                SECRET.as_bytes(),
            )),
        ),
        (
            "not valid before an hour from now",
            Some(sign(
                &json!({"sub": user_id, "aud": user_aud, "iss": iss, "iat": now(),
                        "nbf": now() + 3600, "exp": now() + 7200, "jti": "nbf-in-the-future"}),
                SECRET.as_bytes(),
            )),
        ),
        (
            "empty jti",
            Some(sign(
                &json!({"sub": user_id, "aud": user_aud, "iss": iss, "iat": now(),
                        "exp": now() + 3600, "jti": ""}),
                SECRET.as_bytes(),
            )),
        ),
        (
            "no jti",
            Some(sign(
                &json!({"sub": user_id, "aud": user_aud, "iss": iss, "iat": now(),
                        "exp": now() + 3600}),
                SECRET.as_bytes(),
            )),
        ),
        ("tampered payload", Some(tampered)),
        ("device token as user token", Some(device_token.to_owned())),
        ("revoked by logout", Some(revoked.to_owned())),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protected_endpoint_refuses_hostile_tokens_and_other_owners() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hostile.db").display());
    let server = ServerProcess::start(&ServerOptions::new(url, dir.path())).await;
    let base = server.base.clone();
    let client = Client::new();
    let alice = api::user(&client, &base, "alice").await;
    let mallory = api::user(&client, &base, "mallory").await;
    let code = api::appointment(&client, &base, &alice, "group", 5, 2).await;
    let start = api::slot_starts(&client, &base, &code, 1).await.remove(0);
    let res = client
        .post(format!("{base}/appointments/book"))
        .json(&guest_booking(&code, &start, 1, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let booking: Value = res.json().await.unwrap();
    let booking_code = booking["booking_code"].as_str().unwrap().to_owned();

    // A device token (minted for a logged-in user), and a session that logged out.
    let res = client
        .post(format!("{base}/auth/device-token"))
        .bearer_auth(&mallory.token)
        .json(&json!({"device_id": "device-1234567890"}))
        .send()
        .await
        .unwrap();
    let device: Value = res.json().await.unwrap();
    let device_token = device["device_token"].as_str().unwrap_or("").to_owned();
    assert!(!device_token.is_empty(), "{device}");
    let victim = api::user(&client, &base, "victim").await;
    let res = client
        .post(format!("{base}/logout"))
        .bearer_auth(&victim.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);

    let spec: Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ops = protected_operations(&spec);
    assert!(ops.len() >= 9, "protected operations in the spec: {ops:?}");
    let tokens = hostile_tokens(&alice.id, &alice.token, &device_token, &victim.token);
    let body = json!({"app_code": code, "start_time": start, "email": "x@example.com",
                      "title": "t", "name": "n"});
    let mut failures = Vec::new();
    for (method, template) in &ops {
        let path = template
            .replace("{app_code}", &code)
            .replace("{booking_code}", &booking_code);
        let url = format!("{base}{path}?start_date=2000-01-01&end_date=2100-01-01");
        for (what, token) in &tokens {
            let mut req = client.request(method.clone(), &url).json(&body);
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let res = req.send().await.unwrap();
            if res.status().as_u16() != 401 {
                failures.push(format!("{method} {path} with {what}: {}", res.status()));
            }
        }
        // Basic credentials are no bearer token.
        let res = client
            .request(method.clone(), &url)
            .basic_auth(&alice.email, Some("securepass123"))
            .json(&body)
            .send()
            .await
            .unwrap();
        if res.status().as_u16() != 401 {
            failures.push(format!("{method} {path} with basic auth: {}", res.status()));
        }
    }
    assert!(
        failures.is_empty(),
        "accepted hostile tokens:\n{}",
        failures.join("\n")
    );
    // The booking is untouched.
    let b: Value = client
        .get(format!("{base}/bookings/{booking_code}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["status"], "active");

    // Another owner: refused on Alice's appointment and booking, sees none of her data.
    let as_mallory = |m: Method, path: &str| {
        client
            .request(m, format!("{base}{path}"))
            .bearer_auth(&mallory.token)
    };
    let status = as_mallory(Method::GET, &format!("/appointments/users/{code}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert!(
        matches!(status, 403 | 404),
        "bookings of another's appointment: {status}"
    );
    let status = as_mallory(Method::POST, &format!("/bookings/{booking_code}/reject"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert!(
        matches!(status, 403 | 404),
        "reject another's booking: {status}"
    );
    let res = client
        .post(format!("{base}/ban-list"))
        .bearer_auth(&alice.token)
        .json(&json!({"email": "banned@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let status = as_mallory(Method::DELETE, "/ban-list")
        .json(&json!({"email": "banned@example.com"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 404, "removing another owner's ban");
    let bans: Value = as_mallory(Method::GET, "/ban-list")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bans, json!([]), "another owner's bans leaked");
    let mine: Value = as_mallory(Method::GET, "/appointments/my")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        mine["total"], 0,
        "another owner's appointments leaked: {mine}"
    );
    let stats: Value = as_mallory(
        Method::GET,
        "/analytics?start_date=2000-01-01&end_date=2100-01-01",
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(!stats.to_string().contains(&code), "{stats}");
    // Alice's ban and booking stand.
    let bans: Value = client
        .get(format!("{base}/ban-list"))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bans.as_array().map(Vec::len), Some(1), "{bans}");
    let b: Value = client
        .get(format!("{base}/bookings/{booking_code}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["status"], "active");
}

/// The identity attacks against the real binary: fresh device tokens, `+n` aliases and
/// compatibility spellings of one mailbox book one seat of a strict appointment, and pass
/// neither a ban nor standard anti-scalping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_and_fresh_device_tokens_book_one_seat() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("identities.db").display());
    let server = ServerProcess::start(&ServerOptions::new(url, dir.path())).await;
    let base = server.base.clone();
    let client = Client::new();
    let owner = api::user(&client, &base, "owner").await;
    let day = api::tomorrow();
    let create = |level: &str| {
        client
            .post(format!("{base}/appointments"))
            .bearer_auth(&owner.token)
            .json(&json!({
                "title": format!("{level} drop"),
                "start_time": format!("{day}T09:00:00Z"),
                "end_time": format!("{day}T10:00:00Z"),
                "start_date": format!("{day}T00:00:00Z"),
                "end_date": format!("{day}T00:00:00Z"),
                "booking_duration": 60,
                "type": "group",
                "max_attendees": 20,
                "anti_scalping_level": level,
            }))
            .send()
    };
    let strict: Value = create("strict").await.unwrap().json().await.unwrap();
    let strict = strict["app_code"].as_str().unwrap().to_owned();
    let standard: Value = create("standard").await.unwrap().json().await.unwrap();
    let standard = standard["app_code"].as_str().unwrap().to_owned();
    let start = format!("{day}T09:00:00Z");
    let guest = |code: &str, email: &str| {
        client
            .post(format!("{base}/appointments/book"))
            .json(&json!({"app_code": code, "start_time": start, "name": "S", "email": email}))
            .send()
    };

    let mut booked = 0;
    for n in 0..20 {
        // A device token without a login: refused.
        let res = client
            .post(format!("{base}/auth/device-token"))
            .json(&json!({"device_id": format!("fresh-{n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 401);
        // A guest on an alias: registration required.
        let res = guest(&strict, &format!("scalper+{n}@example.com"))
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403);
        // An account on an alias with a fresh device.
        let email = format!("scalper+{n}@example.com");
        let res = client
            .post(format!("{base}/users"))
            .json(&json!({"name": "Scalper", "email": email, "password": "securepass123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let login: Value = client
            .post(format!("{base}/login"))
            .json(&json!({"email": email, "password": "securepass123"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().unwrap().to_owned();
        let device: Value = client
            .post(format!("{base}/auth/device-token"))
            .bearer_auth(&token)
            .json(&json!({"device_id": format!("fresh-{n}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let res = client
            .post(format!("{base}/appointments/book/registered"))
            .bearer_auth(&token)
            .header("x-device-token", device["device_token"].as_str().unwrap())
            .json(&json!({"app_code": strict, "start_time": start}))
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            201 => booked += 1,
            409 => {}
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!(booked, 1, "strict: one seat for one mailbox");

    // Standard anti-scalping and a ban: every spelling of one mailbox is one booker.
    let spellings = [
        "victim+1@example.com",
        "ｖｉｃｔｉｍ@example.com",
        "VICTIM@EXAMPLE.COM",
    ];
    let refused = [
        "vic\u{200B}tim@example.com",
        "\"victim\"@example.com",
        "victim@[127.0.0.1]",
    ];
    assert_eq!(
        guest(&standard, "victim@example.com")
            .await
            .unwrap()
            .status()
            .as_u16(),
        201
    );
    for email in spellings {
        let status = guest(&standard, email).await.unwrap().status().as_u16();
        assert_eq!(status, 409, "{email}");
    }
    for email in refused {
        let status = guest(&standard, email).await.unwrap().status().as_u16();
        assert_eq!(status, 400, "{email}");
    }
    let res = client
        .post(format!("{base}/ban-list"))
        .bearer_auth(&owner.token)
        .json(&json!({"email": "troll@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    for email in [
        "troll+1@example.com",
        "ｔｒｏｌｌ@example.com",
        "TROLL@example.com",
    ] {
        let status = guest(&standard, email).await.unwrap().status().as_u16();
        assert_eq!(status, 403, "{email}");
    }
    for email in ["tr\u{200B}oll@example.com", "\"troll\"@example.com"] {
        let status = guest(&standard, email).await.unwrap().status().as_u16();
        assert_eq!(status, 400, "{email}");
    }
}
