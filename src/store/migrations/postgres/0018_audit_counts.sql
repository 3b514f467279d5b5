-- How many entries of each event the audit log holds, kept by triggers as entries are
-- written and deleted: a page of one event, or of the whole log, takes its `count` from
-- here (the sum of the event's rows) instead of counting a million rows.
--
-- Each statement that writes or deletes entries adds a row of its own per event, +n or
-- -n, instead of updating one counter: concurrent writers then never wait for each
-- other's counter, and never deadlock on two counters taken in opposite orders. A job
-- folds the rows into one per event every minute (`Store::fold_audit_counts`).
-- Instances of the previous version may still be writing entries: they wait while the
-- existing ones are counted and the triggers made, so none is missed or counted twice.
LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE audit_counts (
    event TEXT NOT NULL,
    n     BIGINT NOT NULL
);
CREATE INDEX audit_counts_event ON audit_counts(event);
INSERT INTO audit_counts (event, n) SELECT event, COUNT(*) FROM audit_log GROUP BY event;

CREATE FUNCTION audit_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_counts (event, n) SELECT event, COUNT(*) FROM audit_added GROUP BY event;
    RETURN NULL;
END
$$;

CREATE FUNCTION audit_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_counts (event, n) SELECT event, -COUNT(*) FROM audit_removed GROUP BY event;
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_counts_insert AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS audit_added FOR EACH STATEMENT EXECUTE FUNCTION audit_counts_added();
CREATE TRIGGER audit_counts_delete AFTER DELETE ON audit_log
    REFERENCING OLD TABLE AS audit_removed FOR EACH STATEMENT EXECUTE FUNCTION audit_counts_removed();
-- Entries are never changed; should one be, its count moves with it.
CREATE TRIGGER audit_counts_update_removed AFTER UPDATE ON audit_log
    REFERENCING OLD TABLE AS audit_removed FOR EACH STATEMENT EXECUTE FUNCTION audit_counts_removed();
CREATE TRIGGER audit_counts_update_added AFTER UPDATE ON audit_log
    REFERENCING NEW TABLE AS audit_added FOR EACH STATEMENT EXECUTE FUNCTION audit_counts_added();

-- The functions find `audit_counts` in this schema whoever writes the log, whatever their
-- search_path (and never a table of the same name someone else made earlier in it).
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_counts_added() SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION audit_counts_removed() SET search_path = %I, pg_temp', current_schema());
END
$$;
