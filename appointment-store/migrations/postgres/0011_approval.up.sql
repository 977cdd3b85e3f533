-- Approval: an appointment may require the owner to confirm each booking within
-- confirm_within_minutes. Such a booking starts 'pending' and holds its seats (its slot's counter
-- counts it) until confirm_by; confirmed, it becomes 'active'; declined, 'declined'; past
-- confirm_by it holds nothing, whether or not a claim has marked it 'expired' yet (reads leave it
-- out, and a claim that finds the slot full marks it expired and gives its seats back in its own
-- transaction, as for expired holds).
ALTER TABLE appointments ADD COLUMN confirm_within_minutes bigint
    CHECK (confirm_within_minutes >= 1);

ALTER TABLE bookings ADD COLUMN confirm_by timestamptz;
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
    CHECK (status IN ('active', 'pending', 'declined', 'expired', 'cancelled', 'rejected',
                      'completed', 'no_show'));
ALTER TABLE bookings ADD CONSTRAINT bookings_pending_deadline_check
    CHECK (status <> 'pending' OR confirm_by IS NOT NULL);

-- A pending booking claims its booker's anti-scalping place as an active one does.
DROP INDEX bookings_guard_email_key;
DROP INDEX bookings_guard_device_key;
CREATE UNIQUE INDEX bookings_guard_email_key ON bookings (appointment_id, guard_email)
    WHERE status IN ('active', 'pending') AND guard_email IS NOT NULL;
CREATE UNIQUE INDEX bookings_guard_device_key ON bookings (appointment_id, guard_device)
    WHERE status IN ('active', 'pending') AND guard_device IS NOT NULL;

-- The pending bookings of a slot, by deadline: what a claim reclaims and what reads leave out.
CREATE INDEX bookings_pending_slot_idx ON bookings (appointment_id, slot_start, confirm_by)
    WHERE status = 'pending';
