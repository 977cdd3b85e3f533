-- Waiting lists: places in line for the seats of a full slot. Whenever seats of a slot free
-- up, the transaction that freed them offers them to the slot's waiting places in join order
-- (seq): each place whose seats fit gets a hold in its name (hold_id) and becomes 'offered';
-- the offer's outcome (booked, expired, given back) is its hold's. guard_email holds the
-- canonical email when the appointment's anti-scalping compares emails.
CREATE TABLE waitlist (
    id             TEXT    PRIMARY KEY NOT NULL,
    seq            INTEGER NOT NULL,
    code           TEXT    NOT NULL,
    appointment_id TEXT    NOT NULL REFERENCES appointments (id),
    app_code       TEXT    NOT NULL,
    slot_start     INTEGER NOT NULL,
    slot_end       INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    email          TEXT    NOT NULL,
    guard_email    TEXT,
    seats          INTEGER NOT NULL CHECK (seats >= 1),
    status         TEXT    NOT NULL CHECK (status IN ('waiting', 'offered', 'left')),
    hold_id        TEXT    REFERENCES holds (id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CONSTRAINT waitlist_code_key UNIQUE (code),
    CONSTRAINT waitlist_offer_check CHECK (status <> 'offered' OR hold_id IS NOT NULL)
) STRICT;

-- A slot's line, in order: what every release of seats reads.
CREATE INDEX waitlist_waiting_idx ON waitlist (appointment_id, slot_start, seq)
    WHERE status = 'waiting';
-- Anti-scalping: an email's places on an appointment.
CREATE INDEX waitlist_guard_idx ON waitlist (appointment_id, guard_email)
    WHERE guard_email IS NOT NULL AND status IN ('waiting', 'offered');
-- The join order: the next place's seq is one more than the largest.
CREATE INDEX waitlist_seq_idx ON waitlist (seq);
