-- Holds: seats of one slot kept for a short time by whoever has the token. A hold takes seats
-- on the slot's counter exactly as a booking does, so a counter now equals the seats of the
-- slot's active bookings plus those of its holds whose status is still 'held'. A held hold
-- whose expires_at has passed holds nothing: reads leave it out, and a claim that finds the slot
-- full marks it expired and gives its seats back in its own transaction.
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

ALTER TABLE appointments ADD COLUMN hold_minutes INTEGER NOT NULL DEFAULT 10
    CHECK (hold_minutes >= 1);
