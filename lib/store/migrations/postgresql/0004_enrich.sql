-- 0004_enrich (PostgreSQL): what the enrichment thread learns of each open,
-- click or document open, and the readers of each message (SQLite's 0004 and
-- 0007). The cursor 'enrich' starts at 0: the past is enriched too. Never
-- edit a migration that has shipped: add the next number instead.
CREATE TABLE enrichments (
    event bigint PRIMARY KEY,
    message bigint NOT NULL,
    recipient bigint NOT NULL DEFAULT 0,
    kind text NOT NULL,
    item bigint NOT NULL DEFAULT 0,
    time_us bigint NOT NULL,
    verdict text NOT NULL,
    confidence integer NOT NULL,
    reasons text NOT NULL DEFAULT '',
    rules_version integer NOT NULL,
    client_family text,
    client_version text,
    os text,
    device text,
    country text,
    asn bigint NOT NULL DEFAULT 0,
    as_org text,
    machine text,
    reader text,
    new_reader integer NOT NULL DEFAULT 0,
    forward integer NOT NULL DEFAULT 0,
    json text NOT NULL CHECK (homing_json_valid(json))
);
CREATE INDEX enrichments_message ON enrichments (message, recipient, event);
-- the forward question's three seeks (homing_store_reader_lookup)
CREATE INDEX enrichments_person_opens ON enrichments (message, recipient, reader)
    WHERE kind = 'open' AND verdict IN ('human', 'proxy-open');

CREATE TABLE readers (
    message bigint NOT NULL,
    fingerprint text NOT NULL,
    recipient bigint NOT NULL DEFAULT 0,
    first_us bigint NOT NULL,
    last_us bigint NOT NULL,
    client text,
    device text,
    country text,
    opens bigint NOT NULL DEFAULT 0,
    first_event bigint NOT NULL,
    forward integer NOT NULL DEFAULT 0,
    PRIMARY KEY (message, fingerprint)
);

INSERT INTO cursors (name, event) VALUES ('enrich', 0);
