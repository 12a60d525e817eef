/*
 * pg_privacy.c: the PostgreSQL backend's privacy operations: tracking modes,
 * client truncation, retention (dropping whole monthly partitions, rolling
 * the events up first), rollups, forget. The only writers of privacy_guard,
 * the append-only trigger's exceptions (migration 0001), each inside its own
 * transaction, as in SQLite (lib/store/sqlite_privacy.c).
 *
 * Contract: homing/store.h for each operation; the helpers of pg_int.h.
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

/* ---- truncation, retention, forget ---- */

/* Runs sql with the four parameters every privacy statement may use ($1
 * address text, $2 message, $3 recipient, $4 time; typed, so a statement need
 * not use them all): 0 and the rows it changed in *changed, or an error. */
static int run4(struct pg *p, const char *sql, const char *addr, int64_t message, int64_t recipient,
                int64_t time_us, const char *what, int64_t *changed, PGresult **rows)
{
    static const Oid types[4] = {25, 20, 20, 20}; /* text, int8, int8, int8 */
    char m[24], rc[24], t[24];
    snprintf(m, sizeof m, "%lld", (long long)message);
    snprintf(rc, sizeof rc, "%lld", (long long)recipient);
    snprintf(t, sizeof t, "%lld", (long long)time_us);
    const char *v[4] = {addr ? addr : "", m, rc, t};
    PGresult *res = PQexecParams(p->conn, sql, 4, types, v, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int r = pg_fail(p, res, what);
        PQclear(res);
        return r;
    }
    if (changed) *changed = strtoll(PQcmdTuples(res), NULL, 10);
    if (rows)
        *rows = res;
    else
        PQclear(res);
    return 0;
}

static int guard_clear(struct pg *p)
{
    return pg_cmd(p, "DELETE FROM privacy_guard", "clearing the privacy guard");
}

/* A recipient's address is $1: the lower-case address, or the lookup prefix
 * of its sealed form (homing/seal.h). */
#define PG_ADDRESS_IS                                                                              \
    "(lower(address) = $1 OR (left($1, 4) = '" HOMING_SEAL_PREFIX "' AND "                         \
    "left(address, length($1)) = $1))"

int pg_privacy_clients(struct homing_store *s, int64_t from, int64_t upto,
                       struct store_client *rows, size_t cap, size_t *n_rows)
{
    struct pg *p = (struct pg *)s;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT id, client FROM events WHERE id > $2 AND id <= $3 ORDER BY id LIMIT %zu", cap);
    PGresult *res;
    int r = run4(p, sql, NULL, from, upto, 0, "reading clients", NULL, &res);
    if (r < 0) return r;
    size_t n = (size_t)PQntuples(res);
    for (size_t i = 0; i < n; i++) {
        rows[i].id = pg_int(res, (int)i, 0);
        pg_copy(res, (int)i, 1, rows[i].client, sizeof rows[i].client);
    }
    PQclear(res);
    *n_rows = n;
    return 0;
}

int pg_privacy_clients_set(struct homing_store *s, const struct store_client *rows, size_t n,
                           int64_t *changed)
{
    struct pg *p = (struct pg *)s;
    int r = pg_cmd(p, "INSERT INTO privacy_guard (id, op) VALUES (1, 'truncate')",
                   "setting the privacy guard");
    for (size_t i = 0; i < n && r == 0; i++) {
        int64_t c = 0;
        r = run4(p, "UPDATE events SET client = $1 WHERE id = $2", rows[i].client, rows[i].id, 0, 0,
                 "truncating a client address", &c, NULL);
        *changed += c;
    }
    if (r == 0) r = guard_clear(p);
    return r;
}

int pg_privacy_fks(struct homing_store *s, const char *table, struct store_fk **out, size_t *n)
{
    PGresult *fk;
    int r = run4((struct pg *)s,
                 "SELECT c.conrelid::regclass::text, quote_ident(a.attname), "
                 "quote_ident(af.attname) FROM pg_constraint c "
                 "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                 "JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1] "
                 "WHERE c.contype = 'f' AND c.confrelid = to_regclass(quote_ident($1))",
                 table, 0, 0, 0, "reading foreign keys", NULL, &fk);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(fk);
    struct store_fk *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (size_t i = 0; r == 0 && i < rows; i++) {
        pg_copy(fk, (int)i, 0, arr[i].child, sizeof arr[i].child);
        pg_copy(fk, (int)i, 1, arr[i].column, sizeof arr[i].column);
        pg_copy(fk, (int)i, 2, arr[i].parent, sizeof arr[i].parent);
    }
    PQclear(fk);
    if (r < 0) return r;
    *out = arr;
    *n = rows;
    return 0;
}

