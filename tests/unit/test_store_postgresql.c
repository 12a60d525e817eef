/*
 * test_store_postgresql.c: what only the PostgreSQL backend has, checked
 * beside the store through libpq (tests/pg_cluster.py starts the server and
 * sets HOMING_TEST_STORE_POSTGRESQL): the backend is refused unless the
 * process allows partial backends (issue #14), events go into one partition
 * per month, the database refuses UPDATE, DELETE and TRUNCATE of events (on
 * the table and on a partition) except a privacy_guard operation, retention
 * can drop a month's partition, a dropped connection is made again, the
 * campaign counters (migration 0008) equal a count from scratch after
 * batches, a reclassify and delivery reports, and again after 0008's
 * backfill, a schema newer than the build is refused, bad URLs are
 * refused, and what several nodes on one store use (issue #14 item 4): the
 * leader lock, the outbox's claims and LISTEN. The operations every backend has are test_store.c's
 * (store_backends.h).
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

#include "homing/store.h"
#include "homing/store_engine.h"
#include "homing/util.h"
#include "seal_scenario.h"

#include "batch_feed.h"
#include "pg_fixture.h"

#define URL_MAX 512

struct fixture {
    char url[URL_MAX];
    char schema[96];
    struct homing_store *s;
    PGconn *db; /* the same store, by hand */
};

static unsigned seq;

static int setup(void **state)
{
    const char *tmpl = pg_fixture_template();
    struct fixture *f = tmpl ? calloc(1, sizeof *f) : NULL;
    if (!f) return -1;
    snprintf(f->schema, sizeof f->schema, "pgonly_%ld_%u", (long)getpid(), seq++);
    snprintf(f->url, sizeof f->url, tmpl, f->schema);
    char err[256];
    if (homing_store_open(f->url, NULL, "normal", &f->s, err, sizeof err) < 0) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    if (!(f->db = pg_fixture_connect(f->url, 1))) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    homing_store_close(f->s);
    PQfinish(f->db);
    free(f);
    return 0;
}

