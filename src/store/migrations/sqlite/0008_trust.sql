-- Trust: a session's last proof of presence (a password or code asked again), which
-- sensitive changes need within a short window; and when its first login was, for
-- the absolute session lifetime (created_at moves with nothing, but is named here).
ALTER TABLE sessions ADD COLUMN reauthenticated_at INTEGER;

-- The token a rotation issued in place of this one: a replay inside the reuse interval
-- gets that same successor back, never a second live branch of the family.
ALTER TABLE refresh_tokens ADD COLUMN replaced_by TEXT;

-- Which imported record made the account (`django:<pk>`): a later import updates only
-- the accounts it made, never one registered here under a colliding name.
ALTER TABLE users ADD COLUMN imported_from TEXT;
