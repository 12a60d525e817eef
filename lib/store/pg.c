/*
 * pg.c: the PostgreSQL backend's statements, parameter and result helpers,
 * error mapping, its ops table and its line in the registry.
 *
 * Contract: lib/store/pg_int.h. Every operation of store_ops is written;
 * `homing serve` and the CLI open it for store.url = postgresql://... or
 * postgres://... (docs/internals/store.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

#define NOTIFICATION_COLUMNS                                                                       \
    "n.id, n.time_us, n.kind, n.message, n.recipient, n.item, n.event, n.reader, n.text, "         \
    "n.payload"

static char *event_insert_many;

static const char *const pg_sql[PG_ST_COUNT] = {
    [PG_SCHEMA_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_migrations",
    [PG_MESSAGE_INSERT] = "INSERT INTO messages (id, message_id, subject, sender, mode, "
                          "created_us, campaign, tracking) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                          "ON CONFLICT (id) DO NOTHING",
    /* all recipients (links) of a message in one statement: $2 is an array */
    [PG_RECIPIENTS_INSERT] = "INSERT INTO recipients (message, idx, address, state_us) "
                             "SELECT $1, i, a, $3 FROM unnest($2::text[]) WITH ORDINALITY t(a, i)",
    [PG_LINKS_INSERT] = "INSERT INTO links (message, idx, url) "
                        "SELECT $1, i, u FROM unnest($2::text[]) WITH ORDINALITY t(u, i)",
    [PG_MESSAGE_GET] = "SELECT id, message_id, subject, sender, mode, created_us, campaign "
                       "FROM messages WHERE id = $1",
    [PG_RECIPIENTS_GET] = "SELECT idx, address, state, state_us FROM recipients "
                          "WHERE message = $1 ORDER BY idx",
    [PG_LINKS_GET] = "SELECT idx, url FROM links WHERE message = $1 ORDER BY idx",
    [PG_MESSAGE_FIND] = "SELECT id FROM messages WHERE message_id IN ($1::text, '<' || $1 || '>') "
                        "ORDER BY created_us DESC LIMIT 2",
    [PG_MESSAGE_LIST] = "SELECT id, message_id, subject, sender, mode, created_us, campaign "
                        "FROM messages ORDER BY created_us DESC, id DESC LIMIT $1",
    [PG_MESSAGE_EXISTS] = "SELECT 1 FROM messages WHERE id = $1",
    [PG_LINK_URL] = "SELECT url FROM links WHERE message = $1 AND idx = $2::bigint",
    [PG_SET_STATE] = "UPDATE recipients SET state = $1, state_us = $2 "
                     "WHERE message = $3 AND idx = $4::bigint",
    [PG_PARTITIONS] = "SELECT homing_events_partitions($1::bigint[])",
    [PG_EVENT_INSERT] = EVENT_INSERT_HEAD "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                                          "RETURNING id",
    [PG_EVENT_INSERT_MANY] = NULL, /* built once: event_insert_many */
    [PG_EVENTS_LIST_ALL] = STORE_SQL_EVENTS_LIST_ALL("$1", "$2"),
    [PG_EVENTS_LIST_MESSAGE] = STORE_SQL_EVENTS_LIST_MESSAGE("$1", "$2", "$3"),
    [PG_EVENTS_COUNT_ALL] = "SELECT count(*) FROM events",
    [PG_EVENTS_COUNT_MESSAGE] = "SELECT count(*) FROM events WHERE message = $1",
    [PG_REPORT] = STORE_SQL_REPORT("$1"),
    [PG_CURSOR_GET] = "SELECT event FROM cursors WHERE name = $1",
    [PG_CURSOR_SET] = "INSERT INTO cursors (name, event) VALUES ($1, $2) "
                      "ON CONFLICT (name) DO UPDATE SET event = excluded.event",
    /* the key silo (migration 0010): SECURITY DEFINER functions only */
    [PG_API_KEY_ADD] = "SELECT homing_api_key_add($1, $2, $3, $4)",
    [PG_API_KEY_CHECK] = "SELECT homing_api_key_check($1)",
    [PG_API_KEY_LIST] = "SELECT * FROM homing_api_key_list()",
    [PG_RECIPIENT_EVENTS] = "SELECT " EVENT_COLUMNS " FROM events WHERE message = $1 AND "
                            "recipient = $2 AND id > $3 ORDER BY id LIMIT $4",
    [PG_EVENTS_STAMP] = "SELECT (SELECT count(*) FROM events WHERE message = $1 AND id <= $2), "
                        "coalesce((SELECT event FROM cursors WHERE name = $3), -1)",
    [PG_TRACKING_SET_MESSAGE] = "UPDATE messages SET tracking = $1 WHERE id = $2",
    [PG_TRACKING_SET_RECIPIENT] = "UPDATE recipients SET tracking = $1 "
                                  "WHERE message = $2 AND idx = $3::bigint",
    [PG_TRACKING_GET_MESSAGE] = "SELECT tracking FROM messages WHERE id = $1",
    [PG_TRACKING_GET_RECIPIENTS] =
        "SELECT r.idx, coalesce(r.tracking, m.tracking) FROM recipients r "
        "JOIN messages m ON m.id = r.message WHERE r.message = $1 ORDER BY r.idx",
    [PG_FLOOD_ADD] = "INSERT INTO flood_pending (client, message, recipient, item, kind, dropped, "
                     "first_us, last_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                     "ON CONFLICT (client, message, recipient, item, kind) DO UPDATE SET "
                     "dropped = flood_pending.dropped + excluded.dropped, "
                     "first_us = least(flood_pending.first_us, excluded.first_us), "
                     "last_us = greatest(flood_pending.last_us, excluded.last_us)",
    [PG_INGEST_CLAIM] = "INSERT INTO ingest_seen (key, time_us) VALUES ($1, $2) "
                        "ON CONFLICT (key) DO NOTHING",
    [PG_UNMATCHED_ADD] = "INSERT INTO unmatched_reports (time_us, source, kind, reason, raw) "
                         "VALUES ($1, $2, $3, $4, $5) RETURNING id",
    [PG_SYNC_GET] = "SELECT value FROM sync_state WHERE name = $1",
    [PG_SYNC_SET] = "INSERT INTO sync_state (name, value, updated_us) VALUES ($1, $2, $3) "
                    "ON CONFLICT (name) DO UPDATE "
                    "SET value = excluded.value, updated_us = excluded.updated_us",
    [PG_ENRICH_INSERT] = "INSERT INTO enrichments (" ENRICH_COLUMNS ") VALUES "
                         "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
                         "$14, $15, $16, $17, $18, $19, $20, $21, $22)",
    [PG_READER_UPSERT] =
        "INSERT INTO readers (message, fingerprint, recipient, first_us, last_us, client, "
        "device, country, opens, first_event, forward) "
        "VALUES ($1, $2, $3, $4, $11, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (message, fingerprint) DO UPDATE SET "
        "last_us = greatest(readers.last_us, excluded.last_us), "
        "opens = readers.opens + excluded.opens",
    [PG_ENRICH_CURSOR] = "INSERT INTO cursors (name, event) VALUES ($1, $2) "
                         "ON CONFLICT (name) DO UPDATE "
                         "SET event = greatest(cursors.event, excluded.event)",
    /* A batch's counters, one upsert per group (store.c's stats_of; SQLite's
     * ST_STATS_*): migration 0008's triggers carry each row's change into
     * message_stats and link_totals. least() skips NULLs: the earliest known
     * first human open or click stays. */
    [PG_STATS_RECIPIENT_ADD] =
        "INSERT INTO recipient_stats AS r (message, recipient, opens_human, opens_machine, "
        "opens_unknown, clicks_human, clicks_machine, clicks_unknown, docs_human, docs_machine, "
        "docs_unknown, first_human_open_us, first_human_click_us) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
        "ON CONFLICT (message, recipient) DO UPDATE SET "
        "opens_human = r.opens_human + excluded.opens_human, "
        "opens_machine = r.opens_machine + excluded.opens_machine, "
        "opens_unknown = r.opens_unknown + excluded.opens_unknown, "
        "clicks_human = r.clicks_human + excluded.clicks_human, "
        "clicks_machine = r.clicks_machine + excluded.clicks_machine, "
        "clicks_unknown = r.clicks_unknown + excluded.clicks_unknown, "
        "docs_human = r.docs_human + excluded.docs_human, "
        "docs_machine = r.docs_machine + excluded.docs_machine, "
        "docs_unknown = r.docs_unknown + excluded.docs_unknown, "
        "first_human_open_us = least(r.first_human_open_us, excluded.first_human_open_us), "
        "first_human_click_us = least(r.first_human_click_us, excluded.first_human_click_us)",
    [PG_STATS_LINK_ADD] =
        "INSERT INTO link_stats AS l (message, link, recipient, human, machine, "
        "unknown) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (message, link, recipient) DO UPDATE SET "
        "human = l.human + excluded.human, machine = l.machine + excluded.machine, "
        "unknown = l.unknown + excluded.unknown",
    [PG_STATS_HOUR_ADD] = "INSERT INTO hourly_stats AS h (message, hour, kind, class, count) "
                          "VALUES ($1, $2, $3, $4, $5) "
                          "ON CONFLICT (message, hour, kind, class) DO UPDATE SET "
                          "count = h.count + excluded.count",
    [PG_ENRICHMENT_GET] = "SELECT " ENRICH_COLUMNS " FROM enrichments WHERE event = $1",
    [PG_ENRICHMENTS_MESSAGE] = "SELECT " ENRICH_COLUMNS " FROM enrichments "
                               "WHERE message = $1 AND event > $2 ORDER BY event LIMIT $3",
    [PG_ENRICHMENTS_ALL] = "SELECT " ENRICH_COLUMNS " FROM enrichments "
                           "WHERE event > $1 ORDER BY event LIMIT $2",
    [PG_ENRICH_REWRITE] = "UPDATE enrichments SET verdict = $1, confidence = $2, reasons = $3, "
                          "rules_version = $4, json = $5 WHERE event = $6",
    [PG_READERS_LIST] = "SELECT message, fingerprint, recipient, first_us, last_us, client, "
                        "device, country, opens, first_event, forward FROM readers "
                        "WHERE message = $1 ORDER BY first_us, first_event",
    /* reader < $3 OR reader > $3: two index range seeks instead of a scan */
    [PG_READER_LOOKUP] =
        "SELECT EXISTS (SELECT 1 FROM readers WHERE message = $1 AND fingerprint = $3)::int, "
        "(EXISTS (SELECT 1 FROM enrichments WHERE message = $1 AND recipient = $2 "
        "AND kind = 'open' AND verdict IN ('human', 'proxy-open') AND reader < $3) OR "
        "EXISTS (SELECT 1 FROM enrichments WHERE message = $1 AND recipient = $2 "
        "AND kind = 'open' AND verdict IN ('human', 'proxy-open') AND reader > $3) OR "
        "($3 <> '' AND EXISTS (SELECT 1 FROM enrichments WHERE message = $1 AND recipient = $2 "
        "AND kind = 'open' AND verdict IN ('human', 'proxy-open') AND reader IS NULL)))::int",
    [PG_ENRICHMENT_FLAGS] = "SELECT event, verdict, new_reader, forward FROM enrichments "
                            "WHERE event > $1 AND event <= $2 ORDER BY event LIMIT $3",
