/*
 * test_who.c: the enrichment tables of the store (migration 0004) and the "who
 * opened it" report of lib/reader/who.c: put moves the cursor in the same
 * transaction and refuses a second enrichment of an event; readers are created
 * and updated; the forward lookup counts reads of the same copy by others;
 * rewrite changes verdicts and nothing else; the report counts human, machine,
 * unknown and pending hits per recipient, per link and in totals, exactly.
 * Through the public API only, on every backend of the build
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

#include <jansson.h>

#include "homing/store.h"
#include "homing/util.h"
#include "store_backends.h"

struct fixture {
    char dir[64];
    char db[STORE_TEST_URL_MAX];
    struct homing_store *s;
    uint64_t message;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/homing-test-who-XXXXXX");
    if (store_test_make(f->dir, "homing", f->db, sizeof f->db, &f->s) < 0) return -1;
    const char *rcpts[] = {"bob@example.net", "carol@example.com"};
    const char *links[] = {"https://example.com/a", "https://example.com/b"};
    struct homing_message_spec m = {
        .subject = "t", .recipients = rcpts, .n_recipients = 2, .links = links, .n_links = 2};
    if (homing_store_message_add(f->s, &m, &f->message) < 0) return -1;
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

/* Appends one hit and returns its id. */
static int64_t hit(struct fixture *f, unsigned kind, uint32_t recipient, uint32_t item,
                   int64_t t_us)
{
    struct homing_event e;
    memset(&e, 0, sizeof e);
    e.time_us = t_us;
    e.kind = (uint16_t)kind;
    e.method = HOMING_METHOD_GET;
    e.message = f->message;
    e.recipient = recipient;
    e.item = item;
    strcpy(e.client, "192.0.2.1");
    assert_int_equal(homing_store_events_append(f->s, &e, 1), 0);
    return e.id;
}

/* Stores an enrichment of event id with verdict v and reader fp ("" none). */
static int put(struct fixture *f, int64_t id, unsigned kind, uint32_t recipient, uint32_t item,
               const char *v, const char *fp, int forward)
{
    struct homing_store_enrichment e;
    memset(&e, 0, sizeof e);
    e.event = id;
    e.message = f->message;
    e.recipient = recipient;
    e.kind = (uint16_t)kind;
    e.item = item;
    e.time_us = 1700000000000000LL + id;
    homing_strlcpy(e.verdict, v, sizeof e.verdict);
    e.confidence = 80;
    homing_strlcpy(e.reasons, "ua-mail", sizeof e.reasons);
    e.rules_version = 1;
    homing_strlcpy(e.client_family, "Thunderbird", sizeof e.client_family);
    homing_strlcpy(e.client_version, "115.3", sizeof e.client_version);
    homing_strlcpy(e.reader, fp, sizeof e.reader);
    e.new_reader = fp[0] != 0;
    e.forward = forward;
    e.json = "{}";
    return homing_store_enrichment_put(f->s, &e, id);
}

