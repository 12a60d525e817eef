/*
 * store_copy.c: homing_store_copy, a SQLite store copied whole into a
 * PostgreSQL store (homing/store_copy.h; `homing store migrate`).
 *
 * Contract: driven by the two catalogs, not by a list of columns, so that
 * tables and columns added by later migrations of both backends are copied
 * without a change here. The source is read in one transaction holding
 * SQLite's write lock (BEGIN IMMEDIATE, then only SELECTs, then ROLLBACK):
 * nothing is written to it and nothing else writes it meanwhile. The target
 * is written in one transaction: COPY in batches of COPY_BATCH_ROWS rows,
 * tables in the order of the target's foreign keys, ids as they are, then
 * each sequence moved past the highest id (and past SQLite's AUTOINCREMENT
 * high-water mark, so an id retention deleted is not handed out again), then
 * every table counted against the source. Any failure rolls the target back.
 *
 * What it assumes (the one place to adjust when the schemas change):
 *  - copy_skip: tables that belong to each store itself, never copied;
 *  - copy_seeded: rows a new target's migrations or first open insert (the
 *    cursors at 0, the sealing's rows in sync_state):
 *    they do not make a target "hold data", and the copy replaces them;
 *  - a target table is the table of the same name in the first schema of the
 *    session's search_path that has one (the store URL's schema=; a schema
 *    reached otherwise, such as the key silo, must be on that path);
 *  - a partitioned target table T gets its partitions from the function
 *    homing_T_partitions(bigint[]) given the smallest and largest value of
 *    its partition key per calendar month of the source (events: monthly);
 *  - insert triggers of the target are disabled for the copy (ALTER TABLE
 *    ONLY ... DISABLE TRIGGER on each table and partition, inside the
 *    transaction, re-enabled before COMMIT: the change is never committed,
 *    so other sessions never see them off, and its SHARE ROW EXCLUSIVE lock
 *    keeps them from writing those tables meanwhile), so trigger-maintained counters
 *    (message_stats, link_totals, message_states, hourly_stats,
 *    recipient_bounces, grants.uses) are the source's rows, not recounted.
 *    That needs the tables' owner. UPDATE/DELETE/TRUNCATE triggers (the
 *    events' append-only guard) are never touched;
 *  - a source table or column with data and no counterpart in the target is
 *    an error (-EPROTO), never dropped silently; one without data is left out;
 *    copy_moved names the columns the target keeps elsewhere (the key silo's
 *    webhook secrets), each stored there through the target's function;
 *  - SQLite values go in as COPY text: integers in decimal (boolean columns
 *    read 0/1), reals with 17 digits, text as UTF-8 (each byte that does not
 *    start a valid sequence, and NUL, becomes '?', counted in text_fixed),
 *    and into bytea columns the bytes in hex.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "homing/store_copy.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"
#include "lib/store/sqlite_int.h"

#define COPY_BATCH_ROWS   10000        /* rows per COPY statement (and progress report) */
#define COPY_FLUSH_BYTES  (256u << 10) /* COPY data handed to libpq at a time */
#define COPY_BUF_MAX      (512u << 20) /* bytes of one row's COPY text (a raw report) */
#define COPY_COLUMNS_MAX  128          /* columns of a table */
#define COPY_TRIGGERS_MAX 1024         /* insert triggers disabled for the copy */
#define COPY_SQL_MAX      (COPY_COLUMNS_MAX * 80 + 512) /* a statement built from names */
#define COPY_MONTHS_MAX   (100 * 12)                    /* months of events (partitions) */
#define COPY_QNAME_MAX    (2 * HOMING_STORE_COPY_NAME_MAX * 2 + 8) /* "schema"."table" */

static const char *const copy_skip[] = {"schema_migrations", NULL};

static const struct {
    const char *table;
    const char *seed; /* SQL condition true for the rows a new store starts with */
} copy_seeded[] = {
    {"cursors", "event = 0"},
    /* the data key's id and the end of sealing in place, which opening the
     * target with the data key writes (store.c, store_seal_legacy.c) */
    {"sync_state", "name IN ('seal-key', 'seal-legacy')"},
};

/* Source columns the target moved out of their table (PostgreSQL's key silo,
 * migration 0010): when the target's table lacks the column, each value that
 * is not NULL is stored with call ($1 the row's key, $2 the value), the silo's one
 * way in. A target that still has the column gets it by the plain copy. */
static const struct {
    const char *table, *column, *key, *call;
} copy_moved[] = {
    {"webhooks", "secret", "id", "SELECT homing_webhook_secret_set($1::bigint, $2)"},
};

