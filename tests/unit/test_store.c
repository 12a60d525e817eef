/*
 * test_store.c: the store through its public API, on every backend of the
 * build (store_backends.h): the schema at the newest version, messages, links,
 * recipient states, event batches (ids, all-or-nothing), listing with a
 * cursor, counts, reports, API keys, several handles and processes, and a
 * crash. Each test gets a store nothing has used. The SQLite backend's own
 * checks (URLs and paths, migrations refused, triggers, files) are in
 * test_store_sqlite.c.
 *
 * test_append_throughput also measures the daemon's group-commit path (100k
 * events in batches of 256) and prints events/s.
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
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homing/apikey.h"
#include "homing/store.h"
#include "homing/util.h"
#include "store_backends.h"

struct fixture {
    char dir[64];
    char url[STORE_TEST_URL_MAX];
    struct homing_store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/homing-test-store-XXXXXX");
    if (store_test_make(f->dir, "homing", f->url, sizeof f->url, &f->s) < 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int r = store_test_drop(f->s, f->dir);
    free(f);
    return r;
}

static uint64_t add_message(struct homing_store *s, const char *mid, size_t nr, size_t nl)
{
    static const char *const rcpts[] = {"bob@example.org", "carol@example.org", "dave@example.net"};
    static const char *const links[] = {"https://example.com/a?x=1&y=2", "https://example.com/b"};
    struct homing_message_spec m = {
        .message_id = mid,
        .subject = "Quarterly numbers",
        .sender = "alice@example.com",
        .mode = HOMING_MODE_PER_RECIPIENT,
        .recipients = rcpts,
        .n_recipients = nr,
        .links = links,
        .n_links = nl,
    };
    uint64_t id = 0;
    assert_int_equal(homing_store_message_add(s, &m, &id), 0);
    assert_true(id != 0);
    return id;
}

static void make_event(struct homing_event *e, uint64_t msg, uint32_t rcpt, unsigned kind,
                       unsigned method, uint32_t item, int64_t t)
{
    memset(e, 0, sizeof *e);
    e->time_us = t;
    e->kind = (uint16_t)kind;
    e->method = (uint8_t)method;
    e->message = msg;
    e->recipient = rcpt;
    e->item = item;
    strcpy(e->client, "192.0.2.0");
    strcpy(e->user_agent, "Mozilla/5.0 (test)");
}

/* The schema is at the newest version the build knows, and opening again
 * applies nothing. */
static void test_schema(void **state)
{
    struct fixture *f = *state;
    int v = -1, version = -1, latest = -1;
    char err[256];
    assert_int_equal(homing_store_schema_version(f->s, &v), 0);
    assert_int_equal(homing_store_inspect(f->url, NULL, &version, &latest, err, sizeof err), 0);
    assert_true(latest >= 1);
    assert_int_equal(v, latest);
    assert_int_equal(version, latest);
    struct homing_store *s2;
    assert_int_equal(homing_store_open(f->url, NULL, "normal", &s2, err, sizeof err), 0);
    assert_int_equal(homing_store_schema_version(s2, &v), 0);
    assert_int_equal(v, latest);
    homing_store_close(s2);
}

