/*
 * sqlite_seal.c: the SQLite backend's half of sealing the rows of a store
 * written before it was sealed (lib/store/store_seal_legacy.c): one write
 * transaction per batch, values read first and rewritten after (no statement
 * stays open on a table while it changes).
 *
 * Contract: store_int.h's seal_batch and seal_events. A BLOB stays a BLOB (an
 * unmatched report's raw copy), a TEXT stays TEXT. With secure_delete on, the
 * old values do not stay in the file's free space.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "homing/seal.h"
#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/sqlite_int.h"

#define SQ_SEAL_SQL_MAX 256

struct sq_seal_val {
    int64_t id;
    char *v;
    size_t n;
    int blob;
};

static void vals_free(struct sq_seal_val *v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i].v);
    free(v);
}

/* Reads column 1 (or 0 with no id) of every row of st. */
static int read_vals(struct sq *q, sqlite3_stmt *st, int with_id, struct sq_seal_val **out,
                     size_t *n_out)
{
    struct sq_seal_val *v = NULL;
    size_t n = 0, cap = 0;
    int rc, r = 0, c = with_id ? 1 : 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&v, &cap, n, sizeof *v)) < 0) break;
        const void *p = sqlite3_column_blob(st, c);
        size_t len = (size_t)sqlite3_column_bytes(st, c);
        v[n].id = with_id ? sqlite3_column_int64(st, 0) : 0;
        v[n].blob = sqlite3_column_type(st, c) == SQLITE_BLOB;
        v[n].n = len;
        if (!(v[n].v = malloc(len + 1))) {
            r = -ENOMEM;
            break;
        }
        if (len) memcpy(v[n].v, p, len);
        v[n].v[len] = '\0';
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "reading values to seal");
    sqlite3_finalize(st);
    if (r < 0) {
        vals_free(v, n);
        return r;
    }
    *out = v;
    *n_out = n;
    return 0;
}

/* The values in clear are overwritten with zeros where they were, not left in
 * free space for someone who reads the file's bytes: secure_delete on this
 * connection from the first batch on. */
static int seal_secure(struct sq *q)
{
    int rc = sqlite3_exec(q->db, "PRAGMA secure_delete = ON", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sq_fail(q, rc, "turning secure_delete on");
}

int sq_seal_batch(struct homing_store *s, const struct store_seal_col *c, int64_t *after,
                  size_t limit, size_t *n_read)
{
    struct sq *q = (struct sq *)s;
    int sr = seal_secure(q);
    if (sr < 0) return sr;
    char sql[SQ_SEAL_SQL_MAX];
    int whole = c->kind != STORE_SEAL_TEXT;
    if (c->kind == STORE_SEAL_TEXT_VALUE)
        snprintf(sql, sizeof sql,
                 "SELECT DISTINCT \"%s\" FROM \"%s\" WHERE %s(\"%s\", '@') > 0 AND "
                 "%s(\"%s\", '" HOMING_SEAL_PREFIX "') = 0 LIMIT ?1",
                 c->column, c->table, "instr", c->column, "instr", c->column);
    else if (whole)
        snprintf(sql, sizeof sql,
                 "SELECT DISTINCT \"%s\" FROM \"%s\" WHERE \"%s\" IS NOT NULL AND "
                 "substr(\"%s\", 1, 4) <> '" HOMING_SEAL_PREFIX "' AND \"%s\" <> 'forgotten' "
                 "LIMIT ?1",
                 c->column, c->table, c->column, c->column, c->column);
    else
        snprintf(sql, sizeof sql,
                 "SELECT id, \"%s\" FROM \"%s\" WHERE id > ?2 AND \"%s\" IS NOT NULL "
                 "ORDER BY id LIMIT ?1",
                 c->column, c->table, c->column);
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    struct sq_seal_val *v = NULL;
    size_t n = 0;
    sqlite3_stmt *st = sq_prepare(q, sql);
    if (!st) {
        r = -EIO;
        goto fail;
    }
    sqlite3_bind_int64(st, 1, (int64_t)limit);
    if (!whole) sqlite3_bind_int64(st, 2, *after);
    if ((r = read_vals(q, st, !whole, &v, &n)) < 0) goto fail;
    if (whole)
        snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?1 WHERE \"%s\" = ?2", c->table,
                 c->column, c->column);
    else
        snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?1 WHERE id = ?2", c->table,
                 c->column);
    int64_t sealed = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        char *t;
        size_t tn;
        if ((r = store_seal_legacy_value(s, c->kind, v[i].v, v[i].n, &t, &tn)) < 0 || !t) continue;
        if (!(st = sq_prepare(q, sql))) {
            free(t);
            r = -EIO;
            break;
        }
        if (v[i].blob)
            sqlite3_bind_blob(st, 1, t, (int)tn, free);
        else
            sqlite3_bind_text(st, 1, t, (int)tn, free);
        if (whole)
            sqlite3_bind_text(st, 2, v[i].v, (int)v[i].n, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, 2, v[i].id);
        r = sq_run_final(q, st, "sealing a value");
        sealed++;
    }
    if (r < 0) goto fail;
    if ((r = sq_commit(q)) < 0) goto fail;
    if (whole)
        *after += sealed;
    else if (n)
        *after = v[n - 1].id;
    *n_read = n;
    vals_free(v, n);
    return 0;
