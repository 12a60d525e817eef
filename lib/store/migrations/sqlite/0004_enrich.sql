-- 0004_enrich: what the daemon's enrichment thread derives from committed
-- opens, clicks and document opens: a verdict with its reasons, the client and
-- network facts, and the readers of each message (forward detection). Applied in
-- one transaction by lib/store/sqlite.c; never edit a migration that has
-- shipped: add the next number instead.
--
-- Derived data in tables of its own because events are append-only: homing
-- reclassify rewrites enrichments, never events.

-- One row per enriched event. message, recipient, kind, item and time_us are
-- copied from the event so reports group without a join on the large events
-- table. verdict is the name homing_verdict_name gives ("human", "proxy-open",
-- ...), reasons the comma-separated reason names. reader is the fingerprint
-- (16 hex) of a non-proxy hit, NULL otherwise; new_reader is 1 on the first hit
-- of that reader on the message, forward 1 when such a new reader came after
-- another reader had opened the message (a possible forward). json is the
-- whole enrichment as homing_enrichment_json writes it, plus the reader flags.
CREATE TABLE enrichments (
    event INTEGER PRIMARY KEY,
    message INTEGER NOT NULL,
    recipient INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL,
    item INTEGER NOT NULL DEFAULT 0,
    time_us INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    confidence INTEGER NOT NULL,
    reasons TEXT NOT NULL DEFAULT '',
    rules_version INTEGER NOT NULL,
    client_family TEXT,
    client_version TEXT,
    os TEXT,
    device TEXT,
    country TEXT,
    asn INTEGER NOT NULL DEFAULT 0,
    as_org TEXT,
    machine TEXT,
    reader TEXT,
    new_reader INTEGER NOT NULL DEFAULT 0,
    forward INTEGER NOT NULL DEFAULT 0,
    json TEXT NOT NULL CHECK (json_valid(json))
);
CREATE INDEX enrichments_message ON enrichments (message, recipient, event);

-- The readers of a message: one row per fingerprint, first and last seen, the
-- client, device and country of its first hit, its opens, the event that made
-- it known, and whether it was a possible forward when it appeared.
-- recipient is the recipient whose copy it read first.
CREATE TABLE readers (
    message INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    recipient INTEGER NOT NULL DEFAULT 0,
    first_us INTEGER NOT NULL,
    last_us INTEGER NOT NULL,
    client TEXT,
    device TEXT,
    country TEXT,
    opens INTEGER NOT NULL DEFAULT 0,
    first_event INTEGER NOT NULL,
    forward INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message, fingerprint)
) WITHOUT ROWID;

-- The enrichment cursor: the last event id the thread has looked at (enriched
-- or skipped), moved in the same transaction as the enrichment it covers, so a
-- restart resumes there and no event is enriched twice. It starts at 0: events
-- recorded before this migration are enriched too. Consumers that need the
-- enrichment (the notifier, IP truncation) never go past it.
INSERT INTO cursors (name, event) VALUES ('enrich', 0);
