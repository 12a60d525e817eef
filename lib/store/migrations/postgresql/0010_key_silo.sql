-- 0010_key_silo (PostgreSQL): the key silo (issue #14 item 5) and the
-- run-time DDL behind SECURITY DEFINER functions. Never edit a migration that
-- has shipped: add the next number instead.
--
-- The secrets (API-key hashes and scopes, homing relay's account hashes,
-- the webhooks' signing secrets) move
-- to a schema of their own, named after the store's schema with "_keys"
-- appended (S_keys), reached only through the SECURITY DEFINER functions
-- below: `homing init --store` hands that schema to a silo owner role and
-- gives the nodes' role EXECUTE on the functions and nothing on the tables.
-- Each function runs with search_path = pg_catalog, S_keys, pg_temp, so
-- nothing a caller puts first in its own path can stand in for a table or an
-- operator, and EXECUTE is revoked from PUBLIC.
--
-- In the store's own schema, what the nodes used to do as DDL (a monthly
-- partition made on demand, dropped by retention) becomes two SECURITY
-- DEFINER functions that run as the schema's owner, with the schema's name
-- written into them: inside them current_schema() is pg_catalog.
--
-- A store opened by the role that owns everything (the tests, a single
-- node) works the same: it owns the silo too and calls the same functions.

SELECT set_config('homing.store_schema', current_schema(), true),
       set_config('homing.silo_schema', current_schema() || '_keys', true);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_namespace
                   WHERE nspname = current_setting('homing.silo_schema')) THEN
        EXECUTE format('CREATE SCHEMA %I', current_setting('homing.silo_schema'));
    END IF;
END
$$;

ALTER TABLE api_keys RENAME TO api_keys_0008;
ALTER TABLE relay_users RENAME TO relay_users_0008;

-- From here on, new objects land in the silo; the old tables are still
-- found in the store's schema, second in the path.
SELECT set_config('search_path', quote_ident(current_setting('homing.silo_schema')) || ', ' ||
                  quote_ident(current_setting('homing.store_schema')), true);

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
INSERT INTO api_keys (id, name, hash, created_us, revoked_us, scope)
    SELECT id, name, hash, created_us, revoked_us, scope FROM api_keys_0008;
SELECT setval(pg_get_serial_sequence('api_keys', 'id'), max(id)) FROM api_keys
    HAVING count(*) > 0;

CREATE TABLE relay_users (
    name text PRIMARY KEY,
    hash text NOT NULL,
    created_us bigint NOT NULL
);
INSERT INTO relay_users (name, hash, created_us)
    SELECT name, hash, created_us FROM relay_users_0008;

-- The webhooks' signing secrets (the store's schema keeps the rest of each
-- webhook): no foreign key across the two owners; a webhook is never
-- deleted, only disabled.
CREATE TABLE webhook_secrets (
    webhook bigint PRIMARY KEY,
    secret text NOT NULL
);
INSERT INTO webhook_secrets (webhook, secret) SELECT id, secret FROM webhooks;
ALTER TABLE webhooks DROP COLUMN secret;

DROP TABLE api_keys_0008;
DROP TABLE relay_users_0008;

-- API keys: the hash goes in, a scope (or no row) comes out; the list has no
-- hash.
CREATE FUNCTION homing_api_key_add(key_name text, key_hash bytea, at_us bigint, key_scope text)
RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO api_keys (name, hash, created_us, scope)
    VALUES (key_name, key_hash, at_us, key_scope) RETURNING id
$$;
CREATE FUNCTION homing_api_key_check(key_hash bytea) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT k.scope FROM api_keys k WHERE k.hash = key_hash AND k.revoked_us IS NULL
$$;
CREATE FUNCTION homing_api_key_list()
RETURNS TABLE (id bigint, name text, created_us bigint, revoked_us bigint, scope text)
LANGUAGE sql STABLE AS $$
    SELECT k.id, k.name, k.created_us, coalesce(k.revoked_us, 0), k.scope
    FROM api_keys k ORDER BY k.id
$$;
CREATE FUNCTION homing_api_key_revoke(at_us bigint, key_name text) RETURNS bigint
LANGUAGE sql AS $$
    WITH r AS (UPDATE api_keys SET revoked_us = at_us
               WHERE name = key_name AND revoked_us IS NULL RETURNING 1)
    SELECT count(*) FROM r
$$;