int pg_privacy_delete(struct homing_store *s, const char *sql, const struct store_del *a,
                      int64_t *n)
{
    return run4((struct pg *)s, sql, a->addr, a->message, a->recipient, a->time_us, "deleting", n,
                NULL);
}

/* Deletes from table the rows matching where ($1..$4 of run4), after the rows
 * of other tables whose foreign keys point at them (store_delete_cascade). */
static int delete_rows(struct pg *p, const char *table, const char *where, const char *addr,
                       int64_t message, int64_t recipient, int64_t time_us, int depth,
                       struct homing_forget_result *out, int64_t *deleted)
{
    const struct store_del a = {addr, message, recipient, time_us};
    return store_delete_cascade(&p->base, table, where, &a, PG_FK_DEPTH - depth, out, deleted);
}

static int table_exists(struct pg *p, const char *table, int *exists)
{
    PGresult *res;
    int r = run4(p, "SELECT to_regclass(quote_ident($1)) IS NOT NULL", table, 0, 0, 0,
                 "reading the schema", NULL, &res);
    if (r < 0) return r;
    *exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

/* Retention. The append lock first, so no append makes a partition or adds
 * an event while the old months go. Every event older than before_us is
 * counted into event_rollups; then each monthly partition that lies wholly
 * before before_us is dropped (no row is deleted one by one, no trigger
 * sees it), and the older rows of the month before_us falls in are deleted
 * under the retention guard. */
int pg_privacy_retention(struct homing_store *s, int64_t before_us, const struct store_aged *aged,
                         int64_t *rolled, int64_t *deleted)
{
    struct pg *p = (struct pg *)s;
    int r = pg_begin(p);
    if (r < 0) return r;
    int64_t n_deleted = 0;
    int has_enrich = 0;
    PGresult *res = NULL;
    if ((r = pg_cmd(p, "SELECT homing_append_lock()", "locking appends")) < 0) goto fail;
    if ((r = table_exists(p, "enrichments", &has_enrich)) < 0) goto fail;
    /* the verdict of the enrichment, else one a report carried in its detail,
     * else '' */
    char sql[PG_SQL_MAX];
    snprintf(sql, sizeof sql,
             "INSERT INTO event_rollups (message, day, kind, method, verdict, count) "
             "SELECT e.message, to_char(to_timestamp(e.time_us / 1000000) AT TIME ZONE 'UTC', "
             "'YYYY-MM-DD'), e.kind, coalesce(e.method, ''), coalesce(%s"
             "CASE WHEN jsonb_typeof(e.detail::jsonb -> 'verdict') = 'string' "
             "THEN e.detail::jsonb ->> 'verdict' END, ''), count(*) FROM events e %s "
             "WHERE e.time_us < $4 GROUP BY 1, 2, 3, 4, 5 "
             "ON CONFLICT (message, day, kind, method, verdict) DO UPDATE "
             "SET count = event_rollups.count + excluded.count",
             has_enrich ? "n.verdict, " : "",
             has_enrich ? "LEFT JOIN enrichments n ON n.event = e.id" : "");
    if ((r = run4(p, sql, NULL, 0, 0, before_us, "rolling up events", NULL, NULL)) < 0) goto fail;
    /* Whole months: the partitions whose upper bound is at or before the
     * cutoff (and before now) are dropped by a SECURITY DEFINER function of
     * migration 0010, as the schema's owner: the nodes' role has no DDL. */
    if ((r = run4(p, "SELECT homing_events_drop_months($4)", NULL, 0, 0, before_us,
                  "dropping old partitions", NULL, &res)) < 0)
        goto fail;
    n_deleted += pg_int(res, 0, 0);
    PQclear(res);
    res = NULL;
    if ((r = guard_clear(p)) < 0 ||
        (r = run4(p, "INSERT INTO privacy_guard (id, op, cutoff_us) VALUES (1, 'retention', $4)",
                  NULL, 0, 0, before_us, "setting the privacy guard", NULL, NULL)) < 0 ||
        (r = delete_rows(p, "events", "time_us < $4", NULL, 0, 0, before_us, 0, NULL, &n_deleted)) <
            0)
        goto fail;
    /* Other records of the same age (store.c's list). */
    for (size_t i = 0; aged[i].table; i++) {
        int exists = 0;
        char where[128];
        if ((r = table_exists(p, aged[i].table, &exists)) < 0) goto fail;
        if (!exists) continue;
        snprintf(where, sizeof where, "\"%s\" < $4", aged[i].time_column);
        if ((r = delete_rows(p, aged[i].table, where, NULL, 0, 0, before_us, 0, NULL, NULL)) < 0)
            goto fail;
    }
    if ((r = guard_clear(p)) < 0 || (r = pg_commit(p)) < 0) goto fail;
    *rolled = n_deleted; /* every removed event was counted into a rollup first */
    *deleted = n_deleted;
    return 0;
fail:
    PQclear(res);
    pg_rollback(p);
    return r;
}

int pg_rollups_list(struct homing_store *s, uint64_t message, struct homing_rollup **out, size_t *n)
{
    struct pg *p = (struct pg *)s;
    PGresult *res;
    int r = run4(p,
                 "SELECT message, day, kind, method, verdict, count FROM event_rollups "
                 "WHERE $2 = 0 OR message = $2 ORDER BY message, day, kind, method, verdict",
                 NULL, (int64_t)message, 0, 0, "listing rollups", NULL, &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res);
    struct homing_rollup *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) {
        PQclear(res);
        return -ENOMEM;
    }
    for (size_t i = 0; i < rows; i++) {
        struct homing_rollup *w = &arr[i];
        w->message = (uint64_t)pg_int(res, (int)i, 0);
        pg_copy(res, (int)i, 1, w->day, sizeof w->day);
        pg_copy(res, (int)i, 2, w->kind, sizeof w->kind);
        pg_copy(res, (int)i, 3, w->method, sizeof w->method);
        pg_copy(res, (int)i, 4, w->verdict, sizeof w->verdict);
        w->count = pg_int(res, (int)i, 5);
    }
    PQclear(res);
    *out = arr;
    *n = rows;
    return 0;
}

