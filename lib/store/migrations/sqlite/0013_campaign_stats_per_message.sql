-- 0013_campaign_stats_per_message: per-message sums of 0012's per-recipient
-- counters, kept by triggers, so that a campaign's figures add one row per
-- message instead of one per recipient (bench/dashboard: 263 ms for 100,000
-- recipients summed per recipient, 37 ms from these). Applied in one
-- transaction by lib/store/sqlite.c; never edit a migration that has shipped:
-- add the next number instead.

-- Per message: the sums of recipient_stats, unique recipients included, and
-- recipients per state.
CREATE TABLE message_stats (
    message INTEGER PRIMARY KEY,
    opens_human INTEGER NOT NULL DEFAULT 0,
    opens_machine INTEGER NOT NULL DEFAULT 0,
    opens_unknown INTEGER NOT NULL DEFAULT 0,
    clicks_human INTEGER NOT NULL DEFAULT 0,
    clicks_machine INTEGER NOT NULL DEFAULT 0,
    clicks_unknown INTEGER NOT NULL DEFAULT 0,
    docs_human INTEGER NOT NULL DEFAULT 0,
    docs_machine INTEGER NOT NULL DEFAULT 0,
    docs_unknown INTEGER NOT NULL DEFAULT 0,
    openers_human INTEGER NOT NULL DEFAULT 0,
    openers_machine INTEGER NOT NULL DEFAULT 0,
    openers_unknown INTEGER NOT NULL DEFAULT 0,
    openers_all INTEGER NOT NULL DEFAULT 0,
    clickers_human INTEGER NOT NULL DEFAULT 0,
    clickers_machine INTEGER NOT NULL DEFAULT 0,
    clickers_unknown INTEGER NOT NULL DEFAULT 0,
    clickers_all INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE message_states (
    message INTEGER NOT NULL,
    state TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message, state)
) WITHOUT ROWID;

-- Per link: clicks and unique clickers, the sums of link_stats.
CREATE TABLE link_totals (
    message INTEGER NOT NULL,
    link INTEGER NOT NULL,
    human INTEGER NOT NULL DEFAULT 0,
    machine INTEGER NOT NULL DEFAULT 0,
    unknown INTEGER NOT NULL DEFAULT 0,
    clickers_human INTEGER NOT NULL DEFAULT 0,
    clickers_machine INTEGER NOT NULL DEFAULT 0,
    clickers_unknown INTEGER NOT NULL DEFAULT 0,
    clickers_all INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message, link)
) WITHOUT ROWID;

CREATE TRIGGER stats_recipient_insert AFTER INSERT ON recipient_stats
BEGIN
    INSERT INTO message_stats (message) VALUES (NEW.message) ON CONFLICT DO NOTHING;
    UPDATE message_stats SET
        opens_human = opens_human + NEW.opens_human,
        opens_machine = opens_machine + NEW.opens_machine,
        opens_unknown = opens_unknown + NEW.opens_unknown,
        clicks_human = clicks_human + NEW.clicks_human,
        clicks_machine = clicks_machine + NEW.clicks_machine,
        clicks_unknown = clicks_unknown + NEW.clicks_unknown,
        docs_human = docs_human + NEW.docs_human,
        docs_machine = docs_machine + NEW.docs_machine,
        docs_unknown = docs_unknown + NEW.docs_unknown,
        openers_human = openers_human + (NEW.opens_human > 0),
        openers_machine = openers_machine + (NEW.opens_machine > 0),
        openers_unknown = openers_unknown + (NEW.opens_unknown > 0),
        openers_all = openers_all + (NEW.opens_human + NEW.opens_machine + NEW.opens_unknown > 0),
        clickers_human = clickers_human + (NEW.clicks_human > 0),
        clickers_machine = clickers_machine + (NEW.clicks_machine > 0),
        clickers_unknown = clickers_unknown + (NEW.clicks_unknown > 0),
        clickers_all = clickers_all + (NEW.clicks_human + NEW.clicks_machine + NEW.clicks_unknown > 0)
    WHERE message = NEW.message;
