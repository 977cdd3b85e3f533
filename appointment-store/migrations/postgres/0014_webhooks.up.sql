-- Webhooks: owners' endpoints, the deliveries of outbox events to them, and how far the outbox
-- has been fanned out into deliveries.
CREATE TABLE webhook_endpoints (
    id            uuid        PRIMARY KEY,
    owner_id      uuid        NOT NULL REFERENCES users (id),
    url           text        NOT NULL,
    -- The event types wanted, comma-separated; empty for every type.
    event_types   text        NOT NULL,
    description   text        NOT NULL,
    secret        text        NOT NULL,
    enabled       boolean     NOT NULL,
    failing_since timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE INDEX webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, created_at);

-- One row per (endpoint, event): at least once, in order per subject (a booking's events are
-- sent one after the other), retried with back-off until delivered or failed. A replica claims
-- due rows with FOR UPDATE SKIP LOCKED and a lease (locked_until); a replica that dies holding
-- a lease loses nothing: the row is due again when the lease ends.
CREATE TABLE webhook_deliveries (
    seq              bigserial   PRIMARY KEY,
    id               uuid        NOT NULL UNIQUE,
    endpoint_id      uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    subject_id       uuid        NOT NULL,
    payload          text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         bigint      NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    locked_until     timestamptz,
    last_status_code bigint,
    last_error       text,
    last_latency_ms  bigint,
    last_attempt_at  timestamptz,
    created_at       timestamptz NOT NULL,
    CONSTRAINT webhook_deliveries_event_key UNIQUE (endpoint_id, event_id)
);

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_subject_idx ON webhook_deliveries (endpoint_id, subject_id, seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (endpoint_id, seq);

-- The outbox cursor up to which events were fanned out into deliveries (one row).
CREATE TABLE webhook_cursor (
    id  integer PRIMARY KEY CHECK (id = 1),
    tx  bigint  NOT NULL,
    seq bigint  NOT NULL
);
INSERT INTO webhook_cursor (id, tx, seq) VALUES (1, 0, 0);
