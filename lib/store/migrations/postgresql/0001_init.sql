-- 0001_init (PostgreSQL): messages, recipients, links, the append-only event
-- log partitioned by month, named cursors, API keys. The tables of SQLite's
-- migrations 0001-0016 that the PostgreSQL backend uses so far, with their
-- final columns (this backend starts at SQLite's schema of 0016). Applied in
-- one transaction by lib/store/pg_open.c, in the schema the store URL names;
-- never edit a migration that has shipped: add the next number instead.

-- id is the random public id (homing_id_random), never sequential.
CREATE TABLE messages (
    id bigint PRIMARY KEY,
    message_id text,
    subject text,
    sender text,
    mode text NOT NULL DEFAULT 'per-recipient'
        CHECK (mode IN ('per-recipient', 'per-message')),
    created_us bigint NOT NULL,
    tracking text NOT NULL DEFAULT 'individual'
        CHECK (tracking IN ('off', 'delivery', 'anonymous', 'individual')),
    campaign text
);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_created ON messages (created_us);
CREATE INDEX messages_campaign ON messages (campaign, created_us) WHERE campaign IS NOT NULL;

CREATE TABLE recipients (
    message bigint NOT NULL REFERENCES messages (id),
    idx integer NOT NULL CHECK (idx >= 1),
    address text NOT NULL,
    state text NOT NULL DEFAULT 'registered',
    state_us bigint NOT NULL,
    tracking text
        CHECK (tracking IS NULL OR tracking IN ('off', 'delivery', 'anonymous', 'individual')),
    PRIMARY KEY (message, idx)
);

CREATE TABLE links (
    message bigint NOT NULL REFERENCES messages (id),
    idx integer NOT NULL CHECK (idx >= 1),
    url text NOT NULL,
    PRIMARY KEY (message, idx)
);

-- Text that must be JSON: a cast that fails makes the CHECK fail. Kept as
-- text, not jsonb, so a detail reads back byte for byte as it was written.
CREATE FUNCTION homing_json_valid(t text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM t::jsonb;
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END
$$;

-- Every hit and report, partitioned by month of time_us (UTC) so retention
-- drops whole partitions (events_YYYYMM) instead of deleting rows. No foreign
-- key to messages on purpose (a batch is all or nothing: one event naming an
-- unknown message must not cost the hits beside it). The id comes from a
-- sequence, never reused: it is the consumers' cursor; appends take
-- homing_append_lock() so ids are handed out and committed in order (a reader
-- paging with id > cursor never misses a row committed later with a smaller id).
CREATE SEQUENCE events_id_seq AS bigint;
CREATE TABLE events (
    id bigint NOT NULL DEFAULT nextval('events_id_seq'),
    time_us bigint NOT NULL,
    kind text NOT NULL,
    method text CHECK (method IN ('GET', 'HEAD')),
    message bigint NOT NULL,
    recipient bigint NOT NULL DEFAULT 0,
    item bigint NOT NULL DEFAULT 0,
    client text,
    user_agent text,
    accept_language text,
    via text,
    from_hdr text,
    detail text CHECK (detail IS NULL OR homing_json_valid(detail)),
    PRIMARY KEY (id, time_us)
) PARTITION BY RANGE (time_us);
ALTER SEQUENCE events_id_seq OWNED BY events.id;
CREATE INDEX events_id ON events (id);
CREATE INDEX events_message ON events (message, id);
CREATE INDEX events_recipient ON events (message, recipient, id);

-- The lock every append takes first, per schema (several stores may share a
-- database): appends are serialized, as SQLite's write lock serializes them.
CREATE FUNCTION homing_append_lock() RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.events'));
$$;

-- Creates the monthly partitions the times in times_us fall in (one time per
-- month is enough), under the append lock, so two writers never race to
-- create one. Only those months: a batch with a stray old time makes one old
-- partition, not every month in between.
CREATE FUNCTION homing_events_partitions(times_us bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    m timestamp;
    name text;
BEGIN
    PERFORM homing_append_lock();
    FOR m IN SELECT DISTINCT date_trunc('month', to_timestamp(t / 1000000.0) AT TIME ZONE 'UTC')
             FROM unnest(times_us) t LOOP
        name := 'events_' || to_char(m, 'YYYYMM');
        IF to_regclass(format('%I.%I', current_schema(), name)) IS NULL THEN
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.events FOR VALUES FROM (%s) TO (%s)',
                current_schema(), name, current_schema(),
                (extract(epoch FROM m) * 1000000)::bigint,
                (extract(epoch FROM m + interval '1 month') * 1000000)::bigint);
        END IF;
    END LOOP;
END
$$;

-- The permission for one privacy operation, written inside the operation's
-- own transaction and removed before it commits (no other transaction ever
-- sees it), as in SQLite's migration 0006. At most one row.
--   truncate:  UPDATE of events changing only client, to a text no longer
--   retention: DELETE of events older than cutoff_us (retention normally
--              drops whole monthly partitions; rows of the month the cutoff
--              falls in are deleted under this guard)
--   forget:    DELETE of events of (message, recipient), or naming address
CREATE TABLE privacy_guard (
    id integer PRIMARY KEY CHECK (id = 1),
    op text NOT NULL CHECK (op IN ('truncate', 'retention', 'forget')),
    cutoff_us bigint NOT NULL DEFAULT 0,
    message bigint NOT NULL DEFAULT 0,
    recipient bigint NOT NULL DEFAULT 0,
    address text
);

-- Append-only: everything but the three guarded operations is refused.
CREATE FUNCTION homing_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF EXISTS (SELECT 1 FROM privacy_guard WHERE op = 'truncate')
            AND NEW.id = OLD.id AND NEW.time_us = OLD.time_us AND NEW.kind = OLD.kind
            AND NEW.method IS NOT DISTINCT FROM OLD.method AND NEW.message = OLD.message
            AND NEW.recipient = OLD.recipient AND NEW.item = OLD.item
            AND NEW.user_agent IS NOT DISTINCT FROM OLD.user_agent
            AND NEW.accept_language IS NOT DISTINCT FROM OLD.accept_language
            AND NEW.via IS NOT DISTINCT FROM OLD.via
            AND NEW.from_hdr IS NOT DISTINCT FROM OLD.from_hdr
            AND NEW.detail IS NOT DISTINCT FROM OLD.detail
            AND OLD.client IS NOT NULL AND NEW.client IS NOT NULL
            AND length(NEW.client) <= length(OLD.client) THEN
            RETURN NEW;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM privacy_guard g WHERE
            (g.op = 'retention' AND OLD.time_us < g.cutoff_us)
            OR (g.op = 'forget' AND ((OLD.message = g.message AND OLD.recipient = g.recipient)
                OR (g.address IS NOT NULL AND (
                    strpos(lower(coalesce(OLD.detail, '')), g.address) > 0
                    OR strpos(lower(coalesce(OLD.from_hdr, '')), g.address) > 0))))) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION homing_events_append_only();
CREATE FUNCTION homing_events_no_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION homing_events_no_truncate();

-- Named cursors over events (the notifier's "notify", the journal's, ...).
CREATE TABLE cursors (
    name text PRIMARY KEY,
    event bigint NOT NULL
);
INSERT INTO cursors (name, event) VALUES ('notify', 0);

-- Only hashes of keys: a copy of the database gives no working key.
CREATE TABLE api_keys (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    hash bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_us bigint NOT NULL,
    revoked_us bigint,
    scope text NOT NULL DEFAULT 'admin' CHECK (scope IN ('read', 'write', 'admin'))
);
-- A name is reusable once its key is revoked.
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_us IS NULL;
