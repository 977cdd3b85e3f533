-- Shared resources: appointments of one owner may name the same resource (a person, a room, a
-- chair). An active booking occupies its appointment's resource from its slot's start to
-- claim_end (the slot's end plus the appointment's buffer, microseconds like every instant).
-- The triggers refuse, inside the write that makes the booking active or moves it, a claim that
-- overlaps an active booking of another appointment on the same resource: SQLite runs one
-- write transaction at a time, so the check and the write cannot be separated by another write.
-- A claim spans at most two days (a slot of at most a day plus a buffer of at most a day),
-- which bounds the search through the index.
ALTER TABLE appointments ADD COLUMN resource TEXT;

ALTER TABLE bookings ADD COLUMN resource_key TEXT;
ALTER TABLE bookings ADD COLUMN claim_end INTEGER;

CREATE INDEX bookings_resource_idx ON bookings (resource_key, slot_start)
    WHERE status = 'active' AND resource_key IS NOT NULL;

CREATE TRIGGER bookings_resource_insert BEFORE INSERT ON bookings
WHEN NEW.status = 'active' AND NEW.resource_key IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'resource_busy: the resource is taken at that time')
    WHERE EXISTS (
        SELECT 1 FROM bookings
        WHERE resource_key = NEW.resource_key AND status = 'active'
          AND appointment_id <> NEW.appointment_id
          AND slot_start > NEW.slot_start - 172800000000
          AND slot_start < NEW.claim_end AND claim_end > NEW.slot_start
    );
END;

CREATE TRIGGER bookings_resource_update BEFORE UPDATE OF status, slot_start, claim_end, resource_key
ON bookings
WHEN NEW.status = 'active' AND NEW.resource_key IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'resource_busy: the resource is taken at that time')
    WHERE EXISTS (
        SELECT 1 FROM bookings
        WHERE resource_key = NEW.resource_key AND status = 'active'
          AND appointment_id <> NEW.appointment_id AND id <> NEW.id
          AND slot_start > NEW.slot_start - 172800000000
          AND slot_start < NEW.claim_end AND claim_end > NEW.slot_start
    );
END;
