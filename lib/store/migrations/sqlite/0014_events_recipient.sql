-- 0014_events_recipient: the dashboard's recipient page (and its live feed,
-- which asks again every half second) lists one recipient's events. The only
-- index on events was (message, id): a message with a million events was read
-- whole to find the few dozen of one recipient (bench/dashboard). This index
-- answers it with one range seek. Never edit a migration that has shipped: add
-- the next number instead.
CREATE INDEX events_recipient ON events (message, recipient, id);
