//! `GET /events`: the caller's outbox, in order, from a cursor.
//!
//! Every change on the caller's appointments (created, edited, closed, reopened, deleted;
//! bookings made, moved, confirmed, declined, cancelled, rejected, expired, completed, marked
//! no-show; holds taken and ended; waiting places joined, offered, left) is an event, written in
//! the same transaction as the change. A consumer keeps the `next` cursor of each answer and asks
//! again from it: it sees every event once, in order.

use appointment_core::{Event, EventCursor, EventSubject};
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
    /// The booking a hold became.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<String>,
}

impl From<&Event> for EventBody {
    fn from(e: &Event) -> Self {
        let mut data = EventData {
            app_code: e.app_code.to_string(),
            ..EventData::default()
        };
        match &e.subject {
            EventSubject::Appointment { status, revision } => {
                data.status = status.to_string();
                data.revision = Some(*revision);
            }
            EventSubject::Booking {
                code,
                status,
                slot_start,
                slot_end,
                seats,
                name,
                email,
                confirm_by,
                ..
            } => {
                data.status = status.to_string();
                data.booking_code = Some(code.to_string());
                data.start_time = Some(timestamp(*slot_start));
                data.end_time = Some(timestamp(*slot_end));
                data.attendee_count = Some(seats.get());
                data.name = Some(name.to_string());
                data.email = Some(email.to_string());
                data.confirm_by = confirm_by.map(timestamp);
            }
            EventSubject::Hold {
                id,
                status,
                slot_start,
                slot_end,
                seats,
                expires_at,
                booking_id,
            } => {
                data.status = status.to_string();
                data.hold_id = Some(id.to_string());
                data.start_time = Some(timestamp(*slot_start));
                data.end_time = Some(timestamp(*slot_end));
                data.attendee_count = Some(seats.get());
                data.expires_at = Some(timestamp(*expires_at));
                data.booking_id = booking_id.map(|b| b.to_string());
            }
            EventSubject::Waitlist {
                code,
                status,
                slot_start,
                slot_end,
                seats,
                name,
                email,
                hold_id,
                ..
            } => {
                data.status = status.to_string();
                data.waitlist_code = Some(code.to_string());
                data.start_time = Some(timestamp(*slot_start));
                data.end_time = Some(timestamp(*slot_end));
                data.attendee_count = Some(seats.get());
                data.name = Some(name.to_string());
                data.email = Some(email.to_string());
                data.hold_id = hold_id.map(|h| h.to_string());
            }
        }
        EventBody {
            id: e.id.to_string(),
            kind: e.kind.to_string(),
            version: appointment_core::EVENT_VERSION,
            timestamp: timestamp(e.at),
            cursor: e.cursor.to_string(),
            data,
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