static void test_put_cursor_and_readers(void **state)
{
    struct fixture *f = *state;
    int64_t c;
    assert_int_equal(homing_store_cursor_get(f->s, HOMING_ENRICH_CURSOR, &c), 0);
    assert_int_equal(c, 0);
    int64_t a = hit(f, HOMING_EV_OPEN, 1, 0, 1);
    assert_int_equal(put(f, a, HOMING_EV_OPEN, 1, 0, "human", "00000000000000aa", 0), 0);
    assert_int_equal(homing_store_cursor_get(f->s, HOMING_ENRICH_CURSOR, &c), 0);
    assert_int_equal(c, a);
    /* A second enrichment of the same event: refused, nothing changes. */
    assert_int_equal(put(f, a, HOMING_EV_OPEN, 1, 0, "scanner", "", 0), -EEXIST);
    struct homing_store_enrichment *e;
    assert_int_equal(homing_store_enrichment_get(f->s, a, &e), 0);
    assert_string_equal(e->verdict, "human");
    assert_int_equal(e->new_reader, 1);
    homing_store_enrichments_free(e, 1);
    assert_int_equal(homing_store_enrichment_get(f->s, a + 100, &e), -ENOENT);
    /* The cursor alone, and never backwards. */
    assert_int_equal(homing_store_enrichment_put(f->s, NULL, a + 5), 0);
    assert_int_equal(homing_store_enrichment_put(f->s, NULL, a + 1), 0);
    assert_int_equal(homing_store_cursor_get(f->s, HOMING_ENRICH_CURSOR, &c), 0);
    assert_int_equal(c, a + 5);

    /* Forward lookup: bob's copy was read by reader aa. */
    int known;
    int64_t others;
    assert_int_equal(
        homing_store_reader_lookup(f->s, f->message, 1, "00000000000000aa", &known, &others), 0);
    assert_int_equal(known, 1);
    assert_int_equal(others, 0);
    assert_int_equal(
        homing_store_reader_lookup(f->s, f->message, 1, "00000000000000bb", &known, &others), 0);
    assert_int_equal(known, 0);
    assert_int_equal(others, 1);
    /* The other reader sorting after this one (the lookup seeks both sides). */
    assert_int_equal(
        homing_store_reader_lookup(f->s, f->message, 1, "0000000000000001", &known, &others), 0);
    assert_int_equal(known, 0);
    assert_int_equal(others, 1);
    /* Carol's copy has not been read: a new reader there is no forward. */
    assert_int_equal(
        homing_store_reader_lookup(f->s, f->message, 2, "00000000000000bb", &known, &others), 0);
    assert_int_equal(others, 0);

    int64_t b = hit(f, HOMING_EV_OPEN, 1, 0, 2), a2 = hit(f, HOMING_EV_OPEN, 1, 0, 3);
    assert_int_equal(put(f, b, HOMING_EV_OPEN, 1, 0, "human", "00000000000000bb", 1), 0);
    assert_int_equal(put(f, a2, HOMING_EV_OPEN, 1, 0, "human", "00000000000000aa", 0), 0);
    struct homing_store_reader *r;
    size_t n;
    assert_int_equal(homing_store_readers_list(f->s, f->message, &r, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].fingerprint, "00000000000000aa");
    assert_int_equal(r[0].opens, 2);
    assert_int_equal(r[0].forward, 0);
    assert_string_equal(r[0].client, "Thunderbird 115.3");
    assert_string_equal(r[1].fingerprint, "00000000000000bb");
    assert_int_equal(r[1].forward, 1);
    assert_int_equal(r[1].first_event, b);
    homing_store_readers_free(r, n);

    /* Rewrite: the verdict changes, the reader flags and events do not. */
    assert_int_equal(homing_store_enrichments_list(f->s, f->message, 0, 10, &e, &n), 0);
    assert_int_equal(n, 3);
    homing_strlcpy(e[1].verdict, "scanner", sizeof e[1].verdict);
    e[1].new_reader = 0;
    assert_int_equal(homing_store_enrichments_rewrite(f->s, &e[1], 1), 0);
    homing_store_enrichments_free(e, n);
    assert_int_equal(homing_store_enrichment_get(f->s, b, &e), 0);
    assert_string_equal(e->verdict, "scanner");
    assert_int_equal(e->new_reader, 1);
    assert_int_equal(e->forward, 1);
    homing_store_enrichments_free(e, 1);

    /* A page's batch is all or nothing: a row enriched before stores none. */
    int64_t x = hit(f, HOMING_EV_OPEN, 2, 0, 4);
    struct homing_store_enrichment rows[2];
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < 2; i++) {
        rows[i].event = i ? x : b;
        rows[i].message = f->message;
        homing_strlcpy(rows[i].verdict, "unknown", sizeof rows[i].verdict);
        rows[i].json = "{}";
    }
    assert_int_equal(homing_store_enrichments_put(f->s, rows, 2, x), -EEXIST);
    assert_int_equal(homing_store_enrichment_get(f->s, x, &e), -ENOENT);
    assert_int_equal(homing_store_enrichments_put(f->s, &rows[1], 1, x - 1), -EINVAL);
    assert_int_equal(homing_store_enrichments_put(f->s, &rows[1], 1, x + 2), 0);
    assert_int_equal(homing_store_enrichment_get(f->s, x, &e), 0);
    homing_store_enrichments_free(e, 1);
    assert_int_equal(homing_store_cursor_get(f->s, HOMING_ENRICH_CURSOR, &c), 0);
    assert_int_equal(c, x + 2);
}

