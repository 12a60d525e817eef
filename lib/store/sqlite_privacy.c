/*
 * sqlite_privacy.c: the SQLite backend's tracking modes, client truncation, retention with rollups,
 * and forget (migration 0006).
 *
 * Contract: homing/store.h for each operation; the helpers of sqlite_int.h.
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

/* ---- privacy (migration 0006) ----
 * Sweeps and `homing forget`, not per hit: statements are prepared per call.
 * Every change to events happens between pq_guard_set and pq_guard_clear in
 * one write transaction: the schema's triggers refuse it otherwise. */

#define PQ_FK_DEPTH 4 /* levels of rows pointing at deleted rows */
#define PQ_SQL_MAX  4096

static int pq_exec(struct sq *q, const char *sql, const char *what)
{
    sqlite3_stmt *st = sq_prepare(q, sql);
    return st ? sq_run_final(q, st, what) : -EIO;
}

static int pq_guard_clear(struct sq *q)
{
    return pq_exec(q, "DELETE FROM privacy_guard", "clearing the privacy guard");
}

static int tracking_parse_col(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    int m = homing_tracking_parse(t);
    return m < 0 ? HOMING_TRACKING_INDIVIDUAL : m;
}

int sq_tracking_set(struct homing_store *s, uint64_t message, uint32_t recipient, int mode)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        recipient ? sq_prepare(q, "UPDATE recipients SET tracking = ?1 WHERE message = ?2 AND "
                                  "idx = ?3")
                  : sq_prepare(q, "UPDATE messages SET tracking = ?1 WHERE id = ?2");
    if (!st) return -EIO;
    if (mode == HOMING_TRACKING_INHERIT)
        sqlite3_bind_null(st, 1);
    else
        sqlite3_bind_text(st, 1, homing_tracking_name(mode), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)message);
    if (recipient) sqlite3_bind_int64(st, 3, recipient);
    int r = sq_run_final(q, st, "setting tracking mode");
    if (r == 0 && sqlite3_changes(q->db) == 0) r = -ENOENT;
    return r;
}

int sq_tracking_get(struct homing_store *s, uint64_t message, int *message_mode, int **modes,
                    size_t *n)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 0);
    if (r < 0) return r;
    int *arr = NULL, mm = 0;
    size_t used = 0, cap = 0;
    sqlite3_stmt *st = sq_query(q, "SELECT tracking FROM messages WHERE id = ?1", "I", message);
    if (!st) goto fail_io;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) mm = tracking_parse_col(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading tracking mode");
        goto fail;
    }
    st = sq_query(q,
                  "SELECT r.idx, coalesce(r.tracking, m.tracking) FROM recipients r "
                  "JOIN messages m ON m.id = r.message WHERE r.message = ?1 ORDER BY r.idx",
                  "I", message);
    if (!st) goto fail_io;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* indexes run 1..n, so the array position is the index - 1 */
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        arr[used++] = tracking_parse_col(st, 1);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "reading tracking modes");
    sqlite3_finalize(st);
    if (r == 0) r = sq_commit(q);
    if (r < 0) goto fail;
    *message_mode = mm;
    *modes = arr;
    *n = used;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    free(arr);
    return r;
}

int sq_privacy_clients(struct homing_store *s, int64_t from, int64_t upto,
                       struct store_client *rows, size_t cap, size_t *n_rows)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query(q,
                                "SELECT id, client FROM events WHERE id > ?1 AND id <= ?2 "
                                "ORDER BY id LIMIT ?3",
                                "III", from, upto, (int64_t)cap);
    if (!st) return -EIO;
    size_t n = 0;
    int rc = SQLITE_DONE;
    while (n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows[n].id = sqlite3_column_int64(st, 0);
        sq_col_copy(st, 1, rows[n].client, sizeof rows[n].client);
        n++;
    }
    int r = n == cap || rc == SQLITE_DONE ? 0 : sq_fail(q, rc, "reading clients");
    sqlite3_finalize(st);
    if (r < 0) return r;
    *n_rows = n;
    return 0;
}

int sq_privacy_clients_set(struct homing_store *s, const struct store_client *rows, size_t n,
                           int64_t *changed)
{
    struct sq *q = (struct sq *)s;
    int r = pq_exec(q, "INSERT INTO privacy_guard (id, op) VALUES (1, 'truncate')",
                    "setting the privacy guard");
    if (r < 0) return r;
    sqlite3_stmt *st = sq_prepare(q, "UPDATE events SET client = ?1 WHERE id = ?2");
    if (!st) return -EIO;
    for (size_t i = 0; i < n && r == 0; i++) {
        sqlite3_bind_text(st, 1, rows[i].client, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, rows[i].id);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            r = sq_fail(q, rc, "truncating a client address");
        else
            (*changed)++;
    }
    sqlite3_finalize(st);
    if (r == 0) r = pq_guard_clear(q);
    return r;
}