/* Runs sql by hand: 0, or -1 with the server's message in msg. */
static int by_hand(struct fixture *f, const char *sql, char *msg, size_t cap)
{
    PGresult *res = PQexec(f->db, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (msg) snprintf(msg, cap, "%s", ok ? "" : PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : -1;
}

static long long one_int(struct fixture *f, const char *sql)
{
    PGresult *res = PQexec(f->db, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    long long v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

#define DEC_2026_US INT64_C(1796083200000000) /* 2026-12-01T00:00:00Z */

static void append_two_months(struct fixture *f)
{
    struct homing_event ev[3];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 3; i++) {
        ev[i].kind = HOMING_EV_OPEN;
        ev[i].method = HOMING_METHOD_GET;
        ev[i].message = 7;
        ev[i].recipient = 1;
        strcpy(ev[i].client, "192.0.2.1");
    }
    ev[0].time_us = 1000; /* 1970-01 */
    ev[1].time_us = DEC_2026_US;
    ev[2].time_us = DEC_2026_US + 5;
    assert_int_equal(homing_store_events_append(f->s, ev, 3), 0);
}

/* Programs open the backend (it is not partial), by either of
 * libpq's URI schemes (postgres:// is an alias of postgresql://). */
static void test_open_by_both_schemes(void **state)
{
    struct fixture *f = *state;
    char err[256], alias[URL_MAX];
    struct homing_store *s = NULL;
    assert_false(homing_store_caps(f->s) & HOMING_STORE_CAP_PARTIAL);
    assert_int_equal(homing_store_open(f->url, NULL, "normal", &s, err, sizeof err), 0);
    homing_store_close(s);
    s = NULL;
    assert_true(strncmp(f->url, "postgresql:", 11) == 0);
    snprintf(alias, sizeof alias, "postgres:%s", f->url + 11);
    assert_int_equal(homing_store_open(alias, NULL, "normal", &s, err, sizeof err), 0);
    homing_store_close(s);
    s = NULL;
    int v, latest;
    assert_int_equal(homing_store_inspect(alias, NULL, &v, &latest, err, sizeof err), 0);
    assert_int_equal(v, latest);
    /* A scheme that only looks like one is still refused, not taken as a file. */
    assert_int_equal(homing_store_open("postgresqlx://h/db", NULL, "normal", &s, err, sizeof err),
                     -EINVAL);
    assert_null(s);
}

static void test_partitions_by_month(void **state)
{
    struct fixture *f = *state;
    append_two_months(f);
    assert_int_equal(one_int(f, "SELECT count(*) FROM pg_inherits "
                                "WHERE inhparent = 'events'::regclass"),
                     2);
    assert_int_equal(one_int(f, "SELECT count(*) FROM events_197001"), 1);
    assert_int_equal(one_int(f, "SELECT count(*) FROM events_202612"), 2);
    /* Another batch of the same months adds no partition. */
    append_two_months(f);
    assert_int_equal(one_int(f, "SELECT count(*) FROM pg_inherits "
                                "WHERE inhparent = 'events'::regclass"),
                     2);
    /* Retention's way: a whole month goes with its partition, and the ids of
     * what is left do not change. */
    assert_int_equal(by_hand(f, "DROP TABLE events_197001", NULL, 0), 0);
    int64_t n;
    assert_int_equal(homing_store_events_count(f->s, 0, &n), 0);
    assert_int_equal(n, 4);
}

static void test_append_only(void **state)
{
    struct fixture *f = *state;
    append_two_months(f);
    static const char *const refused[] = {
        "UPDATE events SET client = 'x'",
        "UPDATE events SET kind = 'click' WHERE time_us = 1000",
        "DELETE FROM events",
        "DELETE FROM events_202612",
        "UPDATE events_197001 SET via = 'x'",
        "TRUNCATE events",
    };
    char msg[512];
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(by_hand(f, refused[i], msg, sizeof msg), -1);
        assert_non_null(strstr(msg, "events are append-only"));
    }
    assert_int_equal(one_int(f, "SELECT count(*) FROM events"), 3);

    /* The privacy operations' guard lets exactly their change through. */
    assert_int_equal(by_hand(f, "BEGIN", NULL, 0), 0);
    assert_int_equal(
        by_hand(f, "INSERT INTO privacy_guard (id, op, cutoff_us) VALUES (1, 'retention', 2000)",
                NULL, 0),
        0);
    assert_int_equal(by_hand(f, "DELETE FROM events WHERE time_us < 2000", NULL, 0), 0);
    assert_int_equal(by_hand(f, "DELETE FROM events", msg, sizeof msg), -1);
    assert_int_equal(by_hand(f, "ROLLBACK", NULL, 0), 0);
    assert_int_equal(by_hand(f, "BEGIN", NULL, 0), 0);
    assert_int_equal(
        by_hand(f, "INSERT INTO privacy_guard (id, op) VALUES (1, 'truncate')", NULL, 0), 0);
    assert_int_equal(by_hand(f, "UPDATE events SET client = '192.0.2.0'", NULL, 0), 0);
    assert_int_equal(by_hand(f, "UPDATE events SET client = '192.0.2.0 longer'", msg, sizeof msg),
                     -1);
    assert_int_equal(by_hand(f, "ROLLBACK", NULL, 0), 0);
    assert_int_equal(one_int(f, "SELECT count(*) FROM events WHERE client = '192.0.2.1'"), 3);
}

/* Retention drops the months that lie wholly before the cutoff, deletes the
 * older rows of the month it falls in under the guard, and counts all of them
 * into rollups first. */
static void test_retention_drops_partitions(void **state)
{
    struct fixture *f = *state;
    const int64_t day = INT64_C(86400000000), march = 59 * day; /* 1970-03-01 */
    struct homing_event ev[5];
    memset(ev, 0, sizeof ev);
    const int64_t times[5] = {1000, 2000, march + 10, march + 2 * day, DEC_2026_US};
    for (int i = 0; i < 5; i++) {
        ev[i].kind = HOMING_EV_OPEN;
        ev[i].method = HOMING_METHOD_GET;
        ev[i].message = 11;
        ev[i].time_us = times[i];
    }
    assert_int_equal(homing_store_events_append(f->s, ev, 5), 0);
    assert_int_equal(one_int(f, "SELECT count(*) FROM pg_inherits "
                                "WHERE inhparent = 'events'::regclass"),
                     3);
    int64_t rolled = 0, deleted = 0;
    assert_int_equal(homing_store_privacy_retention(f->s, march + day, &rolled, &deleted), 0);
    assert_int_equal(deleted, 3);
    assert_int_equal(rolled, 3);
    assert_int_equal(one_int(f, "SELECT count(*) FROM pg_class WHERE relname = 'events_197001' "
                                "AND relnamespace = current_schema()::regnamespace"),
                     0);
    assert_int_equal(one_int(f, "SELECT count(*) FROM events_197003"), 1);
    int64_t n;
    assert_int_equal(homing_store_events_count(f->s, 0, &n), 0);
    assert_int_equal(n, 2);
    struct homing_rollup *ru;
    size_t nr;
    assert_int_equal(homing_store_rollups_list(f->s, 11, &ru, &nr), 0);
    assert_int_equal(nr, 2);
    assert_string_equal(ru[0].day, "1970-01-01");
    assert_int_equal(ru[0].count, 2);
    assert_string_equal(ru[1].day, "1970-03-01");
    assert_int_equal(ru[1].count, 1);
    assert_string_equal(ru[1].method, "GET");
    homing_rollups_free(ru, nr);
    /* the guard is gone with the transaction */
    assert_int_equal(one_int(f, "SELECT count(*) FROM privacy_guard"), 0);
}

/* A connection the server dropped fails the call that finds it gone, and
 * the next call reconnects (statements prepared again), storing whole
 * batches only. */
static void test_reconnect(void **state)
{
    struct fixture *f = *state;
    append_two_months(f);
    assert_int_equal(one_int(f, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                "AND backend_type = 'client backend'"),
                     1);
    int64_t n = -1;
    int r = homing_store_events_count(f->s, 0, &n);
    if (r < 0) {
        assert_int_equal(r, -EIO);
        r = homing_store_events_count(f->s, 0, &n);
    }
    assert_int_equal(r, 0);
    assert_int_equal(n, 3);
    append_two_months(f);
    assert_int_equal(homing_store_events_count(f->s, 0, &n), 0);
    assert_int_equal(n, 6);
}

/* Header fields come from the network: bytes that are not UTF-8 (which a
 * UTF-8 database refuses, failing the whole batch) are stored as '?', and the
 * rest of the batch goes in. */
static void test_header_bytes_not_utf8(void **state)
{
    struct fixture *f = *state;
    struct homing_event ev[2];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 2; i++) {
        ev[i].kind = HOMING_EV_OPEN;
        ev[i].method = HOMING_METHOD_GET;
        ev[i].message = 9;
        ev[i].time_us = DEC_2026_US + i;
    }
    strcpy(ev[0].user_agent, "Mozilla \xff\xfe ok \xc3\xa9");
    strcpy(ev[0].via, "1.1 \xe2\x82");         /* a cut sequence */
    strcpy(ev[0].from, "a@b \xed\xa0\x80");    /* a surrogate */
    strcpy(ev[1].accept_language, "\xc0\xaf"); /* overlong */
    assert_int_equal(homing_store_events_append(f->s, ev, 2), 0);
    struct homing_event *out;
    size_t n;
    assert_int_equal(homing_store_events_list(f->s, 9, 0, 10, &out, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].user_agent, "Mozilla ?? ok \xc3\xa9");
    assert_string_equal(out[0].via, "1.1 ??");
    assert_string_equal(out[0].from, "a@b ???");
    assert_string_equal(out[1].accept_language, "??");
    homing_events_free(out, n);
    /* the caller's events are not changed */
    assert_string_equal(ev[0].user_agent, "Mozilla \xff\xfe ok \xc3\xa9");
}

/* Each of the backend's statements is prepared once per connection, whatever
 * order they are first used in (a 64-bit mask of prepared statements took
 * statement 69, document_list's, for statement 5, a message's recipients). */
static void test_statements_any_order(void **state)
{
    struct fixture *f = *state;
    const char *rcpts[] = {"bob@example.org"};
    struct homing_message_spec m = {
        .mode = HOMING_MODE_PER_RECIPIENT, .recipients = rcpts, .n_recipients = 1};
    uint64_t id;
    assert_int_equal(homing_store_message_add(f->s, &m, &id), 0);
    struct homing_store *s2;
    char err[256];
    assert_int_equal(homing_store_open(f->url, NULL, "normal", &s2, err, sizeof err), 0);
    struct homing_document *docs = NULL;
    size_t n = 9;
    assert_int_equal(homing_store_document_list(s2, &docs, &n), 0);
    assert_int_equal(n, 0);
    struct homing_delivery *d = NULL;
    assert_int_equal(homing_store_deliveries_due_fair(s2, 0, 1, 1, &d, &n), 0);
    struct homing_message *got;
    assert_int_equal(homing_store_message_get(s2, id, &got), 0);
    assert_int_equal(got->n_recipients, 1);
    homing_message_free(got);
    homing_store_close(s2);
}

/* Rows in one query's answer and not the other's, both ways (0: equal). */
static long long differ(struct fixture *f, const char *a, const char *b)
{
    char sql[4096];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) x) + "
             "(SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) y)",
             a, b, b, a);
    PGresult *res = PQexec(f->db, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(res));
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    long long n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