static void test_messages(void **state)
{
    struct fixture *f = *state;
    uint64_t a = add_message(f->s, "<abc.123@example.com>", 3, 2);
    uint64_t b = add_message(f->s, "def@example.com", 1, 0);
    assert_true(a != b);

    struct homing_message *m;
    assert_int_equal(homing_store_message_get(f->s, a, &m), 0);
    assert_true(m->id == a);
    assert_string_equal(m->message_id, "<abc.123@example.com>");
    assert_string_equal(m->subject, "Quarterly numbers");
    assert_string_equal(m->sender, "alice@example.com");
    assert_int_equal(m->mode, HOMING_MODE_PER_RECIPIENT);
    assert_true(m->created_us > 0);
    assert_int_equal(m->n_recipients, 3);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(m->recipients[i].index, i + 1);
        assert_string_equal(m->recipients[i].state, "registered");
    }
    assert_string_equal(m->recipients[2].address, "dave@example.net");
    assert_int_equal(m->n_links, 2);
    assert_int_equal(m->links[1].index, 2);
    assert_string_equal(m->links[0].url, "https://example.com/a?x=1&y=2");
    homing_message_free(m);
    assert_int_equal(homing_store_message_get(f->s, a ^ 1, &m), -ENOENT);

    uint64_t id = 0;
    assert_int_equal(homing_store_message_find(f->s, "abc.123@example.com", &id), 0);
    assert_true(id == a);
    id = 0;
    assert_int_equal(homing_store_message_find(f->s, "<abc.123@example.com>", &id), 0);
    assert_true(id == a);
    assert_int_equal(homing_store_message_find(f->s, "<def@example.com>", &id), 0);
    assert_true(id == b);
    assert_int_equal(homing_store_message_find(f->s, "nope@example.com", &id), -ENOENT);
    assert_int_equal(homing_store_message_find(f->s, "<>", &id), -EINVAL);

    /* Newest first, without recipients or links. */
    struct homing_message *list;
    size_t n;
    assert_int_equal(homing_store_message_list(f->s, 10, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_true(list[0].created_us >= list[1].created_us);
    assert_true((list[0].id == b && list[1].id == a) || list[0].created_us == list[1].created_us);
    assert_int_equal(list[0].n_recipients, 0);
    homing_messages_free(list, n);
    assert_int_equal(homing_store_message_list(f->s, 1, &list, &n), 0);
    assert_int_equal(n, 1);
    homing_messages_free(list, n);

    char *url;
    assert_int_equal(homing_store_link_url(f->s, a, 2, &url), 0);
    assert_string_equal(url, "https://example.com/b");
    free(url);
    assert_int_equal(homing_store_link_url(f->s, a, 3, &url), -ENOENT);
    assert_int_equal(homing_store_link_url(f->s, a, 0, &url), -ENOENT);
    assert_int_equal(homing_store_link_url(f->s, b, 1, &url), -ENOENT);
    /* an index past any column width (a token's item is 32 bits) is just not there */
    assert_int_equal(homing_store_link_url(f->s, a, UINT32_MAX, &url), -ENOENT);
    assert_int_equal(homing_store_recipient_set_state(f->s, a, UINT32_MAX, "delivered", 1),
                     -ENOENT);
    assert_int_equal(homing_store_tracking_set(f->s, a, UINT32_MAX, HOMING_TRACKING_OFF), -ENOENT);

    assert_int_equal(homing_store_recipient_set_state(f->s, a, 2, "delivered", 1234567), 0);
    assert_int_equal(homing_store_recipient_set_state(f->s, a, 4, "delivered", 1), -ENOENT);
    assert_int_equal(homing_store_recipient_set_state(f->s, a, 1, "", 1), -EINVAL);
    assert_int_equal(homing_store_message_get(f->s, a, &m), 0);
    assert_string_equal(m->recipients[1].state, "delivered");
    assert_int_equal(m->recipients[1].state_us, 1234567);
    assert_string_equal(m->recipients[0].state, "registered");
    homing_message_free(m);

    /* Limits and bad specs are refused before touching the database. */
    struct homing_message_spec big = {.n_recipients = HOMING_STORE_RECIPIENTS_MAX + 1};
    assert_int_equal(homing_store_message_add(f->s, &big, &id), -E2BIG);
    struct homing_message_spec big2 = {.n_links = HOMING_STORE_LINKS_MAX + 1};
    assert_int_equal(homing_store_message_add(f->s, &big2, &id), -E2BIG);
    const char *holes[] = {"x@example.org", NULL};
    struct homing_message_spec bad = {.recipients = holes, .n_recipients = 2};
    assert_int_equal(homing_store_message_add(f->s, &bad, &id), -EINVAL);
    struct homing_message_spec badmode = {.mode = 7};
    assert_int_equal(homing_store_message_add(f->s, &badmode, &id), -EINVAL);

    /* A link is stored only in the form homing_url_check gives (issue 11: a
     * CR LF in a link split the redirect), or as a document placeholder. */
    static const char *const badlinks[] = {
        "https://example.com/\r\nSet-Cookie: a=b",
        "https://example.com/\x0b",
        "https://example.com/a b",
        "HTTPS://example.com/",
        "javascript:alert(1)",
        "https://example.com/\xc2\x85",
        "{{doc:a\nb}}",
    };
    for (size_t i = 0; i < sizeof badlinks / sizeof badlinks[0]; i++) {
        const char *one[] = {"https://example.com/ok", badlinks[i]};
        struct homing_message_spec bl = {.links = one, .n_links = 2};
        assert_int_equal(homing_store_message_add(f->s, &bl, &id), -EINVAL);
        assert_non_null(strstr(homing_store_errmsg(f->s), "link 2 is not a valid destination"));
    }
    const char *goodlinks[] = {"https://example.com/a%20b", "{{doc:Q3 report.pdf}}"};
    struct homing_message_spec gl = {.links = goodlinks, .n_links = 2};
    assert_int_equal(homing_store_message_add(f->s, &gl, &id), 0);

    /* A per-message message with no optional fields. */
    struct homing_message_spec bare = {.mode = HOMING_MODE_PER_MESSAGE};
    assert_int_equal(homing_store_message_add(f->s, &bare, &id), 0);
    assert_int_equal(homing_store_message_get(f->s, id, &m), 0);
    assert_null(m->message_id);
    assert_null(m->subject);
    assert_int_equal(m->mode, HOMING_MODE_PER_MESSAGE);
    assert_int_equal(m->n_recipients, 0);
    assert_null(m->recipients);
    homing_message_free(m);
}

static void test_events_append(void **state)
{
    struct fixture *f = *state;
    uint64_t a = add_message(f->s, "<e@example.com>", 2, 1);
    struct homing_event ev[4];
    for (int i = 0; i < 4; i++)
        make_event(&ev[i], a, 1, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, 1000 + i);
    ev[3].client[0] = '\0';
    ev[3].user_agent[0] = '\0';
    strcpy(ev[2].via, "1.1 proxy");
    assert_int_equal(homing_store_events_append(f->s, ev, 4), 0);
    assert_true(ev[0].id > 0);
    for (int i = 1; i < 4; i++) assert_true(ev[i].id > ev[i - 1].id);
    assert_int_equal(homing_store_events_append(f->s, ev, 0), 0);

    /* Empty header fields read back as "" (SQLite stores them as NULL:
     * test_store_sqlite.c). */
    struct homing_event *back;
    size_t ng;
    assert_int_equal(homing_store_events_list(f->s, a, 0, 10, &back, &ng), 0);
    assert_int_equal(ng, 4);
    assert_string_equal(back[0].via, "");
    assert_string_equal(back[2].via, "1.1 proxy");
    assert_string_equal(back[3].client, "");
    assert_string_equal(back[3].user_agent, "");
    homing_events_free(back, ng);

    /* One bad record (detail that is not JSON) fails the whole batch. */
    struct homing_event bad[3];
    for (int i = 0; i < 3; i++)
        make_event(&bad[i], a, 2, HOMING_EV_CLICK, HOMING_METHOD_GET, 1, 2000 + i);
    bad[1].detail = strdup("{not json");
    int r = homing_store_events_append(f->s, bad, 3);
    assert_true(r < 0);
    for (int i = 0; i < 3; i++) assert_int_equal(bad[i].id, 0);
    int64_t n = -1;
    assert_int_equal(homing_store_events_count(f->s, 0, &n), 0);
    assert_int_equal(n, 4);
    /* An unknown kind fails the batch too. */
    bad[1].kind = 9;
    free(bad[1].detail);
    bad[1].detail = strdup("{\"status\":\"5.1.1\"}");
    assert_int_equal(homing_store_events_append(f->s, bad, 3), -EINVAL);
    assert_int_equal(homing_store_events_count(f->s, 0, &n), 0);
    assert_int_equal(n, 4);
    /* Fixed, the same batch goes in, with its detail. */
    bad[1].kind = HOMING_EV_BOUNCED;
    bad[1].method = HOMING_METHOD_OTHER;
    assert_int_equal(homing_store_events_append(f->s, bad, 3), 0);
    assert_true(bad[0].id > ev[3].id);
    homing_event_clear(&bad[1]);
    assert_int_equal(homing_store_events_count(f->s, 0, &n), 0);
    assert_int_equal(n, 7);

    /* Read back: fields round-trip, NULLs come back as "". */
    struct homing_event *out;
    size_t got;
    assert_int_equal(homing_store_events_list(f->s, a, ev[2].id - 1, 100, &out, &got), 0);
    assert_int_equal(got, 5);
    assert_true(out[0].id == ev[2].id);
    assert_string_equal(out[0].via, "1.1 proxy");
    assert_string_equal(out[0].user_agent, "Mozilla/5.0 (test)");
    assert_int_equal(out[0].kind, HOMING_EV_OPEN);
    assert_int_equal(out[0].method, HOMING_METHOD_GET);
    assert_int_equal(out[0].time_us, 1002);
    assert_null(out[0].detail);
    assert_string_equal(out[1].client, "");
    assert_string_equal(out[1].user_agent, "");
    assert_string_equal(out[1].accept_language, "");
    assert_int_equal(out[3].kind, HOMING_EV_BOUNCED);
    assert_int_equal(out[3].method, HOMING_METHOD_OTHER);
    assert_int_equal(out[3].recipient, 2);
    assert_int_equal(out[3].item, 1);
    assert_string_equal(out[3].detail, "{\"status\":\"5.1.1\"}");
    homing_events_free(out, got);
}

/* Batches larger than the multi-row INSERT of the append path: the ids written
 * back are exactly the stored ones, in order, and a bad event anywhere (inside a
 * multi-row chunk or in the tail) fails the whole batch. */
#define BIG_BATCH 70

static void test_events_append_big_batch(void **state)
{
    struct fixture *f = *state;
    struct homing_event *ev = calloc(BIG_BATCH, sizeof *ev);
    assert_non_null(ev);
    for (int i = 0; i < BIG_BATCH; i++)
        make_event(&ev[i], 77, (uint32_t)i, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, 5000 + i);
    for (int bad = 0; bad < BIG_BATCH; bad += 23) {
        ev[bad].detail = strdup("[broken");
        assert_true(homing_store_events_append(f->s, ev, BIG_BATCH) < 0);
        for (int i = 0; i < BIG_BATCH; i++) assert_int_equal(ev[i].id, 0);
        int64_t c;
        assert_int_equal(homing_store_events_count(f->s, 0, &c), 0);
        assert_int_equal(c, 0);
        homing_event_clear(&ev[bad]);
    }
    for (int round = 0; round < 2; round++) {
        assert_int_equal(homing_store_events_append(f->s, ev, BIG_BATCH), 0);
        struct homing_event *out;
        size_t n;
        assert_int_equal(homing_store_events_list(f->s, 77, ev[0].id - 1, 1000, &out, &n), 0);
        assert_int_equal(n, BIG_BATCH);
        for (int i = 0; i < BIG_BATCH; i++) {
            assert_int_equal(out[i].id, ev[i].id);
            assert_int_equal(out[i].time_us, 5000 + i);
            assert_int_equal(out[i].recipient, i);
        }
        homing_events_free(out, n);
    }
    free(ev);
}

static void test_events_list_cursor(void **state)
{
    struct fixture *f = *state;
    uint64_t a = add_message(f->s, "<a@x>", 1, 0), b = add_message(f->s, "<b@x>", 1, 0);
    struct homing_event ev[25];
    for (int i = 0; i < 25; i++)
        make_event(&ev[i], i % 5 == 0 ? b : a, 1, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, i);
    assert_int_equal(homing_store_events_append(f->s, ev, 25), 0);

    /* Paging through everything with the cursor sees each event once, in order. */
    int64_t after = 0, last = 0;
    size_t total = 0, pages = 0;
    for (;;) {
        struct homing_event *out;
        size_t n;
        assert_int_equal(homing_store_events_list(f->s, 0, after, 7, &out, &n), 0);
        if (n == 0) {
            assert_null(out);
            break;
        }
        assert_true(n <= 7);
        for (size_t i = 0; i < n; i++) {
            assert_true(out[i].id > last);
            last = out[i].id;
        }
        after = out[n - 1].id;
        total += n;
        pages++;
        homing_events_free(out, n);
    }
    assert_int_equal(total, 25);
    assert_int_equal(pages, 4);

    struct homing_event *out;
    size_t n;
    assert_int_equal(homing_store_events_list(f->s, b, 0, 100, &out, &n), 0);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) assert_true(out[i].message == b);
    homing_events_free(out, n);
    assert_int_equal(homing_store_events_list(f->s, a, ev[20].id, 100, &out, &n), 0);
    assert_int_equal(n, 4);
    homing_events_free(out, n);

    int64_t c;
    assert_int_equal(homing_store_events_count(f->s, a, &c), 0);
    assert_int_equal(c, 20);
    assert_int_equal(homing_store_events_count(f->s, b, &c), 0);
    assert_int_equal(c, 5);
    assert_int_equal(homing_store_events_count(f->s, 0, &c), 0);
    assert_int_equal(c, 25);
    assert_int_equal(homing_store_events_count(f->s, 12345, &c), 0);
    assert_int_equal(c, 0);

    assert_int_equal(homing_store_events_list(f->s, 0, 0, 0, &out, &n), -EINVAL);
    assert_int_equal(homing_store_events_list(f->s, 0, 0, HOMING_STORE_LIST_MAX + 1, &out, &n),
                     -EINVAL);
}

