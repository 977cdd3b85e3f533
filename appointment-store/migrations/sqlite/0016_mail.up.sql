-- Email: the messages to send (made from outbox events, or reminders due later), and how far
-- the outbox has been turned into messages.
--
-- One row per (key, role): at least once, in order per (recipient, subject) (a booking's
-- messages to one address go one after the other), retried with back-off until sent, failed or
-- skipped, claimed with a lease (locked_until).
CREATE TABLE mail_messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    -- What it is for: the event's id, or a reminder's.
    key             TEXT    NOT NULL,
    -- Whom it is for among the messages of one key (guest, owner).
    role            TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    subject_id      TEXT    NOT NULL,
    -- The rendered message (opaque to the store).
    message         TEXT    NOT NULL,
    status          TEXT    NOT NULL
                            CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER,
    last_error      TEXT,
    last_attempt_at INTEGER,
    created_at      INTEGER NOT NULL,
    -- Also the index of a key's messages.
    CONSTRAINT mail_messages_key_role_key UNIQUE (key, role)
) STRICT;

CREATE INDEX mail_messages_due_idx ON mail_messages (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX mail_messages_subject_idx ON mail_messages (recipient, subject_id, seq)
    WHERE status = 'pending';

-- The outbox cursor up to which events were turned into messages (one row).
CREATE TABLE mail_cursor (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    tx  INTEGER NOT NULL,
    seq INTEGER NOT NULL
) STRICT;
-- It starts where webhooks are: a database that already has events does not mail its past.
INSERT INTO mail_cursor (id, tx, seq) SELECT 1, tx, seq FROM webhook_cursor WHERE id = 1;
