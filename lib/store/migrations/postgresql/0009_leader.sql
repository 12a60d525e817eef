-- 0009_leader (PostgreSQL): what several nodes on one store need for their
-- background work (issue #14 item 4). Never edit a migration that has shipped:
-- add the next number instead.

-- The server's clock in microseconds: leases are set and compared on it, so
-- nodes whose clocks disagree still agree on when a lease ends.
CREATE FUNCTION homing_clock_us() RETURNS bigint LANGUAGE sql VOLATILE AS
$$ SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint $$;

-- The webhook outbox's claims: a deliverer claims a row (FOR UPDATE SKIP
-- LOCKED) before its POST, for a lease longer than the POST may take; nobody
-- else claims it until the lease has run out or the row is finished.
ALTER TABLE deliveries ADD COLUMN claimed_by bigint;
ALTER TABLE deliveries ADD COLUMN claimed_until_us bigint;

-- Every node LISTENs (its live stream, the leader's threads): a NOTIFY in the
-- transaction that stores events or notifications, so it is sent on commit
-- and never for a rollback. One per statement, and the payload (the schema,
-- several stores share a database) is the same within a transaction, so the
-- server folds them into one per commit.
CREATE FUNCTION homing_notify_stored() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], TG_TABLE_SCHEMA);
    RETURN NULL;
END $$;
CREATE TRIGGER events_stored AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION homing_notify_stored('homing_events');
CREATE TRIGGER notifications_stored AFTER INSERT ON notifications
    FOR EACH STATEMENT EXECUTE FUNCTION homing_notify_stored('homing_notifications');
