/*
 * test_privacy.c: the privacy operations of the store (migration 0006): client
 * truncation up to the enrichment cursor and only through the schema's guard,
 * retention with its daily rollups, forgetting one address, tracking modes and
 * what reports and event lists show for them. Through the public API only, on
 * every backend of the build (store_backends.h); SQLite's triggers and guard
 * table are checked in test_store_sqlite.c. Each test has a store nothing has
 * used.
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

#include "homing/store.h"
#include "homing/util.h"
#include "store_backends.h"
#include "seal_scenario.h"

#define DAY_US (86400LL * 1000000LL)

struct fx {
    char dir[64], db[STORE_TEST_URL_MAX];
    struct homing_store *s;
    uint64_t msg;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/homing-test-privacy-XXXXXX");
    if (store_test_make(f->dir, "homing", f->db, sizeof f->db, &f->s) < 0) return -1;
    const char *rcpts[] = {"bob@example.net", "carol@example.net"};
    struct homing_message_spec m = {
        .subject = "hello", .sender = "alice@example.org", .recipients = rcpts, .n_recipients = 2};
    if (homing_store_message_add(f->s, &m, &f->msg) < 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int r = store_test_drop(f->s, f->dir);
    free(f);
    return r;
}

static void add_event(struct fx *f, int64_t t, const char *kind, uint32_t rcpt, const char *client,
                      const char *detail)
{
    struct homing_event e = {.time_us = t,
                             .kind = (uint16_t)homing_event_kind_parse(kind),
                             .method = HOMING_METHOD_GET,
                             .message = f->msg,
                             .recipient = rcpt};
    homing_strlcpy(e.client, client, sizeof e.client);
    e.detail = detail ? strdup(detail) : NULL;
    assert_int_equal(homing_store_events_append(f->s, &e, 1), 0);
    homing_event_clear(&e);
}

static void test_truncate(void **state)
{
    struct fx *f = *state;
    int64_t now = homing_now_us();
    add_event(f, now, "open", 1, "203.0.113.77", NULL);
    add_event(f, now, "open", 2, "2001:db8:1:2::5", NULL);
    add_event(f, now, "click", 1, "198.51.100.200", NULL);

    /* enrichment has seen only the first event: nothing past it is cut */
    int64_t changed = -1;
    assert_int_equal(homing_store_privacy_truncate(f->s, 1, 24, 48, &changed), 0);
    assert_int_equal(changed, 1);
    struct homing_event *evs;
    size_t n;
    assert_int_equal(homing_store_events_list(f->s, 0, 0, 10, &evs, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(evs[0].client, "203.0.113.0");
    assert_string_equal(evs[1].client, "2001:db8:1:2::5");
    homing_events_free(evs, n);

    assert_int_equal(homing_store_privacy_truncate(f->s, -1, 24, 48, &changed), 0);
    assert_int_equal(changed, 2);
    assert_int_equal(homing_store_events_list(f->s, 0, 0, 10, &evs, &n), 0);
    assert_string_equal(evs[1].client, "2001:db8:1::");
    assert_string_equal(evs[2].client, "198.51.100.0");
    homing_events_free(evs, n);
    /* the cursor moved: a second run has nothing left to do */
    assert_int_equal(homing_store_privacy_truncate(f->s, -1, 24, 48, &changed), 0);
    assert_int_equal(changed, 0);

    assert_int_equal(homing_store_privacy_truncate(f->s, -1, 33, 48, NULL), -EINVAL);
}

static void test_retention_rollup(void **state)
{
    struct fx *f = *state;
    int64_t now = homing_now_us(), old = now - 400 * DAY_US;
    add_event(f, old, "open", 1, "192.0.2.1", "{\"verdict\":\"human\"}");
    add_event(f, old + 1, "open", 2, "192.0.2.2", "{\"verdict\":\"human\"}");
    add_event(f, old + 2, "open", 2, "192.0.2.2", "{\"verdict\":\"prefetch\"}");
    add_event(f, old + 3, "click", 1, "192.0.2.1", NULL);
    add_event(f, now, "open", 1, "192.0.2.1", NULL);
    /* the click's verdict comes from its enrichment (migration 0004) */
    struct homing_store_enrichment en = {.event = 4,
                                         .message = f->msg,
                                         .recipient = 1,
                                         .kind = HOMING_EV_CLICK,
                                         .time_us = old + 3,
                                         .verdict = "scanner",
                                         .confidence = 90,
                                         .rules_version = 1,
                                         .json = "{}"};
    assert_int_equal(homing_store_enrichment_put(f->s, &en, 4), 0);

    int64_t rolled = -1, deleted = -1;
    assert_int_equal(homing_store_privacy_retention(f->s, now - 365 * DAY_US, &rolled, &deleted),
                     0);
    assert_int_equal(deleted, 4);
    assert_int_equal(rolled, 4);
    int64_t left;
    assert_int_equal(homing_store_events_count(f->s, f->msg, &left), 0);
    assert_int_equal(left, 1);

    struct homing_rollup *r;
    size_t n;
    assert_int_equal(homing_store_rollups_list(f->s, f->msg, &r, &n), 0);
    assert_int_equal(n, 3); /* click; open human; open prefetch */
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += r[i].count;
        assert_int_equal(r[i].message, f->msg);
        assert_int_equal(strlen(r[i].day), 10);
        if (!strcmp(r[i].kind, "open") && !strcmp(r[i].verdict, "human"))
            assert_int_equal(r[i].count, 2);
        if (!strcmp(r[i].kind, "click")) assert_string_equal(r[i].verdict, "scanner");
    }
    assert_int_equal(total, 4);
    homing_rollups_free(r, n);

    /* again: nothing older left, the counts do not double */
    assert_int_equal(homing_store_privacy_retention(f->s, now - 365 * DAY_US, &rolled, &deleted),
                     0);
    assert_int_equal(deleted, 0);
    assert_int_equal(homing_store_rollups_list(f->s, 0, &r, &n), 0);
    total = 0;
    for (size_t i = 0; i < n; i++) total += r[i].count;
    assert_int_equal(total, 4);
    homing_rollups_free(r, n);
    /* the enrichment went with its event */
    struct homing_store_enrichment *ens;
    assert_int_equal(homing_store_enrichments_list(f->s, 0, 0, 10, &ens, &n), 0);
    assert_int_equal(n, 0);
    homing_store_enrichments_free(ens, n);
}