/* One recipient's timeline (the dashboard's): only its events, oldest first,
 * paged by id; recipient 0 is the per-message hits. */
static void test_recipient_events(void **state)
{
    struct fixture *f = *state;
    uint64_t a = add_message(f->s, "<t@x>", 2, 0), b = add_message(f->s, "<u@x>", 2, 0);
    struct homing_event ev[12];
    for (int i = 0; i < 12; i++)
        make_event(&ev[i], i == 11 ? b : a, (uint32_t)(i % 3), HOMING_EV_OPEN, HOMING_METHOD_GET, 0,
                   100 + i);
    assert_int_equal(homing_store_events_append(f->s, ev, 12), 0);
    struct homing_event *out;
    size_t n;
    assert_int_equal(homing_store_recipient_events(f->s, a, 1, 0, 100, &out, &n), 0);
    assert_int_equal(n, 4); /* 1, 4, 7, 10 */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i].recipient, 1);
        assert_true(out[i].message == a);
        assert_int_equal(out[i].id, ev[1 + 3 * i].id);
    }
    homing_events_free(out, n);
    assert_int_equal(homing_store_recipient_events(f->s, a, 1, ev[4].id, 2, &out, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].id, ev[7].id);
    assert_int_equal(out[1].id, ev[10].id);
    homing_events_free(out, n);
    assert_int_equal(homing_store_recipient_events(f->s, a, 2, 0, 100, &out, &n), 0);
    assert_int_equal(n, 3); /* 2, 5, 8 (11 is message b's) */
    homing_events_free(out, n);
    assert_int_equal(homing_store_recipient_events(f->s, a, 0, 0, 100, &out, &n), 0);
    assert_int_equal(n, 4); /* 0, 3, 6, 9 */
    homing_events_free(out, n);
    assert_int_equal(homing_store_recipient_events(f->s, a, 3, 0, 100, &out, &n), 0);
    assert_int_equal(n, 0);
}

