//! The OpenAPI document: served, browsable offline, and equal to the committed spec.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{expect_json, spawn_app};

const SPEC_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

/// Fails when the code's spec and the committed `openapi.json` differ. Regenerate with
/// `UPDATE_OPENAPI=1 cargo test -p appointment-server --test api openapi`.
#[test]
fn committed_spec_matches_the_code() {
    let generated = appointment_server::openapi_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(SPEC_FILE, &generated).expect("write openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(SPEC_FILE).unwrap_or_default();
    assert!(
        committed == generated,
        "appointment-server/openapi.json is out of date: run \
         `UPDATE_OPENAPI=1 cargo test -p appointment-server --test api openapi` and commit it"
    );
}

#[tokio::test]
async fn spec_is_served_and_lists_every_endpoint() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let spec = expect_json(
        app.get("/openapi.json").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let paths = spec["paths"].as_object().expect("paths");
    for p in [
        "/users",
        "/login",
        "/logout",
        "/auth/device-token",
        "/appointments",
        "/appointments/book",
        "/appointments/book/registered",
        "/appointments/my",
        "/appointments/registered",
        "/appointments/users/{app_code}",
        "/appointments/slots/{app_code}",
        "/appointments/slots/{app_code}/by-day",
        "/bookings/{booking_code}",
        "/bookings/{booking_code}/reject",
        "/analytics",
        "/ban-list",
        "/health",
        "/",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the spec");
    }
    let served: Value = spec;
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(SPEC_FILE).unwrap()).unwrap();
    assert_eq!(served, committed);
}

#[tokio::test]
async fn swagger_ui_is_served_without_internet_and_points_at_the_spec() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let res = app.get("/swagger-ui/").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "not the Swagger UI page");
    assert!(
        !html.contains("unpkg.com") && !html.contains("cdn."),
        "loads from a CDN"
    );
    let init = app
        .get("/swagger-ui/swagger-initializer.js")
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), StatusCode::OK);
    let js = init.text().await.unwrap();
    assert!(
        js.contains("/openapi.json"),
        "the UI does not point at the spec"
    );
    let bundle = app
        .get("/swagger-ui/swagger-ui-bundle.js")
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
}
