/*
 * sqlite.c: the SQLite backend of the store (one machine, embedded database):
 * its handle, its statement cache, the helpers its files share
 * (sqlite_int.h), and its entry in the backend registry. The operations are
 * in the files of their sections (sqlite_int.h lists them).
 *
 * Contract (beyond homing/store.h):
 * - WAL journal, so readers (the CLI, the API) never block the daemon's writer;
 *   synchronous=normal survives a crash of the process, full also a power loss.
 * - busy_timeout: several threads and processes each hold their own handle and
 *   wait for each other's write transactions instead of failing at once.
 * - The statements of the hot calls (events_append, link_url, api_key_check,
 *   and those the daemon's threads run per hit or page) are prepared once per
 *   handle and cached, then cost a bind/step/reset; the others are prepared
 *   per call.
 * - Header fields of events are stored as NULL when empty and read back as "".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/sqlite_int.h"
#include "lib/store/store_int.h"

#define EVENT_INSERT_ROW "(?,?,?,?,?,?,?,?,?,?,?,?)"

static const char *const sq_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SCHEMA_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_migrations",
    [ST_EVENT_INSERT] = EVENT_INSERT_HEAD EVENT_INSERT_ROW,
    [ST_LINK_URL] = "SELECT url FROM links WHERE message = ?1 AND idx = ?2",
    /* Whether the fingerprint is a known reader of the message, and whether
     * another reader (or an open without one) of the recipient was a person's
     * open: the second as seeks on either side of ?3 in the partial index of
     * migration 0007, so it costs the same after a million opens as after one. */
    [ST_READER_LOOKUP] =
        "SELECT EXISTS (SELECT 1 FROM readers WHERE message = ?1 AND fingerprint = ?3), "
        "EXISTS (SELECT 1 FROM enrichments WHERE message = ?1 AND recipient = ?2 "
        "AND kind = 'open' AND verdict IN ('human', 'proxy-open') AND reader < ?3) OR "
        "EXISTS (SELECT 1 FROM enrichments WHERE message = ?1 AND recipient = ?2 "
        "AND kind = 'open' AND verdict IN ('human', 'proxy-open') AND reader > ?3) OR "
        "(?3 != '' AND EXISTS (SELECT 1 FROM enrichments WHERE message = ?1 AND recipient = ?2 "
        "AND kind = 'open' AND verdict IN ('human', 'proxy-open') AND reader IS NULL))",
    [ST_ENRICH_INSERT] = "INSERT INTO enrichments (" ENRICH_COLUMNS ") VALUES "
                         "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                         "?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
    [ST_READER_UPSERT] =
        "INSERT INTO readers (message, fingerprint, recipient, first_us, last_us, client, "
        "device, country, opens, first_event, forward) "
        "VALUES (?1, ?2, ?3, ?4, ?11, ?5, ?6, ?7, ?8, ?9, ?10) "
        "ON CONFLICT (message, fingerprint) DO UPDATE SET "
        "last_us = max(last_us, excluded.last_us), opens = opens + excluded.opens",
    /* Never backwards: a cursor that moved on stays there. */
    [ST_ENRICH_CURSOR] = "INSERT INTO cursors (name, event) VALUES (?1, ?2) "
                         "ON CONFLICT (name) DO UPDATE SET event = max(event, excluded.event)",
    /* What migration 0012's per-hit trigger did, once per group of a batch
     * (store.c's stats_of). A new recipient_stats or link_stats row fires
     * 0013's insert triggers, an existing one its update triggers: the
     * per-message and per-link sums follow as before. */
    [ST_STATS_RECIPIENT_ADD] =
        "INSERT INTO recipient_stats (message, recipient, opens_human, opens_machine, "
        "opens_unknown, clicks_human, clicks_machine, clicks_unknown, docs_human, docs_machine, "
        "docs_unknown, first_human_open_us, first_human_click_us) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
        "ON CONFLICT (message, recipient) DO UPDATE SET "
        "opens_human = opens_human + excluded.opens_human, "
        "opens_machine = opens_machine + excluded.opens_machine, "
        "opens_unknown = opens_unknown + excluded.opens_unknown, "
        "clicks_human = clicks_human + excluded.clicks_human, "
        "clicks_machine = clicks_machine + excluded.clicks_machine, "
        "clicks_unknown = clicks_unknown + excluded.clicks_unknown, "
        "docs_human = docs_human + excluded.docs_human, "
        "docs_machine = docs_machine + excluded.docs_machine, "
        "docs_unknown = docs_unknown + excluded.docs_unknown, "
        "first_human_open_us = coalesce(min(first_human_open_us, excluded.first_human_open_us), "
        "first_human_open_us, excluded.first_human_open_us), "
        "first_human_click_us = coalesce(min(first_human_click_us, excluded.first_human_click_us), "
        "first_human_click_us, excluded.first_human_click_us)",
    [ST_STATS_LINK_ADD] =
        "INSERT INTO link_stats (message, link, recipient, human, machine, unknown) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT (message, link, recipient) DO UPDATE SET "
        "human = human + excluded.human, machine = machine + excluded.machine, "
        "unknown = unknown + excluded.unknown",
    [ST_STATS_HOUR_ADD] = "INSERT INTO hourly_stats (message, hour, kind, class, count) "
                          "VALUES (?1, ?2, ?3, ?4, ?5) "
                          "ON CONFLICT (message, hour, kind, class) DO UPDATE SET "
                          "count = count + excluded.count",
    [ST_ENRICHMENT_GET] = "SELECT " ENRICH_COLUMNS " FROM enrichments WHERE event = ?1",
    [ST_NOTIFICATION_EXISTS] = "SELECT 1 FROM notifications WHERE message = ?1 "
                               "AND (?2 IS NULL OR kind = ?2) "
                               "AND (?3 < 0 OR recipient = ?3) AND (?4 < 0 OR item = ?4) "
                               "AND (?5 IS NULL OR reader = ?5) LIMIT 1",
    /* One statement, so one snapshot: the count seeks events_message (0001). */
    [ST_EVENTS_STAMP] = "SELECT (SELECT count(*) FROM events WHERE message = ?1 AND id <= ?2), "
                        "coalesce((SELECT event FROM cursors WHERE name = ?3), -1)",
    [ST_ENRICHMENT_FLAGS] = "SELECT event, verdict, new_reader, forward FROM enrichments "
                            "WHERE event > ?1 AND event <= ?2 ORDER BY event LIMIT ?3",
    [ST_CURSOR_SET] = "INSERT INTO cursors (name, event) VALUES (?1, ?2) "
                      "ON CONFLICT (name) DO UPDATE SET event = excluded.event",
    [ST_API_KEY_CHECK] = "SELECT scope FROM api_keys WHERE hash = ?1 AND revoked_us IS NULL",
    [ST_FLOOD_ADD] = "INSERT INTO flood_pending (client, message, recipient, item, kind, dropped, "
                     "first_us, last_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                     "ON CONFLICT (client, message, recipient, item, kind) DO UPDATE SET "
                     "dropped = dropped + excluded.dropped, "
                     "first_us = min(first_us, excluded.first_us), "
                     "last_us = max(last_us, excluded.last_us)",
    [ST_MESSAGE_INSERT] = "INSERT INTO messages (id, message_id, subject, sender, mode, "
                          "created_us, campaign, tracking) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_RECIPIENT_INSERT] = "INSERT INTO recipients (message, idx, address, state_us) "
                            "VALUES (?1, ?2, ?3, ?4)",
    [ST_LINK_INSERT] = "INSERT INTO links (message, idx, url) VALUES (?1, ?2, ?3)",
    [ST_MESSAGE_GET] = "SELECT id, message_id, subject, sender, mode, created_us, campaign "
                       "FROM messages WHERE id = ?1",
    [ST_RECIPIENTS_GET] = "SELECT idx, address, state, state_us FROM recipients "
                          "WHERE message = ?1 ORDER BY idx",
    [ST_LINKS_GET] = "SELECT idx, url FROM links WHERE message = ?1 ORDER BY idx",
    /* Stored either way; compared without the brackets. The newest wins when a
     * Message-ID was registered twice. */
    [ST_MESSAGE_FIND] = "SELECT id FROM messages WHERE message_id IN (?1, '<' || ?1 || '>') "
                        "ORDER BY created_us DESC LIMIT 2",
    [ST_MESSAGE_LIST] = "SELECT id, message_id, subject, sender, mode, created_us, campaign "
                        "FROM messages ORDER BY created_us DESC, id DESC LIMIT ?1",
    [ST_MESSAGE_EXISTS] = "SELECT 1 FROM messages WHERE id = ?1",
    [ST_SET_STATE] = "UPDATE recipients SET state = ?1, state_us = ?2 "
                     "WHERE message = ?3 AND idx = ?4",
    [ST_EVENTS_LIST_ALL] = STORE_SQL_EVENTS_LIST_ALL("?1", "?2"),
    [ST_EVENTS_LIST_MESSAGE] = STORE_SQL_EVENTS_LIST_MESSAGE("?1", "?2", "?3"),
    [ST_EVENTS_COUNT_ALL] = "SELECT count(*) FROM events",
    [ST_EVENTS_COUNT_MESSAGE] = "SELECT count(*) FROM events WHERE message = ?1",
    [ST_REPORT] = STORE_SQL_REPORT("?1"),
    [ST_API_KEY_ADD] =
        "INSERT INTO api_keys (name, hash, created_us, scope) VALUES (?1, ?2, ?3, ?4)",
    [ST_API_KEY_LIST] = "SELECT id, name, created_us, coalesce(revoked_us, 0), scope FROM api_keys "
                        "ORDER BY id",
    [ST_API_KEY_REVOKE] = "UPDATE api_keys SET revoked_us = ?1 "
                          "WHERE name = ?2 AND revoked_us IS NULL",
};

