/*
 * sqlite.c: the SQLite backend of the store (one machine, embedded database).
 *
 * Contract (beyond homing/store.h):
 * - WAL journal, so readers (the CLI, the API) never block the daemon's writer;
 *   synchronous=normal survives a crash of the process, full also a power loss.
 * - busy_timeout: several threads and processes each hold their own handle and
 *   wait for each other's write transactions instead of failing at once.
 * - Every statement is prepared once per handle and cached (the hot calls,
 *   events_append, link_url and api_key_check, then cost a bind/step/reset).
 * - Header fields of events are stored as NULL when empty and read back as "".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <sqlite3.h>

#include "homing/apikey.h"
#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/sqlite_int.h"
#include "lib/store/store_int.h"

#define SQ_BUSY_TIMEOUT_MS 5000 /* how long a handle waits for another's write lock */
#define SQ_BUSY_HOOK_MS    20   /* the wait hook again after this many 1 ms waits */
#define SQ_WAL_RETRY_MS    10   /* pause between attempts to switch a new file to WAL */
#define SQ_ID_ATTEMPTS     8    /* fresh random ids tried on a (rare) collision */
#define SQ_ARRAY_FIRST     64   /* first allocation of a growing result array */
/* Events per multi-row INSERT on the append path: one statement execution per
 * SQ_EVENT_ROWS events costs far less VM setup and AUTOINCREMENT bookkeeping
 * than one per event (measured: about 1.5x the events/s). 32 rows x 12
 * parameters stays far below SQLite's parameter limit. */
#define SQ_EVENT_ROWS   32
#define SQ_EVENT_PARAMS 12

enum sq_stmt {
    ST_BEGIN,
    ST_BEGIN_IMMEDIATE,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SCHEMA_VERSION,
    ST_EVENT_INSERT,
    ST_EVENT_INSERT_MANY, /* SQ_EVENT_ROWS rows; its SQL is built by sq_stmt */
    ST_LINK_URL,
    ST_API_KEY_CHECK,
    ST_MESSAGE_INSERT,
    ST_RECIPIENT_INSERT,
    ST_LINK_INSERT,
    ST_MESSAGE_GET,
    ST_RECIPIENTS_GET,
    ST_LINKS_GET,
    ST_MESSAGE_FIND,
    ST_MESSAGE_LIST,
    ST_MESSAGE_EXISTS,
    ST_SET_STATE,
    ST_EVENTS_LIST_ALL,
    ST_EVENTS_LIST_MESSAGE,
    ST_EVENTS_COUNT_ALL,
    ST_EVENTS_COUNT_MESSAGE,
    ST_REPORT,
    ST_API_KEY_ADD,
    ST_API_KEY_LIST,
    ST_API_KEY_REVOKE,
    ST_CURSOR_SET,    /* per batch of the journal's ingester: cached (migration 0003's table) */
    ST_FLOOD_ADD,     /* per batch of the ingester holding flood counts (0010) */
    ST_READER_LOOKUP, /* per hit of the enrichment thread (0004's tables, 0007's index) */
    /* Per hit of the enrichment and notifier threads: cached, not prepared per
     * call (preparing was 44% and 58% of those threads under load). */
    ST_ENRICH_INSERT,
    ST_READER_UPSERT,
    ST_ENRICH_CURSOR,
    ST_ENRICHMENT_GET,
    ST_NOTIFICATION_EXISTS,
    /* Per page of the enrichment and notifier threads (their caches). */
    ST_EVENTS_STAMP,
    ST_ENRICHMENT_FLAGS,
    ST_COUNT
};

#define EVENT_COLUMNS                                                                              \
    "id, time_us, kind, method, message, recipient, item, client, user_agent, "                    \
    "accept_language, via, from_hdr, detail"

/* The columns bound by bind_event, in its order. */
#define EVENT_INSERT_HEAD                                                                          \
    "INSERT INTO events (time_us, kind, method, message, recipient, item, client, user_agent, "    \
    "accept_language, via, from_hdr, detail) VALUES "
#define EVENT_INSERT_ROW "(?,?,?,?,?,?,?,?,?,?,?,?)"

/* The columns of enrichments, in the order eq_read_row reads them. */
#define ENRICH_COLUMNS                                                                             \
    "event, message, recipient, kind, item, time_us, verdict, confidence, reasons, "               \
    "rules_version, client_family, client_version, os, device, country, asn, as_org, machine, "    \
    "reader, new_reader, forward, json"

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
                          "created_us, campaign) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
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
    [ST_EVENTS_LIST_ALL] = "SELECT " EVENT_COLUMNS " FROM events WHERE id > ?1 "
                           "ORDER BY id LIMIT ?2",
    [ST_EVENTS_LIST_MESSAGE] = "SELECT " EVENT_COLUMNS " FROM events "
                               "WHERE message = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [ST_EVENTS_COUNT_ALL] = "SELECT count(*) FROM events",
    [ST_EVENTS_COUNT_MESSAGE] = "SELECT count(*) FROM events WHERE message = ?1",
    /* One row per registered recipient, plus recipient 0 (per-message tokens)
     * only when it has events. */
    [ST_REPORT] =
        "WITH e AS (SELECT recipient,"
        " count(*) FILTER (WHERE kind = 'open' AND method = 'GET') AS opens,"
        " min(time_us) FILTER (WHERE kind = 'open' AND method = 'GET') AS first_open,"
        " max(time_us) FILTER (WHERE kind = 'open' AND method = 'GET') AS last_open,"
        " count(*) FILTER (WHERE method = 'HEAD') AS probes,"
        " count(*) FILTER (WHERE kind = 'click' AND method = 'GET') AS clicks,"
        " min(time_us) FILTER (WHERE kind = 'click' AND method = 'GET') AS first_click,"
        " max(time_us) FILTER (WHERE kind = 'click' AND method = 'GET') AS last_click"
        " FROM events WHERE message = ?1 GROUP BY recipient) "
        "SELECT 0, NULL, NULL, 0, opens, first_open, last_open, probes, clicks, first_click,"
        " last_click FROM e WHERE recipient = 0 "
        "UNION ALL "
        "SELECT r.idx, r.address, r.state, r.state_us, e.opens, e.first_open, e.last_open,"
        " e.probes, e.clicks, e.first_click, e.last_click"
        " FROM recipients r LEFT JOIN e ON e.recipient = r.idx WHERE r.message = ?1 "
        "ORDER BY 1",
    [ST_API_KEY_ADD] =
        "INSERT INTO api_keys (name, hash, created_us, scope) VALUES (?1, ?2, ?3, ?4)",
    [ST_API_KEY_LIST] = "SELECT id, name, created_us, coalesce(revoked_us, 0), scope FROM api_keys "
                        "ORDER BY id",
    [ST_API_KEY_REVOKE] = "UPDATE api_keys SET revoked_us = ?1 "
                          "WHERE name = ?2 AND revoked_us IS NULL",
};

struct sq {
    struct homing_store base; /* first: the public handle points here */
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT];
};

sqlite3 *sqlite_db(struct homing_store *s)
{
    return ((struct sq *)s)->db;
}

/* homing_store_set_wait_hook: process-wide, read at each wait. */
static void (*_Atomic wait_hook)(void);

void homing_store_set_wait_hook(void (*hook)(void))
{
    wait_hook = hook;
}

/* Waiting for another handle's write lock. No loop thread writes to the
 * store (hits go through the journal, document grants through the ingester),
 * so the waiters are the background threads, the admin thread and the CLI:
 * 1 ms sleeps, SQ_BUSY_TIMEOUT_MS in all, and the hook at the first wait and
 * every SQ_BUSY_HOOK_MS after, so that a holder parked in SCHED_IDLE by a
 * flood gets the CPU (thread.h): the daemon's watch puts the background
 * threads back in SCHED_IDLE a few times a second while the flood lasts, and
 * a raise at the first wait only was undone before a slow holder finished (an
 * API registration waited the whole 5 s under ASan on a loaded machine). */
static int sq_busy_wait(void *arg, int count)
{
    (void)arg;
    void (*hook)(void) = wait_hook;
    if (hook && count % SQ_BUSY_HOOK_MS == 0) hook();
    if (count >= SQ_BUSY_TIMEOUT_MS) return 0;
    usleep(1000);
    return 1;
}

static const struct store_ops sqlite_ops;

/* Maps an SQLite result code to a negative errno and records the message. */
static int sq_fail(struct sq *q, int rc, const char *what)
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
static sqlite3_stmt *sq_stmt(struct sq *q, enum sq_stmt id)
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
static int sq_run_cached(struct sq *q, sqlite3_stmt *st, const char *what)
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

static int sq_begin(struct sq *q, int write)
{
    return sq_run(q, write ? ST_BEGIN_IMMEDIATE : ST_BEGIN, "begin");
}

static int sq_commit(struct sq *q)
{
    return sq_run(q, ST_COMMIT, "commit");
}

/* Rolls back if a transaction is still open (SQLite ends some by itself). Keeps
 * the first error message, which is the one worth showing. */
static void sq_rollback(struct sq *q)
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
static int bind_opt(sqlite3_stmt *st, int i, const char *s, size_t cap)
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
static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    homing_strlcpy(dst, t ? t : "", cap);
}

/* A malloc'd copy of a text column, or NULL for SQL NULL; -ENOMEM. */
static int col_dup(sqlite3_stmt *st, int i, char **out)
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
static int grow(void **arr, size_t *cap, size_t used, size_t el)
{
    return homing_array_grow(arr, cap, used, el, SQ_ARRAY_FIRST);
}

static const char *mode_name(int mode)
{
    return mode == HOMING_MODE_PER_MESSAGE ? "per-message" : "per-recipient";
}

static int mode_parse(const char *s)
{
    return s && strcmp(s, "per-message") == 0 ? HOMING_MODE_PER_MESSAGE : HOMING_MODE_PER_RECIPIENT;
}

/* ---- opening and migrations ---- */

static int exec_err(sqlite3 *db, const char *sql, char *err, size_t errcap, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return 0;
    if (err && errcap) snprintf(err, errcap, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
}

static int read_version(struct sq *q, int *version)
{
    sqlite3_stmt *st = sq_stmt(q, ST_SCHEMA_VERSION);
    if (!st) return -EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *version = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : sq_fail(q, rc, "schema version");
}

/* Applies each missing migration in its own transaction. Several processes may
 * open a new database at once: the version is read again under the write lock,
 * so each migration runs exactly once. */
static int sq_migrate(struct sq *q, char *err, size_t errcap)
{
    int r = exec_err(q->db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY, applied_us INTEGER NOT NULL)",
                     err, errcap, "creating schema_migrations");
    if (r < 0) return r;
    int have = 0;
    if ((r = read_version(q, &have)) < 0) goto fail;
    const int known = (int)store_migrations_sqlite_count;
    if (have > known) {
        snprintf(err, errcap,
                 "database schema version %d is newer than this homing knows (%d): "
                 "upgrade homing",
                 have, known);
        return -EPROTO;
    }
    for (int v = have + 1; v <= known; v++) {
        const struct store_migration *m = &store_migrations_sqlite[v - 1];
        if ((r = sq_begin(q, 1)) < 0) goto fail;
        int now;
        if ((r = read_version(q, &now)) < 0) goto fail_tx;
        if (now >= v) {
            if ((r = sq_commit(q)) < 0) goto fail_tx;
            continue;
        }
        char what[128];
        snprintf(what, sizeof what, "migration %s", m->name);
        if ((r = exec_err(q->db, m->sql, err, errcap, what)) < 0) {
            sq_rollback(q);
            return r;
        }
        char ins[128];
        snprintf(ins, sizeof ins,
                 "INSERT INTO schema_migrations (version, applied_us) VALUES (%d, %lld)", v,
                 (long long)homing_now_us());
        if ((r = exec_err(q->db, ins, err, errcap, what)) < 0) {
            sq_rollback(q);
            return r;
        }
        if ((r = sq_commit(q)) < 0) goto fail_tx;
    }
    return 0;
fail_tx:
    sq_rollback(q);
fail:
    snprintf(err, errcap, "migrating: %s", q->base.errmsg);
    return r;
}