static int moved_index(const char *table, const char *column)
{
    for (size_t i = 0; i < sizeof copy_moved / sizeof copy_moved[0]; i++)
        if (strcmp(copy_moved[i].table, table) == 0 && strcmp(copy_moved[i].column, column) == 0)
            return (int)i;
    return -1;
}

struct copy_col {
    char name[HOMING_STORE_COPY_NAME_MAX];
    bool bytea; /* the target column is bytea */
};

struct copy_table {
    char name[HOMING_STORE_COPY_NAME_MAX];
    int64_t rows;
    int64_t sequence; /* sqlite_sequence's value (AUTOINCREMENT), 0 for none */
    char rowid[HOMING_STORE_COPY_NAME_MAX]; /* the INTEGER PRIMARY KEY column, "" for none */
    int64_t copied;                         /* rows in the target after the copy */
    bool target;                            /* has a table in the target */
    char qname[COPY_QNAME_MAX];             /* the target's, quoted */
    char oid[24];
    bool partitioned;
    char part_col[HOMING_STORE_COPY_NAME_MAX];
    struct copy_col cols[COPY_COLUMNS_MAX];
    size_t ncols;
    size_t deps[HOMING_STORE_COPY_TABLES_MAX]; /* tables this one's foreign keys name */
    size_t ndeps;
    bool placed;
    bool moved[sizeof copy_moved / sizeof copy_moved[0]]; /* copy_moved's columns to store */
};

struct copy_trigger {
    char rel[COPY_QNAME_MAX];  /* quoted "schema"."table" */
    char name[COPY_QNAME_MAX]; /* quoted */
};

struct copy {
    sqlite3 *db;
    struct pg *p; /* NULL: a dry run of the source only */
    struct copy_table *t;
    size_t n;
    size_t *order;
    char *err;
    size_t errcap;
    struct homing_buf buf;
    int64_t text_fixed;
    struct copy_trigger *triggers; /* the insert triggers disabled for the copy */
    size_t ntriggers;
    homing_store_copy_progress_fn progress;
    void *arg;
};

static int fail(struct copy *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct copy *c, int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errcap, fmt, ap);
    va_end(ap);
    return r;
}

/* name as a quoted identifier ("" doubled): the same form in SQLite and
 * PostgreSQL. Names come from the catalogs and fit HOMING_STORE_COPY_NAME_MAX. */
static void quote(char *out, size_t cap, const char *name)
{
    size_t o = 0;
    out[o++] = '"';
    for (const char *s = name; *s && o + 3 < cap; s++) {
        if (*s == '"') out[o++] = '"';
        out[o++] = *s;
    }
    out[o++] = '"';
    out[o] = '\0';
}

static bool skipped(const char *name)
{
    for (size_t i = 0; copy_skip[i]; i++)
        if (strcmp(copy_skip[i], name) == 0) return true;
    return false;
}

static const char *seed_of(const char *name)
{
    for (size_t i = 0; i < sizeof copy_seeded / sizeof copy_seeded[0]; i++)
        if (strcmp(copy_seeded[i].table, name) == 0) return copy_seeded[i].seed;
    return NULL;
}

/* ---- the source ---- */

static int sq_err(struct copy *c, const char *what)
{
    return fail(c, -EIO, "reading the source (%s): %s", what, sqlite3_errmsg(c->db));
}

/* One integer of a query with one optional text parameter. */
static int sq_int(struct copy *c, const char *sql, const char *param, int64_t *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return sq_err(c, sql);
    if (param) sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_err(c, sql);
}