int sq_privacy_fks(struct homing_store *s, const char *table, struct store_fk **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *fk =
        sq_query(q,
                 "SELECT m.name, p.\"from\", coalesce(p.\"to\", 'rowid') FROM sqlite_master m, "
                 "pragma_foreign_key_list(m.name) p WHERE m.type = 'table' AND p.\"table\" = ?1 "
                 "AND p.seq = 0",
                 "t", table);
    if (!fk) return -EIO;
    struct store_fk *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(fk)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct store_fk *k = &arr[used++];
        char from[128], to[128];
        sq_col_copy(fk, 0, k->child, sizeof k->child);
        sq_col_copy(fk, 1, from, sizeof from);
        sq_col_copy(fk, 2, to, sizeof to);
        snprintf(k->column, sizeof k->column, "\"%s\"", from);
        snprintf(k->parent, sizeof k->parent, "\"%s\"", to);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "reading foreign keys");
    sqlite3_finalize(fk);
    if (r < 0) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int sq_privacy_delete(struct homing_store *s, const char *sql, const struct store_del *a,
                      int64_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_prepare(q, sql);
    if (!st) return -EIO;
    /* a WHERE need not use every parameter: unused ones stay unbound */
    int np = sqlite3_bind_parameter_count(st);
    if (np >= 1) sqlite3_bind_text(st, 1, a->addr, -1, SQLITE_STATIC);
    if (np >= 2) sqlite3_bind_int64(st, 2, a->message);
    if (np >= 3) sqlite3_bind_int64(st, 3, a->recipient);
    if (np >= 4) sqlite3_bind_int64(st, 4, a->time_us);
    int r = sq_run_final(q, st, "deleting");
    if (r == 0) *n = sqlite3_changes(q->db);
    return r;
}

/* Deletes from table the rows matching where (parameters ?1 address, ?2
 * message, ?3 recipient, ?4 time), after the rows of other tables whose
 * foreign keys point at them (store_delete_cascade). */
static int pq_delete(struct sq *q, const char *table, const char *where, const char *addr,
                     int64_t message, int64_t recipient, int64_t time_us, int depth,
                     struct homing_forget_result *out, int64_t *deleted)
{
    const struct store_del a = {addr, message, recipient, time_us};
    return store_delete_cascade(&q->base, table, where, &a, PQ_FK_DEPTH - depth, out, deleted);
}

static int pq_table_exists(struct sq *q, const char *table, int *exists)
{
    sqlite3_stmt *st =
        sq_query(q, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", "t", table);
    if (!st) return -EIO;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sq_fail(q, rc, "reading the schema");
    *exists = rc == SQLITE_ROW;
    return 0;
}

int sq_privacy_retention(struct homing_store *s, int64_t before_us, const struct store_aged *aged,
                         int64_t *rolled, int64_t *deleted)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    int64_t n_rolled = 0, n_deleted = 0;
    sqlite3_stmt *st = sq_prepare(
        /* the verdict of the enrichment (migration 0004), else one a report
         * carried in its detail, else '' */
        q, "INSERT INTO event_rollups (message, day, kind, method, verdict, count) "
           "SELECT e.message, strftime('%Y-%m-%d', e.time_us / 1000000, 'unixepoch'), e.kind, "
           "coalesce(e.method, ''), coalesce(n.verdict, CASE WHEN json_valid(e.detail) AND "
           "json_type(e.detail, '$.verdict') = 'text' THEN json_extract(e.detail, '$.verdict') "
           "END, ''), count(*) FROM events e LEFT JOIN enrichments n ON n.event = e.id "
           "WHERE e.time_us < ?1 GROUP BY 1, 2, 3, 4, 5 "
           "ON CONFLICT (message, day, kind, method, verdict) DO UPDATE "
           "SET count = count + excluded.count");
    if (!st) goto fail_io;
    sqlite3_bind_int64(st, 1, before_us);
    if ((r = sq_run_final(q, st, "rolling up events")) < 0) goto fail;
    if ((r = pq_exec(q, "DELETE FROM privacy_guard", "clearing the privacy guard")) < 0) goto fail;
    if ((r = sq_exec(q, "setting the privacy guard",
                     "INSERT INTO privacy_guard (id, op, cutoff_us) VALUES (1, 'retention', ?1)",
                     "I", before_us)) < 0)
        goto fail;
    if ((r = pq_delete(q, "events", "time_us < ?4", NULL, 0, 0, before_us, 0, NULL, &n_deleted)) <
        0)
        goto fail;
    n_rolled = n_deleted; /* every deleted event was counted into a rollup first */
    /* Other records of the same age (store.c's list). */
    for (size_t i = 0; aged[i].table; i++) {
        int exists = 0;
        char where[128];
        if ((r = pq_table_exists(q, aged[i].table, &exists)) < 0) goto fail;
        if (!exists) continue;
        if (snprintf(where, sizeof where, "\"%s\" < ?4", aged[i].time_column) >=
            (int)sizeof where) {
            r = -E2BIG;
            goto fail;
        }
        if ((r = pq_delete(q, aged[i].table, where, NULL, 0, 0, before_us, 0, NULL, NULL)) < 0)
            goto fail;
    }
    if ((r = pq_guard_clear(q)) < 0 || (r = sq_commit(q)) < 0) goto fail;
    *rolled = n_rolled;
    *deleted = n_deleted;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    return r;
}

