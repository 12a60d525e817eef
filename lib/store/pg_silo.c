/*
 * pg_silo.c: `homing init --store postgresql://...`: prepares a PostgreSQL
 * store for several nodes, with its key silo, and makes one node's login.
 *
 * Contract (pg_provision, the backend's homing_store_provision): target is
 * the URL after "postgresql:", whose user may create roles (a superuser, or
 * CREATEROLE with CREATE on the database). With S the URL's schema= (default
 * PG_SILO_DEFAULT_SCHEMA, at most PG_SILO_SCHEMA_MAX bytes so the role names
 * below fit), in one transaction, so a failed run leaves nothing:
 *   - roles S_owner (owns schema S), S_keys_owner (owns the key silo S_keys)
 *     and S_node (the nodes' group), NOLOGIN, made when missing; a role of
 *     one of these names that can log in is refused as not homing's;
 *   - schema S made (owned by S_owner) when missing; an existing S that holds
 *     relations but no schema_migrations is refused as not a homing store;
 *   - the missing migrations applied (migration 0010 makes S_keys), then every
 *     table, sequence and function of S handed to S_owner and of S_keys to
 *     S_keys_owner (also what an earlier run or a superuser's open made);
 *   - S_node's rights: USAGE on S, SELECT/INSERT/UPDATE/DELETE on its tables
 *     (and on tables S_owner makes later: the monthly partitions), SELECT
 *     only on schema_migrations, its sequences, EXECUTE on its functions;
 *     USAGE on S_keys and EXECUTE on the silo's functions, no right on the
 *     silo's tables; no CREATE anywhere;
 *   - with HOMING_STORE_PROVISION_LOGIN, a login role S_node_XXXXXXXX
 *     (random hex) in S_node with a random password, sent to the server
 *     already SCRAM-hashed (without it, the run only prepares or upgrades).
 * out->url is the admin URL's connection options with that login instead of
 * the admin's, the database named, and schema=S. Each run makes a new login,
 * so a second node gets its own credentials and the first node's stay valid.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "homing/store.h"
#include "homing/store_engine.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

#define PG_SILO_DEFAULT_SCHEMA "homing"
#define PG_SILO_SCHEMA_MAX     40 /* + "_keys_owner" or "_node_" + 8 hex within 63 */
#define PG_SILO_LOGIN_HEX      8  /* random hex digits of a node's login name */
#define PG_SILO_PASSWORD_BYTES 24 /* random bytes of a node's password (48 hex digits) */
#define PG_SILO_SQL_MAX        4096

/* sql with every "%s" replaced by the same quoted literal or identifier. */
static int run_fmt(struct pg *p, const char *what, const char *fmt, const char *a, const char *b)
{
    char sql[PG_SILO_SQL_MAX];
    int n = snprintf(sql, sizeof sql, fmt, a, b);
    if (n < 0 || (size_t)n >= sizeof sql) return -E2BIG;
    return pg_cmd(p, sql, what);
}

/* The role names, quoted: S_owner, S_keys_owner, S_node. */
struct silo_names {
    char owner[PG_SCHEMA_MAX + 16], keys_owner[PG_SCHEMA_MAX + 16], node[PG_SCHEMA_MAX + 16],
        keys[PG_SCHEMA_MAX + 16];
};

static int ensure_role(struct pg *p, const char *name, int *made)
{
    char *lit = PQescapeLiteral(p->conn, name, strlen(name));
    char *id = PQescapeIdentifier(p->conn, name, strlen(name));
    int r = -ENOMEM;
    if (!lit || !id) goto out;
    char sql[640];
    int64_t exists = 0, login = 0;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_roles WHERE rolname = %s", lit);
    if ((r = pg_query_int(p, sql, "finding a role", &exists)) < 0) goto out;
    if (exists) {
        snprintf(sql, sizeof sql, "SELECT rolcanlogin::int FROM pg_roles WHERE rolname = %s", lit);
        if ((r = pg_query_int(p, sql, "finding a role", &login)) < 0) goto out;
        if (login) {
            store_set_error(&p->base,
                            "role %s exists and can log in: it is not one of homing's (name "
                            "another schema with ?schema=NAME)",
                            name);
            r = -EEXIST;
        }
        goto out;
    }
    snprintf(sql, sizeof sql, "CREATE ROLE %s NOLOGIN", id);
    if ((r = pg_cmd(p, sql, "creating a role")) < 0) goto out;
    snprintf(sql, sizeof sql, "COMMENT ON ROLE %s IS 'homing (homing init --store)'", id);
    r = pg_cmd(p, sql, "creating a role");
    *made = 1;
out:
    PQfreemem(lit);
    PQfreemem(id);
    return r;
}

