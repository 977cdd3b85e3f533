-- Holds: seats of one slot kept for a short time by whoever has the token. A hold takes seats
-- on the slot's counter exactly as a booking does, so a counter now equals the seats of the
-- slot's active bookings plus those of its holds whose status is still 'held'. A held hold
-- whose expires_at has passed holds nothing: reads leave it out, and a claim that finds the slot
-- full marks it expired and gives its seats back in its own transaction.
CREATE TABLE holds (
    id             uuid        PRIMARY KEY,
    token          text        NOT NULL,
    appointment_id uuid        NOT NULL REFERENCES appointments (id),
    app_code       text        NOT NULL,
    slot_start     timestamptz NOT NULL,
    slot_end       timestamptz NOT NULL,
    seats          bigint      NOT NULL CHECK (seats >= 1),
    status         text        NOT NULL CHECK (status IN ('held', 'released', 'expired', 'booked')),
    expires_at     timestamptz NOT NULL,
    booking_id     uuid        REFERENCES bookings (id),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT holds_token_key UNIQUE (token)
);

-- The held holds of a slot, by expiry: what a claim reclaims and what reads leave out.
CREATE INDEX holds_held_slot_idx ON holds (appointment_id, slot_start, expires_at)
    WHERE status = 'held';

ALTER TABLE appointments ADD COLUMN hold_minutes bigint NOT NULL DEFAULT 10
    CHECK (hold_minutes >= 1);
