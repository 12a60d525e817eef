-- 0011_seal: SQLite's 0018_seal for PostgreSQL (encryption at rest,
-- docs/privacy.md#encryption-at-rest): a fourth guarded operation, 'seal',
-- under which an UPDATE of events may change only client, from_hdr and
-- detail, each only from a value in clear to a sealed one, so the rows
-- written before a store was sealed can be sealed in place
-- (lib/store/store_seal_legacy.c) and a sealed value is never changed again.
-- Reserved number 0012 on the lead's list: renumbered on merge.
ALTER TABLE privacy_guard DROP CONSTRAINT privacy_guard_op_check;
ALTER TABLE privacy_guard ADD CONSTRAINT privacy_guard_op_check
    CHECK (op IN ('truncate', 'retention', 'forget', 'seal'));

CREATE OR REPLACE FUNCTION homing_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.time_us = OLD.time_us AND NEW.kind = OLD.kind
            AND NEW.method IS NOT DISTINCT FROM OLD.method AND NEW.message = OLD.message
            AND NEW.recipient = OLD.recipient AND NEW.item = OLD.item
            AND NEW.user_agent IS NOT DISTINCT FROM OLD.user_agent
            AND NEW.accept_language IS NOT DISTINCT FROM OLD.accept_language
            AND NEW.via IS NOT DISTINCT FROM OLD.via THEN
            IF EXISTS (SELECT 1 FROM privacy_guard WHERE op = 'truncate')
                AND NEW.from_hdr IS NOT DISTINCT FROM OLD.from_hdr
                AND NEW.detail IS NOT DISTINCT FROM OLD.detail
                AND OLD.client IS NOT NULL AND NEW.client IS NOT NULL
                AND length(NEW.client) <= length(OLD.client) THEN
                RETURN NEW;
            END IF;
            IF EXISTS (SELECT 1 FROM privacy_guard WHERE op = 'seal')
                AND (NEW.client IS NOT DISTINCT FROM OLD.client
                     OR (left(OLD.client, 4) <> '~s1:' AND left(NEW.client, 4) = '~s1:'))
                AND (NEW.from_hdr IS NOT DISTINCT FROM OLD.from_hdr
                     OR (strpos(OLD.from_hdr, '~s1:') = 0 AND strpos(NEW.from_hdr, '~s1:') > 0))
                AND (NEW.detail IS NOT DISTINCT FROM OLD.detail
                     OR (strpos(OLD.detail, '~s1:') = 0 AND strpos(NEW.detail, '~s1:') > 0)) THEN
                RETURN NEW;
            END IF;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM privacy_guard g WHERE
            (g.op = 'retention' AND OLD.time_us < g.cutoff_us)
            OR (g.op = 'forget' AND ((OLD.message = g.message AND OLD.recipient = g.recipient)
                OR (g.address IS NOT NULL AND (
                    strpos(lower(coalesce(OLD.detail, '')), g.address) > 0
                    OR strpos(lower(coalesce(OLD.from_hdr, '')), g.address) > 0))))) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'integrity_constraint_violation';
END
$$;