#define SUP_COLUMNS "sender, address, reason, message, recipient, created_us, note"
    [PG_SUPPRESS_ADD] = "INSERT INTO suppressions (" SUP_COLUMNS ") VALUES "
                        "($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sender, address) DO NOTHING",
    [PG_SUPPRESS_REMOVE] = "DELETE FROM suppressions WHERE address = $2 "
                           "AND ($1::text IS NULL OR sender = $1)",
    /* the sender's own entry first (its reason is the more telling), then the
     * one for every sender */
    [PG_SUPPRESS_FIND] = "SELECT " SUP_COLUMNS " FROM suppressions WHERE address = $2 "
                         "AND sender IN ($1, '') ORDER BY sender = '' LIMIT 1",
    [PG_SUPPRESS_LIST] = "SELECT " SUP_COLUMNS " FROM suppressions "
                         "WHERE $1::text IS NULL OR sender = $1 "
                         "ORDER BY created_us DESC, sender, address LIMIT $2",
    [PG_RELAY_USER_SET] = "SELECT homing_relay_user_set($1, $2, $3)",
    [PG_RELAY_USER_GET] = "SELECT homing_relay_user_get($1)",
    [PG_RELAY_USER_LIST] = "SELECT homing_relay_user_list()",
    [PG_RELAY_USER_REMOVE] = "SELECT homing_relay_user_remove($1)",
    /* the secret in the key silo (migration 0010), in the same statement */
    [PG_WEBHOOK_ADD] = "WITH w AS (INSERT INTO webhooks (url, events, created_us) "
                       "VALUES ($1, $2, $4) RETURNING id) "
                       "SELECT homing_webhook_secret_set(w.id, $3::text) FROM w",
    [PG_WEBHOOK_LIST] = "SELECT id, url, events, coalesce(homing_webhook_secret(id), ''), "
                        "created_us, coalesce(disabled_us, 0) "
                        "FROM webhooks WHERE $1::bigint = 0 OR id = $1 ORDER BY id",
    [PG_WEBHOOK_DISABLE] = "UPDATE webhooks SET disabled_us = $1 "
                           "WHERE id = $2 AND disabled_us IS NULL",
    [PG_DELIVERIES_FAIL_WEBHOOK] =
        "UPDATE deliveries SET failed_us = $1, last_error = 'webhook removed' "
        "WHERE webhook = $2 AND delivered_us IS NULL AND failed_us IS NULL",
    [PG_NOTIFICATION_ADD] = "INSERT INTO notifications (time_us, kind, message, recipient, item, "
                            "event, reader, text, payload) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    [PG_DELIVERIES_ADD] =
        "INSERT INTO deliveries (notification, webhook, message, next_attempt_us) "
        "SELECT $1, id, $2, $3 FROM webhooks WHERE disabled_us IS NULL "
        "AND (events = '*' OR ',' || events || ',' LIKE '%,' || $4::text || ',%')",
    [PG_NOTIFICATIONS_LIST] = "SELECT " NOTIFICATION_COLUMNS " FROM notifications n "
                              "WHERE n.id > $1 ORDER BY n.id LIMIT $2",
    [PG_NOTIFICATIONS_LAST] = "SELECT coalesce(max(id), 0) FROM notifications",
    [PG_NOTIFICATION_EXISTS] =
        "SELECT 1 FROM notifications WHERE message = $1 "
        "AND ($2::text IS NULL OR kind = $2) "
        "AND ($3::bigint < 0 OR recipient = $3) AND ($4::bigint < 0 OR item = $4) "
        "AND ($5::text IS NULL OR reader = $5) LIMIT 1",
    [PG_DELIVERIES_DUE] =
        "WITH due AS (SELECT d.notification, d.webhook, d.attempts, row_number() OVER "
        "(PARTITION BY d.webhook ORDER BY d.next_attempt_us, d.notification) AS rn "
        "FROM deliveries d WHERE d.delivered_us IS NULL AND d.failed_us IS NULL "
        "AND d.next_attempt_us <= $1 AND NOT EXISTS (SELECT 1 FROM deliveries e "
        "WHERE e.webhook = d.webhook AND e.message = d.message "
        "AND e.notification < d.notification AND e.delivered_us IS NULL "
        "AND e.failed_us IS NULL)) "
        "SELECT due.notification, due.webhook, due.attempts, w.url, "
        "coalesce(homing_webhook_secret(w.id), ''), " NOTIFICATION_COLUMNS
        " FROM due JOIN webhooks w ON w.id = due.webhook "
        "JOIN notifications n ON n.id = due.notification WHERE due.rn <= $2 "
        "ORDER BY due.rn, due.webhook LIMIT $3",
    [PG_DELIVERY_RESULT] =
        "UPDATE deliveries SET attempts = attempts + 1, "
        "delivered_us = CASE WHEN $3 <> 0 THEN $4::bigint END, "
        "failed_us = CASE WHEN $3 = 0 AND $5::bigint = 0 THEN $4::bigint END, "
        "next_attempt_us = CASE WHEN $3 = 0 AND $5 <> 0 THEN $5 ELSE next_attempt_us END, "
        "last_error = $6, claimed_by = NULL, claimed_until_us = NULL "
        "WHERE notification = $1 AND webhook = $2 "
        "AND delivered_us IS NULL AND failed_us IS NULL",
    /* pg_leader.c. The two-key form keeps the leader lock apart from the
     * one-key locks of migrations and appends. */
    [PG_LEADER_PING] = "SELECT 1",
    [PG_LEADER_TRY] = "SELECT pg_try_advisory_lock(hashtext('homing-leader'), "
                      "hashtext(current_schema()))",
    /* SKIP LOCKED: a row another deliverer is claiming this moment is not
     * waited for but left to it; one that committed its claim is seen again
     * (EvalPlanQual) and fails the lease test. */
    [PG_DELIVERY_CLAIM] =
        "WITH c AS (SELECT notification, webhook FROM deliveries WHERE notification = $1 "
        "AND webhook = $2 AND delivered_us IS NULL AND failed_us IS NULL "
        "AND (claimed_by IS NULL OR claimed_by = $3 OR claimed_until_us < homing_clock_us()) "
        "FOR UPDATE SKIP LOCKED) "
        "UPDATE deliveries d SET claimed_by = $3, claimed_until_us = homing_clock_us() + $4 "
        "FROM c WHERE d.notification = c.notification AND d.webhook = c.webhook",
    [PG_DELIVERY_COUNTS] = "SELECT count(*) FILTER (WHERE delivered_us IS NULL AND "
                           "failed_us IS NULL), count(delivered_us), count(failed_us) "
                           "FROM deliveries",