static void test_forget(void **state)
{
    struct fx *f = *state;
    int64_t now = homing_now_us();
    add_event(f, now, "open", 1, "192.0.2.1", NULL);
    add_event(f, now, "open", 2, "192.0.2.2", NULL);
    add_event(f, now, "bounced", 0, "", "{\"diagnostic\":\"550 BOB@example.net unknown\"}");
    const char raw[] = "From: MAILER-DAEMON\r\n\r\nbob@example.net: unknown user\r\n";
    assert_int_equal(homing_store_unmatched_add(f->s, "stdin", "unparsable", "no match", raw,
                                                sizeof raw - 1, NULL),
                     0);
    assert_int_equal(homing_store_unmatched_add(f->s, "stdin", "unparsable", "other", "x", 1, NULL),
                     0);

    struct homing_forget_result res;
    assert_int_equal(homing_store_privacy_forget(f->s, "Bob@Example.NET", &res), 0);
    int64_t events = 0, rcpts = 0, unmatched = 0;
    for (size_t i = 0; i < res.n; i++) {
        if (!strcmp(res.t[i].table, "events")) events = res.t[i].rows;
        if (!strcmp(res.t[i].table, "recipients")) rcpts = res.t[i].rows;
        if (!strcmp(res.t[i].table, "unmatched_reports")) unmatched = res.t[i].rows;
    }
    assert_int_equal(events, 2);
    assert_int_equal(rcpts, 1);
    assert_int_equal(unmatched, 1);

    struct homing_message *m;
    assert_int_equal(homing_store_message_get(f->s, f->msg, &m), 0);
    assert_int_equal(m->n_recipients, 2);
    assert_string_equal(m->recipients[0].address, "forgotten");
    assert_string_equal(m->recipients[1].address, "carol@example.net");
    homing_message_free(m);
    int64_t left;
    assert_int_equal(homing_store_events_count(f->s, f->msg, &left), 0);
    assert_int_equal(left, 1); /* carol's */
    struct homing_unmatched *um;
    size_t nu;
    assert_int_equal(homing_store_unmatched_list(f->s, 0, 10, 1, &um, &nu), 0);
    assert_int_equal(nu, 1);
    assert_string_equal(um[0].reason, "other");
    homing_unmatched_free(um, nu);

    /* idempotent; bad input changes nothing */
    assert_int_equal(homing_store_privacy_forget(f->s, "bob@example.net", &res), 0);
    assert_int_equal(res.n, 0);
    assert_int_equal(homing_store_privacy_forget(f->s, "bob", &res), -EINVAL);
    assert_int_equal(homing_store_privacy_forget(f->s, "bob @x.org", &res), -EINVAL);
}

