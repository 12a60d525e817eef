-- 0007_reader_index: the enrichment thread asks, for every hit, whether another
-- reader of the same recipient opened the message as a person (a forward). The
-- question counted that recipient's enrichments one by one: the cost of each hit
-- grew with the hits before it (measured: 69% of the enrichment thread after
-- 400,000 opens of one recipient). This partial index answers it with two
-- seeks. Applied in one transaction by lib/store/sqlite.c; never edit a
-- migration that has shipped: add the next number instead.
CREATE INDEX enrichments_person_opens ON enrichments (message, recipient, reader)
    WHERE kind = 'open' AND verdict IN ('human', 'proxy-open');
