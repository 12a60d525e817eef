/*
 * pg_delivery.c: the PostgreSQL backend's delivery-report side: reports that
 * matched no message, the ingesters' sync positions, and the keys of ingested
 * records (migration 0002).
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

int pg_ingest_claim(struct pg *p, const char *key)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, key, -1);
    pg_arg_int(&a, homing_now_us());
    int64_t added = 0;
    int r = pg_do(p, PG_INGEST_CLAIM, &a, "recording ingest key", &added);
    return r < 0 ? r : added ? 0 : -EALREADY;
}

int pg_unmatched_add(struct homing_store *s, const char *source, const char *kind,
                     const char *reason, const char *raw, size_t raw_len, int64_t *id_out)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, homing_now_us());
    pg_arg_text(&a, source, -1);
    pg_arg_text(&a, kind, -1);
    pg_arg_text(&a, reason, -1);
    pg_arg_bytes(&a, raw_len ? raw : NULL, (int)raw_len);
    PGresult *res;
    int r = pg_run(p, PG_UNMATCHED_ADD, &a, "keeping unmatched report", &res);
    if (r < 0) return r;
    *id_out = pg_int(res, 0, 0);
    PQclear(res);
    return 0;
}

int pg_unmatched_add_once(struct homing_store *s, const char *key, const char *source,
                          const char *kind, const char *reason, const char *raw, size_t raw_len,
                          int64_t *id_out)
{
    struct pg *p = (struct pg *)s;
    int r = pg_begin(p);
    if (r < 0) return r;
    if ((r = pg_ingest_claim(p, key)) < 0) goto fail;
    if ((r = pg_unmatched_add(s, source, kind, reason, raw, raw_len, id_out)) < 0) goto fail;
    if ((r = pg_commit(p)) < 0) goto fail;
    return 0;
fail:
    pg_rollback(p);
    return r;
}

int pg_unmatched_list(struct homing_store *s, int64_t after, size_t limit, int with_raw,
                      struct homing_unmatched **out, size_t *n)
{
    struct pg *p = (struct pg *)s;
    const char *params[3];
    char pa[24], pl[24];
    snprintf(pa, sizeof pa, "%lld", (long long)after);
    snprintf(pl, sizeof pl, "%zu", limit);
    params[0] = pa;
    params[1] = pl;
    params[2] = with_raw ? "true" : "false";
    /* binary results: raw comes back as its bytes */
    PGresult *res = PQexecParams(p->conn,
                                 "SELECT id, time_us, source, kind, reason, "
                                 "CASE WHEN $3::boolean THEN raw END FROM unmatched_reports "
                                 "WHERE id > $1::bigint ORDER BY id LIMIT $2::bigint",
                                 3, NULL, params, NULL, NULL, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int r = pg_fail(p, res, "listing unmatched reports");
        PQclear(res);
        return r;
    }
    size_t rows = (size_t)PQntuples(res), used = 0;
    struct homing_unmatched *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    int r = rows && !arr ? -ENOMEM : 0;
    for (; r == 0 && used < rows; used++) {
        struct homing_unmatched *u = &arr[used];
        int i = (int)used;
        /* int8 in binary: 8 bytes, network order */
        const unsigned char *v = (const unsigned char *)PQgetvalue(res, i, 0);
        uint64_t x = 0;
        for (int b = 0; b < 8; b++) x = x << 8 | v[b];
        u->id = (int64_t)x;
        v = (const unsigned char *)PQgetvalue(res, i, 1);
        x = 0;
        for (int b = 0; b < 8; b++) x = x << 8 | v[b];
        u->time_us = (int64_t)x;
        const int cols[3] = {2, 3, 4};
        char **dst[3] = {&u->source, &u->kind, &u->reason};
        for (int c = 0; r == 0 && c < 3; c++) {
            int len = PQgetlength(res, i, cols[c]);
            if (!(*dst[c] = malloc((size_t)len + 1))) {
                r = -ENOMEM;
                break;
            }
            memcpy(*dst[c], PQgetvalue(res, i, cols[c]), (size_t)len);
            (*dst[c])[len] = '\0';
        }
        if (r == 0 && !PQgetisnull(res, i, 5)) {
            int len = PQgetlength(res, i, 5);
            if (!(u->raw = malloc((size_t)len + 1))) {
                r = -ENOMEM;
                break;
            }
            memcpy(u->raw, PQgetvalue(res, i, 5), (size_t)len);
            u->raw[len] = '\0';
            u->raw_len = (size_t)len;
        }
    }
    if (r < 0 && arr && used < rows) used++; /* the row being read when it failed */
    PQclear(res);
    if (r < 0) {
        homing_unmatched_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int pg_sync_get(struct homing_store *s, const char *name, char **value_out)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, name, -1);
    PGresult *res;
    int r = pg_run(p, PG_SYNC_GET, &a, "reading sync state", &res);
    if (r < 0) return r;
    char *v = NULL;
    r = PQntuples(res) ? pg_dup(res, 0, 0, &v) : -ENOENT;
    PQclear(res);
    if (r == 0 && !v) r = -ENOENT;
    if (r < 0) return r;
    *value_out = v;
    return 0;
}

int pg_sync_set(struct homing_store *s, const char *name, const char *value)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, name, -1);
    pg_arg_text(&a, value, -1);
    pg_arg_int(&a, homing_now_us());
    return pg_do(p, PG_SYNC_SET, &a, "writing sync state", NULL);
}
