/*
 * test_store_pg_silo.c: the key silo and homing_store_provision (issue #14
 * item 5) beside a private PostgreSQL (tests/pg_cluster.py sets
 * HOMING_TEST_STORE_POSTGRESQL, whose user is the cluster's superuser).
 *
 * A store provisioned for nodes is opened with a node's login: it opens
 * without DDL, keeps API keys, relay users and webhook secrets through the
 * silo's SECURITY DEFINER functions, makes a month's partition and drops one by retention.
 * Connected by hand as that login, the server refuses SELECT on the silo's
 * tables, DDL on the store's schema (CREATE, DROP of a partition, TRUNCATE,
 * ALTER of a silo function) and writes to schema_migrations; a login outside
 * the nodes' group may not even call the silo's functions. A second
 * provision finds the schemas and roles and makes a second login that sees
 * the first one's keys. A store with a migration pending is refused to the
 * node with a line naming homing init. Bad input (a schema that is not a
 * store, a role that may not create roles, an unreachable server, a role of
 * homing's name that can log in) fails with nothing left behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "homing/apikey.h"
#include "homing/store.h"
#include "homing/store_engine.h"
#include "homing/util.h"
#include "pg_fixture.h"

#define URL_MAX 1024

struct fixture {
    char admin[URL_MAX]; /* the superuser's URL with schema=S */
    char schema[64];     /* S */
    PGconn *db;          /* the superuser, by hand */
    struct homing_store_node node;
};

static unsigned seq;

static int setup(void **state)
{
    const char *tmpl = pg_fixture_template();
    struct fixture *f = tmpl ? calloc(1, sizeof *f) : NULL;
    if (!f) return -1;
    snprintf(f->schema, sizeof f->schema, "silo_%ld_%u", (long)getpid(), seq++);
    snprintf(f->admin, sizeof f->admin, tmpl, f->schema);
    if (!(f->db = pg_fixture_connect(f->admin, 0))) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    PQfinish(f->db);
    homing_store_node_clear(&f->node);
    free(f);
    return 0;
}

/* sql as the superuser: its SQLSTATE ("" for success) into state. */
static void as_admin(struct fixture *f, const char *sql, char state[6])
{
    PGresult *res = PQexec(f->db, sql);
    ExecStatusType st = PQresultStatus(res);
    const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(state, 6, "%s",
             st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? ""
             : code                                          ? code
                                                             : "?");
    PQclear(res);
}

static long long admin_int(struct fixture *f, const char *fmt, const char *arg)
{
    char sql[1024];
    snprintf(sql, sizeof sql, fmt, arg, arg);
    PGresult *res = PQexec(f->db, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(res));
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    long long v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

/* Runs sql on conn and returns its SQLSTATE, "" on success. */
static const char *sqlstate(PGconn *conn, const char *sql, char buf[6])
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(buf, 6, "%s",
             st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? ""
             : code                                          ? code
                                                             : "?");
    PQclear(res);
    return buf;
}

static void provision(struct fixture *f)
{
    char err[512];
    int r =
        homing_store_provision(f->admin, HOMING_STORE_PROVISION_LOGIN, &f->node, err, sizeof err);
    if (r < 0) fail_msg("provision: %s", err);
    assert_non_null(strstr(f->node.url, f->node.role));
    assert_null(strstr(f->node.url, "user=postgres")); /* never the admin's */
    assert_string_equal(f->node.schema, f->schema);
}

static struct homing_store *open_node(const struct homing_store_node *n)
{
    struct homing_store *s = NULL;
    char err[512];
    int r = homing_store_open(n->url, NULL, "normal", &s, err, sizeof err);
    if (r < 0) fail_msg("open as the node: %s", err);
    return s;
}