/* Every counter table of migration 0008 equals a count from scratch of the
 * enrichments, events and recipients it sums. */
static void check_counters(struct fixture *f)
{
    assert_int_equal(
        differ(f,
               "SELECT message, recipient, opens_human, opens_machine, opens_unknown, "
               "clicks_human, clicks_machine, clicks_unknown, docs_human, docs_machine, "
               "docs_unknown FROM recipient_stats",
               "SELECT message, recipient, "
               "sum((kind = 'open' AND " SQL_HUMAN ")::int), "
               "sum((kind = 'open' AND " SQL_MACHINE ")::int), "
               "sum((kind = 'open' AND " SQL_UNKNOWN ")::int), "
               "sum((kind = 'click' AND " SQL_HUMAN ")::int), "
               "sum((kind = 'click' AND " SQL_MACHINE ")::int), "
               "sum((kind = 'click' AND " SQL_UNKNOWN ")::int), "
               "sum((kind = 'document-open' AND " SQL_HUMAN ")::int), "
               "sum((kind = 'document-open' AND " SQL_MACHINE ")::int), "
               "sum((kind = 'document-open' AND " SQL_UNKNOWN ")::int) "
               "FROM enrichments GROUP BY message, recipient"),
        0);
    assert_int_equal(differ(f,
                            "SELECT message, link, recipient, human, machine, unknown "
                            "FROM link_stats",
                            "SELECT message, item, recipient, sum((" SQL_HUMAN ")::int), "
                            "sum((" SQL_MACHINE ")::int), sum((" SQL_UNKNOWN ")::int) "
                            "FROM enrichments WHERE kind = 'click' "
                            "GROUP BY message, item, recipient"),
                     0);
    assert_int_equal(differ(f,
                            "SELECT message, hour, kind, class, count FROM hourly_stats "
                            "WHERE count != 0 AND class != ''",
                            "SELECT message, time_us / 3600000000, kind, " SQL_CLASS
                            ", count(*) FROM enrichments GROUP BY 1, 2, 3, 4"),
                     0);
    assert_int_equal(differ(f,
                            "SELECT message, hour, kind, count FROM hourly_stats WHERE class = ''",
                            "SELECT message, time_us / 3600000000, kind, count(*) FROM events "
                            "WHERE kind IN ('sent', 'bounced') GROUP BY 1, 2, 3"),
                     0);
    assert_int_equal(differ(f, "SELECT message, recipient, reason, hard FROM recipient_bounces",
                            "SELECT DISTINCT ON (message, recipient) message, recipient, "
                            "coalesce(detail::jsonb ->> 'reason', ''), "
                            "coalesce(detail::jsonb -> 'hard' = 'true'::jsonb, false)::int "
                            "FROM events WHERE kind = 'bounced' "
                            "ORDER BY message, recipient, time_us DESC"),
                     0);
    assert_int_equal(
        differ(f,
               "SELECT message, opens_human, opens_machine, opens_unknown, clicks_human, "
               "clicks_machine, clicks_unknown, docs_human, docs_machine, docs_unknown, "
               "openers_human, openers_machine, openers_unknown, openers_all, clickers_human, "
               "clickers_machine, clickers_unknown, clickers_all FROM message_stats",
               "SELECT message, sum(opens_human), sum(opens_machine), sum(opens_unknown), "
               "sum(clicks_human), sum(clicks_machine), sum(clicks_unknown), sum(docs_human), "
               "sum(docs_machine), sum(docs_unknown), sum((opens_human > 0)::int), "
               "sum((opens_machine > 0)::int), sum((opens_unknown > 0)::int), "
               "sum((opens_human + opens_machine + opens_unknown > 0)::int), "
               "sum((clicks_human > 0)::int), sum((clicks_machine > 0)::int), "
               "sum((clicks_unknown > 0)::int), "
               "sum((clicks_human + clicks_machine + clicks_unknown > 0)::int) "
               "FROM recipient_stats GROUP BY message"),
        0);
    assert_int_equal(differ(f,
                            "SELECT message, link, human, machine, unknown, clickers_human, "
                            "clickers_machine, clickers_unknown, clickers_all FROM link_totals",
                            "SELECT message, link, sum(human), sum(machine), sum(unknown), "
                            "sum((human > 0)::int), sum((machine > 0)::int), "
                            "sum((unknown > 0)::int), sum((human + machine + unknown > 0)::int) "
                            "FROM link_stats GROUP BY message, link"),
                     0);
    assert_int_equal(differ(f, "SELECT message, state, count FROM message_states WHERE count != 0",
                            "SELECT message, state, count(*) FROM recipients GROUP BY 1, 2"),
                     0);
}

