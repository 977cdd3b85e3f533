//! Heavy analytics run off the async workers and stop at the request deadline.

use reqwest::StatusCode;

use crate::helpers::{TestApp, TestUser, expect_error, spawn_app_with, tomorrow};

/// Appointments with a slot every minute of every day for ten years: counting their seats is
/// long CPU work (a day at a time, so many of them). They are written through the engine, not
/// over HTTP, so that a test with a short request deadline is not timed by its own set-up.
async fn long_schedules(app: &TestApp, owner: &TestUser, count: usize) -> String {
    use appointment_core::{AntiScalping, AppointmentKind, NewAppointment, Schedule, UserId};
    let start = tomorrow();
    let end = start + chrono::Duration::days(3650);
    let owner_id = UserId(owner.id.parse().expect("a user id"));
    let midnight = chrono::NaiveTime::MIN;
    let last = chrono::NaiveTime::from_hms_opt(23, 59, 0).expect("a time");
    for i in 0..count {
        let schedule = Schedule::builder(start, end, midnight, last, 1)
            .build()
            .expect("a schedule");
        app.state
            .scheduler
            .create_appointment(
                owner_id,
                NewAppointment {
                    title: format!("Every minute {i}"),
                    description: String::new(),
                    kind: AppointmentKind::Single,
                    capacity: None,
                    anti_scalping: AntiScalping::None,
                    schedule,
                    resource: None,
                },
            )
            .await
            .expect("an appointment");
    }
    format!("/analytics?start_date={start}&end_date={end}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_analytics_do_not_stall_other_requests() {
    let Some(app) = spawn_app_with(|_| {}).await else {
        return;
    };
    let owner = app.user("owner").await;
    let path = long_schedules(&app, &owner, 200).await;
    let heavy: Vec<_> = (0..2)
        .map(|_| {
            let req = app.get(&path).bearer_auth(&owner.token);
            tokio::spawn(async move { req.send().await.unwrap().status() })
        })
        .collect();
    // Once a computation runs, a cheap request is answered while the heavy ones are in flight.
    while app.state.analytics_work.running() == 0 {
        tokio::task::yield_now().await;
    }
    let res = app.get("/").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.get("/health").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        heavy.iter().any(|h| !h.is_finished()),
        "the heavy requests ended before the cheap one: the test proves nothing"
    );
    for h in heavy {
        assert_eq!(h.await.unwrap(), StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_stops_a_heavy_analytics_computation() {
    let Some(app) =
        spawn_app_with(|c| c.request_timeout = std::time::Duration::from_millis(250)).await
    else {
        return;
    };
    let owner = app.user("owner").await;
    // About four times the deadline's worth of counting, even in a debug build.
    let path = long_schedules(&app, &owner, 500).await;
    let res = app
        .get(&path)
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    let e = expect_error(res, StatusCode::GATEWAY_TIMEOUT).await;
    assert_eq!(e["code"], "timeout");
    // The computation itself was told to stop, and gives its place back.
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while app.state.analytics_work.stopped() == 0 || app.state.analytics_work.running() > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the computation stops");
}