static void test_modes_visible(void **state)
{
    struct fx *f = *state;
    int64_t now = homing_now_us();
    add_event(f, now, "open", 1, "192.0.2.1", NULL);
    add_event(f, now + 1, "open", 2, "192.0.2.2", NULL);
    add_event(f, now + 2, "click", 2, "192.0.2.2", NULL);

    assert_int_equal(homing_store_tracking_set(f->s, f->msg, 2, HOMING_TRACKING_ANONYMOUS), 0);
    assert_int_equal(homing_store_tracking_set(f->s, f->msg, 3, HOMING_TRACKING_OFF), -ENOENT);
    assert_int_equal(homing_store_tracking_set(f->s, f->msg, 0, HOMING_TRACKING_INHERIT), -EINVAL);
    int mm, *modes;
    size_t nm;
    assert_int_equal(homing_store_tracking_get(f->s, f->msg, &mm, &modes, &nm), 0);
    assert_int_equal(mm, HOMING_TRACKING_INDIVIDUAL);
    assert_int_equal(nm, 2);
    assert_int_equal(modes[0], HOMING_TRACKING_INDIVIDUAL);
    assert_int_equal(modes[1], HOMING_TRACKING_ANONYMOUS);
    free(modes);

    struct homing_report_row *rows;
    size_t n;
    assert_int_equal(homing_store_report_visible(f->s, f->msg, &rows, &n), 0);
    assert_int_equal(n, 3); /* row 0 added for the anonymous counts */
    assert_int_equal(rows[0].recipient, 0);
    assert_int_equal(rows[0].opens, 1);
    assert_int_equal(rows[0].clicks, 1);
    assert_int_equal(rows[1].opens, 1);
    assert_int_equal(rows[2].tracking, HOMING_TRACKING_ANONYMOUS);
    assert_int_equal(rows[2].opens + rows[2].clicks + rows[2].first_open_us, 0);
    assert_string_equal(rows[2].address, "carol@example.net");
    homing_report_free(rows, n);

    struct homing_event *evs;
    assert_int_equal(homing_store_events_list(f->s, f->msg, 0, 10, &evs, &n), 0);
    assert_int_equal(homing_store_events_visible(f->s, evs, n), 0);
    assert_int_equal(evs[0].recipient, 1);
    assert_string_equal(evs[0].client, "192.0.2.1");
    assert_int_equal(evs[1].recipient, 0);
    assert_string_equal(evs[1].client, "");
    homing_events_free(evs, n);

    /* the whole message anonymous; then recipient 1 back to it by inherit */
    assert_int_equal(homing_store_tracking_set(f->s, f->msg, 0, HOMING_TRACKING_OFF), 0);
    assert_int_equal(homing_store_report_visible(f->s, f->msg, &rows, &n), 0);
    assert_int_equal(rows[1].tracking, HOMING_TRACKING_OFF);
    assert_int_equal(rows[1].opens, 0);
    assert_string_equal(rows[1].state, "");
    homing_report_free(rows, n);
    assert_int_equal(homing_tracking_parse("anonymous"), HOMING_TRACKING_ANONYMOUS);
    assert_int_equal(homing_tracking_parse("everything"), -EINVAL);
}

/* A message registered with a tracking mode has it from its first commit:
 * the mode goes in with the message (homing_message_spec.tracking), not in a
 * second transaction after it, so no reader ever sees it in individual mode
 * and a crash in between cannot leave it so. */
