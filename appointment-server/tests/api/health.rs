use reqwest::StatusCode;

use crate::helpers::{expect_error, expect_json, spawn_app};

#[tokio::test]
async fn health_reports_a_healthy_database() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let body = expect_json(app.get("/health").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(body["status"], "healthy");
}

#[tokio::test]
async fn root_names_the_service() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let body = expect_json(app.get("/").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(body["message"], "Appointment Master API");
}

#[tokio::test]
async fn every_response_has_a_request_id_and_a_sent_one_is_kept() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let res = app.get("/health").send().await.unwrap();
    let id = res.headers().get("x-request-id").expect("a request id");
    assert!(!id.to_str().unwrap().is_empty());
    let res = app
        .get("/health")
        .header("x-request-id", "my-trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "my-trace-42");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let Some(app) = spawn_app().await else {
        return;
    };
    expect_error(
        app.get("/nope").send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let res = app.client.patch(app.url("/users")).send().await.unwrap();
    expect_error(res, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn cors_preflight_is_answered() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/appointments/book"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert!(res.headers().contains_key("access-control-allow-origin"));
}
