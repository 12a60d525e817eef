/*
 * test_stats.c: campaigns and their figures (SQLite's migrations 0012, 0013,
 * 0017 and lib/store/sqlite_stats.c; PostgreSQL's migration 0008 and
 * lib/store/pg_stats.c; lib/service/stats.c): the counters the enrichment
 * batches and the triggers keep as enrichments, events and states arrive,
 * moved by a reclassify, kept by retention and dropped by forget; filters by
 * campaign, message, time and state with cursor paging; the JSON with its
 * rates; and the API's query string parser, bad input included. The store
 * tests run once per backend (store_backends.h), through the public API only.
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

#include "homing/service.h"
#include "homing/store.h"
#include "homing/util.h"
#include "store_backends.h"

struct fixture {
    char dir[64];
    char db[STORE_TEST_URL_MAX];
    struct homing_store *s;
    uint64_t spring, spring2, plain;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/homing-test-stats-XXXXXX");
    if (store_test_make(f->dir, "stats", f->db, sizeof f->db, &f->s) < 0) return -1;
    const char *rcpts[] = {"bob@example.net", "carol@example.com", "dave@example.org"};
    const char *links[] = {"https://example.com/a", "https://example.com/b"};
    struct homing_message_spec m = {.subject = "t",
                                    .recipients = rcpts,
                                    .n_recipients = 3,
                                    .links = links,
                                    .n_links = 2,
                                    .campaign = "spring sale"};
    if (homing_store_message_add(f->s, &m, &f->spring) < 0) return -1;
    m.n_recipients = 1;
    if (homing_store_message_add(f->s, &m, &f->spring2) < 0) return -1;
    m.campaign = NULL;
    if (homing_store_message_add(f->s, &m, &f->plain) < 0) return -1;
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

static int64_t hit(struct fixture *f, uint64_t message, unsigned kind, uint32_t recipient,
                   uint32_t item, const char *detail)
{
    struct homing_event e;
    memset(&e, 0, sizeof e);
    e.time_us = 1700000000000000LL;
    e.kind = (uint16_t)kind;
    e.method = kind <= HOMING_EV_DOCUMENT_OPEN ? HOMING_METHOD_GET : 0;
    e.message = message;
    e.recipient = recipient;
    e.item = item;
    e.detail = (char *)detail;
    assert_int_equal(homing_store_events_append(f->s, &e, 1), 0);
    return e.id;
}

/* A hit and its enrichment with verdict v (fp: reader, "" none). */
static int64_t seen(struct fixture *f, uint64_t message, unsigned kind, uint32_t recipient,
                    uint32_t item, const char *v, const char *fp)
{
    int64_t id = hit(f, message, kind, recipient, item, NULL);
    struct homing_store_enrichment e;
    memset(&e, 0, sizeof e);
    e.event = id;
    e.message = message;
    e.recipient = recipient;
    e.kind = (uint16_t)kind;
    e.item = item;
    e.time_us = 1700000000000000LL + id;
    homing_strlcpy(e.verdict, v, sizeof e.verdict);
    e.rules_version = 1;
    homing_strlcpy(e.reader, fp, sizeof e.reader);
    e.new_reader = fp[0] != 0;
    e.json = "{}";
    assert_int_equal(homing_store_enrichment_put(f->s, &e, id), 0);
    return id;
}

static void check(const struct homing_stats_count *c, int64_t h, int64_t m, int64_t u, int64_t a)
{
    assert_int_equal(c->human, h);
    assert_int_equal(c->machine, m);
    assert_int_equal(c->unknown, u);
    assert_int_equal(c->all, a);
}