static void test_mode_with_message(void **state)
{
    struct fx *f = *state;
    const char *rcpts[] = {"dave@example.net"};
    struct homing_message_spec m = {.subject = "quiet",
                                    .recipients = rcpts,
                                    .n_recipients = 1,
                                    .tracking = HOMING_TRACKING_DELIVERY};
    uint64_t id;
    assert_int_equal(homing_store_message_add(f->s, &m, &id), 0);
    int mm, *modes;
    size_t nm;
    assert_int_equal(homing_store_tracking_get(f->s, id, &mm, &modes, &nm), 0);
    assert_int_equal(mm, HOMING_TRACKING_DELIVERY);
    assert_int_equal(nm, 1);
    assert_int_equal(modes[0], HOMING_TRACKING_DELIVERY); /* the recipient inherits it */
    free(modes);
    /* A mode that is none is refused before anything is stored. */
    struct homing_message *list;
    size_t before, after;
    assert_int_equal(homing_store_message_list(f->s, 100, &list, &before), 0);
    homing_messages_free(list, before);
    m.tracking = HOMING_TRACKING_INHERIT;
    assert_int_equal(homing_store_message_add(f->s, &m, &id), -EINVAL);
    m.tracking = HOMING_TRACKING_OFF + 1;
    assert_int_equal(homing_store_message_add(f->s, &m, &id), -EINVAL);
    assert_int_equal(homing_store_message_list(f->s, 100, &list, &after), 0);
    homing_messages_free(list, after);
    assert_int_equal(after, before);
}

/* The stamp the enrichment thread keeps a message's events by
 * (homing_store_events_stamp): appends after upto leave it, each privacy
 * operation that changes an event below it changes it. */
static void test_events_stamp(void **state)
{
    struct fx *f = *state;
    int64_t now = homing_now_us();
    add_event(f, now - 400 * DAY_US, "open", 2, "192.0.2.2", NULL); /* id 1 */
    add_event(f, now, "open", 1, "192.0.2.1", NULL);                /* id 2 */
    add_event(f, now, "click", 1, "192.0.2.1", NULL);               /* id 3 */
    struct homing_events_stamp a, b;
    assert_int_equal(homing_store_events_stamp(f->s, f->msg, 3, &a), 0);
    assert_int_equal(a.count, 3);
    assert_int_equal(a.truncated, -1);
    /* appended after upto: the same stamp (ids only grow) */
    add_event(f, now, "open", 2, "192.0.2.2", NULL);
    assert_int_equal(homing_store_events_stamp(f->s, f->msg, 3, &b), 0);
    assert_memory_equal(&a, &b, sizeof a);
    /* truncation moves its cursor, even when a chunk changes no address */
    assert_int_equal(homing_store_privacy_truncate(f->s, 1, 24, 48, NULL), 0);
    assert_int_equal(homing_store_events_stamp(f->s, f->msg, 3, &b), 0);
    assert_int_equal(b.count, 3);
    assert_int_equal(b.truncated, 1);
    a = b;
    /* retention and forget delete: the count falls */
    int64_t rolled, deleted;
    assert_int_equal(homing_store_privacy_retention(f->s, now - 365 * DAY_US, &rolled, &deleted),
                     0);
    assert_int_equal(deleted, 1);
    assert_int_equal(homing_store_events_stamp(f->s, f->msg, 3, &b), 0);
    assert_int_equal(b.count, 2);
    struct homing_forget_result res;
    assert_int_equal(homing_store_privacy_forget(f->s, "bob@example.net", &res), 0);
    assert_int_equal(homing_store_events_stamp(f->s, f->msg, 3, &b), 0);
    assert_int_equal(b.count, 0);
    assert_int_equal(homing_store_events_stamp(f->s, 0, 3, &b), -EINVAL);
}

/* Encryption at rest on every backend: a store written before it was sealed
 * is sealed in place when opened with the key, reads back the same, and is
 * refused without its key or with another; forget then finds the sealed
 * rows by the address in any case, and the sweep truncates sealed clients. */