fail:
    sq_rollback(q);
    vals_free(v, n);
    return r;
}

struct sq_seal_ev {
    int64_t id;
    char client[HOMING_ADDR_STR_MAX];
    char from[HOMING_EVENT_FROM_MAX];
    char *detail;
};

int sq_seal_events(struct homing_store *s, int64_t *after, size_t limit, size_t *n_read)
{
    struct sq *q = (struct sq *)s;
    int r = seal_secure(q);
    if (r < 0) return r;
    r = sq_begin(q, 1);
    if (r < 0) return r;
    struct sq_seal_ev *ev = calloc(limit ? limit : 1, sizeof *ev);
    size_t n = 0;
    if (!ev) {
        r = -ENOMEM;
        goto fail;
    }
    sqlite3_stmt *st = sq_query(q,
                                "SELECT id, client, from_hdr, detail FROM events WHERE id > ?1 "
                                "ORDER BY id LIMIT ?2",
                                "II", *after, (int64_t)limit);
    if (!st) {
        r = -EIO;
        goto fail;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < limit) {
        ev[n].id = sqlite3_column_int64(st, 0);
        sq_col_copy(st, 1, ev[n].client, sizeof ev[n].client);
        sq_col_copy(st, 2, ev[n].from, sizeof ev[n].from);
        const char *d = (const char *)sqlite3_column_text(st, 3);
        if (d && !(ev[n].detail = strdup(d))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW) r = sq_fail(q, rc, "reading events");
    sqlite3_finalize(st);
    if (r < 0) goto fail;
    int guarded = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        int ch = store_seal_legacy_event(s, ev[i].client, sizeof ev[i].client, ev[i].from,
                                         sizeof ev[i].from, &ev[i].detail);
        if (ch <= 0) {
            r = ch;
            continue;
        }
        if (!guarded &&
            (r = sq_exec(q, "setting the privacy guard",
                         "INSERT INTO privacy_guard (id, op) VALUES (1, 'seal')", "")) < 0)
            break;
        guarded = 1;
        r = sq_exec(q, "sealing an event",
                    "UPDATE events SET client = ?1, from_hdr = ?2, detail = ?3 WHERE id = ?4",
                    "oooI", ev[i].client, ev[i].from, ev[i].detail, ev[i].id);
    }
    if (r == 0 && guarded)
        r = sq_exec(q, "clearing the privacy guard", "DELETE FROM privacy_guard", "");
    if (r < 0) goto fail;
    if ((r = sq_commit(q)) < 0) goto fail;
    if (n) *after = ev[n - 1].id;
    *n_read = n;
    for (size_t i = 0; i < n; i++) free(ev[i].detail);
    free(ev);
    return 0;
fail:
    sq_rollback(q);
    for (size_t i = 0; i < n; i++) free(ev[i].detail);
    free(ev);
    return r;
}
