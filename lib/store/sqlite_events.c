/*
 * sqlite_events.c: the SQLite backend's the append-only event log: the group-commit append path,
 * flood counts (migration 0010), listing, counting, and the per-recipient report.
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

/* ---- events ---- */

/* Binds event e to parameters base+1 .. base+SQ_EVENT_PARAMS. Header fields
 * are bound in place (SQLITE_STATIC): no copy, no allocation per event. */
void sq_bind_event(sqlite3_stmt *st, int base, const struct homing_event *e)
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
    sq_bind_opt(st, base + 7, e->client, sizeof e->client);
    sq_bind_opt(st, base + 8, e->user_agent, sizeof e->user_agent);
    sq_bind_opt(st, base + 9, e->accept_language, sizeof e->accept_language);
    sq_bind_opt(st, base + 10, e->via, sizeof e->via);
    sq_bind_opt(st, base + 11, e->from, sizeof e->from);
    sq_bind_opt(st, base + 12, e->detail, 0);
}

/* The group-commit hot path: one IMMEDIATE transaction for the batch, cached
 * statements, SQ_EVENT_ROWS events per statement execution while enough are
 * left, then one at a time. Within one INSERT an AUTOINCREMENT table hands out
 * consecutive ids (we hold the write lock), so the ids of a multi-row step are
 * the last_insert_rowid and the ones just before it. */
static int sq_flood_add(struct sq *q, const struct homing_flood_count *f)
{
    return sq_exec_cached(q, ST_FLOOD_ADD, "adding a flood count", "tIIItIII", f->client,
                          f->message, (int64_t)f->recipient, (int64_t)f->item,
                          homing_event_kind_name(f->kind), f->dropped, f->first_us, f->last_us);
}

int sq_events_insert(struct sq *q, struct homing_event *evs, size_t n, size_t *done)
{
    sqlite3_stmt *one = sq_stmt(q, ST_EVENT_INSERT);
    sqlite3_stmt *many = n >= SQ_EVENT_ROWS ? sq_stmt(q, ST_EVENT_INSERT_MANY) : NULL;
    if (!one || (n >= SQ_EVENT_ROWS && !many)) return -EIO;
    while (*done < n) {
        size_t k = n - *done >= SQ_EVENT_ROWS ? SQ_EVENT_ROWS : 1;
        sqlite3_stmt *st = k > 1 ? many : one;
        for (size_t i = 0; i < k; i++) sq_bind_event(st, (int)i * SQ_EVENT_PARAMS, &evs[*done + i]);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            int r = sq_fail(q, rc, "appending event");
            return r == -EEXIST ? -EINVAL : r; /* a CHECK failed: bad detail JSON */
        }
        int64_t last = sqlite3_last_insert_rowid(q->db);
        for (size_t i = 0; i < k; i++) evs[*done + i].id = last - (int64_t)(k - 1 - i);
        *done += k;
    }
    return 0;
}

int sq_events_abort(struct sq *q, struct homing_event *evs, size_t done, int r)
{
    sq_rollback(q);
    /* Nothing was stored: take back the ids handed out so far. */
    for (size_t i = 0; i < done; i++) evs[i].id = 0;
    return r;
}

int sq_events_append_all(struct homing_store *s, struct homing_event *evs, size_t n,
                         const struct homing_flood_count *floods, size_t nf, const char *cursor,
                         int64_t position)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    size_t done = 0;
    if ((r = sq_events_insert(q, evs, n, &done)) < 0) goto fail;
    for (size_t i = 0; i < nf; i++)
        if ((r = sq_flood_add(q, &floods[i])) < 0) goto fail;
    if (cursor && (r = sq_cursor_set(s, cursor, position)) < 0) goto fail;
    if ((r = sq_commit(q)) < 0) goto fail;
    return 0;
fail:
    return sq_events_abort(q, evs, done, r);
}

int sq_events_append(struct homing_store *s, struct homing_event *evs, size_t n, const char *cursor,
                     int64_t position)
{
    return sq_events_append_all(s, evs, n, NULL, 0, cursor, position);
}

/* Not per hit: a pending flood is closed a few seconds after it ends. */
int sq_floods_close(struct homing_store *s, int64_t before_us, size_t *closed, size_t *left)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    if ((r = sq_exec(q, "closing floods",
                     "INSERT INTO events (time_us, kind, method, message, recipient, item, "
                     "client, detail) SELECT last_us, 'suppressed', NULL, message, recipient, "
                     "item, client, '{\"dropped\":' || dropped || ',\"of\":\"' || kind || '\"}' "
                     "FROM flood_pending WHERE last_us < ?1 ORDER BY first_us",
                     "I", before_us)) < 0)
        goto fail;
    *closed = (size_t)sqlite3_changes(q->db);
    if ((r = sq_exec(q, "closing floods", "DELETE FROM flood_pending WHERE last_us < ?1", "I",
                     before_us)) < 0)
        goto fail;
    sqlite3_stmt *st;
    int64_t pending;
    if (!(st = sq_prepare(q, "SELECT count(*) FROM flood_pending"))) goto fail_io;
    if ((r = sq_one_int64(q, st, false, "counting floods", &pending)) < 0) goto fail;
    if ((r = sq_commit(q)) < 0) goto fail;
    *left = (size_t)pending;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    return r;
}

void sqlite_read_event_row(sqlite3_stmt *st, struct homing_event *e)
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
    sq_col_copy(st, 7, e->client, sizeof e->client);
    sq_col_copy(st, 8, e->user_agent, sizeof e->user_agent);
    sq_col_copy(st, 9, e->accept_language, sizeof e->accept_language);
    sq_col_copy(st, 10, e->via, sizeof e->via);
    sq_col_copy(st, 11, e->from, sizeof e->from);
}

int sq_events_list(struct homing_store *s, uint64_t message, int64_t after, size_t limit,
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
        /* sq_grow() zeroes new slots, so a partly read array frees cleanly. */
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_event *e = &arr[used++];
        sqlite_read_event_row(st, e);
        if ((r = sq_col_dup(st, 12, &e->detail)) < 0) break;
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

int sq_events_count(struct homing_store *s, uint64_t message, int64_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, message ? ST_EVENTS_COUNT_MESSAGE : ST_EVENTS_COUNT_ALL);
    if (!st) return -EIO;
    if (message) sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
    return sq_one_int64(q, st, true, "counting events", n);
}

int sq_report(struct homing_store *s, uint64_t message, struct homing_report_row **rows, size_t *n)
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
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_report_row *w = &arr[used++];
        w->recipient = (uint32_t)sqlite3_column_int64(st, 0);
        if ((r = sq_col_dup(st, 1, &w->address)) < 0 || (r = sq_col_dup(st, 2, &w->state)) < 0)
            break;
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
