DROP TABLE idempotency_keys;
DROP TABLE revoked_tokens;
