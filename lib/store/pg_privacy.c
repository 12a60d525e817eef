/*
 * pg_privacy.c: the PostgreSQL backend's tracking modes of messages and
 * recipients. Truncation, retention (by dropping monthly partitions), forget
 * and rollups are pending (issue #14; docs/internals/store.md).
 *
 * Contract: homing/store.h for each operation; the helpers of pg_int.h.
 */
#include <errno.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

int pg_tracking_set(struct homing_store *s, uint64_t message, uint32_t recipient, int mode)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    /* NULL: the recipient follows its message's mode */
    pg_arg_text(&a, mode == HOMING_TRACKING_INHERIT ? NULL : homing_tracking_name(mode), -1);
    pg_arg_int(&a, (int64_t)message);
    if (recipient) pg_arg_int(&a, recipient);
    int64_t changed = 0;
    int r = pg_do(p, recipient ? PG_TRACKING_SET_RECIPIENT : PG_TRACKING_SET_MESSAGE, &a,
                  "setting tracking mode", &changed);
    if (r < 0) return r;
    return changed ? 0 : -ENOENT;
}

static int tracking_of(const PGresult *res, int row, int col)
{
    int m = PQgetisnull(res, row, col) ? -1 : homing_tracking_parse(PQgetvalue(res, row, col));
    return m < 0 ? HOMING_TRACKING_INDIVIDUAL : m;
}

int pg_tracking_get(struct homing_store *s, uint64_t message, int *message_mode, int **modes,
                    size_t *n)
{
    struct pg *p = (struct pg *)s;
    int r = pg_begin_read(p);
    if (r < 0) return r;
    int *arr = NULL, mm = 0;
    size_t used = 0;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)message);
    PGresult *res;
    if ((r = pg_run(p, PG_TRACKING_GET_MESSAGE, &a, "reading tracking mode", &res)) < 0) goto fail;
    if (PQntuples(res)) mm = tracking_of(res, 0, 0);
    r = PQntuples(res) ? 0 : -ENOENT;
    PQclear(res);
    if (r < 0) goto fail;
    if ((r = pg_run(p, PG_TRACKING_GET_RECIPIENTS, &a, "reading tracking modes", &res)) < 0)
        goto fail;
    size_t rows = (size_t)PQntuples(res);
    /* indexes run 1..n, so the array position is the index - 1 */
    if (rows && !(arr = calloc(rows, sizeof *arr))) r = -ENOMEM;
    for (; r == 0 && used < rows; used++) arr[used] = tracking_of(res, (int)used, 1);
    PQclear(res);
    if (r == 0) r = pg_commit(p);
    if (r < 0) goto fail;
    *message_mode = mm;
    *modes = arr;
    *n = used;
    return 0;
fail:
    pg_rollback(p);
    free(arr);
    return r;
}
