-- Calendar feeds: one secret subscription URL per owner. Only a SHA-256 hash of its token is
-- kept (hex); the token itself is shown once, when it is made.
CREATE TABLE calendar_feeds (
    owner_id   uuid        PRIMARY KEY REFERENCES users (id),
    token_hash text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);
