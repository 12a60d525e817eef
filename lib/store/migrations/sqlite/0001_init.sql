-- 0001_init: messages, recipients, links, append-only events, API keys.
-- Applied in one transaction by lib/store/sqlite.c; never edit a migration that
-- has shipped: add the next number instead.

-- id is the random public id (homing_id_random), never sequential, so it cannot
-- be guessed or used to count a sender's mail.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    message_id TEXT,
    subject TEXT,
    sender TEXT,
    mode TEXT NOT NULL DEFAULT 'per-recipient'
        CHECK (mode IN ('per-recipient', 'per-message')),
    created_us INTEGER NOT NULL
);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_created ON messages (created_us);

CREATE TABLE recipients (
    message INTEGER NOT NULL REFERENCES messages (id),
    idx INTEGER NOT NULL CHECK (idx >= 1),
    address TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'registered',
    state_us INTEGER NOT NULL,
    PRIMARY KEY (message, idx)
) WITHOUT ROWID;

CREATE TABLE links (
    message INTEGER NOT NULL REFERENCES messages (id),
    idx INTEGER NOT NULL CHECK (idx >= 1),
    url TEXT NOT NULL,
    PRIMARY KEY (message, idx)
) WITHOUT ROWID;

-- Every hit and report. No foreign key to messages on purpose: a batch is
-- committed all or nothing, and one event naming a message this node does not
-- know must not make the writer drop the hits committed beside it.
-- AUTOINCREMENT so an id is never reused: it is the consumers' cursor.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time_us INTEGER NOT NULL,
    kind TEXT NOT NULL,
    method TEXT CHECK (method IN ('GET', 'HEAD')),
    message INTEGER NOT NULL,
    recipient INTEGER NOT NULL DEFAULT 0,
    item INTEGER NOT NULL DEFAULT 0,
    client TEXT,
    user_agent TEXT,
    accept_language TEXT,
    via TEXT,
    from_hdr TEXT,
    detail TEXT CHECK (detail IS NULL OR json_valid(detail))
);
CREATE INDEX events_message ON events (message, id);

-- Append-only: the record of what happened is never rewritten.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

-- Only hashes of keys: a copy of the database gives no working key.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_us INTEGER NOT NULL,
    revoked_us INTEGER
);
-- A name is reusable once its key is revoked.
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_us IS NULL;
