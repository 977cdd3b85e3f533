use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_error, expect_json, spawn_app, spawn_app_with};

#[tokio::test]
async fn register_returns_201_without_the_password() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let res = app
        .post_json(
            "/users",
            &json!({"name": "John Doe", "email": "John@Example.com",
                    "password": "securepass123", "phone_number": "+1234567890"}),
        )
        .send()
        .await
        .unwrap();
    let body = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(body["email"], "john@example.com");
    assert_eq!(body["phone_number"], "+1234567890");
    assert!(body["id"].is_string());
    let text = body.to_string();
    assert!(!text.contains("securepass123") && !text.contains("$2"));
}

#[tokio::test]
async fn duplicate_email_is_409() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let u = json!({"name": "John", "email": "john@example.com", "password": "securepass123"});
    expect_json(
        app.post_json("/users", &u).send().await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let e = expect_error(
        app.post_json("/users", &u).send().await.unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["details"], "email");
}

#[tokio::test]
async fn invalid_registrations_are_400_with_the_field() {
    let Some(app) = spawn_app().await else {
        return;
    };
    for (body, field) in [
        (
            json!({"name": "John", "email": "nope", "password": "securepass123"}),
            "email",
        ),
        (
            json!({"name": "John", "email": "j@example.com", "password": "short"}),
            "password",
        ),
        (
            json!({"name": "J", "email": "j@example.com", "password": "securepass123"}),
            "name",
        ),
        (
            json!({"name": "John", "email": "j@example.com", "password": "securepass123", "phone_number": "call me"}),
            "phone_number",
        ),
    ] {
        let e = expect_error(
            app.post_json("/users", &body).send().await.unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["details"], field, "{e}");
    }
}

