/*
 * seal_scenario.h: a store written before it was sealed, for the tests of
 * encryption at rest (docs/privacy.md#encryption-at-rest) on every backend:
 * seal_scenario_fill writes, with no data key (as an older homing did), a
 * message whose recipients, events (client, From, detail), suppression,
 * notification and unmatched report name SEAL_ADDR and SEAL_CLIENT in
 * clear; seal_scenario_open then opens the store with the test key, which
 * seals those rows in place, and checks through the public API that every
 * value reads back as it was written. test_privacy.c runs it on each backend;
 * test_store_sqlite.c and test_store_postgresql.c also look at the stored
 * bytes (the file, pg_dump) for the values in clear.
 */
#ifndef HOMING_TESTS_SEAL_SCENARIO_H
#define HOMING_TESTS_SEAL_SCENARIO_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homing/seal.h"
#include "homing/store.h"
#include "homing/util.h"

#define SEAL_ADDR    "legacy.person@seal.example"
#define SEAL_ADDR_UC "Legacy.Person@Seal.Example"
#define SEAL_CLIENT  "203.0.113.77"
#define SEAL_CLIENT6 "2001:db8:77::1"
#define SEAL_EVENTS  600 /* more than one batch of store_seal_legacy */

/* The data key of the backend suite (store_backends.h's store_test_seal). */
static inline void seal_scenario_key(void)
{
    static struct homing_seal *k;
    static const uint8_t key[HOMING_SEAL_KEY_LEN] = "homing backend suite data key!!";
    if (!k && homing_seal_new(key, &k) < 0) abort();
    homing_store_seal_use(k);
}

/* The number of times what occurs, without case, in the file at path. */
static inline int seal_scenario_grep(const char *path, const char *what)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[65536];
    int hits = 0;
    while (fgets(line, sizeof line, f))
        if (strcasestr(line, what)) hits++;
    fclose(f);
    return hits;
}

/* The store at url as an older homing wrote it: nothing sealed. */
static inline void seal_scenario_fill(const char *url, uint64_t *msg)
{
    homing_store_seal_use(NULL);
    struct homing_store *s;
    char err[256];
    assert_int_equal(homing_store_open(url, NULL, "normal", &s, err, sizeof err), 0);
    const char *rcpts[] = {SEAL_ADDR_UC, "other@seal.example"};
    struct homing_message_spec m = {
        .subject = "hello", .sender = "alice@example.org", .recipients = rcpts, .n_recipients = 2};
    assert_int_equal(homing_store_message_add(s, &m, msg), 0);
    struct homing_event *evs = calloc(SEAL_EVENTS, sizeof *evs);
    assert_non_null(evs);
    for (size_t i = 0; i < SEAL_EVENTS; i++) {
        evs[i].time_us = homing_now_us();
        evs[i].kind = i % 3 == 2 ? HOMING_EV_BOUNCED : HOMING_EV_OPEN;
        evs[i].method = i % 3 == 2 ? HOMING_METHOD_OTHER : HOMING_METHOD_GET;
        evs[i].message = *msg;
        evs[i].recipient = 1 + (uint32_t)(i % 2);
        homing_strlcpy(evs[i].client, i % 2 ? SEAL_CLIENT6 : SEAL_CLIENT, sizeof evs[i].client);
        if (i % 3 == 2)
            evs[i].detail =
                strdup("{\"diagnostic\":\"550 <" SEAL_ADDR "> unknown\",\"hard\":true}");
        if (i == 0) homing_strlcpy(evs[i].from, "bot <" SEAL_ADDR ">", sizeof evs[i].from);
    }
    assert_int_equal(homing_store_events_append(s, evs, SEAL_EVENTS), 0);
    homing_events_free(evs, SEAL_EVENTS);
    struct homing_flood_count fc = {.first_us = 1,
                                    .last_us = homing_now_us(),
                                    .message = *msg,
                                    .recipient = 1,
                                    .kind = HOMING_EV_OPEN,
                                    .dropped = 3};
    homing_strlcpy(fc.client, SEAL_CLIENT, sizeof fc.client);
    assert_int_equal(homing_store_events_append_floods(s, NULL, 0, &fc, 1, "seal-test", 1), 0);
    assert_int_equal(homing_store_suppress_add(s, NULL, SEAL_ADDR, HOMING_SUPPRESS_MANUAL, 0, 0,
                                               "asked by " SEAL_ADDR, NULL),
                     0);
    struct homing_notification_spec n = {.time_us = 1,
                                         .kind = "open",
                                         .message = *msg,
                                         .recipient = 1,
                                         .text = SEAL_ADDR " opened",
                                         .payload = "{\"to\":\"" SEAL_ADDR "\"}"};
    int64_t nid;
    assert_int_equal(homing_store_notification_add(s, &n, &nid), 0);
    static const char raw[] = "To: <" SEAL_ADDR ">\nSubject: x\n\n" SEAL_ADDR ": unknown\n";
    assert_int_equal(
        homing_store_unmatched_add(s, "stdin", "dsn", "no match", raw, sizeof raw - 1, NULL), 0);
    homing_store_close(s);
}