static void test_seal_legacy(void **state)
{
    (void)state;
    char dir[] = "/tmp/homing-test-seal-XXXXXX", url[STORE_TEST_URL_MAX];
    assert_non_null(mkdtemp(dir));
    assert_int_equal(store_test_url(dir, "legacy", url, sizeof url), 0);
    uint64_t msg;
    seal_scenario_fill(url, &msg);
    seal_scenario_open(url, msg);
    seal_scenario_refused(url);
    struct homing_store *s;
    char err[256];
    assert_int_equal(homing_store_open(url, NULL, "normal", &s, err, sizeof err), 0);
    int64_t changed = 0;
    assert_int_equal(homing_store_privacy_truncate(s, -1, 24, 48, &changed), 0);
    assert_int_equal(changed, SEAL_EVENTS);
    struct homing_event *evs;
    size_t n;
    assert_int_equal(homing_store_events_list(s, msg, 0, 10, &evs, &n), 0);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++)
        assert_true(strcmp(evs[i].client, "203.0.113.0") == 0 ||
                    strcmp(evs[i].client, "2001:db8:77::") == 0);
    homing_events_free(evs, n);
    struct homing_forget_result fr;
    assert_int_equal(homing_store_privacy_forget(s, "LEGACY.person@seal.example", &fr), 0);
    struct homing_message *m;
    assert_int_equal(homing_store_message_get(s, msg, &m), 0);
    assert_string_equal(m->recipients[0].address, "forgotten");
    assert_string_equal(m->recipients[1].address, "other@seal.example");
    homing_message_free(m);
    assert_int_equal(homing_store_suppress_find(s, NULL, SEAL_ADDR, NULL), 0);
    struct homing_notification *nv;
    assert_int_equal(homing_store_notifications_list(s, 0, 10, &nv, &n), 0);
    assert_int_equal(n, 0);
    homing_notifications_free(nv, n);
    struct homing_unmatched *u;
    assert_int_equal(homing_store_unmatched_list(s, 0, 10, 1, &u, &n), 0);
    assert_int_equal(n, 0);
    homing_unmatched_free(u, n);
    /* the bounces named her (detail) and were recipient 1's or 2's: all gone
     * from recipient 2 too, since each names her */
    assert_int_equal(homing_store_events_list(s, msg, 0, 500, &evs, &n), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(evs[i].recipient, 2);
        assert_int_not_equal(evs[i].kind, HOMING_EV_BOUNCED);
    }
    homing_events_free(evs, n);
    homing_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Rows other tables point at go after those tables' rows: an aged
 * notification's delivery with it (retention), a forgotten recipient's
 * notification's delivery with it (forget), on every backend, whose
 * foreign keys would refuse the deletes otherwise (store_delete_cascade). */
static void test_deletes_follow_foreign_keys(void **state)
{
    struct fx *f = *state;
    int64_t now = homing_now_us(), old = now - 400 * DAY_US, wh, id;
    assert_int_equal(homing_store_webhook_add(f->s, "https://hooks.example/in", NULL, "k", &wh), 0);
    struct homing_notification_spec n = {.time_us = old,
                                         .kind = "open",
                                         .message = f->msg,
                                         .recipient = 1,
                                         .text = "bob opened",
                                         .payload = "{}"};
    assert_int_equal(homing_store_notification_add(f->s, &n, &id), 0);
    n.time_us = now;
    n.recipient = 2;
    n.text = "carol opened";
    assert_int_equal(homing_store_notification_add(f->s, &n, &id), 0);
    int64_t pending = -1, rolled, deleted;
    assert_int_equal(homing_store_delivery_counts(f->s, &pending, NULL, NULL), 0);
    assert_int_equal(pending, 2);

    assert_int_equal(homing_store_privacy_retention(f->s, now - 365 * DAY_US, &rolled, &deleted),
                     0);
    assert_int_equal(homing_store_delivery_counts(f->s, &pending, NULL, NULL), 0);
    assert_int_equal(pending, 1);

    struct homing_forget_result res;
    assert_int_equal(homing_store_privacy_forget(f->s, "carol@example.net", &res), 0);
    int64_t gone = 0;
    for (size_t i = 0; i < res.n; i++)
        if (strcmp(res.t[i].table, "deliveries") == 0) gone = res.t[i].rows;
    assert_int_equal(gone, 1);
    assert_int_equal(homing_store_delivery_counts(f->s, &pending, NULL, NULL), 0);
    assert_int_equal(pending, 0);
    struct homing_notification *nv;
    size_t nn;
    assert_int_equal(homing_store_notifications_list(f->s, 0, 10, &nv, &nn), 0);
    assert_int_equal(nn, 0);
    homing_notifications_free(nv, nn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_rollup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deletes_follow_foreign_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_stamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes_visible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode_with_message, setup, teardown),
        cmocka_unit_test(test_seal_legacy),
    };
    return STORE_RUN_ON_EVERY_BACKEND("privacy", tests);
}
