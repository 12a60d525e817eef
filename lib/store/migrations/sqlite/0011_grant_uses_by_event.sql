-- 0011_grant_uses_by_event: a document download is counted against its grant
-- when its event is stored, not by the loop thread that answers it. Before,
-- the public loop thread ran a write transaction per download (BEGIN
-- IMMEDIATE, up to the 5 s busy wait while another writer held the lock). Now
-- the loop thread only reads the grant (homing_store_grant_check) and the
-- daemon counts downloads answered but not yet stored in memory
-- (src/serve/document.c); the journal's ingester stores the `document-open`
-- event of a GET and this trigger counts the use in the same transaction, so a
-- crash can neither lose a use that was answered nor count one twice (the
-- journal replays each event once). A HEAD never uses a download up.
-- Applied in one transaction by lib/store/sqlite.c; never edit a migration
-- that has shipped: add the next number instead.
CREATE TRIGGER events_grant_use AFTER INSERT ON events
WHEN NEW.kind = 'document-open' AND NEW.method = 'GET'
BEGIN
    UPDATE grants SET uses = uses + 1
    WHERE id = NEW.item AND message = NEW.message AND recipient = NEW.recipient;
END;
