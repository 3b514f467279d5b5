-- A filtered audit page counts its matches and finds the oldest and newest of them in one
-- read (`COUNT(*), MIN(id), MAX(id)`), then walks back between them in id order. With
-- the id in the time indexes that read stays on the index alone; SQLite's indexes carry
-- the row id already.
--
-- The new indexes are built first (reads go on, audited writes wait, as for 0019) and the
-- old ones dropped last, so the table's exclusive lock is held only from the drops to the
-- commit. Not `CONCURRENTLY`: it cannot run in a transaction, and under the migration's
-- advisory lock it deadlocks with every other instance starting at the same time.
CREATE INDEX audit_log_event_time_id ON audit_log(event, time, id);
CREATE INDEX audit_log_time_id ON audit_log(time, id);
DROP INDEX audit_log_event_time;
DROP INDEX audit_log_time;
