-- Webhooks: endpoints other systems register to hear of changes here, and the deliveries
-- made to them, kept as a log (failed ones retried with a growing pause, dead ones kept
-- for replay). Deliveries are made from the audit log, which every change writes in its
-- own transaction: a crash loses none.
CREATE TABLE webhook_endpoints (
    id             TEXT PRIMARY KEY,
    url            TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    -- The event types it wants, space-separated.
    events         TEXT NOT NULL,
    -- 'standard': JSON signed per Standard Webhooks; 'set': Security Event Tokens
    -- (RFC 8417, CAEP and RISC events) pushed per RFC 8935.
    format         TEXT NOT NULL DEFAULT 'standard',
    -- The signing secret (whsec_…), sealed with the secret key.
    secret_sealed  TEXT NOT NULL,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    -- It hears of audit entries after this one (those written once it existed).
    after_audit_id INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    -- The webhook-id header: the same on every attempt, so receivers can drop repeats.
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    -- The audit entry it reports: deliveries to one endpoint go out in this order.
    seq             INTEGER NOT NULL,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    -- pending, delivered or dead
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- An instance sending it holds it until then; one that died leaves it to the others.
    leased_until    INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    last_status     INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    delivered_at    INTEGER,
    UNIQUE (endpoint_id, seq)
);
CREATE INDEX webhook_deliveries_status ON webhook_deliveries(endpoint_id, status, seq);

-- How far the audit log has been turned into deliveries.
CREATE TABLE webhook_cursor (
    id       INTEGER PRIMARY KEY,
    audit_id INTEGER NOT NULL
);
INSERT INTO webhook_cursor (id, audit_id) VALUES (1, 0);
