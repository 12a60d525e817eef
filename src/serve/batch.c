/*
 * batch.c: group commit on the loop thread. Hits verified during one round of
 * the event loop collect in the worker's batch; at the end of the round (or
 * when batch_max is reached) they are appended to the store in one transaction
 * and only then answered. Under load a round holds many hits, so one commit
 * covers them all; when idle a batch is a single hit and its latency one insert.
 */
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "serve.h"

int batch_init(struct worker *w, size_t batch_max)
{
    w->batch_head = w->batch_tail = NULL;
    w->batch_n = 0;
    w->batch_max = batch_max;
    w->batch_events = calloc(batch_max, sizeof *w->batch_events);
    return w->batch_events ? 0 : -ENOMEM;
}

void batch_free(struct worker *w)
{
    free(w->batch_events);
    w->batch_events = NULL;
}

void batch_add(struct worker *w, struct hit *h)
{
    h->next = NULL;
    if (w->batch_tail)
        w->batch_tail->next = h;
    else
        w->batch_head = h;
    w->batch_tail = h;
    w->batch_n++;
    atomic_fetch_add_explicit(&w->serve->metrics.queue_depth, 1, memory_order_relaxed);
    if (w->batch_n >= w->batch_max) batch_commit(w);
}

void batch_commit(struct worker *w)
{
    size_t n = w->batch_n;
    if (n == 0) return;
    struct hit *list = w->batch_head;
    w->batch_head = w->batch_tail = NULL;
    w->batch_n = 0;
    atomic_fetch_sub_explicit(&w->serve->metrics.queue_depth, (long long)n, memory_order_relaxed);

    size_t i = 0;
    for (struct hit *h = list; h; h = h->next) w->batch_events[i++] = h->ev;
    int64_t t0 = homing_mono_us();
    int r = homing_store_events_append(w->store, w->batch_events, n);
    int64_t took = homing_mono_us() - t0;
    if (r < 0) {
        atomic_fetch_add(&w->serve->metrics.store_errors, 1);
        log_error("cannot commit %zu events: %s", n, homing_store_errmsg(w->store));
    } else {
        metrics_observe_batch(&w->serve->metrics, n, took);
    }
    i = 0;
    for (struct hit *h = list, *next; h; h = next, i++) {
        next = h->next;
        if (r == 0) h->ev.id = w->batch_events[i].id;
        public_answer(h, r == 0);
        public_hit_free(h);
    }
}