/* The source's tables, their rows, columns and AUTOINCREMENT marks. */
static int source_tables(struct copy *c)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return sq_err(c, "listing tables");
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (skipped(name)) continue;
        if (strlen(name) >= HOMING_STORE_COPY_NAME_MAX)
            r = fail(c, -E2BIG, "source table name too long: %.64s...", name);
        else if (c->n >= HOMING_STORE_COPY_TABLES_MAX)
            r = fail(c, -E2BIG, "more than %d tables", HOMING_STORE_COPY_TABLES_MAX);
        else
            snprintf(c->t[c->n++].name, HOMING_STORE_COPY_NAME_MAX, "%s", name);
    }
    sqlite3_finalize(st);
    if (r < 0) return r;
    if (rc != SQLITE_DONE) return sq_err(c, "listing tables");
    int64_t has_seq = 0;
    if ((r = sq_int(c, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'", NULL,
                    &has_seq)) < 0)
        return r;
    for (size_t i = 0; i < c->n; i++) {
        struct copy_table *t = &c->t[i];
        char q[COPY_QNAME_MAX], sql[COPY_SQL_MAX];
        quote(q, sizeof q, t->name);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", q);
        if ((r = sq_int(c, sql, NULL, &t->rows)) < 0) return r;
        if (has_seq && (r = sq_int(c, "SELECT seq FROM sqlite_sequence WHERE name = ?1", t->name,
                                   &t->sequence)) < 0)
            return r;
        if (sqlite3_prepare_v2(c->db, "SELECT name, pk, upper(type) FROM pragma_table_info(?1)", -1,
                               &st, NULL) != SQLITE_OK)
            return sq_err(c, "columns");
        sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
        int pks = 0;
        char pk[HOMING_STORE_COPY_NAME_MAX] = "";
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *col = (const char *)sqlite3_column_text(st, 0);
            if (strlen(col) >= HOMING_STORE_COPY_NAME_MAX || t->ncols >= COPY_COLUMNS_MAX) {
                r = fail(c, -E2BIG, "table %s: a column name too long or too many columns",
                         t->name);
                break;
            }
            snprintf(t->cols[t->ncols++].name, HOMING_STORE_COPY_NAME_MAX, "%s", col);
            if (sqlite3_column_int(st, 1) > 0) {
                pks++;
                const char *type = (const char *)sqlite3_column_text(st, 2);
                snprintf(pk, sizeof pk, "%s", type && strcmp(type, "INTEGER") == 0 ? col : "");
            }
        }
        sqlite3_finalize(st);
        if (r < 0) return r;
        if (rc != SQLITE_DONE) return sq_err(c, "columns");
        /* the rowid alias: AUTOINCREMENT's sqlite_sequence counts it */
        if (pks == 1) snprintf(t->rowid, sizeof t->rowid, "%s", pk);
    }
    return 0;
}

/* ---- the target ---- */

static int pg_err(struct copy *c, const PGresult *res, const char *what)
{
    int r = pg_fail(c->p, res, what);
    return fail(c, r, "%s", c->p->base.errmsg);
}

/* A query with up to two text parameters: its result (PQclear it) or NULL. */
static PGresult *pg_q(struct copy *c, const char *sql, const char *a, const char *b, int *r)
{
    const char *v[2] = {a, b};
    PGresult *res = PQexecParams(c->p->conn, sql, b ? 2 : a ? 1 : 0, NULL, v, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(res);
    if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) return res;
    *r = pg_err(c, res, "PostgreSQL");
    PQclear(res);
    return NULL;
}

static int pg_x(struct copy *c, const char *sql, const char *what)
{
    int r = pg_cmd(c->p, sql, what);
    return r < 0 ? fail(c, r, "%s", c->p->base.errmsg) : 0;
}

/* Refuses a target with rows in any table of its search path other than
 * copy_skip's and copy_seeded's seeds. */
static int target_empty(struct copy *c)
{
    int r = 0;
    PGresult *res = pg_q(c,
                         "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), "
                         "c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                         "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
                         "AND n.nspname = ANY (current_schemas(false)) ORDER BY 2",
                         NULL, NULL, &r);
    if (!res) return r;
    for (int i = 0; r == 0 && i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 1);
        if (skipped(name)) continue;
        const char *seed = seed_of(name);
        char sql[COPY_SQL_MAX];
        snprintf(sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM %s%s%s%s)", PQgetvalue(res, i, 0),
                 seed ? " WHERE NOT (" : "", seed ? seed : "", seed ? ")" : "");
        PGresult *e = pg_q(c, sql, NULL, NULL, &r);
        if (e && strcmp(PQgetvalue(e, 0, 0), "t") == 0)
            r = fail(c, -EEXIST,
                     "the target already holds data (table %s): migrate into a new, empty "
                     "schema or database",
                     name);
        PQclear(e);
    }
    PQclear(res);
    return r;
}

static int find_index(struct copy *c, const char *name, size_t *i)
{
    for (*i = 0; *i < c->n; (*i)++)
        if (strcmp(c->t[*i].name, name) == 0) return 0;
    return -ENOENT;
}

/* Each source table's counterpart: name, columns both have, partitioning,
 * the tables its foreign keys name. */
