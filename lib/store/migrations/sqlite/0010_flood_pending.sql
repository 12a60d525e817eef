-- 0010_flood_pending: flood control's counts on their way to a `suppressed`
-- event. A hit over its client's rate is answered but not recorded as an
-- event; it is journaled as a count, and the journal's ingester adds the
-- counts of each batch here in the same transaction as the events and its
-- cursor, so a count survives a crash exactly as an answered hit does. When
-- the flood has been quiet (or at the next start, whose buckets are new) the
-- row becomes one `suppressed` event {"dropped": N, "of": kind} and is
-- deleted, in one transaction (homing_store_floods_close). Rows live seconds.
-- Applied in one transaction by lib/store/sqlite.c; never edit a migration
-- that has shipped: add the next number instead.
CREATE TABLE flood_pending (
    client TEXT NOT NULL,
    message INTEGER NOT NULL,
    recipient INTEGER NOT NULL,
    item INTEGER NOT NULL,
    kind TEXT NOT NULL,            -- of the suppressed hits: open, click, document-open
    dropped INTEGER NOT NULL CHECK (dropped > 0),
    first_us INTEGER NOT NULL,     -- first and last suppressed hit counted
    last_us INTEGER NOT NULL,
    PRIMARY KEY (client, message, recipient, item, kind)
);
