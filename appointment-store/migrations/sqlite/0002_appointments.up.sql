-- Appointments: one row per appointment; slots are computed from the schedule columns.
-- Dates are 'YYYY-MM-DD' text, wall-clock times 'HH:MM:SS' text. seq is the insertion order
-- (the largest seq plus one, assigned inside the write transaction).
CREATE TABLE appointments (
    id                 TEXT    PRIMARY KEY NOT NULL,
    seq                INTEGER NOT NULL,
    code               TEXT    NOT NULL,
    owner_id           TEXT    NOT NULL REFERENCES users (id),
    title              TEXT    NOT NULL,
    description        TEXT    NOT NULL,
    kind               TEXT    NOT NULL CHECK (kind IN ('single', 'group', 'party')),
    capacity           INTEGER NOT NULL CHECK (capacity >= 0),
    anti_scalping      TEXT    NOT NULL CHECK (anti_scalping IN ('none', 'standard', 'strict')),
    status             TEXT    NOT NULL CHECK (status IN ('active', 'closed')),
    start_date         TEXT    NOT NULL,
    end_date           TEXT    NOT NULL,
    window_start       TEXT    NOT NULL,
    window_end         TEXT    NOT NULL,
    slot_minutes       INTEGER NOT NULL,
    buffer_minutes     INTEGER NOT NULL,
    time_zone          TEXT    NOT NULL,
    weekdays           INTEGER NOT NULL,
    min_notice_minutes INTEGER NOT NULL,
    horizon_days       INTEGER,
    single_event       INTEGER NOT NULL CHECK (single_event IN (0, 1)),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    deleted_at         INTEGER,
    CONSTRAINT appointments_code_key UNIQUE (code),
    CONSTRAINT appointments_seq_key UNIQUE (seq)
) STRICT;

CREATE INDEX appointments_owner_seq_idx ON appointments (owner_id, seq);
CREATE INDEX appointments_owner_created_idx ON appointments (owner_id, created_at);