int sq_rollups_list(struct homing_store *s, uint64_t message, struct homing_rollup **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query(q,
                                "SELECT message, day, kind, method, verdict, count "
                                "FROM event_rollups WHERE ?1 = 0 OR message = ?1 "
                                "ORDER BY message, day, kind, method, verdict",
                                "I", message);
    if (!st) return -EIO;
    struct homing_rollup *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_rollup *w = &arr[used++];
        w->message = (uint64_t)sqlite3_column_int64(st, 0);
        sq_col_copy(st, 1, w->day, sizeof w->day);
        sq_col_copy(st, 2, w->kind, sizeof w->kind);
        sq_col_copy(st, 3, w->method, sizeof w->method);
        sq_col_copy(st, 4, w->verdict, sizeof w->verdict);
        w->count = sqlite3_column_int64(st, 5);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing rollups");
    sqlite3_finalize(st);
    if (r < 0) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

/* Tables forget does not search: SQLite's own, and store.c's list. */
static int pq_forget_skip(const char *t, const char *const *keep)
{
    if (strncmp(t, "sqlite_", 7) == 0) return 1;
    for (size_t i = 0; keep[i]; i++)
        if (strcmp(t, keep[i]) == 0) return 1;
    return 0;
}

/* A recipient's address is ?1: the lower-case address, or the lookup prefix
 * of its sealed form (homing/seal.h). */
#define SQ_ADDRESS_IS                                                                              \
    "(lower(address) = ?1 OR (substr(?1, 1, 4) = '" HOMING_SEAL_PREFIX "' AND "                    \
    "substr(address, 1, length(?1)) = ?1))"

struct pq_pair {
    int64_t message, recipient;
};

/* Every table other than the skipped ones: rows tied to one of the pairs (a
 * message and a recipient column) go, then rows with a text column naming the
 * address. */
static int pq_forget_tables(struct sq *q, const char *addr, const char *const *keep,
                            const struct pq_pair *pairs, size_t n_pairs,
                            struct homing_forget_result *out)
{
    sqlite3_stmt *st = sq_prepare(q, "SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "ORDER BY name");
    if (!st) return -EIO;
    char(*names)[128] = NULL;
    size_t n = 0, cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (!t || pq_forget_skip(t, keep) || strlen(t) >= 128) continue;
        if ((r = sq_grow((void **)&names, &cap, n, sizeof *names)) < 0) break;
        homing_strlcpy(names[n++], t, 128);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing tables");
    sqlite3_finalize(st);
    for (size_t i = 0; i < n && r == 0; i++) {
        st = sq_prepare(q, "SELECT name, upper(type) FROM pragma_table_info(?1)");
        if (!st) {
            r = -EIO;
            break;
        }
        sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
        int has_message = 0, has_recipient = 0;
        char where[PQ_SQL_MAX] = "";
        size_t wl = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *col = (const char *)sqlite3_column_text(st, 0);
            const char *type = (const char *)sqlite3_column_text(st, 1);
            if (!col || strchr(col, '"')) continue;
            if (strcmp(col, "message") == 0) has_message = 1;
            if (strcmp(col, "recipient") == 0) has_recipient = 1;
            /* text and untyped columns (a BLOB holds whole reports) */
            if (type && *type && !strstr(type, "TEXT") && !strstr(type, "CHAR") &&
                !strstr(type, "BLOB") && !strstr(type, "CLOB"))
                continue;
            int k = snprintf(where + wl, sizeof where - wl,
                             "%sinstr(lower(CAST(\"%s\" AS TEXT)), ?1) > 0", wl ? " OR " : "", col);
            if (k < 0 || (size_t)k >= sizeof where - wl) {
                r = -E2BIG;
                break;
            }
            wl += (size_t)k;
        }
        if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW) r = sq_fail(q, rc, "reading columns");
        sqlite3_finalize(st);
        if (r < 0) break;
        if (has_message && has_recipient)
            for (size_t p = 0; p < n_pairs && r == 0; p++)
                r = pq_delete(q, names[i], "message = ?2 AND recipient = ?3", addr,
                              pairs[p].message, pairs[p].recipient, 0, 0, out, NULL);
        if (r == 0 && wl) r = pq_delete(q, names[i], where, addr, 0, 0, 0, 0, out, NULL);
    }
    free(names);
    return r;
}