/* Switches the journal to WAL. On a brand-new database several processes race
 * to do it, and SQLite does not call the busy handler for this pragma: the
 * losers get SQLITE_BUSY at once, so we wait and retry within the same budget
 * as the busy timeout. Once the file is in WAL mode the pragma takes no lock. */
static int sq_set_wal(struct sq *q, const char *path, char *err, size_t errcap)
{
    for (int waited = 0;; waited += SQ_WAL_RETRY_MS) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(q->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK) rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(st, 0);
            int ok = mode && (strcmp(mode, "wal") == 0 ||
                              (strcmp(mode, "memory") == 0 && strcmp(path, ":memory:") == 0));
            sqlite3_finalize(st);
            if (ok) return 0;
            snprintf(err, errcap, "%s: cannot switch to WAL journal mode", path);
            return -EIO;
        }
        sqlite3_finalize(st);
        int busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
        if (!busy || waited >= SQ_BUSY_TIMEOUT_MS) {
            snprintf(err, errcap, "%s: cannot use WAL: %s", path, sqlite3_errmsg(q->db));
            return busy ? -EBUSY : (rc & 0xff) == SQLITE_NOTADB ? -EINVAL : -EIO;
        }
        struct timespec ts = {0, SQ_WAL_RETRY_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void sq_close(struct homing_store *s)
{
    struct sq *q = (struct sq *)s;
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(q->stmts[i]);
    sqlite3_close_v2(q->db);
    free(q);
}

int store_sqlite_open(const char *path, const char *sync, struct homing_store **out, char *err,
                      size_t errcap)
{
    struct sq *q = calloc(1, sizeof *q);
    if (!q) return -ENOMEM;
    q->base.ops = &sqlite_ops;
    int r = -EIO;
    /* NOMUTEX: a handle is used by one thread at a time (store.h contract). */
    int rc = sqlite3_open_v2(
        path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errcap, "%s: %s", path, q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
        r = rc == SQLITE_NOMEM ? -ENOMEM : (rc & 0xff) == SQLITE_CANTOPEN ? -ENOENT : -EIO;
        goto fail;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_handler(q->db, sq_busy_wait, NULL);
    if ((r = exec_err(q->db, "PRAGMA foreign_keys = ON", err, errcap, path)) < 0) goto fail;

    if ((r = sq_set_wal(q, path, err, errcap)) < 0) goto fail;
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous = %s",
             strcmp(sync, "full") == 0 ? "FULL" : "NORMAL");
    if ((r = exec_err(q->db, pragma, err, errcap, path)) < 0) goto fail;
    if ((r = sq_migrate(q, err, errcap)) < 0) goto fail;
    *out = &q->base;
    return 0;
fail:
    sq_close(&q->base);
    return r;
}

int store_sqlite_inspect(const char *path, int *version, int *latest, char *err, size_t errcap)
{
    if (access(path, F_OK) < 0) {
        int e = errno;
        snprintf(err, errcap, "%s: %s", path, strerror(e));
        return -e;
    }
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *st = NULL;
    int have = 0, r = 0;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, SQ_BUSY_TIMEOUT_MS);
        /* No table yet: a database homing never migrated. */
        rc = sqlite3_prepare_v2(db,
                                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                "name = 'schema_migrations'",
                                -1, &st, NULL);
        if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0)) {
            sqlite3_finalize(st);
            rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                                    -1, &st, NULL);
            if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) have = sqlite3_column_int(st, 0);
        }
        if (rc == SQLITE_OK) rc = sqlite3_errcode(db);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errcap, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        r = -EIO;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (r < 0) return r;
    *version = have;
    *latest = (int)store_migrations_sqlite_count;
    return 0;
}

static int sq_schema_version(struct homing_store *s, int *version)
{
    return read_version((struct sq *)s, version);
}

/* ---- messages ---- */

static int sq_message_add(struct homing_store *s, const struct homing_message_spec *m,
                          uint64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    int64_t now = homing_now_us();
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st = sq_stmt(q, ST_MESSAGE_INSERT);
    if (!st) goto fail_io;
    uint64_t id = 0;
    int rc = SQLITE_CONSTRAINT_PRIMARYKEY;
    for (int attempt = 0; attempt < SQ_ID_ATTEMPTS && rc == SQLITE_CONSTRAINT_PRIMARYKEY;
         attempt++) {
        id = homing_id_random();
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        bind_opt(st, 2, m->message_id, 0);
        bind_opt(st, 3, m->subject, 0);
        bind_opt(st, 4, m->sender, 0);
        sqlite3_bind_text(st, 5, mode_name(m->mode), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, now);
        bind_opt(st, 7, m->campaign, 0);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE) {
        r = sq_fail(q, rc, "adding message");
        if (r == -EEXIST) r = -EIO;
        goto fail;
    }

    if (m->n_recipients && !(st = sq_stmt(q, ST_RECIPIENT_INSERT))) goto fail_io;
    for (size_t i = 0; i < m->n_recipients; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(i + 1));
        sqlite3_bind_text(st, 3, m->recipients[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            r = sq_fail(q, rc, "adding recipient");
            goto fail;
        }
    }
    if (m->n_links && !(st = sq_stmt(q, ST_LINK_INSERT))) goto fail_io;
    for (size_t i = 0; i < m->n_links; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(i + 1));
        sqlite3_bind_text(st, 3, m->links[i], -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            r = sq_fail(q, rc, "adding link");
            goto fail;
        }
    }
    if ((r = sq_commit(q)) < 0) goto fail;
    *id_out = id;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    return r;
}

/* Reads the message columns of ST_MESSAGE_GET / ST_MESSAGE_LIST (and the
 * stats queries, sqlite_stats.c) into m. */
int sqlite_read_message_row(sqlite3_stmt *st, struct homing_message *m)
{
    m->id = (uint64_t)sqlite3_column_int64(st, 0);
    int r;
    if ((r = col_dup(st, 1, &m->message_id)) < 0 || (r = col_dup(st, 2, &m->subject)) < 0 ||
        (r = col_dup(st, 3, &m->sender)) < 0 || (r = col_dup(st, 6, &m->campaign)) < 0)
        return r;
    m->mode = mode_parse((const char *)sqlite3_column_text(st, 4));
    m->created_us = sqlite3_column_int64(st, 5);
    return 0;
}

static int read_recipients(struct sq *q, struct homing_message *m)
{
    sqlite3_stmt *st = sq_stmt(q, ST_RECIPIENTS_GET);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)m->id);
    size_t cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&m->recipients, &cap, m->n_recipients, sizeof *m->recipients)) < 0)
            break;
        struct homing_recipient *rc_ = &m->recipients[m->n_recipients++];
        rc_->index = (uint32_t)sqlite3_column_int64(st, 0);
        rc_->state_us = sqlite3_column_int64(st, 3);
        if ((r = col_dup(st, 1, &rc_->address)) < 0 || (r = col_dup(st, 2, &rc_->state)) < 0) break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "reading recipients");
    sqlite3_reset(st);
    return r;
}

static int read_links(struct sq *q, struct homing_message *m)
{
    sqlite3_stmt *st = sq_stmt(q, ST_LINKS_GET);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)m->id);
    size_t cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&m->links, &cap, m->n_links, sizeof *m->links)) < 0) break;
        struct homing_link *l = &m->links[m->n_links++];
        l->index = (uint32_t)sqlite3_column_int64(st, 0);
        if ((r = col_dup(st, 1, &l->url)) < 0) break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "reading links");
    sqlite3_reset(st);
    return r;
}

static int sq_message_get(struct homing_store *s, uint64_t id, struct homing_message **out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_MESSAGE_GET);
    if (!st) return -EIO;
    struct homing_message *m = calloc(1, sizeof *m);
    if (!m) return -ENOMEM;
    /* One read transaction: the three queries see the same snapshot. */
    int r = sq_begin(q, 0);
    if (r < 0) goto fail;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = sqlite_read_message_row(st, m);
    else
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading message");
    sqlite3_reset(st);
    if (r == 0) r = read_recipients(q, m);
    if (r == 0) r = read_links(q, m);
    if (r == 0) r = sq_commit(q);
    if (r < 0) goto fail;
    *out = m;
    return 0;
fail:
    sq_rollback(q);
    homing_message_free(m);
    return r;
}

static int sq_message_find(struct homing_store *s, const char *bare_id, size_t len,
                           uint64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_MESSAGE_FIND);
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, bare_id, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = 0;
    uint64_t id = 0;
    if (rc == SQLITE_ROW) {
        id = (uint64_t)sqlite3_column_int64(st, 0);
        /* a second message with the same Message-ID: which one is meant
         * cannot be told, and guessing the newest misattributed reports */
        rc = sqlite3_step(st);
        r = rc == SQLITE_ROW    ? -ENOTUNIQ
            : rc == SQLITE_DONE ? 0
                                : sq_fail(q, rc, "finding message");
    } else {
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "finding message");
    }
    sqlite3_reset(st);
    if (r == 0) *id_out = id;
    return r;
}

static int sq_message_list(struct homing_store *s, size_t limit, struct homing_message **out,
                           size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_MESSAGE_LIST);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
    struct homing_message *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        if ((r = sqlite_read_message_row(st, &arr[used++])) < 0) break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing messages");
    sqlite3_reset(st);
    if (r < 0) {
        homing_messages_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

static int sq_link_url(struct homing_store *s, uint64_t message, uint32_t index, char **url_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_LINK_URL);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
    sqlite3_bind_int64(st, 2, index);
    int rc = sqlite3_step(st), r;
    char *url = NULL;
    if (rc == SQLITE_ROW)
        r = col_dup(st, 0, &url);
    else
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading link");
    sqlite3_reset(st);
    if (r == 0 && !url) r = -ENOENT;
    if (r < 0) return r;
    *url_out = url;
    return 0;
}

static int sq_recipient_set_state(struct homing_store *s, uint64_t message, uint32_t index,
                                  const char *state, int64_t at_us)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_SET_STATE);
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at_us);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)message);
    sqlite3_bind_int64(st, 4, index);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return sq_fail(q, rc, "setting recipient state");
    return sqlite3_changes(q->db) ? 0 : -ENOENT;
}

/* ---- events ---- */

/* Binds event e to parameters base+1 .. base+SQ_EVENT_PARAMS. Header fields
 * are bound in place (SQLITE_STATIC): no copy, no allocation per event. */
static void bind_event(sqlite3_stmt *st, int base, const struct homing_event *e)
{
    sqlite3_bind_int64(st, base + 1, e->time_us);
    sqlite3_bind_text(st, base + 2, homing_event_kind_name(e->kind), -1, SQLITE_STATIC);
    if (e->method == HOMING_METHOD_GET || e->method == HOMING_METHOD_HEAD)
        sqlite3_bind_text(st, base + 3, homing_http_method_name(e->method), -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, base + 3);
    sqlite3_bind_int64(st, base + 4, (sqlite3_int64)e->message);
    sqlite3_bind_int64(st, base + 5, e->recipient);
    sqlite3_bind_int64(st, base + 6, e->item);
    bind_opt(st, base + 7, e->client, sizeof e->client);
    bind_opt(st, base + 8, e->user_agent, sizeof e->user_agent);
    bind_opt(st, base + 9, e->accept_language, sizeof e->accept_language);
    bind_opt(st, base + 10, e->via, sizeof e->via);
    bind_opt(st, base + 11, e->from, sizeof e->from);
    bind_opt(st, base + 12, e->detail, 0);
}

/* The group-commit hot path: one IMMEDIATE transaction for the batch, cached
 * statements, SQ_EVENT_ROWS events per statement execution while enough are
 * left, then one at a time. Within one INSERT an AUTOINCREMENT table hands out
 * consecutive ids (we hold the write lock), so the ids of a multi-row step are
 * the last_insert_rowid and the ones just before it. */
static int sq_cursor_set(struct homing_store *s, const char *name, int64_t event);

static sqlite3_stmt *nq_prepare(struct sq *q, const char *sql);

