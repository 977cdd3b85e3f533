-- Registered users. Emails and phone numbers are stored normalised (see the domain types).
CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    name          text        NOT NULL,
    email         text        NOT NULL,
    phone         text,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE UNIQUE INDEX users_phone_key ON users (phone) WHERE phone IS NOT NULL;
