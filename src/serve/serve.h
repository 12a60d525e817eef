/*
 * serve.h: the daemon's shared state (internal to src/serve/).
 *
 * Threads: N public event loops (one h2o context and one SO_REUSEPORT socket
 * each) and one admin event loop. A hit is verified on its loop thread, its
 * event appended to that thread's journal writer (homing/journal.h) and then
 * answered (with store.sync = full: after one fdatasync at the end of the
 * round, batch.c). The ingester thread (ingest.c) moves journaled events into
 * the store. Nothing is answered before its event is journaled.
 *
 * Why a journal and no transaction before the answer, nor a writer thread:
 * measured on the 2-core reference machine, a writer thread cost two context
 * switches per batch, and a transaction per loop round held every answer for
 * it (0.40-0.46x nginx); a copy into the page cache promises the same as
 * SQLite's synchronous=normal did (see docs/internals/serve.md and
 * docs/benchmarks.md).
 */
#ifndef HOMING_SERVE_H
#define HOMING_SERVE_H

#include <pthread.h>
#include <stdatomic.h>

#define H2O_USE_LIBUV 0
#include <h2o.h>

#include "homing/config.h"
#include "homing/event.h"
#include "homing/service.h"
#include "homing/store.h"
#include "homing/token.h"
#include "flood.h"
#include "metrics.h"
#include "route.h"

#define SERVE_THREADS_MAX      64
#define SERVE_REQUEST_BODY_MAX (1 << 20) /* admin API bodies */
/* The public listener's routes take no body; 8 KiB leaves room for a one-click
 * unsubscribe POST (RFC 8058). h2o answers a longer one with 413 and closes,
 * before reading it (a Content-Length) or as soon as it grows past it (chunked). */
#define PUBLIC_BODY_MAX 8192
/* After accept fails for want of file descriptors the listener sleeps this
 * long (level-triggered epoll would otherwise wake the loop for it at once,
 * again and again); connections in hand are served meanwhile. */
#define SERVE_ACCEPT_PAUSE_MS 100

struct serve;
struct worker;
struct homing_journal;

/* Links a hit to its request while both live; see public.c. */
struct hit_link;

/* One recorded hit on its way to the journal and its answer. Owned by the
 * loop thread; on its stack when answered at once (store.sync = normal),
 * malloc'd (heap = 1) when it waits for the end of the round's flush. */
struct hit {
    struct hit *next;      /* the worker's batch */
    struct hit_link *link; /* NULL when not waiting, or once the request is gone */
    h2o_req_t *req;
    h2o_iovec_t location; /* click: redirect target in req's pool; pixel: NULL */
    void *doc;            /* document: its stream state in req's pool (document.c) */
    int heap;             /* public_hit_free frees the struct itself */
    int suppressed;       /* over its client's flood rate: journaled as a count */
    struct homing_event ev;
};

/* A direct-mapped cache of click destinations, one per loop thread. */
struct link_cache_entry {
    uint64_t message;
    uint32_t index;
    char *url;   /* as homing_url_check writes it; NULL: empty or refused */
    int refused; /* the stored destination failed homing_url_check */
};

/* Old TLS contexts one loop thread keeps at most (tls.c): while all are
 * waiting out their grace, a further reload reaches this loop later. */
#define TLS_RETIRED_MAX 8

struct worker {
    struct serve *serve;
    int index;
    pthread_t thread;
    _Atomic pid_t tid; /* set by the thread itself; read by serve's watch */
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    int listen_fd;
    int guarded;      /* the public listener's: connections pass conn_guard_admit */
    unsigned tls_gen; /* the TLS context generation accept_ctx holds (tls.c) */
    /* Contexts this loop switched away from, kept until no connection it
     * accepted can still call SSL_new on them (tls.c, TLS_RETIRED_MAX). */
    struct {
        SSL_CTX *ctx;
        int64_t since_us; /* homing_mono_us() at the switch */
    } tls_retired[TLS_RETIRED_MAX];
    unsigned tls_nretired;
    _Atomic unsigned long rounds; /* loop rounds run: the keyring's grace periods (reload.c) */
    h2o_timeout_t accept_pause;   /* SERVE_ACCEPT_PAUSE_MS, for accept_resume */
    h2o_timeout_entry_t accept_resume;
    int64_t fd_limit_logged_us;
    struct homing_store *store; /* this thread's own connection */
    struct link_cache_entry *cache;
    size_t cache_size;
    /* The batch of hits waiting for the next commit. */
    struct hit *batch_head, *batch_tail; /* store.sync = full: hits awaiting the flush */
    size_t batch_n, batch_max;
    struct flood flood;
};