static int target_tables(struct copy *c)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < c->n; i++) {
        struct copy_table *t = &c->t[i];
        PGresult *res =
            pg_q(c,
                 "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.oid, "
                 "c.relkind = 'p' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE c.relname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                 "AND n.nspname = ANY (current_schemas(false)) "
                 "ORDER BY array_position(current_schemas(false), n.nspname::text) LIMIT 1",
                 t->name, NULL, &r);
        if (!res) return r;
        t->target = PQntuples(res) == 1;
        if (t->target) {
            snprintf(t->qname, sizeof t->qname, "%s", PQgetvalue(res, 0, 0));
            snprintf(t->oid, sizeof t->oid, "%s", PQgetvalue(res, 0, 1));
            t->partitioned = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
        }
        PQclear(res);
        if (!t->target) {
            if (t->rows > 0)
                return fail(c, -EPROTO,
                            "source table %s (%lld rows) has no counterpart in the target", t->name,
                            (long long)t->rows);
            continue;
        }
        res = pg_q(c,
                   "SELECT attname, atttypid = 'bytea'::regtype FROM pg_attribute "
                   "WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped "
                   "AND attgenerated = ''",
                   t->oid, NULL, &r);
        if (!res) return r;
        size_t kept = 0;
        for (size_t k = 0; r == 0 && k < t->ncols; k++) {
            int found = -1;
            for (int j = 0; j < PQntuples(res); j++)
                if (strcmp(PQgetvalue(res, j, 0), t->cols[k].name) == 0) found = j;
            int mv = found < 0 ? moved_index(t->name, t->cols[k].name) : -1;
            if (mv >= 0) {
                t->moved[mv] = true;
                continue;
            }
            if (found < 0) {
                char q[COPY_QNAME_MAX], tq[COPY_QNAME_MAX], sql[COPY_SQL_MAX];
                quote(q, sizeof q, t->cols[k].name);
                quote(tq, sizeof tq, t->name);
                snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE %s IS NOT NULL", tq, q);
                int64_t used = 0;
                if ((r = sq_int(c, sql, NULL, &used)) == 0 && used > 0)
                    r = fail(c, -EPROTO,
                             "source column %s.%s has data and no counterpart in the target",
                             t->name, t->cols[k].name);
                continue;
            }
            t->cols[kept] = t->cols[k];
            t->cols[kept++].bytea = strcmp(PQgetvalue(res, found, 1), "t") == 0;
        }
        t->ncols = kept;
        PQclear(res);
        if (r < 0) return r;
        if (t->partitioned) {
            res = pg_q(c,
                       "SELECT a.attname, to_regprocedure(format('homing_%s_partitions(bigint[])', "
                       "c.relname)) IS NOT NULL FROM pg_partitioned_table pt "
                       "JOIN pg_class c ON c.oid = pt.partrelid "
                       "JOIN pg_attribute a ON a.attrelid = pt.partrelid "
                       "AND a.attnum = pt.partattrs[0] WHERE pt.partrelid = $1::oid",
                       t->oid, NULL, &r);
            if (!res) return r;
            if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 1), "t") != 0)
                r = fail(c, -EPROTO,
                         "partitioned target table %s: no homing_%s_partitions(bigint[]) to "
                         "create its partitions",
                         t->name, t->name);
            else
                snprintf(t->part_col, sizeof t->part_col, "%s", PQgetvalue(res, 0, 0));
            PQclear(res);
            if (r < 0) return r;
        }
        res = pg_q(c,
                   "SELECT DISTINCT r.relname FROM pg_constraint k "
                   "JOIN pg_class r ON r.oid = k.confrelid WHERE k.conrelid = $1::oid "
                   "AND k.contype = 'f' AND k.confrelid <> k.conrelid",
                   t->oid, NULL, &r);
        if (!res) return r;
        for (int j = 0; j < PQntuples(res); j++) {
            size_t d;
            if (find_index(c, PQgetvalue(res, j, 0), &d) == 0) t->deps[t->ndeps++] = d;
        }
        PQclear(res);
    }
    return r;
}

/* Tables in an order that puts every table after those its foreign keys
 * name (by name among equals). */
static int order_tables(struct copy *c)
{
    size_t placed = 0;
    while (placed < c->n) {
        size_t pick = c->n;
        for (size_t i = 0; i < c->n && pick == c->n; i++) {
            if (c->t[i].placed) continue;
            bool ready = true;
            for (size_t d = 0; d < c->t[i].ndeps; d++)
                if (!c->t[c->t[i].deps[d]].placed) ready = false;
            if (ready) pick = i;
        }
        if (pick == c->n)
            return fail(c, -EPROTO, "the target's foreign keys form a cycle: no order to copy in");
        c->t[pick].placed = true;
        c->order[placed++] = pick;
    }
    return 0;
}

/* ---- the copy ---- */

static int put(struct copy *c, const void *p, size_t n)
{
    int r = homing_buf_append(&c->buf, p, n);
    return r < 0 ? fail(c, r, "a row larger than %u bytes", COPY_BUF_MAX) : 0;
}

