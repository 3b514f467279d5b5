-- A filtered audit page counts its matches and finds the newest of them in one read
-- (`COUNT(*), MAX(id)`), then walks back from it in id order. With the id in the time
-- indexes that read stays on the index alone; SQLite's indexes carry the row id already.
DROP INDEX audit_log_event_time;
CREATE INDEX audit_log_event_time ON audit_log(event, time, id);
DROP INDEX audit_log_time;
CREATE INDEX audit_log_time ON audit_log(time, id);
