-- Seat counters, one per (appointment, slot start) that was ever booked, created on first booking.
-- Invariant: seats_taken equals the sum of attendee_count of the slot's active bookings.
CREATE TABLE slot_seats (
    appointment_id uuid        NOT NULL REFERENCES appointments (id),
    slot_start     timestamptz NOT NULL,
    seats_taken    bigint      NOT NULL CHECK (seats_taken >= 0),
    PRIMARY KEY (appointment_id, slot_start)
);

-- Bookings. guard_email / guard_device hold the email / device only when the booking claimed
-- uniqueness for it (anti-scalping); the partial unique indexes below enforce it for active
-- bookings.
CREATE TABLE bookings (
    id             uuid        PRIMARY KEY,
    seq            bigserial   NOT NULL,
    code           text        NOT NULL,
    appointment_id uuid        NOT NULL REFERENCES appointments (id),
    app_code       text        NOT NULL,
    user_id        uuid,
    name           text        NOT NULL,
    email          text        NOT NULL,
    phone          text,
    slot_start     timestamptz NOT NULL,
    slot_end       timestamptz NOT NULL,
    attendee_count bigint      NOT NULL CHECK (attendee_count >= 1),
    status         text        NOT NULL CHECK (status IN ('active', 'cancelled', 'rejected')),
    description    text        NOT NULL,
    device_id      text,
    guard_email    text,
    guard_device   text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    deleted_at     timestamptz,
    CONSTRAINT bookings_code_key UNIQUE (code)
);

CREATE UNIQUE INDEX bookings_guard_email_key ON bookings (appointment_id, guard_email)
    WHERE status = 'active' AND guard_email IS NOT NULL;
CREATE UNIQUE INDEX bookings_guard_device_key ON bookings (appointment_id, guard_device)
    WHERE status = 'active' AND guard_device IS NOT NULL;
CREATE INDEX bookings_appointment_seq_idx ON bookings (appointment_id, seq);
CREATE INDEX bookings_appointment_slot_idx ON bookings (appointment_id, slot_start);
CREATE INDEX bookings_user_slot_idx ON bookings (user_id, slot_start) WHERE user_id IS NOT NULL;