/* The readers a store holds, one line each, first seen first. */
static void readers_text(struct homing_store *s, uint64_t message, char *out, size_t cap)
{
    struct homing_store_reader *r;
    size_t n, o = 0;
    assert_int_equal(homing_store_readers_list(s, message, &r, &n), 0);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s r%u %lld-%lld %s %s %lld e%lld f%d\n",
                              r[i].fingerprint, r[i].recipient, (long long)r[i].first_us,
                              (long long)r[i].last_us, r[i].client, r[i].country,
                              (long long)r[i].opens, (long long)r[i].first_event, r[i].forward);
    homing_store_readers_free(r, n);
}

/* A page's rows stored in one batch (one reader upsert per reader) leave the
 * readers that one put per row leaves; enrichment_flags lists what the
 * notifier needs of them. */
static void test_batch_readers_and_flags(void **state)
{
    struct fixture *f = *state;
    /* the same message in a second store, for the one-by-one way */
    char db2[STORE_TEST_URL_MAX];
    assert_int_equal(store_test_url(f->dir, "two", db2, sizeof db2), 0);
    struct homing_store *s2;
    char err[256];
    assert_int_equal(homing_store_open(db2, NULL, "normal", &s2, err, sizeof err), 0);
    const char *rcpts[] = {"bob@example.net", "carol@example.com"};
    struct homing_message_spec m = {.subject = "t", .recipients = rcpts, .n_recipients = 2};
    uint64_t m2;
    assert_int_equal(homing_store_message_add(s2, &m, &m2), 0);

    /* reader, kind, recipient, time (not in event order), forward */
    static const struct {
        const char *fp;
        unsigned kind;
        uint32_t rcpt;
        int64_t t;
        int forward;
    } spec[] = {
        {"00000000000000aa", HOMING_EV_OPEN, 1, 50, 0}, /* known before the batch */
        {"00000000000000aa", HOMING_EV_OPEN, 1, 90, 0},
        {"", HOMING_EV_OPEN, 1, 95, 0},
        {"00000000000000bb", HOMING_EV_CLICK, 2, 70, 1},
        {"00000000000000aa", HOMING_EV_CLICK, 1, 99, 0},
        {"00000000000000bb", HOMING_EV_OPEN, 1, 60, 0},
        {"00000000000000aa", HOMING_EV_OPEN, 2, 80, 0},
    };
    const size_t n = sizeof spec / sizeof spec[0];
    struct homing_store_enrichment rows[8];
    memset(rows, 0, sizeof rows);
    for (size_t i = 0; i < n; i++) {
        struct homing_event e;
        memset(&e, 0, sizeof e);
        e.time_us = spec[i].t;
        e.kind = (uint16_t)spec[i].kind;
        e.method = HOMING_METHOD_GET;
        e.recipient = spec[i].rcpt;
        e.message = f->message;
        assert_int_equal(homing_store_events_append(f->s, &e, 1), 0);
        e.message = m2;
        assert_int_equal(homing_store_events_append(s2, &e, 1), 0);
        struct homing_store_enrichment *r = &rows[i];
        r->event = e.id;
        r->recipient = spec[i].rcpt;
        r->kind = (uint16_t)spec[i].kind;
        r->time_us = spec[i].t;
        homing_strlcpy(r->verdict, spec[i].fp[0] ? "human" : "prefetch", sizeof r->verdict);
        homing_strlcpy(r->client_family, i == 1 ? "Thunderbird" : "Outlook",
                       sizeof r->client_family);
        homing_strlcpy(r->country, i == 3 ? "DE" : "FR", sizeof r->country);
        homing_strlcpy(r->reader, spec[i].fp, sizeof r->reader);
        r->new_reader = spec[i].fp[0] && i != 1;
        r->forward = spec[i].forward;
        r->json = "{}";
    }
    /* the first row before, as an earlier page; the rest in one batch here,
     * one by one there */
    for (size_t i = 0; i < n; i++) rows[i].message = m2;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(homing_store_enrichment_put(s2, &rows[i], rows[i].event), 0);
    for (size_t i = 0; i < n; i++) rows[i].message = f->message;
    assert_int_equal(homing_store_enrichments_put(f->s, rows, 1, rows[0].event), 0);
    assert_int_equal(homing_store_enrichments_put(f->s, rows + 1, n - 1, rows[n - 1].event), 0);
    char a[1024], b[1024];
    readers_text(f->s, f->message, a, sizeof a);
    readers_text(s2, m2, b, sizeof b);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "00000000000000aa r1 50-99 Outlook FR 3 e"));
    assert_non_null(strstr(a, "00000000000000bb r2 70-70 Outlook DE 1 e"));

    /* The flags of events 2..5, in order, at most 3. */
    struct homing_store_enrichment_flags *fl;
    size_t nf;
    assert_int_equal(homing_store_enrichment_flags(f->s, rows[0].event, rows[4].event, 3, &fl, &nf),
                     0);
    assert_int_equal(nf, 3);
    for (size_t i = 0; i < nf; i++) {
        assert_int_equal(fl[i].event, rows[i + 1].event);
        assert_string_equal(fl[i].verdict, rows[i + 1].verdict);
        assert_int_equal(fl[i].new_reader, rows[i + 1].new_reader);
        assert_int_equal(fl[i].forward, rows[i + 1].forward);
    }
    free(fl);
    assert_int_equal(
        homing_store_enrichment_flags(f->s, rows[n - 1].event, INT64_MAX, 10, &fl, &nf), 0);
    assert_int_equal(nf, 0);
    free(fl);
    assert_int_equal(homing_store_enrichment_flags(f->s, 0, 1, 0, &fl, &nf), -EINVAL);

    homing_store_close(s2); /* teardown removes the directory */
}

