-- Owners' ban lists.
CREATE TABLE bans (
    id         TEXT    PRIMARY KEY NOT NULL,
    owner_id   TEXT    NOT NULL,
    email      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT bans_owner_email_key UNIQUE (owner_id, email)
) STRICT;
