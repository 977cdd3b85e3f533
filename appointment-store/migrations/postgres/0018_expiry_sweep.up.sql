-- The sweeper's way in: held holds and pending bookings by their deadline (with their
-- appointment, so the index answers alone), so that finding what expired and was not yet
-- reclaimed reads only those rows, oldest first, never the live ones nor finished ones.
CREATE INDEX holds_held_expiry_idx ON holds (expires_at, appointment_id)
    WHERE status = 'held';
CREATE INDEX bookings_pending_deadline_idx ON bookings (confirm_by, appointment_id)
    WHERE status = 'pending';
