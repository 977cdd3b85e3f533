DROP INDEX bookings_pending_deadline_idx;
DROP INDEX holds_held_expiry_idx;