/* A text value in COPY's text form, as UTF-8. */
static int put_text(struct copy *c, const char *s, size_t n)
{
    bool fixed = false;
    for (size_t i = 0; i < n;) {
        /* the run of bytes that go as they are, in one append */
        size_t run = i;
        while (run < n && (unsigned char)s[run] >= 0x20 && (unsigned char)s[run] < 0x80 &&
               s[run] != '\\')
            run++;
        if (run > i) {
            int r = put(c, s + i, run - i);
            if (r < 0) return r;
            i = run;
            continue;
        }
        unsigned char b = (unsigned char)s[i];
        const char *esc = b == '\\'   ? "\\\\"
                          : b == '\n' ? "\\n"
                          : b == '\r' ? "\\r"
                          : b == '\t' ? "\\t"
                                      : NULL;
        size_t l = 1;
        int r;
        if (esc)
            r = put(c, esc, 2);
        else if (b == 0)
            r = put(c, "?", 1), fixed = true;
        else if (b < 0x80)
            r = put(c, s + i, 1);
        else {
            uint32_t cp;
            l = homing_utf8_decode(s + i, n - i, &cp);
            if (l)
                r = put(c, s + i, l);
            else
                r = put(c, "?", 1), fixed = true, l = 1;
        }
        if (r < 0) return r;
        i += l;
    }
    if (fixed) c->text_fixed++;
    return 0;
}

static int put_value(struct copy *c, sqlite3_stmt *st, int i, bool bytea)
{
    int type = sqlite3_column_type(st, i);
    char num[40];
    if (type == SQLITE_NULL) return put(c, "\\N", 2);
    if (type == SQLITE_INTEGER && !bytea) {
        int n = snprintf(num, sizeof num, "%lld", (long long)sqlite3_column_int64(st, i));
        return put(c, num, (size_t)n);
    }
    if (type == SQLITE_FLOAT && !bytea) {
        int n = snprintf(num, sizeof num, "%.17g", sqlite3_column_double(st, i));
        return put(c, num, (size_t)n);
    }
    const unsigned char *p =
        type == SQLITE_BLOB ? sqlite3_column_blob(st, i) : sqlite3_column_text(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    if (!p && n) return fail(c, -ENOMEM, "out of memory");
    if (!bytea) return put_text(c, (const char *)p, n);
    static const char hex[] = "0123456789abcdef";
    int r = put(c, "\\\\x", 3);
    for (size_t k = 0; r == 0 && k < n; k++) {
        char h[2] = {hex[p[k] >> 4], hex[p[k] & 15]};
        r = put(c, h, 2);
    }
    return r;
}

static int copy_flush(struct copy *c)
{
    if (!c->buf.len) return 0;
    if (PQputCopyData(c->p->conn, c->buf.data, (int)c->buf.len) != 1)
        return pg_err(c, NULL, "COPY");
    homing_buf_reset(&c->buf);
    return 0;
}

/* Ends the running COPY: r < 0 aborts it. */
static int copy_end(struct copy *c, int r, const char *table)
{
    if (r == 0) r = copy_flush(c);
    homing_buf_reset(&c->buf);
    PQputCopyEnd(c->p->conn, r < 0 ? "aborted" : NULL);
    PGresult *res;
    while ((res = PQgetResult(c->p->conn))) {
        if (r == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
            char what[HOMING_STORE_COPY_NAME_MAX + 16];
            snprintf(what, sizeof what, "copying %s", table);
            r = pg_err(c, res, what);
        }
        PQclear(res);
    }
    return r;
}

static int copy_start(struct copy *c, const struct copy_table *t)
{
    char sql[COPY_SQL_MAX];
    int o = snprintf(sql, sizeof sql, "COPY %s (", t->qname);
    for (size_t k = 0; k < t->ncols; k++) {
        char q[COPY_QNAME_MAX];
        quote(q, sizeof q, t->cols[k].name);
        o += snprintf(sql + o, sizeof sql - (size_t)o, "%s%s", k ? ", " : "", q);
    }
    snprintf(sql + o, sizeof sql - (size_t)o, ") FROM STDIN");
    PGresult *res = PQexec(c->p->conn, sql);
    int r = PQresultStatus(res) == PGRES_COPY_IN ? 0 : pg_err(c, res, "starting COPY");
    PQclear(res);
    return r;
}

/* Streams one table's rows into the target, COPY_BATCH_ROWS per COPY. */
static int copy_rows(struct copy *c, const struct copy_table *t, int64_t *done)
{
    char sql[COPY_SQL_MAX], tq[COPY_QNAME_MAX];
    int o = snprintf(sql, sizeof sql, "SELECT ");
    for (size_t k = 0; k < t->ncols; k++) {
        char q[COPY_QNAME_MAX];
        quote(q, sizeof q, t->cols[k].name);
        o += snprintf(sql + o, sizeof sql - (size_t)o, "%s%s", k ? ", " : "", q);
    }
    quote(tq, sizeof tq, t->name);
    snprintf(sql + o, sizeof sql - (size_t)o, " FROM %s", tq);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return sq_err(c, t->name);
    int r = 0, rc = SQLITE_DONE;
    int64_t in_batch = 0;
    bool open = false;
    *done = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!open && (r = copy_start(c, t)) < 0) break;
        open = true;
        for (size_t k = 0; r == 0 && k < t->ncols; k++) {
            if (k) r = put(c, "\t", 1);
            if (r == 0) r = put_value(c, st, (int)k, t->cols[k].bytea);
        }
        if (r == 0) r = put(c, "\n", 1);
        if (r == 0 && c->buf.len >= COPY_FLUSH_BYTES) r = copy_flush(c);
        if (r < 0) break;
        (*done)++;
        if (++in_batch < COPY_BATCH_ROWS) continue;
        r = copy_end(c, r, t->name);
        open = false;
        in_batch = 0;
        if (r == 0 && c->progress) c->progress(c->arg, t->name, *done, t->rows);
    }
    if (open) r = copy_end(c, r, t->name);
    if (r == 0 && rc != SQLITE_DONE) r = sq_err(c, t->name);
    sqlite3_finalize(st);
    return r;
}