static int sq_flood_add(struct sq *q, const struct homing_flood_count *f)
{
    sqlite3_stmt *st = sq_stmt(q, ST_FLOOD_ADD);
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, f->client, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)f->message);
    sqlite3_bind_int64(st, 3, f->recipient);
    sqlite3_bind_int64(st, 4, f->item);
    sqlite3_bind_text(st, 5, homing_event_kind_name(f->kind), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)f->dropped);
    sqlite3_bind_int64(st, 7, f->first_us);
    sqlite3_bind_int64(st, 8, f->last_us);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(q, rc, "adding a flood count");
}

static int sq_events_append_all(struct homing_store *s, struct homing_event *evs, size_t n,
                                const struct homing_flood_count *floods, size_t nf,
                                const char *cursor, int64_t position)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *one = sq_stmt(q, ST_EVENT_INSERT);
    sqlite3_stmt *many = n >= SQ_EVENT_ROWS ? sq_stmt(q, ST_EVENT_INSERT_MANY) : NULL;
    if (!one || (n >= SQ_EVENT_ROWS && !many)) return -EIO;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    size_t done = 0;
    while (done < n) {
        size_t k = n - done >= SQ_EVENT_ROWS ? SQ_EVENT_ROWS : 1;
        sqlite3_stmt *st = k > 1 ? many : one;
        for (size_t i = 0; i < k; i++) bind_event(st, (int)i * SQ_EVENT_PARAMS, &evs[done + i]);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            r = sq_fail(q, rc, "appending event");
            if (r == -EEXIST) r = -EINVAL; /* a CHECK failed: bad detail JSON */
            goto fail;
        }
        int64_t last = sqlite3_last_insert_rowid(q->db);
        for (size_t i = 0; i < k; i++) evs[done + i].id = last - (int64_t)(k - 1 - i);
        done += k;
    }
    for (size_t i = 0; i < nf; i++)
        if ((r = sq_flood_add(q, &floods[i])) < 0) goto fail;
    if (cursor && (r = sq_cursor_set(s, cursor, position)) < 0) goto fail;
    if ((r = sq_commit(q)) < 0) goto fail;
    return 0;
fail:
    sq_rollback(q);
    /* Nothing was stored: take back the ids handed out so far. */
    for (size_t i = 0; i < done; i++) evs[i].id = 0;
    return r;
}

static int sq_events_append(struct homing_store *s, struct homing_event *evs, size_t n,
                            const char *cursor, int64_t position)
{
    return sq_events_append_all(s, evs, n, NULL, 0, cursor, position);
}

/* Not per hit: a pending flood is closed a few seconds after it ends. */
static int sq_floods_close(struct homing_store *s, int64_t before_us, size_t *closed, size_t *left)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st = nq_prepare(
        q, "INSERT INTO events (time_us, kind, method, message, recipient, item, client, detail) "
           "SELECT last_us, 'suppressed', NULL, message, recipient, item, client, "
           "'{\"dropped\":' || dropped || ',\"of\":\"' || kind || '\"}' "
           "FROM flood_pending WHERE last_us < ?1 ORDER BY first_us");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, before_us);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        r = sq_fail(q, rc, "closing floods");
        goto fail;
    }
    *closed = (size_t)sqlite3_changes(q->db);
    if (!(st = nq_prepare(q, "DELETE FROM flood_pending WHERE last_us < ?1"))) goto fail_io;
    sqlite3_bind_int64(st, 1, before_us);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        r = sq_fail(q, rc, "closing floods");
        goto fail;
    }
    if (!(st = nq_prepare(q, "SELECT count(*) FROM flood_pending"))) goto fail_io;
    rc = sqlite3_step(st);
    *left = rc == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        r = sq_fail(q, rc, "counting floods");
        goto fail;
    }
    if ((r = sq_commit(q)) < 0) goto fail;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    return r;
}

static void read_event_row(sqlite3_stmt *st, struct homing_event *e)
{
    e->id = sqlite3_column_int64(st, 0);
    e->time_us = sqlite3_column_int64(st, 1);
    const char *kind = (const char *)sqlite3_column_text(st, 2);
    e->kind = (uint16_t)(kind ? homing_event_kind_parse(kind) : HOMING_EV_NONE);
    const char *method = (const char *)sqlite3_column_text(st, 3);
    e->method = !method                       ? HOMING_METHOD_OTHER
                : strcmp(method, "GET") == 0  ? HOMING_METHOD_GET
                : strcmp(method, "HEAD") == 0 ? HOMING_METHOD_HEAD
                                              : HOMING_METHOD_OTHER;
    e->message = (uint64_t)sqlite3_column_int64(st, 4);
    e->recipient = (uint32_t)sqlite3_column_int64(st, 5);
    e->item = (uint32_t)sqlite3_column_int64(st, 6);
    col_copy(st, 7, e->client, sizeof e->client);
    col_copy(st, 8, e->user_agent, sizeof e->user_agent);
    col_copy(st, 9, e->accept_language, sizeof e->accept_language);
    col_copy(st, 10, e->via, sizeof e->via);
    col_copy(st, 11, e->from, sizeof e->from);
}

static int sq_events_list(struct homing_store *s, uint64_t message, int64_t after, size_t limit,
                          struct homing_event **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, message ? ST_EVENTS_LIST_MESSAGE : ST_EVENTS_LIST_ALL);
    if (!st) return -EIO;
    int p = 1;
    if (message) sqlite3_bind_int64(st, p++, (sqlite3_int64)message);
    sqlite3_bind_int64(st, p++, after);
    sqlite3_bind_int64(st, p, (sqlite3_int64)limit);
    struct homing_event *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* grow() zeroes new slots, so a partly read array frees cleanly. */
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_event *e = &arr[used++];
        read_event_row(st, e);
        if ((r = col_dup(st, 12, &e->detail)) < 0) break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing events");
    sqlite3_reset(st);
    if (r < 0) {
        homing_events_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

static int sq_events_count(struct homing_store *s, uint64_t message, int64_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, message ? ST_EVENTS_COUNT_MESSAGE : ST_EVENTS_COUNT_ALL);
    if (!st) return -EIO;
    if (message) sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        r = sq_fail(q, rc, "counting events");
    sqlite3_reset(st);
    return r;
}

static int sq_report(struct homing_store *s, uint64_t message, struct homing_report_row **rows,
                     size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *ex = sq_stmt(q, ST_MESSAGE_EXISTS), *st = sq_stmt(q, ST_REPORT);
    if (!ex || !st) return -EIO;
    int r = sq_begin(q, 0);
    if (r < 0) return r;
    sqlite3_bind_int64(ex, 1, (sqlite3_int64)message);
    int rc = sqlite3_step(ex);
    sqlite3_reset(ex);
    if (rc != SQLITE_ROW) {
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading message");
        sq_rollback(q);
        return r;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
    struct homing_report_row *arr = NULL;
    size_t cap = 0, used = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_report_row *w = &arr[used++];
        w->recipient = (uint32_t)sqlite3_column_int64(st, 0);
        if ((r = col_dup(st, 1, &w->address)) < 0 || (r = col_dup(st, 2, &w->state)) < 0) break;
        if (!w->state && !(w->state = strdup(""))) {
            r = -ENOMEM;
            break;
        }
        /* NULL aggregates (no events) read as 0. */
        w->state_us = sqlite3_column_int64(st, 3);
        w->opens = sqlite3_column_int64(st, 4);
        w->first_open_us = sqlite3_column_int64(st, 5);
        w->last_open_us = sqlite3_column_int64(st, 6);
        w->probes = sqlite3_column_int64(st, 7);
        w->clicks = sqlite3_column_int64(st, 8);
        w->first_click_us = sqlite3_column_int64(st, 9);
        w->last_click_us = sqlite3_column_int64(st, 10);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "reporting");
    sqlite3_reset(st);
    if (r == 0) r = sq_commit(q);
    if (r < 0) {
        sq_rollback(q);
        homing_report_free(arr, used);
        return r;
    }
    *rows = arr;
    *n = used;
    return 0;
}

/* ---- API keys ---- */

static int sq_api_key_add(struct homing_store *s, const char *name, const uint8_t hash[32],
                          int scope, int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_API_KEY_ADD);
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, homing_now_us());
    sqlite3_bind_text(st, 4, homing_apikey_scope_name(scope), -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_DONE) {
        if (id_out) *id_out = sqlite3_last_insert_rowid(q->db);
    } else {
        r = sq_fail(q, rc, "adding API key");
        if (r == -EEXIST) store_set_error(s, "an active API key is already named '%s'", name);
    }
    sqlite3_reset(st);
    return r;
}

static int sq_api_key_check(struct homing_store *s, const uint8_t hash[32])
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_API_KEY_CHECK);
    if (!st) return -EIO;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st), r;
    if (rc == SQLITE_ROW) {
        /* The column's CHECK allows only the three names; anything else would
         * be a hand-edited row, and gets no access rather than a guess. */
        r = homing_apikey_scope_parse((const char *)sqlite3_column_text(st, 0));
        if (r < 0) r = -EACCES;
    } else
        r = rc == SQLITE_DONE ? -EACCES : sq_fail(q, rc, "checking API key");
    sqlite3_reset(st);
    return r;
}

static int sq_api_key_list(struct homing_store *s, struct homing_api_key_info **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_API_KEY_LIST);
    if (!st) return -EIO;
    struct homing_api_key_info *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_api_key_info *k = &arr[used++];
        k->id = sqlite3_column_int64(st, 0);
        k->created_us = sqlite3_column_int64(st, 2);
        k->revoked_us = sqlite3_column_int64(st, 3);
        k->scope = homing_apikey_scope_parse((const char *)sqlite3_column_text(st, 4));
        if ((r = col_dup(st, 1, &k->name)) < 0) break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing API keys");
    sqlite3_reset(st);
    if (r < 0) {
        homing_api_keys_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

static int sq_api_key_revoke(struct homing_store *s, const char *name)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_API_KEY_REVOKE);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, homing_now_us());
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return sq_fail(q, rc, "revoking API key");
    return sqlite3_changes(q->db) ? 0 : -ENOENT;
}

static int sq_set_autocheckpoint(struct homing_store *s, int pages)
{
    struct sq *q = (struct sq *)s;
    sqlite3_wal_autocheckpoint(q->db, pages);
    return 0;
}

static int sq_checkpoint(struct homing_store *s)
{
    struct sq *q = (struct sq *)s;
    int rc = sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    /* BUSY only means a writer held the lock this time; the next call goes on. */
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) return sq_fail(q, rc, "checkpoint");
    return 0;
}

/* One backup step for all pages: one read transaction, which in WAL mode
 * never blocks the daemon's writers (and is never restarted by them, as a
 * copy in several steps would be by every commit in between). BUSY only
 * happens when a writer holds the database in rollback mode: tried again. */
static int sq_backup(struct homing_store *s, const char *dest)
{
    struct sq *q = (struct sq *)s;
    if (access(dest, F_OK) == 0) {
        store_set_error(s, "backup: %s exists", dest);
        return -EEXIST;
    }
    sqlite3 *out = NULL;
    int rc = sqlite3_open_v2(dest, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        store_set_error(s, "backup: cannot create %s: %s", dest,
                        out ? sqlite3_errmsg(out) : "out of memory");
        sqlite3_close(out);
        unlink(dest);
        return -EIO;
    }
    sqlite3_backup *b = sqlite3_backup_init(out, "main", q->db, "main");
    if (!b) {
        store_set_error(s, "backup: %s", sqlite3_errmsg(out));
        sqlite3_close(out);
        unlink(dest);
        return -EIO;
    }
    do {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) usleep(10000);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    int r = 0;
    if (rc != SQLITE_DONE) {
        store_set_error(s, "backup: %s", sqlite3_errstr(rc));
        r = -EIO;
    } else if (sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        /* one file, no -wal beside it: the copy moves as it is */
        store_set_error(s, "backup: %s", sqlite3_errmsg(out));
        r = -EIO;
    }
    if (sqlite3_close(out) != SQLITE_OK && r == 0) r = -EIO;
    if (r < 0) unlink(dest);
    return r;
}

