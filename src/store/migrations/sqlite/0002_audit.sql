-- The audit log. No foreign key on user_id: the history outlives the user.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       INTEGER NOT NULL,
    event      TEXT NOT NULL,
    user_id    TEXT,
    username   TEXT,
    actor_id   TEXT,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_user ON audit_log(user_id, id);
CREATE INDEX audit_log_event ON audit_log(event, id);
