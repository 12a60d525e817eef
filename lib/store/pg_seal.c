/*
 * pg_seal.c: the PostgreSQL backend's half of sealing the rows of a store
 * written before it was sealed (lib/store/store_seal_legacy.c), as
 * sqlite_seal.c does for SQLite: one transaction per batch, values read
 * first and rewritten after; events under the guard 'seal' (migration 0011).
 *
 * Contract: store_int.h's seal_batch and seal_events. Text parameters go in
 * binary format with their length, so a bytea (an unmatched report's raw
 * copy) gets its bytes and a text column its text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "homing/seal.h"
#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

#define PG_SEAL_SQL_MAX 256

/* Runs sql with up to four parameters (binary; NULL value: SQL NULL). */
static int seal_run(struct pg *p, const char *sql, int n, const char *const *v, const int *len,
                    const char *what, PGresult **rows)
{
    int fmt[4] = {1, 1, 1, 1};
    PGresult *res = PQexecParams(p->conn, sql, n, NULL, v, len, fmt, 1);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int r = pg_fail(p, res, what);
        PQclear(res);
        return r;
    }
    if (rows)
        *rows = res;
    else
        PQclear(res);
    return 0;
}

static int64_t be64(const char *b)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x = (x << 8) | (unsigned char)b[i];
    return (int64_t)x;
}

static void put64(char b[8], int64_t v)
{
    for (int i = 7; i >= 0; i--, v = (int64_t)((uint64_t)v >> 8)) b[i] = (char)(v & 0xff);
}

int pg_seal_batch(struct homing_store *s, const struct store_seal_col *c, int64_t *after,
                  size_t limit, size_t *n_read)
{
    struct pg *p = (struct pg *)s;
    char sql[PG_SEAL_SQL_MAX];
    int whole = c->kind != STORE_SEAL_TEXT;
    if (c->kind == STORE_SEAL_TEXT_VALUE)
        snprintf(sql, sizeof sql,
                 "SELECT DISTINCT \"%s\" FROM \"%s\" WHERE %s(\"%s\", '@') > 0 AND "
                 "%s(\"%s\", '" HOMING_SEAL_PREFIX "') = 0 LIMIT %zu",
                 c->column, c->table, "strpos", c->column, "strpos", c->column, limit);
    else if (whole)
        snprintf(sql, sizeof sql,
                 "SELECT DISTINCT \"%s\" FROM \"%s\" WHERE \"%s\" IS NOT NULL AND "
                 "left(\"%s\", 4) <> '" HOMING_SEAL_PREFIX "' AND \"%s\" <> 'forgotten' "
                 "LIMIT %zu",
                 c->column, c->table, c->column, c->column, c->column, limit);
    else
        snprintf(
            sql, sizeof sql,
            "SELECT id::bigint, \"%s\" FROM \"%s\" WHERE id > $1::bigint AND \"%s\" IS NOT NULL "
            "ORDER BY id LIMIT %zu",
            c->column, c->table, c->column, limit);
    int r = pg_begin(p);
    if (r < 0) return r;
    PGresult *rows = NULL;
    char a8[8];
    put64(a8, *after);
    const char *av[1] = {a8};
    int al[1] = {8};
    if ((r = seal_run(p, sql, whole ? 0 : 1, av, al, "reading values to seal", &rows)) < 0)
        goto fail;
    int n = PQntuples(rows), col = whole ? 0 : 1;
    if (whole)
        snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = $1 WHERE \"%s\" = $2", c->table,
                 c->column, c->column);
    else
        snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = $1 WHERE id = $2::bigint", c->table,
                 c->column);
    int64_t sealed = 0, last = *after;
    for (int i = 0; i < n && r == 0; i++) {
        const char *v = PQgetvalue(rows, i, col);
        size_t vn = (size_t)PQgetlength(rows, i, col);
        if (!whole) last = be64(PQgetvalue(rows, i, 0));
        char *t;
        size_t tn;
        if ((r = store_seal_legacy_value(s, c->kind, v, vn, &t, &tn)) < 0 || !t) continue;
        char id8[8];
        put64(id8, last);
        const char *uv[2] = {t, whole ? v : id8};
        int ul[2] = {(int)tn, whole ? (int)vn : 8};
        r = seal_run(p, sql, 2, uv, ul, "sealing a value", NULL);
        free(t);
        sealed++;
    }
    PQclear(rows);
    if (r < 0) goto fail;
    if ((r = pg_commit(p)) < 0) goto fail;
    *after = whole ? *after + sealed : last;
    *n_read = (size_t)n;
    return 0;
fail:
    pg_rollback(p);
    return r;
}

int pg_seal_events(struct homing_store *s, int64_t *after, size_t limit, size_t *n_read)
{
    struct pg *p = (struct pg *)s;
    int r = pg_begin(p);
    if (r < 0) return r;
    char sql[PG_SEAL_SQL_MAX];
    snprintf(sql, sizeof sql,
             "SELECT id::bigint, client, from_hdr, detail FROM events WHERE id > $1::bigint "
             "ORDER BY id LIMIT %zu",
             limit);
    char a8[8];
    put64(a8, *after);
    const char *av[1] = {a8};
    int al[1] = {8};
    PGresult *rows = NULL;
    if ((r = seal_run(p, sql, 1, av, al, "reading events", &rows)) < 0) goto fail;
    int n = PQntuples(rows), guarded = 0;
    int64_t last = *after;
    for (int i = 0; i < n && r == 0; i++) {
        last = be64(PQgetvalue(rows, i, 0));
        char client[HOMING_ADDR_STR_MAX] = "", from[HOMING_EVENT_FROM_MAX] = "";
        if (!PQgetisnull(rows, i, 1)) pg_copy(rows, i, 1, client, sizeof client);
        if (!PQgetisnull(rows, i, 2)) pg_copy(rows, i, 2, from, sizeof from);
        char *detail = NULL;
        if (!PQgetisnull(rows, i, 3) && !(detail = strdup(PQgetvalue(rows, i, 3)))) {
            r = -ENOMEM;
            break;
        }
        int ch = store_seal_legacy_event(s, client, sizeof client, from, sizeof from, &detail);
        if (ch > 0 && !guarded &&
            (r = pg_cmd(p, "INSERT INTO privacy_guard (id, op) VALUES (1, 'seal')",
                        "setting the privacy guard")) == 0)
            guarded = 1;
        if (ch > 0 && r == 0) {
            char id8[8];
            put64(id8, last);
            const char *uv[4] = {client[0] ? client : NULL, from[0] ? from : NULL, detail, id8};
            int ul[4] = {(int)strlen(client), (int)strlen(from), detail ? (int)strlen(detail) : 0,
                         8};
            r = seal_run(p,
                         "UPDATE events SET client = $1, from_hdr = $2, detail = $3 "
                         "WHERE id = $4::bigint",
                         4, uv, ul, "sealing an event", NULL);
        }
        if (ch < 0) r = ch;
        free(detail);
    }
    PQclear(rows);
    if (r == 0 && guarded) r = pg_cmd(p, "DELETE FROM privacy_guard", "clearing the privacy guard");
    if (r < 0) goto fail;
    if ((r = pg_commit(p)) < 0) goto fail;
    *after = last;
    *n_read = (size_t)n;
    return 0;
fail:
    pg_rollback(p);
    return r;
}