static json_t *recipient_of(json_t *who, int r)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(who, "recipients"), i, o)
    {
        if (json_integer_value(json_object_get(o, "recipient")) == r) return o;
    }
    return NULL;
}

static long long num(json_t *o, const char *a, const char *b)
{
    json_t *x = json_object_get(o, a);
    if (b) x = json_object_get(x, b);
    assert_true(json_is_integer(x));
    return (long long)json_integer_value(x);
}

static void test_who_counts(void **state)
{
    struct fixture *f = *state;
    /* Bob: a human open, a proxy open, a prefetch, a probe, one open not
     * enriched yet; a scanner click and a human click on link 1. Carol: a
     * scanner click on link 2 only. */
    int64_t t = 1700000000000000LL;
    int64_t ids[8];
    ids[0] = hit(f, HOMING_EV_OPEN, 1, 0, t + 1000000);
    ids[1] = hit(f, HOMING_EV_OPEN, 1, 0, t + 2000000);
    ids[2] = hit(f, HOMING_EV_OPEN, 1, 0, t + 3000000);
    ids[3] = hit(f, HOMING_EV_OPEN, 1, 0, t + 4000000);
    ids[4] = hit(f, HOMING_EV_CLICK, 1, 1, t + 5000000);
    ids[5] = hit(f, HOMING_EV_CLICK, 1, 1, t + 6000000);
    ids[6] = hit(f, HOMING_EV_CLICK, 2, 2, t + 7000000);
    ids[7] = hit(f, HOMING_EV_OPEN, 1, 0, t + 8000000); /* pending */
    assert_int_equal(put(f, ids[0], HOMING_EV_OPEN, 1, 0, "human", "00000000000000aa", 0), 0);
    assert_int_equal(put(f, ids[1], HOMING_EV_OPEN, 1, 0, "proxy-open", "", 0), 0);
    assert_int_equal(put(f, ids[2], HOMING_EV_OPEN, 1, 0, "prefetch", "", 0), 0);
    assert_int_equal(put(f, ids[3], HOMING_EV_OPEN, 1, 0, "probe", "", 0), 0);
    assert_int_equal(put(f, ids[4], HOMING_EV_CLICK, 1, 1, "scanner", "", 0), 0);
    assert_int_equal(put(f, ids[5], HOMING_EV_CLICK, 1, 1, "human", "00000000000000aa", 0), 0);
    assert_int_equal(put(f, ids[6], HOMING_EV_CLICK, 2, 2, "scanner", "", 0), 0);

    void *p;
    assert_int_equal(homing_store_who_json(f->s, f->message, &p), 0);
    json_t *who = p, *bob = recipient_of(who, 1), *carol = recipient_of(who, 2);
    assert_non_null(bob);
    assert_non_null(carol);
    assert_null(recipient_of(who, 0)); /* no per-message hits */
    json_t *oc = json_object_get(bob, "opens_by_class");
    assert_int_equal(num(oc, "human", NULL), 2);
    assert_int_equal(num(oc, "machine", NULL), 2);
    assert_int_equal(num(oc, "unknown", NULL), 1);
    assert_int_equal(num(oc, "total", NULL), 5);
    assert_int_equal(num(oc, "by_verdict", "pending"), 1);
    assert_int_equal(num(oc, "by_verdict", "proxy-open"), 1);
    assert_int_equal(num(bob, "human_opens", NULL), 2);
    char when[HOMING_TIME_STR_MAX];
    homing_time_format(t + 1000000, when);
    assert_string_equal(json_string_value(json_object_get(bob, "first_human_open")), when);
    homing_time_format(t + 2000000, when);
    assert_string_equal(json_string_value(json_object_get(bob, "last_human_open")), when);
    json_t *lk = json_object_get(bob, "links_clicked");
    assert_int_equal(json_array_size(lk), 1);
    assert_int_equal(num(json_array_get(lk, 0), "human", NULL), 1);
    assert_int_equal(num(json_array_get(lk, 0), "machine", NULL), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lk, 0), "url")),
                        "https://example.com/a");
    assert_int_equal(json_array_size(json_object_get(bob, "readers")), 1);
    assert_int_equal(json_array_size(json_object_get(carol, "readers")), 0);
    assert_int_equal(num(json_object_get(carol, "opens_by_class"), "total", NULL), 0);
    json_t *tot = json_object_get(who, "totals");
    assert_int_equal(num(tot, "unique_openers", NULL), 1);
    assert_int_equal(num(tot, "unique_clickers", NULL), 1); /* carol's click was a scanner */
    assert_int_equal(num(json_object_get(tot, "clicks"), "machine", NULL), 2);
    assert_int_equal(num(tot, "readers", NULL), 1);
    assert_int_equal(num(tot, "pending", NULL), 1);
    json_decref(who);
    assert_int_equal(homing_store_who_json(f->s, f->message ^ 1, &p), -ENOENT);
}

/* A message nobody opened: no hits at all, so the hit list is empty (NULL,
 * 0). The report still comes back, with every count zero; the sort of the
 * empty list must not be handed a null pointer (UBSan's nonnull-attribute
 * check in the sanitizer build). */
static void test_who_no_hits(void **state)
{
    struct fixture *f = *state;
    void *p;
    assert_int_equal(homing_store_who_json(f->s, f->message, &p), 0);
    json_t *who = p;
    assert_null(recipient_of(who, 0));
    json_t *tot = json_object_get(who, "totals");
    assert_non_null(tot);
    assert_int_equal(num(tot, "unique_openers", NULL), 0);
    assert_int_equal(num(tot, "unique_clickers", NULL), 0);
    assert_int_equal(num(json_object_get(tot, "opens"), "total", NULL), 0);
    assert_int_equal(num(tot, "pending", NULL), 0);
    json_decref(who);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_cursor_and_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_readers_and_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_who_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_who_no_hits, setup, teardown),
    };
    return STORE_RUN_ON_EVERY_BACKEND("who", tests);
}