/* ---- delivery (migration 0002) ----
 * These run a few times per report or log line, not per hit: their statements
 * are prepared per call rather than cached with the hot ones. */

static sqlite3_stmt *dq_prepare(struct sq *q, const char *sql)
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

static int sq_unmatched_add(struct homing_store *s, const char *source, const char *kind,
                            const char *reason, const char *raw, size_t raw_len, int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = dq_prepare(q, "INSERT INTO unmatched_reports (time_us, source, kind, "
                                     "reason, raw) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, homing_now_us());
    sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
    if (raw)
        sqlite3_bind_blob(st, 5, raw, (int)raw_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? 0 : sq_fail(q, rc, "keeping unmatched report");
    sqlite3_finalize(st);
    if (r == 0) *id_out = sqlite3_last_insert_rowid(q->db);
    return r;
}

static int sq_unmatched_list(struct homing_store *s, int64_t after, size_t limit, int with_raw,
                             struct homing_unmatched **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = dq_prepare(q, "SELECT id, time_us, source, kind, reason, "
                                     "CASE WHEN ?3 THEN raw END FROM unmatched_reports "
                                     "WHERE id > ?1 ORDER BY id LIMIT ?2");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    sqlite3_bind_int(st, 3, with_raw ? 1 : 0);
    struct homing_unmatched *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_unmatched *u = &arr[used++];
        u->id = sqlite3_column_int64(st, 0);
        u->time_us = sqlite3_column_int64(st, 1);
        if ((r = col_dup(st, 2, &u->source)) < 0 || (r = col_dup(st, 3, &u->kind)) < 0 ||
            (r = col_dup(st, 4, &u->reason)) < 0)
            break;
        const void *b = sqlite3_column_blob(st, 5);
        int bl = sqlite3_column_bytes(st, 5);
        if (b) {
            if (!(u->raw = malloc((size_t)bl + 1))) {
                r = -ENOMEM;
                break;
            }
            memcpy(u->raw, b, (size_t)bl);
            u->raw[bl] = '\0';
            u->raw_len = (size_t)bl;
        }
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing unmatched reports");
    sqlite3_finalize(st);
    if (r < 0) {
        homing_unmatched_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

static int sq_sync_get(struct homing_store *s, const char *name, char **value_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = dq_prepare(q, "SELECT value FROM sync_state WHERE name = ?1");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r;
    char *v = NULL;
    if (rc == SQLITE_ROW)
        r = col_dup(st, 0, &v);
    else
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading sync state");
    sqlite3_finalize(st);
    if (r == 0 && !v) r = -ENOENT;
    if (r < 0) return r;
    *value_out = v;
    return 0;
}

static int sq_sync_set(struct homing_store *s, const char *name, const char *value)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        dq_prepare(q, "INSERT INTO sync_state (name, value, updated_us) "
                      "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE "
                      "SET value = excluded.value, updated_us = excluded.updated_us");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, homing_now_us());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(q, rc, "writing sync state");
}

static int sq_events_append_once(struct homing_store *s, const char *key, struct homing_event *evs,
                                 size_t n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = dq_prepare(q, "INSERT OR IGNORE INTO ingest_seen (key, time_us) "
                                     "VALUES (?1, ?2)");
    sqlite3_stmt *one = sq_stmt(q, ST_EVENT_INSERT);
    if (!st || !one) {
        sqlite3_finalize(st);
        return -EIO;
    }
    int r = sq_begin(q, 1);
    size_t done = 0;
    if (r < 0) goto out;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, homing_now_us());
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        r = sq_fail(q, rc, "recording ingest key");
        goto fail;
    }
    if (sqlite3_changes(q->db) == 0) {
        r = -EALREADY;
        goto fail;
    }
    for (; done < n; done++) {
        bind_event(one, 0, &evs[done]);
        rc = sqlite3_step(one);
        sqlite3_reset(one);
        if (rc != SQLITE_DONE) {
            r = sq_fail(q, rc, "appending event");
            if (r == -EEXIST) r = -EINVAL;
            goto fail;
        }
        evs[done].id = sqlite3_last_insert_rowid(q->db);
    }
    if ((r = sq_commit(q)) < 0) goto fail;
    goto out;
fail:
    sq_rollback(q);
    for (size_t i = 0; i < done; i++) evs[i].id = 0;
out:
    sqlite3_finalize(st);
    return r;
}

/* The claim and the kept report in one transaction (the claim's own statement
 * runs through events_append_once's path with no events). */
static int sq_unmatched_add_once(struct homing_store *s, const char *key, const char *source,
                                 const char *kind, const char *reason, const char *raw,
                                 size_t raw_len, int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st = dq_prepare(q, "INSERT OR IGNORE INTO ingest_seen (key, time_us) "
                                     "VALUES (?1, ?2)");
    if (!st) {
        r = -EIO;
        goto fail;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, homing_now_us());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        r = sq_fail(q, rc, "recording ingest key");
        goto fail;
    }
    if (sqlite3_changes(q->db) == 0) {
        r = -EALREADY;
        goto fail;
    }
    if ((r = sq_unmatched_add(s, source, kind, reason, raw, raw_len, id_out)) < 0) goto fail;
    if ((r = sq_commit(q)) < 0) goto fail;
    return 0;
fail:
    sq_rollback(q);
    return r;
}

/* ---- notifications (migration 0003) ----
 * Called by the notifier a few times per poll and by the CLI, not per hit:
 * statements are prepared per call, like the delivery ones. */

static sqlite3_stmt *nq_prepare(struct sq *q, const char *sql)
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

/* Runs a statement that returns no rows and finalizes it. */
static int nq_run(struct sq *q, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? 0 : sq_fail(q, rc, what);
    sqlite3_finalize(st);
    return r;
}

static int sq_webhook_add(struct homing_store *s, const char *url, const char *events,
                          const char *secret, int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = nq_prepare(q, "INSERT INTO webhooks (url, events, secret, created_us) "
                                     "VALUES (?1, ?2, ?3, ?4)");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, events, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, secret, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, homing_now_us());
    int r = nq_run(q, st, "adding webhook");
    if (r == 0 && id_out) *id_out = sqlite3_last_insert_rowid(q->db);
    return r;
}

static int sq_webhook_list(struct homing_store *s, int64_t only_id, struct homing_webhook **out,
                           size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        nq_prepare(q, "SELECT id, url, events, secret, created_us, coalesce(disabled_us, 0) "
                      "FROM webhooks WHERE ?1 = 0 OR id = ?1 ORDER BY id");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, only_id);
    struct homing_webhook *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_webhook *w = &arr[used++];
        w->id = sqlite3_column_int64(st, 0);
        w->created_us = sqlite3_column_int64(st, 4);
        w->disabled_us = sqlite3_column_int64(st, 5);
        if ((r = col_dup(st, 1, &w->url)) < 0 || (r = col_dup(st, 2, &w->events)) < 0 ||
            (r = col_dup(st, 3, &w->secret)) < 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing webhooks");
    sqlite3_finalize(st);
    if (r < 0) {
        homing_webhooks_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

static int sq_webhook_disable(struct homing_store *s, int64_t id)
{
    struct sq *q = (struct sq *)s;
    int64_t now = homing_now_us();
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st =
        nq_prepare(q, "UPDATE webhooks SET disabled_us = ?1 WHERE id = ?2 AND disabled_us IS NULL");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    if ((r = nq_run(q, st, "disabling webhook")) < 0) goto fail;
    if (sqlite3_changes(q->db) == 0) {
        r = -ENOENT;
        goto fail;
    }
    /* Nobody will take them: pending deliveries end as failed, not pending forever. */
    st = nq_prepare(q, "UPDATE deliveries SET failed_us = ?1, last_error = 'webhook removed' "
                       "WHERE webhook = ?2 AND delivered_us IS NULL AND failed_us IS NULL");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    if ((r = nq_run(q, st, "failing deliveries")) < 0) goto fail;
    if ((r = sq_commit(q)) < 0) goto fail;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    return r;
}

/* The webhook filter is matched in SQL: '*' or the kind as one element of the
 * comma-separated list (blanks around commas are removed when it is stored). */
static int sq_notification_add(struct homing_store *s, const struct homing_notification_spec *n,
                               int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st = nq_prepare(q, "INSERT INTO notifications (time_us, kind, message, "
                                     "recipient, item, event, reader, text, payload) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, n->time_us ? n->time_us : homing_now_us());
    sqlite3_bind_text(st, 2, n->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)n->message);
    sqlite3_bind_int64(st, 4, n->recipient);
    sqlite3_bind_int64(st, 5, n->item);
    sqlite3_bind_int64(st, 6, n->event);
    bind_opt(st, 7, n->reader, 0);
    sqlite3_bind_text(st, 8, n->text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, n->payload, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        r = sq_fail(q, rc, "adding notification");
        /* The unique (event, kind) index, or the payload's JSON check. */
        if (r == -EEXIST && (rc == SQLITE_CONSTRAINT_CHECK)) r = -EINVAL;
        sqlite3_finalize(st);
        goto fail;
    }
    sqlite3_finalize(st);
    int64_t id = sqlite3_last_insert_rowid(q->db);
    st = nq_prepare(q, "INSERT INTO deliveries (notification, webhook, message, next_attempt_us) "
                       "SELECT ?1, id, ?2, ?3 FROM webhooks WHERE disabled_us IS NULL "
                       "AND (events = '*' OR ',' || events || ',' LIKE '%,' || ?4 || ',%')");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)n->message);
    sqlite3_bind_int64(st, 3, homing_now_us());
    sqlite3_bind_text(st, 4, n->kind, -1, SQLITE_STATIC);
    if ((r = nq_run(q, st, "adding deliveries")) < 0) goto fail;
    if ((r = sq_commit(q)) < 0) goto fail;
    if (id_out) *id_out = id;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    return r;
}

#define NOTIFICATION_COLUMNS                                                                       \
    "n.id, n.time_us, n.kind, n.message, n.recipient, n.item, n.event, "                           \
    "n.reader, n.text, n.payload"

/* Reads NOTIFICATION_COLUMNS starting at column c0. */
static int read_notification(sqlite3_stmt *st, int c0, struct homing_notification *v)
{
    v->id = sqlite3_column_int64(st, c0);
    v->time_us = sqlite3_column_int64(st, c0 + 1);
    col_copy(st, c0 + 2, v->kind, sizeof v->kind);
    v->message = (uint64_t)sqlite3_column_int64(st, c0 + 3);
    v->recipient = (uint32_t)sqlite3_column_int64(st, c0 + 4);
    v->item = (uint32_t)sqlite3_column_int64(st, c0 + 5);
    v->event = sqlite3_column_int64(st, c0 + 6);
    int r;
    if ((r = col_dup(st, c0 + 7, &v->reader)) < 0 || (r = col_dup(st, c0 + 8, &v->text)) < 0 ||
        (r = col_dup(st, c0 + 9, &v->payload)) < 0)
        return r;
    if ((!v->text && !(v->text = strdup(""))) || (!v->payload && !(v->payload = strdup("{}"))))
        return -ENOMEM;
    return 0;
}

static int sq_notifications_list(struct homing_store *s, int64_t after, size_t limit,
                                 struct homing_notification **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = nq_prepare(q, "SELECT " NOTIFICATION_COLUMNS " FROM notifications n "
                                     "WHERE n.id > ?1 ORDER BY n.id LIMIT ?2");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    struct homing_notification *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        if ((r = read_notification(st, 0, &arr[used++])) < 0) break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing notifications");
    sqlite3_finalize(st);
    if (r < 0) {
        homing_notifications_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

static int sq_notifications_last(struct homing_store *s, int64_t *id)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = nq_prepare(q, "SELECT coalesce(max(id), 0) FROM notifications");
    if (!st) return -EIO;
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else
        r = sq_fail(q, rc, "reading the newest notification");
    sqlite3_finalize(st);
    return r;
}

static int sq_notification_exists(struct homing_store *s,
                                  const struct homing_notification_query *qr, int *exists)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_NOTIFICATION_EXISTS);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)qr->message);
    bind_opt(st, 2, qr->kind, 0);
    sqlite3_bind_int64(st, 3, qr->recipient);
    sqlite3_bind_int64(st, 4, qr->item);
    bind_opt(st, 5, qr->reader, 0);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        *exists = rc == SQLITE_ROW;
    else
        r = sq_fail(q, rc, "looking up notifications");
    sqlite3_reset(st);
    return r;
}

