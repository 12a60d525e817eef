/*
 * pg_open.c: the PostgreSQL backend's connection, its schema and migrations,
 * inspect, close.
 *
 * Contract: the target is the store URL after "postgresql:", i.e. a libpq
 * connection URI without its scheme, plus homing's own query parameter
 * `schema=NAME` (letters, digits, '_'): the schema the store lives in, created
 * by the first open (several stores can share a database). Without it, the
 * connection's first schema (search_path; usually public). libpq gets the URI
 * without `schema=`, and connect_timeout=PG_CONNECT_TIMEOUT unless the URI has
 * one; search_path is the schema, then its key silo (schema + "_keys").
 * Opening a store with every migration applied reads schema_migrations and
 * nothing more (no lock, no DDL: a node's login has no DDL right). Otherwise
 * the missing migrations of lib/store/migrations/postgresql are applied in
 * one transaction under an advisory lock (several processes opening a new
 * store apply each exactly once) when the role owns the schema (or may
 * create it), else -EACCES with a line naming homing init --store; a schema
 * newer than this build is refused with -EPROTO and nothing changes.
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

/* Splits target into the libpq URI (conninfo, "postgresql:" + target without
 * schema=, with a connect_timeout) and the schema name ("" for none). */
static int parse_target(const char *target, char *conninfo, size_t cap, char *schema, char *err,
                        size_t errcap)
{
    schema[0] = '\0';
    if (strncmp(target, "//", 2) != 0)
        return store_open_fail(err, errcap, -EINVAL, "a PostgreSQL store URL is postgresql://...");
    const char *q = strchr(target, '?');
    size_t head = q ? (size_t)(q - target) : strlen(target);
    int n = snprintf(conninfo, cap, "postgresql:%.*s", (int)head, target);
    if (n < 0 || (size_t)n >= cap)
        return store_open_fail(err, errcap, -E2BIG, "store URL too long");
    size_t len = (size_t)n;
    int timeout = 0, first = 1;
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        size_t item = strcspn(p, "&");
        if (item > 7 && strncmp(p, "schema=", 7) == 0) {
            size_t sl = item - 7;
            if (sl > PG_SCHEMA_MAX)
                return store_open_fail(err, errcap, -EINVAL,
                                       "store URL: schema name longer than %d bytes",
                                       PG_SCHEMA_MAX);
            for (size_t i = 0; i < sl; i++)
                if (!isalnum((unsigned char)p[7 + i]) && p[7 + i] != '_')
                    return store_open_fail(err, errcap, -EINVAL,
                                           "store URL: a schema name is letters, digits and '_'");
            memcpy(schema, p + 7, sl);
            schema[sl] = '\0';
        } else if (item) {
            if (strncmp(p, "connect_timeout=", 16) == 0) timeout = 1;
            n = snprintf(conninfo + len, cap - len, "%c%.*s", first ? '?' : '&', (int)item, p);
            if (n < 0 || (size_t)n >= cap - len)
                return store_open_fail(err, errcap, -E2BIG, "store URL too long");
            len += (size_t)n;
            first = 0;
        }
        p += item;
        if (*p == '&') p++;
    }
    if (!timeout) {
        n = snprintf(conninfo + len, cap - len, "%cconnect_timeout=%s", first ? '?' : '&',
                     PG_CONNECT_TIMEOUT);
        if (n < 0 || (size_t)n >= cap - len)
            return store_open_fail(err, errcap, -E2BIG, "store URL too long");
    }
    return 0;
}

/* The library never writes to stderr: the server's notices are dropped. */
static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* search_path: the store's schema, then its key silo (whose SECURITY DEFINER
 * functions pg_keys.c and the relay users call by name). Without schema= the
 * connection's first schema is the store's. */
int pg_use_schema(struct pg *p)
{
    char cur[PG_SCHEMA_MAX + 1];
    const char *name = p->schema;
    if (!name[0]) {
        PGresult *res = PQexec(p->conn, "SELECT current_schema()");
        int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                 !PQgetisnull(res, 0, 0) && strlen(PQgetvalue(res, 0, 0)) <= PG_SCHEMA_MAX;
        if (ok) homing_strlcpy(cur, PQgetvalue(res, 0, 0), sizeof cur);
        PQclear(res);
        if (!ok) return 0; /* no schema: migrate() says so */
        name = cur;
    }
    char silo[PG_SCHEMA_MAX + sizeof PG_SILO_SUFFIX];
    snprintf(silo, sizeof silo, "%s" PG_SILO_SUFFIX, name);
    char *id = PQescapeIdentifier(p->conn, name, strlen(name));
    char *sid = PQescapeIdentifier(p->conn, silo, strlen(silo));
    int r = -ENOMEM;
    if (id && sid) {
        char sql[PG_SCHEMA_MAX * 4 + 64];
        snprintf(sql, sizeof sql, "SET search_path TO %s, %s", id, sid);
        r = pg_cmd(p, sql, "setting the schema");
    }
    PQfreemem(id);
    PQfreemem(sid);
    return r;
}