#define DOC_COLUMNS "id, name, media_type, size, digest, file, created_us, digest_keyed"
    [PG_DOCUMENT_ADD] = "INSERT INTO documents (name, media_type, size, digest, file, "
                        "created_us, digest_keyed) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                        "RETURNING id",
    [PG_DOCUMENT_GET] = "SELECT " DOC_COLUMNS " FROM documents WHERE name = $1",
    [PG_DOCUMENT_LIST] = "SELECT d.id, d.name, d.media_type, d.size, d.digest, d.file, "
                         "d.created_us, (SELECT count(*) FROM grants g WHERE g.document = d.id), "
                         "(SELECT coalesce(sum(uses), 0) FROM grants g WHERE g.document = d.id), "
                         "d.digest_keyed FROM documents d ORDER BY d.id LIMIT $1",
    [PG_DOCUMENT_SET_DIGEST] = "UPDATE documents SET digest = $1, digest_keyed = 1 "
                               "WHERE id = $2 AND digest_keyed = 0",
    /* the SELECT makes a missing document or message insert nothing (-ENOENT) */
    [PG_GRANT_ADD] =
        "INSERT INTO grants (document, message, recipient, created_us, expires_us, max_uses) "
        "SELECT $1::bigint, $2::bigint, $3::bigint, $4::bigint, $5::bigint, $6::bigint "
        "WHERE EXISTS (SELECT 1 FROM documents WHERE id = $1) "
        "AND EXISTS (SELECT 1 FROM messages WHERE id = $2) RETURNING id",
    [PG_GRANT_LIST] =
        "SELECT g.id, g.document, d.name, g.message, g.recipient, r.address, g.created_us, "
        "coalesce(g.expires_us, 0), coalesce(g.max_uses, 0), g.uses, coalesce(g.revoked_us, 0) "
        "FROM grants g JOIN documents d ON d.id = g.document "
        "LEFT JOIN recipients r ON r.message = g.message AND r.idx = g.recipient "
        "WHERE $1::bigint = 0 OR g.document = $1 ORDER BY g.id LIMIT $2",
    [PG_GRANT_REVOKE] = "UPDATE grants SET revoked_us = $1 WHERE revoked_us IS NULL "
                        "AND (id = $2 OR document = $3)",
    [PG_GRANT_CHECK] =
        "SELECT g.message, g.recipient, coalesce(g.revoked_us, 0), coalesce(g.expires_us, 0), "
        "coalesce(g.max_uses, 0), g.uses, d.id, d.name, d.media_type, d.size, d.digest, "
        "d.file, d.created_us FROM grants g JOIN documents d ON d.id = g.document "
        "WHERE g.id = $1",
    [PG_API_KEY_REVOKE] = "SELECT homing_api_key_revoke($1, $2)",
};

