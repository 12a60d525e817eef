-- 0007_documents (PostgreSQL): tracked documents and their grants (SQLite's
-- 0005, 0009 and 0011): the document row (its keyed digest, or a plain one
-- marked digest_keyed = 0), one grant per document, message and recipient,
-- and the trigger that counts a grant's downloads from the events (a
-- document-open GET uses the grant its token names). Never edit a migration
-- that has shipped: add the next number instead.
CREATE TABLE documents (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    media_type text NOT NULL,
    size bigint NOT NULL CHECK (size >= 0),
    digest text NOT NULL CHECK (length(digest) = 64),
    file text NOT NULL UNIQUE,
    created_us bigint NOT NULL,
    digest_keyed integer NOT NULL DEFAULT 0 CHECK (digest_keyed IN (0, 1))
);

-- id is the item of the document token: it must fit 32 bits (grant_add).
CREATE TABLE grants (
    id bigserial PRIMARY KEY,
    document bigint NOT NULL REFERENCES documents (id),
    message bigint NOT NULL REFERENCES messages (id),
    recipient bigint NOT NULL CHECK (recipient >= 0),
    created_us bigint NOT NULL,
    expires_us bigint,
    max_uses bigint CHECK (max_uses IS NULL OR max_uses >= 1),
    uses bigint NOT NULL DEFAULT 0,
    revoked_us bigint
);
CREATE INDEX grants_document ON grants (document);
CREATE INDEX grants_message ON grants (message, recipient);

CREATE FUNCTION homing_events_grant_use() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE grants SET uses = uses + 1
    WHERE id = NEW.item AND message = NEW.message AND recipient = NEW.recipient;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_grant_use AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.kind = 'document-open' AND NEW.method = 'GET')
    EXECUTE FUNCTION homing_events_grant_use();
