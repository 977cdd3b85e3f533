-- Email: the messages to send (made from outbox events, or reminders due later), and how far
-- the outbox has been turned into messages.
--
-- One row per (key, role): at least once, in order per (recipient, subject) (a booking's
-- messages to one address go one after the other), retried with back-off until sent, failed or
-- skipped. A replica claims due rows with FOR UPDATE SKIP LOCKED and a lease (locked_until); a
-- replica that dies holding a lease loses nothing: the row is due again when the lease ends.
CREATE TABLE mail_messages (
    seq             bigserial   PRIMARY KEY,
    id              uuid        NOT NULL UNIQUE,
    -- What it is for: the event's id, or a reminder's.
    key             uuid        NOT NULL,
    -- Whom it is for among the messages of one key (guest, owner).
    role            text        NOT NULL,
    kind            text        NOT NULL,
    recipient       text        NOT NULL,
    subject_id      uuid        NOT NULL,
    -- The rendered message (opaque to the store).
    message         text        NOT NULL,
    status          text        NOT NULL
                                CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts        bigint      NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    locked_until    timestamptz,
    last_error      text,
    last_attempt_at timestamptz,
    created_at      timestamptz NOT NULL,
    -- Also the index of a key's messages.
    CONSTRAINT mail_messages_key_role_key UNIQUE (key, role)
);

CREATE INDEX mail_messages_due_idx ON mail_messages (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX mail_messages_subject_idx ON mail_messages (recipient, subject_id, seq)
    WHERE status = 'pending';

-- The outbox cursor up to which events were turned into messages (one row).
CREATE TABLE mail_cursor (
    id  integer PRIMARY KEY CHECK (id = 1),
    tx  bigint  NOT NULL,
    seq bigint  NOT NULL
);
-- It starts where webhooks are: a database that already has events does not mail its past.
INSERT INTO mail_cursor (id, tx, seq) SELECT 1, tx, seq FROM webhook_cursor WHERE id = 1;
