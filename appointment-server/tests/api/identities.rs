//! Identities that mean something: emails that reach one mailbox are one booker, device tokens
//! belong to a logged-in user, strict appointments take one booking per user and per device, and
//! passwords are limited by what bcrypt reads.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestUser, expect_error, expect_json, setup, spawn_app, spawn_app_with};

/// Spellings that no real mailbox uses: refused as invalid input naming `email`.
const REFUSED_SPELLINGS: &[&str] = &[
    "vic\u{200B}tim@example.com",
    "victim\u{2060}@example.com",
    "\u{FEFF}victim@example.com",
    "\"victim\"@example.com",
    "victim@[127.0.0.1]",
    "victim@127.0.0.1",
];

/// Spellings of the victim's mailbox that are valid addresses and must count as the victim.
const SAME_MAILBOX: &[&str] = &[
    "victim+1@example.com",
    "Victim+promo@Example.COM",
    "ｖｉｃｔｉｍ@example.com",
    "victim＠ｅｘａｍｐｌｅ．ｃｏｍ",
    "VICTIM@EXAMPLE.COM",
];

#[tokio::test]
async fn email_variants_do_not_pass_a_ban() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (owner, code, starts) = setup(&app, json!({"type": "group", "max_attendees": 50})).await;
    // Banned through an alias: the ban is kept on the mailbox.
    let ban = expect_json(
        app.post_json("/ban-list", &json!({"email": "Victim+Spam@example.com"}))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ban["banned_email"], "victim@example.com", "{ban}");
    for email in SAME_MAILBOX.iter().chain(["victim@example.com"].iter()) {
        let e = expect_error(
            app.book_guest(&code, &starts[0], email).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(e["code"], "banned", "{email}: {e}");
    }
    for email in REFUSED_SPELLINGS {
        let e = expect_error(
            app.book_guest(&code, &starts[0], email).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["details"], "email", "{email}: {e}");
    }
    // Banning another alias of the same mailbox is a duplicate; lifting it through an alias works.
    let e = expect_error(
        app.post_json("/ban-list", &json!({"email": "victim+2@example.com"}))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "duplicate");
    let res = app
        .client
        .delete(app.url("/ban-list"))
        .json(&json!({"email": "victim+3@example.com"}))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    expect_json(
        app.book_guest(&code, &starts[0], "victim+1@example.com")
            .await,
        StatusCode::CREATED,
    )
    .await;
    // Nothing was booked by the refused attempts.
    let slot = app.slots(&code, "").await;
    assert_eq!(slot["items"][0]["attendee_count"], 1, "{slot}");
}

