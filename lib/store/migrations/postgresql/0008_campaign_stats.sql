-- 0008_campaign_stats (PostgreSQL): the counters campaigns and `homing stats`
-- read (docs/reports.md, "Campaigns and rates"), as SQLite's migrations 0012,
-- 0013 and 0017 leave them: per recipient, per clicked link and recipient,
-- per hour, the latest bounce per recipient, and their per-message and
-- per-link sums. Applied in one transaction by lib/store/pg_open.c; never
-- edit a migration that has shipped: add the next number instead.
--
-- Who writes what (the same split as SQLite after its 0017):
--   recipient_stats, link_stats, hourly_stats (enriched hits): the
--     enrichment batch, one upsert per group (lib/store/pg_readers.c,
--     store.c's stats_of), not a trigger per hit;
--   hourly_stats (delivery kinds), recipient_bounces: a trigger on events;
--   message_states: triggers on recipients' state;
--   message_stats, link_totals: triggers on recipient_stats, link_stats;
--   a reclassify (UPDATE OF verdict on enrichments) moves a hit's class.
-- Retention drops events and enrichments but not these: a figure does not
-- drop when the detail behind it ages out. `forget` deletes a recipient's
-- rows of recipient_stats, link_stats and recipient_bounces (every table with
-- message and recipient columns, lib/store/pg_privacy.c); the triggers below
-- take its share out of the sums.

-- The class of a verdict, as reports count it (docs/reports.md).
CREATE FUNCTION homing_verdict_class(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IN ('human', 'proxy-open') THEN 'human'
                WHEN v IN ('prefetch', 'scanner', 'probe') THEN 'machine'
                ELSE 'unknown' END
$$;

CREATE TABLE recipient_stats (
    message bigint NOT NULL,
    recipient bigint NOT NULL,
    opens_human bigint NOT NULL DEFAULT 0,
    opens_machine bigint NOT NULL DEFAULT 0,
    opens_unknown bigint NOT NULL DEFAULT 0,
    clicks_human bigint NOT NULL DEFAULT 0,
    clicks_machine bigint NOT NULL DEFAULT 0,
    clicks_unknown bigint NOT NULL DEFAULT 0,
    docs_human bigint NOT NULL DEFAULT 0,
    docs_machine bigint NOT NULL DEFAULT 0,
    docs_unknown bigint NOT NULL DEFAULT 0,
    first_human_open_us bigint,
    first_human_click_us bigint,
    PRIMARY KEY (message, recipient)
);

CREATE TABLE link_stats (
    message bigint NOT NULL,
    link bigint NOT NULL,
    recipient bigint NOT NULL,
    human bigint NOT NULL DEFAULT 0,
    machine bigint NOT NULL DEFAULT 0,
    unknown bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (message, link, recipient)
);

-- hour: time_us / 3,600,000,000; class '' for the delivery kinds.
CREATE TABLE hourly_stats (
    message bigint NOT NULL,
    hour bigint NOT NULL,
    kind text NOT NULL,
    class text NOT NULL,
    count bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (message, hour, kind, class)
);

CREATE TABLE recipient_bounces (
    message bigint NOT NULL,
    recipient bigint NOT NULL,
    reason text NOT NULL DEFAULT '',
    hard integer NOT NULL DEFAULT 0,
    time_us bigint NOT NULL,
    PRIMARY KEY (message, recipient)
);

CREATE TABLE message_stats (
    message bigint PRIMARY KEY,
    opens_human bigint NOT NULL DEFAULT 0,
    opens_machine bigint NOT NULL DEFAULT 0,
    opens_unknown bigint NOT NULL DEFAULT 0,
    clicks_human bigint NOT NULL DEFAULT 0,
    clicks_machine bigint NOT NULL DEFAULT 0,
    clicks_unknown bigint NOT NULL DEFAULT 0,
    docs_human bigint NOT NULL DEFAULT 0,
    docs_machine bigint NOT NULL DEFAULT 0,
    docs_unknown bigint NOT NULL DEFAULT 0,
    openers_human bigint NOT NULL DEFAULT 0,
    openers_machine bigint NOT NULL DEFAULT 0,
    openers_unknown bigint NOT NULL DEFAULT 0,
    openers_all bigint NOT NULL DEFAULT 0,
    clickers_human bigint NOT NULL DEFAULT 0,
    clickers_machine bigint NOT NULL DEFAULT 0,
    clickers_unknown bigint NOT NULL DEFAULT 0,
    clickers_all bigint NOT NULL DEFAULT 0
);

CREATE TABLE message_states (
    message bigint NOT NULL,
    state text NOT NULL,
    count bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (message, state)
);

CREATE TABLE link_totals (
    message bigint NOT NULL,
    link bigint NOT NULL,
    human bigint NOT NULL DEFAULT 0,
    machine bigint NOT NULL DEFAULT 0,
    unknown bigint NOT NULL DEFAULT 0,
    clickers_human bigint NOT NULL DEFAULT 0,
    clickers_machine bigint NOT NULL DEFAULT 0,
    clickers_unknown bigint NOT NULL DEFAULT 0,
    clickers_all bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (message, link)
);

-- A recipient row's share of message_stats, signed: sgn 1 adds row r, -1
-- takes it out (an update is both).
CREATE FUNCTION homing_message_stats_add(r recipient_stats, sgn integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO message_stats AS m (message, opens_human, opens_machine, opens_unknown,
        clicks_human, clicks_machine, clicks_unknown, docs_human, docs_machine, docs_unknown,
        openers_human, openers_machine, openers_unknown, openers_all, clickers_human,
        clickers_machine, clickers_unknown, clickers_all)
    VALUES (r.message, sgn * r.opens_human, sgn * r.opens_machine, sgn * r.opens_unknown,
        sgn * r.clicks_human, sgn * r.clicks_machine, sgn * r.clicks_unknown,
        sgn * r.docs_human, sgn * r.docs_machine, sgn * r.docs_unknown,
        sgn * (r.opens_human > 0)::int, sgn * (r.opens_machine > 0)::int,
        sgn * (r.opens_unknown > 0)::int,
        sgn * (r.opens_human + r.opens_machine + r.opens_unknown > 0)::int,
        sgn * (r.clicks_human > 0)::int, sgn * (r.clicks_machine > 0)::int,
        sgn * (r.clicks_unknown > 0)::int,
        sgn * (r.clicks_human + r.clicks_machine + r.clicks_unknown > 0)::int)
    ON CONFLICT (message) DO UPDATE SET
        opens_human = m.opens_human + excluded.opens_human,
        opens_machine = m.opens_machine + excluded.opens_machine,
        opens_unknown = m.opens_unknown + excluded.opens_unknown,
        clicks_human = m.clicks_human + excluded.clicks_human,
        clicks_machine = m.clicks_machine + excluded.clicks_machine,
        clicks_unknown = m.clicks_unknown + excluded.clicks_unknown,
        docs_human = m.docs_human + excluded.docs_human,
        docs_machine = m.docs_machine + excluded.docs_machine,
        docs_unknown = m.docs_unknown + excluded.docs_unknown,
        openers_human = m.openers_human + excluded.openers_human,
        openers_machine = m.openers_machine + excluded.openers_machine,
        openers_unknown = m.openers_unknown + excluded.openers_unknown,
        openers_all = m.openers_all + excluded.openers_all,
        clickers_human = m.clickers_human + excluded.clickers_human,
        clickers_machine = m.clickers_machine + excluded.clickers_machine,
        clickers_unknown = m.clickers_unknown + excluded.clickers_unknown,
        clickers_all = m.clickers_all + excluded.clickers_all
$$;

CREATE FUNCTION homing_stats_recipient() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM homing_message_stats_add(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM homing_message_stats_add(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER stats_recipient AFTER INSERT OR UPDATE OR DELETE ON recipient_stats
    FOR EACH ROW EXECUTE FUNCTION homing_stats_recipient();

CREATE FUNCTION homing_link_totals_add(r link_stats, sgn integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO link_totals AS t (message, link, human, machine, unknown, clickers_human,
        clickers_machine, clickers_unknown, clickers_all)
    VALUES (r.message, r.link, sgn * r.human, sgn * r.machine, sgn * r.unknown,
        sgn * (r.human > 0)::int, sgn * (r.machine > 0)::int, sgn * (r.unknown > 0)::int,
        sgn * (r.human + r.machine + r.unknown > 0)::int)
    ON CONFLICT (message, link) DO UPDATE SET
        human = t.human + excluded.human, machine = t.machine + excluded.machine,
        unknown = t.unknown + excluded.unknown,
        clickers_human = t.clickers_human + excluded.clickers_human,
        clickers_machine = t.clickers_machine + excluded.clickers_machine,
        clickers_unknown = t.clickers_unknown + excluded.clickers_unknown,
        clickers_all = t.clickers_all + excluded.clickers_all
$$;

CREATE FUNCTION homing_stats_link() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM homing_link_totals_add(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM homing_link_totals_add(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER stats_link AFTER INSERT OR UPDATE OR DELETE ON link_stats
    FOR EACH ROW EXECUTE FUNCTION homing_stats_link();

-- Recipients per state. A message's recipients arrive in one INSERT (up to
-- 100,000 of them): counted per statement from its transition table, one
-- upsert per message and state, not one per row. A change of state and a
-- deleted row: per row.
CREATE FUNCTION homing_stats_state_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_states AS s (message, state, count)
        SELECT message, state, count(*) FROM added GROUP BY message, state
        ON CONFLICT (message, state) DO UPDATE SET count = s.count + excluded.count;
    RETURN NULL;
END
$$;
CREATE TRIGGER stats_state_added AFTER INSERT ON recipients
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION homing_stats_state_added();
CREATE FUNCTION homing_stats_state() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE message_states SET count = count - 1
        WHERE message = OLD.message AND state = OLD.state;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO message_states AS s (message, state, count) VALUES (NEW.message, NEW.state, 1)
            ON CONFLICT (message, state) DO UPDATE SET count = s.count + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER stats_state_deleted AFTER DELETE ON recipients
    FOR EACH ROW EXECUTE FUNCTION homing_stats_state();
CREATE TRIGGER stats_state_update AFTER UPDATE OF state ON recipients
    FOR EACH ROW WHEN (NEW.state IS DISTINCT FROM OLD.state)
    EXECUTE FUNCTION homing_stats_state();

-- Delivery events count in the series; a bounce also records its reason
-- (the latest bounce of a recipient wins). detail is JSON by events' CHECK.
CREATE FUNCTION homing_stats_event_delivery() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    d jsonb := CASE WHEN NEW.detail IS NULL THEN NULL ELSE NEW.detail::jsonb END;
BEGIN
    INSERT INTO hourly_stats AS h (message, hour, kind, class, count)
        VALUES (NEW.message, NEW.time_us / 3600000000, NEW.kind, '', 1)
        ON CONFLICT (message, hour, kind, class) DO UPDATE SET count = h.count + 1;
    IF NEW.kind = 'bounced' AND NEW.recipient > 0 THEN
        INSERT INTO recipient_bounces AS b (message, recipient, reason, hard, time_us)
            VALUES (NEW.message, NEW.recipient,
                CASE WHEN jsonb_typeof(d) = 'object' AND jsonb_typeof(d -> 'reason') = 'string'
                     THEN d ->> 'reason' ELSE '' END,
                CASE WHEN jsonb_typeof(d) = 'object' AND (d -> 'hard') IN ('true'::jsonb, '1'::jsonb)
                     THEN 1 ELSE 0 END,
                NEW.time_us)
            ON CONFLICT (message, recipient) DO UPDATE SET reason = excluded.reason,
                hard = excluded.hard, time_us = excluded.time_us
            WHERE excluded.time_us >= b.time_us;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER stats_event_delivery AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.kind IN ('sent', 'rejected', 'delivered', 'delayed', 'bounced', 'read',
                       'complaint', 'autoreply'))
    EXECUTE FUNCTION homing_stats_event_delivery();

-- homing reclassify rewrites verdicts: a hit moves from its old class to its
-- new one. The first human open or click is not moved back (it stays the
-- earliest hit once judged human; reports read the enrichments for detail).
CREATE FUNCTION homing_stats_reclass() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    oc text := homing_verdict_class(OLD.verdict);
    nc text := homing_verdict_class(NEW.verdict);
    dh integer := (nc = 'human')::int - (oc = 'human')::int;
    dm integer := (nc = 'machine')::int - (oc = 'machine')::int;
    du integer := (nc = 'unknown')::int - (oc = 'unknown')::int;
    o integer := (NEW.kind = 'open')::int;
    c integer := (NEW.kind = 'click')::int;
    d integer := (NEW.kind = 'document-open')::int;
BEGIN
    UPDATE recipient_stats SET
        opens_human = opens_human + o * dh, opens_machine = opens_machine + o * dm,
        opens_unknown = opens_unknown + o * du,
        clicks_human = clicks_human + c * dh, clicks_machine = clicks_machine + c * dm,
        clicks_unknown = clicks_unknown + c * du,
        docs_human = docs_human + d * dh, docs_machine = docs_machine + d * dm,
        docs_unknown = docs_unknown + d * du,
        first_human_open_us = CASE WHEN o = 1 AND nc = 'human'
            THEN least(first_human_open_us, NEW.time_us) ELSE first_human_open_us END,
        first_human_click_us = CASE WHEN c = 1 AND nc = 'human'
            THEN least(first_human_click_us, NEW.time_us) ELSE first_human_click_us END
    WHERE message = NEW.message AND recipient = NEW.recipient;
    IF c = 1 THEN
        UPDATE link_stats SET human = human + dh, machine = machine + dm, unknown = unknown + du
        WHERE message = NEW.message AND link = NEW.item AND recipient = NEW.recipient;
    END IF;
    UPDATE hourly_stats SET count = count - 1
    WHERE message = OLD.message AND hour = OLD.time_us / 3600000000 AND kind = OLD.kind
      AND class = oc;
    INSERT INTO hourly_stats AS h (message, hour, kind, class, count)
        VALUES (NEW.message, NEW.time_us / 3600000000, NEW.kind, nc, 1)
        ON CONFLICT (message, hour, kind, class) DO UPDATE SET count = h.count + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER stats_enrichment_reclass AFTER UPDATE OF verdict ON enrichments FOR EACH ROW
    WHEN (homing_verdict_class(OLD.verdict) IS DISTINCT FROM homing_verdict_class(NEW.verdict))
    EXECUTE FUNCTION homing_stats_reclass();

-- What this store held before the counters existed counts too. Per-row
-- triggers on recipient_stats and link_stats are skipped here: their sums
-- are filled in one statement each below.
ALTER TABLE recipient_stats DISABLE TRIGGER stats_recipient;
ALTER TABLE link_stats DISABLE TRIGGER stats_link;
INSERT INTO recipient_stats (message, recipient, opens_human, opens_machine, opens_unknown,
    clicks_human, clicks_machine, clicks_unknown, docs_human, docs_machine, docs_unknown,
    first_human_open_us, first_human_click_us)
SELECT message, recipient,
    count(*) FILTER (WHERE kind = 'open' AND homing_verdict_class(verdict) = 'human'),
    count(*) FILTER (WHERE kind = 'open' AND homing_verdict_class(verdict) = 'machine'),
    count(*) FILTER (WHERE kind = 'open' AND homing_verdict_class(verdict) = 'unknown'),
    count(*) FILTER (WHERE kind = 'click' AND homing_verdict_class(verdict) = 'human'),
    count(*) FILTER (WHERE kind = 'click' AND homing_verdict_class(verdict) = 'machine'),
    count(*) FILTER (WHERE kind = 'click' AND homing_verdict_class(verdict) = 'unknown'),
    count(*) FILTER (WHERE kind = 'document-open' AND homing_verdict_class(verdict) = 'human'),
    count(*) FILTER (WHERE kind = 'document-open' AND homing_verdict_class(verdict) = 'machine'),
    count(*) FILTER (WHERE kind = 'document-open' AND homing_verdict_class(verdict) = 'unknown'),
    min(time_us) FILTER (WHERE kind = 'open' AND homing_verdict_class(verdict) = 'human'),
    min(time_us) FILTER (WHERE kind = 'click' AND homing_verdict_class(verdict) = 'human')
FROM enrichments GROUP BY message, recipient;
INSERT INTO link_stats (message, link, recipient, human, machine, unknown)
SELECT message, item, recipient,
    count(*) FILTER (WHERE homing_verdict_class(verdict) = 'human'),
    count(*) FILTER (WHERE homing_verdict_class(verdict) = 'machine'),
    count(*) FILTER (WHERE homing_verdict_class(verdict) = 'unknown')
FROM enrichments WHERE kind = 'click' GROUP BY message, item, recipient;
ALTER TABLE recipient_stats ENABLE TRIGGER stats_recipient;
ALTER TABLE link_stats ENABLE TRIGGER stats_link;
INSERT INTO hourly_stats (message, hour, kind, class, count)
SELECT message, time_us / 3600000000, kind, homing_verdict_class(verdict), count(*)
FROM enrichments GROUP BY 1, 2, 3, 4;
INSERT INTO hourly_stats (message, hour, kind, class, count)
SELECT message, time_us / 3600000000, kind, '', count(*) FROM events
WHERE kind IN ('sent', 'rejected', 'delivered', 'delayed', 'bounced', 'read', 'complaint',
               'autoreply')
GROUP BY 1, 2, 3;
INSERT INTO recipient_bounces (message, recipient, reason, hard, time_us)
SELECT DISTINCT ON (message, recipient) message, recipient,
    CASE WHEN jsonb_typeof(d) = 'object' AND jsonb_typeof(d -> 'reason') = 'string'
         THEN d ->> 'reason' ELSE '' END,
    CASE WHEN jsonb_typeof(d) = 'object' AND (d -> 'hard') IN ('true'::jsonb, '1'::jsonb)
         THEN 1 ELSE 0 END,
    time_us
FROM (SELECT message, recipient, time_us, id, detail::jsonb AS d FROM events
      WHERE kind = 'bounced' AND recipient > 0) b
ORDER BY message, recipient, time_us DESC, id DESC;
INSERT INTO message_stats (message, opens_human, opens_machine, opens_unknown, clicks_human,
    clicks_machine, clicks_unknown, docs_human, docs_machine, docs_unknown, openers_human,
    openers_machine, openers_unknown, openers_all, clickers_human, clickers_machine,
    clickers_unknown, clickers_all)
SELECT message, sum(opens_human), sum(opens_machine), sum(opens_unknown), sum(clicks_human),
    sum(clicks_machine), sum(clicks_unknown), sum(docs_human), sum(docs_machine),
    sum(docs_unknown), count(*) FILTER (WHERE opens_human > 0),
    count(*) FILTER (WHERE opens_machine > 0), count(*) FILTER (WHERE opens_unknown > 0),
    count(*) FILTER (WHERE opens_human + opens_machine + opens_unknown > 0),
    count(*) FILTER (WHERE clicks_human > 0), count(*) FILTER (WHERE clicks_machine > 0),
    count(*) FILTER (WHERE clicks_unknown > 0),
    count(*) FILTER (WHERE clicks_human + clicks_machine + clicks_unknown > 0)
FROM recipient_stats GROUP BY message;
INSERT INTO link_totals (message, link, human, machine, unknown, clickers_human,
    clickers_machine, clickers_unknown, clickers_all)
SELECT message, link, sum(human), sum(machine), sum(unknown), count(*) FILTER (WHERE human > 0),
    count(*) FILTER (WHERE machine > 0), count(*) FILTER (WHERE unknown > 0),
    count(*) FILTER (WHERE human + machine + unknown > 0)
FROM link_stats GROUP BY message, link;
INSERT INTO message_states (message, state, count)
SELECT message, state, count(*) FROM recipients GROUP BY message, state;