static void test_node_role(void **state)
{
    struct fixture *f = *state;
    provision(f);
    assert_int_equal(f->node.created, 1);
    struct homing_store *s = open_node(&f->node);

    /* keys and relay users, through the silo's functions */
    uint8_t hash[32], other[32];
    memset(hash, 7, sizeof hash);
    memset(other, 8, sizeof other);
    int64_t id = 0;
    assert_int_equal(homing_store_api_key_add(s, "ops", hash, HOMING_APIKEY_SCOPE_WRITE, &id), 0);
    assert_true(id > 0);
    assert_int_equal(homing_store_api_key_add(s, "ops", other, HOMING_APIKEY_SCOPE_READ, NULL),
                     -EEXIST);
    assert_int_equal(homing_store_api_key_check(s, hash), HOMING_APIKEY_SCOPE_WRITE);
    assert_int_equal(homing_store_api_key_check(s, other), -EACCES);
    struct homing_api_key_info *keys;
    size_t nk;
    assert_int_equal(homing_store_api_key_list(s, &keys, &nk), 0);
    assert_int_equal(nk, 1);
    assert_string_equal(keys[0].name, "ops");
    homing_api_keys_free(keys, nk);
    assert_int_equal(homing_store_relay_user_set(s, "mailer", "$argon2id$fake"), 0);
    char *h = NULL;
    assert_int_equal(homing_store_relay_user_get(s, "mailer", &h), 0);
    assert_string_equal(h, "$argon2id$fake");
    free(h);
    assert_int_equal(homing_store_relay_user_remove(s, "mailer"), 0);
    assert_int_equal(homing_store_relay_user_remove(s, "mailer"), -ENOENT);

    /* webhooks: the secret in the silo, read back by the node for signing */
    int64_t hook = 0;
    assert_int_equal(
        homing_store_webhook_add(s, "https://hooks.example/x", "*", "s3cret-of-the-hook", &hook),
        0);
    struct homing_webhook *hooks;
    size_t nh;
    assert_int_equal(homing_store_webhook_list(s, &hooks, &nh), 0);
    assert_int_equal(nh, 1);
    assert_int_equal(hooks[0].id, hook);
    assert_string_equal(hooks[0].secret, "s3cret-of-the-hook");
    homing_webhooks_free(hooks, nh);
    struct homing_notification_spec note = {
        .time_us = 1000, .kind = "open", .message = 5, .text = "opened", .payload = "{}"};
    int64_t nid = 0;
    assert_int_equal(homing_store_notification_add(s, &note, &nid), 0);
    struct homing_delivery *due;
    size_t nd;
    assert_int_equal(homing_store_deliveries_due_fair(s, INT64_MAX / 2, 1, 10, &due, &nd), 0);
    assert_int_equal(nd, 1);
    assert_string_equal(due[0].secret, "s3cret-of-the-hook");
    homing_deliveries_free(due, nd);
    assert_int_equal(admin_int(f,
                               "SELECT count(*) FROM information_schema.columns WHERE "
                               "table_schema = '%s' AND table_name = 'webhooks' AND "
                               "column_name = 'secret'",
                               f->schema),
                     0);

    /* a month's partition made, and retention drops it, with no DDL right */
    const int64_t day = INT64_C(86400000000);
    struct homing_event ev[2];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 2; i++) {
        ev[i].kind = HOMING_EV_OPEN;
        ev[i].method = HOMING_METHOD_GET;
        ev[i].message = 5;
        ev[i].time_us = i ? 70 * day : 1000; /* 1970-01 and 1970-03 */
    }
    assert_int_equal(homing_store_events_append(s, ev, 2), 0);
    int64_t rolled = 0, deleted = 0;
    int r = homing_store_privacy_retention(s, 40 * day, &rolled, &deleted);
    if (r < 0) fail_msg("retention as the node: %s", homing_store_errmsg(s));
    assert_int_equal(deleted, 1);
    assert_int_equal(
        admin_int(f,
                  "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
                  "n.oid = c.relnamespace WHERE n.nspname = '%s' AND c.relname "
                  "LIKE 'events_1970%%' AND c.relkind = 'r' AND c.relowner = '%s_owner'::regrole",
                  f->schema),
        1);

    /* by hand as the node's login: the server refuses */
    char conninfo[URL_MAX], sql[512], st[6];
    pg_fixture_conninfo(f->node.url, conninfo, sizeof conninfo);
    PGconn *node = PQconnectdb(conninfo);
    assert_int_equal(PQstatus(node), CONNECTION_OK);
    const char *const refused[] = {
        "SELECT * FROM %s_keys.api_keys",
        "SELECT hash FROM %s_keys.relay_users",
        "SELECT secret FROM %s_keys.webhook_secrets",
        "UPDATE %s_keys.api_keys SET scope = 'admin'",
        "CREATE TABLE %s.x (a int)",
        "CREATE FUNCTION %s_keys.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "DROP TABLE %s.events_197003",
        "TRUNCATE %s.events",
        "TRUNCATE %s.events_197003",
        "ALTER TABLE %s.events DISABLE TRIGGER USER",
        "INSERT INTO %s.schema_migrations (version, applied_us) VALUES (999, 0)",
        "ALTER FUNCTION %s_keys.homing_api_key_check(bytea) SECURITY INVOKER",
        NULL};
    for (size_t i = 0; refused[i]; i++) {
        snprintf(sql, sizeof sql, refused[i], f->schema);
        sqlstate(node, sql, st);
        if (strcmp(st, "42501") != 0) fail_msg("%s: SQLSTATE '%s', not 42501", sql, st);
    }
    /* what the node does: the functions, its tables */
    snprintf(sql, sizeof sql, "SELECT %s_keys.homing_api_key_check('\\x%s'::bytea)", f->schema,
             "0707070707070707070707070707070707070707070707070707070707070707");
    assert_string_equal(sqlstate(node, sql, st), "");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.events", f->schema);
    assert_string_equal(sqlstate(node, sql, st), "");
    PQfinish(node);

    /* a login outside the nodes' group may not call the silo */
    char make[256];
    snprintf(make, sizeof make, "CREATE ROLE %s_stranger LOGIN", f->schema);
    as_admin(f, make, st);
    assert_string_equal(st, "");
    char stranger[URL_MAX];
    pg_fixture_conninfo(f->admin, stranger, sizeof stranger);
    char *u = strstr(stranger, "user=postgres");
    assert_non_null(u);
    snprintf(u, sizeof stranger - (size_t)(u - stranger), "user=%s_stranger", f->schema);
    PGconn *other_conn = PQconnectdb(stranger);
    assert_int_equal(PQstatus(other_conn), CONNECTION_OK);
    snprintf(sql, sizeof sql, "SELECT * FROM %s_keys.homing_api_key_list()", f->schema);
    assert_string_equal(sqlstate(other_conn, sql, st), "42501");
    PQfinish(other_conn);
    homing_store_close(s);
}

