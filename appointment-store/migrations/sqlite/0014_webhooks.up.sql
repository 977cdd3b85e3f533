-- Webhooks: owners' endpoints, the deliveries of outbox events to them, and how far the outbox
-- has been fanned out into deliveries.
CREATE TABLE webhook_endpoints (
    id            TEXT    PRIMARY KEY NOT NULL,
    owner_id      TEXT    NOT NULL REFERENCES users (id),
    url           TEXT    NOT NULL,
    -- The event types wanted, comma-separated; empty for every type.
    event_types   TEXT    NOT NULL,
    description   TEXT    NOT NULL,
    secret        TEXT    NOT NULL,
    enabled       INTEGER NOT NULL,
    failing_since INTEGER,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, created_at);

-- One row per (endpoint, event): at least once, in order per subject (a booking's events are
-- sent one after the other), retried with back-off until delivered or failed, claimed with a
-- lease (locked_until).
CREATE TABLE webhook_deliveries (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,
    endpoint_id      TEXT    NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    subject_id       TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    locked_until     INTEGER,
    last_status_code INTEGER,
    last_error       TEXT,
    last_latency_ms  INTEGER,
    last_attempt_at  INTEGER,
    created_at       INTEGER NOT NULL,
    CONSTRAINT webhook_deliveries_event_key UNIQUE (endpoint_id, event_id)
) STRICT;

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_subject_idx ON webhook_deliveries (endpoint_id, subject_id, seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (endpoint_id, seq);

-- The outbox cursor up to which events were fanned out into deliveries (one row).
CREATE TABLE webhook_cursor (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    tx  INTEGER NOT NULL,
    seq INTEGER NOT NULL
) STRICT;
INSERT INTO webhook_cursor (id, tx, seq) VALUES (1, 0, 0);
