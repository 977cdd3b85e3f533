-- Seat counters, one per (appointment, slot start) that was ever booked, created on first booking.
-- Invariant: seats_taken equals the sum of attendee_count of the slot's active bookings.
CREATE TABLE slot_seats (
    appointment_id TEXT    NOT NULL REFERENCES appointments (id),
    slot_start     INTEGER NOT NULL,
    seats_taken    INTEGER NOT NULL CHECK (seats_taken >= 0),
    PRIMARY KEY (appointment_id, slot_start)
) STRICT, WITHOUT ROWID;

-- Bookings. guard_email / guard_device hold the email / device only when the booking claimed
-- uniqueness for it (anti-scalping); the partial unique indexes below enforce it for active
-- bookings. seq is the insertion order, as for appointments.
CREATE TABLE bookings (
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
    CONSTRAINT bookings_code_key UNIQUE (code),
    CONSTRAINT bookings_seq_key UNIQUE (seq)
) STRICT;

CREATE UNIQUE INDEX bookings_guard_email_key ON bookings (appointment_id, guard_email)
    WHERE status = 'active' AND guard_email IS NOT NULL;
CREATE UNIQUE INDEX bookings_guard_device_key ON bookings (appointment_id, guard_device)
    WHERE status = 'active' AND guard_device IS NOT NULL;
CREATE INDEX bookings_appointment_seq_idx ON bookings (appointment_id, seq);
CREATE INDEX bookings_appointment_slot_idx ON bookings (appointment_id, slot_start);
CREATE INDEX bookings_user_slot_idx ON bookings (user_id, slot_start) WHERE user_id IS NOT NULL;