/* Hands S to S_owner and S_keys to S_keys_owner, with everything in them
 * (partitions and a sequence not owned by a column included; a column's
 * sequence follows its table). */
static int give_to_owners(struct pg *p, const char *schema)
{
    char *lit = PQescapeLiteral(p->conn, schema, strlen(schema));
    if (!lit) return -ENOMEM;
    int r = run_fmt(
        p, "handing the schemas to their owners",
        "DO $$\n"
        "DECLARE\n"
        "    s text := %s;\n"
        "    k text := s || '" PG_SILO_SUFFIX "';\n"
        "    o record;\n"
        "BEGIN\n"
        "    EXECUTE format('ALTER SCHEMA %%I OWNER TO %%I', s, s || '_owner');\n"
        "    EXECUTE format('ALTER SCHEMA %%I OWNER TO %%I', k, k || '_owner');\n"
        "    FOR o IN SELECT c.oid::regclass::text AS obj, c.relkind, n.nspname FROM pg_class c\n"
        "             JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        "             WHERE n.nspname IN (s, k) AND (c.relkind IN ('r', 'p', 'v', 'm', 'f')\n"
        "             OR (c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM pg_depend d\n"
        "                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid\n"
        "                 AND d.deptype IN ('a', 'i')))) LOOP\n"
        "        EXECUTE format('ALTER %%s %%s OWNER TO %%I',\n"
        "            CASE o.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'\n"
        "            WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'\n"
        "            ELSE 'TABLE' END, o.obj, o.nspname || '_owner');\n"
        "    END LOOP;\n"
        "    FOR o IN SELECT f.oid::regprocedure::text AS obj, n.nspname FROM pg_proc f\n"
        "             JOIN pg_namespace n ON n.oid = f.pronamespace\n"
        "             WHERE n.nspname IN (s, k) LOOP\n"
        "        EXECUTE format('ALTER ROUTINE %%s OWNER TO %%I', o.obj, o.nspname || '_owner');\n"
        "    END LOOP;\n"
        "END\n"
        "$$",
        lit, NULL);
    PQfreemem(lit);
    return r;
}

/* S_node's rights (the contract above); run again on every init, so tables a
 * later migration adds get them too. */
static int grant_node(struct pg *p, const char *schema)
{
    char *lit = PQescapeLiteral(p->conn, schema, strlen(schema));
    if (!lit) return -ENOMEM;
    int r = run_fmt(
        p, "granting the nodes' rights",
        "DO $$\n"
        "DECLARE\n"
        "    s text := %s;\n"
        "    k text := s || '" PG_SILO_SUFFIX "';\n"
        "    n text := s || '_node';\n"
        "BEGIN\n"
        "    EXECUTE format('REVOKE ALL ON SCHEMA %%I FROM PUBLIC', s);\n"
        "    EXECUTE format('GRANT USAGE ON SCHEMA %%I TO %%I', s, n);\n"
        "    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %%I "
        "TO %%I', s, n);\n"
        "    EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON %%I.schema_migrations FROM %%I', "
        "s, n);\n"
        "    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %%I TO "
        "%%I', s, n);\n"
        "    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %%I TO %%I', s, n);\n"
        "    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %%I IN SCHEMA %%I GRANT SELECT, "
        "INSERT, UPDATE, DELETE ON TABLES TO %%I', s || '_owner', s, n);\n"
        "    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %%I IN SCHEMA %%I GRANT USAGE, "
        "SELECT, UPDATE ON SEQUENCES TO %%I', s || '_owner', s, n);\n"
        "    EXECUTE format('REVOKE ALL ON SCHEMA %%I FROM PUBLIC', k);\n"
        "    EXECUTE format('GRANT USAGE ON SCHEMA %%I TO %%I', k, n);\n"
        "    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %%I FROM PUBLIC, %%I', k, n);\n"
        "    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %%I FROM PUBLIC, %%I', k, "
        "n);\n"
        "    EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %%I FROM PUBLIC', k);\n"
        "    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %%I TO %%I', k, n);\n"
        "END\n"
        "$$",
        lit, NULL);
    PQfreemem(lit);
    return r;
}

/* Percent-encodes v (all but RFC 3986's unreserved characters) onto b. */
static int url_put(struct homing_buf *b, const char *v)
{
    int r = 0;
    for (const unsigned char *c = (const unsigned char *)v; *c && r == 0; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '.' || *c == '_' || *c == '~') {
            char one[2] = {(char)*c, 0};
            r = homing_buf_puts(b, one);
        } else {
            char esc[4];
            snprintf(esc, sizeof esc, "%%%02X", *c);
            r = homing_buf_puts(b, esc);
        }
    }
    return r;
}