sqlite3 *sqlite_db(struct homing_store *s)
{
    return ((struct sq *)s)->db;
}

/* Maps an SQLite result code to a negative errno and records the message. */
int sq_fail(struct sq *q, int rc, const char *what)
{
    store_set_error(&q->base, "%s: %s", what, sqlite3_errmsg(q->db));
    switch (rc & 0xff) {
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_READONLY:
    case SQLITE_PERM: return -EROFS;
    case SQLITE_CONSTRAINT: return -EEXIST;
    default: return -EIO;
    }
}

/* The cached statement id, prepared on first use; NULL (error recorded) if
 * preparing fails. Callers reset it when done so no read lock is held. */
sqlite3_stmt *sq_stmt(struct sq *q, enum sq_stmt id)
{
    if (q->stmts[id]) return q->stmts[id];
    const char *sql = sq_sql[id];
    char many[sizeof EVENT_INSERT_HEAD + SQ_EVENT_ROWS * sizeof EVENT_INSERT_ROW];
    if (id == ST_EVENT_INSERT_MANY) {
        size_t len = strlen(EVENT_INSERT_HEAD);
        memcpy(many, EVENT_INSERT_HEAD, len);
        for (int i = 0; i < SQ_EVENT_ROWS; i++) {
            if (i) many[len++] = ',';
            memcpy(many + len, EVENT_INSERT_ROW, strlen(EVENT_INSERT_ROW));
            len += strlen(EVENT_INSERT_ROW);
        }
        many[len] = '\0';
        sql = many;
    }
    int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q->stmts[id], NULL);
    if (rc != SQLITE_OK) {
        sq_fail(q, rc, "prepare");
        q->stmts[id] = NULL;
        return NULL;
    }
    return q->stmts[id];
}