/* Reads the rows of a deliveries_due statement (columns: notification,
 * webhook, attempts, url, secret, NOTIFICATION_COLUMNS) and finalizes it. */
static int read_deliveries(struct sq *q, sqlite3_stmt *st, struct homing_delivery **out, size_t *n)
{
    struct homing_delivery *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_delivery *d = &arr[used++];
        d->notification = sqlite3_column_int64(st, 0);
        d->webhook = sqlite3_column_int64(st, 1);
        d->attempts = sqlite3_column_int(st, 2);
        if ((r = col_dup(st, 3, &d->url)) < 0 || (r = col_dup(st, 4, &d->secret)) < 0) break;
        if ((r = read_notification(st, 5, &d->n)) < 0) break;
        d->notification_us = d->n.time_us;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing due deliveries");
    sqlite3_finalize(st);
    if (r < 0) {
        homing_deliveries_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

/* Due and not held back: the NOT EXISTS keeps the order per message (a
 * delivery waits while an earlier notification of its message to its webhook
 * is neither delivered nor failed, whatever that one's next attempt time). */
#define DELIVERIES_DUE_WHERE                                                                       \
    "d.delivered_us IS NULL AND d.failed_us IS NULL AND d.next_attempt_us <= ?1 "                  \
    "AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.webhook = d.webhook "                      \
    "AND e.message = d.message AND e.notification < d.notification "                               \
    "AND e.delivered_us IS NULL AND e.failed_us IS NULL) "

/* A window numbers each webhook's due deliveries by due time, so a page holds
 * at most per_webhook of each: one read only, and no webhook's backlog
 * crowds another out. The page takes every webhook's first row, then every
 * second, and so on: when the limit cuts, it cuts the deepest queues. */
static int sq_deliveries_due_fair(struct homing_store *s, int64_t now_us, size_t per_webhook,
                                  size_t limit, struct homing_delivery **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = nq_prepare(
        q,
        "WITH due AS (SELECT d.notification, d.webhook, d.attempts, row_number() OVER "
        "(PARTITION BY d.webhook ORDER BY d.next_attempt_us, d.notification) AS rn "
        "FROM deliveries d WHERE " DELIVERIES_DUE_WHERE ") "
        "SELECT due.notification, due.webhook, due.attempts, w.url, w.secret, " NOTIFICATION_COLUMNS
        " FROM due JOIN webhooks w ON w.id = due.webhook "
        "JOIN notifications n ON n.id = due.notification WHERE due.rn <= ?2 "
        "ORDER BY due.rn, due.webhook LIMIT ?3");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, now_us);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)per_webhook);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    return read_deliveries(q, st, out, n);
}

static int sq_delivery_result(struct homing_store *s, int64_t notification, int64_t webhook, int ok,
                              int64_t next_us, const char *error)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = nq_prepare(
        q, "UPDATE deliveries SET attempts = attempts + 1, "
           "delivered_us = CASE WHEN ?3 THEN ?4 END, "
           "failed_us = CASE WHEN NOT ?3 AND ?5 = 0 THEN ?4 END, "
           "next_attempt_us = CASE WHEN NOT ?3 AND ?5 != 0 THEN ?5 ELSE next_attempt_us END, "
           "last_error = ?6 "
           "WHERE notification = ?1 AND webhook = ?2 AND delivered_us IS NULL "
           "AND failed_us IS NULL");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, notification);
    sqlite3_bind_int64(st, 2, webhook);
    sqlite3_bind_int(st, 3, ok ? 1 : 0);
    sqlite3_bind_int64(st, 4, homing_now_us());
    sqlite3_bind_int64(st, 5, next_us);
    bind_opt(st, 6, ok ? NULL : error, 0);
    int r = nq_run(q, st, "recording delivery");
    if (r == 0 && sqlite3_changes(q->db) == 0) r = -ENOENT;
    return r;
}

static int sq_delivery_counts(struct homing_store *s, int64_t *pending, int64_t *delivered,
                              int64_t *failed)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = nq_prepare(q, "SELECT count(*) FILTER (WHERE delivered_us IS NULL AND "
                                     "failed_us IS NULL), count(delivered_us), count(failed_us) "
                                     "FROM deliveries");
    if (!st) return -EIO;
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        if (pending) *pending = sqlite3_column_int64(st, 0);
        if (delivered) *delivered = sqlite3_column_int64(st, 1);
        if (failed) *failed = sqlite3_column_int64(st, 2);
    } else {
        r = sq_fail(q, rc, "counting deliveries");
    }
    sqlite3_finalize(st);
    return r;
}

static int sq_cursor_get(struct homing_store *s, const char *name, int64_t *event)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = nq_prepare(q, "SELECT event FROM cursors WHERE name = ?1");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW)
        *event = sqlite3_column_int64(st, 0);
    else
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading cursor");
    sqlite3_finalize(st);
    return r;
}

static int sq_cursor_set(struct homing_store *s, const char *name, int64_t event)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_CURSOR_SET);
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, event);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(q, rc, "setting cursor");
}

/* ---- privacy (migration 0006) ----
 * Sweeps and `homing forget`, not per hit: statements are prepared per call.
 * Every change to events happens between pq_guard_set and pq_guard_clear in
 * one write transaction: the schema's triggers refuse it otherwise. */

#define PQ_TRUNCATE_CURSOR "privacy-truncate" /* last event whose client was truncated */
#define PQ_FK_DEPTH        4                  /* levels of rows pointing at deleted rows */
#define PQ_SQL_MAX         4096

static int pq_exec(struct sq *q, const char *sql, const char *what)
{
    sqlite3_stmt *st = nq_prepare(q, sql);
    return st ? nq_run(q, st, what) : -EIO;
}

static int pq_guard_clear(struct sq *q)
{
    return pq_exec(q, "DELETE FROM privacy_guard", "clearing the privacy guard");
}

/* Counts changed rows of one table in the forget result. */
static void pq_count(struct homing_forget_result *out, const char *table, int64_t rows)
{
    if (!out || rows <= 0) return;
    for (size_t i = 0; i < out->n; i++) {
        if (strcmp(out->t[i].table, table) == 0) {
            out->t[i].rows += rows;
            return;
        }
    }
    if (out->n == HOMING_FORGET_TABLES_MAX) return;
    homing_strlcpy(out->t[out->n].table, table, sizeof out->t[out->n].table);
    out->t[out->n++].rows = rows;
}

static int tracking_parse_col(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    int m = homing_tracking_parse(t);
    return m < 0 ? HOMING_TRACKING_INDIVIDUAL : m;
}

static int sq_tracking_set(struct homing_store *s, uint64_t message, uint32_t recipient, int mode)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        recipient ? nq_prepare(q, "UPDATE recipients SET tracking = ?1 WHERE message = ?2 AND "
                                  "idx = ?3")
                  : nq_prepare(q, "UPDATE messages SET tracking = ?1 WHERE id = ?2");
    if (!st) return -EIO;
    if (mode == HOMING_TRACKING_INHERIT)
        sqlite3_bind_null(st, 1);
    else
        sqlite3_bind_text(st, 1, homing_tracking_name(mode), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)message);
    if (recipient) sqlite3_bind_int64(st, 3, recipient);
    int r = nq_run(q, st, "setting tracking mode");
    if (r == 0 && sqlite3_changes(q->db) == 0) r = -ENOENT;
    return r;
}

static int sq_tracking_get(struct homing_store *s, uint64_t message, int *message_mode, int **modes,
                           size_t *n)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 0);
    if (r < 0) return r;
    int *arr = NULL, mm = 0;
    size_t used = 0, cap = 0;
    sqlite3_stmt *st = nq_prepare(q, "SELECT tracking FROM messages WHERE id = ?1");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) mm = tracking_parse_col(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading tracking mode");
        goto fail;
    }
    st = nq_prepare(q, "SELECT r.idx, coalesce(r.tracking, m.tracking) FROM recipients r "
                       "JOIN messages m ON m.id = r.message WHERE r.message = ?1 ORDER BY r.idx");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* indexes run 1..n, so the array position is the index - 1 */
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        arr[used++] = tracking_parse_col(st, 1);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "reading tracking modes");
    sqlite3_finalize(st);
    if (r == 0) r = sq_commit(q);
    if (r < 0) goto fail;
    *message_mode = mm;
    *modes = arr;
    *n = used;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    free(arr);
    return r;
}

struct pq_client {
    int64_t id;
    char client[HOMING_ADDR_STR_MAX];
};

/* One chunk: reads up to HOMING_PRIVACY_CHUNK events first (no statement stays
 * open on events while they change), then rewrites those whose address shrinks. */
static int pq_truncate_chunk(struct sq *q, int64_t from, int64_t upto, unsigned v4, unsigned v6,
                             struct pq_client *rows, size_t *n_rows, int64_t *changed)
{
    sqlite3_stmt *st = nq_prepare(q, "SELECT id, client FROM events WHERE id > ?1 AND id <= ?2 "
                                     "ORDER BY id LIMIT ?3");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, upto);
    sqlite3_bind_int64(st, 3, HOMING_PRIVACY_CHUNK);
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < HOMING_PRIVACY_CHUNK) {
        rows[n].id = sqlite3_column_int64(st, 0);
        col_copy(st, 1, rows[n].client, sizeof rows[n].client);
        n++;
    }
    int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sq_fail(q, rc, "reading clients");
    sqlite3_finalize(st);
    if (r < 0) return r;
    *n_rows = n;
    if (n == 0) return 0;
    if ((r = pq_exec(q, "INSERT INTO privacy_guard (id, op) VALUES (1, 'truncate')",
                     "setting the privacy guard")) < 0)
        return r;
    st = nq_prepare(q, "UPDATE events SET client = ?1 WHERE id = ?2");
    if (!st) return -EIO;
    for (size_t i = 0; i < n && r == 0; i++) {
        struct homing_addr a;
        char out[HOMING_ADDR_STR_MAX];
        if (!rows[i].client[0] || homing_addr_parse(rows[i].client, strlen(rows[i].client), &a) < 0)
            continue; /* nothing stored, or not an address: nothing to cut */
        homing_addr_truncate(&a, a.family == 4 ? v4 : v6);
        homing_addr_format(&a, out);
        if (strcmp(out, rows[i].client) == 0) continue;
        sqlite3_bind_text(st, 1, out, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, rows[i].id);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            r = sq_fail(q, rc, "truncating a client address");
        else
            (*changed)++;
    }
    sqlite3_finalize(st);
    if (r == 0) r = pq_guard_clear(q);
    return r;
}

static int sq_privacy_truncate(struct homing_store *s, int64_t upto, unsigned v4_bits,
                               unsigned v6_bits, int64_t *changed)
{
    struct sq *q = (struct sq *)s;
    struct pq_client *rows = malloc(HOMING_PRIVACY_CHUNK * sizeof *rows);
    if (!rows) return -ENOMEM;
    if (upto < 0) upto = INT64_MAX;
    int64_t total = 0;
    int r = 0;
    for (;;) {
        if ((r = sq_begin(q, 1)) < 0) break;
        int64_t from = 0;
        r = sq_cursor_get(s, PQ_TRUNCATE_CURSOR, &from);
        if (r == -ENOENT) r = 0;
        size_t n = 0;
        int64_t chunk_changed = 0;
        if (r == 0)
            r = pq_truncate_chunk(q, from, upto, v4_bits, v6_bits, rows, &n, &chunk_changed);
        if (r == 0 && n > 0) r = sq_cursor_set(s, PQ_TRUNCATE_CURSOR, rows[n - 1].id);
        if (r == 0) r = sq_commit(q);
        if (r < 0) {
            sq_rollback(q);
            break;
        }
        total += chunk_changed;
        if (n < HOMING_PRIVACY_CHUNK) break;
    }
    free(rows);
    if (r < 0) return r;
    *changed = total;
    return 0;
}

