-- Owners' ban lists.
CREATE TABLE bans (
    id         uuid        PRIMARY KEY,
    owner_id   uuid        NOT NULL,
    email      text        NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT bans_owner_email_key UNIQUE (owner_id, email)
);
