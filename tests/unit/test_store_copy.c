/*
 * test_store_copy.c: homing_store_copy (homing/store_copy.h), a SQLite store
 * copied into PostgreSQL, beside a private server (tests/pg_cluster.py sets
 * HOMING_TEST_STORE_POSTGRESQL). Checked: events in batches of 10,000 with a
 * progress call each, over three months (three partitions), ids as they were
 * and every field equal, header bytes that are not UTF-8 stored as '?' and
 * counted, the sequences moved past the copied ids and past SQLite's
 * AUTOINCREMENT mark (the newest event forgotten before the copy), the insert
 * triggers on again and the append-only guard whole afterwards; refused: a
 * target with data (-EEXIST), a source whose write lock is held (-EBUSY),
 * backends the wrong way round (-ENOTSUP), a source column with data the
 * target lacks (-EPROTO) after which the target is still empty and a retry
 * copies; a dry run writes nothing.
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
#include <sqlite3.h>

#include "homing/event.h"
#include "homing/store.h"
#include "homing/store_copy.h"
#include "pg_fixture.h"

#define URL_MAX      512
#define EVENTS       25000                    /* 3 COPY batches */
#define MONTH_US     (30LL * 86400 * 1000000) /* Jan 1 + 90 days: April 1 */
#define T0_US        1767225600000000LL       /* 2026-01-01 */
#define BAD_UA_EVERY 5000 /* every Nth event has a User-Agent that is not UTF-8 */

struct fixture {
    char dir[64];
    char src_url[128];
    struct homing_store *src;
    char tmpl[URL_MAX];
};

static int targets; /* target schemas made so far */

