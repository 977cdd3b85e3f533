//! `GET /health` and `GET /`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::dto::{HealthResponse, RootResponse};
use crate::state::AppState;

/// Checks the database: 200 `{"status": "healthy"}` or 503 `{"status": "unhealthy"}`.
#[utoipa::path(get, path = "/health", tag = "Health",
    responses(
        (status = 200, description = "The database answers", body = HealthResponse),
        (status = 503, description = "The database does not answer", body = HealthResponse),
    ))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<HealthResponse>) {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(HealthResponse {
                status: "healthy".into(),
            }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(HealthResponse {
                    status: "unhealthy".into(),
                }),
            )
        }
    }
}

/// The service's name and version.
#[utoipa::path(get, path = "/", tag = "Health",
    responses((status = 200, description = "OK", body = RootResponse)))]
pub async fn root() -> Json<RootResponse> {
    Json(RootResponse {
        message: "Appointment Master API".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        docs: "/swagger-ui/".into(),
    })
}
