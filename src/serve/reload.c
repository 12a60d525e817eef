/*
 * reload.c: what SIGHUP reloads in a running daemon, without a restart and
 * without dropping a connection (serve.h, serve_reload).
 *
 * The keyring is read by every loop thread (token verification on the public
 * loops, token and document keys on the admin loop) and by nothing else. A
 * reload is read-copy-update: the new keyring is published with one atomic
 * store, then the main thread waits until every loop thread has ended the
 * round it was in (its `rounds` counter moved): a handler runs inside one
 * round and never keeps the pointer past it, so from then on nobody holds the
 * old keyring and it is freed. A loop that does not move within
 * RELOAD_GRACE_MS (it cannot, short of a hang) keeps the old keyring alive
 * rather than risk a use after free.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "serve.h"

#define RELOAD_GRACE_MS 10000 /* longest wait for every loop to end a round */
#define RELOAD_POLL_MS  5

/* Whether every loop thread ran past the counts in seen[]. */
static int loops_moved(struct serve *s, const unsigned long *seen)
{
    for (int i = 0; i < s->nthreads; i++)
        if (atomic_load(&s->workers[i].rounds) == seen[i]) return 0;
    return atomic_load(&s->admin.rounds) != seen[s->nthreads];
}

static void reload_keyring(struct serve *s)
{
    char err[512];
    struct homing_keyring *kr;
    if (homing_keyring_load(homing_config_settings(s->config)->keys.file, &kr, err, sizeof err) <
        0) {
        log_error("reload: %s: keeping the keys in use", err);
        return;
    }
    struct homing_keyring *old = atomic_exchange(&s->keyring, kr);
    unsigned long seen[SERVE_THREADS_MAX + 1];
    for (int i = 0; i < s->nthreads; i++) seen[i] = atomic_load(&s->workers[i].rounds);
    seen[s->nthreads] = atomic_load(&s->admin.rounds);
    struct timespec step = {0, RELOAD_POLL_MS * 1000000L};
    for (int waited = 0; !loops_moved(s, seen); waited += RELOAD_POLL_MS) {
        if (waited >= RELOAD_GRACE_MS) {
            log_warn("reload: a loop thread did not finish a round in %d ms: the old keys "
                     "stay in memory",
                     RELOAD_GRACE_MS);
            return;
        }
        nanosleep(&step, NULL);
    }
    homing_keyring_free(old);
}

void serve_reload(struct serve *s)
{
    log_info("reload (SIGHUP): keys, TLS certificate, data files");
    reload_keyring(s);
    tls_reload(s);
    atomic_fetch_add(&s->reload_gen, 1);
    atomic_fetch_add_explicit(&s->metrics.reloads, 1, memory_order_relaxed);
}