/* The node's URL: the admin URL's options but user, password, dbname and
 * passfile (and the connect_timeout pg_connect added), the database in the
 * path, then the login, its password and schema=. */
static int node_url(struct pg *p, const char *target, const char *login, const char *password,
                    const char *schema, char **out)
{
    char conninfo[PG_URL_MAX];
    const char *q = strchr(target, '?');
    struct homing_buf b;
    homing_buf_init(&b, PG_URL_MAX);
    /* the query without homing's schema= (libpq does not know it) */
    snprintf(conninfo, sizeof conninfo, "postgresql:%.*s",
             (int)(q ? (size_t)(q - target) : strlen(target)), target);
    int r = 0;
    for (const char *s = q ? q + 1 : NULL; s && *s;) {
        size_t item = strcspn(s, "&");
        if (item && strncmp(s, "schema=", 7) != 0) {
            size_t len = strlen(conninfo);
            snprintf(conninfo + len, sizeof conninfo - len, "%c%.*s",
                     strchr(conninfo, '?') ? '&' : '?', (int)item, s);
        }
        s += item;
        if (*s == '&') s++;
    }
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        store_set_error(&p->base, "store URL: %s", perr ? perr : "out of memory");
        PQfreemem(perr);
        return perr ? -EINVAL : -ENOMEM;
    }
    r = homing_buf_puts(&b, "postgresql:///");
    if (r == 0) r = url_put(&b, PQdb(p->conn));
    char sep = '?';
    for (PQconninfoOption *o = opts; r == 0 && o->keyword; o++) {
        if (!o->val || !*o->val || strcmp(o->keyword, "user") == 0 ||
            strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "dbname") == 0 ||
            strcmp(o->keyword, "passfile") == 0)
            continue;
        char head[64];
        snprintf(head, sizeof head, "%c%s=", sep, o->keyword);
        sep = '&';
        if ((r = homing_buf_puts(&b, head)) == 0) r = url_put(&b, o->val);
    }
    PQconninfoFree(opts);
    if (r == 0) r = homing_buf_puts(&b, sep == '?' ? "?user=" : "&user=");
    if (r == 0) r = url_put(&b, login);
    if (r == 0) r = homing_buf_puts(&b, "&password=");
    if (r == 0) r = url_put(&b, password);
    if (r == 0) r = homing_buf_puts(&b, "&schema=");
    if (r == 0) r = url_put(&b, schema);
    char *url = r == 0 ? homing_buf_steal(&b) : NULL;
    homing_buf_free(&b);
    if (!url) return -ENOMEM;
    *out = url;
    return 0;
}

