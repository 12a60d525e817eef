-- 0005_documents: documents shared through per-recipient links, and their grants.
-- The file itself is encrypted at rest in the documents directory (docs.dir);
-- the key is derived from the token key file and is never stored here, so a
-- copy of the database reveals names and digests but no document content.

-- name is what the sender and the CLI use; a name is reusable once nothing
-- refers to it (documents are never deleted while grants point at them).
CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL CHECK (size >= 0),
    digest TEXT NOT NULL CHECK (length(digest) = 64), -- BLAKE2b-256 of the plaintext, hex
    file TEXT NOT NULL UNIQUE,                        -- the encrypted file's name in docs.dir
    created_us INTEGER NOT NULL
);

-- One grant = one recipient of one message may fetch one document. id is the
-- item of the document token (HOMING_TOKEN_DOCUMENT): the token's MAC binds it
-- to (message, recipient), and the daemon checks the row names the same pair,
-- so a token of one recipient never opens another's grant.
CREATE TABLE grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document INTEGER NOT NULL REFERENCES documents (id),
    message INTEGER NOT NULL REFERENCES messages (id),
    recipient INTEGER NOT NULL CHECK (recipient >= 0),
    created_us INTEGER NOT NULL,
    expires_us INTEGER,               -- NULL: never
    max_uses INTEGER CHECK (max_uses IS NULL OR max_uses >= 1),
    uses INTEGER NOT NULL DEFAULT 0,  -- downloads served (GET only)
    revoked_us INTEGER
);
CREATE INDEX grants_document ON grants (document);
CREATE INDEX grants_message ON grants (message, recipient);
