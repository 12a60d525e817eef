/*
 * sqlite_notify.c: the SQLite backend's webhooks, notifications, their deliveries and the named
 * cursors over events (migration 0003).
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

/* ---- notifications (migration 0003) ----
 * Called by the notifier a few times per poll and by the CLI, not per hit:
 * statements are prepared per call, like the delivery ones. */

int sq_webhook_add(struct homing_store *s, const char *url, const char *events, const char *secret,
                   int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_prepare(q, "INSERT INTO webhooks (url, events, secret, created_us) "
                                     "VALUES (?1, ?2, ?3, ?4)");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, events, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, secret, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, homing_now_us());
    int r = sq_run_final(q, st, "adding webhook");
    if (r == 0 && id_out) *id_out = sqlite3_last_insert_rowid(q->db);
    return r;
}

int sq_webhook_list(struct homing_store *s, int64_t only_id, struct homing_webhook **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        sq_prepare(q, "SELECT id, url, events, secret, created_us, coalesce(disabled_us, 0) "
                      "FROM webhooks WHERE ?1 = 0 OR id = ?1 ORDER BY id");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, only_id);
    struct homing_webhook *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_webhook *w = &arr[used++];
        w->id = sqlite3_column_int64(st, 0);
        w->created_us = sqlite3_column_int64(st, 4);
        w->disabled_us = sqlite3_column_int64(st, 5);
        if ((r = sq_col_dup(st, 1, &w->url)) < 0 || (r = sq_col_dup(st, 2, &w->events)) < 0 ||
            (r = sq_col_dup(st, 3, &w->secret)) < 0)
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

int sq_webhook_disable(struct homing_store *s, int64_t id)
{
    struct sq *q = (struct sq *)s;
    int64_t now = homing_now_us();
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st =
        sq_prepare(q, "UPDATE webhooks SET disabled_us = ?1 WHERE id = ?2 AND disabled_us IS NULL");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    if ((r = sq_run_final(q, st, "disabling webhook")) < 0) goto fail;
    if (sqlite3_changes(q->db) == 0) {
        r = -ENOENT;
        goto fail;
    }
    /* Nobody will take them: pending deliveries end as failed, not pending forever. */
    st = sq_prepare(q, "UPDATE deliveries SET failed_us = ?1, last_error = 'webhook removed' "
                       "WHERE webhook = ?2 AND delivered_us IS NULL AND failed_us IS NULL");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    if ((r = sq_run_final(q, st, "failing deliveries")) < 0) goto fail;
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
int sq_notification_add(struct homing_store *s, const struct homing_notification_spec *n,
                        int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st = sq_prepare(q, "INSERT INTO notifications (time_us, kind, message, "
                                     "recipient, item, event, reader, text, payload) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, n->time_us ? n->time_us : homing_now_us());
    sqlite3_bind_text(st, 2, n->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)n->message);
    sqlite3_bind_int64(st, 4, n->recipient);
    sqlite3_bind_int64(st, 5, n->item);
    sqlite3_bind_int64(st, 6, n->event);
    sq_bind_opt(st, 7, n->reader, 0);
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
    st = sq_prepare(q, "INSERT INTO deliveries (notification, webhook, message, next_attempt_us) "
                       "SELECT ?1, id, ?2, ?3 FROM webhooks WHERE disabled_us IS NULL "
                       "AND (events = '*' OR ',' || events || ',' LIKE '%,' || ?4 || ',%')");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)n->message);
    sqlite3_bind_int64(st, 3, homing_now_us());
    sqlite3_bind_text(st, 4, n->kind, -1, SQLITE_STATIC);
    if ((r = sq_run_final(q, st, "adding deliveries")) < 0) goto fail;
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
    sq_col_copy(st, c0 + 2, v->kind, sizeof v->kind);
    v->message = (uint64_t)sqlite3_column_int64(st, c0 + 3);
    v->recipient = (uint32_t)sqlite3_column_int64(st, c0 + 4);
    v->item = (uint32_t)sqlite3_column_int64(st, c0 + 5);
    v->event = sqlite3_column_int64(st, c0 + 6);
    int r;
    if ((r = sq_col_dup(st, c0 + 7, &v->reader)) < 0 ||
        (r = sq_col_dup(st, c0 + 8, &v->text)) < 0 || (r = sq_col_dup(st, c0 + 9, &v->payload)) < 0)
        return r;
    if ((!v->text && !(v->text = strdup(""))) || (!v->payload && !(v->payload = strdup("{}"))))
        return -ENOMEM;
    return 0;
}

int sq_notifications_list(struct homing_store *s, int64_t after, size_t limit,
                          struct homing_notification **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_prepare(q, "SELECT " NOTIFICATION_COLUMNS " FROM notifications n "
                                     "WHERE n.id > ?1 ORDER BY n.id LIMIT ?2");
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    struct homing_notification *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
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

int sq_notifications_last(struct homing_store *s, int64_t *id)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_prepare(q, "SELECT coalesce(max(id), 0) FROM notifications");
    if (!st) return -EIO;
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else
        r = sq_fail(q, rc, "reading the newest notification");
    sqlite3_finalize(st);
    return r;
}

int sq_notification_exists(struct homing_store *s, const struct homing_notification_query *qr,
                           int *exists)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_NOTIFICATION_EXISTS);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)qr->message);
    sq_bind_opt(st, 2, qr->kind, 0);
    sqlite3_bind_int64(st, 3, qr->recipient);
    sqlite3_bind_int64(st, 4, qr->item);
    sq_bind_opt(st, 5, qr->reader, 0);
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
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_delivery *d = &arr[used++];
        d->notification = sqlite3_column_int64(st, 0);
        d->webhook = sqlite3_column_int64(st, 1);
        d->attempts = sqlite3_column_int(st, 2);
        if ((r = sq_col_dup(st, 3, &d->url)) < 0 || (r = sq_col_dup(st, 4, &d->secret)) < 0) break;
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
int sq_deliveries_due_fair(struct homing_store *s, int64_t now_us, size_t per_webhook, size_t limit,
                           struct homing_delivery **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_prepare(
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

int sq_delivery_result(struct homing_store *s, int64_t notification, int64_t webhook, int ok,
                       int64_t next_us, const char *error)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_prepare(
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
    sq_bind_opt(st, 6, ok ? NULL : error, 0);
    int r = sq_run_final(q, st, "recording delivery");
    if (r == 0 && sqlite3_changes(q->db) == 0) r = -ENOENT;
    return r;
}

int sq_delivery_counts(struct homing_store *s, int64_t *pending, int64_t *delivered,
                       int64_t *failed)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_prepare(q, "SELECT count(*) FILTER (WHERE delivered_us IS NULL AND "
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

int sq_cursor_get(struct homing_store *s, const char *name, int64_t *event)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_prepare(q, "SELECT event FROM cursors WHERE name = ?1");
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

int sq_cursor_set(struct homing_store *s, const char *name, int64_t event)
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