/* Connects and points search_path at the URL's schema (if named). */
int pg_connect(const char *target, struct pg *p, char *err, size_t errcap)
{
    char conninfo[PG_URL_MAX];
    int r = parse_target(target, conninfo, sizeof conninfo, p->schema, err, errcap);
    if (r < 0) return r;
    p->conn = PQconnectdb(conninfo);
    if (!p->conn) return store_open_fail(err, errcap, -ENOMEM, "out of memory connecting");
    PQsetNoticeProcessor(p->conn, no_notices, NULL);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        /* one line: libpq's hint after "\n\t" joined with "; " */
        char m[PG_ERR_LINE_MAX];
        homing_strlcpy(m, PQerrorMessage(p->conn), sizeof m);
        size_t ml = strlen(m);
        while (ml && (m[ml - 1] == '\n' || m[ml - 1] == ' ')) m[--ml] = '\0';
        for (char *c = m; *c; c++)
            if (*c == '\n' || *c == '\t') *c = c[1] == '\t' ? ';' : ' ';
        return store_open_fail(err, errcap, -EIO, "connecting to PostgreSQL: %s", m);
    }
    if ((r = pg_use_schema(p)) < 0) return store_open_fail(err, errcap, r, "%s", p->base.errmsg);
    return 0;
}

/* A store newer than this build: refused, with what to do. */
static int newer_refused(struct pg *p, int64_t v, int latest)
{
    store_set_error(&p->base,
                    "database schema version %lld is newer than this homing knows (%d): "
                    "upgrade homing",
                    (long long)v, latest);
    return -EPROTO;
}

/* Whether this role can apply migrations: it owns the store's schema (or is
 * a member of its owner, or a superuser), or the schema does not exist yet
 * and it may create schemas. */
static int may_migrate(struct pg *p, int64_t *ok)
{
    return pg_query_int(p,
                        "SELECT CASE WHEN n.oid IS NULL "
                        "THEN has_database_privilege(current_database(), 'CREATE')::int "
                        "ELSE pg_has_role(n.nspowner, 'USAGE')::int END "
                        "FROM (SELECT 1) one LEFT JOIN pg_namespace n ON n.nspname = "
                        "coalesce(current_schema(), '')",
                        "checking the role's rights", ok);
}

int pg_migrate_locked(struct pg *p, const char *schema)
{
    /* The lock is keyed by the schema, which may not exist yet. */
    char sql[PG_SCHEMA_MAX * 2 + 96];
    const char *key = schema[0] ? schema : "public";
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(hashtext('homing-migrate.%s'))", key);
    int r;
    if ((r = pg_cmd(p, sql, "locking for migrations")) < 0) return r;
    int64_t ok = 0;
    if (schema[0]) {
        /* CREATE SCHEMA IF NOT EXISTS would still need the database's CREATE
         * right, which an owner of the schema need not have */
        char *lit = PQescapeLiteral(p->conn, schema, strlen(schema));
        if (!lit) return -ENOMEM;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", lit);
        PQfreemem(lit);
        if ((r = pg_query_int(p, sql, "finding the schema", &ok)) < 0) return r;
        if (!ok) {
            char *id = PQescapeIdentifier(p->conn, schema, strlen(schema));
            if (!id) return -ENOMEM;
            snprintf(sql, sizeof sql, "CREATE SCHEMA %s", id);
            PQfreemem(id);
            if ((r = pg_cmd(p, sql, "creating the schema")) < 0) return r;
            /* the silo migration's objects go to the path set at connect */
            if ((r = pg_use_schema(p)) < 0) return r;
        }
    }
    if ((r = pg_query_int(
             p, "SELECT count(*) FROM (SELECT current_schema() AS s) c WHERE s IS NOT NULL",
             "finding the schema", &ok)) < 0)
        return r;
    if (!ok) {
        store_set_error(&p->base, "no schema to create the store in: name one with schema=NAME");
        return -EINVAL;
    }
    if ((r = pg_cmd(p,
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                    "applied_us bigint NOT NULL)",
                    "creating schema_migrations")) < 0)
        return r;
    int64_t v = 0;
    if ((r = pg_query_int(p, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                          "reading the schema version", &v)) < 0)
        return r;
    int latest = (int)store_migrations_postgresql_count;
    if (v > latest) return newer_refused(p, v, latest);
    /* each one missing, not only those above the highest: a store whose
     * migration was removed by hand (the tests re-apply 0008) gets it again */
    for (size_t i = 0; i < store_migrations_postgresql_count; i++) {
        const struct store_migration *m = &store_migrations_postgresql[i];
        int64_t done = 0;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM schema_migrations WHERE version = %d",
                 m->version);
        if ((r = pg_query_int(p, sql, "reading the schema version", &done)) < 0) return r;
        if (done) continue;
        if ((r = pg_cmd(p, m->sql, m->name)) < 0) return r;
        snprintf(sql, sizeof sql,
                 "INSERT INTO schema_migrations (version, applied_us) VALUES (%d, %lld)",
                 m->version, (long long)homing_now_us());
        if ((r = pg_cmd(p, sql, "recording the migration")) < 0) return r;
    }
    return 0;
}

