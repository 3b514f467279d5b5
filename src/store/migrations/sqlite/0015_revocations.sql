-- The revocation feed: what services verifying access tokens offline must now refuse.
-- Rows live as long as an access token can; the feed's cursor is `seq`.
CREATE TABLE revocations (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 'session': access tokens whose `sid` is `subject` are revoked;
    -- 'user': access tokens of user `subject` issued before `at` are.
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX revocations_at ON revocations(at);

-- Every way a session ends (logout, reuse detection, the sessions page, an administrator,
-- a password change or reset, deactivation, a disconnected application) sets `revoked_at`
-- once; the trigger records it in the same transaction, so no code path can forget it.
CREATE TRIGGER sessions_revoked_feed AFTER UPDATE OF revoked_at ON sessions
WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    INSERT INTO revocations (kind, subject, at) VALUES ('session', NEW.id, NEW.revoked_at);
END;