/* The partitions the source's rows fall in: homing_T_partitions with the
 * smallest and largest key of each month. */
static int make_partitions(struct copy *c, const struct copy_table *t)
{
    char sql[COPY_SQL_MAX], tq[COPY_QNAME_MAX], kq[COPY_QNAME_MAX];
    quote(tq, sizeof tq, t->name);
    quote(kq, sizeof kq, t->part_col);
    snprintf(sql, sizeof sql,
             "SELECT min(%s), max(%s) FROM %s GROUP BY strftime('%%Y%%m', %s / 1000000, "
             "'unixepoch')",
             kq, kq, tq, kq);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return sq_err(c, t->name);
    struct homing_buf a;
    homing_buf_init(&a, COPY_MONTHS_MAX * 48);
    int r = homing_buf_puts(&a, "{"), rc, months = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        r = homing_buf_printf(&a, "%s%lld,%lld", months++ ? "," : "",
                              (long long)sqlite3_column_int64(st, 0),
                              (long long)sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    if (r == 0) r = homing_buf_puts(&a, "}");
    if (r < 0) r = fail(c, r, "table %s: more than %d months", t->name, COPY_MONTHS_MAX);
    if (r == 0 && rc != SQLITE_DONE) r = sq_err(c, t->name);
    if (r == 0 && months) {
        char call[COPY_SQL_MAX];
        snprintf(call, sizeof call, "SELECT homing_%s_partitions($1::bigint[])", t->name);
        PGresult *res = pg_q(c, call, a.data, NULL, &r);
        PQclear(res);
    }
    homing_buf_free(&a);
    return r;
}

/* Disables the target's enabled insert triggers of table t and its
 * partitions, remembering them for triggers_on. */
static int triggers_off(struct copy *c, const struct copy_table *t)
{
    int r = 0;
    PGresult *res = pg_q(c,
                         "SELECT quote_ident(n.nspname) || '.' || quote_ident(k.relname), "
                         "quote_ident(g.tgname) FROM pg_trigger g "
                         "JOIN pg_class k ON k.oid = g.tgrelid "
                         "JOIN pg_namespace n ON n.oid = k.relnamespace "
                         "WHERE (g.tgrelid = $1::oid OR g.tgrelid IN (SELECT relid FROM "
                         "pg_partition_tree($1::oid))) "
                         "AND NOT g.tgisinternal AND g.tgenabled = 'O' AND (g.tgtype & 4) <> 0 "
                         "ORDER BY 1, 2",
                         t->oid, NULL, &r);
    if (!res) return r;
    for (int i = 0; r == 0 && i < PQntuples(res); i++) {
        if (c->ntriggers >= COPY_TRIGGERS_MAX) {
            r = fail(c, -E2BIG, "more than %d insert triggers", COPY_TRIGGERS_MAX);
            break;
        }
        struct copy_trigger *g = &c->triggers[c->ntriggers++];
        snprintf(g->rel, sizeof g->rel, "%s", PQgetvalue(res, i, 0));
        snprintf(g->name, sizeof g->name, "%s", PQgetvalue(res, i, 1));
        char sql[COPY_SQL_MAX];
        snprintf(sql, sizeof sql, "ALTER TABLE ONLY %s DISABLE TRIGGER %s", g->rel, g->name);
        r = pg_x(c, sql, "disabling an insert trigger for the copy");
    }
    PQclear(res);
    return r;
}

static int triggers_on(struct copy *c)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < c->ntriggers; i++) {
        char sql[COPY_SQL_MAX];
        snprintf(sql, sizeof sql, "ALTER TABLE ONLY %s ENABLE TRIGGER %s", c->triggers[i].rel,
                 c->triggers[i].name);
        r = pg_x(c, sql, "enabling an insert trigger again");
    }
    return r;
}

