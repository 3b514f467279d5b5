-- Trust: a session's last proof of presence (a password or code asked again), which
-- sensitive changes need within a short window; and when its first login was, for
-- the absolute session lifetime (created_at moves with nothing, but is named here).
ALTER TABLE sessions ADD COLUMN reauthenticated_at BIGINT;
