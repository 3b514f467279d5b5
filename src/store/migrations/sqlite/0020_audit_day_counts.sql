-- How many entries of each event the audit log holds per day (UTC, `time / 86400`), and
-- the lowest and highest id among them: a page over a time range takes its `count` for
-- the whole days in the range from here and counts only the two partial days at its
-- ends, instead of every match. The ids bound the page's walk back through the log as
-- the counted oldest and newest match did. A deleted entry lowers `n` and leaves the ids
-- as they were: they stay bounds (never inside the matches), only looser.
CREATE TABLE audit_day_counts (
    event  TEXT NOT NULL,
    day    INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    min_id INTEGER,
    max_id INTEGER,
    PRIMARY KEY (event, day)
);
-- A time range over every event (a day's row is made once, then only updated).
CREATE INDEX audit_day_counts_day ON audit_day_counts(day);
INSERT INTO audit_day_counts (event, day, n, min_id, max_id)
    SELECT event, time / 86400, COUNT(*), MIN(id), MAX(id) FROM audit_log GROUP BY event, time / 86400;

CREATE TRIGGER audit_day_counts_insert AFTER INSERT ON audit_log BEGIN
    INSERT INTO audit_day_counts (event, day, n, min_id, max_id) VALUES (new.event, new.time / 86400, 1, new.id, new.id)
        ON CONFLICT (event, day) DO UPDATE
        SET n = n + 1, min_id = min(min_id, excluded.min_id), max_id = max(max_id, excluded.max_id);
END;

-- A day left without entries of the event (audit retention) goes, with its ids.
CREATE TRIGGER audit_day_counts_delete AFTER DELETE ON audit_log BEGIN
    UPDATE audit_day_counts SET n = n - 1 WHERE event = old.event AND day = old.time / 86400;
    DELETE FROM audit_day_counts WHERE event = old.event AND day = old.time / 86400 AND n = 0;
END;

-- Entries are never changed; should one be, its count moves with it.
CREATE TRIGGER audit_day_counts_update AFTER UPDATE OF event, time ON audit_log BEGIN
    UPDATE audit_day_counts SET n = n - 1 WHERE event = old.event AND day = old.time / 86400;
    DELETE FROM audit_day_counts WHERE event = old.event AND day = old.time / 86400 AND n = 0;
    INSERT INTO audit_day_counts (event, day, n, min_id, max_id) VALUES (new.event, new.time / 86400, 1, new.id, new.id)
        ON CONFLICT (event, day) DO UPDATE
        SET n = n + 1, min_id = min(min_id, excluded.min_id), max_id = max(max_id, excluded.max_id);
END;
