-- 0006_privacy: tracking modes, daily rollups kept past retention, and the only
-- mutations the append-only event log admits (docs/privacy.md). Applied in one
-- transaction by lib/store/sqlite.c; never edit a migration that has shipped:
-- add the next number instead.

-- Tracking mode of a message, and per recipient (NULL: the message's mode).
-- off: nothing tracked; delivery: delivery reports only; anonymous: counts
-- without the recipient; individual: everything.
ALTER TABLE messages ADD COLUMN tracking TEXT NOT NULL DEFAULT 'individual'
    CHECK (tracking IN ('off', 'delivery', 'anonymous', 'individual'));
ALTER TABLE recipients ADD COLUMN tracking TEXT
    CHECK (tracking IS NULL OR tracking IN ('off', 'delivery', 'anonymous', 'individual'));

-- What retention keeps of the events it deletes: counts per message, UTC day,
-- kind, method and verdict ('' when none). No recipient, no client: a rollup
-- says how many, never who.
CREATE TABLE event_rollups (
    message INTEGER NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    method TEXT NOT NULL DEFAULT '',
    verdict TEXT NOT NULL DEFAULT '',
    count INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (message, day, kind, method, verdict)
) WITHOUT ROWID;

-- The permission for one privacy operation, written by lib/store/sqlite.c
-- inside the operation's own write transaction and removed before it commits,
-- so no other connection ever sees it. At most one row.
--   truncate:  UPDATE of events changing only client, to a text no longer
--              than before (the truncated address)
--   retention: DELETE of events older than cutoff_us
--   forget:    DELETE of events of (message, recipient), or naming address
CREATE TABLE privacy_guard (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    op TEXT NOT NULL CHECK (op IN ('truncate', 'retention', 'forget')),
    cutoff_us INTEGER NOT NULL DEFAULT 0,
    message INTEGER NOT NULL DEFAULT 0,
    recipient INTEGER NOT NULL DEFAULT 0,
    address TEXT
);

-- Everything else stays refused: the record of what happened is not rewritten.
DROP TRIGGER events_no_update;
DROP TRIGGER events_no_delete;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
WHEN NOT EXISTS (SELECT 1 FROM privacy_guard WHERE op = 'truncate')
    OR NEW.id IS NOT OLD.id OR NEW.time_us IS NOT OLD.time_us OR NEW.kind IS NOT OLD.kind
    OR NEW.method IS NOT OLD.method OR NEW.message IS NOT OLD.message
    OR NEW.recipient IS NOT OLD.recipient OR NEW.item IS NOT OLD.item
    OR NEW.user_agent IS NOT OLD.user_agent OR NEW.accept_language IS NOT OLD.accept_language
    OR NEW.via IS NOT OLD.via OR NEW.from_hdr IS NOT OLD.from_hdr
    OR NEW.detail IS NOT OLD.detail
    OR OLD.client IS NULL OR NEW.client IS NULL OR length(NEW.client) > length(OLD.client)
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN NOT EXISTS (SELECT 1 FROM privacy_guard g WHERE
    (g.op = 'retention' AND OLD.time_us < g.cutoff_us)
    OR (g.op = 'forget' AND ((OLD.message = g.message AND OLD.recipient = g.recipient)
        OR (g.address IS NOT NULL AND (
            instr(lower(coalesce(OLD.detail, '')), g.address) > 0
            OR instr(lower(coalesce(OLD.from_hdr, '')), g.address) > 0)))))
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
