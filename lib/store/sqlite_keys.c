/*
 * sqlite_keys.c: the SQLite backend's API key hashes and their scopes (migrations 0001, 0008).
 *
 * Contract: homing/store.h for each operation; the helpers of sqlite_int.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "homing/apikey.h"
#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/sqlite_int.h"

/* ---- API keys ---- */

int sq_api_key_add(struct homing_store *s, const char *name, const uint8_t hash[32], int scope,
                   int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    int r = sq_exec_cached(q, ST_API_KEY_ADD, "adding API key", "tbIt", name, (const void *)hash,
                           32, homing_now_us(), homing_apikey_scope_name(scope));
    if (r == 0) {
        if (id_out) *id_out = sqlite3_last_insert_rowid(q->db);
    } else if (r == -EEXIST) {
        store_set_error(s, "an active API key is already named '%s'", name);
    }
    return r;
}

int sq_api_key_check(struct homing_store *s, const uint8_t hash[32])
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query_cached(q, ST_API_KEY_CHECK, "b", (const void *)hash, 32);
    if (!st) return -EIO;
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

int sq_api_key_list(struct homing_store *s, struct homing_api_key_info **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_API_KEY_LIST);
    if (!st) return -EIO;
    struct homing_api_key_info *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_api_key_info *k = &arr[used++];
        k->id = sqlite3_column_int64(st, 0);
        k->created_us = sqlite3_column_int64(st, 2);
        k->revoked_us = sqlite3_column_int64(st, 3);
        k->scope = homing_apikey_scope_parse((const char *)sqlite3_column_text(st, 4));
        if ((r = sq_col_dup(st, 1, &k->name)) < 0) break;
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

int sq_api_key_revoke(struct homing_store *s, const char *name)
{
    struct sq *q = (struct sq *)s;
    int r = sq_exec_cached(q, ST_API_KEY_REVOKE, "revoking API key", "It", homing_now_us(), name);
    if (r < 0) return r;
    return sqlite3_changes(q->db) ? 0 : -ENOENT;
}