/* The store's highest migration (0 for none yet) and how many of this
 * build's it has, without a lock or DDL: the nodes' role, which has no DDL
 * right, opens a current store through this alone. */
static int current_version(struct pg *p, int64_t *v, int64_t *known)
{
    int64_t have = 0;
    int r = pg_query_int(p,
                         "SELECT count(*) FROM (SELECT to_regclass('schema_migrations') AS t) x "
                         "WHERE t IS NOT NULL",
                         "reading the schema version", &have);
    *v = *known = 0;
    if (r == 0 && have)
        r = pg_query_int(p, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                         "reading the schema version", v);
    if (r == 0 && have) {
        char sql[128];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM schema_migrations WHERE version BETWEEN 1 AND %d",
                 (int)store_migrations_postgresql_count);
        r = pg_query_int(p, sql, "reading the schema version", known);
    }
    return r;
}

static int migrate(struct pg *p, const char *schema)
{
    int64_t v = 0, known = 0, ok = 0;
    int r = current_version(p, &v, &known);
    if (r < 0) return r;
    int latest = (int)store_migrations_postgresql_count;
    if (v == latest && known == latest) return 0;
    if (v > latest) return newer_refused(p, v, latest);
    if ((r = may_migrate(p, &ok)) < 0) return r;
    if (!ok) {
        store_set_error(&p->base,
                        "the store is at migration %lld of %d and role %s may not apply the "
                        "rest: run 'homing init DIR --store postgresql://ADMIN@HOST/DB%s%s' with "
                        "a role that may create roles (it migrates as the owner)",
                        (long long)v, latest, PQuser(p->conn), schema[0] ? "?schema=" : "", schema);
        return -EACCES;
    }
    if ((r = pg_begin(p)) < 0) return r;
    if ((r = pg_migrate_locked(p, schema)) < 0) {
        pg_rollback(p);
        return r;
    }
    return pg_commit(p);
}

int pg_open(const char *target, const char *base_dir, const char *sync, struct homing_store **out,
            char *err, size_t errcap)
{
    (void)base_dir;
    (void)sync; /* "normal" (store.c: no HOMING_STORE_CAP_SYNC) */
    struct pg *p = calloc(1, sizeof *p);
    if (!p) return store_open_fail(err, errcap, -ENOMEM, "out of memory");
    p->base.ops = store_backend_postgresql.ops;
    p->claimer = (int64_t)(homing_id_random() & (uint64_t)INT64_MAX); /* never 0 */
    int r = pg_connect(target, p, err, errcap);
    if (r == 0 && (r = migrate(p, p->schema)) < 0)
        store_open_fail(err, errcap, r, "%s", p->base.errmsg);
    if (r < 0) {
        PQfinish(p->conn);
        free(p);
        return r;
    }
    *out = &p->base;
    return 0;
}

int pg_inspect(const char *target, const char *base_dir, int *version, int *latest, char *err,
               size_t errcap)
{
    (void)base_dir;
    struct pg *p = calloc(1, sizeof *p); /* too big for the stack */
    if (!p) return store_open_fail(err, errcap, -ENOMEM, "out of memory");
    const char *schema = p->schema;
    int r = pg_connect(target, p, err, errcap);
    int64_t have = 0, v = 0;
    if (r == 0 &&
        (r = pg_query_int(p,
                          "SELECT count(*) FROM (SELECT to_regclass('schema_migrations') AS t) x "
                          "WHERE t IS NOT NULL",
                          "inspecting", &have)) == 0 &&
        have)
        r = pg_query_int(p, "SELECT coalesce(max(version), 0) FROM schema_migrations", "inspecting",
                         &v);
    if (r < 0 && p->base.errmsg[0]) store_open_fail(err, errcap, r, "%s", p->base.errmsg);
    if (r == 0 && !have && schema[0]) {
        int64_t exists = 0;
        if ((r = pg_query_int(p,
                              "SELECT count(*) FROM (SELECT current_schema() AS s) c "
                              "WHERE s IS NOT NULL",
                              "inspecting", &exists)) == 0 &&
            !exists)
            r = store_open_fail(err, errcap, -ENOENT, "no schema %s in this database", schema);
    }
    PQfinish(p->conn);
    free(p);
    if (r < 0) return r;
    *version = (int)v;
    *latest = (int)store_migrations_postgresql_count;
    return 0;
}

void pg_close(struct homing_store *s)
{
    struct pg *p = (struct pg *)s;
    PQfinish(p->conn);
    free(p);
}

int pg_schema_version(struct homing_store *s, int *version)
{
    struct pg *p = (struct pg *)s;
    PGresult *res;
    int r = pg_run(p, PG_SCHEMA_VERSION, NULL, "reading the schema version", &res);
    if (r < 0) return r;
    *version = (int)pg_int(res, 0, 0);
    PQclear(res);
    return 0;
}