/* Moves each sequence of t's columns past the highest id copied (and past
 * SQLite's AUTOINCREMENT mark of its rowid column). */
static int move_sequences(struct copy *c, const struct copy_table *t)
{
    int r = 0;
    PGresult *res = pg_q(c,
                         "SELECT a.attname, quote_ident(a.attname), "
                         "pg_get_serial_sequence($2, a.attname) FROM pg_attribute a "
                         "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
                         "AND pg_get_serial_sequence($2, a.attname) IS NOT NULL",
                         t->oid, t->qname, &r);
    if (!res) return r;
    for (int i = 0; r == 0 && i < PQntuples(res); i++) {
        int64_t mark = strcmp(PQgetvalue(res, i, 0), t->rowid) == 0 ? t->sequence : 0;
        char sql[COPY_SQL_MAX], m[24];
        snprintf(m, sizeof m, "%lld", (long long)mark);
        snprintf(sql, sizeof sql,
                 "SELECT setval($1::regclass, v) FROM (SELECT greatest(coalesce(max(%s), 0), "
                 "$2::bigint) AS v FROM %s) x WHERE v > 0",
                 PQgetvalue(res, i, 1), t->qname);
        PGresult *s = pg_q(c, sql, PQgetvalue(res, i, 2), m, &r);
        PQclear(s);
    }
    PQclear(res);
    return r;
}

/* Stores the values of t's moved columns (copy_moved) through the target's
 * functions, one call per row whose value is not NULL (as 0010 moved them). */
static int copy_moved_values(struct copy *c, const struct copy_table *t)
{
    int r = 0;
    for (size_t m = 0; r == 0 && m < sizeof copy_moved / sizeof copy_moved[0]; m++) {
        if (!t->moved[m]) continue;
        char q[COPY_QNAME_MAX], k[COPY_QNAME_MAX], tq[COPY_QNAME_MAX], sql[COPY_SQL_MAX];
        quote(q, sizeof q, copy_moved[m].column);
        quote(k, sizeof k, copy_moved[m].key);
        quote(tq, sizeof tq, t->name);
        snprintf(sql, sizeof sql, "SELECT %s, %s FROM %s WHERE %s IS NOT NULL", k, q, tq, q);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return sq_err(c, sql);
        int rc;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            char key[24];
            snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(st, 0));
            PGresult *res =
                pg_q(c, copy_moved[m].call, key, (const char *)sqlite3_column_text(st, 1), &r);
            PQclear(res);
        }
        if (r == 0 && rc != SQLITE_DONE) r = sq_err(c, sql);
        sqlite3_finalize(st);
    }
    return r;
}

static int copy_all(struct copy *c)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < sizeof copy_seeded / sizeof copy_seeded[0]; i++) {
        size_t k;
        if (find_index(c, copy_seeded[i].table, &k) < 0 || !c->t[k].target) continue;
        char sql[COPY_SQL_MAX];
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s", c->t[k].qname, copy_seeded[i].seed);
        r = pg_x(c, sql, "removing the seed rows");
    }
    for (size_t i = 0; r == 0 && i < c->n; i++)
        if (c->t[i].target && c->t[i].partitioned) r = make_partitions(c, &c->t[i]);
    for (size_t i = 0; r == 0 && i < c->n; i++)
        if (c->t[i].target) r = triggers_off(c, &c->t[i]);
    for (size_t o = 0; r == 0 && o < c->n; o++) {
        struct copy_table *t = &c->t[c->order[o]];
        if (!t->target) continue;
        int64_t done = 0;
        r = copy_rows(c, t, &done);
        if (r == 0 && c->progress && done % COPY_BATCH_ROWS)
            c->progress(c->arg, t->name, done, t->rows);
        if (r == 0) r = move_sequences(c, t);
        if (r == 0) r = copy_moved_values(c, t);
        if (r < 0) break;
        char sql[COPY_SQL_MAX];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", t->qname);
        PGresult *res = pg_q(c, sql, NULL, NULL, &r);
        if (res) t->copied = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        if (r == 0 && t->copied != t->rows)
            r = fail(c, -EIO, "table %s: %lld rows in the source, %lld in the target", t->name,
                     (long long)t->rows, (long long)t->copied);
    }
    if (r == 0) r = triggers_on(c);
    return r;
}

