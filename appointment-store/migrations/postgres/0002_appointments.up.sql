-- Appointments: one row per appointment; slots are computed from the schedule columns.
CREATE TABLE appointments (
    id                 uuid        PRIMARY KEY,
    seq                bigserial   NOT NULL,
    code               text        NOT NULL,
    owner_id           uuid        NOT NULL REFERENCES users (id),
    title              text        NOT NULL,
    description        text        NOT NULL,
    kind               text        NOT NULL CHECK (kind IN ('single', 'group', 'party')),
    capacity           bigint      NOT NULL CHECK (capacity >= 0),
    anti_scalping      text        NOT NULL CHECK (anti_scalping IN ('none', 'standard', 'strict')),
    status             text        NOT NULL CHECK (status IN ('active', 'closed')),
    start_date         date        NOT NULL,
    end_date           date        NOT NULL,
    window_start       time        NOT NULL,
    window_end         time        NOT NULL,
    slot_minutes       bigint      NOT NULL,
    buffer_minutes     bigint      NOT NULL,
    time_zone          text        NOT NULL,
    weekdays           bigint      NOT NULL,
    min_notice_minutes bigint      NOT NULL,
    horizon_days       bigint,
    single_event       boolean     NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    deleted_at         timestamptz,
    CONSTRAINT appointments_code_key UNIQUE (code)
);

CREATE INDEX appointments_owner_seq_idx ON appointments (owner_id, seq);
CREATE INDEX appointments_owner_created_idx ON appointments (owner_id, created_at);