struct pv_pair {
    int64_t message, recipient;
};

static int forget_skip(const char *t, const char *const *keep)
{
    for (size_t i = 0; keep[i]; i++)
        if (strcmp(t, keep[i]) == 0) return 1;
    return 0;
}

/* Every table of the store's schema but the kept ones (and partitions): rows
 * tied to one of the pairs (message and recipient columns) go, then rows with
 * a text or bytea column naming the address. */
static int forget_tables(struct pg *p, const char *addr, const char *const *keep,
                         const struct pv_pair *pairs, size_t n_pairs,
                         struct homing_forget_result *out)
{
    PGresult *tables;
    int r = run4(p,
                 "SELECT c.relname FROM pg_class c WHERE c.relnamespace = "
                 "current_schema()::regnamespace AND c.relkind = 'r' AND NOT c.relispartition "
                 "ORDER BY c.relname",
                 NULL, 0, 0, 0, "listing tables", NULL, &tables);
    if (r < 0) return r;
    for (int i = 0; r == 0 && i < PQntuples(tables); i++) {
        const char *t = PQgetvalue(tables, i, 0);
        if (forget_skip(t, keep) || strchr(t, '"')) continue;
        PGresult *cols;
        if ((r = run4(p,
                      "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                      "WHERE attrelid = to_regclass(quote_ident($1)) AND attnum > 0 "
                      "AND NOT attisdropped ORDER BY attnum",
                      t, 0, 0, 0, "reading columns", NULL, &cols)) < 0)
            break;
        int has_message = 0, has_recipient = 0;
        char where[PG_SQL_MAX] = "";
        size_t wl = 0;
        for (int c = 0; r == 0 && c < PQntuples(cols); c++) {
            const char *col = PQgetvalue(cols, c, 0), *type = PQgetvalue(cols, c, 1);
            if (strchr(col, '"')) continue;
            if (strcmp(col, "message") == 0) has_message = 1;
            if (strcmp(col, "recipient") == 0) has_recipient = 1;
            const char *expr = NULL;
            if (strcmp(type, "text") == 0 || strncmp(type, "character", 9) == 0)
                expr = "strpos(lower(\"%s\"), $1) > 0";
            else if (strcmp(type, "bytea") == 0) /* a whole report */
                expr = "strpos(lower(encode(\"%s\", 'escape')), $1) > 0";
            if (!expr) continue;
            char one[256];
            snprintf(one, sizeof one, expr, col);
            int k = snprintf(where + wl, sizeof where - wl, "%s%s", wl ? " OR " : "", one);
            if (k < 0 || (size_t)k >= sizeof where - wl)
                r = -E2BIG;
            else
                wl += (size_t)k;
        }
        PQclear(cols);
        if (r < 0) break;
        if (has_message && has_recipient)
            for (size_t k = 0; k < n_pairs && r == 0; k++)
                r = delete_rows(p, t, "message = $2 AND recipient = $3", addr, pairs[k].message,
                                pairs[k].recipient, 0, 0, out, NULL);
        if (r == 0 && wl) r = delete_rows(p, t, where, addr, 0, 0, 0, 0, out, NULL);
    }
    PQclear(tables);
    return r;
}

