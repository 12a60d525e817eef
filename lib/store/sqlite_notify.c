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
    int r = sq_exec(q, "adding webhook",
                    "INSERT INTO webhooks (url, events, secret, created_us) "
                    "VALUES (?1, ?2, ?3, ?4)",
                    "tttI", url, events, secret, homing_now_us());
    if (r == 0 && id_out) *id_out = sqlite3_last_insert_rowid(q->db);
    return r;
}

int sq_webhook_list(struct homing_store *s, int64_t only_id, struct homing_webhook **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        sq_query(q,
                 "SELECT id, url, events, secret, created_us, coalesce(disabled_us, 0) "
                 "FROM webhooks WHERE ?1 = 0 OR id = ?1 ORDER BY id",
                 "I", only_id);
    if (!st) return -EIO;
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
    if ((r = sq_exec(q, "disabling webhook",
                     "UPDATE webhooks SET disabled_us = ?1 WHERE id = ?2 AND disabled_us IS NULL",
                     "II", now, id)) < 0)
        goto fail;
    if (sqlite3_changes(q->db) == 0) {
        r = -ENOENT;
        goto fail;
    }
    /* Nobody will take them: pending deliveries end as failed, not pending forever. */
    if ((r = sq_exec(q, "failing deliveries",
                     "UPDATE deliveries SET failed_us = ?1, last_error = 'webhook removed' "
                     "WHERE webhook = ?2 AND delivered_us IS NULL AND failed_us IS NULL",
                     "II", now, id)) < 0)
        goto fail;
    if ((r = sq_commit(q)) < 0) goto fail;
    return 0;
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
    sqlite3_stmt *st = sq_query(q,
                                "INSERT INTO notifications (time_us, kind, message, "
                                "recipient, item, event, reader, text, payload) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                "ItIIIIott", (int64_t)(n->time_us ? n->time_us : homing_now_us()),
                                n->kind, n->message, (int64_t)n->recipient, (int64_t)n->item,
                                n->event, n->reader, n->text, n->payload);
    if (!st) goto fail_io;
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
    if ((r = sq_exec(q, "adding deliveries",
                     "INSERT INTO deliveries (notification, webhook, message, next_attempt_us) "
                     "SELECT ?1, id, ?2, ?3 FROM webhooks WHERE disabled_us IS NULL "
                     "AND (events = '*' OR ',' || events || ',' LIKE '%,' || ?4 || ',%')",
                     "IIIt", id, n->message, homing_now_us(), n->kind)) < 0)
        goto fail;
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
    sqlite3_stmt *st = sq_query(q,
                                "SELECT " NOTIFICATION_COLUMNS " FROM notifications n "
                                "WHERE n.id > ?1 ORDER BY n.id LIMIT ?2",
                                "II", after, (int64_t)limit);
    if (!st) return -EIO;
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
    return sq_one_int64(q, st, false, "reading the newest notification", id);
}

int sq_notification_exists(struct homing_store *s, const struct homing_notification_query *qr,
                           int *exists)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query_cached(q, ST_NOTIFICATION_EXISTS, "IoIIo", qr->message, qr->kind,
                                       (int64_t)qr->recipient, (int64_t)qr->item, qr->reader);
    if (!st) return -EIO;
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
    sqlite3_stmt *st = sq_query(
        q,
        "WITH due AS (SELECT d.notification, d.webhook, d.attempts, row_number() OVER "
        "(PARTITION BY d.webhook ORDER BY d.next_attempt_us, d.notification) AS rn "
        "FROM deliveries d WHERE " DELIVERIES_DUE_WHERE ") "
        "SELECT due.notification, due.webhook, due.attempts, w.url, w.secret, " NOTIFICATION_COLUMNS
        " FROM due JOIN webhooks w ON w.id = due.webhook "
        "JOIN notifications n ON n.id = due.notification WHERE due.rn <= ?2 "
        "ORDER BY due.rn, due.webhook LIMIT ?3",
        "III", now_us, (int64_t)per_webhook, (int64_t)limit);
    if (!st) return -EIO;
    return read_deliveries(q, st, out, n);
}

int sq_delivery_result(struct homing_store *s, int64_t notification, int64_t webhook, int ok,
                       int64_t next_us, const char *error)
{
    struct sq *q = (struct sq *)s;
    int r = sq_exec(
        q, "recording delivery",
        "UPDATE deliveries SET attempts = attempts + 1, "
        "delivered_us = CASE WHEN ?3 THEN ?4 END, "
        "failed_us = CASE WHEN NOT ?3 AND ?5 = 0 THEN ?4 END, "
        "next_attempt_us = CASE WHEN NOT ?3 AND ?5 != 0 THEN ?5 ELSE next_attempt_us END, "
        "last_error = ?6 "
        "WHERE notification = ?1 AND webhook = ?2 AND delivered_us IS NULL "
        "AND failed_us IS NULL",
        "IIiIIo", notification, webhook, ok ? 1 : 0, homing_now_us(), next_us, ok ? NULL : error);
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
    sqlite3_stmt *st = sq_query(q, "SELECT event FROM cursors WHERE name = ?1", "t", name);
    if (!st) return -EIO;
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
    return sq_exec_cached(q, ST_CURSOR_SET, "setting cursor", "tI", name, event);
}
