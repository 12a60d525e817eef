/*
 * sqlite_delivery.c: the SQLite backend's delivery reports kept unmatched, source positions and
 * ingest keys (migration 0002).
 *
 * Contract: homing/store.h for each operation; the helpers of sqlite_int.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/sqlite_int.h"

/* ---- delivery (migration 0002) ----
 * These run a few times per report or log line, not per hit: their statements
 * are prepared per call rather than cached with the hot ones. */

int sq_unmatched_add(struct homing_store *s, const char *source, const char *kind,
                     const char *reason, const char *raw, size_t raw_len, int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    int r =
        sq_exec(q, "keeping unmatched report",
                "INSERT INTO unmatched_reports (time_us, source, kind, reason, raw) "
                "VALUES (?1, ?2, ?3, ?4, ?5)",
                "Itttb", homing_now_us(), source, kind, reason, (const void *)raw, (int)raw_len);
    if (r == 0) *id_out = sqlite3_last_insert_rowid(q->db);
    return r;
}

int sq_unmatched_list(struct homing_store *s, int64_t after, size_t limit, int with_raw,
                      struct homing_unmatched **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query(q,
                                "SELECT id, time_us, source, kind, reason, "
                                "CASE WHEN ?3 THEN raw END FROM unmatched_reports "
                                "WHERE id > ?1 ORDER BY id LIMIT ?2",
                                "IIi", after, (int64_t)limit, with_raw ? 1 : 0);
    if (!st) return -EIO;
    struct homing_unmatched *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_unmatched *u = &arr[used++];
        u->id = sqlite3_column_int64(st, 0);
        u->time_us = sqlite3_column_int64(st, 1);
        if ((r = sq_col_dup(st, 2, &u->source)) < 0 || (r = sq_col_dup(st, 3, &u->kind)) < 0 ||
            (r = sq_col_dup(st, 4, &u->reason)) < 0)
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

int sq_sync_get(struct homing_store *s, const char *name, char **value_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query(q, "SELECT value FROM sync_state WHERE name = ?1", "t", name);
    if (!st) return -EIO;
    int rc = sqlite3_step(st), r;
    char *v = NULL;
    if (rc == SQLITE_ROW)
        r = sq_col_dup(st, 0, &v);
    else
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading sync state");
    sqlite3_finalize(st);
    if (r == 0 && !v) r = -ENOENT;
    if (r < 0) return r;
    *value_out = v;
    return 0;
}

int sq_sync_set(struct homing_store *s, const char *name, const char *value)
{
    struct sq *q = (struct sq *)s;
    return sq_exec(q, "writing sync state",
                   "INSERT INTO sync_state (name, value, updated_us) "
                   "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE "
                   "SET value = excluded.value, updated_us = excluded.updated_us",
                   "ttI", name, value, homing_now_us());
}

/* Records an ingest key inside the caller's write transaction: -EALREADY if
 * it was recorded before. */
static int claim_key(struct sq *q, const char *key)
{
    int r = sq_exec(q, "recording ingest key",
                    "INSERT OR IGNORE INTO ingest_seen (key, time_us) VALUES (?1, ?2)", "tI", key,
                    homing_now_us());
    if (r == 0 && sqlite3_changes(q->db) == 0) r = -EALREADY;
    return r;
}

int sq_events_append_once(struct homing_store *s, const char *key, struct homing_event *evs,
                          size_t n)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    size_t done = 0;
    if (r < 0) return r;
    if ((r = claim_key(q, key)) < 0 || (r = sq_events_insert(q, evs, n, &done)) < 0) goto fail;
    if ((r = sq_commit(q)) < 0) goto fail;
    return 0;
fail:
    return sq_events_abort(q, evs, done, r);
}

/* The claim and the kept report in one transaction (the claim's own statement
 * runs through events_append_once's path with no events). */
int sq_unmatched_add_once(struct homing_store *s, const char *key, const char *source,
                          const char *kind, const char *reason, const char *raw, size_t raw_len,
                          int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    if ((r = claim_key(q, key)) < 0) goto fail;
    if ((r = sq_unmatched_add(s, source, kind, reason, raw, raw_len, id_out)) < 0) goto fail;
    if ((r = sq_commit(q)) < 0) goto fail;
    return 0;
fail:
    sq_rollback(q);
    return r;
}
