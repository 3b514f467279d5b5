-- The console's audit log by event over a time range: the page's `count` reads the
-- entries of that event in that range from this index alone, instead of every entry in
-- the range (or every entry of the event) from the table.
CREATE INDEX audit_log_event_time ON audit_log(event, time);
