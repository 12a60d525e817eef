-- 0015_suppression: the suppression list (docs/suppression.md). One row per
-- (sender, address): a recipient address that must not be sent mail from that
-- sender any more, with why and where it came from. Applied in one
-- transaction by lib/store/sqlite.c; never edit a migration that has shipped:
-- add the next number instead.
--
-- sender is the normalised From address the messages were registered with
-- (messages.sender), or '' for every sender (an entry added by hand without
-- --sender, or from a message registered without a From). address is
-- normalised the same way (homing_suppress_normalize: ASCII letters folded to
-- lower case in the local part and the domain). message/recipient name the
-- recipient the entry came from (0: added by hand).
CREATE TABLE suppressions (
    sender TEXT NOT NULL,
    address TEXT NOT NULL,
    reason TEXT NOT NULL
        CHECK (reason IN ('hard_bounce', 'complaint', 'unsubscribe', 'manual')),
    message INTEGER NOT NULL DEFAULT 0,
    recipient INTEGER NOT NULL DEFAULT 0,
    created_us INTEGER NOT NULL,
    note TEXT,
    PRIMARY KEY (sender, address)
) WITHOUT ROWID;
-- The check of a recipient looks up its address under two senders.
CREATE INDEX suppressions_address ON suppressions (address);