/* The multi-row INSERT: PG_EVENT_ROWS rows of PG_EVENT_PARAMS parameters. */
static const char *sql_of(enum pg_st st)
{
    if (st != PG_EVENT_INSERT_MANY) return pg_sql[st];
    if (event_insert_many) return event_insert_many;
    struct homing_buf b;
    homing_buf_init(&b, 64 * 1024);
    int r = homing_buf_puts(&b, EVENT_INSERT_HEAD);
    for (int row = 0; r == 0 && row < PG_EVENT_ROWS; row++) {
        r = homing_buf_puts(&b, row ? ", (" : "(");
        for (int c = 0; r == 0 && c < PG_EVENT_PARAMS; c++)
            r = homing_buf_printf(&b, c ? ", $%d" : "$%d", row * PG_EVENT_PARAMS + c + 1);
        if (r == 0) r = homing_buf_puts(&b, ")");
    }
    if (r == 0) r = homing_buf_puts(&b, " RETURNING id");
    char *sql = r == 0 ? homing_buf_steal(&b) : NULL;
    homing_buf_free(&b);
    if (!sql) return NULL;
    /* Threads may race to build it: the first one stored wins, the same text. */
    char *expected = NULL;
    if (!__atomic_compare_exchange_n(&event_insert_many, &expected, sql, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        free(sql);
    return event_insert_many;
}

void pg_args_reset(struct pg_args *a)
{
    a->n = 0;
}

void pg_arg_int(struct pg_args *a, int64_t x)
{
    int i = a->n++;
    snprintf(a->num[i], sizeof a->num[i], "%lld", (long long)x);
    a->v[i] = a->num[i];
    a->len[i] = 0;
    a->fmt[i] = 0;
}

void pg_arg_text(struct pg_args *a, const char *s, int len)
{
    int i = a->n++;
    a->v[i] = s;
    a->len[i] = s ? (len < 0 ? (int)strlen(s) : len) : 0;
    a->fmt[i] = 1;
}

void pg_arg_opt(struct pg_args *a, const char *s, size_t cap)
{
    size_t n = s ? (cap ? strnlen(s, cap) : strlen(s)) : 0;
    pg_arg_text(a, n ? s : NULL, (int)n);
}

void pg_arg_bytes(struct pg_args *a, const void *p, int len)
{
    pg_arg_text(a, p, len);
}

void pg_arg_literal(struct pg_args *a, const char *s)
{
    int i = a->n++;
    a->v[i] = s;
    a->len[i] = 0;
    a->fmt[i] = 0;
}

int pg_fail(struct pg *p, const PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!msg || !*msg) msg = PQerrorMessage(p->conn);
    size_t ml = strlen(msg);
    while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == ' ')) ml--;
    store_set_error(&p->base, "%s: %.*s", what, (int)ml, msg);
    /* No SQLSTATE (the socket closed), a connection exception, or the server
     * ending this session (57P01 admin shutdown...): libpq may still say
     * CONNECTION_OK until it next reads, so remember to reconnect. */
    if (!state || strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
        PQstatus(p->conn) != CONNECTION_OK)
        p->broken = 1;
    if (!state) return -EIO;
    if (strcmp(state, "23505") == 0) return -EEXIST;  /* unique_violation */
    if (strcmp(state, "23000") == 0) return -EPERM;   /* our append-only trigger */
    if (strncmp(state, "23", 2) == 0) return -EINVAL; /* check, not null, foreign key */
    if (strncmp(state, "22", 2) == 0) return -EINVAL; /* data exception */
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 ||
        strcmp(state, "57014") == 0)
        return -EBUSY; /* serialization, deadlock, lock */
    return -EIO;
}