#[tokio::test]
async fn email_variants_do_not_pass_standard_anti_scalping() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(
        &app,
        json!({"type": "group", "max_attendees": 50, "anti_scalping_level": "standard"}),
    )
    .await;
    let first = expect_json(
        app.book_guest(&code, &starts[0], "victim@example.com")
            .await,
        StatusCode::CREATED,
    )
    .await;
    // The address is kept as given, once normalised.
    assert_eq!(first["email"], "victim@example.com");
    for email in SAME_MAILBOX {
        let e = expect_error(
            app.book_guest(&code, &starts[1], email).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["details"], "email", "{email}: {e}");
    }
    for email in REFUSED_SPELLINGS {
        expect_error(
            app.book_guest(&code, &starts[1], email).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    // 20 `+n` aliases book one seat in all.
    let mut booked = 1;
    for n in 1..=20 {
        let res = app
            .book_guest(&code, &starts[2], &format!("victim+{n}@example.com"))
            .await;
        if res.status() == StatusCode::CREATED {
            booked += 1;
        }
    }
    assert_eq!(booked, 1);
}

/// The attack: 20 identities try to book the 20 seats of a strict appointment.
#[tokio::test]
async fn the_strict_anti_scalping_attack_books_one_seat_per_registered_user() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(
        &app,
        json!({"type": "group", "max_attendees": 20, "anti_scalping_level": "strict"}),
    )
    .await;
    // Fresh device tokens without a login: none is minted.
    for n in 0..20 {
        let res = app
            .post_json(
                "/auth/device-token",
                &json!({"device_id": format!("dev-{n}")}),
            )
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::UNAUTHORIZED).await;
    }
    // Guests with `+n` aliases: registration required.
    for n in 0..20 {
        let e = expect_error(
            app.book_guest(&code, &starts[0], &format!("scalper+{n}@example.com"))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(e["code"], "registration_required");
    }
    // 20 accounts on `+n` aliases of one mailbox, each with a fresh device: one seat.
    let mut booked = 0;
    for n in 0..20 {
        let email = format!("scalper+{n}@example.com");
        expect_json(
            app.post_json(
                "/users",
                &json!({"name": "Scalper", "email": email, "password": "securepass123"}),
            )
            .send()
            .await
            .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        let login = expect_json(
            app.post_json(
                "/login",
                &json!({"email": email, "password": "securepass123"}),
            )
            .send()
            .await
            .unwrap(),
            StatusCode::OK,
        )
        .await;
        let token = login["token"].as_str().unwrap().to_owned();
        let device = expect_json(
            app.post_json(
                "/auth/device-token",
                &json!({"device_id": format!("dev-{n}")}),
            )
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
            StatusCode::OK,
        )
        .await;
        let res = app
            .post_json(
                "/appointments/book/registered",
                &json!({"app_code": code, "start_time": starts[0]}),
            )
            .bearer_auth(&token)
            .header("x-device-token", device["device_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        match res.status() {
            StatusCode::CREATED => booked += 1,
            status => {
                let e = expect_error(res, status).await;
                assert_eq!(status, StatusCode::CONFLICT, "{e}");
                assert_eq!(e["details"], "email", "{e}");
            }
        }
    }
    assert_eq!(booked, 1);
    let slot = app.slots(&code, "").await;
    assert_eq!(slot["items"][0]["attendee_count"], 1, "{slot}");
}

#[tokio::test]
async fn device_tokens_are_limited_per_user_and_per_address() {
    let Some(app) = spawn_app_with(|c| {
        c.device_tokens_per_hour = 2;
        c.device_tokens_per_hour_per_ip = 3;
    })
    .await
    else {
        return;
    };
    let mint = |user: &TestUser, device: &str| {
        app.post_json("/auth/device-token", &json!({"device_id": device}))
            .bearer_auth(&user.token)
            .send()
    };
    let ann = app.user("ann").await;
    let bo = app.user("bo").await;
    expect_json(mint(&ann, "a-1").await.unwrap(), StatusCode::OK).await;
    expect_json(mint(&ann, "a-2").await.unwrap(), StatusCode::OK).await;
    let e = expect_error(
        mint(&ann, "a-3").await.unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert_eq!(e["code"], "rate_limited");
    // Another user from the same address: the address has one token left.
    expect_json(mint(&bo, "b-1").await.unwrap(), StatusCode::OK).await;
    expect_error(
        mint(&bo, "b-2").await.unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
}

#[tokio::test]
async fn device_ids_that_no_device_uses_are_refused() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let user = app.user("dev").await;
    for device in ["phone\u{200B}1", "ph one", "ｐｈｏｎｅ", &"a".repeat(129)] {
        let e = expect_error(
            app.post_json("/auth/device-token", &json!({"device_id": device}))
                .bearer_auth(&user.token)
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["details"], "device_id", "{device:?}");
    }
}

#[tokio::test]
async fn passwords_are_limited_by_the_bytes_bcrypt_reads() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let register = |email: &str, password: &str| {
        app.post_json(
            "/users",
            &json!({"name": "Eve", "email": email, "password": password}),
        )
        .send()
    };
    let login = |email: &str, password: &str| {
        app.post_json("/login", &json!({"email": email, "password": password}))
            .send()
    };
    // Two different 40-character passwords of `é` (80 bytes each, equal in their first 72).
    let first = "é".repeat(40);
    let second = format!("{}ab", "é".repeat(38));
    assert_eq!(first.chars().count(), 40);
    assert_eq!(second.chars().count(), 40);
    for password in [&first, &second] {
        let e = expect_error(
            register("eve@example.com", password).await.unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["details"], "password");
        assert!(e["message"].as_str().unwrap().contains("72 bytes"), "{e}");
    }
    // At exactly 72 bytes, every byte counts.
    let exact = format!("{}ab", "é".repeat(35));
    let other = format!("{}ac", "é".repeat(35));
    assert_eq!(exact.len(), 72);
    expect_json(
        register("eve@example.com", &exact).await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    expect_json(
        login("eve@example.com", &exact).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    expect_error(
        login("eve@example.com", &other).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn an_account_registered_under_laxer_email_rules_can_still_log_in() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let hash = appointment_server::auth::hash_password("securepass123".into(), 4)
        .await
        .unwrap();
    // As an earlier version stored it.
    app.state
        .scheduler
        .register_user(appointment_core::NewUser {
            name: appointment_core::Name::parse("Old").unwrap(),
            email: appointment_core::Email::from_stored("\"old\"@example.com").unwrap(),
            phone: None,
            password_hash: hash,
        })
        .await
        .unwrap();
    let res = app
        .post_json(
            "/login",
            &json!({"email": " \"OLD\"@example.com", "password": "securepass123"}),
        )
        .send()
        .await
        .unwrap();
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body["user"]["email"], "\"old\"@example.com");
    // Nobody can register that address now.
    let e = expect_error(
        app.post_json(
            "/users",
            &json!({"name": "New", "email": "\"old\"@example.com", "password": "securepass123"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "email");
}
