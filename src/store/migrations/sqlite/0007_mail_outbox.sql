-- Mails waiting to go out. A mail is written here before anything is sent and deleted
-- once the mail server has taken it, so neither a crash nor a mail server that is down
-- for hours loses it, and any instance may send it. The message is sealed with the
-- key that seals signing keys: it may hold a live link.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    sealed          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- An instance sending the mail holds it until then (so no other sends it twice).
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at);