/* Enrichments stored in batches of every size, with many recipients, links,
 * hours, kinds and verdicts mixed in each (and some rewritten by a
 * reclassify), delivery reports and state changes: every counter table of
 * migration 0008 equals a count from scratch (the batches' upserts of
 * pg_enrichments_put, the triggers on recipient_stats, link_stats, events,
 * recipients and the reclassify's on enrichments). Then 0008 is applied
 * again to this store: its backfill counts the same. */
static void test_batch_counters(void **state)
{
    struct fixture *f = *state;
    struct batch_feed feed;
    batch_feed(f->s, 600, 120, 41, &feed);
    /* the first human open and click, before the reclassify (which does not
     * move them back) */
    assert_int_equal(differ(f,
                            "SELECT message, recipient, first_human_open_us, first_human_click_us "
                            "FROM recipient_stats",
                            "SELECT message, recipient, "
                            "min(time_us) FILTER (WHERE kind = 'open' AND " SQL_HUMAN "), "
                            "min(time_us) FILTER (WHERE kind = 'click' AND " SQL_HUMAN ") "
                            "FROM enrichments GROUP BY message, recipient"),
                     0);
    batch_feed_reclassify(f->s, &feed);
    /* delivery reports (the later bounce of a recipient wins) and states */
    struct homing_event ev[3];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 3; i++) {
        ev[i].message = feed.msgs[0];
        ev[i].recipient = 2;
        ev[i].time_us = 1700000000000000LL + i;
    }
    ev[0].kind = HOMING_EV_SENT;
    ev[1].kind = ev[2].kind = HOMING_EV_BOUNCED;
    ev[1].detail = "{\"reason\":\"mailboxfull\"}";
    ev[2].detail = "{\"reason\":\"userunknown\",\"hard\":true}";
    assert_int_equal(homing_store_events_append(f->s, ev, 3), 0);
    assert_int_equal(homing_store_recipient_set_state(f->s, feed.msgs[0], 2, "bounced", 1), 0);
    assert_int_equal(homing_store_recipient_set_state(f->s, feed.msgs[1], 1, "delivered", 1), 0);
    check_counters(f);
    assert_true(one_int(f, "SELECT count(*) FROM hourly_stats") >= 30);

    /* 0008 again, on a store with data: the backfill counts the same (open
     * applies every migration without its row, not only the newest). */
    homing_store_close(f->s);
    f->s = NULL;
    char msg[512];
    if (by_hand(f,
                "DROP TABLE recipient_stats, link_stats, hourly_stats, recipient_bounces, "
                "message_stats, message_states, link_totals CASCADE; "
                "DROP FUNCTION homing_stats_recipient, homing_stats_link, homing_stats_state, "
                "homing_stats_event_delivery, homing_stats_reclass, homing_stats_state_added "
                "CASCADE; "
                "DROP FUNCTION homing_verdict_class CASCADE; "
                "DELETE FROM schema_migrations WHERE version = 8",
                msg, sizeof msg) < 0)
        fail_msg("dropping 0008: %s", msg);
    char err[256];
    assert_int_equal(homing_store_open(f->url, NULL, "normal", &f->s, err, sizeof err), 0);
    check_counters(f);
}