#[tokio::test]
async fn login_returns_a_token_and_the_user() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let u = app.user("ada").await;
    assert_eq!(u.token.split('.').count(), 3);
    let body = expect_json(
        app.get("/appointments/my")
            .bearer_auth(&u.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["total"], 0);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_401() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let u = app.user("ada").await;
    let wrong = expect_error(
        app.post_json(
            "/login",
            &json!({"email": u.email, "password": "wrong-password"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown = expect_error(
        app.post_json(
            "/login",
            &json!({"email": "ghost@example.com", "password": "wrong-password"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn login_attempts_are_rate_limited() {
    let Some(app) = spawn_app_with(|c| c.login_rate_per_minute = 3).await else {
        return;
    };
    let body = json!({"email": "victim@example.com", "password": "guess-guess"});
    for _ in 0..3 {
        let res = app.post_json("/login", &body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let e = expect_error(
        app.post_json("/login", &body).send().await.unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert_eq!(e["code"], "rate_limited");
}

#[tokio::test]
async fn device_tokens_are_issued_for_valid_device_ids_to_logged_in_users() {
    let Some(app) = spawn_app().await else {
        return;
    };
    // Without a login: 401, no token.
    let e = expect_error(
        app.post_json("/auth/device-token", &json!({"device_id": "phone-1"}))
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(e["code"], "unauthorized");
    let user = app.user("dee").await;
    let body = expect_json(
        app.post_json(
            "/auth/device-token",
            &json!({"device_id": "unique-device-identifier"}),
        )
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(body["device_token"].as_str().unwrap().split('.').count() == 3);
    let e = expect_error(
        app.post_json("/auth/device-token", &json!({"device_id": "  "}))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "device_id");
}

#[tokio::test]
async fn logout_without_a_token_is_fine() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let body = expect_json(
        app.client.post(app.url("/logout")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn the_client_ip_limit_spans_emails_and_follows_a_trusted_proxy_header() {
    let Some(app) = spawn_app_with(|c| {
        c.login_rate_per_minute = 1;
        c.trust_forwarded_for = true;
    })
    .await
    else {
        return;
    };
    let attempt = |i: usize, ip: &'static str| {
        app.post_json(
            "/login",
            &json!({"email": format!("user{i}@example.com"), "password": "guess-guess"}),
        )
        .header("x-forwarded-for", format!("198.51.100.7, {ip}"))
        .send()
    };
    // Five times the per-email rate per IP: five different emails pass, the sixth is limited.
    for i in 0..5 {
        let res = attempt(i, "203.0.113.9").await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    expect_error(
        attempt(5, "203.0.113.9").await.unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    // Another client (as the proxy reports it) is not affected.
    let res = attempt(6, "203.0.113.10").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_the_user_out_from_another() {
    let Some(app) = spawn_app_with(|c| {
        c.login_rate_per_minute = 3;
        c.trust_forwarded_for = true;
    })
    .await
    else {
        return;
    };
    let email = format!("victim-{}@example.com", uuid::Uuid::new_v4().simple());
    let res = app
        .post_json(
            "/users",
            &json!({"name": "Victim", "email": email, "password": "securepass123"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let login = |password: &'static str, ip: &'static str| {
        app.post_json("/login", &json!({"email": email, "password": password}))
            .header("x-forwarded-for", ip)
            .send()
    };
    // The attacker at A tries ten wrong passwords: the first three are refused, the rest slowed
    // down with a 429 and Retry-After.
    for i in 0..10 {
        let res = login("wrong-password", "203.0.113.66").await.unwrap();
        if i < 3 {
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        } else {
            let retry: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry >= 1);
            let e = expect_error(res, StatusCode::TOO_MANY_REQUESTS).await;
            assert_eq!(e["code"], "rate_limited");
        }
    }
    // The user at B logs in at once, with the email written differently.
    let res = login("securepass123", "198.51.100.20").await.unwrap();
    let body = expect_json(res, StatusCode::OK).await;
    assert!(body["token"].is_string());
    let res = app
        .post_json(
            "/login",
            &json!({"email": email.to_uppercase(), "password": "securepass123"}),
        )
        .header("x-forwarded-for", "198.51.100.21")
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await;
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let Some(app) = spawn_app_with(|c| {
        c.limits.registration_rate_per_hour = 3;
        c.trust_forwarded_for = true;
    })
    .await
    else {
        return;
    };
    let register = |i: usize, ip: &'static str| {
        app.post_json(
            "/users",
            &json!({"name": "Flood", "email": format!("flood{i}-{}@example.com", uuid::Uuid::new_v4().simple()),
                    "password": "securepass123"}),
        )
        .header("x-forwarded-for", ip)
        .send()
    };
    for i in 0..3 {
        let res = register(i, "203.0.113.50").await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = register(3, "203.0.113.50").await.unwrap();
    assert!(res.headers().contains_key("retry-after"));
    let e = expect_error(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(e["code"], "rate_limited");
    // Another address registers.
    let res = register(4, "198.51.100.50").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_registration_flood_leaves_logins_a_share_of_bcrypt() {
    // Two bcrypt places: registrations get one, so a login never waits behind the flood.
    let Some(app) = spawn_app_with(|c| {
        c.bcrypt_cost = 10;
        c.limits.bcrypt_threads = 2;
    })
    .await
    else {
        return;
    };
    let user = app.user("steady").await;
    let flood = 8;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..flood {
        let (client, url, done) = (app.client.clone(), app.url("/users"), done.clone());
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .json(&json!({"name": "Flood", "email": format!("flood{i}-{}@example.com", uuid::Uuid::new_v4().simple()),
                              "password": "securepass123"}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
    }
    // Wait until the flood holds the registrations' place.
    while app.state.bcrypt_permits.available() == 2 {
        tokio::task::yield_now().await;
    }
    let res = app
        .post_json(
            "/login",
            &json!({"email": user.email, "password": "securepass123"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let finished = done.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        finished < flood,
        "the login waited for the whole registration flood"
    );
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn the_login_limiters_state_stays_bounded_under_many_distinct_emails() {
    let Some(app) = spawn_app_with(|c| {
        c.limits.rate_limit_max_keys = 100;
        c.trust_forwarded_for = true;
    })
    .await
    else {
        return;
    };
    for i in 0..300u32 {
        let res = app
            .post_json(
                "/login",
                &json!({"email": format!("nobody{i}@example.com"), "password": "guess-guess"}),
            )
            .header(
                "x-forwarded-for",
                format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // Two tables (per email and address, per address) of at most 100 keys each.
        assert!(app.state.login_throttle.len() <= 200);
    }
}
