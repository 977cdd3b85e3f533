-- Waiting lists: places in line for the seats of a full slot. Whenever seats of a slot free
-- up, the transaction that freed them offers them to the slot's waiting places in join order
-- (seq): each place whose seats fit gets a hold in its name (hold_id) and becomes 'offered';
-- the offer's outcome (booked, expired, given back) is its hold's. guard_email holds the
-- canonical email when the appointment's anti-scalping compares emails.
CREATE TABLE waitlist (
    id             uuid        PRIMARY KEY,
    seq            bigint      NOT NULL,
    code           text        NOT NULL,
    appointment_id uuid        NOT NULL REFERENCES appointments (id),
    app_code       text        NOT NULL,
    slot_start     timestamptz NOT NULL,
    slot_end       timestamptz NOT NULL,
    name           text        NOT NULL,
    email          text        NOT NULL,
    guard_email    text,
    seats          bigint      NOT NULL CHECK (seats >= 1),
    status         text        NOT NULL CHECK (status IN ('waiting', 'offered', 'left')),
    hold_id        uuid        REFERENCES holds (id),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT waitlist_code_key UNIQUE (code),
    CONSTRAINT waitlist_offer_check CHECK (status <> 'offered' OR hold_id IS NOT NULL)
);

-- A slot's line, in order: what every release of seats reads.
CREATE INDEX waitlist_waiting_idx ON waitlist (appointment_id, slot_start, seq)
    WHERE status = 'waiting';
-- Anti-scalping: an email's places on an appointment.
CREATE INDEX waitlist_guard_idx ON waitlist (appointment_id, guard_email)
    WHERE guard_email IS NOT NULL AND status IN ('waiting', 'offered');
-- The join order: the next place's seq is one more than the largest.
CREATE INDEX waitlist_seq_idx ON waitlist (seq);