/* Deletes from table the rows matching where (parameters ?1 address, ?2
 * message, ?3 recipient, ?4 time), after the rows of other tables whose
 * foreign keys point at them, so foreign_keys = ON never refuses it. */
static int pq_delete(struct sq *q, const char *table, const char *where, const char *addr,
                     int64_t message, int64_t recipient, int64_t time_us, int depth,
                     struct homing_forget_result *out, int64_t *deleted)
{
    if (depth > PQ_FK_DEPTH) return -ELOOP;
    sqlite3_stmt *fk = nq_prepare(
        q, "SELECT m.name, p.\"from\", coalesce(p.\"to\", 'rowid') FROM sqlite_master m, "
           "pragma_foreign_key_list(m.name) p WHERE m.type = 'table' AND p.\"table\" = ?1 "
           "AND p.seq = 0");
    if (!fk) return -EIO;
    sqlite3_bind_text(fk, 1, table, -1, SQLITE_STATIC);
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(fk)) == SQLITE_ROW) {
        char child[128], from[128], to[128], sub[PQ_SQL_MAX];
        col_copy(fk, 0, child, sizeof child);
        col_copy(fk, 1, from, sizeof from);
        col_copy(fk, 2, to, sizeof to);
        if (snprintf(sub, sizeof sub, "\"%s\" IN (SELECT \"%s\" FROM \"%s\" WHERE %s)", from, to,
                     table, where) >= (int)sizeof sub)
            r = -E2BIG;
        else
            r = pq_delete(q, child, sub, addr, message, recipient, time_us, depth + 1, out, NULL);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "reading foreign keys");
    sqlite3_finalize(fk);
    if (r < 0) return r;
    char sql[PQ_SQL_MAX];
    if (snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE %s", table, where) >= (int)sizeof sql)
        return -E2BIG;
    sqlite3_stmt *st = nq_prepare(q, sql);
    if (!st) return -EIO;
    /* a WHERE need not use every parameter: unused ones stay unbound */
    if (sqlite3_bind_parameter_count(st) >= 1) sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(st) >= 2) sqlite3_bind_int64(st, 2, message);
    if (sqlite3_bind_parameter_count(st) >= 3) sqlite3_bind_int64(st, 3, recipient);
    if (sqlite3_bind_parameter_count(st) >= 4) sqlite3_bind_int64(st, 4, time_us);
    if ((r = nq_run(q, st, "deleting")) < 0) return r;
    int64_t n = sqlite3_changes(q->db);
    pq_count(out, table, n);
    if (deleted) *deleted += n;
    return 0;
}

static int pq_table_exists(struct sq *q, const char *table, int *exists)
{
    sqlite3_stmt *st =
        nq_prepare(q, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sq_fail(q, rc, "reading the schema");
    *exists = rc == SQLITE_ROW;
    return 0;
}

static int sq_privacy_retention(struct homing_store *s, int64_t before_us, int64_t *rolled,
                                int64_t *deleted)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    int64_t n_rolled = 0, n_deleted = 0;
    sqlite3_stmt *st = nq_prepare(
        /* the verdict of the enrichment (migration 0004), else one a report
         * carried in its detail, else '' */
        q, "INSERT INTO event_rollups (message, day, kind, method, verdict, count) "
           "SELECT e.message, strftime('%Y-%m-%d', e.time_us / 1000000, 'unixepoch'), e.kind, "
           "coalesce(e.method, ''), coalesce(n.verdict, CASE WHEN json_valid(e.detail) AND "
           "json_type(e.detail, '$.verdict') = 'text' THEN json_extract(e.detail, '$.verdict') "
           "END, ''), count(*) FROM events e LEFT JOIN enrichments n ON n.event = e.id "
           "WHERE e.time_us < ?1 GROUP BY 1, 2, 3, 4, 5 "
           "ON CONFLICT (message, day, kind, method, verdict) DO UPDATE "
           "SET count = count + excluded.count");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, before_us);
    if ((r = nq_run(q, st, "rolling up events")) < 0) goto fail;
    if ((r = pq_exec(q, "DELETE FROM privacy_guard", "clearing the privacy guard")) < 0) goto fail;
    st = nq_prepare(q, "INSERT INTO privacy_guard (id, op, cutoff_us) VALUES (1, 'retention', ?1)");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, before_us);
    if ((r = nq_run(q, st, "setting the privacy guard")) < 0) goto fail;
    if ((r = pq_delete(q, "events", "time_us < ?4", NULL, 0, 0, before_us, 0, NULL, &n_deleted)) <
        0)
        goto fail;
    n_rolled = n_deleted; /* every deleted event was counted into a rollup first */
    /* Other records of the same age, derived from events or naming recipients:
     * enrichments, readers last seen before the cutoff, notifications (with
     * their deliveries) and reports kept unmatched. */
    static const char *const aged[][2] = {
        {"enrichments", "time_us < ?4"},
        {"readers", "last_us < ?4"},
        {"notifications", "time_us < ?4"},
        {"unmatched_reports", "time_us < ?4"},
    };
    for (size_t i = 0; i < sizeof aged / sizeof aged[0]; i++) {
        int exists = 0;
        if ((r = pq_table_exists(q, aged[i][0], &exists)) < 0) goto fail;
        if (exists &&
            (r = pq_delete(q, aged[i][0], aged[i][1], NULL, 0, 0, before_us, 0, NULL, NULL)) < 0)
            goto fail;
    }
    if ((r = pq_guard_clear(q)) < 0 || (r = sq_commit(q)) < 0) goto fail;
    *rolled = n_rolled;
    *deleted = n_deleted;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    return r;
}

static int sq_rollups_list(struct homing_store *s, uint64_t message, struct homing_rollup **out,
                           size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = nq_prepare(q, "SELECT message, day, kind, method, verdict, count "
                                     "FROM event_rollups WHERE ?1 = 0 OR message = ?1 "
                                     "ORDER BY message, day, kind, method, verdict");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
    struct homing_rollup *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_rollup *w = &arr[used++];
        w->message = (uint64_t)sqlite3_column_int64(st, 0);
        col_copy(st, 1, w->day, sizeof w->day);
        col_copy(st, 2, w->kind, sizeof w->kind);
        col_copy(st, 3, w->method, sizeof w->method);
        col_copy(st, 4, w->verdict, sizeof w->verdict);
        w->count = sqlite3_column_int64(st, 5);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing rollups");
    sqlite3_finalize(st);
    if (r < 0) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

/* Tables forget leaves to their own rule (or alone: schema bookkeeping, the
 * operator's own keys and webhooks, link destinations shared by every
 * recipient of a message, rollups that name nobody). */
static int pq_forget_skip(const char *t)
{
    static const char *const skip[] = {
        "events",   "recipients", "messages", "privacy_guard", "schema_migrations",
        "api_keys", "webhooks",   "links",    "event_rollups", "cursors",
    };
    if (strncmp(t, "sqlite_", 7) == 0) return 1;
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strcmp(t, skip[i]) == 0) return 1;
    return 0;
}

struct pq_pair {
    int64_t message, recipient;
};

/* Every table other than the skipped ones: rows tied to one of the pairs (a
 * message and a recipient column) go, then rows with a text column naming the
 * address. */
static int pq_forget_tables(struct sq *q, const char *addr, const struct pq_pair *pairs,
                            size_t n_pairs, struct homing_forget_result *out)
{
    sqlite3_stmt *st = nq_prepare(q, "SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "ORDER BY name");
    if (!st) return -EIO;
    char(*names)[128] = NULL;
    size_t n = 0, cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (!t || pq_forget_skip(t) || strlen(t) >= 128) continue;
        if ((r = grow((void **)&names, &cap, n, sizeof *names)) < 0) break;
        homing_strlcpy(names[n++], t, 128);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing tables");
    sqlite3_finalize(st);
    for (size_t i = 0; i < n && r == 0; i++) {
        st = nq_prepare(q, "SELECT name, upper(type) FROM pragma_table_info(?1)");
        if (!st) {
            r = -EIO;
            break;
        }
        sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
        int has_message = 0, has_recipient = 0;
        char where[PQ_SQL_MAX] = "";
        size_t wl = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *col = (const char *)sqlite3_column_text(st, 0);
            const char *type = (const char *)sqlite3_column_text(st, 1);
            if (!col || strchr(col, '"')) continue;
            if (strcmp(col, "message") == 0) has_message = 1;
            if (strcmp(col, "recipient") == 0) has_recipient = 1;
            /* text and untyped columns (a BLOB holds whole reports) */
            if (type && *type && !strstr(type, "TEXT") && !strstr(type, "CHAR") &&
                !strstr(type, "BLOB") && !strstr(type, "CLOB"))
                continue;
            int k = snprintf(where + wl, sizeof where - wl,
                             "%sinstr(lower(CAST(\"%s\" AS TEXT)), ?1) > 0", wl ? " OR " : "", col);
            if (k < 0 || (size_t)k >= sizeof where - wl) {
                r = -E2BIG;
                break;
            }
            wl += (size_t)k;
        }
        if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW) r = sq_fail(q, rc, "reading columns");
        sqlite3_finalize(st);
        if (r < 0) break;
        if (has_message && has_recipient)
            for (size_t p = 0; p < n_pairs && r == 0; p++)
                r = pq_delete(q, names[i], "message = ?2 AND recipient = ?3", addr,
                              pairs[p].message, pairs[p].recipient, 0, 0, out, NULL);
        if (r == 0 && wl) r = pq_delete(q, names[i], where, addr, 0, 0, 0, 0, out, NULL);
    }
    free(names);
    return r;
}

static int sq_privacy_forget(struct homing_store *s, const char *address,
                             struct homing_forget_result *out)
{
    struct sq *q = (struct sq *)s;
    char addr[HOMING_FORGET_ADDR_MAX + 1];
    size_t len = homing_strlcpy(addr, address, sizeof addr);
    for (size_t i = 0; i < len; i++)
        if (addr[i] >= 'A' && addr[i] <= 'Z') addr[i] = (char)(addr[i] - 'A' + 'a');
    struct homing_forget_result res = {0};
    struct pq_pair *pairs = NULL;
    size_t n_pairs = 0, cap = 0;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st =
        nq_prepare(q, "SELECT message, idx FROM recipients WHERE lower(address) = ?1");
    if (!st) goto fail_io;
    sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&pairs, &cap, n_pairs, sizeof *pairs)) < 0) break;
        pairs[n_pairs].message = sqlite3_column_int64(st, 0);
        pairs[n_pairs++].recipient = sqlite3_column_int64(st, 1);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "finding the address");
    sqlite3_finalize(st);
    if (r < 0) goto fail;

    /* events: the guard names the address and, in turn, each (message, recipient) */
    if ((r = pq_guard_clear(q)) < 0) goto fail;
    st = nq_prepare(q, "INSERT INTO privacy_guard (id, op, message, recipient, address) "
                       "VALUES (1, 'forget', 0, -1, ?1)");
    if (!st) goto fail_io;
    sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
    if ((r = nq_run(q, st, "setting the privacy guard")) < 0) goto fail;
    for (size_t i = 0; i < n_pairs; i++) {
        st = nq_prepare(q, "UPDATE privacy_guard SET message = ?1, recipient = ?2");
        if (!st) goto fail_io;
        sqlite3_bind_int64(st, 1, pairs[i].message);
        sqlite3_bind_int64(st, 2, pairs[i].recipient);
        if ((r = nq_run(q, st, "setting the privacy guard")) < 0) goto fail;
        if ((r = pq_delete(q, "events", "message = ?2 AND recipient = ?3", addr, pairs[i].message,
                           pairs[i].recipient, 0, 0, &res, NULL)) < 0)
            goto fail;
    }
    if ((r = pq_delete(q, "events",
                       "instr(lower(coalesce(detail, '')), ?1) > 0 OR "
                       "instr(lower(coalesce(from_hdr, '')), ?1) > 0",
                       addr, 0, 0, 0, 0, &res, NULL)) < 0)
        goto fail;
    if ((r = pq_guard_clear(q)) < 0) goto fail;

    if ((r = pq_forget_tables(q, addr, pairs, n_pairs, &res)) < 0) goto fail;

    /* the recipient rows stay as tombstones: indexes of the other recipients
     * (and the tokens in their copies) must not move */
    st = nq_prepare(q, "UPDATE recipients SET address = 'forgotten', state = 'forgotten', "
                       "state_us = ?2, tracking = 'off' WHERE lower(address) = ?1");
    if (!st) goto fail_io;
    sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, homing_now_us());
    if ((r = nq_run(q, st, "forgetting recipients")) < 0) goto fail;
    pq_count(&res, "recipients", sqlite3_changes(q->db));
    static const char *const blank[] = {
        "UPDATE messages SET sender = NULL WHERE instr(lower(sender), ?1) > 0",
        "UPDATE messages SET subject = NULL WHERE instr(lower(subject), ?1) > 0",
    };
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        if (!(st = nq_prepare(q, blank[i]))) goto fail_io;
        sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
        if ((r = nq_run(q, st, "blanking messages")) < 0) goto fail;
        pq_count(&res, "messages", sqlite3_changes(q->db));
    }
    if ((r = sq_commit(q)) < 0) goto fail;
    free(pairs);
    *out = res;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    free(pairs);
    return r;
}

