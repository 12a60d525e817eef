/*
 * batch_feed.h: the enrichments test_batch_counters stores on each backend
 * (test_store_sqlite.c, test_store_postgresql.c), which then compare every
 * counter table with a count from scratch in their own engine's SQL.
 *
 * Contract: batch_feed registers two messages of three recipients and two
 * links on s, appends hits (opens, clicks, document opens; recipient 0 is a
 * per-message copy; five hours, not in order, so the earliest human time is a
 * min) and stores their enrichments in batches of 1, 2, 3, 4, then random
 * sizes up to batch_max, with verdicts of every class. About one hit in
 * rewrite_one_in is noted in f->rewrite (at most BATCH_FEED_REWRITE_MAX) for
 * batch_feed_reclassify, which flips each between human and scanner as a
 * reclassify does. The sequence is reproducible (a plain LCG, fixed seed).
 */
#ifndef HOMING_TESTS_BATCH_FEED_H
#define HOMING_TESTS_BATCH_FEED_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/store.h"
#include "homing/util.h"

#define BATCH_FEED_REWRITE_MAX 8

/* The verdict classes of reports (docs/reports.md) in SQL both engines take,
 * for the counts from scratch. */
#define SQL_HUMAN   "verdict IN ('human', 'proxy-open')"
#define SQL_MACHINE "verdict IN ('prefetch', 'scanner', 'probe')"
#define SQL_UNKNOWN "verdict NOT IN ('human', 'proxy-open', 'prefetch', 'scanner', 'probe')"
#define SQL_CLASS                                                                                  \
    "CASE WHEN " SQL_HUMAN " THEN 'human' WHEN " SQL_MACHINE " THEN 'machine' ELSE 'unknown' END"

struct batch_feed {
    uint64_t msgs[2];
    int64_t rewrite[BATCH_FEED_REWRITE_MAX];
    int nrewrite;
};

static uint32_t batch_feed_lcg(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

static void batch_feed(struct homing_store *s, int hits, int batch_max, unsigned rewrite_one_in,
                       struct batch_feed *f)
{
    const char *rcpts[] = {"bob@example.net", "carol@example.com", "dave@example.org"};
    const char *links[] = {"https://example.com/a", "https://example.com/b"};
    struct homing_message_spec m = {
        .subject = "t", .recipients = rcpts, .n_recipients = 3, .links = links, .n_links = 2};
    memset(f, 0, sizeof *f);
    for (int i = 0; i < 2; i++) assert_int_equal(homing_store_message_add(s, &m, &f->msgs[i]), 0);
    static const char *const verdicts[] = {"human", "proxy-open", "prefetch",  "scanner",
                                           "probe", "unknown",    "ua-unknown"};
    static const unsigned kinds[] = {HOMING_EV_OPEN, HOMING_EV_CLICK, HOMING_EV_DOCUMENT_OPEN};
    struct homing_store_enrichment *rows = calloc((size_t)batch_max, sizeof *rows);
    assert_non_null(rows);
    uint32_t seed = 12345;
    int done = 0, batches = 0;
    while (done < hits) {
        int size = batches < 4 ? batches + 1 : 1 + (int)(batch_feed_lcg(&seed) % batch_max);
        if (size > hits - done) size = hits - done;
        for (int i = 0; i < size; i++) {
            struct homing_event e;
            memset(&e, 0, sizeof e);
            e.kind = (uint16_t)kinds[batch_feed_lcg(&seed) % 3];
            e.method = HOMING_METHOD_GET;
            e.message = f->msgs[batch_feed_lcg(&seed) % 2];
            e.recipient = (uint32_t)(batch_feed_lcg(&seed) % 4);
            e.item = e.kind == HOMING_EV_CLICK ? 1 + (uint32_t)(batch_feed_lcg(&seed) % 2) : 0;
            int64_t hour = (int64_t)(batch_feed_lcg(&seed) % 5);
            e.time_us = 1700000000000000LL + hour * 3600000000LL + batch_feed_lcg(&seed);
            assert_int_equal(homing_store_events_append(s, &e, 1), 0);
            struct homing_store_enrichment *x = &rows[i];
            memset(x, 0, sizeof *x);
            x->event = e.id;
            x->message = e.message;
            x->recipient = e.recipient;
            x->kind = e.kind;
            x->item = e.item;
            x->time_us = e.time_us;
            homing_strlcpy(x->verdict, verdicts[batch_feed_lcg(&seed) % 7], sizeof x->verdict);
            x->rules_version = 1;
            x->json = "{}";
            if (f->nrewrite < BATCH_FEED_REWRITE_MAX && batch_feed_lcg(&seed) % rewrite_one_in == 0)
                f->rewrite[f->nrewrite++] = e.id;
        }
        assert_int_equal(homing_store_enrichments_put(s, rows, (size_t)size, rows[size - 1].event),
                         0);
        done += size;
        batches++;
    }
    free(rows);
}

static void batch_feed_reclassify(struct homing_store *s, const struct batch_feed *f)
{
    for (int i = 0; i < f->nrewrite; i++) {
        struct homing_store_enrichment *e;
        assert_int_equal(homing_store_enrichment_get(s, f->rewrite[i], &e), 0);
        homing_strlcpy(e->verdict, strcmp(e->verdict, "human") ? "human" : "scanner",
                       sizeof e->verdict);
        assert_int_equal(homing_store_enrichments_rewrite(s, e, 1), 0);
        homing_store_enrichments_free(e, 1);
    }
    assert_true(f->nrewrite > 0);
}

#endif
