/*
 * batch.c: a verified hit's way to its answer. The hit's event is appended to
 * this loop thread's journal writer (homing/journal.h), where a crash or kill
 * of the daemon no longer loses it; the ingester thread (ingest.c) moves it
 * into the store. With store.sync = normal the hit is answered at once. With
 * store.sync = full the journal must reach the disk first: hits of one round
 * of the event loop collect here and are answered after one fdatasync at the
 * end of the round (group commit), or when batch_max of them wait. A hit
 * over its flood rate takes the same way as a count (homing/journal.h).
 * Errors here repeat once per hit (a full disk): logged at most once a second
 * each (log_error_limited).
 */
#include <errno.h>
#include <stdlib.h>

#include "homing/journal.h"
#include "document.h"
#include "log.h"
#include "serve.h"

int batch_init(struct worker *w, size_t batch_max)
{
    w->batch_head = w->batch_tail = NULL;
    w->batch_n = 0;
    w->batch_max = batch_max;
    return 0;
}

static void answer(struct hit *h, int committed)
{
    public_answer(h, committed);
    public_hit_free(h);
}

void batch_add(struct worker *w, struct hit *h)
{
    static struct log_limit limit = LOG_LIMIT_INIT;
    struct serve *s = w->serve;
    int r = h->suppressed ? homing_journal_append_suppressed(s->journal, (unsigned)w->index, &h->ev)
                          : homing_journal_append(s->journal, (unsigned)w->index, &h->ev);
    if (r < 0) {
        atomic_fetch_add(&s->metrics.store_errors, 1);
        log_error_limited(&limit, "cannot journal a hit: %s", strerror(-r));
        /* Not in the journal, so never stored: a download must not stay
         * counted against its grant. (A failed flush below is different: the
         * record is there and will be stored, and counted then.) */
        document_unanswered(s, &h->ev);
        answer(h, 0);
        return;
    }
    if (!s->sync_full) {
        answer(h, 1);
        return;
    }
    h->next = NULL;
    if (w->batch_tail)
        w->batch_tail->next = h;
    else
        w->batch_head = h;
    w->batch_tail = h;
    w->batch_n++;
    if (w->batch_n >= w->batch_max) batch_commit(w);
}

void batch_commit(struct worker *w)
{
    static struct log_limit limit = LOG_LIMIT_INIT;
    if (w->batch_n == 0) return;
    struct hit *list = w->batch_head;
    w->batch_head = w->batch_tail = NULL;
    w->batch_n = 0;
    int r = homing_journal_sync(w->serve->journal, (unsigned)w->index);
    if (r < 0) {
        atomic_fetch_add(&w->serve->metrics.store_errors, 1);
        log_error_limited(&limit, "cannot flush the journal: %s", strerror(-r));
    }
    /* A failed flush answers 503: the hit may or may not be on disk, and its
     * client will try again (the event may then be recorded twice, never lost). */
    for (struct hit *h = list, *next; h; h = next) {
        next = h->next;
        answer(h, r == 0);
    }
}
