-- Back to bookings without approval: a pending booking past its deadline gives its seats back
-- and becomes cancelled; one still in time becomes active (it keeps its seats, and the owner can
-- still reject it); declined becomes rejected, expired cancelled.
UPDATE slot_seats SET seats_taken = seats_taken - (
    SELECT COALESCE(SUM(b.attendee_count), 0) FROM bookings b
    WHERE b.status = 'pending' AND b.confirm_by <= CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)
    AND b.appointment_id = slot_seats.appointment_id AND b.slot_start = slot_seats.slot_start);
UPDATE bookings SET status = 'cancelled'
    WHERE status = 'pending' AND confirm_by <= CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER);
UPDATE bookings SET status = 'active' WHERE status = 'pending';
UPDATE bookings SET status = 'rejected' WHERE status = 'declined';
UPDATE bookings SET status = 'cancelled' WHERE status = 'expired';

-- The holds table refers to bookings: its rows wait in a table without that reference while
-- bookings is rebuilt, and come back into a table defined as before.
CREATE TABLE holds_parked AS SELECT * FROM holds;
DROP TABLE holds;

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
    status         TEXT    NOT NULL CHECK (status IN ('active', 'cancelled', 'rejected', 'completed', 'no_show')),
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
SELECT id, seq, code, appointment_id, app_code, user_id, name, email, phone, slot_start, slot_end, attendee_count, status, description, device_id, guard_email, guard_device, created_at, updated_at, deleted_at, resource_key, claim_end FROM bookings;

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

CREATE TABLE holds (
    id             TEXT    PRIMARY KEY NOT NULL,
    token          TEXT    NOT NULL,
    appointment_id TEXT    NOT NULL REFERENCES appointments (id),
    app_code       TEXT    NOT NULL,
    slot_start     INTEGER NOT NULL,
    slot_end       INTEGER NOT NULL,
    seats          INTEGER NOT NULL CHECK (seats >= 1),
    status         TEXT    NOT NULL CHECK (status IN ('held', 'released', 'expired', 'booked')),
    expires_at     INTEGER NOT NULL,
    booking_id     TEXT    REFERENCES bookings (id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CONSTRAINT holds_token_key UNIQUE (token)
) STRICT;

-- The held holds of a slot, by expiry: what a claim reclaims and what reads leave out.
CREATE INDEX holds_held_slot_idx ON holds (appointment_id, slot_start, expires_at)
    WHERE status = 'held';

INSERT INTO holds SELECT * FROM holds_parked;
DROP TABLE holds_parked;

ALTER TABLE appointments DROP COLUMN confirm_within_minutes;
