-- 0012_campaign_stats: campaigns, and the counters the dashboard and
-- `homing stats` read (docs/reports.md, "Campaigns and rates"). Applied in one
-- transaction by lib/store/sqlite.c; never edit a migration that has shipped:
-- add the next number instead.
--
-- The counters are kept by triggers on the tables the daemon writes (the
-- enrichment thread's enrichments, the ingester's events, the recipients'
-- states), so a campaign of 100,000 recipients is answered from a few rows
-- per recipient at most, never by reading its events. Retention deletes
-- events and enrichments but not these: a figure does not drop when the
-- detail behind it ages out. `forget` deletes a recipient's rows here too.

-- A campaign is a name several messages share; NULL: none (every message
-- registered before this migration).
ALTER TABLE messages ADD COLUMN campaign TEXT
    CHECK (campaign IS NULL OR (length(campaign) BETWEEN 1 AND 200));
CREATE INDEX messages_campaign ON messages (campaign, created_us) WHERE campaign IS NOT NULL;

-- The class of a verdict, as reports count it (docs/reports.md): human
-- (human, proxy-open), machine (prefetch, scanner, probe), unknown.
-- Written out in each trigger below (SQLite has no functions in SQL).

-- Per recipient of a message: hits by kind and class, and the first human
-- open and click. recipient 0 is a per-message copy.
CREATE TABLE recipient_stats (
    message INTEGER NOT NULL,
    recipient INTEGER NOT NULL,
    opens_human INTEGER NOT NULL DEFAULT 0,
    opens_machine INTEGER NOT NULL DEFAULT 0,
    opens_unknown INTEGER NOT NULL DEFAULT 0,
    clicks_human INTEGER NOT NULL DEFAULT 0,
    clicks_machine INTEGER NOT NULL DEFAULT 0,
    clicks_unknown INTEGER NOT NULL DEFAULT 0,
    docs_human INTEGER NOT NULL DEFAULT 0,
    docs_machine INTEGER NOT NULL DEFAULT 0,
    docs_unknown INTEGER NOT NULL DEFAULT 0,
    first_human_open_us INTEGER,
    first_human_click_us INTEGER,
    PRIMARY KEY (message, recipient)
) WITHOUT ROWID;

-- Per link and recipient: clicks by class (unique clickers per link are the
-- rows with a count above zero).
CREATE TABLE link_stats (
    message INTEGER NOT NULL,
    link INTEGER NOT NULL,
    recipient INTEGER NOT NULL,
    human INTEGER NOT NULL DEFAULT 0,
    machine INTEGER NOT NULL DEFAULT 0,
    unknown INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message, link, recipient)
) WITHOUT ROWID;

-- Hits per message, UTC hour (unix time / 3600), kind and class ('' for the
-- delivery kinds, which have no verdict): the time series.
CREATE TABLE hourly_stats (
    message INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    kind TEXT NOT NULL,
    class TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message, hour, kind, class)
) WITHOUT ROWID;