struct serve {
    struct homing_config *config;
    /* Loop threads load it once per use; a reload publishes a new one and
     * frees the old after every loop has finished a round (reload.c). */
    struct homing_keyring *_Atomic keyring;
    struct trusted_proxies proxies;
    const char *base_url;
    const char *domain_base_urls; /* public.domain_base_urls */
    const char *docs_dir;         /* docs.dir, read once at start: never a lookup per hit */
    h2o_globalconf_t public_conf, admin_conf;
    int nthreads;
    struct worker workers[SERVE_THREADS_MAX];
    struct worker admin;
    struct homing_store *checkpoint_store; /* the checkpointer thread's handle */
    struct homing_journal *journal;        /* hits on their way to the store */
    int sync_full;                         /* store.sync = full: flush before answering */
    struct homing_store *ingest_store;     /* the ingester thread's handle */
    pthread_t ingester;
    atomic_int ingest_stopping; /* set after the loop threads have stopped */
    int ingest_urgent;          /* the ingester's own: at normal priority (ingest.c) */
    struct metrics metrics;
    atomic_int stopping;
    struct doc_pending *doc_pending; /* downloads answered, not yet stored (document.c) */
    struct enricher *enricher;       /* the enrichment thread's state (enrich.c) */
    struct notifier *notifier;       /* the notifier's and deliverer's state (notify.c) */
    /* TLS on the public listener (tls.c): the current context, NULL for
     * cleartext; replaced under tls_lock, tls_gen moved with each. */
    SSL_CTX *tls_ctx;
    pthread_mutex_t tls_lock;
    atomic_uint tls_gen;
    /* Moved by each SIGHUP: the enrichment and notifier threads reopen their
     * data files (User-Agent rules, machine knowledge, geo) when they see it move. */
    atomic_uint reload_gen;
    /* One node of those sharing a store runs the background stages
     * (leader.c); they stop when stopping or stages_stop is set. */
    struct leader *leader;
    atomic_int stages_stop;
    /* leader.c's listener: moved when another process commits events or
     * notifications to the store (backends with HOMING_STORE_CAP_LISTEN);
     * listening is 1 while it hears them (the stream then reads the store
     * when woken, not every STREAM_POLL_MS). */
    struct listener *listener;
    atomic_int listening;
    atomic_uint woke_events, woke_notifications;
};

/* Whether the background stages (enrichment, notifier, deliverer, privacy
 * sweeper) must stop: the daemon stops, or this node is no longer the leader. */
static inline int serve_stages_stopping(struct serve *s)
{
    return atomic_load(&s->stopping) || atomic_load(&s->stages_stop);
}

/* tls.c: see its header comment. tls_load: 0 and s->tls_ctx NULL when
 * public.tls_cert and public.tls_key are empty; -EINVAL with err set when
 * only one is, or the files do not load or match. tls_context_new is the
 * builder both use (also for homing doctor's check). */
int tls_context_new(const char *cert, const char *key, SSL_CTX **out, char *err, size_t errcap);
int tls_load(struct serve *s, char *err, size_t errcap);
int tls_reload(struct serve *s);
/* On a loop thread: take a reference on the current context (attach, before
 * the loop runs), switch to a newer one if a reload published it and free
 * the old ones whose grace is over (refresh, before each accept and after
 * each loop round), drop them all (detach, after the loop stopped). */
void tls_worker_attach(struct worker *w);
void tls_worker_refresh(struct worker *w);
void tls_worker_detach(struct worker *w);
void tls_free(struct serve *s);

/* reload.c: SIGHUP on the main thread. Reloads keys.file (a new keyring is
 * published; the old one is freed once every loop thread has finished a
 * round after the swap, so none still uses it), the TLS certificate, and
 * asks the enrichment and notifier threads to reopen their data files. A
 * part that fails to load is logged and the old one kept. */
void serve_reload(struct serve *s);

/* privacy.c: the daemon's privacy thread, an object serve.c owns: init reads
 * the privacy options (logging what is wrong) and takes the thread's own store
 * handle; start runs the sweep every second and retention daily until
 * *stopping is set; stop joins the thread and closes the handle. */
struct privacy_sweeper {
    struct homing_store *store;
    struct homing_privacy_settings p;
    atomic_int *stopping;
    pthread_t thread;
    int running;
};
int privacy_sweeper_init(struct privacy_sweeper *w, const struct homing_config *c,
                         struct homing_store *store, atomic_int *stopping);
int privacy_sweeper_start(struct privacy_sweeper *w);
/* halt: joins the thread (after *stopping is set), keeps the handle, so
 * start can run it again (leader.c); stop: halt and close the handle. */
void privacy_sweeper_halt(struct privacy_sweeper *w);
void privacy_sweeper_stop(struct privacy_sweeper *w);