int sq_privacy_forget(struct homing_store *s, const char *plain, const char *lookup,
                      const char *const *keep, struct homing_forget_result *out)
{
    /* Sealed: rows are found by the lookup prefix (a whole value starts with
     * it, a text holds it); the plain address is only looked for in the
     * messages' sender and subject, which are not sealed. */
    const char *addr = lookup ? lookup : plain;
    struct sq *q = (struct sq *)s;
    struct homing_forget_result res = {0};
    struct pq_pair *pairs = NULL;
    size_t n_pairs = 0, cap = 0;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st =
        sq_query(q, "SELECT message, idx FROM recipients WHERE " SQ_ADDRESS_IS, "t", addr);
    if (!st) goto fail_io;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&pairs, &cap, n_pairs, sizeof *pairs)) < 0) break;
        pairs[n_pairs].message = sqlite3_column_int64(st, 0);
        pairs[n_pairs++].recipient = sqlite3_column_int64(st, 1);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "finding the address");
    sqlite3_finalize(st);
    if (r < 0) goto fail;

    /* events: the guard names the address and, in turn, each (message, recipient) */
    if ((r = pq_guard_clear(q)) < 0) goto fail;
    if ((r = sq_exec(q, "setting the privacy guard",
                     "INSERT INTO privacy_guard (id, op, message, recipient, address) "
                     "VALUES (1, 'forget', 0, -1, ?1)",
                     "t", addr)) < 0)
        goto fail;
    for (size_t i = 0; i < n_pairs; i++) {
        if ((r = sq_exec(q, "setting the privacy guard",
                         "UPDATE privacy_guard SET message = ?1, recipient = ?2", "II",
                         (int64_t)(pairs[i].message), (int64_t)(pairs[i].recipient))) < 0)
            goto fail;
        if ((r = pq_delete(q, "events", "message = ?2 AND recipient = ?3", addr, pairs[i].message,
                           pairs[i].recipient, 0, 0, &res, NULL)) < 0)
            goto fail;
    }
    if ((r = pq_delete(q, "events",
                       "instr(lower(coalesce(detail, '')), ?1) > 0 OR "
                       "instr(lower(coalesce(from_hdr, '')), ?1) > 0",
                       addr, 0, 0, 0, 0, &res, NULL)) < 0)
        goto fail;
    if ((r = pq_guard_clear(q)) < 0) goto fail;

    if ((r = pq_forget_tables(q, addr, keep, pairs, n_pairs, &res)) < 0) goto fail;

    /* the recipient rows stay as tombstones: indexes of the other recipients
     * (and the tokens in their copies) must not move */
    if ((r = sq_exec(q, "forgetting recipients",
                     "UPDATE recipients SET address = 'forgotten', state = 'forgotten', "
                     "state_us = ?2, tracking = 'off' WHERE " SQ_ADDRESS_IS,
                     "tI", addr, homing_now_us())) < 0)
        goto fail;
    store_forget_count(&res, "recipients", sqlite3_changes(q->db));
    static const char *const blank[] = {
        "UPDATE messages SET sender = NULL WHERE instr(lower(sender), ?1) > 0",
        "UPDATE messages SET subject = NULL WHERE instr(lower(subject), ?1) > 0",
    };
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        if (!(st = sq_prepare(q, blank[i]))) goto fail_io;
        sqlite3_bind_text(st, 1, plain, -1, SQLITE_STATIC);
        if ((r = sq_run_final(q, st, "blanking messages")) < 0) goto fail;
        store_forget_count(&res, "messages", sqlite3_changes(q->db));
    }
    if ((r = sq_commit(q)) < 0) goto fail;
    free(pairs);
    *out = res;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    free(pairs);
    return r;
}
