-- Back to the statuses before 0008: completed and no_show bookings (which hold no seats) become
-- cancelled, the only earlier status that holds none and was not the owner's refusal.
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
UPDATE bookings SET status = 'cancelled' WHERE status IN ('completed', 'no_show');
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
    CHECK (status IN ('active', 'cancelled', 'rejected'));

ALTER TABLE appointments DROP COLUMN cancel_cutoff_minutes;