int homing_store_copy(struct homing_store *src, struct homing_store *dst, unsigned flags,
                      homing_store_copy_progress_fn progress, void *arg,
                      struct homing_store_copy_result *out, char *err, size_t errcap)
{
    bool dry = flags & HOMING_STORE_COPY_DRY_RUN;
    if (!src || !out || !err || !errcap || (!dst && !dry)) return -EINVAL;
    err[0] = '\0';
    struct copy c = {.err = err, .errcap = errcap, .progress = progress, .arg = arg};
    if (strcmp(homing_store_scheme(src), "sqlite") != 0 ||
        (dst && strcmp(homing_store_scheme(dst), "postgresql") != 0))
        return fail(&c, -ENOTSUP, "a copy goes from a SQLite store into a PostgreSQL store");
    /* Both at the schema this build writes: the catalogs are compared as
     * they are, so an older one would lack what the other has. */
    int sv = 0, dv = 0;
    if (homing_store_schema_version(src, &sv) < 0 || sv != (int)store_migrations_sqlite_count ||
        (dst && (homing_store_schema_version(dst, &dv) < 0 ||
                 dv != (int)store_migrations_postgresql_count)))
        return fail(&c, -EPROTO,
                    "both stores must be at this homing's latest schema: open them "
                    "with it first");
    c.db = sqlite_db(src);
    c.p = dst ? (struct pg *)dst : NULL;
    c.t = calloc(HOMING_STORE_COPY_TABLES_MAX, sizeof *c.t);
    c.order = calloc(HOMING_STORE_COPY_TABLES_MAX, sizeof *c.order);
    c.triggers = calloc(COPY_TRIGGERS_MAX, sizeof *c.triggers);
    if (!c.t || !c.order || !c.triggers) {
        free(c.t);
        free(c.order);
        free(c.triggers);
        return fail(&c, -ENOMEM, "out of memory");
    }
    homing_buf_init(&c.buf, COPY_BUF_MAX);
    int r = 0;
    /* The write lock: the copy is consistent, and nobody writes meanwhile. */
    int rc = sqlite3_exec(c.db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_BUSY)
        r = fail(&c, -EBUSY,
                 "the source store is being written (is homing serve running? stop it first)");
    else if (rc != SQLITE_OK)
        r = sq_err(&c, "BEGIN IMMEDIATE");
    bool src_tx = rc == SQLITE_OK;
    if (r == 0) r = source_tables(&c);
    if (r == 0 && c.p) {
        if (PQsetClientEncoding(c.p->conn, "UTF8") != 0)
            r = fail(&c, -EIO, "PostgreSQL: cannot use UTF-8");
        else
            r = dry ? pg_begin_read(c.p) : pg_begin(c.p);
        if (r < 0 && !err[0]) fail(&c, r, "%s", c.p->base.errmsg);
        if (r == 0) r = target_empty(&c);
        if (r == 0) r = target_tables(&c);
        if (r == 0) r = order_tables(&c);
        if (r == 0 && !dry) r = copy_all(&c);
        if (r == 0 && !dry && (r = pg_commit(c.p)) < 0) fail(&c, r, "%s", c.p->base.errmsg);
        pg_rollback(c.p);
    } else if (r == 0) {
        for (size_t i = 0; i < c.n; i++) c.order[i] = i;
    }
    if (src_tx) sqlite3_exec(c.db, "ROLLBACK", NULL, NULL, NULL);
    homing_buf_free(&c.buf);
    if (r == 0) {
        struct homing_store_copy_table *ts = calloc(c.n ? c.n : 1, sizeof *ts);
        if (!ts) r = fail(&c, -ENOMEM, "out of memory");
        size_t k = 0;
        for (size_t o = 0; ts && o < c.n; o++) {
            const struct copy_table *t = &c.t[c.order[o]];
            if (c.p && !t->target) continue;
            snprintf(ts[k].name, sizeof ts[k].name, "%s", t->name);
            ts[k].rows = t->rows;
            ts[k++].copied = dry ? 0 : t->copied;
        }
        if (ts) *out = (struct homing_store_copy_result){ts, k, c.text_fixed};
    }
    free(c.t);
    free(c.order);
    free(c.triggers);
    return r;
}

void homing_store_copy_result_free(struct homing_store_copy_result *r)
{
    if (!r) return;
    free(r->tables);
    r->tables = NULL;
    r->n = 0;
}
