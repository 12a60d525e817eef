/*
 * pg_notify.c: the PostgreSQL backend's webhooks, notifications and the
 * webhook outbox (migration 0006).
 *
 * Contract: homing/store.h for each operation; the helpers of pg_int.h. A
 * notification and its deliveries (one per enabled webhook whose filter takes
 * its kind) are one transaction. The outbox query is SQLite's: per webhook at
 * most N due rows (row_number()), held back while an earlier notification of
 * the same message to the same webhook is pending. One leader node reading it
 * with FOR UPDATE SKIP LOCKED is issue #14 item 4.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

int pg_webhook_add(struct homing_store *s, const char *url, const char *events, const char *secret,
                   int64_t *id_out)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, url, -1);
    pg_arg_text(&a, events, -1);
    pg_arg_text(&a, secret, -1);
    pg_arg_int(&a, homing_now_us());
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_WEBHOOK_ADD, &a, "adding webhook", &res);
    if (r < 0) return r;
    if (id_out) *id_out = pg_int(res, 0, 0);
    PQclear(res);
    return 0;
}

int pg_webhook_list(struct homing_store *s, int64_t only_id, struct homing_webhook **out, size_t *n)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, only_id);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_WEBHOOK_LIST, &a, "listing webhooks", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res), used = 0;
    struct homing_webhook *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (; r == 0 && used < rows; used++) {
        struct homing_webhook *w = &arr[used];
        int i = (int)used;
        w->id = pg_int(res, i, 0);
        w->created_us = pg_int(res, i, 4);
        w->disabled_us = pg_int(res, i, 5);
        if ((r = pg_dup(res, i, 1, &w->url)) == 0 && (r = pg_dup(res, i, 2, &w->events)) == 0)
            r = pg_dup(res, i, 3, &w->secret);
    }
    PQclear(res);
    if (r < 0) {
        homing_webhooks_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int pg_webhook_disable(struct homing_store *s, int64_t id)
{
    struct pg *p = (struct pg *)s;
    int r = pg_begin(p);
    if (r < 0) return r;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, homing_now_us());
    pg_arg_int(&a, id);
    int64_t n = 0;
    if ((r = pg_do(p, PG_WEBHOOK_DISABLE, &a, "disabling webhook", &n)) < 0) goto fail;
    if (n == 0) {
        r = -ENOENT;
        goto fail;
    }
    /* Nobody will take them: pending deliveries end as failed, not pending forever. */
    if ((r = pg_do(p, PG_DELIVERIES_FAIL_WEBHOOK, &a, "failing deliveries", NULL)) < 0) goto fail;
    if ((r = pg_commit(p)) < 0) goto fail;
    return 0;
fail:
    pg_rollback(p);
    return r;
}

int pg_notification_add(struct homing_store *s, const struct homing_notification_spec *n,
                        int64_t *id_out)
{
    struct pg *p = (struct pg *)s;
    int r = pg_begin(p);
    if (r < 0) return r;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, n->time_us ? n->time_us : homing_now_us());
    pg_arg_text(&a, n->kind, -1);
    pg_arg_int(&a, (int64_t)n->message);
    pg_arg_int(&a, n->recipient);
    pg_arg_int(&a, n->item);
    pg_arg_int(&a, n->event);
    pg_arg_opt(&a, n->reader, 0);
    pg_arg_text(&a, n->text, -1);
    pg_arg_text(&a, n->payload, -1);
    PGresult *res;
    /* -EEXIST: the unique (event, kind) index; -EINVAL: the payload's check */
    if ((r = pg_run(p, PG_NOTIFICATION_ADD, &a, "adding notification", &res)) < 0) goto fail;
    int64_t id = pg_int(res, 0, 0);
    PQclear(res);
    pg_args_reset(&a);
    pg_arg_int(&a, id);
    pg_arg_int(&a, (int64_t)n->message);
    pg_arg_int(&a, homing_now_us());
    pg_arg_text(&a, n->kind, -1);
    if ((r = pg_do(p, PG_DELIVERIES_ADD, &a, "adding deliveries", NULL)) < 0) goto fail;
    if ((r = pg_commit(p)) < 0) goto fail;
    if (id_out) *id_out = id;
    return 0;
fail:
    pg_rollback(p);
    return r;
}