/* The login S_node_XXXXXXXX with a random password, in S_node. */
static int make_login(struct pg *p, const char *node_group, char *login, size_t logincap,
                      char *password, size_t pwcap)
{
    uint8_t rnd[PG_SILO_PASSWORD_BYTES];
    char hex[PG_SILO_LOGIN_HEX + 1];
    if (pwcap < 2 * sizeof rnd + 1) return -EINVAL;
    randombytes_buf(rnd, PG_SILO_LOGIN_HEX / 2);
    homing_hex_encode(rnd, PG_SILO_LOGIN_HEX / 2, hex);
    snprintf(login, logincap, "%s_%.*s", node_group, PG_SILO_LOGIN_HEX, hex);
    randombytes_buf(rnd, sizeof rnd);
    homing_hex_encode(rnd, sizeof rnd, password);
    sodium_memzero(rnd, sizeof rnd);
    /* the server never sees the password itself (nor its log) */
    char *verifier = PQencryptPasswordConn(p->conn, password, login, NULL);
    if (!verifier) {
        store_set_error(&p->base, "hashing the node's password: %s", PQerrorMessage(p->conn));
        return -EIO;
    }
    char *id = PQescapeIdentifier(p->conn, login, strlen(login));
    char *gid = PQescapeIdentifier(p->conn, node_group, strlen(node_group));
    char *vlit = PQescapeLiteral(p->conn, verifier, strlen(verifier));
    PQfreemem(verifier);
    int r = -ENOMEM;
    if (id && gid && vlit) {
        char sql[1024];
        snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN PASSWORD %s IN ROLE %s", id, vlit, gid);
        if ((r = pg_cmd(p, sql, "creating the node's login")) == 0) {
            snprintf(sql, sizeof sql, "COMMENT ON ROLE %s IS 'homing node (homing init --store)'",
                     id);
            r = pg_cmd(p, sql, "creating the node's login");
        }
    }
    PQfreemem(id);
    PQfreemem(gid);
    PQfreemem(vlit);
    return r;
}

