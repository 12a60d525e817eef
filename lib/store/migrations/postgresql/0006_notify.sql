-- 0006_notify (PostgreSQL): webhooks, notifications and their deliveries
-- (SQLite's 0003; the cursors table is 0001's). Never edit a migration that
-- has shipped: add the next number instead.
CREATE TABLE webhooks (
    id bigserial PRIMARY KEY,
    url text NOT NULL,
    events text NOT NULL DEFAULT '*',
    secret text NOT NULL,
    created_us bigint NOT NULL,
    disabled_us bigint
);

-- id: the stable id receivers dedupe by, from a sequence, never reused.
CREATE TABLE notifications (
    id bigserial PRIMARY KEY,
    time_us bigint NOT NULL,
    kind text NOT NULL,
    message bigint NOT NULL,
    recipient bigint NOT NULL DEFAULT 0,
    item bigint NOT NULL DEFAULT 0,
    event bigint NOT NULL DEFAULT 0,
    reader text,
    text text NOT NULL,
    payload text NOT NULL CHECK (homing_json_valid(payload))
);
-- re-running the policy over an event after a crash adds nothing
CREATE UNIQUE INDEX notifications_event_kind ON notifications (event, kind) WHERE event <> 0;
CREATE INDEX notifications_message ON notifications (message, kind, recipient, item);

CREATE TABLE deliveries (
    notification bigint NOT NULL REFERENCES notifications (id),
    webhook bigint NOT NULL REFERENCES webhooks (id),
    message bigint NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_us bigint NOT NULL,
    delivered_us bigint,
    failed_us bigint,
    last_error text,
    PRIMARY KEY (notification, webhook)
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt_us)
    WHERE delivered_us IS NULL AND failed_us IS NULL;
CREATE INDEX deliveries_order ON deliveries (webhook, message, notification);
