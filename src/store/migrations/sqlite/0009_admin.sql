-- The administrators' console: the audit log by time and by actor, role holders.
CREATE INDEX audit_log_time ON audit_log(time);
CREATE INDEX audit_log_actor ON audit_log(actor_id, id);
CREATE INDEX user_roles_role ON user_roles(role);