/* leader.c: the background stages run on one node at a time. With a backend
 * that has HOMING_STORE_CAP_LEADER, leader_start takes lock (a handle used
 * for nothing else: its connection holds the lock) and starts a thread that
 * tries for the lock every LEADER_TRY_MS, starts the stages when it has it
 * and halts them when the lock's connection is lost; lock NULL (SQLite: one
 * daemon per store) starts them at once. listener (NULL: none) is a handle
 * for leader.c's listener thread (HOMING_STORE_CAP_LISTEN). leader_stop
 * halts the stages, joins the threads and closes both handles; the stages'
 * own _stop functions free them after. */
int leader_start(struct serve *s, struct homing_store *lock, struct homing_store *listener,
                 struct privacy_sweeper *sweeper);
void leader_stop(struct serve *s);

/* guard.c: caps on the public listener's open connections, in total and
 * per client address (an IPv4 address, an IPv6 /64; peers in
 * public.trusted_proxies are not capped per address: they carry many
 * clients). One set of counters for all loop threads, lock-free: a fixed
 * table of counters indexed by a keyed hash of the address, two per address,
 * where the smaller counts it (a count-min sketch: never below the truth, so
 * the cap always holds; another address shares both counters only by a
 * chance the key keeps attackers from choosing). 0: no cap. */
#define CONN_GUARD_SLOTS 16384 /* counters per row, a power of two; 2 rows */

enum conn_refusal {
    CONN_REFUSED_PER_CLIENT,
    CONN_REFUSED_TOTAL,
    CONN_REFUSALS,
};

int conn_guard_init(struct serve *s, unsigned max_total, unsigned max_per_client);
/* Counts a newly accepted public connection until h2o closes its socket.
 * 0: admitted; -EMLINK: over the client's cap; -EUSERS: over the total (the
 * refusal counted in metrics); the caller then closes the socket. */
int conn_guard_admit(h2o_socket_t *sock);

/* batch.c */
int batch_init(struct worker *w, size_t batch_max);
/* Journals a hit and answers it (with store.sync = full: queues it for the
 * flush at the end of the round, at once if batch_max wait). Takes h. */
void batch_add(struct worker *w, struct hit *h);
/* store.sync = full: flushes the journal and answers every queued hit. */
void batch_commit(struct worker *w);

/* ingest.c: the thread moving journaled hits into the store. ingester_stop
 * empties the journal; call it after the loop threads have stopped. */
int ingester_start(struct serve *s);
void ingester_stop(struct serve *s);

/* public.c */
void public_register(struct serve *s, h2o_hostconf_t *host);
/* Answers a hit after its commit (committed = 0: the store failed). */
void public_answer(struct hit *h, int committed);
/* Releases a hit (detaching it from its request if that still lives). */
void public_hit_free(struct hit *h);

/* admin.c */
void admin_register(struct serve *s, h2o_hostconf_t *host);

/* notify.c: the notifier thread (policy over committed events, webhook
 * deliveries) and the SSE stream of the admin listener. notifier_init takes
 * the notifier's own store handle (closed by notifier_stop); notifier_stop
 * waits for the thread after `stopping` is set. */
int notifier_init(struct serve *s, struct homing_store *store);
int notifier_start(struct serve *s);
/* Joins both threads (after serve_stages_stopping); start may run them again. */
void notifier_halt(struct serve *s);
void notifier_stop(struct serve *s);
/* GET /api/v1/stream on the admin loop: -EINVAL for a bad Last-Event-ID,
 * -EBUSY when STREAM_CLIENTS_MAX streams are open. */
int stream_start(struct worker *w, h2o_req_t *req);

/* enrich.c: the enrichment thread (verdicts, readers, forwards) following
 * committed events by the store cursor HOMING_ENRICH_CURSOR. enricher_init
 * takes the thread's own store handle (closed by enricher_stop) and never
 * fails for missing geo databases; enricher_stop waits for the thread after
 * `stopping` is set. enricher_running: 1 while the cursor moves, so consumers
 * that need enrichments wait for it (and do not when it is off). */
int enricher_init(struct serve *s, struct homing_store *store);
int enricher_start(struct serve *s);
/* Joins the thread (after serve_stages_stopping); start may run it again. */
void enricher_halt(struct serve *s);
void enricher_stop(struct serve *s);
int enricher_running(const struct serve *s);
/* For the notifier: events with id <= *upto are enriched (INT64_MAX when the
 * thread is off); the stored enrichment of ev rebuilt as lib/reader's struct
 * with its reader flags (-ENOENT: none, e.g. an event that is not a hit). */
struct homing_enrichment;
int enricher_horizon(const struct serve *s, struct homing_store *st, int64_t *upto);
int enricher_lookup(struct homing_store *st, const struct homing_event *ev,
                    struct homing_enrichment *out, int *new_reader, int *forward);

#endif
