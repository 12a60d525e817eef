/*
 * pg_keys.c: the PostgreSQL backend's API keys (hashes only).
 *
 * Contract: homing/store.h for each operation; the helpers of pg_int.h. The
 * keys live in the key silo (migration 0010): every operation is one call of
 * a SECURITY DEFINER function of the silo schema, which the session's
 * search_path names after the store's schema (pg_use_schema); no statement
 * here reads or writes the table itself, which the nodes' role cannot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "homing/apikey.h"
#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

int pg_api_key_add(struct homing_store *s, const char *name, const uint8_t hash[32], int scope,
                   int64_t *id_out)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, name, -1);
    pg_arg_bytes(&a, hash, 32);
    pg_arg_int(&a, homing_now_us());
    pg_arg_text(&a, homing_apikey_scope_name(scope), -1);
    PGresult *res;
    int r = pg_run(p, PG_API_KEY_ADD, &a, "adding API key", &res);
    if (r == -EEXIST) store_set_error(s, "an active API key is already named '%s'", name);
    if (r < 0) return r;
    if (id_out) *id_out = pg_int(res, 0, 0);
    PQclear(res);
    return 0;
}

int pg_api_key_check(struct homing_store *s, const uint8_t hash[32])
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_bytes(&a, hash, 32);
    PGresult *res;
    int r = pg_run(p, PG_API_KEY_CHECK, &a, "checking API key", &res);
    if (r < 0) return r;
    /* The column's CHECK allows only the three names; anything else would be
     * a hand-edited row, and gets no access rather than a guess. */
    r = PQntuples(res) ? homing_apikey_scope_parse(PQgetvalue(res, 0, 0)) : -EACCES;
    if (r < 0) r = -EACCES;
    PQclear(res);
    return r;
}

int pg_api_key_list(struct homing_store *s, struct homing_api_key_info **out, size_t *n)
{
    struct pg *p = (struct pg *)s;
    PGresult *res;
    int r = pg_run(p, PG_API_KEY_LIST, NULL, "listing API keys", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res), used = 0;
    struct homing_api_key_info *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (; r == 0 && used < rows; used++) {
        struct homing_api_key_info *k = &arr[used];
        int i = (int)used;
        k->id = pg_int(res, i, 0);
        k->created_us = pg_int(res, i, 2);
        k->revoked_us = pg_int(res, i, 3);
        k->scope = homing_apikey_scope_parse(PQgetvalue(res, i, 4));
        r = pg_dup(res, i, 1, &k->name);
    }
    PQclear(res);
    if (r < 0) {
        homing_api_keys_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int pg_api_key_revoke(struct homing_store *s, const char *name)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, homing_now_us());
    pg_arg_text(&a, name, -1);
    PGresult *res;
    int r = pg_run(p, PG_API_KEY_REVOKE, &a, "revoking API key", &res);
    if (r < 0) return r;
    int64_t changed = pg_int(res, 0, 0); /* the function's count of keys revoked */
    PQclear(res);
    return changed ? 0 : -ENOENT;
}
