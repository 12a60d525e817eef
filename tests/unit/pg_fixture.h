/*
 * pg_fixture.h: what the PostgreSQL-only suites (test_store_postgresql.c,
 * test_store_pg_silo.c, test_store_copy.c) share beside the private server
 * of tests/pg_cluster.py: its URL template (HOMING_TEST_STORE_POSTGRESQL,
 * with "&schema=%s" for the schema) and connections by hand through libpq,
 * which does not know homing's "&schema=".
 */
#ifndef HOMING_TEST_PG_FIXTURE_H
#define HOMING_TEST_PG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

/* The URL template, or NULL with a line saying how to run the suite. */
static inline const char *pg_fixture_template(void)
{
    const char *tmpl = getenv("HOMING_TEST_STORE_POSTGRESQL");
    if (tmpl && strstr(tmpl, "&schema=%s")) return tmpl;
    fprintf(stderr, "run me with tests/pg_cluster.py (HOMING_TEST_STORE_POSTGRESQL)\n");
    return NULL;
}

/* url without homing's "&schema=..." into out. */
static inline void pg_fixture_conninfo(const char *url, char *out, size_t cap)
{
    const char *s = strstr(url, "&schema=");
    snprintf(out, cap, "%.*s", (int)(s ? (size_t)(s - url) : strlen(url)), url);
}

/* A connection by hand to url's server (NULL if it fails), in url's schema
 * (its search_path) when in_schema. */
static inline PGconn *pg_fixture_connect(const char *url, int in_schema)
{
    char conninfo[1024], sql[160];
    pg_fixture_conninfo(url, conninfo, sizeof conninfo);
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return NULL;
    }
    const char *s = strstr(url, "&schema=");
    if (in_schema && s) {
        snprintf(sql, sizeof sql, "SET search_path TO %s", s + strlen("&schema="));
        PQclear(PQexec(c, sql));
    }
    return c;
}

#endif