int pg_provision(const char *target, unsigned flags, struct homing_store_node *out, char *err,
                 size_t errcap)
{
    if (sodium_init() < 0) return store_open_fail(err, errcap, -EIO, "libsodium failed to start");
    struct pg *p = calloc(1, sizeof *p);
    if (!p) return store_open_fail(err, errcap, -ENOMEM, "out of memory");
    p->base.ops = store_backend_postgresql.ops;
    char login[PG_SCHEMA_MAX + 32] = "", password[2 * PG_SILO_PASSWORD_BYTES + 1] = "";
    char *url = NULL;
    int made = 0;
    int64_t v = 0;
    int r = pg_connect(target, p, err, errcap);
    if (r < 0) goto done;
    if (!p->schema[0]) {
        homing_strlcpy(p->schema, PG_SILO_DEFAULT_SCHEMA, sizeof p->schema);
        if ((r = pg_use_schema(p)) < 0) goto fail;
    }
    const char *s = p->schema;
    if (strlen(s) > PG_SILO_SCHEMA_MAX) {
        r = store_open_fail(
            err, errcap, -EINVAL,
            "schema name '%s' is longer than %d bytes (the role names are made from it)", s,
            PG_SILO_SCHEMA_MAX);
        goto done;
    }
    /* the rights below (REVOKE ... FROM PUBLIC on the schema) are for a
     * schema of homing's own, never one other programs share */
    if (strcmp(s, "public") == 0) {
        r = store_open_fail(err, errcap, -EINVAL,
                            "a shared store needs a schema of its own: name one with ?schema=NAME "
                            "(default " PG_SILO_DEFAULT_SCHEMA "), not public");
        goto done;
    }
    int64_t super = 0, createrole = 0;
    if ((r = pg_query_int(p, "SELECT rolsuper::int FROM pg_roles WHERE rolname = current_user",
                          "reading the role", &super)) < 0 ||
        (r = pg_query_int(p, "SELECT rolcreaterole::int FROM pg_roles WHERE rolname = current_user",
                          "reading the role", &createrole)) < 0)
        goto fail;
    if (!super && !createrole) {
        r = store_open_fail(
            err, errcap, -EACCES,
            "role %s may not create roles: give homing init --store the URL of a superuser "
            "or of a role with CREATEROLE",
            PQuser(p->conn));
        goto done;
    }
    struct silo_names n;
    snprintf(n.owner, sizeof n.owner, "%s_owner", s);
    snprintf(n.keys, sizeof n.keys, "%s" PG_SILO_SUFFIX, s);
    snprintf(n.keys_owner, sizeof n.keys_owner, "%s" PG_SILO_SUFFIX "_owner", s);
    snprintf(n.node, sizeof n.node, "%s_node", s);
    if ((r = pg_begin(p)) < 0) goto fail;
    char sql[PG_SILO_SQL_MAX];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(hashtext('homing-migrate.%s'))", s);
    if ((r = pg_cmd(p, sql, "locking for migrations")) < 0) goto fail;
    /* an existing schema must be a homing store (or empty) */
    char *lit = PQescapeLiteral(p->conn, s, strlen(s));
    if (!lit) {
        r = -ENOMEM;
        goto fail;
    }
    int64_t exists = 0, ours = 0, rels = 0;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", lit);
    r = pg_query_int(p, sql, "finding the schema", &exists);
    if (r == 0 && exists) {
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname = %s AND c.relname = 'schema_migrations'",
                 lit);
        r = pg_query_int(p, sql, "finding the schema", &ours);
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname = %s",
                 lit);
        if (r == 0) r = pg_query_int(p, sql, "finding the schema", &rels);
    }
    PQfreemem(lit);
    if (r < 0) goto fail;
    if (exists && !ours && rels) {
        store_set_error(&p->base,
                        "schema %s exists and is not a homing store: name another with "
                        "?schema=NAME",
                        s);
        r = -EEXIST;
        goto fail;
    }
    int made_role = 0;
    if ((r = ensure_role(p, n.owner, &made_role)) < 0 ||
        (r = ensure_role(p, n.keys_owner, &made_role)) < 0 ||
        (r = ensure_role(p, n.node, &made_role)) < 0)
        goto fail;
    char *oid = PQescapeIdentifier(p->conn, n.owner, strlen(n.owner));
    char *kid = PQescapeIdentifier(p->conn, n.keys_owner, strlen(n.keys_owner));
    char *sid = PQescapeIdentifier(p->conn, s, strlen(s));
    r = oid && kid && sid ? 0 : -ENOMEM;
    /* a role that is not a superuser hands objects only to roles it is a
     * member of */
    if (r == 0 && !super)
        r = run_fmt(p, "joining the owner roles", "GRANT %s, %s TO CURRENT_USER", oid, kid);
    if (r == 0 && !exists) {
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s AUTHORIZATION %s", sid, oid);
        r = pg_cmd(p, sql, "creating the schema");
        if (r == 0) r = pg_use_schema(p);
    }
    PQfreemem(oid);
    PQfreemem(kid);
    PQfreemem(sid);
    if (r < 0) goto fail;
    if ((r = pg_migrate_locked(p, s)) < 0 || (r = give_to_owners(p, s)) < 0 ||
        (r = grant_node(p, s)) < 0 ||
        (r = pg_query_int(p, "SELECT max(version) FROM schema_migrations", "reading the version",
                          &v)) < 0)
        goto fail;
    if ((flags & HOMING_STORE_PROVISION_LOGIN) &&
        ((r = make_login(p, n.node, login, sizeof login, password, sizeof password)) < 0 ||
         (r = node_url(p, target, login, password, s, &url)) < 0))
        goto fail;
    if ((r = pg_commit(p)) < 0) goto fail;
    made = !exists || made_role;
    out->url = url;
    out->role = login[0] ? strdup(login) : NULL;
    out->schema = strdup(s);
    out->created = made;
    out->version = (int)v;
    url = NULL;
    if ((login[0] && !out->role) || !out->schema) {
        homing_store_node_clear(out);
        r = store_open_fail(err, errcap, -ENOMEM, "out of memory");
    }
    goto done;
fail:
    if (p->in_tx) pg_rollback(p);
    store_open_fail(err, errcap, r, "%s", p->base.errmsg[0] ? p->base.errmsg : strerror(-r));
done:
    sodium_memzero(password, sizeof password);
    if (url) sodium_memzero(url, strlen(url));
    free(url);
    PQfinish(p->conn);
    free(p);
    return r;
}
