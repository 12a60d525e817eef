-- 0002_delivery: what homing ingest and homing ingest-log keep beside the
-- events: reports that matched no message, the position of each source (IMAP
-- UIDVALIDITY/UID, mail log offset, queue ids), and the keys of sources already
-- recorded so a replayed source never counts twice.

-- A report no message could be tied to, or one that could not be read. Kept
-- whole (raw) so it can be looked at and re-ingested later: never dropped.
CREATE TABLE unmatched_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time_us INTEGER NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw BLOB
);

-- Small named positions: "imap:URL" -> "UIDVALIDITY UID", "maillog:PATH" ->
-- "INODE OFFSET", "postfix-qid:QUEUEID" -> public message id, ...
CREATE TABLE sync_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_us INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per source record (a log line, a report) whose events are stored, in
-- the same transaction as the events: replaying the source adds nothing.
CREATE TABLE ingest_seen (
    key TEXT PRIMARY KEY,
    time_us INTEGER NOT NULL
) WITHOUT ROWID;