/* ---- documents (migration 0005) ----
 * Used by the CLI and once per document download: statements are prepared per
 * call, like the delivery ones. */

#define DOC_COLUMNS "id, name, media_type, size, digest, file, created_us, digest_keyed"

static int doc_read_row(sqlite3_stmt *st, struct homing_document *d)
{
    d->id = sqlite3_column_int64(st, 0);
    d->size = sqlite3_column_int64(st, 3);
    col_copy(st, 4, d->digest, sizeof d->digest);
    d->created_us = sqlite3_column_int64(st, 6);
    int r;
    if ((r = col_dup(st, 1, &d->name)) < 0 || (r = col_dup(st, 2, &d->media_type)) < 0 ||
        (r = col_dup(st, 5, &d->file)) < 0)
        return r;
    return 0;
}

static int sq_document_add(struct homing_store *s, const struct homing_document *d, int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        dq_prepare(q, "INSERT INTO documents (name, media_type, size, digest, file, created_us, "
                      "digest_keyed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->media_type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, d->size);
    sqlite3_bind_text(st, 4, d->digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, d->file, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, d->created_us ? d->created_us : homing_now_us());
    sqlite3_bind_int(st, 7, d->digest_keyed ? 1 : 0);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? 0 : sq_fail(q, rc, "adding document");
    sqlite3_finalize(st);
    if (r == 0) *id_out = sqlite3_last_insert_rowid(q->db);
    return r;
}

static int sq_document_get(struct homing_store *s, const char *name, struct homing_document **out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = dq_prepare(q, "SELECT " DOC_COLUMNS " FROM documents WHERE name = ?1");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    struct homing_document *d = calloc(1, sizeof *d);
    int rc = sqlite3_step(st), r;
    if (!d)
        r = -ENOMEM;
    else if (rc == SQLITE_ROW) {
        r = doc_read_row(st, d);
        d->digest_keyed = sqlite3_column_int(st, 7);
    } else
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading document");
    sqlite3_finalize(st);
    if (r < 0) {
        homing_documents_free(d, 1);
        return r;
    }
    *out = d;
    return 0;
}

static int sq_document_list(struct homing_store *s, struct homing_document **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        dq_prepare(q, "SELECT d.id, d.name, d.media_type, d.size, d.digest, d.file, d.created_us, "
                      "(SELECT count(*) FROM grants g WHERE g.document = d.id), "
                      "(SELECT coalesce(sum(uses), 0) FROM grants g WHERE g.document = d.id), "
                      "d.digest_keyed FROM documents d ORDER BY d.id LIMIT ?1");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, HOMING_STORE_DOCUMENTS_MAX);
    struct homing_document *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_document *d = &arr[used++];
        if ((r = doc_read_row(st, d)) < 0) break;
        d->grants = sqlite3_column_int64(st, 7);
        d->uses = sqlite3_column_int64(st, 8);
        d->digest_keyed = sqlite3_column_int(st, 9);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing documents");
    sqlite3_finalize(st);
    if (r < 0) {
        homing_documents_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

/* Only an unkeyed row is rewritten: two processes upgrading at once compute
 * the same keyed digest, and the second finds nothing left to change. */
static int sq_document_set_digest(struct homing_store *s, int64_t id, const char *digest)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = dq_prepare(q, "UPDATE documents SET digest = ?1, digest_keyed = 1 "
                                     "WHERE id = ?2 AND digest_keyed = 0");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? 0 : sq_fail(q, rc, "setting document digest");
    if (r == 0 && sqlite3_changes(q->db) == 0) r = -ENOENT;
    sqlite3_finalize(st);
    return r;
}

static int sq_grant_add(struct homing_store *s, const struct homing_grant_spec *g, int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    /* The SELECT makes a missing document or message insert nothing (-ENOENT)
     * rather than depend on foreign-key enforcement being on. */
    sqlite3_stmt *st = dq_prepare(
        q, "INSERT INTO grants (document, message, recipient, created_us, expires_us, max_uses) "
           "SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM documents WHERE id = ?1) "
           "AND EXISTS (SELECT 1 FROM messages WHERE id = ?2)");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, g->document);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)g->message);
    sqlite3_bind_int64(st, 3, g->recipient);
    sqlite3_bind_int64(st, 4, homing_now_us());
    if (g->expires_us)
        sqlite3_bind_int64(st, 5, g->expires_us);
    else
        sqlite3_bind_null(st, 5);
    if (g->max_uses)
        sqlite3_bind_int64(st, 6, g->max_uses);
    else
        sqlite3_bind_null(st, 6);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? 0 : sq_fail(q, rc, "adding grant");
    if (r == 0 && sqlite3_changes(q->db) == 0) {
        store_set_error(s, "no such document or message");
        r = -ENOENT;
    }
    sqlite3_finalize(st);
    if (r == 0) {
        int64_t id = sqlite3_last_insert_rowid(q->db);
        if (id > (int64_t)UINT32_MAX) {
            store_set_error(s, "grant ids exhausted");
            return -EOVERFLOW;
        }
        *id_out = id;
    }
    return r;
}

static int sq_grant_list(struct homing_store *s, int64_t document, struct homing_grant **out,
                         size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = dq_prepare(
        q, "SELECT g.id, g.document, d.name, g.message, g.recipient, r.address, g.created_us, "
           "coalesce(g.expires_us, 0), coalesce(g.max_uses, 0), g.uses, "
           "coalesce(g.revoked_us, 0) FROM grants g JOIN documents d ON d.id = g.document "
           "LEFT JOIN recipients r ON r.message = g.message AND r.idx = g.recipient "
           "WHERE ?1 = 0 OR g.document = ?1 ORDER BY g.id LIMIT ?2");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, document);
    sqlite3_bind_int64(st, 2, HOMING_STORE_LIST_MAX);
    struct homing_grant *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_grant *g = &arr[used++];
        g->id = sqlite3_column_int64(st, 0);
        g->document = sqlite3_column_int64(st, 1);
        g->message = (uint64_t)sqlite3_column_int64(st, 3);
        g->recipient = (uint32_t)sqlite3_column_int64(st, 4);
        g->created_us = sqlite3_column_int64(st, 6);
        g->expires_us = sqlite3_column_int64(st, 7);
        g->max_uses = sqlite3_column_int64(st, 8);
        g->uses = sqlite3_column_int64(st, 9);
        g->revoked_us = sqlite3_column_int64(st, 10);
        if ((r = col_dup(st, 2, &g->document_name)) < 0 || (r = col_dup(st, 5, &g->address)) < 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing grants");
    sqlite3_finalize(st);
    if (r < 0) {
        homing_grants_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

static int sq_grant_revoke(struct homing_store *s, int64_t grant, int64_t document,
                           int64_t *revoked)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = dq_prepare(q, "UPDATE grants SET revoked_us = ?1 WHERE revoked_us IS NULL "
                                     "AND (id = ?2 OR document = ?3)");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, homing_now_us());
    sqlite3_bind_int64(st, 2, grant ? grant : -1);
    sqlite3_bind_int64(st, 3, document ? document : -1);
    int r = nq_run(q, st, "revoking grant");
    if (r < 0) return r;
    int64_t n = sqlite3_changes(q->db);
    if (n == 0) {
        store_set_error(s, "no grant to revoke");
        return -ENOENT;
    }
    if (revoked) *revoked = n;
    return 0;
}

static int sq_grant_check(struct homing_store *s, int64_t grant, uint64_t message,
                          uint32_t recipient, int64_t now_us, int64_t pending,
                          struct homing_document **doc)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = dq_prepare(
        q, "SELECT g.message, g.recipient, coalesce(g.revoked_us, 0), coalesce(g.expires_us, 0), "
           "coalesce(g.max_uses, 0), g.uses, d.id, d.name, d.media_type, d.size, d.digest, "
           "d.file, d.created_us FROM grants g JOIN documents d ON d.id = g.document "
           "WHERE g.id = ?1");
    struct homing_document *d = calloc(1, sizeof *d);
    int r = st ? 0 : -EIO;
    if (r == 0 && !d) r = -ENOMEM;
    /* A read: in WAL mode it never waits for a writer. Two downloads of a
     * grant with one use left are kept apart by the caller's count of
     * pending ones (src/serve/document.c), not by a write lock here. */
    if (r == 0) r = sq_begin(q, 0);
    if (r < 0) goto out;
    sqlite3_bind_int64(st, 1, grant);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading grant");
        goto fail;
    }
    if ((uint64_t)sqlite3_column_int64(st, 0) != message ||
        (uint32_t)sqlite3_column_int64(st, 1) != recipient) {
        r = -ENOENT; /* another recipient's or message's grant */
        goto fail;
    }
    int64_t revoked = sqlite3_column_int64(st, 2), expires = sqlite3_column_int64(st, 3);
    int64_t max_uses = sqlite3_column_int64(st, 4), uses = sqlite3_column_int64(st, 5);
    if (revoked)
        r = -EKEYREVOKED;
    else if (expires && now_us >= expires)
        r = -EKEYEXPIRED;
    else if (max_uses && uses + pending >= max_uses)
        r = -EDQUOT;
    if (r < 0) goto fail;
    d->id = sqlite3_column_int64(st, 6);
    d->size = sqlite3_column_int64(st, 9);
    col_copy(st, 10, d->digest, sizeof d->digest);
    d->created_us = sqlite3_column_int64(st, 12);
    if ((r = col_dup(st, 7, &d->name)) < 0 || (r = col_dup(st, 8, &d->media_type)) < 0 ||
        (r = col_dup(st, 11, &d->file)) < 0)
        goto fail;
    sqlite3_reset(st);
    if ((r = sq_commit(q)) < 0) goto fail;
    goto out;
fail:
    if (st) sqlite3_reset(st);
    sq_rollback(q);
out:
    sqlite3_finalize(st);
    if (r < 0) {
        homing_documents_free(d, d ? 1 : 0);
        return r;
    }
    *doc = d;
    return 0;
}

/* ---- enrichment (migration 0004) ----
 * Written by the one enrichment thread, a row per open or click; read by the
 * notifier, reports and homing reclassify. Not the hit path: statements are
 * prepared per call, like the notification ones. */

/* The reader row of e's reader: created from e, or its last time and opens
 * moved on. last_us and opens are those of all the hits it stands for. */
static int eq_reader_upsert(struct sq *q, const struct homing_store_enrichment *e, int64_t last_us,
                            int64_t opens)
{
    char client[2 * HOMING_STORE_FACT_MAX + 2];
    snprintf(client, sizeof client, "%s%s%s", e->client_family, e->client_version[0] ? " " : "",
             e->client_version);
    sqlite3_stmt *st = sq_stmt(q, ST_READER_UPSERT);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)e->message);
    sqlite3_bind_text(st, 2, e->reader, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, e->recipient);
    sqlite3_bind_int64(st, 4, e->time_us);
    bind_opt(st, 5, client, 0);
    bind_opt(st, 6, e->device, sizeof e->device);
    bind_opt(st, 7, e->country, sizeof e->country);
    sqlite3_bind_int64(st, 8, opens);
    sqlite3_bind_int64(st, 9, e->event);
    sqlite3_bind_int(st, 10, e->forward ? 1 : 0);
    sqlite3_bind_int64(st, 11, last_us);
    return sq_run_cached(q, st, "storing reader");
}