-- The latest bounce of each bounced recipient, with its reason and whether
-- it was hard (from the report's detail).
CREATE TABLE recipient_bounces (
    message INTEGER NOT NULL,
    recipient INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    hard INTEGER NOT NULL DEFAULT 0,
    time_us INTEGER NOT NULL,
    PRIMARY KEY (message, recipient)
) WITHOUT ROWID;

CREATE TRIGGER stats_enrichment_insert AFTER INSERT ON enrichments
BEGIN
    INSERT INTO recipient_stats (message, recipient) VALUES (NEW.message, NEW.recipient)
        ON CONFLICT DO NOTHING;
    UPDATE recipient_stats SET
        opens_human = opens_human + (NEW.kind = 'open' AND NEW.verdict IN ('human', 'proxy-open')),
        opens_machine = opens_machine + (NEW.kind = 'open' AND NEW.verdict IN ('prefetch', 'scanner', 'probe')),
        opens_unknown = opens_unknown + (NEW.kind = 'open' AND NEW.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')),
        clicks_human = clicks_human + (NEW.kind = 'click' AND NEW.verdict IN ('human', 'proxy-open')),
        clicks_machine = clicks_machine + (NEW.kind = 'click' AND NEW.verdict IN ('prefetch', 'scanner', 'probe')),
        clicks_unknown = clicks_unknown + (NEW.kind = 'click' AND NEW.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')),
        docs_human = docs_human + (NEW.kind = 'document-open' AND NEW.verdict IN ('human', 'proxy-open')),
        docs_machine = docs_machine + (NEW.kind = 'document-open' AND NEW.verdict IN ('prefetch', 'scanner', 'probe')),
        docs_unknown = docs_unknown + (NEW.kind = 'document-open' AND NEW.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')),
        first_human_open_us = CASE WHEN NEW.kind = 'open' AND NEW.verdict IN ('human', 'proxy-open')
            THEN min(coalesce(first_human_open_us, NEW.time_us), NEW.time_us) ELSE first_human_open_us END,
        first_human_click_us = CASE WHEN NEW.kind = 'click' AND NEW.verdict IN ('human', 'proxy-open')
            THEN min(coalesce(first_human_click_us, NEW.time_us), NEW.time_us) ELSE first_human_click_us END
    WHERE message = NEW.message AND recipient = NEW.recipient;
    INSERT INTO link_stats (message, link, recipient, human, machine, unknown)
        SELECT NEW.message, NEW.item, NEW.recipient,
            NEW.verdict IN ('human', 'proxy-open'), NEW.verdict IN ('prefetch', 'scanner', 'probe'),
            NEW.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')
        WHERE NEW.kind = 'click'
        ON CONFLICT (message, link, recipient) DO UPDATE SET
            human = human + excluded.human, machine = machine + excluded.machine,
            unknown = unknown + excluded.unknown;
    INSERT INTO hourly_stats (message, hour, kind, class, count)
        VALUES (NEW.message, NEW.time_us / 3600000000, NEW.kind,
            CASE WHEN NEW.verdict IN ('human', 'proxy-open') THEN 'human'
                 WHEN NEW.verdict IN ('prefetch', 'scanner', 'probe') THEN 'machine'
                 ELSE 'unknown' END, 1)
        ON CONFLICT (message, hour, kind, class) DO UPDATE SET count = count + 1;
END;

-- homing reclassify rewrites verdicts: a hit moves from its old class to its
-- new one. The first human open or click is not moved back (it stays the
-- earliest hit once judged human; reports read the enrichments for detail).
CREATE TRIGGER stats_enrichment_reclass AFTER UPDATE OF verdict ON enrichments
WHEN (CASE WHEN OLD.verdict IN ('human', 'proxy-open') THEN 'human'
           WHEN OLD.verdict IN ('prefetch', 'scanner', 'probe') THEN 'machine' ELSE 'unknown' END)
  IS NOT (CASE WHEN NEW.verdict IN ('human', 'proxy-open') THEN 'human'
           WHEN NEW.verdict IN ('prefetch', 'scanner', 'probe') THEN 'machine' ELSE 'unknown' END)
BEGIN
    UPDATE recipient_stats SET
        opens_human = opens_human + (NEW.kind = 'open') * ((NEW.verdict IN ('human', 'proxy-open')) - (OLD.verdict IN ('human', 'proxy-open'))),
        opens_machine = opens_machine + (NEW.kind = 'open') * ((NEW.verdict IN ('prefetch', 'scanner', 'probe')) - (OLD.verdict IN ('prefetch', 'scanner', 'probe'))),
        opens_unknown = opens_unknown + (NEW.kind = 'open') * ((NEW.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')) - (OLD.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe'))),
        clicks_human = clicks_human + (NEW.kind = 'click') * ((NEW.verdict IN ('human', 'proxy-open')) - (OLD.verdict IN ('human', 'proxy-open'))),
        clicks_machine = clicks_machine + (NEW.kind = 'click') * ((NEW.verdict IN ('prefetch', 'scanner', 'probe')) - (OLD.verdict IN ('prefetch', 'scanner', 'probe'))),
        clicks_unknown = clicks_unknown + (NEW.kind = 'click') * ((NEW.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')) - (OLD.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe'))),
        docs_human = docs_human + (NEW.kind = 'document-open') * ((NEW.verdict IN ('human', 'proxy-open')) - (OLD.verdict IN ('human', 'proxy-open'))),
        docs_machine = docs_machine + (NEW.kind = 'document-open') * ((NEW.verdict IN ('prefetch', 'scanner', 'probe')) - (OLD.verdict IN ('prefetch', 'scanner', 'probe'))),
        docs_unknown = docs_unknown + (NEW.kind = 'document-open') * ((NEW.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')) - (OLD.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe'))),
        first_human_open_us = CASE WHEN NEW.kind = 'open' AND NEW.verdict IN ('human', 'proxy-open')
            THEN min(coalesce(first_human_open_us, NEW.time_us), NEW.time_us) ELSE first_human_open_us END,
        first_human_click_us = CASE WHEN NEW.kind = 'click' AND NEW.verdict IN ('human', 'proxy-open')
            THEN min(coalesce(first_human_click_us, NEW.time_us), NEW.time_us) ELSE first_human_click_us END
    WHERE message = NEW.message AND recipient = NEW.recipient;
    UPDATE link_stats SET
        human = human + (NEW.verdict IN ('human', 'proxy-open')) - (OLD.verdict IN ('human', 'proxy-open')),
        machine = machine + (NEW.verdict IN ('prefetch', 'scanner', 'probe')) - (OLD.verdict IN ('prefetch', 'scanner', 'probe')),
        unknown = unknown + (NEW.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')) - (OLD.verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe'))
    WHERE NEW.kind = 'click' AND message = NEW.message AND link = NEW.item AND recipient = NEW.recipient;
    UPDATE hourly_stats SET count = count - 1
    WHERE message = OLD.message AND hour = OLD.time_us / 3600000000 AND kind = OLD.kind
      AND class = CASE WHEN OLD.verdict IN ('human', 'proxy-open') THEN 'human'
                       WHEN OLD.verdict IN ('prefetch', 'scanner', 'probe') THEN 'machine'
                       ELSE 'unknown' END;
    INSERT INTO hourly_stats (message, hour, kind, class, count)
        VALUES (NEW.message, NEW.time_us / 3600000000, NEW.kind,
            CASE WHEN NEW.verdict IN ('human', 'proxy-open') THEN 'human'
                 WHEN NEW.verdict IN ('prefetch', 'scanner', 'probe') THEN 'machine'
                 ELSE 'unknown' END, 1)
        ON CONFLICT (message, hour, kind, class) DO UPDATE SET count = count + 1;