static void test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(
        by_hand(f, "INSERT INTO schema_migrations (version, applied_us) VALUES (999, 0)", NULL, 0),
        0);
    char err[256];
    struct homing_store *s = NULL;
    assert_int_equal(homing_store_open(f->url, NULL, "normal", &s, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "newer than this homing knows"));
    assert_null(s);
}

static void test_bad_urls(void **state)
{
    struct fixture *f = *state;
    char err[256], url[URL_MAX];
    struct homing_store *s = NULL;
    snprintf(url, sizeof url, "%.*s&schema=a-b", (int)(strstr(f->url, "&schema=") - f->url),
             f->url);
    assert_int_equal(homing_store_open(url, NULL, "normal", &s, err, sizeof err), -EINVAL);
    assert_int_equal(homing_store_open("postgresql:nohost", NULL, "normal", &s, err, sizeof err),
                     -EINVAL);
    /* sync = full is SQLite's: PostgreSQL's durability is the server's. */
    assert_int_equal(homing_store_open(f->url, NULL, "full", &s, err, sizeof err), -ENOTSUP);
    /* A schema no store was made in: inspect says so without creating it. */
    snprintf(url, sizeof url, "%.*s&schema=never_made", (int)(strstr(f->url, "&schema=") - f->url),
             f->url);
    int v, latest;
    assert_int_equal(homing_store_inspect(url, NULL, &v, &latest, err, sizeof err), -ENOENT);
    /* A server that is not there fails within the connect timeout. */
    assert_int_equal(
        homing_store_open("postgresql:///x?host=/nonexistent", NULL, "normal", &s, err, sizeof err),
        -EIO);
    assert_non_null(strstr(err, "connecting"));
    assert_null(s);
}

