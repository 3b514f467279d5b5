-- How many entries of each event the audit log holds per day (UTC, `time / 86400`), and
-- the lowest and highest id among them: a page over a time range takes its `count` for
-- the whole days in the range from here and counts only the two partial days at its
-- ends, instead of every match (a year of one event at a million users: 600 ms). The
-- ids bound the page's walk back through the log as the counted oldest and newest match
-- did. A deleted entry lowers `n` and leaves the ids as they were: they stay bounds
-- (never inside the matches), only looser.
--
-- As for `audit_counts` (0018), each statement that writes or deletes entries adds rows
-- of its own, folded by `Store::fold_audit_counts`; instances of the previous version
-- wait while the existing entries are counted, so none is missed or counted twice. The
-- count reads every entry once (seconds for ten million), while audited writes wait.
LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE audit_day_counts (
    event  TEXT NOT NULL,
    day    BIGINT NOT NULL,
    n      BIGINT NOT NULL,
    min_id BIGINT,
    max_id BIGINT
);
CREATE INDEX audit_day_counts_event_day ON audit_day_counts(event, day);
-- A time range over every event.
CREATE INDEX audit_day_counts_day ON audit_day_counts(day);
INSERT INTO audit_day_counts (event, day, n, min_id, max_id)
    SELECT event, time / 86400, COUNT(*), MIN(id), MAX(id) FROM audit_log GROUP BY event, time / 86400;

CREATE FUNCTION audit_day_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_day_counts (event, day, n, min_id, max_id)
        SELECT event, time / 86400, COUNT(*), MIN(id), MAX(id) FROM audit_added GROUP BY event, time / 86400;
    RETURN NULL;
END
$$;

CREATE FUNCTION audit_day_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_day_counts (event, day, n)
        SELECT event, time / 86400, -COUNT(*) FROM audit_removed GROUP BY event, time / 86400;
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_day_counts_insert AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS audit_added FOR EACH STATEMENT EXECUTE FUNCTION audit_day_counts_added();
CREATE TRIGGER audit_day_counts_delete AFTER DELETE ON audit_log
    REFERENCING OLD TABLE AS audit_removed FOR EACH STATEMENT EXECUTE FUNCTION audit_day_counts_removed();
CREATE TRIGGER audit_day_counts_update_removed AFTER UPDATE ON audit_log
    REFERENCING OLD TABLE AS audit_removed FOR EACH STATEMENT EXECUTE FUNCTION audit_day_counts_removed();
CREATE TRIGGER audit_day_counts_update_added AFTER UPDATE ON audit_log
    REFERENCING NEW TABLE AS audit_added FOR EACH STATEMENT EXECUTE FUNCTION audit_day_counts_added();

DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_day_counts_added() SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION audit_day_counts_removed() SET search_path = %I, pg_temp', current_schema());
END
$$;