/* A second node: schemas and roles found, a login of its own, the same keys. */
static void test_second_node(void **state)
{
    struct fixture *f = *state;
    provision(f);
    struct homing_store_node second = {0};
    char err[512];
    assert_int_equal(
        homing_store_provision(f->admin, HOMING_STORE_PROVISION_LOGIN, &second, err, sizeof err),
        0);
    assert_int_equal(second.created, 0);
    assert_string_not_equal(second.role, f->node.role);
    assert_int_equal(second.version, f->node.version);
    struct homing_store *a = open_node(&f->node), *b = open_node(&second);
    uint8_t hash[32];
    memset(hash, 9, sizeof hash);
    assert_int_equal(homing_store_api_key_add(a, "shared", hash, HOMING_APIKEY_SCOPE_ADMIN, NULL),
                     0);
    assert_int_equal(homing_store_api_key_check(b, hash), HOMING_APIKEY_SCOPE_ADMIN);
    assert_int_equal(homing_store_api_key_revoke(b, "shared"), 0);
    assert_int_equal(homing_store_api_key_check(a, hash), -EACCES);
    homing_store_close(a);
    homing_store_close(b);
    homing_store_node_clear(&second);
}

/* A migration pending: the node may not apply it and says what to run. */
static void test_pending_refused(void **state)
{
    struct fixture *f = *state;
    provision(f);
    char sql[256], st[6];
    snprintf(sql, sizeof sql,
             "DELETE FROM %s.schema_migrations WHERE version = (SELECT max(version) FROM "
             "%s.schema_migrations)",
             f->schema, f->schema);
    as_admin(f, sql, st);
    assert_string_equal(st, "");
    struct homing_store *s = NULL;
    char err[512];
    assert_int_equal(homing_store_open(f->node.url, NULL, "normal", &s, err, sizeof err), -EACCES);
    assert_null(s);
    assert_non_null(strstr(err, "homing init"));
    assert_non_null(strstr(err, f->node.role));
    assert_null(strchr(err, '\n'));
}

