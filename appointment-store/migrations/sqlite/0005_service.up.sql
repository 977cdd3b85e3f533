-- State of the REST service: revoked tokens and idempotency records.
CREATE TABLE revoked_tokens (
    jti        TEXT    PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);

CREATE TABLE idempotency_keys (
    key          TEXT    PRIMARY KEY NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER,
    body         TEXT,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
