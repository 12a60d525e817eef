/*
 * pg_suppress.c: the PostgreSQL backend's suppression list and relay users
 * (migration 0005). Addresses arrive normalised (store.c and
 * lib/store/suppress.c); each operation is one statement in autocommit. The
 * relay users live in the key silo since migration 0010: one SECURITY
 * DEFINER function call each, never the table.
 *
 * Contract: homing/store.h for each operation; the helpers of pg_int.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

static void sup_read(const PGresult *res, int i, struct homing_suppression *e)
{
    memset(e, 0, sizeof *e);
    pg_copy(res, i, 0, e->sender, sizeof e->sender);
    pg_copy(res, i, 1, e->address, sizeof e->address);
    int r = homing_suppress_reason_parse(PQgetvalue(res, i, 2));
    e->reason = r < 0 ? HOMING_SUPPRESS_MANUAL : r;
    e->message = (uint64_t)pg_int(res, i, 3);
    e->recipient = (uint32_t)pg_int(res, i, 4);
    e->created_us = pg_int(res, i, 5);
    pg_copy(res, i, 6, e->note, sizeof e->note);
}

int pg_suppress_add(struct homing_store *s, const struct homing_suppression *e, int *added)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, e->sender, (int)strnlen(e->sender, sizeof e->sender));
    pg_arg_text(&a, e->address, (int)strnlen(e->address, sizeof e->address));
    pg_arg_text(&a, homing_suppress_reason_name(e->reason), -1);
    pg_arg_int(&a, (int64_t)e->message);
    pg_arg_int(&a, e->recipient);
    pg_arg_int(&a, e->created_us);
    pg_arg_opt(&a, e->note, sizeof e->note);
    int64_t n = 0;
    int r = pg_do((struct pg *)s, PG_SUPPRESS_ADD, &a, "adding to the suppression list", &n);
    if (r == 0 && added) *added = n > 0;
    return r;
}

int pg_suppress_remove(struct homing_store *s, const char *sender, const char *address,
                       size_t *removed)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, sender, -1); /* NULL: every sender's entry */
    pg_arg_text(&a, address, -1);
    int64_t n = 0;
    int r = pg_do((struct pg *)s, PG_SUPPRESS_REMOVE, &a, "removing from the suppression list", &n);
    if (r < 0) return r;
    if (n == 0) return -ENOENT;
    if (removed) *removed = (size_t)n;
    return 0;
}

int pg_suppress_find(struct homing_store *s, const char *sender, const char *address,
                     struct homing_suppression *out)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, sender, -1);
    pg_arg_text(&a, address, -1);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_SUPPRESS_FIND, &a, "reading the suppression list", &res);
    if (r < 0) return r;
    r = PQntuples(res) > 0;
    if (r && out) sup_read(res, 0, out);
    PQclear(res);
    return r;
}

int pg_suppress_list(struct homing_store *s, const char *sender, struct homing_suppression **out,
                     size_t *n)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, sender, -1);
    pg_arg_int(&a, HOMING_SUPPRESS_LIST_MAX);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_SUPPRESS_LIST, &a, "listing the suppression list", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res);
    struct homing_suppression *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) {
        PQclear(res);
        return -ENOMEM;
    }
    for (size_t i = 0; i < rows; i++) sup_read(res, (int)i, &arr[i]);
    PQclear(res);
    *out = arr;
    *n = rows;
    return 0;
}

int pg_relay_user_set(struct homing_store *s, const char *name, const char *hash)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, name, -1);
    pg_arg_text(&a, hash, -1);
    pg_arg_int(&a, homing_now_us());
    return pg_do((struct pg *)s, PG_RELAY_USER_SET, &a, "writing a relay user", NULL);
}

int pg_relay_user_get(struct homing_store *s, const char *name, char **hash_out)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, name, -1);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_RELAY_USER_GET, &a, "reading a relay user", &res);
    if (r < 0) return r;
    char *h = NULL;
    r = PQntuples(res) ? pg_dup(res, 0, 0, &h) : -ENOENT;
    PQclear(res);
    if (r == 0 && !h) r = -ENOENT;
    if (r == 0) *hash_out = h;
    return r;
}

int pg_relay_user_list(struct homing_store *s, char ***names, size_t *n)
{
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_RELAY_USER_LIST, NULL, "listing relay users", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res), used = 0;
    char **arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (; r == 0 && used < rows; used++)
        if (!(arr[used] = strdup(PQgetvalue(res, (int)used, 0)))) r = -ENOMEM;
    PQclear(res);
    if (r < 0) {
        for (size_t i = 0; i < used; i++) free(arr[i]);
        free(arr);
        return r;
    }
    *names = arr;
    *n = used;
    return 0;
}

int pg_relay_user_remove(struct homing_store *s, const char *name)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, name, -1);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_RELAY_USER_REMOVE, &a, "removing a relay user", &res);
    if (r < 0) return r;
    int64_t n = pg_int(res, 0, 0); /* the silo function's count of rows removed */
    PQclear(res);
    return n ? 0 : -ENOENT;
}