-- homing relay's accounts. The hash is argon2id, checked by libsodium in the
-- node (the server has no argon2id): _get gives one account's hash to the
-- node that is checking that account's password; no function lists hashes.
CREATE FUNCTION homing_relay_user_set(user_name text, user_hash text, at_us bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO relay_users (name, hash, created_us) VALUES (user_name, user_hash, at_us)
    ON CONFLICT (name) DO UPDATE SET hash = excluded.hash
$$;
CREATE FUNCTION homing_relay_user_get(user_name text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT u.hash FROM relay_users u WHERE u.name = user_name
$$;
CREATE FUNCTION homing_relay_user_list() RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT u.name FROM relay_users u ORDER BY u.name
$$;
CREATE FUNCTION homing_relay_user_remove(user_name text) RETURNS bigint
LANGUAGE sql AS $$
    WITH r AS (DELETE FROM relay_users WHERE name = user_name RETURNING 1)
    SELECT count(*) FROM r
$$;

-- Webhook secrets: the notifier signs with them, so the node reads one by
-- its webhook's id (webhook_list and the outbox show it); no function lists
-- them all.
CREATE FUNCTION homing_webhook_secret_set(hook bigint, hook_secret text) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO webhook_secrets (webhook, secret) VALUES (hook, hook_secret)
    ON CONFLICT (webhook) DO UPDATE SET secret = excluded.secret
    RETURNING webhook
$$;
CREATE FUNCTION homing_webhook_secret(hook bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT s.secret FROM webhook_secrets s WHERE s.webhook = hook
$$;

DO $$
DECLARE
    f regprocedure;
    silo text := current_setting('homing.silo_schema');
BEGIN
    FOR f IN SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = silo LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = pg_catalog, %I, pg_temp',
                       f, silo);
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', silo);
END
$$;

SELECT set_config('search_path', quote_ident(current_setting('homing.store_schema')) || ', ' ||
                  quote_ident(current_setting('homing.silo_schema')), true);

-- The append lock, keyed by the schema's name written in (0001's used
-- current_schema(), which is pg_catalog inside the functions below).
DO $do$
DECLARE
    s text := current_setting('homing.store_schema');
BEGIN
    EXECUTE format($f$
CREATE OR REPLACE FUNCTION %1$I.homing_append_lock() RETURNS void
LANGUAGE sql AS $b$
    SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(%2$L))
$b$$f$, s, s || '.events');

    -- The monthly partitions of 0001, made as the schema's owner.
    EXECUTE format($f$
CREATE OR REPLACE FUNCTION %1$I.homing_events_partitions(times_us bigint[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, %1$I, pg_temp AS $b$
DECLARE
    m timestamp;
    name text;
BEGIN
    PERFORM %1$I.homing_append_lock();
    FOR m IN SELECT DISTINCT date_trunc('month', to_timestamp(t / 1000000.0) AT TIME ZONE 'UTC')
             FROM unnest(times_us) t LOOP
        name := 'events_' || to_char(m, 'YYYYMM');
        IF to_regclass(format('%%I.%%I', %2$L, name)) IS NULL THEN
            EXECUTE format('CREATE TABLE %%I.%%I PARTITION OF %%I.events FOR VALUES FROM (%%s) TO (%%s)',
                %2$L, name, %2$L,
                (extract(epoch FROM m) * 1000000)::bigint,
                (extract(epoch FROM m + interval '1 month') * 1000000)::bigint);
        END IF;
    END LOOP;
END
$b$$f$, s, s);

    -- Retention's whole months: drops each partition lying wholly before
    -- before_us and before now (a month still being written, or a future
    -- one, is left to the caller's guarded DELETE of rows), and returns the
    -- number of events they held. The caller has rolled them up in the same
    -- transaction.
    EXECUTE format($f$
CREATE OR REPLACE FUNCTION %1$I.homing_events_drop_months(before_us bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, %1$I, pg_temp AS $b$
DECLARE
    part text;
    rows bigint;
    total bigint := 0;
BEGIN
    PERFORM %1$I.homing_append_lock();
    FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = format('%%I.events', %2$L)::regclass
                AND c.relname ~ '^events_[0-9]{6}$'
                AND (extract(epoch FROM (to_date(substr(c.relname, 8), 'YYYYMM')
                     + interval '1 month')) * 1000000)::bigint
                    <= least(before_us, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
    LOOP
        EXECUTE format('SELECT count(*) FROM %%I.%%I', %2$L, part) INTO rows;
        EXECUTE format('DROP TABLE %%I.%%I', %2$L, part);
        total := total + rows;
    END LOOP;
    RETURN total;
END
$b$$f$, s, s);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.homing_events_partitions(bigint[]) FROM PUBLIC', s);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.homing_events_drop_months(bigint) FROM PUBLIC', s);
END
$do$;