static void test_counters(void **state)
{
    struct fixture *f = *state;
    /* bob: two human opens, a scanner open, a human click on link 2;
     * carol: an Apple prefetch only; dave: nothing; the plain message: one
     * human open that the campaign must not count. */
    seen(f, f->spring, HOMING_EV_OPEN, 1, 0, "human", "00000000000000aa");
    seen(f, f->spring, HOMING_EV_OPEN, 1, 0, "proxy-open", "");
    int64_t scan = seen(f, f->spring, HOMING_EV_OPEN, 1, 0, "scanner", "");
    seen(f, f->spring, HOMING_EV_CLICK, 1, 2, "human", "00000000000000aa");
    seen(f, f->spring, HOMING_EV_CLICK, 1, 2, "scanner", "");
    seen(f, f->spring, HOMING_EV_OPEN, 2, 0, "prefetch", "");
    seen(f, f->spring2, HOMING_EV_OPEN, 1, 0, "unknown", "");
    seen(f, f->plain, HOMING_EV_OPEN, 1, 0, "human", "00000000000000bb");
    assert_int_equal(
        homing_store_recipient_set_state(f->s, f->spring, 1, "delivered", 1700000000000001LL), 0);
    assert_int_equal(
        homing_store_recipient_set_state(f->s, f->spring, 2, "delivered", 1700000000000001LL), 0);
    assert_int_equal(
        homing_store_recipient_set_state(f->s, f->spring, 3, "bounced", 1700000000000001LL), 0);
    hit(f, f->spring, HOMING_EV_BOUNCED, 3, 0, "{\"reason\":\"userunknown\",\"hard\":true}");

    struct homing_message_query q = {.campaign = "spring sale"};
    struct homing_stats st;
    assert_int_equal(homing_store_stats(f->s, &q, &st), 0);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.recipients, 4);
    assert_int_equal(st.delivered, 2);
    assert_int_equal(st.bounced, 1);
    assert_int_equal(st.registered, 1);
    check(&st.opens, 2, 2, 1, 5);
    check(&st.openers, 1, 2, 1, 3); /* bob (human and machine), carol, spring2's one */
    check(&st.clicks, 1, 1, 0, 2);
    check(&st.clickers, 1, 1, 0, 1);
    assert_int_equal(st.readers, 1);
    assert_int_equal(st.n_reasons, 1);
    assert_string_equal(st.reasons[0].reason, "userunknown");
    assert_int_equal(st.reasons[0].hard, 1);
    assert_int_equal(st.n_links, 1);
    assert_int_equal(st.links[0].link, 2);
    assert_string_equal(st.links[0].url, "https://example.com/b");
    check(&st.links[0].clicks, 1, 1, 0, 2);
    check(&st.links[0].clickers, 1, 1, 0, 1);

    json_t *j = homing_stats_json(&st);
    assert_non_null(j);
    json_t *open = json_object_get(json_object_get(j, "rates"), "open");
    assert_string_equal(json_string_value(json_object_get(open, "definition")),
                        "unique openers / delivered");
    assert_true(json_real_value(json_object_get(open, "human")) == 0.5);
    assert_true(json_is_null(
        json_object_get(json_object_get(json_object_get(j, "rates"), "bounce"), "human")));
    json_decref(j);
    homing_stats_clear(&st);

    /* homing reclassify: the scanner open was a person after all. */
    struct homing_store_enrichment *e;
    assert_int_equal(homing_store_enrichment_get(f->s, scan, &e), 0);
    homing_strlcpy(e->verdict, "human", sizeof e->verdict);
    assert_int_equal(homing_store_enrichments_rewrite(f->s, e, 1), 0);
    homing_store_enrichments_free(e, 1);
    assert_int_equal(homing_store_stats(f->s, &q, &st), 0);
    check(&st.opens, 3, 1, 1, 5);
    check(&st.openers, 1, 1, 1, 3);
    homing_stats_clear(&st);

    /* One message, messages without a campaign, a state filter. */
    q = (struct homing_message_query){.message = f->plain};
    assert_int_equal(homing_store_stats(f->s, &q, &st), 0);
    check(&st.opens, 1, 0, 0, 1);
    homing_stats_clear(&st);
    q = (struct homing_message_query){.campaign = ""};
    assert_int_equal(homing_store_stats(f->s, &q, &st), 0);
    assert_int_equal(st.messages, 1);
    homing_stats_clear(&st);
    q = (struct homing_message_query){.state = "bounced"};
    assert_int_equal(homing_store_stats(f->s, &q, &st), 0);
    assert_int_equal(st.messages, 1);
    homing_stats_clear(&st);

    /* The series: every enriched hit and the bounce in one hour. */
    struct homing_stats_point *p;
    size_t n;
    q = (struct homing_message_query){.campaign = "spring sale"};
    assert_int_equal(homing_store_stats_series(f->s, &q, 3600000000LL, &p, &n), 0);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) total += p[i].count;
    assert_int_equal(total, 8);
    free(p);

    /* Retention deletes the events and enrichments, not the figures. */
    int64_t rolled, deleted;
    assert_int_equal(homing_store_privacy_retention(f->s, 1800000000000000LL, &rolled, &deleted),
                     0);
    assert_int_equal(deleted, 9);
    assert_int_equal(homing_store_stats(f->s, &q, &st), 0);
    check(&st.opens, 3, 1, 1, 5);
    check(&st.openers, 1, 1, 1, 3);
    homing_stats_clear(&st);

    /* forget: bob's counters go with him (he is spring2's one recipient too:
     * carol's prefetch is what is left). */
    struct homing_forget_result fr;
    assert_int_equal(homing_store_privacy_forget(f->s, "bob@example.net", &fr), 0);
    assert_int_equal(homing_store_stats(f->s, &q, &st), 0);
    check(&st.openers, 0, 1, 0, 1);
    assert_int_equal(st.n_links, 0);
    homing_stats_clear(&st);
}

