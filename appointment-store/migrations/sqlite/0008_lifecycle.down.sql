-- Back to the statuses before 0008: completed and no_show bookings (which hold no seats) become
-- cancelled, the only earlier status that holds none and was not the owner's refusal.
CREATE TABLE bookings_new (
    id             TEXT    PRIMARY KEY NOT NULL,
    seq            INTEGER NOT NULL,
    code           TEXT    NOT NULL,
    appointment_id TEXT    NOT NULL REFERENCES appointments (id),
    app_code       TEXT    NOT NULL,
    user_id        TEXT,
    name           TEXT    NOT NULL,
    email          TEXT    NOT NULL,
    phone          TEXT,
    slot_start     INTEGER NOT NULL,
    slot_end       INTEGER NOT NULL,
    attendee_count INTEGER NOT NULL CHECK (attendee_count >= 1),
    status         TEXT    NOT NULL CHECK (status IN ('active', 'cancelled', 'rejected')),
    description    TEXT    NOT NULL,
    device_id      TEXT,
    guard_email    TEXT,
    guard_device   TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deleted_at     INTEGER,
    resource_key   TEXT,
    claim_end      INTEGER,
    CONSTRAINT bookings_code_key UNIQUE (code),
    CONSTRAINT bookings_seq_key UNIQUE (seq)
) STRICT;

INSERT INTO bookings_new (id, seq, code, appointment_id, app_code, user_id, name, email, phone, slot_start, slot_end, attendee_count, status, description, device_id, guard_email, guard_device, created_at, updated_at, deleted_at, resource_key, claim_end)
SELECT id, seq, code, appointment_id, app_code, user_id, name, email, phone, slot_start, slot_end, attendee_count, CASE WHEN status IN ('completed', 'no_show') THEN 'cancelled' ELSE status END, description, device_id, guard_email, guard_device, created_at, updated_at, deleted_at, resource_key, claim_end FROM bookings;

DROP TABLE bookings;
ALTER TABLE bookings_new RENAME TO bookings;

CREATE UNIQUE INDEX bookings_guard_email_key ON bookings (appointment_id, guard_email)
    WHERE status = 'active' AND guard_email IS NOT NULL;
CREATE UNIQUE INDEX bookings_guard_device_key ON bookings (appointment_id, guard_device)
    WHERE status = 'active' AND guard_device IS NOT NULL;
CREATE INDEX bookings_appointment_seq_idx ON bookings (appointment_id, seq);
CREATE INDEX bookings_appointment_slot_idx ON bookings (appointment_id, slot_start);
CREATE INDEX bookings_user_slot_idx ON bookings (user_id, slot_start) WHERE user_id IS NOT NULL;

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

ALTER TABLE appointments DROP COLUMN cancel_cutoff_minutes;
