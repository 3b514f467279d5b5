-- The browser session a client's grant was approved from: the `sid` of every id token
-- the grant issues, refreshed ones included, so that RP-initiated logout with the last
-- id token an application holds ends that browser session. Not a foreign key: the
-- browser session may end (and be flushed) while the grant lives on.
ALTER TABLE sessions ADD COLUMN browser_session_id TEXT;
