-- The revocation feed: what services verifying access tokens offline must now refuse.
-- Rows live as long as an access token can; the feed's cursor is `seq`.
CREATE TABLE revocations (
    seq     BIGSERIAL PRIMARY KEY,
    -- 'session': access tokens whose `sid` is `subject` are revoked;
    -- 'user': access tokens of user `subject` issued before `at` are.
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX revocations_at ON revocations(at);

-- A sequence number is taken at insert, not at commit: without this, a revocation could
-- commit after a later-numbered one, after a poller's cursor had passed it, and never be
-- sent. Each transaction writing revocations takes this lock (held until it ends) before
-- its first number, so numbers become visible in order, as on SQLite (one writer).
CREATE FUNCTION revocations_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7271828);
    RETURN NULL;
END
$$;
CREATE TRIGGER revocations_in_commit_order BEFORE INSERT ON revocations
FOR EACH STATEMENT EXECUTE FUNCTION revocations_in_commit_order();

-- Every way a session ends (logout, reuse detection, the sessions page, an administrator,
-- a password change or reset, deactivation, a disconnected application) sets `revoked_at`
-- once; the trigger records it in the same transaction, so no code path can forget it.
CREATE FUNCTION record_session_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO revocations (kind, subject, at) VALUES ('session', NEW.id, NEW.revoked_at);
    RETURN NULL;
END
$$;
CREATE TRIGGER sessions_revoked_feed AFTER UPDATE OF revoked_at ON sessions
FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
EXECUTE FUNCTION record_session_revocation();
