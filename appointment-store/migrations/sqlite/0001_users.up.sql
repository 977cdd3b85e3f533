-- Registered users. Instants are INTEGER microseconds since the Unix epoch (UTC), so they compare
-- and sort as instants; ids are hyphenated UUID text.
CREATE TABLE users (
    id            TEXT    PRIMARY KEY NOT NULL,
    name          TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    phone         TEXT,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER,
    CONSTRAINT users_email_key UNIQUE (email)
) STRICT;

CREATE UNIQUE INDEX users_phone_key ON users (phone) WHERE phone IS NOT NULL;
