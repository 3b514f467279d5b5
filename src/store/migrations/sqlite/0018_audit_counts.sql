-- How many entries of each event the audit log holds, kept by triggers as entries are
-- written and deleted: a page of one event, or of the whole log, takes its `count` from
-- here instead of counting a million rows. (SQLite has one writer at a time, so one row
-- per event; PostgreSQL's counters are kept differently.)
CREATE TABLE audit_counts (
    event TEXT PRIMARY KEY,
    n     INTEGER NOT NULL
);
INSERT INTO audit_counts (event, n) SELECT event, COUNT(*) FROM audit_log GROUP BY event;

CREATE TRIGGER audit_counts_insert AFTER INSERT ON audit_log BEGIN
    INSERT INTO audit_counts (event, n) VALUES (new.event, 1)
        ON CONFLICT (event) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER audit_counts_delete AFTER DELETE ON audit_log BEGIN
    UPDATE audit_counts SET n = n - 1 WHERE event = old.event;
END;

-- Entries are never changed; should one be, its count moves with it.
CREATE TRIGGER audit_counts_update AFTER UPDATE OF event ON audit_log BEGIN
    UPDATE audit_counts SET n = n - 1 WHERE event = old.event;
    INSERT INTO audit_counts (event, n) VALUES (new.event, 1)
        ON CONFLICT (event) DO UPDATE SET n = n + 1;
END;
