-- When a user proved they receive mail at their address (a signed link mailed to it); NULL
-- until then. Strict anti-scalping may require it.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
