/*
 * metrics.h: the daemon's counters and histograms, updated lock-free from any
 * thread and rendered in the Prometheus text format on the admin listener.
 */
#ifndef HOMING_SERVE_METRICS_H
#define HOMING_SERVE_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "homing/util.h"

enum metrics_hit {
    METRICS_HIT_OPEN,
    METRICS_HIT_CLICK,
    METRICS_HIT_DOCUMENT,
    METRICS_HIT_UNSUBSCRIBE, /* one-click unsubscribe POSTs journaled */
    METRICS_HIT_KINDS,
};

#define METRICS_BATCH_BUCKETS   8  /* 1 4 16 ... 16384, +Inf */
#define METRICS_LATENCY_BUCKETS 10 /* 50us .. 100ms, +Inf */

struct metrics {
    atomic_ullong hits[METRICS_HIT_KINDS];    /* recorded (committed) hits */
    atomic_ullong invalid[METRICS_HIT_KINDS]; /* tokens that did not verify */
    atomic_ullong store_errors;               /* batches that failed to commit */
    atomic_ullong suppressed;                 /* answered, not recorded: flood control */
    atomic_ullong redirects_refused;          /* clicks whose stored destination failed the check */
    atomic_ullong demo_hits; /* the example pixel (HOMING_ID_DEMO): answered, not recorded */
    atomic_llong queue_depth;
    atomic_int background_idle; /* flood mode (thread.h), set by serve's watch */
    atomic_int leader;          /* this node runs the background stages (leader.c) */
    atomic_ullong batch_count[METRICS_BATCH_BUCKETS + 1];
    atomic_ullong batch_sum;
    atomic_ullong batches;
    atomic_ullong commit_us_count[METRICS_LATENCY_BUCKETS + 1];
    atomic_ullong commit_us_sum;
    atomic_ullong api_requests;
    atomic_ullong api_unauthorized;
    /* the public listener's guards (guard.c, serve.c, public.c) */
    atomic_llong conn_open;        /* connections accepted and not yet closed */
    atomic_ullong conn_refused[2]; /* enum conn_refusal: per client, total */
    atomic_ullong accept_fd_limit; /* accept pauses for want of descriptors */
    atomic_ullong bad_framing;     /* 400: conflicting Content-Length / Transfer-Encoding */
    atomic_ullong reloads;         /* SIGHUPs handled (reload.c) */
    unsigned conn_max, conn_max_per_client; /* the caps, for the exposition; 0: none */
};

void metrics_observe_batch(struct metrics *m, size_t size, int64_t commit_us);
/* Appends the Prometheus text exposition to out. */
int metrics_render(struct metrics *m, struct homing_buf *out);

#endif