int pg_privacy_forget(struct homing_store *s, const char *plain, const char *lookup,
                      const char *const *keep, struct homing_forget_result *out)
{
    struct pg *p = (struct pg *)s;
    /* Sealed: rows are found by the lookup prefix; the plain address is only
     * looked for in the messages' sender and subject, which are not sealed. */
    const char *addr = lookup ? lookup : plain;
    struct homing_forget_result res = {0};
    struct pv_pair *pairs = NULL;
    size_t n_pairs = 0;
    int r = pg_begin(p);
    if (r < 0) return r;
    PGresult *rows;
    if ((r = run4(p, "SELECT message, idx FROM recipients WHERE " PG_ADDRESS_IS, addr, 0, 0, 0,
                  "finding the address", NULL, &rows)) < 0)
        goto fail;
    n_pairs = (size_t)PQntuples(rows);
    if (n_pairs && !(pairs = calloc(n_pairs, sizeof *pairs))) {
        PQclear(rows);
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n_pairs; i++) {
        pairs[i].message = pg_int(rows, (int)i, 0);
        pairs[i].recipient = pg_int(rows, (int)i, 1);
    }
    PQclear(rows);

    /* events: the guard names the address and, in turn, each (message, recipient) */
    if ((r = guard_clear(p)) < 0 ||
        (r = run4(p,
                  "INSERT INTO privacy_guard (id, op, message, recipient, address) "
                  "VALUES (1, 'forget', 0, -1, $1)",
                  addr, 0, 0, 0, "setting the privacy guard", NULL, NULL)) < 0)
        goto fail;
    for (size_t i = 0; i < n_pairs; i++) {
        if ((r = run4(p, "UPDATE privacy_guard SET message = $2, recipient = $3", NULL,
                      pairs[i].message, pairs[i].recipient, 0, "setting the privacy guard", NULL,
                      NULL)) < 0 ||
            (r = delete_rows(p, "events", "message = $2 AND recipient = $3", addr, pairs[i].message,
                             pairs[i].recipient, 0, 0, &res, NULL)) < 0)
            goto fail;
    }
    if ((r = delete_rows(p, "events",
                         "strpos(lower(coalesce(detail, '')), $1) > 0 OR "
                         "strpos(lower(coalesce(from_hdr, '')), $1) > 0",
                         addr, 0, 0, 0, 0, &res, NULL)) < 0 ||
        (r = guard_clear(p)) < 0)
        goto fail;

    if ((r = forget_tables(p, addr, keep, pairs, n_pairs, &res)) < 0) goto fail;

    /* the recipient rows stay as tombstones: indexes of the other recipients
     * (and the tokens in their copies) must not move */
    int64_t c = 0;
    if ((r = run4(p,
                  "UPDATE recipients SET address = 'forgotten', state = 'forgotten', "
                  "state_us = $4, tracking = 'off' WHERE " PG_ADDRESS_IS,
                  addr, 0, 0, homing_now_us(), "forgetting recipients", &c, NULL)) < 0)
        goto fail;
    store_forget_count(&res, "recipients", c);
    static const char *const blank[] = {
        "UPDATE messages SET sender = NULL WHERE strpos(lower(sender), $1) > 0",
        "UPDATE messages SET subject = NULL WHERE strpos(lower(subject), $1) > 0",
    };
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        if ((r = run4(p, blank[i], plain, 0, 0, 0, "blanking messages", &c, NULL)) < 0) goto fail;
        store_forget_count(&res, "messages", c);
    }
    if ((r = pg_commit(p)) < 0) goto fail;
    free(pairs);
    *out = res;
    return 0;
fail:
    pg_rollback(p);
    free(pairs);
    return r;
}