static long long roles_named(struct fixture *f)
{
    return admin_int(f, "SELECT count(*) FROM pg_roles WHERE rolname LIKE '%s%%'", f->schema);
}

static void test_bad_input(void **state)
{
    struct fixture *f = *state;
    struct homing_store_node n = {0};
    char err[512], sql[256], st[6], url[URL_MAX];

    /* a schema that is not a homing store */
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s; CREATE TABLE %s.t (a int)", f->schema, f->schema);
    as_admin(f, sql, st);
    assert_string_equal(st, "");
    assert_int_equal(
        homing_store_provision(f->admin, HOMING_STORE_PROVISION_LOGIN, &n, err, sizeof err),
        -EEXIST);
    assert_non_null(strstr(err, "not a homing store"));
    assert_int_equal(roles_named(f), 0);
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", f->schema);
    as_admin(f, sql, st);

    /* a role of homing's name that can log in: refused after the owner
     * roles were made in the same transaction, which leaves none of them */
    snprintf(sql, sizeof sql, "CREATE ROLE %s_node LOGIN", f->schema);
    as_admin(f, sql, st);
    assert_string_equal(st, "");
    assert_int_equal(
        homing_store_provision(f->admin, HOMING_STORE_PROVISION_LOGIN, &n, err, sizeof err),
        -EEXIST);
    assert_non_null(strstr(err, "can log in"));
    assert_int_equal(roles_named(f), 1); /* only the one made here */
    assert_int_equal(
        admin_int(f, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%s%%'", f->schema), 0);
    snprintf(sql, sizeof sql, "DROP ROLE %s_node", f->schema);
    as_admin(f, sql, st);

    /* a role that may not create roles */
    provision(f);
    snprintf(url, sizeof url, "%s", f->node.url);
    assert_int_equal(homing_store_provision(url, HOMING_STORE_PROVISION_LOGIN, &n, err, sizeof err),
                     -EACCES);
    assert_non_null(strstr(err, "may not create roles"));

    /* an unreachable server: one line */
    snprintf(url, sizeof url, "postgresql:///homing_test?host=/nonexistent-%s&connect_timeout=2",
             f->schema);
    assert_int_equal(homing_store_provision(url, HOMING_STORE_PROVISION_LOGIN, &n, err, sizeof err),
                     -EIO);
    assert_non_null(strstr(err, "connecting to PostgreSQL"));
    assert_null(strchr(err, '\n'));

    /* the public schema is shared with other programs */
    snprintf(url, sizeof url, "%s", f->admin);
    char *sch = strstr(url, "&schema=");
    assert_non_null(sch);
    snprintf(sch, sizeof url - (size_t)(sch - url), "&schema=public");
    assert_int_equal(homing_store_provision(url, HOMING_STORE_PROVISION_LOGIN, &n, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "not public"));

    /* SQLite has nothing to provision */
    assert_int_equal(homing_store_provision("sqlite:/tmp/x.db", HOMING_STORE_PROVISION_LOGIN, &n,
                                            err, sizeof err),
                     -ENOTSUP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_node_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
