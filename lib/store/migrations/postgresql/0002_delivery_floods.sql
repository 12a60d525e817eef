-- 0002_delivery_floods (PostgreSQL): what delivery-report ingestion and the
-- daemon's flood control keep (SQLite's 0002 and 0010): reports that matched
-- no message, sync positions of the ingesters, the keys of ingested records
-- (replaying a source stores nothing twice), and pending flood counts. Never
-- edit a migration that has shipped: add the next number instead.

CREATE TABLE unmatched_reports (
    id bigserial PRIMARY KEY,
    time_us bigint NOT NULL,
    source text NOT NULL,
    kind text NOT NULL,
    reason text NOT NULL,
    raw bytea
);

CREATE TABLE sync_state (
    name text PRIMARY KEY,
    value text NOT NULL,
    updated_us bigint NOT NULL
);

CREATE TABLE ingest_seen (
    key text PRIMARY KEY,
    time_us bigint NOT NULL
);

-- Hits flood control answered and did not record, per flood, until it is
-- closed into one `suppressed` event (homing_store_floods_close).
CREATE TABLE flood_pending (
    client text NOT NULL,
    message bigint NOT NULL,
    recipient bigint NOT NULL,
    item bigint NOT NULL,
    kind text NOT NULL,
    dropped bigint NOT NULL CHECK (dropped > 0),
    first_us bigint NOT NULL,
    last_us bigint NOT NULL,
    PRIMARY KEY (client, message, recipient, item, kind)
);
