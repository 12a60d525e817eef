-- 0003_rollups (PostgreSQL): what retention keeps of the events it removes
-- (SQLite's event_rollups of 0006): counts per message, UTC day, kind, method
-- and verdict ('' when none). No recipient, no client: a rollup says how
-- many, never who. Never edit a migration that has shipped: add the next
-- number instead.
CREATE TABLE event_rollups (
    message bigint NOT NULL,
    day text NOT NULL,
    kind text NOT NULL,
    method text NOT NULL DEFAULT '',
    verdict text NOT NULL DEFAULT '',
    count bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (message, day, kind, method, verdict)
);
