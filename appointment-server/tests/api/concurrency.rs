//! Many clients at once on one slot.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{expect_json, spawn_app};
use crate::idempotency::futures_join;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_guests_on_one_seat_get_exactly_one_201() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app.appointment(&owner, 1, json!({})).await;
    let code = a["app_code"].as_str().unwrap().to_owned();
    let start = app.slots(&code, "").await["items"][0]["start_time"]
        .as_str()
        .unwrap()
        .to_owned();
    let reqs: Vec<_> = (0..50)
        .map(|i| {
            app.post_json(
                "/appointments/book",
                &json!({"app_code": code, "start_time": start, "name": "Guest", "email": format!("g{i}@example.com")}),
            )
            .send()
        })
        .collect();
    let mut created = 0;
    let mut conflicts = 0;
    for res in futures_join(reqs).await {
        let res = res.unwrap();
        match res.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                let e: Value = res.json().await.unwrap();
                assert_eq!(e["code"], "slot_full");
                conflicts += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((created, conflicts), (1, 49));
    let list = expect_json(
        app.get(&format!("/appointments/users/{code}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["total"], 1);
}