END;

-- Delivery events count in the series; a bounce also records its reason.
CREATE TRIGGER stats_event_delivery AFTER INSERT ON events
WHEN NEW.kind IN ('sent', 'rejected', 'delivered', 'delayed', 'bounced', 'read', 'complaint', 'autoreply')
BEGIN
    INSERT INTO hourly_stats (message, hour, kind, class, count)
        VALUES (NEW.message, NEW.time_us / 3600000000, NEW.kind, '', 1)
        ON CONFLICT (message, hour, kind, class) DO UPDATE SET count = count + 1;
    INSERT INTO recipient_bounces (message, recipient, reason, hard, time_us)
        SELECT NEW.message, NEW.recipient,
            coalesce(CASE WHEN json_valid(NEW.detail) AND json_type(NEW.detail, '$.reason') = 'text'
                          THEN json_extract(NEW.detail, '$.reason') END, ''),
            coalesce(CASE WHEN json_valid(NEW.detail) THEN json_extract(NEW.detail, '$.hard') END, 0) = 1,
            NEW.time_us
        WHERE NEW.kind = 'bounced' AND NEW.recipient > 0
        ON CONFLICT (message, recipient) DO UPDATE SET reason = excluded.reason,
            hard = excluded.hard, time_us = excluded.time_us
        WHERE excluded.time_us >= recipient_bounces.time_us;
END;

-- What was enriched before this migration counts too.
INSERT INTO recipient_stats (message, recipient, opens_human, opens_machine, opens_unknown,
    clicks_human, clicks_machine, clicks_unknown, docs_human, docs_machine, docs_unknown,
    first_human_open_us, first_human_click_us)
SELECT message, recipient,
    sum(kind = 'open' AND verdict IN ('human', 'proxy-open')),
    sum(kind = 'open' AND verdict IN ('prefetch', 'scanner', 'probe')),
    sum(kind = 'open' AND verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')),
    sum(kind = 'click' AND verdict IN ('human', 'proxy-open')),
    sum(kind = 'click' AND verdict IN ('prefetch', 'scanner', 'probe')),
    sum(kind = 'click' AND verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')),
    sum(kind = 'document-open' AND verdict IN ('human', 'proxy-open')),
    sum(kind = 'document-open' AND verdict IN ('prefetch', 'scanner', 'probe')),
    sum(kind = 'document-open' AND verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')),
    min(CASE WHEN kind = 'open' AND verdict IN ('human', 'proxy-open') THEN time_us END),
    min(CASE WHEN kind = 'click' AND verdict IN ('human', 'proxy-open') THEN time_us END)
FROM enrichments GROUP BY message, recipient;
INSERT INTO link_stats (message, link, recipient, human, machine, unknown)
SELECT message, item, recipient, sum(verdict IN ('human', 'proxy-open')),
    sum(verdict IN ('prefetch', 'scanner', 'probe')),
    sum(verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe'))
FROM enrichments WHERE kind = 'click' GROUP BY message, item, recipient;
INSERT INTO hourly_stats (message, hour, kind, class, count)
SELECT message, time_us / 3600000000, kind,
    CASE WHEN verdict IN ('human', 'proxy-open') THEN 'human'
         WHEN verdict IN ('prefetch', 'scanner', 'probe') THEN 'machine' ELSE 'unknown' END,
    count(*)
FROM enrichments GROUP BY 1, 2, 3, 4;
INSERT INTO hourly_stats (message, hour, kind, class, count)
SELECT message, time_us / 3600000000, kind, '', count(*) FROM events
WHERE kind IN ('sent', 'rejected', 'delivered', 'delayed', 'bounced', 'read', 'complaint', 'autoreply')
GROUP BY 1, 2, 3;
INSERT INTO recipient_bounces (message, recipient, reason, hard, time_us)
SELECT message, recipient,
    coalesce(CASE WHEN json_valid(detail) AND json_type(detail, '$.reason') = 'text'
                  THEN json_extract(detail, '$.reason') END, ''),
    coalesce(CASE WHEN json_valid(detail) THEN json_extract(detail, '$.hard') END, 0) = 1,
    max(time_us)
FROM events WHERE kind = 'bounced' AND recipient > 0 GROUP BY message, recipient;
