-- 0018_seal: encryption at rest (docs/privacy.md#encryption-at-rest). Rows
-- written before a store was sealed are sealed in place when it is first
-- opened with its data key (lib/store/store_seal_legacy.c); for events that
-- is an UPDATE, which the append-only triggers of 0006 refuse. This adds a
-- fourth guarded operation, 'seal', and nothing else: under it an UPDATE of
-- events may change only client, from_hdr and detail, each only from a value
-- in clear to a sealed one (a whole client starting with "~s1:"; a text that
-- had no sealed value and now has one), so a sealed value is never changed
-- again and every other column stays as it was. Truncation of a sealed
-- client keeps 0006's rule: the cut address seals to the same length.
-- Applied in one transaction by lib/store/sqlite_open.c; never edit a
-- migration that has shipped: add the next number instead. (A NULL in a rule
-- counts as refused: coalesce(..., 0).)

-- privacy_guard is empty outside a privacy operation's transaction: it is
-- made again with the new CHECK.
DROP TRIGGER events_no_update;
DROP TRIGGER events_no_delete;
DROP TABLE privacy_guard;
CREATE TABLE privacy_guard (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    op TEXT NOT NULL CHECK (op IN ('truncate', 'retention', 'forget', 'seal')),
    cutoff_us INTEGER NOT NULL DEFAULT 0,
    message INTEGER NOT NULL DEFAULT 0,
    recipient INTEGER NOT NULL DEFAULT 0,
    address TEXT
);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
WHEN NEW.id IS NOT OLD.id OR NEW.time_us IS NOT OLD.time_us OR NEW.kind IS NOT OLD.kind
    OR NEW.method IS NOT OLD.method OR NEW.message IS NOT OLD.message
    OR NEW.recipient IS NOT OLD.recipient OR NEW.item IS NOT OLD.item
    OR NEW.user_agent IS NOT OLD.user_agent OR NEW.accept_language IS NOT OLD.accept_language
    OR NEW.via IS NOT OLD.via
    OR NOT (
        coalesce(EXISTS (SELECT 1 FROM privacy_guard WHERE op = 'truncate')
            AND NEW.from_hdr IS OLD.from_hdr AND NEW.detail IS OLD.detail
            AND OLD.client IS NOT NULL AND NEW.client IS NOT NULL
            AND length(NEW.client) <= length(OLD.client), 0)
        OR coalesce(EXISTS (SELECT 1 FROM privacy_guard WHERE op = 'seal')
            AND (NEW.client IS OLD.client
                 OR (substr(OLD.client, 1, 4) <> '~s1:' AND substr(NEW.client, 1, 4) = '~s1:'))
            AND (NEW.from_hdr IS OLD.from_hdr
                 OR (instr(OLD.from_hdr, '~s1:') = 0 AND instr(NEW.from_hdr, '~s1:') > 0))
            AND (NEW.detail IS OLD.detail
                 OR (instr(OLD.detail, '~s1:') = 0 AND instr(NEW.detail, '~s1:') > 0)), 0))
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