END;

CREATE TRIGGER stats_recipient_update AFTER UPDATE ON recipient_stats
BEGIN
    UPDATE message_stats SET
        opens_human = opens_human + NEW.opens_human - OLD.opens_human,
        opens_machine = opens_machine + NEW.opens_machine - OLD.opens_machine,
        opens_unknown = opens_unknown + NEW.opens_unknown - OLD.opens_unknown,
        clicks_human = clicks_human + NEW.clicks_human - OLD.clicks_human,
        clicks_machine = clicks_machine + NEW.clicks_machine - OLD.clicks_machine,
        clicks_unknown = clicks_unknown + NEW.clicks_unknown - OLD.clicks_unknown,
        docs_human = docs_human + NEW.docs_human - OLD.docs_human,
        docs_machine = docs_machine + NEW.docs_machine - OLD.docs_machine,
        docs_unknown = docs_unknown + NEW.docs_unknown - OLD.docs_unknown,
        openers_human = openers_human + (NEW.opens_human > 0) - (OLD.opens_human > 0),
        openers_machine = openers_machine + (NEW.opens_machine > 0) - (OLD.opens_machine > 0),
        openers_unknown = openers_unknown + (NEW.opens_unknown > 0) - (OLD.opens_unknown > 0),
        openers_all = openers_all + (NEW.opens_human + NEW.opens_machine + NEW.opens_unknown > 0)
            - (OLD.opens_human + OLD.opens_machine + OLD.opens_unknown > 0),
        clickers_human = clickers_human + (NEW.clicks_human > 0) - (OLD.clicks_human > 0),
        clickers_machine = clickers_machine + (NEW.clicks_machine > 0) - (OLD.clicks_machine > 0),
        clickers_unknown = clickers_unknown + (NEW.clicks_unknown > 0) - (OLD.clicks_unknown > 0),
        clickers_all = clickers_all + (NEW.clicks_human + NEW.clicks_machine + NEW.clicks_unknown > 0)
            - (OLD.clicks_human + OLD.clicks_machine + OLD.clicks_unknown > 0)
    WHERE message = NEW.message;
END;

-- homing forget deletes a recipient's row: its share goes with it.
CREATE TRIGGER stats_recipient_delete AFTER DELETE ON recipient_stats
BEGIN
    UPDATE message_stats SET
        opens_human = opens_human - OLD.opens_human,
        opens_machine = opens_machine - OLD.opens_machine,
        opens_unknown = opens_unknown - OLD.opens_unknown,
        clicks_human = clicks_human - OLD.clicks_human,
        clicks_machine = clicks_machine - OLD.clicks_machine,
        clicks_unknown = clicks_unknown - OLD.clicks_unknown,
        docs_human = docs_human - OLD.docs_human,
        docs_machine = docs_machine - OLD.docs_machine,
        docs_unknown = docs_unknown - OLD.docs_unknown,
        openers_human = openers_human - (OLD.opens_human > 0),
        openers_machine = openers_machine - (OLD.opens_machine > 0),
        openers_unknown = openers_unknown - (OLD.opens_unknown > 0),
        openers_all = openers_all - (OLD.opens_human + OLD.opens_machine + OLD.opens_unknown > 0),
        clickers_human = clickers_human - (OLD.clicks_human > 0),
        clickers_machine = clickers_machine - (OLD.clicks_machine > 0),
        clickers_unknown = clickers_unknown - (OLD.clicks_unknown > 0),
        clickers_all = clickers_all - (OLD.clicks_human + OLD.clicks_machine + OLD.clicks_unknown > 0)
    WHERE message = OLD.message;
END;

CREATE TRIGGER stats_link_insert AFTER INSERT ON link_stats
BEGIN
    INSERT INTO link_totals (message, link) VALUES (NEW.message, NEW.link) ON CONFLICT DO NOTHING;
    UPDATE link_totals SET human = human + NEW.human, machine = machine + NEW.machine,
        unknown = unknown + NEW.unknown, clickers_human = clickers_human + (NEW.human > 0),
        clickers_machine = clickers_machine + (NEW.machine > 0),
        clickers_unknown = clickers_unknown + (NEW.unknown > 0),
        clickers_all = clickers_all + (NEW.human + NEW.machine + NEW.unknown > 0)
    WHERE message = NEW.message AND link = NEW.link;