/* Runs a cached statement (bound by the caller) that returns no rows, and
 * resets it for its next use. */
int sq_run_cached(struct sq *q, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(q, rc, what);
}

/* Runs a cached statement without parameters that returns no rows. */
static int sq_run(struct sq *q, enum sq_stmt id, const char *what)
{
    sqlite3_stmt *st = sq_stmt(q, id);
    return st ? sq_run_cached(q, st, what) : -EIO;
}

int sq_begin(struct sq *q, int write)
{
    return sq_run(q, write ? ST_BEGIN_IMMEDIATE : ST_BEGIN, "begin");
}

int sq_commit(struct sq *q)
{
    return sq_run(q, ST_COMMIT, "commit");
}

/* Rolls back if a transaction is still open (SQLite ends some by itself). Keeps
 * the first error message, which is the one worth showing. */
void sq_rollback(struct sq *q)
{
    if (sqlite3_get_autocommit(q->db)) return;
    sqlite3_stmt *st = sq_stmt(q, ST_ROLLBACK);
    if (!st) return;
    sqlite3_step(st);
    sqlite3_reset(st);
}

/* Binds an optional string: NULL or "" becomes SQL NULL; cap bounds a fixed
 * field (0: a NUL-terminated string of any length). The bytes must stay
 * valid until the statement is reset (SQLITE_STATIC: no copy on the hot path). */
int sq_bind_opt(sqlite3_stmt *st, int i, const char *s, size_t cap)
{
    size_t n = !s ? 0 : cap ? strnlen(s, cap) : strlen(s);
    if (n == 0) return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
}

/* The helpers sqlite_int.h gives the backend's other files. */
int sqlite_fail(struct homing_store *s, int rc, const char *what)
{
    return sq_fail((struct sq *)s, rc, what);
}