static inline int seal_test_has(const char *text, const char *what)
{
    return text && strstr(text, what) != NULL;
}

/* Opens the store with the test key (sealing it in place) and checks every
 * value through the API; a second open finds nothing left to seal. */
static inline void seal_scenario_open(const char *url, uint64_t msg)
{
    seal_scenario_key();
    struct homing_store *s;
    char err[256];
    for (int round = 0; round < 2; round++) {
        assert_int_equal(homing_store_open(url, NULL, "normal", &s, err, sizeof err), 0);
        struct homing_message *m;
        assert_int_equal(homing_store_message_get(s, msg, &m), 0);
        assert_int_equal(m->n_recipients, 2);
        assert_string_equal(m->recipients[0].address, SEAL_ADDR_UC);
        assert_string_equal(m->recipients[1].address, "other@seal.example");
        homing_message_free(m);
        size_t total = 0, bounced = 0, with_from = 0;
        int64_t after = 0;
        for (;;) {
            struct homing_event *evs;
            size_t n;
            assert_int_equal(homing_store_events_list(s, msg, after, 500, &evs, &n), 0);
            for (size_t i = 0; i < n; i++) {
                assert_true(strcmp(evs[i].client, SEAL_CLIENT) == 0 ||
                            strcmp(evs[i].client, SEAL_CLIENT6) == 0);
                if (evs[i].kind == HOMING_EV_BOUNCED) {
                    assert_true(seal_test_has(evs[i].detail, "<" SEAL_ADDR ">"));
                    bounced++;
                }
                if (evs[i].from[0]) {
                    assert_string_equal(evs[i].from, "bot <" SEAL_ADDR ">");
                    with_from++;
                }
                after = evs[i].id;
            }
            total += n;
            homing_events_free(evs, n);
            if (n < 500) break;
        }
        assert_int_equal(total, SEAL_EVENTS);
        assert_int_equal(bounced, SEAL_EVENTS / 3);
        assert_int_equal(with_from, 1);
        struct homing_suppression e;
        assert_int_equal(homing_store_suppress_find(s, NULL, SEAL_ADDR_UC, &e), 1);
        assert_string_equal(e.address, SEAL_ADDR);
        assert_string_equal(e.note, "asked by " SEAL_ADDR);
        struct homing_notification *nv;
        size_t nn;
        assert_int_equal(homing_store_notifications_list(s, 0, 10, &nv, &nn), 0);
        assert_int_equal(nn, 1);
        assert_string_equal(nv[0].text, SEAL_ADDR " opened");
        assert_string_equal(nv[0].payload, "{\"to\":\"" SEAL_ADDR "\"}");
        homing_notifications_free(nv, nn);
        struct homing_unmatched *u;
        size_t nu;
        assert_int_equal(homing_store_unmatched_list(s, 0, 10, 1, &u, &nu), 0);
        assert_int_equal(nu, 1);
        assert_true(seal_test_has(u[0].raw, "To: <" SEAL_ADDR ">\n"));
        assert_true(seal_test_has(u[0].raw, "\n" SEAL_ADDR ": unknown\n"));
        homing_unmatched_free(u, nu);
        homing_store_close(s);
    }
}

/* Opening a sealed store without its key, or with another, is refused. */
static inline void seal_scenario_refused(const char *url)
{
    struct homing_store *s = NULL;
    char err[256];
    homing_store_seal_use(NULL);
    assert_int_equal(homing_store_open(url, NULL, "normal", &s, err, sizeof err), -ENOKEY);
    assert_true(seal_test_has(err, "sealed with data key"));
    static const uint8_t other[HOMING_SEAL_KEY_LEN] = "not the backend suite's key....";
    struct homing_seal *k;
    assert_int_equal(homing_seal_new(other, &k), 0);
    homing_store_seal_use(k);
    assert_int_equal(homing_store_open(url, NULL, "normal", &s, err, sizeof err), -EKEYREJECTED);
    homing_seal_free(k);
    seal_scenario_key();
}

#endif