/* The notification columns from column c0 of row i. */
static int read_notification(const PGresult *res, int i, int c0, struct homing_notification *v)
{
    v->id = pg_int(res, i, c0);
    v->time_us = pg_int(res, i, c0 + 1);
    pg_copy(res, i, c0 + 2, v->kind, sizeof v->kind);
    v->message = (uint64_t)pg_int(res, i, c0 + 3);
    v->recipient = (uint32_t)pg_int(res, i, c0 + 4);
    v->item = (uint32_t)pg_int(res, i, c0 + 5);
    v->event = pg_int(res, i, c0 + 6);
    int r;
    if ((r = pg_dup(res, i, c0 + 7, &v->reader)) < 0 ||
        (r = pg_dup(res, i, c0 + 8, &v->text)) < 0 || (r = pg_dup(res, i, c0 + 9, &v->payload)) < 0)
        return r;
    if ((!v->text && !(v->text = strdup(""))) || (!v->payload && !(v->payload = strdup("{}"))))
        return -ENOMEM;
    return 0;
}

int pg_notifications_list(struct homing_store *s, int64_t after, size_t limit,
                          struct homing_notification **out, size_t *n)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, after);
    pg_arg_int(&a, (int64_t)limit);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_NOTIFICATIONS_LIST, &a, "listing notifications", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res), used = 0;
    struct homing_notification *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (; r == 0 && used < rows; used++) r = read_notification(res, (int)used, 0, &arr[used]);
    PQclear(res);
    if (r < 0) {
        homing_notifications_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int pg_notifications_last(struct homing_store *s, int64_t *id)
{
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_NOTIFICATIONS_LAST, NULL, "reading the newest notification",
                   &res);
    if (r < 0) return r;
    *id = pg_int(res, 0, 0);
    PQclear(res);
    return 0;
}

int pg_notification_exists(struct homing_store *s, const struct homing_notification_query *q,
                           int *exists)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)q->message);
    pg_arg_opt(&a, q->kind, 0);
    pg_arg_int(&a, q->recipient);
    pg_arg_int(&a, q->item);
    pg_arg_opt(&a, q->reader, 0);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_NOTIFICATION_EXISTS, &a, "looking up notifications", &res);
    if (r < 0) return r;
    *exists = PQntuples(res) > 0;
    PQclear(res);
    return 0;
}

int pg_deliveries_due_fair(struct homing_store *s, int64_t now_us, size_t per_webhook, size_t limit,
                           struct homing_delivery **out, size_t *n)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, now_us);
    pg_arg_int(&a, (int64_t)per_webhook);
    pg_arg_int(&a, (int64_t)limit);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_DELIVERIES_DUE, &a, "listing due deliveries", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res), used = 0;
    struct homing_delivery *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (; r == 0 && used < rows; used++) {
        struct homing_delivery *d = &arr[used];
        int i = (int)used;
        d->notification = pg_int(res, i, 0);
        d->webhook = pg_int(res, i, 1);
        d->attempts = (int)pg_int(res, i, 2);
        if ((r = pg_dup(res, i, 3, &d->url)) == 0 && (r = pg_dup(res, i, 4, &d->secret)) == 0 &&
            (r = read_notification(res, i, 5, &d->n)) == 0)
            d->notification_us = d->n.time_us;
    }
    PQclear(res);
    if (r < 0) {
        homing_deliveries_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int pg_delivery_result(struct homing_store *s, int64_t notification, int64_t webhook, int ok,
                       int64_t next_us, const char *error)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, notification);
    pg_arg_int(&a, webhook);
    pg_arg_int(&a, ok ? 1 : 0);
    pg_arg_int(&a, homing_now_us());
    pg_arg_int(&a, next_us);
    pg_arg_opt(&a, ok ? NULL : error, 0);
    int64_t n = 0;
    int r = pg_do((struct pg *)s, PG_DELIVERY_RESULT, &a, "recording delivery", &n);
    return r < 0 ? r : n ? 0 : -ENOENT;
}

int pg_delivery_counts(struct homing_store *s, int64_t *pending, int64_t *delivered,
                       int64_t *failed)
{
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_DELIVERY_COUNTS, NULL, "counting deliveries", &res);
    if (r < 0) return r;
    if (pending) *pending = pg_int(res, 0, 0);
    if (delivered) *delivered = pg_int(res, 0, 1);
    if (failed) *failed = pg_int(res, 0, 2);
    PQclear(res);
    return 0;
}