static int setup(void **state)
{
    const char *tmpl = pg_fixture_template();
    struct fixture *f = tmpl ? calloc(1, sizeof *f) : NULL;
    if (!f) return -1;
    snprintf(f->tmpl, sizeof f->tmpl, "%s", tmpl);
    snprintf(f->dir, sizeof f->dir, "/tmp/homing-copy.XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->src_url, sizeof f->src_url, "sqlite:%s/homing.db", f->dir);
    char err[256];
    if (homing_store_open(f->src_url, NULL, "normal", &f->src, err, sizeof err) < 0) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    homing_store_close(f->src);
    char p[128];
    const char *names[] = {"homing.db", "homing.db-wal", "homing.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", f->dir, names[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* A fresh target schema's URL. */
static void target_url(struct fixture *f, char *out, size_t cap)
{
    char schema[64];
    snprintf(schema, sizeof schema, "copy_%ld_%d", (long)getpid(), targets++);
    snprintf(out, cap, f->tmpl, schema);
}

static struct homing_store *open_url(const char *url)
{
    struct homing_store *s = NULL;
    char err[256];
    int r = homing_store_open(url, NULL, "normal", &s, err, sizeof err);
    if (r < 0) fprintf(stderr, "open %s: %s\n", url, err);
    assert_int_equal(r, 0);
    return s;
}

/* The same store by hand, in its schema. */
static PGconn *by_hand(const char *url)
{
    PGconn *c = pg_fixture_connect(url, 1);
    assert_non_null(c);
    return c;
}

static int64_t one_int(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    int64_t v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

static uint64_t fill(struct fixture *f)
{
    const char *rcpts[] = {"bob@example.net", "gone@example.org"};
    const char *links[] = {"https://example.com/x"};
    struct homing_message_spec m = {.subject = "s",
                                    .sender = "a@example.org",
                                    .recipients = rcpts,
                                    .n_recipients = 2,
                                    .links = links,
                                    .n_links = 1};
    uint64_t id;
    assert_int_equal(homing_store_message_add(f->src, &m, &id), 0);
    struct homing_event *evs = calloc(1000, sizeof *evs);
    assert_non_null(evs);
    for (int done = 0; done < EVENTS; done += 1000) {
        for (int i = 0; i < 1000; i++) {
            struct homing_event *e = &evs[i];
            int k = done + i;
            memset(e, 0, sizeof *e);
            e->time_us = T0_US + (int64_t)k * (3 * MONTH_US / EVENTS);
            e->kind = k % 7 ? HOMING_EV_OPEN : HOMING_EV_CLICK;
            e->method = HOMING_METHOD_GET;
            e->message = id;
            e->recipient = 1;
            e->item = e->kind == HOMING_EV_CLICK;
            snprintf(e->client, sizeof e->client, "192.0.2.%d", k % 250);
            snprintf(e->user_agent, sizeof e->user_agent, "%s%d",
                     k % BAD_UA_EVERY == 1 ? "caf\xe9 \\ tab\t" : "UA ", k);
        }
        assert_int_equal(homing_store_events_append(f->src, evs, 1000), 0);
    }
    /* the newest event is gone@'s, and forgotten: SQLite's AUTOINCREMENT
     * mark is then past every id left */
    memset(&evs[0], 0, sizeof evs[0]);
    evs[0].time_us = T0_US + 3 * MONTH_US - 1;
    evs[0].kind = HOMING_EV_OPEN;
    evs[0].method = HOMING_METHOD_GET;
    evs[0].message = id;
    evs[0].recipient = 2;
    assert_int_equal(homing_store_events_append(f->src, evs, 1), 0);
    struct homing_forget_result fr;
    assert_int_equal(homing_store_privacy_forget(f->src, "gone@example.org", &fr), 0);
    uint8_t hash[32] = {1, 2, 3};
    int64_t kid;
    assert_int_equal(homing_store_api_key_add(f->src, "k", hash, 1, &kid), 0);
    free(evs);
    return id;
}

struct seen {
    int calls;
    int64_t last_done, last_total;
    int64_t event_batches[8];
    int nevent;
};

static void progress(void *arg, const char *table, int64_t done, int64_t total)
{
    struct seen *s = arg;
    s->calls++;
    if (strcmp(table, "events") == 0 && s->nevent < 8) s->event_batches[s->nevent++] = done;
    s->last_done = done;
    s->last_total = total;
}

static void test_copy(void **state)
{
    struct fixture *f = *state;
    uint64_t msg = fill(f);
    char url[URL_MAX], err[512];
    target_url(f, url, sizeof url);
    struct homing_store *dst = open_url(url);
    struct homing_store_copy_result res;
    /* a dry run writes nothing */
    assert_int_equal(homing_store_copy(f->src, dst, HOMING_STORE_COPY_DRY_RUN, NULL, NULL, &res,
                                       err, sizeof err),
                     0);
    homing_store_copy_result_free(&res);
    int64_t n = -1;
    assert_int_equal(homing_store_events_count(dst, 0, &n), 0);
    assert_int_equal(n, 0);

    struct seen seen = {0};
    int r = homing_store_copy(f->src, dst, 0, progress, &seen, &res, err, sizeof err);
    if (r < 0) fprintf(stderr, "copy: %s\n", err);
    assert_int_equal(r, 0);
    assert_int_equal(seen.nevent, 3);
    assert_int_equal(seen.event_batches[0], 10000);
    assert_int_equal(seen.event_batches[1], 20000);
    assert_int_equal(seen.event_batches[2], EVENTS);
    assert_int_equal(res.text_fixed, EVENTS / BAD_UA_EVERY);
    int found = 0;
    for (size_t i = 0; i < res.n; i++) {
        assert_int_equal(res.tables[i].rows, res.tables[i].copied);
        if (strcmp(res.tables[i].name, "events") == 0) {
            found = 1;
            assert_int_equal(res.tables[i].copied, EVENTS);
        }
    }
    assert_true(found);
    homing_store_copy_result_free(&res);

    /* every event as it was, but the bytes PostgreSQL refuses */
    int64_t after = 0, max_id = 0;
    for (;;) {
        struct homing_event *a, *b;
        size_t na, nb;
        assert_int_equal(homing_store_events_list(f->src, 0, after, 5000, &a, &na), 0);
        assert_int_equal(homing_store_events_list(dst, 0, after, 5000, &b, &nb), 0);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_int_equal(a[i].id, b[i].id);
            assert_int_equal(a[i].time_us, b[i].time_us);
            assert_int_equal(a[i].kind, b[i].kind);
            assert_int_equal(a[i].item, b[i].item);
            assert_string_equal(a[i].client, b[i].client);
            if (strchr(a[i].user_agent, '\xe9')) {
                *strchr(a[i].user_agent, '\xe9') = '?';
                assert_memory_equal(b[i].user_agent, "caf? \\ tab\t", 11);
            }
            assert_string_equal(a[i].user_agent, b[i].user_agent);
            max_id = a[i].id;
        }
        homing_events_free(a, na);
        homing_events_free(b, nb);
        if (!na) break;
        after = max_id;
    }
    PGconn *c = by_hand(url);
    assert_int_equal(one_int(c, "SELECT count(*) FROM pg_inherits "
                                "WHERE inhparent = 'events'::regclass"),
                     3);
    assert_int_equal(one_int(c, "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal "
                                "AND tgenabled <> 'O' AND tgrelid IN (SELECT oid FROM pg_class "
                                "WHERE relnamespace = current_schema()::regnamespace)"),
                     0);
    PGresult *u = PQexec(c, "UPDATE events SET kind = kind");
    assert_int_not_equal(PQresultStatus(u), PGRES_COMMAND_OK);
    assert_non_null(strstr(PQresultErrorMessage(u), "append-only"));
    PQclear(u);
    PQfinish(c);

    /* a new event's id is past the forgotten one (EVENTS + 1), a new key's
     * past the copied key */
    struct homing_event e = {.time_us = T0_US,
                             .kind = HOMING_EV_OPEN,
                             .method = HOMING_METHOD_GET,
                             .message = msg,
                             .recipient = 1};
    assert_int_equal(homing_store_events_append(dst, &e, 1), 0);
    assert_int_equal(max_id, EVENTS);
    assert_true(e.id > EVENTS + 1);
    uint8_t hash[32] = {9};
    int64_t kid;
    assert_int_equal(homing_store_api_key_add(dst, "k2", hash, 1, &kid), 0);
    assert_int_equal(kid, 2);

    /* again into the same target: it holds data now */
    assert_int_equal(homing_store_copy(f->src, dst, 0, NULL, NULL, &res, err, sizeof err), -EEXIST);
    assert_non_null(strstr(err, "holds data"));
    /* the wrong way round */
    assert_int_equal(homing_store_copy(dst, f->src, 0, NULL, NULL, &res, err, sizeof err),
                     -ENOTSUP);
    homing_store_close(dst);
}

static void test_refusals(void **state)
{
    struct fixture *f = *state;
    fill(f);
    char url[URL_MAX], err[512], db[128];
    target_url(f, url, sizeof url);
    struct homing_store *dst = open_url(url);
    struct homing_store_copy_result res;
    snprintf(db, sizeof db, "%s/homing.db", f->dir);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    /* a writer holds the lock: refused once the busy timeout ran out */
    assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(homing_store_copy(f->src, dst, 0, NULL, NULL, &res, err, sizeof err), -EBUSY);
    assert_non_null(strstr(err, "homing serve"));
    assert_int_equal(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    /* a column with data the target has no place for */
    assert_int_equal(sqlite3_exec(h,
                                  "ALTER TABLE messages ADD COLUMN extra TEXT; "
                                  "UPDATE messages SET extra = 'x'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(homing_store_copy(f->src, dst, 0, NULL, NULL, &res, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "messages.extra"));
    int64_t n = -1;
    assert_int_equal(homing_store_events_count(dst, 0, &n), 0);
    assert_int_equal(n, 0);
    /* a table with data the target has no place for */
    assert_int_equal(sqlite3_exec(h,
                                  "UPDATE messages SET extra = NULL; CREATE TABLE extra_things "
                                  "(x INTEGER); INSERT INTO extra_things VALUES (1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(homing_store_copy(f->src, dst, 0, NULL, NULL, &res, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "extra_things"));
    /* without data neither matters: the retry copies */
    assert_int_equal(sqlite3_exec(h, "DELETE FROM extra_things", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(homing_store_copy(f->src, dst, 0, NULL, NULL, &res, err, sizeof err), 0);
    homing_store_copy_result_free(&res);
    assert_int_equal(homing_store_events_count(dst, 0, &n), 0);
    assert_int_equal(n, EVENTS);
    homing_store_close(dst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
