/*
 * ingest.c: the ingester thread, moving journaled hits (batch.c) into the
 * store in transactions of up to HOMING_JOURNAL_BATCH events, as a background
 * thread (thread.h: nice +10, or only idle CPU during a flood) while its
 * backlog (homing_queue_depth: events journaled, not yet stored) is small and
 * at normal priority while it is large. The enrichment and notifier
 * threads follow the store, so its lag is theirs. On stop it runs after the
 * loop threads have finished and empties the journal before the process exits.
 *
 * Flood control's counts reach the store with the events (homing/journal.h);
 * this thread closes a flood into its `suppressed` event once no suppressed
 * hit of it came for FLOOD_QUIET_US, looking every INGEST_FLOOD_CLOSE_US when
 * it has caught up with the journal (so a flood is not closed while its later
 * hits still wait in the journal), and closes every flood on stop.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "flood.h"
#include "homing/journal.h"
#include "log.h"
#include "thread.h"
#include "serve.h"

#define INGEST_WAIT_MS    100 /* longest sleep with nothing to do (stop checks) */
#define INGEST_RETRY_MS   200 /* pause after a store error before trying again */
#define INGEST_STOP_TRIES 50  /* store errors tolerated while emptying on stop */
#define INGEST_PASS_MAX   (4 * HOMING_JOURNAL_BATCH) /* events per pass */
/* A pass that moved fewer than INGEST_GATHER events is followed by a pause of
 * INGEST_GATHER_US: under load the next transaction then carries hundreds of
 * events instead of a few (each transaction costs a lock, a cursor update, a
 * WAL append and a wake-up); idle, a hit still reaches the store at once. */
#define INGEST_GATHER    256
#define INGEST_GATHER_US 2000
/* Backlog (events) above which the ingester competes at normal priority, and
 * below which it goes back to being a background thread
 * (thread_ingest_priority): a burst of a few seconds is absorbed by the
 * journal while the loop threads keep the CPU; a sustained flood cannot grow
 * the journal without bound. */
#define INGEST_URGENT_ABOVE   262144
#define INGEST_URGENT_BELOW   16384
#define INGEST_FLOOD_CLOSE_US 250000 /* how often quiet floods are looked for */

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

/* Closes the floods whose last suppressed hit is older than before_us. */
static void close_floods(struct serve *s, int64_t before_us)
{
    static struct log_limit limit = LOG_LIMIT_INIT;
    int r = homing_journal_floods_close(s->journal, s->ingest_store, before_us, NULL);
    if (r < 0) {
        atomic_fetch_add(&s->metrics.store_errors, 1);
        log_error_limited(&limit, "journal: cannot write suppressed hits' counts: %s (%s)",
                          strerror(-r), homing_store_errmsg(s->ingest_store));
    }
}

/* One pass: how many records it moved, negative on a store error. */
static int ingest_pass(struct serve *s)
{
    static struct log_limit limit = LOG_LIMIT_INIT;
    size_t moved = 0, refused = 0;
    int64_t t0 = homing_mono_us();
    int r = homing_journal_ingest(s->journal, s->ingest_store, INGEST_PASS_MAX, &moved, &refused);
    int64_t took = homing_mono_us() - t0;
    if (moved) metrics_observe_batch(&s->metrics, moved, took);
    if (refused) {
        atomic_fetch_add(&s->metrics.store_errors, refused);
        log_error("journal: the store refused %zu event(s); skipped", refused);
    }
    uint64_t backlog = homing_journal_backlog(s->journal);
    atomic_store_explicit(&s->metrics.queue_depth, (long long)backlog, memory_order_relaxed);
    if (!s->ingest_urgent && backlog > INGEST_URGENT_ABOVE) {
        s->ingest_urgent = 1;
        thread_ingest_priority(1);
    } else if (s->ingest_urgent && backlog < INGEST_URGENT_BELOW) {
        s->ingest_urgent = 0;
        thread_ingest_priority(0);
    }
    if (r < 0) {
        atomic_fetch_add(&s->metrics.store_errors, 1);
        log_error_limited(&limit, "journal: cannot move hits into the store: %s (%s)", strerror(-r),
                          homing_store_errmsg(s->ingest_store));
        return r;
    }
    return moved > INT_MAX ? INT_MAX : (int)moved;
}

static void *ingester_main(void *arg)
{
    pthread_setname_np(pthread_self(), "homing-ingest");
    struct serve *s = arg;
    thread_ingest_priority(0);
    int idle = 0;
    int64_t closed_us = 0;
    while (!atomic_load(&s->ingest_stopping)) {
        int r = ingest_pass(s);
        int64_t now = homing_mono_us();
        if (r >= 0 && r < INGEST_PASS_MAX && now - closed_us >= INGEST_FLOOD_CLOSE_US) {
            close_floods(s, homing_now_us() - FLOOD_QUIET_US);
            closed_us = now;
        }
        if (r < 0) {
            sleep_us(INGEST_RETRY_MS * 1000L);
        } else if (r == 0) {
            /* A wait that returns at once twice in a row would spin on a
             * record that cannot be read: pause a little then. */
            if (idle++) sleep_us(1000);
            homing_journal_wait(s->journal, INGEST_WAIT_MS);
        } else {
            idle = 0;
            if (r < INGEST_GATHER) sleep_us(INGEST_GATHER_US);
        }
    }
    /* The loop threads are gone: what is journaled now is all there will be. */
    thread_ingest_priority(1); /* and the process waits for it to exit */
    int tries = 0, r;
    while ((r = ingest_pass(s)) != 0 && tries < INGEST_STOP_TRIES)
        if (r < 0) tries++, sleep_us(INGEST_RETRY_MS * 1000L);
    if (r < 0)
        log_error("journal: %llu hit(s) stay in the journal; the next start stores them",
                  (unsigned long long)homing_journal_backlog(s->journal));
    else
        close_floods(s, INT64_MAX); /* their buckets stop with this run */
    thread_background_end();
    return NULL;
}

int ingester_start(struct serve *s)
{
    return -pthread_create(&s->ingester, NULL, ingester_main, s);
}

void ingester_stop(struct serve *s)
{
    atomic_store(&s->ingest_stopping, 1);
    homing_journal_wake(s->journal);
    pthread_join(s->ingester, NULL);
}
