/*
 * flood.h: token buckets at the edge, one per client address and tracking URL.
 * A client hammering one URL (a shell loop of curl, a broken proxy) is still
 * answered, but beyond its rate its hits are not recorded as events: each is
 * journaled as a count of its flood before its answer (public.c, batch.c),
 * and the ingester turns a flood quiet for FLOOD_QUIET_US into one
 * `suppressed` event with the count (ingest.c, homing/journal.h), so reports
 * show "1 open (+9,999 suppressed)" instead of ten thousand notifications,
 * and a crash loses no count. Keyed by URL too, so a mail provider's image
 * proxy fetching many recipients' pixels from one address is never limited.
 * One table per loop thread, no locks.
 */
#ifndef HOMING_SERVE_FLOOD_H
#define HOMING_SERVE_FLOOD_H

#include <stddef.h>
#include <stdint.h>

#include "homing/event.h"
#include "homing/util.h"

#define FLOOD_TABLE_MAX (1u << 20) /* buckets per thread, named limit */
#define FLOOD_QUIET_US  2000000    /* a flood ends after 2 s without a suppressed hit */

struct flood_bucket {
    struct homing_addr client;
    double tokens;
    int64_t last_us;  /* last refill */
    uint64_t message; /* the tracking URL this bucket is for */
    uint32_t recipient;
    uint32_t item;
    uint16_t kind;
};

struct flood {
    struct flood_bucket *table;
    size_t size;
    double rate;  /* tokens per second; 0 disables flood control */
    double burst; /* bucket capacity */
};

int flood_init(struct flood *f, size_t size, double rate, double burst);
void flood_free(struct flood *f);
/* 1 if this hit may be recorded, 0 if it is suppressed (the caller journals
 * it as a count: homing_journal_append_suppressed). */
int flood_admit(struct flood *f, const struct homing_addr *client, int64_t now_us, uint16_t kind,
                uint64_t message, uint32_t recipient, uint32_t item);

#endif
