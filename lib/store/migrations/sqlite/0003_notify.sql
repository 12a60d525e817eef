-- 0003_notify: webhooks, the notification outbox and its deliveries, and the
-- notifier's cursor over events. Applied in one transaction by lib/store/sqlite.c;
-- never edit a migration that has shipped: add the next number instead.

-- A receiver of signed POSTs. events is a comma-separated list of notification
-- kinds, or '*' for all. The secret signs each delivery (HMAC-SHA-256), so it is
-- stored as is. Removing a webhook disables it (disabled_us) rather than deleting
-- the row: its delivery history keeps pointing at it.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    events TEXT NOT NULL DEFAULT '*',
    secret TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    disabled_us INTEGER
);

-- The outbox. id (AUTOINCREMENT: never reused) is the stable notification id
-- that receivers dedupe by and the SSE stream's Last-Event-ID. event is the
-- event it came from (0 for none); one event gives at most one notification of
-- each kind, so re-running the policy over an event after a crash adds nothing.
-- reader is the reader fingerprint (16 hex) of an open, for forward detection.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time_us INTEGER NOT NULL,
    kind TEXT NOT NULL,
    message INTEGER NOT NULL,
    recipient INTEGER NOT NULL DEFAULT 0,
    item INTEGER NOT NULL DEFAULT 0,
    event INTEGER NOT NULL DEFAULT 0,
    reader TEXT,
    text TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload))
);
CREATE UNIQUE INDEX notifications_event_kind ON notifications (event, kind) WHERE event != 0;
CREATE INDEX notifications_message ON notifications (message, kind, recipient, item);

-- One row per notification and webhook, created with the notification in the
-- same transaction, so a notification is never without its pending deliveries.
-- message is copied from the notification: deliveries of one message to one
-- webhook go out in notification order (see deliveries_due in sqlite.c).
CREATE TABLE deliveries (
    notification INTEGER NOT NULL REFERENCES notifications (id),
    webhook INTEGER NOT NULL REFERENCES webhooks (id),
    message INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_us INTEGER NOT NULL,
    delivered_us INTEGER,
    failed_us INTEGER,
    last_error TEXT,
    PRIMARY KEY (notification, webhook)
) WITHOUT ROWID;
CREATE INDEX deliveries_pending ON deliveries (next_attempt_us)
    WHERE delivered_us IS NULL AND failed_us IS NULL;
CREATE INDEX deliveries_order ON deliveries (webhook, message, notification);

-- Named cursors over events (the notifier's: the last event it has run the
-- policy on). Starts at the newest event when this migration runs, so turning
-- notifications on does not announce the whole history.
CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    event INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO cursors (name, event) VALUES ('notify', (SELECT coalesce(max(id), 0) FROM events));
