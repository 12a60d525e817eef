/*
 * flood.h: token buckets at the edge, one per client address and tracking URL.
 * A client hammering one URL (a shell loop of curl, a broken proxy) is still
 * answered, but beyond its rate its hits are not recorded; what was suppressed
 * is counted and written as one `suppressed` event per flood, so reports show
 * "1 open (+9,999 suppressed)" instead of ten thousand notifications. Keyed by
 * URL too, so a mail provider's image proxy fetching many recipients' pixels
 * from one address is never limited. One table per loop thread, no locks.
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
    int64_t last_us;      /* last refill */
    int64_t last_drop_us; /* last suppressed hit */
    uint64_t dropped;     /* suppressed and not yet reported */
    uint64_t message;     /* the tracking URL this bucket is for */
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
/* 1 if this hit may be recorded, 0 if it is suppressed (and counted). */
int flood_admit(struct flood *f, const struct homing_addr *client, int64_t now_us, uint16_t kind,
                uint64_t message, uint32_t recipient, uint32_t item);
/* Fills ev with a `suppressed` event for one bucket whose flood has ended, and
 * clears its count; returns 0 if there is none. The sweep resumes at *cursor,
 * looks at most `budget` buckets, so a large table never stalls the loop. */
int flood_sweep(struct flood *f, int64_t now_us, size_t *cursor, size_t budget,
                struct homing_event *ev);

#endif