/* A connection that broke (server restarted) is reset at the next call that
 * starts outside a transaction; the statements are prepared again on the new
 * one. Never inside a transaction: the rest of it would run in autocommit and
 * store half a batch. */
static int pg_alive(struct pg *p)
{
    if (PQstatus(p->conn) == CONNECTION_OK && !p->broken) return 0;
    if (p->in_tx) {
        store_set_error(&p->base, "connection lost in a transaction: %s", PQerrorMessage(p->conn));
        return -EIO;
    }
    PQreset(p->conn);
    memset(p->prepared, 0, sizeof p->prepared);
    p->broken = 0;
    p->leader = p->listening = 0; /* both died with the old session */
    if (PQstatus(p->conn) == CONNECTION_OK) return pg_use_schema(p);
    store_set_error(&p->base, "connection lost: %s", PQerrorMessage(p->conn));
    return -EIO;
}

int pg_run(struct pg *p, enum pg_st st, const struct pg_args *a, const char *what, PGresult **res)
{
    int r;
    char name[8];
    snprintf(name, sizeof name, "h%d", (int)st);
    if ((r = pg_alive(p)) < 0) return r;
    if (!p->prepared[st]) {
        const char *sql = sql_of(st);
        if (!sql) return -ENOMEM;
        PGresult *pr = PQprepare(p->conn, name, sql, 0, NULL);
        if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
            r = pg_fail(p, pr, what);
            PQclear(pr);
            return r;
        }
        PQclear(pr);
        p->prepared[st] = 1;
    }
    PGresult *x = PQexecPrepared(p->conn, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                                 a ? a->fmt : NULL, 0);
    ExecStatusType rs = PQresultStatus(x);
    if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
        r = pg_fail(p, x, what);
        PQclear(x);
        return r;
    }
    *res = x;
    return 0;
}