int sqlite_begin(struct homing_store *s)
{
    return sq_begin((struct sq *)s, 0);
}

int sqlite_commit(struct homing_store *s)
{
    return sq_commit((struct sq *)s);
}

void sqlite_rollback(struct homing_store *s)
{
    sq_rollback((struct sq *)s);
}

/* Copies a text column into a fixed field ("" for NULL), cut at the field. */
void sq_col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    homing_strlcpy(dst, t ? t : "", cap);
}

/* A malloc'd copy of a text column, or NULL for SQL NULL; -ENOMEM. */
int sq_col_dup(sqlite3_stmt *st, int i, char **out)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    if (!t) {
        if (sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM) return -ENOMEM;
        *out = NULL;
        return 0;
    }
    *out = strdup(t);
    return *out ? 0 : -ENOMEM;
}

/* Makes room for one more element of size el in *arr (capacity *cap). */
int sq_grow(void **arr, size_t *cap, size_t used, size_t el)
{
    return homing_array_grow(arr, cap, used, el, SQ_ARRAY_FIRST);
}

sqlite3_stmt *sq_prepare(struct sq *q, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sq_fail(q, rc, "prepare");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

int sq_run_final(struct sq *q, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? 0 : sq_fail(q, rc, what);
    sqlite3_finalize(st);
    return r;
}

int sq_one_int64(struct sq *q, sqlite3_stmt *st, bool cached, const char *what, int64_t *out)
{
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        r = sq_fail(q, rc, what);
    if (cached)
        sqlite3_reset(st);
    else
        sqlite3_finalize(st);
    return r;
}

int sq_bindv(struct sq *q, sqlite3_stmt *st, int first, const char *fmt, va_list ap)
{
    int i = first;
    for (const char *f = fmt; *f; f++, i++) {
        int rc;
        switch (*f) {
        case 'I': rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t)); break;
        case 'i': rc = sqlite3_bind_int(st, i, va_arg(ap, int)); break;
        case 't': rc = sqlite3_bind_text(st, i, va_arg(ap, const char *), -1, SQLITE_STATIC); break;
        case 'o': rc = sq_bind_opt(st, i, va_arg(ap, const char *), 0); break;
        case 'z': {
            int64_t v = va_arg(ap, int64_t);
            rc = v ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
            break;
        }
        case 'b': {
            const void *b = va_arg(ap, const void *);
            int len = va_arg(ap, int);
            rc = b ? sqlite3_bind_blob(st, i, b, len, SQLITE_STATIC) : sqlite3_bind_null(st, i);
            break;
        }
        case 'n': rc = sqlite3_bind_null(st, i); break;
        default: store_set_error(&q->base, "bind: no such format '%c'", *f); return -EINVAL;
        }
        if (rc != SQLITE_OK) return sq_fail(q, rc, "bind");
    }
    return 0;
}

int sq_bind(struct sq *q, sqlite3_stmt *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = sq_bindv(q, st, 1, fmt, ap);
    va_end(ap);
    return r;
}

/* Binds fmt's arguments from the first parameter on; when that fails the
 * statement is let go as its owner wants it (a cached one reset for its next
 * user, a one-off one finalized), so that callers only return the error. */
static int sq_bind_or_release(struct sq *q, sqlite3_stmt *st, bool cached, const char *fmt,
                              va_list ap)
{
    int r = sq_bindv(q, st, 1, fmt, ap);
    if (r < 0) {
        if (cached)
            sqlite3_reset(st);
        else
            sqlite3_finalize(st);
    }
    return r;
}

int sq_exec(struct sq *q, const char *what, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = sq_prepare(q, sql);
    if (!st) return -EIO;
    va_list ap;
    va_start(ap, fmt);
    int r = sq_bind_or_release(q, st, false, fmt, ap);
    va_end(ap);
    return r < 0 ? r : sq_run_final(q, st, what);
}

int sq_exec_cached(struct sq *q, enum sq_stmt id, const char *what, const char *fmt, ...)
{
    sqlite3_stmt *st = sq_stmt(q, id);
    if (!st) return -EIO;
    va_list ap;
    va_start(ap, fmt);
    int r = sq_bind_or_release(q, st, true, fmt, ap);
    va_end(ap);
    return r < 0 ? r : sq_run_cached(q, st, what);
}

sqlite3_stmt *sq_query(struct sq *q, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = sq_prepare(q, sql);
    if (!st) return NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = sq_bind_or_release(q, st, false, fmt, ap);
    va_end(ap);
    return r < 0 ? NULL : st;
}

