/*
 * privacy.c: the daemon's privacy thread (serve.h): the library's privacy
 * sweep (homing/service.h) every PRIVACY_SWEEP_MS, truncating client
 * addresses soon after enrichment (a full address should not sit in the store
 * longer than it takes to enrich it), and retention at start and then daily.
 * It runs as a background thread: on idle CPU while a loop thread is flooded.
 */
#include <errno.h>
#include <unistd.h>

#include "homing/service.h"
#include "log.h"
#include "serve.h"
#include "thread.h"

#define PRIVACY_SWEEP_MS     1000
#define PRIVACY_RETENTION_US (86400LL * 1000000LL)
#define PRIVACY_NAP_US       50000 /* how often a sleeping sweeper looks at the stop flag */

static void *sweeper_main(void *arg)
{
    pthread_setname_np(pthread_self(), "homing-privacy");
    thread_background();
    struct privacy_sweeper *w = arg;
    int64_t last_retention = 0;
    while (!atomic_load(w->stopping)) {
        int64_t now = homing_mono_us();
        int retention = !last_retention || now - last_retention >= PRIVACY_RETENTION_US;
        struct homing_privacy_sweep_result res;
        if (homing_privacy_sweep(w->store, &w->p, retention, &res) < 0) {
            log_warn("privacy sweep: %s", homing_store_errmsg(w->store));
        } else {
            if (retention) last_retention = now;
            if (res.deleted)
                log_info("privacy: %lld events past retention rolled up and deleted",
                         (long long)res.deleted);
        }
        for (int i = 0; i < PRIVACY_SWEEP_MS * 1000 / PRIVACY_NAP_US && !atomic_load(w->stopping);
             i++)
            usleep(PRIVACY_NAP_US);
    }
    thread_background_end();
    return NULL;
}

int privacy_sweeper_init(struct privacy_sweeper *w, const struct homing_config *c,
                         struct homing_store *store, atomic_int *stopping)
{
    char err[256];
    if (homing_privacy_settings_read(c, &w->p, err, sizeof err) < 0) {
        log_error("%s", err);
        return -EINVAL;
    }
    w->store = store;
    w->stopping = stopping;
    return 0;
}

int privacy_sweeper_start(struct privacy_sweeper *w)
{
    int r = pthread_create(&w->thread, NULL, sweeper_main, w);
    if (r) return -r;
    w->running = 1;
    return 0;
}

void privacy_sweeper_halt(struct privacy_sweeper *w)
{
    if (w->running) pthread_join(w->thread, NULL);
    w->running = 0;
}

void privacy_sweeper_stop(struct privacy_sweeper *w)
{
    privacy_sweeper_halt(w);
    homing_store_close(w->store);
    w->store = NULL;
}
