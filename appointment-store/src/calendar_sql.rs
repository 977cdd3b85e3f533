//! The calendar-feed methods of [`ServiceStore`](crate::ServiceStore), once for both SQL
//! backends.

use appointment_core::{Result, UserId};
use chrono::{DateTime, Utc};

use crate::service::FeedBooking;
use crate::sql_common::{ReadRow, booking_from, db_error};
use crate::sql_store::{Arg, Conn, SqlBackend, booking_cols, rows_to};

const SET_FEED: &str = "INSERT INTO calendar_feeds (owner_id, token_hash, created_at) \
     VALUES ($1, $2, $3) ON CONFLICT (owner_id) DO UPDATE \
     SET token_hash = excluded.token_hash, created_at = excluded.created_at";
const DELETE_FEED: &str = "DELETE FROM calendar_feeds WHERE owner_id = $1";
const FEED_OWNER: &str = "SELECT owner_id FROM calendar_feeds WHERE token_hash = $1";
/// Live bookings (`$3` is now) of the owner `$1`'s appointments ending at or after `$2`, by
/// start, at most `$4`.
const FEED_BOOKINGS: &str = concat!(
    "SELECT ",
    booking_cols!(),
    ", (SELECT a.title FROM appointments a WHERE a.id = appointment_id) AS app_title \
     FROM bookings WHERE appointment_id IN \
     (SELECT id FROM appointments WHERE owner_id = $1 AND deleted_at IS NULL) \
     AND deleted_at IS NULL AND slot_end >= $2 AND (status = 'active' \
     OR (status = 'pending' AND (confirm_by IS NULL OR confirm_by > $3))) \
     ORDER BY slot_start, id LIMIT $4"
);

pub(crate) async fn set_feed<B: SqlBackend + ?Sized>(
    backend: &B,
    owner: UserId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    backend
        .writes()
        .execute(
            SET_FEED,
            vec![
                Arg::Id(owner.0),
                Arg::Text(token_hash.to_owned()),
                Arg::Instant(now),
            ],
        )
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn delete_feed<B: SqlBackend + ?Sized>(
    backend: &B,
    owner: UserId,
) -> Result<bool> {
    let n = backend
        .writes()
        .execute(DELETE_FEED, vec![Arg::Id(owner.0)])
        .await
        .map_err(db_error)?;
    Ok(n > 0)
}

pub(crate) async fn feed_owner<B: SqlBackend + ?Sized>(
    backend: &B,
    token_hash: &str,
) -> Result<Option<UserId>> {
    let row = backend
        .reads()
        .optional(FEED_OWNER, vec![Arg::Text(token_hash.to_owned())])
        .await
        .map_err(db_error)?;
    row.map(|r| r.uuid("owner_id").map(UserId)).transpose()
}

pub(crate) async fn feed_bookings<B: SqlBackend + ?Sized>(
    backend: &B,
    owner: UserId,
    ends_from: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<FeedBooking>> {
    let rows = backend
        .reads()
        .all(
            FEED_BOOKINGS,
            vec![
                Arg::Id(owner.0),
                Arg::Bound(ends_from),
                Arg::Instant(now),
                Arg::Int(i64::from(limit)),
            ],
        )
        .await
        .map_err(db_error)?;
    rows_to(&rows, |r| {
        Ok(FeedBooking {
            booking: booking_from(r)?,
            title: r.text("app_title")?,
        })
    })
}

/// `CalendarFeedStore` for a SQL backend.
macro_rules! impl_calendar_feeds {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl crate::service::CalendarFeedStore for $store {
            async fn set_calendar_feed(
                &self,
                owner: appointment_core::UserId,
                token_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<()> {
                crate::calendar_sql::set_feed(self, owner, token_hash, now).await
            }

            async fn delete_calendar_feed(
                &self,
                owner: appointment_core::UserId,
            ) -> appointment_core::Result<bool> {
                crate::calendar_sql::delete_feed(self, owner).await
            }

            async fn calendar_feed_owner(
                &self,
                token_hash: &str,
            ) -> appointment_core::Result<Option<appointment_core::UserId>> {
                crate::calendar_sql::feed_owner(self, token_hash).await
            }

            async fn calendar_feed_bookings(
                &self,
                owner: appointment_core::UserId,
                ends_from: chrono::DateTime<chrono::Utc>,
                now: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> appointment_core::Result<Vec<crate::service::FeedBooking>> {
                crate::calendar_sql::feed_bookings(self, owner, ends_from, now, limit).await
            }
        }
    };
}
pub(crate) use impl_calendar_feeds;
