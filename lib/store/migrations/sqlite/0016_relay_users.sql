-- 0016_relay_users: the accounts `homing relay` accepts for AUTH in
-- submission mode (homing relay-users), each kept only as its password's
-- argon2id hash in libsodium's crypto_pwhash_str form (docs/relay.md).
-- Reserved number 0015 on the lead's list: renumbered on merge.
CREATE TABLE relay_users (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    created_us INTEGER NOT NULL
);
