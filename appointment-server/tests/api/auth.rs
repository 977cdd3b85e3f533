//! Every way a bearer token can be wrong is a 401 JSON error.

use appointment_server::auth::{Claims, ISSUER, USER_AUDIENCE};
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{SECRET, TestApp, expect_error, expect_json, spawn_app};

fn claims(sub: &str, exp_offset_secs: i64) -> Claims {
    let now = Utc::now().timestamp();
    Claims {
        sub: sub.to_owned(),
        aud: USER_AUDIENCE.to_owned(),
        iss: ISSUER.to_owned(),
        iat: now,
        exp: now + exp_offset_secs,
        nbf: None,
        jti: uuid::Uuid::new_v4().to_string(),
        uid: None,
    }
}

fn sign(claims: &Claims, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64(s: &str) -> String {
    // base64url without padding, enough for the tests' ASCII JSON.
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &x)| acc | (u32::from(x) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

async fn assert_401(app: &TestApp, auth: Option<&str>) {
    let mut req = app.get("/appointments/my");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let e = expect_error(req.send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "unauthorized");
}

#[tokio::test]
async fn missing_token_is_401() {
    let Some(app) = spawn_app().await else {
        return;
    };
    assert_401(&app, None).await;
}

#[tokio::test]
async fn malformed_tokens_are_401() {
    let Some(app) = spawn_app().await else {
        return;
    };
    for h in [
        "Bearer",
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer a.b.c",
        "token",
    ] {
        assert_401(&app, Some(h)).await;
    }
}

#[tokio::test]
async fn foreign_signed_token_is_401() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let u = app.user("ada").await;
    let forged = sign(
        &claims(&u.id, 3600),
        "another-secret-another-secret-0123456",
    );
    assert_401(&app, Some(&format!("Bearer {forged}"))).await;
}

#[tokio::test]
async fn alg_none_token_is_401() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let u = app.user("ada").await;
    let header = b64(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64(&serde_json::to_string(&claims(&u.id, 3600)).unwrap());
    assert_401(&app, Some(&format!("Bearer {header}.{payload}."))).await;
}

#[tokio::test]
async fn expired_token_is_401() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let u = app.user("ada").await;
    let expired = sign(&claims(&u.id, -3600), SECRET);
    assert_401(&app, Some(&format!("Bearer {expired}"))).await;
    // The same claims, unexpired, are accepted: the refusal above is about expiry alone.
    let fresh = sign(&claims(&u.id, 3600), SECRET);
    let res = app
        .get("/appointments/my")
        .bearer_auth(fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn revoked_token_is_401_after_logout() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let u = app.user("ada").await;
    let res = app
        .get("/appointments/my")
        .bearer_auth(&u.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let out = app
        .client
        .post(app.url("/logout"))
        .bearer_auth(&u.token)
        .send()
        .await
        .unwrap();
    expect_json(out, StatusCode::OK).await;
    assert_401(&app, Some(&format!("Bearer {}", u.token))).await;
}

#[tokio::test]
async fn device_token_never_authenticates_a_user() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let ada = app.user("ada").await;
    let body = expect_json(
        app.post_json("/auth/device-token", &json!({"device_id": "phone-1"}))
            .bearer_auth(&ada.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let dt = body["device_token"].as_str().unwrap();
    assert_401(&app, Some(&format!("Bearer {dt}"))).await;
}

#[tokio::test]
async fn token_of_a_user_that_does_not_exist_is_401() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let ghost = sign(&claims(&uuid::Uuid::new_v4().to_string(), 3600), SECRET);
    assert_401(&app, Some(&format!("Bearer {ghost}"))).await;
}

#[tokio::test]
async fn every_protected_route_requires_a_token() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let code = "AP-ZZZZZZZZZZZZ";
    let bk = "BK-ZZZZZZZZZZZZ";
    let reqs = [
        app.client.post(app.url("/appointments")).json(&json!({})),
        app.client.get(app.url("/appointments/my")),
        app.client.get(app.url("/appointments/registered")),
        app.client
            .get(app.url(&format!("/appointments/users/{code}"))),
        app.client
            .post(app.url("/appointments/book/registered"))
            .json(&json!({})),
        app.client.post(app.url(&format!("/bookings/{bk}/reject"))),
        app.client
            .get(app.url("/analytics?start_date=2025-01-01&end_date=2025-01-31")),
        app.client.get(app.url("/ban-list")),
        app.client
            .post(app.url("/ban-list"))
            .json(&json!({"email": "x@example.com"})),
        app.client
            .delete(app.url("/ban-list"))
            .json(&json!({"email": "x@example.com"})),
    ];
    for r in reqs {
        expect_error(r.send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    }
}

#[tokio::test]
async fn a_token_that_is_not_valid_yet_is_401() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let u = app.user("nora").await;
    let mut c = claims(&u.id, 7200);
    c.nbf = Some(Utc::now().timestamp() + 3600);
    assert_401(&app, Some(&format!("Bearer {}", sign(&c, SECRET)))).await;
    // The same claims valid from a minute ago are accepted.
    c.nbf = Some(Utc::now().timestamp() - 60);
    let res = app
        .get("/appointments/my")
        .bearer_auth(sign(&c, SECRET))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await;
}

#[tokio::test]
async fn a_token_without_a_jti_is_401() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let u = app.user("jodi").await;
    let mut c = claims(&u.id, 3600);
    c.jti = String::new();
    assert_401(&app, Some(&format!("Bearer {}", sign(&c, SECRET)))).await;
    // Without the claim at all.
    let mut raw = serde_json::to_value(claims(&u.id, 3600)).unwrap();
    raw.as_object_mut().unwrap().remove("jti");
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &raw,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_401(&app, Some(&format!("Bearer {token}"))).await;
}
