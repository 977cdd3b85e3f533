-- The booking lifecycle after the fact and the cancellation policy: the owner marks a booking
-- whose slot has started as completed or no_show (both release its seats, like every end of a
-- booking), and an appointment may forbid guests to cancel or reschedule less than
-- cancel_cutoff_minutes before a slot.
ALTER TABLE appointments ADD COLUMN cancel_cutoff_minutes bigint NOT NULL DEFAULT 0
    CHECK (cancel_cutoff_minutes >= 0);

ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
    CHECK (status IN ('active', 'cancelled', 'rejected', 'completed', 'no_show'));