END;

CREATE TRIGGER stats_link_update AFTER UPDATE ON link_stats
BEGIN
    UPDATE link_totals SET human = human + NEW.human - OLD.human,
        machine = machine + NEW.machine - OLD.machine,
        unknown = unknown + NEW.unknown - OLD.unknown,
        clickers_human = clickers_human + (NEW.human > 0) - (OLD.human > 0),
        clickers_machine = clickers_machine + (NEW.machine > 0) - (OLD.machine > 0),
        clickers_unknown = clickers_unknown + (NEW.unknown > 0) - (OLD.unknown > 0),
        clickers_all = clickers_all + (NEW.human + NEW.machine + NEW.unknown > 0)
            - (OLD.human + OLD.machine + OLD.unknown > 0)
    WHERE message = NEW.message AND link = NEW.link;
END;

CREATE TRIGGER stats_link_delete AFTER DELETE ON link_stats
BEGIN
    UPDATE link_totals SET human = human - OLD.human, machine = machine - OLD.machine,
        unknown = unknown - OLD.unknown, clickers_human = clickers_human - (OLD.human > 0),
        clickers_machine = clickers_machine - (OLD.machine > 0),
        clickers_unknown = clickers_unknown - (OLD.unknown > 0),
        clickers_all = clickers_all - (OLD.human + OLD.machine + OLD.unknown > 0)
    WHERE message = OLD.message AND link = OLD.link;
END;

CREATE TRIGGER stats_state_insert AFTER INSERT ON recipients
BEGIN
    INSERT INTO message_states (message, state, count) VALUES (NEW.message, NEW.state, 1)
        ON CONFLICT (message, state) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER stats_state_update AFTER UPDATE OF state ON recipients
WHEN NEW.state IS NOT OLD.state
BEGIN
    UPDATE message_states SET count = count - 1 WHERE message = OLD.message AND state = OLD.state;
    INSERT INTO message_states (message, state, count) VALUES (NEW.message, NEW.state, 1)
        ON CONFLICT (message, state) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER stats_state_delete AFTER DELETE ON recipients
BEGIN
    UPDATE message_states SET count = count - 1 WHERE message = OLD.message AND state = OLD.state;
END;

-- What 0012 counted before these tables existed.
INSERT INTO message_stats (message, opens_human, opens_machine, opens_unknown, clicks_human,
    clicks_machine, clicks_unknown, docs_human, docs_machine, docs_unknown, openers_human,
    openers_machine, openers_unknown, openers_all, clickers_human, clickers_machine,
    clickers_unknown, clickers_all)
SELECT message, sum(opens_human), sum(opens_machine), sum(opens_unknown), sum(clicks_human),
    sum(clicks_machine), sum(clicks_unknown), sum(docs_human), sum(docs_machine),
    sum(docs_unknown), sum(opens_human > 0), sum(opens_machine > 0), sum(opens_unknown > 0),
    sum(opens_human + opens_machine + opens_unknown > 0), sum(clicks_human > 0),
    sum(clicks_machine > 0), sum(clicks_unknown > 0),
    sum(clicks_human + clicks_machine + clicks_unknown > 0)
FROM recipient_stats GROUP BY message;
INSERT INTO link_totals (message, link, human, machine, unknown, clickers_human,
    clickers_machine, clickers_unknown, clickers_all)
SELECT message, link, sum(human), sum(machine), sum(unknown), sum(human > 0), sum(machine > 0),
    sum(unknown > 0), sum(human + machine + unknown > 0)
FROM link_stats GROUP BY message, link;
INSERT INTO message_states (message, state, count)
SELECT message, state, count(*) FROM recipients GROUP BY message, state;
