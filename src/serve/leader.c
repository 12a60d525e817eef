/*
 * leader.c: the background stages (enrichment, the notifier and webhook
 * deliverer, the privacy sweeper) run on one node at a time, and every node
 * hears what the others store.
 *
 * Leader: with a backend that has HOMING_STORE_CAP_LEADER (PostgreSQL, where
 * several `homing serve` nodes share one store) a thread tries for the
 * store's leader lock every LEADER_TRY_MS on a handle of its own (the lock is
 * that connection's session: it ends when the process dies or the connection
 * is lost). Gaining it starts the stages; losing it halts them (each stage's
 * thread is joined; a stage resumes from its store cursor when started
 * again). A node that is not the leader still answers hits, journals them
 * and stores its journal, and serves the admin API and the stream. Without
 * the capability (SQLite: one daemon per store) the node is the leader from
 * the start and no thread runs. /metrics shows homing_leader 0|1.
 *
 * Listener: with HOMING_STORE_CAP_LISTEN a thread waits on its own handle
 * (LISTEN) and moves s->woke_events / s->woke_notifications when anyone
 * commits events or notifications, so each node's stream (notify.c) reads
 * the store when something was stored, on whichever node.
 *
 * Contract: one struct leader per daemon, owned by its struct serve
 * (s->leader), made by leader_start and freed by leader_stop; every stage's
 * start and halt run on the leader thread (or the main thread for SQLite and
 * at stop), never two at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homing/store_engine.h"
#include "log.h"
#include "serve.h"

#define LEADER_TRY_MS       1000             /* how often a node tries for, or checks, the lock */
#define LEADER_STEP_MS      50               /* how often a waiting thread looks at the stop flag */
#define LEADER_LOG_EVERY_US (60 * 1000000LL) /* repeated errors: one line a minute */
#define LISTEN_WAIT_MS      250              /* one wait of the listener (then the stop flag) */
#define LISTEN_RETRY_MS     1000             /* after a lost connection */

struct leader {
    struct serve *serve;
    struct homing_store *lock; /* NULL: always the leader */
    struct privacy_sweeper *sweeper;
    pthread_t thread;
    int thread_started;
    int stages; /* the stages run */
};

struct listener {
    struct serve *serve;
    struct homing_store *store;
    pthread_t thread;
    int started;
};

static void nap_ms(struct serve *s, long long ms)
{
    for (long long slept = 0; slept < ms && !atomic_load(&s->stopping); slept += LEADER_STEP_MS) {
        struct timespec ts = {0, LEADER_STEP_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void stages_start(struct leader *l)
{
    struct serve *s = l->serve;
    atomic_store(&s->stages_stop, 0);
    if (enricher_start(s) < 0) log_error("cannot start the enrichment thread");
    if (notifier_start(s) < 0) log_error("cannot start the notifier thread");
    if (privacy_sweeper_start(l->sweeper) < 0)
        log_error("cannot start the privacy thread: truncation and retention do not run");
    l->stages = 1;
    atomic_store(&s->metrics.leader, 1);
}

/* Each stage stops between two store transactions, so a page in hand is
 * done again by whoever leads next (its cursor did not move). */
static void stages_halt(struct leader *l)
{
    struct serve *s = l->serve;
    atomic_store(&s->stages_stop, 1);
    notifier_halt(s);
    enricher_halt(s);
    privacy_sweeper_halt(l->sweeper);
    l->stages = 0;
    atomic_store(&s->metrics.leader, 0);
}

static void *leader_main(void *arg)
{
    pthread_setname_np(pthread_self(), "homing-leader");
    struct leader *l = arg;
    struct serve *s = l->serve;
    int said_follower = 0;
    int64_t error_logged = 0;
    while (!atomic_load(&s->stopping)) {
        int held = 0;
        int r = homing_store_leader(l->lock, &held);
        if (r < 0) {
            int64_t now = homing_mono_us();
            if (l->stages || !error_logged || now - error_logged >= LEADER_LOG_EVERY_US) {
                error_logged = now;
                log_warn("leader: %s", homing_store_errmsg(l->lock));
            }
            held = 0;
        }
        if (held && !l->stages) {
            log_info("leader: this node is the leader: starting enrichment, notifications, "
                     "webhook deliveries and the privacy sweeper");
            stages_start(l);
            said_follower = 0;
        } else if (!held && l->stages) {
            log_warn("leader: lost the leader lock (its connection to the store ended): "
                     "stopping enrichment, notifications, webhook deliveries and the privacy "
                     "sweeper until this node is the leader again");
            stages_halt(l);
        } else if (!held && !said_follower && r == 0) {
            log_info("leader: another node is the leader: this node answers hits and stores "
                     "its journal; background work runs there (trying every %d ms)",
                     LEADER_TRY_MS);
            said_follower = 1;
        }
        nap_ms(s, LEADER_TRY_MS);
    }
    return NULL;
}

static void *listener_main(void *arg)
{
    pthread_setname_np(pthread_self(), "homing-listen");
    struct listener *li = arg;
    struct serve *s = li->serve;
    int64_t error_logged = 0;
    while (!atomic_load(&s->stopping)) {
        unsigned woke = 0;
        int r = homing_store_listen_wait(li->store, LISTEN_WAIT_MS, &woke);
        if (r < 0) {
            /* Streams poll the store meanwhile (notify.c). */
            atomic_store(&s->listening, 0);
            int64_t now = homing_mono_us();
            if (!error_logged || now - error_logged >= LEADER_LOG_EVERY_US) {
                error_logged = now;
                log_warn("listen: %s: the stream polls the store until it is back",
                         homing_store_errmsg(li->store));
            }
            nap_ms(s, LISTEN_RETRY_MS);
            continue;
        }
        if (woke & HOMING_STORE_WOKE_EVENTS) atomic_fetch_add(&s->woke_events, 1);
        if (woke & HOMING_STORE_WOKE_NOTIFICATIONS) atomic_fetch_add(&s->woke_notifications, 1);
        atomic_store(&s->listening, 1);
    }
    return NULL;
}

int leader_start(struct serve *s, struct homing_store *lock, struct homing_store *listen,
                 struct privacy_sweeper *sweeper)
{
    struct leader *l = calloc(1, sizeof *l);
    struct listener *li = listen ? calloc(1, sizeof *li) : NULL;
    if (!l || (listen && !li)) {
        free(l);
        free(li);
        homing_store_close(lock);
        homing_store_close(listen);
        return -ENOMEM;
    }
    l->serve = s;
    l->lock = lock;
    l->sweeper = sweeper;
    s->leader = l;
    if (li) {
        li->serve = s;
        li->store = listen;
        s->listener = li;
        if (pthread_create(&li->thread, NULL, listener_main, li) == 0)
            li->started = 1;
        else
            log_error("cannot start the listener thread: the stream polls the store");
    }
    if (!lock) {
        stages_start(l); /* the store is this node's alone */
        return 0;
    }
    if (pthread_create(&l->thread, NULL, leader_main, l) != 0) return -EAGAIN;
    l->thread_started = 1;
    return 0;
}

void leader_stop(struct serve *s)
{
    struct leader *l = s->leader;
    if (l) {
        if (l->thread_started) pthread_join(l->thread, NULL); /* after s->stopping */
        if (l->stages) stages_halt(l);
        homing_store_close(l->lock); /* gives the lock up at once */
        s->leader = NULL;
        free(l);
    }
    struct listener *li = s->listener;
    if (li) {
        if (li->started) pthread_join(li->thread, NULL);
        homing_store_close(li->store);
        s->listener = NULL;
        free(li);
    }
}
