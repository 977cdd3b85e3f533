//! `GET /events`: the caller's outbox, in order, from a cursor.
//!
//! Every change on the caller's appointments (created, edited, closed, reopened, deleted;
//! bookings made, moved, confirmed, declined, cancelled, rejected, expired, completed, marked
//! no-show; holds taken and ended; waiting places joined, offered, left) is an event, written in
//! the same transaction as the change. A consumer keeps the `next` cursor of each answer and asks
//! again from it: it sees every event once, in order.

use appointment_core::{Event, EventCursor};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::dto::timestamp;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Events in one answer unless `limit` says otherwise.
const DEFAULT_LIMIT: u32 = 100;

/// `GET /events`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The cursor to go on from (`next` of the previous answer); the start when absent.
    pub after: Option<String>,
    /// Events at most (1 to 1000, default 100).
    pub limit: Option<u32>,
}

/// One page of the caller's events.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventsPage {
    /// The events, oldest first.
    pub events: Vec<EventBody>,
    /// The cursor to ask from next (the last event's, or `after` when there was none).
    pub next: String,
}

/// An event, as webhooks will carry it too.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventBody {
    /// The event's id (unique, stable).
    pub id: String,
    /// What happened: `appointment.created`, `booking.cancelled`, `hold.expired`,
    /// `waitlist.offered`, … (`entity.verb`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The version of the event's shape (new fields do not raise it).
    pub version: u32,
    /// When it happened.
    pub timestamp: String,
    /// Its place in the outbox: ask `after` it to go on.
    pub cursor: String,
    /// What it is about, as the change left it.
    pub data: EventData,
}

/// The entity an event is about. `app_code` is always there; the other fields depend on the
/// entity (`booking_code` for bookings, `hold_id` for holds, `waitlist_code` for waiting places,
/// `revision` for appointments).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct EventData {
    /// The appointment's code.
    pub app_code: String,
    /// The entity's status after the change.
    pub status: String,
    /// An appointment's revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    /// A booking's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_code: Option<String>,
    /// A waiting place's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waitlist_code: Option<String>,
    /// A hold's id (holds are named by id: their tokens are secrets of their holders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_id: Option<String>,
    /// The start of the slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// The end of the slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Seats booked, held or wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendee_count: Option<u32>,
    /// The booker's (or waiting person's) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A pending booking's deadline for the owner's confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_by: Option<String>,
    /// When a hold runs out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// A booking's id, or the booking a hold became.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<String>,
}

impl From<&Event> for EventBody {
    fn from(e: &Event) -> Self {
        let f = e.subject.fields();
        EventBody {
            id: e.id.to_string(),
            kind: e.kind.to_string(),
            version: appointment_core::EVENT_VERSION,
            timestamp: timestamp(e.at),
            cursor: e.cursor.to_string(),
            data: EventData {
                app_code: e.app_code.to_string(),
                status: f.status.to_owned(),
                revision: f.revision,
                booking_code: f.booking_code.map(|c| c.to_string()),
                waitlist_code: f.waitlist_code.map(|c| c.to_string()),
                hold_id: f.hold_id.map(|h| h.to_string()),
                start_time: f.slot_start.map(timestamp),
                end_time: f.slot_end.map(timestamp),
                attendee_count: f.seats.map(|n| n.get()),
                name: f.name.map(|n| n.to_string()),
                email: f.email.map(|m| m.to_string()),
                confirm_by: f.confirm_by.map(timestamp),
                expires_at: f.expires_at.map(timestamp),
                booking_id: f.booking_id.map(|b| b.to_string()),
            },
        }
    }
}

/// The caller's events after `after`, oldest first: every change on the caller's appointments,
/// written in the same transaction as the change. Keep `next` and ask again from it.
#[utoipa::path(get, path = "/events", tag = "Events", params(EventsQuery),
    responses(
        (status = 200, description = "OK", body = EventsPage),
        (status = 400, description = "Invalid cursor or limit", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list_events(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<EventsPage>> {
    let after = match q.after.as_deref() {
        Some(s) => s.parse::<EventCursor>()?,
        None => EventCursor::START,
    };
    let events = state
        .scheduler
        .events(Some(user.id), after, q.limit.unwrap_or(DEFAULT_LIMIT))
        .await?;
    let next = events.last().map_or(after, |e| e.cursor).to_string();
    Ok(Json(EventsPage {
        events: events.iter().map(EventBody::from).collect(),
        next,
    }))
}