sqlite3_stmt *sq_query_cached(struct sq *q, enum sq_stmt id, const char *fmt, ...)
{
    sqlite3_stmt *st = sq_stmt(q, id);
    if (!st) return NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = sq_bind_or_release(q, st, true, fmt, ap);
    va_end(ap);
    return r < 0 ? NULL : st;
}

static int sq_write_begin(struct homing_store *s)
{
    return sq_begin((struct sq *)s, 1);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .inspect = sq_inspect,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .message_add = sq_message_add,
    .message_get = sq_message_get,
    .message_find = sq_message_find,
    .message_list = sq_message_list,
    .message_query = sqlite_message_query,
    .campaigns_list = sqlite_campaigns_list,
    .stats = sqlite_stats,
    .stats_series = sqlite_stats_series,
    .suppress_add = sqlite_suppress_add,
    .suppress_remove = sqlite_suppress_remove,
    .suppress_find = sqlite_suppress_find,
    .suppress_list = sqlite_suppress_list,
    .link_url = sq_link_url,
    .recipient_set_state = sq_recipient_set_state,
    .events_append = sq_events_append,
    .events_append_floods = sq_events_append_all,
    .floods_close = sq_floods_close,
    .events_list = sq_events_list,
    .recipient_events = sqlite_recipient_events,
    .events_count = sq_events_count,
    .report = sq_report,
    .api_key_add = sq_api_key_add,
    .api_key_check = sq_api_key_check,
    .api_key_list = sq_api_key_list,
    .api_key_revoke = sq_api_key_revoke,
    .set_autocheckpoint = sq_set_autocheckpoint,
    .checkpoint = sq_checkpoint,
    .set_wait_hook = sq_set_wait_hook,
    .backup = sq_backup,
    .unmatched_add = sq_unmatched_add,
    .unmatched_list = sq_unmatched_list,
    .sync_get = sq_sync_get,
    .sync_set = sq_sync_set,
    .events_append_once = sq_events_append_once,
    .unmatched_add_once = sq_unmatched_add_once,
    .webhook_add = sq_webhook_add,
    .webhook_list = sq_webhook_list,
    .webhook_disable = sq_webhook_disable,
    .notification_add = sq_notification_add,
    .notifications_list = sq_notifications_list,
    .notification_exists = sq_notification_exists,
    .deliveries_due_fair = sq_deliveries_due_fair,
    .delivery_result = sq_delivery_result,
    .delivery_counts = sq_delivery_counts,
    .cursor_get = sq_cursor_get,
    .cursor_set = sq_cursor_set,
    .notifications_last = sq_notifications_last,
    .tracking_set = sq_tracking_set,
    .tracking_get = sq_tracking_get,
    .write_begin = sq_write_begin,
    .write_commit = sqlite_commit,
    .write_rollback = sqlite_rollback,
    .privacy_clients = sq_privacy_clients,
    .privacy_clients_set = sq_privacy_clients_set,
    .privacy_fks = sq_privacy_fks,
    .privacy_delete = sq_privacy_delete,
    .privacy_retention = sq_privacy_retention,
    .rollups_list = sq_rollups_list,
    .privacy_forget = sq_privacy_forget,
    .seal_batch = sq_seal_batch,
    .seal_events = sq_seal_events,
    .enrichments_put = sq_enrichments_put,
    .enrichments_list = sq_enrichments_list,
    .enrichments_rewrite = sq_enrichments_rewrite,
    .readers_list = sq_readers_list,
    .reader_lookup = sq_reader_lookup,
    .events_stamp = sq_events_stamp,
    .enrichment_flags = sq_enrichment_flags,
    .document_add = sq_document_add,
    .document_get = sq_document_get,
    .document_list = sq_document_list,
    .document_set_digest = sq_document_set_digest,
    .grant_add = sq_grant_add,
    .grant_list = sq_grant_list,
    .grant_revoke = sq_grant_revoke,
    .grant_check = sq_grant_check,
    .relay_user_set = sqlite_relay_user_set,
    .relay_user_get = sqlite_relay_user_get,
    .relay_user_list = sqlite_relay_user_list,
    .relay_user_remove = sqlite_relay_user_remove,
};

const struct homing_store_backend store_backend_sqlite = {
    .scheme = "sqlite",
    .caps = HOMING_STORE_CAP_CHECKPOINT | HOMING_STORE_CAP_BUSY_HOOK | HOMING_STORE_CAP_SYNC |
            HOMING_STORE_CAP_BACKUP,
    .ops = &sqlite_ops,
};