/* Milliseconds of sleep between the polls of the tests below, and how many:
 * a terminated backend leaves (and frees its locks) a little after the call. */
#define POLL_MS    50
#define POLL_TIMES 200

static struct homing_store *open_again(struct fixture *f)
{
    struct homing_store *s;
    char err[256];
    assert_int_equal(homing_store_open(f->url, NULL, "normal", &s, err, sizeof err), 0);
    return s;
}

/* The leader lock (issue #14 item 4): one handle holds it, others are told
 * no; a handle whose session ends answers 0 (or an error) once, even though
 * it could take the lock again at once; closing the holder lets another in. */
static void test_leader_lock(void **state)
{
    struct fixture *f = *state;
    assert_true(homing_store_caps(f->s) & HOMING_STORE_CAP_LEADER);
    struct homing_store *a = open_again(f), *b = open_again(f);
    int la = -1, lb = -1;
    assert_int_equal(homing_store_leader(a, &la), 0);
    assert_int_equal(la, 1);
    assert_int_equal(homing_store_leader(b, &lb), 0);
    assert_int_equal(lb, 0);
    assert_int_equal(homing_store_leader(a, &la), 0);
    assert_int_equal(la, 1);
    /* The holder's session ends (a node killed, its connection cut). */
    assert_int_equal(one_int(f, "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                                "WHERE locktype = 'advisory' AND objsubid = 2 AND granted "
                                "AND database = (SELECT oid FROM pg_database "
                                "WHERE datname = current_database())"),
                     1);
    lb = 0;
    for (int i = 0; i < POLL_TIMES && !lb; i++) {
        assert_int_equal(homing_store_leader(b, &lb), 0);
        if (!lb) usleep(POLL_MS * 1000);
    }
    assert_int_equal(lb, 1);
    int r = homing_store_leader(a, &la);
    if (r == 0) assert_int_equal(la, 0); /* the loss, seen once */
    assert_int_equal(homing_store_leader(a, &la), 0);
    assert_int_equal(la, 0); /* reconnected; b holds it */
    homing_store_close(b);
    la = 0;
    for (int i = 0; i < POLL_TIMES && !la; i++) {
        assert_int_equal(homing_store_leader(a, &la), 0);
        if (!la) usleep(POLL_MS * 1000);
    }
    assert_int_equal(la, 1);
    /* Another store (schema) has a leader of its own. */
    struct fixture other = *f;
    snprintf(other.schema, sizeof other.schema, "pgonly_%ld_other", (long)getpid());
    const char *tmpl = getenv("HOMING_TEST_STORE_POSTGRESQL");
    snprintf(other.url, sizeof other.url, tmpl, other.schema);
    struct homing_store *c = open_again(&other);
    int lc = 0;
    assert_int_equal(homing_store_leader(c, &lc), 0);
    assert_int_equal(lc, 1);
    homing_store_close(c);
    homing_store_close(a);
}