static int eq_insert(struct sq *q, const struct homing_store_enrichment *e)
{
    sqlite3_stmt *st = sq_stmt(q, ST_ENRICH_INSERT);
    if (!st) return -EIO;
    const char *kind = homing_event_kind_name(e->kind);
    sqlite3_bind_int64(st, 1, e->event);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)e->message);
    sqlite3_bind_int64(st, 3, e->recipient);
    sqlite3_bind_text(st, 4, kind ? kind : "none", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, e->item);
    sqlite3_bind_int64(st, 6, e->time_us);
    sqlite3_bind_text(st, 7, e->verdict, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, e->confidence);
    sqlite3_bind_text(st, 9, e->reasons, (int)strnlen(e->reasons, sizeof e->reasons),
                      SQLITE_STATIC);
    sqlite3_bind_int(st, 10, e->rules_version);
    bind_opt(st, 11, e->client_family, sizeof e->client_family);
    bind_opt(st, 12, e->client_version, sizeof e->client_version);
    bind_opt(st, 13, e->os, sizeof e->os);
    bind_opt(st, 14, e->device, sizeof e->device);
    bind_opt(st, 15, e->country, sizeof e->country);
    sqlite3_bind_int64(st, 16, e->asn);
    bind_opt(st, 17, e->as_org, sizeof e->as_org);
    bind_opt(st, 18, e->machine, sizeof e->machine);
    bind_opt(st, 19, e->reader, sizeof e->reader);
    sqlite3_bind_int(st, 20, e->new_reader ? 1 : 0);
    sqlite3_bind_int(st, 21, e->forward ? 1 : 0);
    sqlite3_bind_text(st, 22, e->json, -1, SQLITE_STATIC);
    return sq_run_cached(q, st, "storing enrichment");
}

static int eq_cursor(struct sq *q, int64_t cursor)
{
    sqlite3_stmt *st = sq_stmt(q, ST_ENRICH_CURSOR);
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, HOMING_ENRICH_CURSOR, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cursor);
    return sq_run_cached(q, st, "moving the enrichment cursor");
}

static int sq_enrichment_put(struct homing_store *s, const struct homing_store_enrichment *e,
                             int64_t cursor)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    if (e) {
        r = eq_insert(q, e);
        if (r == 0 && e->reader[0])
            r = eq_reader_upsert(q, e, e->time_us, e->kind == HOMING_EV_OPEN);
    }
    if (r == 0) r = eq_cursor(q, cursor);
    if (r == 0) r = sq_commit(q);
    if (r < 0) sq_rollback(q);
    return r;
}

static int sq_enrichments_put(struct homing_store *s, const struct homing_store_enrichment *rows,
                              size_t n, int64_t cursor)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    for (size_t i = 0; r == 0 && i < n; i++) r = eq_insert(q, &rows[i]);
    /* One upsert per reader of the batch, not per hit (a flood's hits are one
     * reader): its first row's facts, the latest time and the sum of opens,
     * which is the row that one upsert per hit, in event order, leaves. */
    for (size_t i = 0; r == 0 && i < n; i++) {
        const struct homing_store_enrichment *e = &rows[i];
        if (!e->reader[0]) continue;
        int first = 1;
        for (size_t j = 0; j < i && first; j++)
            first = rows[j].message != e->message || strcmp(rows[j].reader, e->reader) != 0;
        if (!first) continue; /* counted with the first */
        int64_t last_us = e->time_us, opens = e->kind == HOMING_EV_OPEN;
        for (size_t j = i + 1; j < n; j++) {
            if (rows[j].message != e->message || strcmp(rows[j].reader, e->reader) != 0) continue;
            if (rows[j].time_us > last_us) last_us = rows[j].time_us;
            opens += rows[j].kind == HOMING_EV_OPEN;
        }
        r = eq_reader_upsert(q, e, last_us, opens);
    }
    if (r == 0) r = eq_cursor(q, cursor);
    if (r == 0) r = sq_commit(q);
    if (r < 0) sq_rollback(q);
    return r;
}

static int eq_read_row(sqlite3_stmt *st, struct homing_store_enrichment *e)
{
    e->event = sqlite3_column_int64(st, 0);
    e->message = (uint64_t)sqlite3_column_int64(st, 1);
    e->recipient = (uint32_t)sqlite3_column_int64(st, 2);
    const char *kind = (const char *)sqlite3_column_text(st, 3);
    e->kind = (uint16_t)(kind ? homing_event_kind_parse(kind) : HOMING_EV_NONE);
    e->item = (uint32_t)sqlite3_column_int64(st, 4);
    e->time_us = sqlite3_column_int64(st, 5);
    col_copy(st, 6, e->verdict, sizeof e->verdict);
    e->confidence = sqlite3_column_int(st, 7);
    col_copy(st, 8, e->reasons, sizeof e->reasons);
    e->rules_version = sqlite3_column_int(st, 9);
    col_copy(st, 10, e->client_family, sizeof e->client_family);
    col_copy(st, 11, e->client_version, sizeof e->client_version);
    col_copy(st, 12, e->os, sizeof e->os);
    col_copy(st, 13, e->device, sizeof e->device);
    col_copy(st, 14, e->country, sizeof e->country);
    e->asn = (uint32_t)sqlite3_column_int64(st, 15);
    col_copy(st, 16, e->as_org, sizeof e->as_org);
    col_copy(st, 17, e->machine, sizeof e->machine);
    col_copy(st, 18, e->reader, sizeof e->reader);
    e->new_reader = sqlite3_column_int(st, 19);
    e->forward = sqlite3_column_int(st, 20);
    return col_dup(st, 21, &e->json);
}

static int sq_enrichments_list(struct homing_store *s, uint64_t message, int64_t only_event,
                               int64_t after, size_t limit, struct homing_store_enrichment **out,
                               size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st;
    if (only_event) {
        st = sq_stmt(q, ST_ENRICHMENT_GET); /* cached: once per hit for the notifier */
        if (!st) return -EIO;
        sqlite3_bind_int64(st, 1, only_event);
    } else if (message) {
        st = nq_prepare(q, "SELECT " ENRICH_COLUMNS " FROM enrichments "
                           "WHERE message = ?1 AND event > ?2 ORDER BY event LIMIT ?3");
        if (!st) return -EIO;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
        sqlite3_bind_int64(st, 2, after);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    } else {
        st = nq_prepare(q, "SELECT " ENRICH_COLUMNS " FROM enrichments "
                           "WHERE event > ?1 ORDER BY event LIMIT ?2");
        if (!st) return -EIO;
        sqlite3_bind_int64(st, 1, after);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    }
    struct homing_store_enrichment *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        if ((r = eq_read_row(st, &arr[used++])) < 0) break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing enrichments");
    if (only_event)
        sqlite3_reset(st);
    else
        sqlite3_finalize(st);
    if (r < 0) {
        homing_store_enrichments_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

static int sq_enrichments_rewrite(struct homing_store *s,
                                  const struct homing_store_enrichment *rows, size_t n)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st = nq_prepare(q, "UPDATE enrichments SET verdict = ?1, confidence = ?2, "
                                     "reasons = ?3, rules_version = ?4, json = ?5 "
                                     "WHERE event = ?6");
    if (!st) r = -EIO;
    for (size_t i = 0; r == 0 && i < n; i++) {
        const struct homing_store_enrichment *e = &rows[i];
        sqlite3_bind_text(st, 1, e->verdict, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, e->confidence);
        sqlite3_bind_text(st, 3, e->reasons, (int)strnlen(e->reasons, sizeof e->reasons),
                          SQLITE_STATIC);
        sqlite3_bind_int(st, 4, e->rules_version);
        sqlite3_bind_text(st, 5, e->json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, e->event);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) r = sq_fail(q, rc, "rewriting enrichment");
    }
    sqlite3_finalize(st);
    if (r == 0) r = sq_commit(q);
    if (r < 0) sq_rollback(q);
    return r;
}

static int sq_readers_list(struct homing_store *s, uint64_t message,
                           struct homing_store_reader **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = nq_prepare(q, "SELECT message, fingerprint, recipient, first_us, last_us, "
                                     "client, device, country, opens, first_event, forward "
                                     "FROM readers WHERE message = ?1 ORDER BY first_us, "
                                     "first_event");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
    struct homing_store_reader *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_store_reader *w = &arr[used++];
        w->message = (uint64_t)sqlite3_column_int64(st, 0);
        col_copy(st, 1, w->fingerprint, sizeof w->fingerprint);
        w->recipient = (uint32_t)sqlite3_column_int64(st, 2);
        w->first_us = sqlite3_column_int64(st, 3);
        w->last_us = sqlite3_column_int64(st, 4);
        col_copy(st, 5, w->client, sizeof w->client);
        col_copy(st, 6, w->device, sizeof w->device);
        col_copy(st, 7, w->country, sizeof w->country);
        w->opens = sqlite3_column_int64(st, 8);
        w->first_event = sqlite3_column_int64(st, 9);
        w->forward = sqlite3_column_int(st, 10);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing readers");
    sqlite3_finalize(st);
    if (r < 0) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

static int sq_reader_lookup(struct homing_store *s, uint64_t message, uint32_t recipient,
                            const char *fingerprint, int *known, int64_t *others)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_READER_LOOKUP);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
    sqlite3_bind_int64(st, 2, recipient);
    sqlite3_bind_text(st, 3, fingerprint, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        *known = sqlite3_column_int64(st, 0) > 0;
        *others = sqlite3_column_int64(st, 1);
    } else {
        r = sq_fail(q, rc, "looking up reader");
    }
    sqlite3_reset(st);
    return r;
}

static int sq_events_stamp(struct homing_store *s, uint64_t message, int64_t upto,
                           struct homing_events_stamp *out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_EVENTS_STAMP);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
    sqlite3_bind_int64(st, 2, upto);
    sqlite3_bind_text(st, 3, PQ_TRUNCATE_CURSOR, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        out->count = sqlite3_column_int64(st, 0);
        out->truncated = sqlite3_column_int64(st, 1);
    } else {
        r = sq_fail(q, rc, "stamping events");
    }
    sqlite3_reset(st);
    return r;
}

static int sq_enrichment_flags(struct homing_store *s, int64_t after, int64_t upto, size_t limit,
                               struct homing_store_enrichment_flags **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_ENRICHMENT_FLAGS);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, upto);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    struct homing_store_enrichment_flags *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_store_enrichment_flags *f = &arr[used++];
        f->event = sqlite3_column_int64(st, 0);
        col_copy(st, 1, f->verdict, sizeof f->verdict);
        f->new_reader = sqlite3_column_int(st, 2);
        f->forward = sqlite3_column_int(st, 3);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing enrichment flags");
    sqlite3_reset(st);
    if (r < 0) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
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
    .link_url = sq_link_url,
    .recipient_set_state = sq_recipient_set_state,
    .events_append = sq_events_append,
    .events_append_floods = sq_events_append_all,
    .floods_close = sq_floods_close,
    .events_list = sq_events_list,
    .events_count = sq_events_count,
    .report = sq_report,
    .api_key_add = sq_api_key_add,
    .api_key_check = sq_api_key_check,
    .api_key_list = sq_api_key_list,
    .api_key_revoke = sq_api_key_revoke,
    .set_autocheckpoint = sq_set_autocheckpoint,
    .checkpoint = sq_checkpoint,
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
    .privacy_truncate = sq_privacy_truncate,
    .privacy_retention = sq_privacy_retention,
    .rollups_list = sq_rollups_list,
    .privacy_forget = sq_privacy_forget,
    .enrichment_put = sq_enrichment_put,
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