static void test_campaigns_and_paging(void **state)
{
    struct fixture *f = *state;
    struct homing_campaign *c;
    size_t n;
    assert_int_equal(homing_store_campaigns_list(f->s, &c, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(c[0].name, "spring sale");
    assert_int_equal(c[0].messages, 2);
    assert_int_equal(c[0].recipients, 4);
    free(c);

    /* Three messages one page at a time, newest first, none twice. */
    struct homing_message_query q = {.limit = 2};
    struct homing_message *m;
    assert_int_equal(homing_store_message_query(f->s, &q, &m, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(m[0].recipient_count, 1);
    uint64_t seen_ids[3] = {m[0].id, m[1].id, 0};
    q.after_us = m[1].created_us;
    q.after_id = m[1].id;
    homing_messages_free(m, n);
    assert_int_equal(homing_store_message_query(f->s, &q, &m, &n), 0);
    assert_int_equal(n, 1);
    seen_ids[2] = m[0].id;
    homing_messages_free(m, n);
    assert_true(seen_ids[0] != seen_ids[2] && seen_ids[1] != seen_ids[2]);
    q = (struct homing_message_query){.campaign = "spring sale", .limit = 10};
    assert_int_equal(homing_store_message_query(f->s, &q, &m, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(m[0].campaign, "spring sale");
    homing_messages_free(m, n);
    q.limit = 0;
    assert_int_equal(homing_store_message_query(f->s, &q, &m, &n), -EINVAL);

    /* Names: no controls, no bidirectional overrides, not empty, bounded. */
    assert_true(homing_campaign_ok("Été 2026"));
    assert_false(homing_campaign_ok(""));
    assert_false(homing_campaign_ok("a\x1b[31m"));
    assert_false(homing_campaign_ok("a\xe2\x80\xae"));
    assert_false(homing_campaign_ok("\xc3"));
    char long_name[HOMING_CAMPAIGN_MAX + 2];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_false(homing_campaign_ok(long_name));
    const char *r[] = {"x@example.org"};
    struct homing_message_spec bad = {
        .subject = "t", .recipients = r, .n_recipients = 1, .campaign = "a\nb"};
    uint64_t id;
    assert_int_equal(homing_store_message_add(f->s, &bad, &id), -EINVAL);
}

static void test_query_parse(void **state)
{
    (void)state;
    struct homing_message_query q;
    struct homing_query_text t;
    char err[256];
    const char *s = "campaign=spring%20sale&since=2026-01-01&until=2026-02-01T00:00:00.5Z"
                    "&state=bounced&limit=7&&bucket=day";
    assert_int_equal(homing_message_query_parse(s, strlen(s), &q, &t, err, sizeof err), 0);
    assert_string_equal(q.campaign, "spring sale");
    assert_int_equal(q.since_us, 1767225600000000LL);
    assert_int_equal(q.until_us, 1769904000500000LL);
    assert_string_equal(q.state, "bounced");
    assert_int_equal(q.limit, 7);
    assert_int_equal(t.bucket_us, 86400000000LL);
    s = "campaign=&cursor=1700000000000000-00000000000000ff";
    assert_int_equal(homing_message_query_parse(s, strlen(s), &q, &t, err, sizeof err), 0);
    assert_string_equal(q.campaign, "");
    assert_int_equal(q.after_us, 1700000000000000LL);
    assert_int_equal(q.after_id, 255);

    static const char *const bad[] = {
        "campaign=%1",      "campaign=%zz",       "campaign=a%00b", "campaign=a%1Bb",
        "since=2026-13-01", "since=yesterday",    "state=gone",     "limit=0",
        "limit=1001",       "cursor=abc",         "message=xyz",    "bucket=week",
        "evil=1",           "campaign=%e2%80%ae",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (homing_message_query_parse(bad[i], strlen(bad[i]), &q, &t, err, sizeof err) != -EINVAL)
            fail_msg("accepted %s", bad[i]);
        assert_true(err[0] != '\0');
    }
    char big[HOMING_QUERY_MAX + 2];
    memset(big, 'a', sizeof big);
    assert_int_equal(homing_message_query_parse(big, sizeof big, &q, &t, err, sizeof err), -E2BIG);
}

int main(void)
{
    const struct CMUnitTest store[] = {
        cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_campaigns_and_paging, setup, teardown),
    };
    const struct CMUnitTest parse[] = {
        cmocka_unit_test(test_query_parse),
    };
    int failed = STORE_RUN_ON_EVERY_BACKEND("stats", store);
    return failed + cmocka_run_group_tests(parse, NULL, NULL);
}