/* Outbox claims: one handle's claim keeps every other handle out until the
 * delivery is recorded or the lease (on the server's clock) has run out. */
static void test_delivery_claims(void **state)
{
    struct fixture *f = *state;
    int64_t hook = 0, id = 0;
    assert_int_equal(homing_store_webhook_add(f->s, "https://example.org/h", "*", "k", &hook), 0);
    struct homing_notification_spec n = {
        .kind = "open", .message = 9, .recipient = 1, .event = 1, .text = "t", .payload = "{}"};
    assert_int_equal(homing_store_notification_add(f->s, &n, &id), 0);
    struct homing_store *b = open_again(f);
    const int64_t lease = 60 * 1000000LL;
    assert_int_equal(homing_store_delivery_claim(f->s, id, hook, lease), 1);
    assert_int_equal(homing_store_delivery_claim(b, id, hook, lease), 0);
    assert_int_equal(homing_store_delivery_claim(f->s, id, hook, lease), 1); /* its own */
    /* The claim of a deliverer that died runs out with its lease. */
    assert_int_equal(
        by_hand(f, "UPDATE deliveries SET claimed_until_us = homing_clock_us() - 1", NULL, 0), 0);
    assert_int_equal(homing_store_delivery_claim(b, id, hook, lease), 1);
    assert_int_equal(homing_store_delivery_claim(f->s, id, hook, lease), 0);
    /* A failed attempt ends the claim (the retry waits for next_attempt). */
    assert_int_equal(homing_store_delivery_result(b, id, hook, 0, homing_now_us() + 1, "500"), 0);
    assert_int_equal(one_int(f, "SELECT count(*) FROM deliveries WHERE claimed_by IS NULL"), 1);
    assert_int_equal(homing_store_delivery_claim(f->s, id, hook, lease), 1);
    assert_int_equal(homing_store_delivery_result(f->s, id, hook, 1, 0, NULL), 0);
    /* Finished: nobody claims it again. */
    assert_int_equal(homing_store_delivery_claim(b, id, hook, lease), 0);
    assert_int_equal(homing_store_delivery_claim(f->s, id, hook, lease), 0);
    assert_int_equal(homing_store_delivery_claim(f->s, id, hook, 0), -EINVAL);
    homing_store_close(b);
}

/* LISTEN: a handle hears events and notifications other handles commit to
 * its store (not another store's, not a rolled-back one's). */
