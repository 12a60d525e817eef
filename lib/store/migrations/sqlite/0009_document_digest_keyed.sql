-- Document digests keyed (docs/documents.md "Security model"): the digest of a
-- document was the plain BLAKE2b-256 of its content, so a copy of the database
-- confirmed any guess of a document (hash the guess, compare). It is now
-- BLAKE2b-256 keyed with the digest key derived from the key file, which the
-- database never holds. SQL cannot compute that (the key is not here), so rows
-- written before are marked digest_keyed = 0 and rewritten by the programs that
-- have the key: homing serve at start and every homing doc command decrypt each
-- such document, hash it with the key and store the keyed digest with
-- digest_keyed = 1 (homing_doc_digests_upgrade). New rows are written keyed.
ALTER TABLE documents ADD COLUMN digest_keyed INTEGER NOT NULL DEFAULT 0
    CHECK (digest_keyed IN (0, 1));
