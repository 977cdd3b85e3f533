-- Back to bookings without approval: a pending booking past its deadline gives its seats back
-- and becomes cancelled; one still in time becomes active (it keeps its seats, and the owner can
-- still reject it); declined becomes rejected, expired cancelled.
UPDATE slot_seats s SET seats_taken = s.seats_taken - x.seats
FROM (SELECT appointment_id, slot_start, SUM(attendee_count) AS seats FROM bookings
      WHERE status = 'pending' AND confirm_by <= now() GROUP BY appointment_id, slot_start) x
WHERE s.appointment_id = x.appointment_id AND s.slot_start = x.slot_start;
UPDATE bookings SET status = 'cancelled' WHERE status = 'pending' AND confirm_by <= now();
UPDATE bookings SET status = 'active' WHERE status = 'pending';
UPDATE bookings SET status = 'rejected' WHERE status = 'declined';
UPDATE bookings SET status = 'cancelled' WHERE status = 'expired';

DROP INDEX bookings_pending_slot_idx;
DROP INDEX bookings_guard_email_key;
DROP INDEX bookings_guard_device_key;
CREATE UNIQUE INDEX bookings_guard_email_key ON bookings (appointment_id, guard_email)
    WHERE status = 'active' AND guard_email IS NOT NULL;
CREATE UNIQUE INDEX bookings_guard_device_key ON bookings (appointment_id, guard_device)
    WHERE status = 'active' AND guard_device IS NOT NULL;

ALTER TABLE bookings DROP CONSTRAINT bookings_pending_deadline_check;
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
    CHECK (status IN ('active', 'cancelled', 'rejected', 'completed', 'no_show'));
ALTER TABLE bookings DROP COLUMN confirm_by;

ALTER TABLE appointments DROP COLUMN confirm_within_minutes;