static void test_listen(void **state)
{
    struct fixture *f = *state;
    assert_true(homing_store_caps(f->s) & HOMING_STORE_CAP_LISTEN);
    struct homing_store *l = open_again(f);
    unsigned woke = 0;
    assert_int_equal(homing_store_listen_wait(l, 0, &woke), 0);
    assert_int_equal(woke, HOMING_STORE_WOKE_EVENTS | HOMING_STORE_WOKE_NOTIFICATIONS);
    assert_int_equal(homing_store_listen_wait(l, 0, &woke), 0);
    assert_int_equal(woke, 0);
    append_two_months(f);
    unsigned all = 0;
    for (int i = 0; i < POLL_TIMES && !(all & HOMING_STORE_WOKE_EVENTS); i++) {
        assert_int_equal(homing_store_listen_wait(l, POLL_MS, &woke), 0);
        all |= woke;
    }
    assert_int_equal(all, HOMING_STORE_WOKE_EVENTS);
    struct homing_notification_spec n = {
        .kind = "open", .message = 9, .recipient = 1, .event = 1, .text = "t", .payload = "{}"};
    assert_int_equal(homing_store_notification_add(f->s, &n, NULL), 0);
    all = 0;
    for (int i = 0; i < POLL_TIMES && !(all & HOMING_STORE_WOKE_NOTIFICATIONS); i++) {
        assert_int_equal(homing_store_listen_wait(l, POLL_MS, &woke), 0);
        all |= woke;
    }
    assert_int_equal(all, HOMING_STORE_WOKE_NOTIFICATIONS);
    /* another store's, and a transaction rolled back: nothing */
    assert_int_equal(by_hand(f, "SELECT pg_notify('homing_events', 'someone_else')", NULL, 0), 0);
    assert_int_equal(by_hand(f, "BEGIN", NULL, 0), 0);
    assert_int_equal(by_hand(f,
                             "INSERT INTO notifications (time_us, kind, message, text, payload) "
                             "VALUES (1, 'open', 9, 't', '{}')",
                             NULL, 0),
                     0);
    assert_int_equal(by_hand(f, "ROLLBACK", NULL, 0), 0);
    assert_int_equal(homing_store_listen_wait(l, 300, &woke), 0);
    assert_int_equal(woke, 0);
    /* A lost session: an error or a fresh start, which says "anything". */
    assert_int_equal(
        one_int(f, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                   "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                   "AND backend_type = 'client backend' AND query LIKE '%current_schema%'"),
        1);
    int r = 0;
    woke = 0;
    for (int i = 0; i < POLL_TIMES && r == 0 && !woke; i++)
        r = homing_store_listen_wait(l, POLL_MS, &woke);
    if (r == 0)
        assert_int_equal(woke, HOMING_STORE_WOKE_EVENTS | HOMING_STORE_WOKE_NOTIFICATIONS);
    else
        assert_int_equal(r, -EIO);
    assert_int_equal(homing_store_listen_wait(l, 0, &woke), 0);
    if (r < 0) assert_int_equal(woke, HOMING_STORE_WOKE_EVENTS | HOMING_STORE_WOKE_NOTIFICATIONS);
    homing_store_close(l);
}

/* A store written before it was sealed: opened with the key, pg_dump of its
 * schema names neither the address nor the clients in clear. */
static void test_seal_dump(void **state)
{
    struct fixture *f = *state;
    const char *tmpl = getenv("HOMING_TEST_STORE_POSTGRESQL");
    char schema[128], url[URL_MAX], conninfo[URL_MAX], dumpf[] = "/tmp/homing-pgdump-XXXXXX";
    snprintf(schema, sizeof schema, "%s_seal", f->schema);
    snprintf(url, sizeof url, tmpl, schema);
    pg_fixture_conninfo(url, conninfo, sizeof conninfo);
    int fd = mkstemp(dumpf);
    assert_true(fd >= 0);
    close(fd);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "pg_dump --no-owner -n '%s' '%s' > '%s'", schema, conninfo, dumpf);
    uint64_t msg;
    seal_scenario_fill(url, &msg);
    assert_int_equal(system(cmd), 0);
    assert_true(seal_scenario_grep(dumpf, SEAL_ADDR) > 0); /* the test can fail */
    seal_scenario_open(url, msg);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(seal_scenario_grep(dumpf, SEAL_ADDR), 0);
    assert_int_equal(seal_scenario_grep(dumpf, SEAL_CLIENT), 0);
    assert_int_equal(seal_scenario_grep(dumpf, SEAL_CLIENT6), 0);
    assert_true(seal_scenario_grep(dumpf, HOMING_SEAL_PREFIX) > 0);
    homing_store_seal_use(NULL);
    unlink(dumpf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_by_both_schemes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partitions_by_month, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_drops_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_bytes_not_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statements_any_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_urls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leader_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivery_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_dump, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