int pg_do(struct pg *p, enum pg_st st, const struct pg_args *a, const char *what, int64_t *changed)
{
    PGresult *res;
    int r = pg_run(p, st, a, what, &res);
    if (r < 0) return r;
    if (changed) *changed = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return 0;
}

int pg_cmd(struct pg *p, const char *sql, const char *what)
{
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType rs = PQresultStatus(res);
    int r = rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK ? 0 : pg_fail(p, res, what);
    PQclear(res);
    return r;
}

static int begin(struct pg *p, const char *sql)
{
    int r = pg_alive(p);
    if (r == 0 && (r = pg_cmd(p, sql, "begin")) == 0) p->in_tx = 1;
    return r;
}

int pg_begin(struct pg *p)
{
    return begin(p, "BEGIN");
}

int pg_begin_read(struct pg *p)
{
    return begin(p, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

int pg_commit(struct pg *p)
{
    int r = pg_cmd(p, "COMMIT", "commit");
    if (r == 0) p->in_tx = 0;
    return r;
}

void pg_rollback(struct pg *p)
{
    p->in_tx = 0;
    if (PQstatus(p->conn) == CONNECTION_OK && PQtransactionStatus(p->conn) != PQTRANS_IDLE) {
        PGresult *res = PQexec(p->conn, "ROLLBACK");
        PQclear(res);
    }
}

int64_t pg_int(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int pg_query_int(struct pg *p, const char *sql, const char *what, int64_t *v)
{
    PGresult *res = PQexec(p->conn, sql);
    int r = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        r = pg_fail(p, res, what);
    else
        *v = PQntuples(res) ? pg_int(res, 0, 0) : 0;
    PQclear(res);
    return r;
}

int pg_dup(const PGresult *res, int row, int col, char **out)
{
    *out = NULL;
    if (PQgetisnull(res, row, col)) return 0;
    return (*out = strdup(PQgetvalue(res, row, col))) ? 0 : -ENOMEM;
}

void pg_copy(const PGresult *res, int row, int col, char *buf, size_t cap)
{
    const char *v = PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
    size_t n = strnlen(v, cap - 1);
    memcpy(buf, v, n);
    buf[n] = '\0';
}

int pg_grow(void **arr, size_t *cap, size_t used, size_t el)
{
    return homing_array_grow(arr, cap, used, el, PG_ARRAY_FIRST);
}

int pg_array_text(struct homing_buf *buf, const char *const *v, size_t n)
{
    int r = homing_buf_puts(buf, "{");
    for (size_t i = 0; r == 0 && i < n; i++) {
        r = homing_buf_puts(buf, i ? ",\"" : "\"");
        for (const char *c = v[i]; r == 0 && *c; c++) {
            size_t run = strcspn(c, "\"\\");
            if (run) {
                r = homing_buf_append(buf, c, run);
                c += run - 1;
                continue;
            }
            char esc[2] = {'\\', *c};
            r = homing_buf_append(buf, esc, 2);
        }
        if (r == 0) r = homing_buf_puts(buf, "\"");
    }
    if (r == 0) r = homing_buf_append(buf, "}", 2); /* with its terminator: a text param */
    return r;
}

static int pg_write_begin(struct homing_store *s)
{
    return pg_begin((struct pg *)s);
}

int pg_store_commit(struct homing_store *s)
{
    return pg_commit((struct pg *)s);
}

void pg_store_rollback(struct homing_store *s)
{
    pg_rollback((struct pg *)s);
}

static const struct store_ops pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .inspect = pg_inspect,
    .provision = pg_provision,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .message_add = pg_message_add,
    .message_get = pg_message_get,
    .message_find = pg_message_find,
    .message_query = pg_message_query,
    .campaigns_list = pg_campaigns_list,
    .stats = pg_stats,
    .stats_series = pg_stats_series,
    .message_list = pg_message_list,
    .link_url = pg_link_url,
    .recipient_set_state = pg_recipient_set_state,
    .events_append = pg_events_append,
    .events_append_floods = pg_events_append_floods,
    .floods_close = pg_floods_close,
    .events_list = pg_events_list,
    .events_count = pg_events_count,
    .recipient_events = pg_recipient_events,
    .report = pg_report,
    .api_key_add = pg_api_key_add,
    .api_key_check = pg_api_key_check,
    .api_key_list = pg_api_key_list,
    .api_key_revoke = pg_api_key_revoke,
    .webhook_add = pg_webhook_add,
    .webhook_list = pg_webhook_list,
    .webhook_disable = pg_webhook_disable,
    .notification_add = pg_notification_add,
    .notifications_list = pg_notifications_list,
    .notification_exists = pg_notification_exists,
    .deliveries_due_fair = pg_deliveries_due_fair,
    .delivery_result = pg_delivery_result,
    .delivery_counts = pg_delivery_counts,
    .cursor_get = pg_cursor_get,
    .cursor_set = pg_cursor_set,
    .notifications_last = pg_notifications_last,
    .unmatched_add = pg_unmatched_add,
    .unmatched_list = pg_unmatched_list,
    .sync_get = pg_sync_get,
    .relay_user_set = pg_relay_user_set,
    .relay_user_get = pg_relay_user_get,
    .relay_user_list = pg_relay_user_list,
    .relay_user_remove = pg_relay_user_remove,
    .sync_set = pg_sync_set,
    .events_append_once = pg_events_append_once,
    .unmatched_add_once = pg_unmatched_add_once,
    .tracking_set = pg_tracking_set,
    .tracking_get = pg_tracking_get,
    .write_begin = pg_write_begin,
    .write_commit = pg_store_commit,
    .write_rollback = pg_store_rollback,
    .privacy_clients = pg_privacy_clients,
    .privacy_clients_set = pg_privacy_clients_set,
    .privacy_fks = pg_privacy_fks,
    .privacy_delete = pg_privacy_delete,
    .privacy_retention = pg_privacy_retention,
    .rollups_list = pg_rollups_list,
    .privacy_forget = pg_privacy_forget,
    .seal_batch = pg_seal_batch,
    .seal_events = pg_seal_events,
    .enrichments_put = pg_enrichments_put,
    .enrichments_list = pg_enrichments_list,
    .enrichments_rewrite = pg_enrichments_rewrite,
    .readers_list = pg_readers_list,
    .reader_lookup = pg_reader_lookup,
    .events_stamp = pg_events_stamp,
    .enrichment_flags = pg_enrichment_flags,
    .document_add = pg_document_add,
    .document_get = pg_document_get,
    .document_list = pg_document_list,
    .document_set_digest = pg_document_set_digest,
    .grant_add = pg_grant_add,
    .grant_list = pg_grant_list,
    .grant_revoke = pg_grant_revoke,
    .grant_check = pg_grant_check,
    .suppress_add = pg_suppress_add,
    .suppress_remove = pg_suppress_remove,
    .suppress_find = pg_suppress_find,
    .suppress_list = pg_suppress_list,
    .leader = pg_leader,
    .listen_wait = pg_listen_wait,
    .delivery_claim = pg_delivery_claim,
};

/* None of SQLite's capabilities: PostgreSQL has no write-ahead log for homing
 * to copy back, its lock waits are the server's, durability is the server's
 * setting (synchronous_commit), and its backup is pg_dump. Its own: several
 * nodes share it, with a leader lock and LISTEN/NOTIFY (pg_leader.c). */
const struct homing_store_backend store_backend_postgresql = {
    "postgresql",
    HOMING_STORE_CAP_LEADER | HOMING_STORE_CAP_LISTEN,
    &pg_ops,
};
