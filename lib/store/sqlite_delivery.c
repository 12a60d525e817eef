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
    sqlite3_stmt *st = sq_prepare(q, "INSERT INTO unmatched_reports (time_us, source, kind, "
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

int sq_unmatched_list(struct homing_store *s, int64_t after, size_t limit, int with_raw,
                      struct homing_unmatched **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_prepare(q, "SELECT id, time_us, source, kind, reason, "
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
    sqlite3_stmt *st = sq_prepare(q, "SELECT value FROM sync_state WHERE name = ?1");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
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
    sqlite3_stmt *st =
        sq_prepare(q, "INSERT INTO sync_state (name, value, updated_us) "
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

int sq_events_append_once(struct homing_store *s, const char *key, struct homing_event *evs,
                          size_t n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_prepare(q, "INSERT OR IGNORE INTO ingest_seen (key, time_us) "
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
        sq_bind_event(one, 0, &evs[done]);
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
int sq_unmatched_add_once(struct homing_store *s, const char *key, const char *source,
                          const char *kind, const char *reason, const char *raw, size_t raw_len,
                          int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st = sq_prepare(q, "INSERT OR IGNORE INTO ingest_seen (key, time_us) "
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
