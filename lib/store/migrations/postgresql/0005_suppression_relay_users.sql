-- 0005_suppression_relay_users (PostgreSQL): the suppression list (SQLite's
-- 0015: one row per normalised sender and address, '' for every sender) and
-- homing relay's SMTP users (SQLite's 0016: name and password hash). Never
-- edit a migration that has shipped: add the next number instead.
CREATE TABLE suppressions (
    sender text NOT NULL,
    address text NOT NULL,
    reason text NOT NULL
        CHECK (reason IN ('hard_bounce', 'complaint', 'unsubscribe', 'manual')),
    message bigint NOT NULL DEFAULT 0,
    recipient bigint NOT NULL DEFAULT 0,
    created_us bigint NOT NULL,
    note text,
    PRIMARY KEY (sender, address)
);
CREATE INDEX suppressions_address ON suppressions (address);

CREATE TABLE relay_users (
    name text PRIMARY KEY,
    hash text NOT NULL,
    created_us bigint NOT NULL
);