/* The daemon's flood counts: added with a batch and its cursor, summed per
 * flood, then closed into one `suppressed` event each. */
static void test_floods(void **state)
{
    struct fixture *f = *state;
    struct homing_event ev;
    make_event(&ev, 5, 1, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, 1000);
    struct homing_flood_count fl[2] = {
        {.first_us = 1100,
         .last_us = 1200,
         .message = 5,
         .recipient = 1,
         .kind = HOMING_EV_OPEN,
         .dropped = 3},
        {.first_us = 1050,
         .last_us = 1300,
         .message = 5,
         .recipient = 1,
         .kind = HOMING_EV_OPEN,
         .dropped = 4},
    };
    strcpy(fl[0].client, "192.0.2.7");
    strcpy(fl[1].client, "192.0.2.7");
    assert_int_equal(homing_store_events_append_floods(f->s, &ev, 1, fl, 2, "journal.1", 42), 0);
    int64_t pos = 0;
    assert_int_equal(homing_store_cursor_get(f->s, "journal.1", &pos), 0);
    assert_int_equal(pos, 42);
    size_t closed = 9, left = 9;
    assert_int_equal(homing_store_floods_close(f->s, 1300, &closed, &left), 0);
    assert_int_equal(closed, 0); /* its last hit is not older than 1300 */
    assert_int_equal(left, 1);
    assert_int_equal(homing_store_floods_close(f->s, INT64_MAX, &closed, &left), 0);
    assert_int_equal(closed, 1);
    assert_int_equal(left, 0);
    struct homing_event *out;
    size_t n;
    assert_int_equal(homing_store_events_list(f->s, 5, ev.id, 10, &out, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, HOMING_EV_SUPPRESSED);
    assert_int_equal(out[0].time_us, 1300);
    assert_string_equal(out[0].client, "192.0.2.7");
    assert_string_equal(out[0].detail, "{\"dropped\":7,\"of\":\"open\"}");
    homing_events_free(out, n);
}

/* Ingestion's once-only writes, kept reports and sync positions. */
static void test_ingest_once(void **state)
{
    struct fixture *f = *state;
    struct homing_event ev;
    make_event(&ev, 6, 1, HOMING_EV_DELIVERED, HOMING_METHOD_OTHER, 0, 2000);
    assert_int_equal(homing_store_events_append_once(f->s, "log:1", &ev, 1), 0);
    assert_true(ev.id > 0);
    ev.id = 0;
    assert_int_equal(homing_store_events_append_once(f->s, "log:1", &ev, 1), -EALREADY);
    assert_int_equal(ev.id, 0);
    int64_t c;
    assert_int_equal(homing_store_events_count(f->s, 0, &c), 0);
    assert_int_equal(c, 1);
    assert_int_equal(homing_store_events_append_once(f->s, "log:2", NULL, 0), 0);
    assert_int_equal(homing_store_events_append_once(f->s, "log:2", &ev, 1), -EALREADY);

    int64_t id1 = 0, id2 = 0;
    assert_int_equal(
        homing_store_unmatched_add(f->s, "stdin", "dsn", "no message", "a\0b", 3, &id1), 0);
    assert_int_equal(homing_store_unmatched_add_once(f->s, "imap:1", "imap:x", "unparsable",
                                                     "garbage", NULL, 0, &id2),
                     0);
    assert_true(id2 > id1);
    assert_int_equal(homing_store_unmatched_add_once(f->s, "imap:1", "imap:x", "unparsable",
                                                     "garbage", NULL, 0, &id2),
                     -EALREADY);
    struct homing_unmatched *u;
    size_t n;
    assert_int_equal(homing_store_unmatched_list(f->s, 0, 10, 1, &u, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(u[0].id, id1);
    assert_string_equal(u[0].source, "stdin");
    assert_string_equal(u[0].reason, "no message");
    assert_int_equal(u[0].raw_len, 3);
    assert_memory_equal(u[0].raw, "a\0b", 3);
    assert_null(u[1].raw);
    assert_true(u[0].time_us > 0);
    homing_unmatched_free(u, n);
    assert_int_equal(homing_store_unmatched_list(f->s, id1, 10, 0, &u, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(u[0].kind, "unparsable");
    homing_unmatched_free(u, n);
    assert_int_equal(homing_store_unmatched_list(f->s, 0, 10, 0, &u, &n), 0);
    assert_null(u[0].raw);
    homing_unmatched_free(u, n);

    char *v = NULL;
    assert_int_equal(homing_store_sync_get(f->s, "imap:x", &v), -ENOENT);
    assert_int_equal(homing_store_sync_set(f->s, "imap:x", "uid=5"), 0);
    assert_int_equal(homing_store_sync_set(f->s, "imap:x", "uid=9"), 0);
    assert_int_equal(homing_store_sync_get(f->s, "imap:x", &v), 0);
    assert_string_equal(v, "uid=9");
    free(v);
}

/* homing relay's SMTP users: set (again: the hash changes), get, list in
 * name order, remove. */
static void test_relay_users(void **state)
{
    struct fixture *f = *state;
    char *h = NULL, **names = NULL;
    size_t n = 9;
    assert_int_equal(homing_store_relay_user_get(f->s, "bob", &h), -ENOENT);
    assert_int_equal(homing_store_relay_user_list(f->s, &names, &n), 0);
    assert_int_equal(n, 0);
    free(names);
    assert_int_equal(homing_store_relay_user_set(f->s, "bob", "$argon2id$v=19$one"), 0);
    assert_int_equal(homing_store_relay_user_set(f->s, "alice", "$argon2id$v=19$two"), 0);
    assert_int_equal(homing_store_relay_user_set(f->s, "bob", "$argon2id$v=19$three"), 0);
    assert_int_equal(homing_store_relay_user_get(f->s, "bob", &h), 0);
    assert_string_equal(h, "$argon2id$v=19$three");
    free(h);
    assert_int_equal(homing_store_relay_user_list(f->s, &names, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "alice");
    assert_string_equal(names[1], "bob");
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    assert_int_equal(homing_store_relay_user_remove(f->s, "bob"), 0);
    assert_int_equal(homing_store_relay_user_remove(f->s, "bob"), -ENOENT);
}

/* Tracked documents and their grants: a document-open GET event uses the
 * grant its item names (a trigger in both backends), and grant_check says
 * why a download is refused. */
static void test_documents(void **state)
{
    struct fixture *f = *state;
    uint64_t m = add_message(f->s, "<doc@x>", 2, 0);
    struct homing_document d = {.name = "q3.pdf",
                                .media_type = "application/pdf",
                                .size = 1234,
                                .file = "d-1.enc",
                                .digest_keyed = 1};
    memset(d.digest, 'a', 64);
    int64_t doc = 0, g1 = 0, g2 = 0;
    assert_int_equal(homing_store_document_add(f->s, &d, &doc), 0);
    assert_int_equal(homing_store_document_add(f->s, &d, &doc), -EEXIST);
    struct homing_grant_spec gs = {.document = doc, .message = m, .recipient = 1, .max_uses = 2};
    assert_int_equal(homing_store_grant_add(f->s, &gs, &g1), 0);
    gs.recipient = 2;
    gs.max_uses = 0;
    gs.expires_us = 5000;
    assert_int_equal(homing_store_grant_add(f->s, &gs, &g2), 0);
    gs.document = doc + 100;
    int64_t none;
    assert_int_equal(homing_store_grant_add(f->s, &gs, &none), -ENOENT);

    struct homing_document *got;
    assert_int_equal(homing_store_grant_check(f->s, g1, m, 1, 1000, 0, &got), 0);
    assert_string_equal(got->name, "q3.pdf");
    assert_string_equal(got->file, "d-1.enc");
    assert_int_equal(got->size, 1234);
    homing_documents_free(got, 1);
    assert_int_equal(homing_store_grant_check(f->s, g1, m, 2, 1000, 0, &got), -ENOENT);
    assert_int_equal(homing_store_grant_check(f->s, g2, m, 2, 6000, 0, &got), -EKEYEXPIRED);
    assert_int_equal(homing_store_grant_check(f->s, g1, m, 1, 1000, 2, &got), -EDQUOT);

    /* two downloads (GET) and a HEAD probe: two uses, the grant is spent */
    struct homing_event ev[3];
    for (int i = 0; i < 3; i++)
        make_event(&ev[i], m, 1, HOMING_EV_DOCUMENT_OPEN,
                   i == 2 ? HOMING_METHOD_HEAD : HOMING_METHOD_GET, (uint32_t)g1, 100 + i);
    assert_int_equal(homing_store_events_append(f->s, ev, 3), 0);
    assert_int_equal(homing_store_grant_check(f->s, g1, m, 1, 1000, 0, &got), -EDQUOT);
    struct homing_grant *gl;
    size_t n;
    assert_int_equal(homing_store_grant_list(f->s, doc, &gl, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(gl[0].id, g1);
    assert_int_equal(gl[0].uses, 2);
    assert_string_equal(gl[0].address, "bob@example.org");
    assert_string_equal(gl[0].document_name, "q3.pdf");
    assert_int_equal(gl[1].expires_us, 5000);
    homing_grants_free(gl, n);
    struct homing_document *dl;
    assert_int_equal(homing_store_document_list(f->s, &dl, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(dl[0].grants, 2);
    assert_int_equal(dl[0].uses, 2);
    homing_documents_free(dl, n);

    int64_t revoked = 0;
    assert_int_equal(homing_store_grant_revoke(f->s, 0, doc, &revoked), 0);
    assert_int_equal(revoked, 2);
    assert_int_equal(homing_store_grant_revoke(f->s, g1, 0, &revoked), -ENOENT);
    assert_int_equal(homing_store_grant_check(f->s, g2, m, 2, 1000, 0, &got), -EKEYREVOKED);
    assert_int_equal(homing_store_document_set_digest(f->s, doc, d.digest), -ENOENT); /* keyed */
    assert_int_equal(homing_store_document_get(f->s, "q3.pdf", &got), 0);
    assert_int_equal(got->digest_keyed, 1);
    homing_documents_free(got, 1);
    assert_int_equal(homing_store_document_get(f->s, "nope", &got), -ENOENT);
}

static void test_report(void **state)
{
    struct fixture *f = *state;
    uint64_t a = add_message(f->s, "<r@x>", 3, 2);
    struct homing_event ev[11];
    int k = 0;
    /* recipient 1: two opens, a HEAD probe, two clicks */
    make_event(&ev[k++], a, 1, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, 100);
    make_event(&ev[k++], a, 1, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, 300);
    make_event(&ev[k++], a, 1, HOMING_EV_OPEN, HOMING_METHOD_HEAD, 0, 50);
    make_event(&ev[k++], a, 1, HOMING_EV_CLICK, HOMING_METHOD_GET, 1, 400);
    make_event(&ev[k++], a, 1, HOMING_EV_CLICK, HOMING_METHOD_GET, 2, 350);
    /* recipient 2: only a HEAD on a click URL and a delivery report */
    make_event(&ev[k++], a, 2, HOMING_EV_CLICK, HOMING_METHOD_HEAD, 1, 500);
    make_event(&ev[k++], a, 2, HOMING_EV_DELIVERED, HOMING_METHOD_OTHER, 0, 20);
    /* recipient 0 (per-message token) */
    make_event(&ev[k++], a, 0, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, 700);
    /* other message: not counted */
    make_event(&ev[k++], a + 1, 1, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, 800);
    make_event(&ev[k++], a + 1, 0, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, 800);
    make_event(&ev[k++], a, 1, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, 200);
    assert_int_equal(homing_store_events_append(f->s, ev, (size_t)k), 0);
    assert_int_equal(homing_store_recipient_set_state(f->s, a, 2, "delivered", 20), 0);

    struct homing_report_row *rows;
    size_t n;
    assert_int_equal(homing_store_report(f->s, a, &rows, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(rows[0].recipient, 0);
    assert_null(rows[0].address);
    assert_int_equal(rows[0].opens, 1);
    assert_int_equal(rows[0].first_open_us, 700);

    assert_int_equal(rows[1].recipient, 1);
    assert_string_equal(rows[1].address, "bob@example.org");
    assert_string_equal(rows[1].state, "registered");
    assert_int_equal(rows[1].opens, 3);
    assert_int_equal(rows[1].first_open_us, 100);
    assert_int_equal(rows[1].last_open_us, 300);
    assert_int_equal(rows[1].probes, 1);
    assert_int_equal(rows[1].clicks, 2);
    assert_int_equal(rows[1].first_click_us, 350);
    assert_int_equal(rows[1].last_click_us, 400);

    assert_int_equal(rows[2].recipient, 2);
    assert_string_equal(rows[2].state, "delivered");
    assert_int_equal(rows[2].state_us, 20);
    assert_int_equal(rows[2].opens, 0);
    assert_int_equal(rows[2].first_open_us, 0);
    assert_int_equal(rows[2].probes, 1);
    assert_int_equal(rows[2].clicks, 0);
    assert_int_equal(rows[2].last_click_us, 0);

    assert_int_equal(rows[3].recipient, 3);
    assert_int_equal(rows[3].opens + rows[3].probes + rows[3].clicks, 0);
    homing_report_free(rows, n);

    /* No row for recipient 0 without its events; unknown messages are -ENOENT. */
    uint64_t b = add_message(f->s, "<r2@x>", 1, 0);
    assert_int_equal(homing_store_report(f->s, b, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].recipient, 1);
    homing_report_free(rows, n);
    assert_int_equal(homing_store_report(f->s, 7, &rows, &n), -ENOENT);
}

static void test_api_keys(void **state)
{
    struct fixture *f = *state;
    uint8_t h1[32], h2[32], h3[32];
    memset(h1, 1, sizeof h1);
    memset(h2, 2, sizeof h2);
    memset(h3, 3, sizeof h3);
    int64_t id1 = 0, id2 = 0;
    assert_int_equal(homing_store_api_key_add(f->s, "admin", h1, HOMING_APIKEY_SCOPE_ADMIN, &id1),
                     0);
    assert_int_equal(homing_store_api_key_add(f->s, "admin", h2, HOMING_APIKEY_SCOPE_READ, &id2),
                     -EEXIST);
    assert_non_null(strstr(homing_store_errmsg(f->s), "admin"));
    assert_int_equal(homing_store_api_key_add(f->s, "ci", h2, HOMING_APIKEY_SCOPE_WRITE, &id2), 0);
    assert_true(id2 > id1);
    assert_int_equal(homing_store_api_key_add(f->s, "other", h2, HOMING_APIKEY_SCOPE_READ, NULL),
                     -EEXIST);

    /* The check answers the key's scope (migration 0008). */
    assert_int_equal(homing_store_api_key_check(f->s, h1), HOMING_APIKEY_SCOPE_ADMIN);
    assert_int_equal(homing_store_api_key_check(f->s, h2), HOMING_APIKEY_SCOPE_WRITE);
    assert_int_equal(homing_store_api_key_check(f->s, h3), -EACCES);

    assert_int_equal(homing_store_api_key_revoke(f->s, "admin"), 0);
    assert_int_equal(homing_store_api_key_revoke(f->s, "admin"), -ENOENT);
    assert_int_equal(homing_store_api_key_revoke(f->s, "nobody"), -ENOENT);
    assert_int_equal(homing_store_api_key_check(f->s, h1), -EACCES);
    /* The name is free again once its key is revoked. */
    int64_t id3;
    assert_int_equal(homing_store_api_key_add(f->s, "admin", h3, HOMING_APIKEY_SCOPE_READ, &id3),
                     0);
    assert_int_equal(homing_store_api_key_check(f->s, h3), HOMING_APIKEY_SCOPE_READ);

    struct homing_api_key_info *k;
    size_t n;
    assert_int_equal(homing_store_api_key_list(f->s, &k, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(k[0].name, "admin");
    assert_true(k[0].revoked_us > 0);
    assert_true(k[0].created_us > 0);
    assert_string_equal(k[1].name, "ci");
    assert_int_equal(k[1].revoked_us, 0);
    assert_int_equal(k[0].scope, HOMING_APIKEY_SCOPE_ADMIN);
    assert_int_equal(k[1].scope, HOMING_APIKEY_SCOPE_WRITE);
    assert_int_equal(k[2].scope, HOMING_APIKEY_SCOPE_READ);
    assert_int_equal(k[2].id, id3);
    assert_int_equal(k[2].revoked_us, 0);
    homing_api_keys_free(k, n);
    assert_int_equal(homing_store_api_key_add(f->s, "", h3, HOMING_APIKEY_SCOPE_READ, NULL),
                     -EINVAL);
    uint8_t h4[32];
    memset(h4, 4, sizeof h4);
    assert_int_equal(homing_store_api_key_add(f->s, "x", h4, 0, NULL), -EINVAL);
    assert_int_equal(homing_store_api_key_add(f->s, "x", h4, HOMING_APIKEY_SCOPE_ADMIN + 1, NULL),
                     -EINVAL);
}

/* Two handles on one database, as the daemon's writer and the CLI have: each
 * sees the other's commits. */
static void test_two_handles(void **state)
{
    struct fixture *f = *state;
    char err[256];
    struct homing_store *s2;
    assert_int_equal(homing_store_open(f->url, NULL, store_test_sync_full(), &s2, err, sizeof err),
                     0);
    uint64_t a = add_message(s2, "<two@x>", 1, 1);
    char *url;
    assert_int_equal(homing_store_link_url(f->s, a, 1, &url), 0);
    free(url);
    struct homing_event e;
    make_event(&e, a, 1, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, 1);
    assert_int_equal(homing_store_events_append(f->s, &e, 1), 0);
    int64_t n;
    assert_int_equal(homing_store_events_count(s2, a, &n), 0);
    assert_int_equal(n, 1);
    homing_store_close(s2);
}

/* Several processes opening a brand-new database at once (each migration must
 * run exactly once) and then appending at the same time (the busy timeout makes
 * them wait for each other instead of failing). */
#define RACE_PROCS   4
#define RACE_BATCHES 20
#define RACE_BATCH   64

static void test_processes_race(void **state)
{
    struct fixture *f = *state;
    char db[STORE_TEST_URL_MAX];
    assert_int_equal(store_test_url(f->dir, "race", db, sizeof db), 0);
    pid_t pids[RACE_PROCS];
    for (int p = 0; p < RACE_PROCS; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            char err[256];
            struct homing_store *s;
            if (homing_store_open(db, NULL, "normal", &s, err, sizeof err) < 0) {
                fprintf(stderr, "child open: %s\n", err);
                _exit(1);
            }
            struct homing_event ev[RACE_BATCH];
            for (int b = 0; b < RACE_BATCHES; b++) {
                for (int i = 0; i < RACE_BATCH; i++)
                    make_event(&ev[i], (uint64_t)p + 1, (uint32_t)b, HOMING_EV_OPEN,
                               HOMING_METHOD_GET, 0, i);
                int r = homing_store_events_append(s, ev, RACE_BATCH);
                if (r < 0) {
                    fprintf(stderr, "child append: %d %s\n", r, homing_store_errmsg(s));
                    _exit(1);
                }
            }
            homing_store_close(s);
            _exit(0);
        }
    }
    for (int p = 0; p < RACE_PROCS; p++) {
        int st;
        assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    /* Every migration ran once (a second run of one fails the opening child),
     * and every batch is stored... */
    char err[256];
    struct homing_store *s;
    assert_int_equal(homing_store_open(db, NULL, "normal", &s, err, sizeof err), 0);
    int v, version, latest;
    assert_int_equal(homing_store_schema_version(s, &v), 0);
    assert_int_equal(homing_store_inspect(db, NULL, &version, &latest, err, sizeof err), 0);
    assert_int_equal(v, latest);
    int64_t total;
    assert_int_equal(homing_store_events_count(s, 0, &total), 0);
    assert_int_equal(total, RACE_PROCS * RACE_BATCHES * RACE_BATCH);
    /* ...contiguously: nobody interleaved inside a transaction. */
    for (int p = 0; p < RACE_PROCS; p++) {
        struct homing_event *evs;
        size_t n;
        assert_int_equal(
            homing_store_events_list(s, (uint64_t)p + 1, 0, HOMING_STORE_LIST_MAX, &evs, &n), 0);
        assert_int_equal(n, RACE_BATCHES * RACE_BATCH);
        for (size_t i = 0; i < n; i++)
            if (i % RACE_BATCH) {
                assert_int_equal(evs[i].recipient, evs[i - 1].recipient);
                assert_int_equal(evs[i].id, evs[i - 1].id + 1);
            }
        homing_events_free(evs, n);
    }
    homing_store_close(s);
}

/* synchronous=normal survives a crash of the process: a child appends batches
 * and reports each commit through a pipe, and is killed with SIGKILL in the
 * middle. Every batch it reported is stored, and no batch is stored in part. */
#define CRASH_BATCH 100

static void test_crash_keeps_commits(void **state)
{
    struct fixture *f = *state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        char err[256];
        struct homing_store *s;
        if (homing_store_open(f->url, NULL, "normal", &s, err, sizeof err) < 0) _exit(1);
        struct homing_event ev[CRASH_BATCH];
        for (uint32_t b = 1;; b++) {
            for (int i = 0; i < CRASH_BATCH; i++)
                make_event(&ev[i], 99, b, HOMING_EV_OPEN, HOMING_METHOD_GET, 0, i);
            if (homing_store_events_append(s, ev, CRASH_BATCH) < 0) _exit(1);
            if (write(fds[1], &b, sizeof b) != sizeof b) _exit(1);
        }
    }
    close(fds[1]);
    uint32_t last = 0, b;
    while (last < 50 && read(fds[0], &b, sizeof b) == sizeof b) last = b;
    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    close(fds[0]);
    assert_true(last >= 50);

    /* The fixture's handle is still open: read through a new one as well. */
    char err[256];
    struct homing_store *s2;
    assert_int_equal(homing_store_open(f->url, NULL, "normal", &s2, err, sizeof err), 0);
    int64_t n;
    assert_int_equal(homing_store_events_count(s2, 99, &n), 0);
    assert_true(n >= (int64_t)last * CRASH_BATCH);
    assert_int_equal(n % CRASH_BATCH, 0);
    /* no batch in part: each recipient (batch) has CRASH_BATCH events */
    int64_t after = 0, per[2] = {0, 0}; /* the batch being counted, and its events */
    for (;;) {
        struct homing_event *evs;
        size_t k;
        assert_int_equal(homing_store_events_list(s2, 99, after, HOMING_STORE_LIST_MAX, &evs, &k),
                         0);
        for (size_t i = 0; i < k; i++) {
            if (evs[i].recipient != per[0]) {
                if (per[0]) assert_int_equal(per[1], CRASH_BATCH);
                per[0] = evs[i].recipient;
                per[1] = 0;
            }
            per[1]++;
        }
        if (k) after = evs[k - 1].id;
        homing_events_free(evs, k);
        if (k < HOMING_STORE_LIST_MAX) break;
    }
    assert_int_equal(per[1], CRASH_BATCH);
    homing_store_close(s2);
}

#define BENCH_EVENTS 100000
#define BENCH_BATCH  256

static void test_append_throughput(void **state)
{
    struct fixture *f = *state;
    struct homing_event *batch = calloc(BENCH_BATCH, sizeof *batch);
    assert_non_null(batch);
    for (int i = 0; i < BENCH_BATCH; i++) {
        make_event(&batch[i], 0x1234567890abcdefULL, (uint32_t)(i % 50 + 1), HOMING_EV_OPEN,
                   HOMING_METHOD_GET, 0, 0);
        strcpy(batch[i].user_agent, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                                    "(KHTML, like Gecko) Chrome/120.0 Safari/537.36");
        strcpy(batch[i].accept_language, "en-GB,en;q=0.9");
    }
    int64_t t0 = homing_mono_us();
    size_t done = 0;
    int64_t last = 0;
    while (done < BENCH_EVENTS) {
        size_t n = BENCH_EVENTS - done < BENCH_BATCH ? BENCH_EVENTS - done : BENCH_BATCH;
        for (size_t i = 0; i < n; i++) batch[i].time_us = (int64_t)(done + i);
        assert_int_equal(homing_store_events_append(f->s, batch, n), 0);
        assert_true(batch[0].id > last);
        last = batch[n - 1].id;
        done += n;
    }
    int64_t dt = homing_mono_us() - t0;
    int64_t c;
    assert_int_equal(homing_store_events_count(f->s, 0, &c), 0);
    assert_int_equal(c, BENCH_EVENTS);
    printf("store: appended %d events in batches of %d in %.3f s: %.0f events/s (sync=normal)\n",
           BENCH_EVENTS, BENCH_BATCH, (double)dt / 1e6, BENCH_EVENTS * 1e6 / (double)(dt ? dt : 1));
    free(batch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_append_big_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_list_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recipient_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_floods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_handles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_processes_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_keeps_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_throughput, setup, teardown),
    };
    return STORE_RUN_ON_EVERY_BACKEND("store", tests);
}
