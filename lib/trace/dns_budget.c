/*
 * dns_budget.c: every DNS question of one `homing trace` run goes through
 * here: one deadline for the whole message (options.dns_budget_ms), answers
 * kept for the run so a key or record asked twice is asked once, and the
 * questions known in advance (DKIM and ARC keys, the DMARC and SPF records,
 * DNSBL names) asked in parallel by up to TRACE_DNS_PARALLEL_MAX threads
 * before the verifiers run, so they find the answers waiting.
 *
 * Contract: a lookup after the deadline, or one the resolver could not finish
 * before it, is -EAGAIN (the verifiers' temperror) and counted in
 * "over_budget". A resolver with lookup_until (the system one) is
 * interrupted at the deadline; one without (the zone file) answers at once.
 * A resolver without lookup_until answers at once: it is asked directly,
 * with the deadline checked, and nothing is kept.
 * Thread-safe: the cache is under a mutex, the inner resolver is called
 * without it (its lookup_until/lookup must be safe from several threads).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "trace_int.h"

#define TRACE_DNS_CACHE_MAX    256 /* answers kept for one message */
#define TRACE_DNS_PARALLEL_MAX 8   /* threads asking prefetched questions at once */

struct dns_ent {
    char *name;
    enum homing_rr type;
    int rc;
    struct homing_dns_answer a;
};

struct trace_dns {
    struct homing_resolver self;
    struct homing_resolver *inner;
    int64_t deadline_ms;
    int budget_ms;
    pthread_mutex_t mu;
    size_t n, cap;
    struct dns_ent *ents; /* grown as answers come, up to TRACE_DNS_CACHE_MAX: a
                           * message asks a handful, and a fixed table of the
                           * limit cost more to clear than the lookups */
    unsigned over_budget;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int answer_copy(const struct homing_dns_answer *from, struct homing_dns_answer *to)
{
    struct homing_dns_answer a = {0};
    for (size_t i = 0; i < from->n; i++) {
        if (!(a.rr[i] = strdup(from->rr[i]))) {
            homing_dns_answer_clear(&a);
            return -ENOMEM;
        }
        a.n = i + 1;
    }
    *to = a;
    return 0;
}

static int budget_lookup(void *ctx, const char *name, enum homing_rr type,
                         struct homing_dns_answer *out)
{
    struct trace_dns *d = ctx;
    /* A resolver that answers at once (the zone file) gains nothing from the
     * cache, whose copies cost more than its answers: only the deadline. */
    if (!d->inner->lookup_until) {
        if (mono_ms() < d->deadline_ms) return d->inner->lookup(d->inner->ctx, name, type, out);
        pthread_mutex_lock(&d->mu);
        d->over_budget++;
        pthread_mutex_unlock(&d->mu);
        return -EAGAIN;
    }
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->n; i++) {
        struct dns_ent *e = &d->ents[i];
        if (e->type == type && strcasecmp(e->name, name) == 0) {
            int rc = e->rc < 0 ? e->rc : answer_copy(&e->a, out);
            pthread_mutex_unlock(&d->mu);
            return rc;
        }
    }
    if (mono_ms() >= d->deadline_ms) {
        d->over_budget++;
        pthread_mutex_unlock(&d->mu);
        return -EAGAIN;
    }
    pthread_mutex_unlock(&d->mu);
    struct homing_dns_answer a = {0};
    int rc = d->inner->lookup_until
                 ? d->inner->lookup_until(d->inner->ctx, name, type, d->deadline_ms, &a)
                 : d->inner->lookup(d->inner->ctx, name, type, &a);
    pthread_mutex_lock(&d->mu);
    if (rc == -EAGAIN && mono_ms() >= d->deadline_ms) {
        d->over_budget++; /* cut by the budget: not kept, not an answer */
    } else if (rc != -ENOMEM && d->n < TRACE_DNS_CACHE_MAX &&
               homing_array_grow((void **)&d->ents, &d->cap, d->n, sizeof *d->ents, 8) == 0) {
        struct dns_ent *e = &d->ents[d->n];
        e->a = (struct homing_dns_answer){0};
        e->name = strdup(name);
        if (e->name && (rc < 0 || answer_copy(&a, &e->a) == 0)) {
            e->type = type;
            e->rc = rc < 0 ? rc : 0;
            d->n++;
        } else {
            free(e->name);
            e->name = NULL;
        }
    }
    pthread_mutex_unlock(&d->mu);
    if (rc < 0) return rc;
    *out = a;
    return 0;
}

int trace_dns_new(struct homing_resolver *inner, int budget_ms, struct trace_dns **out)
{
    struct trace_dns *d = calloc(1, sizeof *d);
    if (!d) return -ENOMEM;
    if (pthread_mutex_init(&d->mu, NULL) != 0) {
        free(d);
        return -ENOMEM;
    }
    d->inner = inner;
    d->budget_ms = budget_ms > 0 ? budget_ms : HOMING_TRACE_DNS_BUDGET_DEFAULT_MS;
    d->deadline_ms = mono_ms() + d->budget_ms;
    d->self.ctx = d;
    d->self.lookup = budget_lookup;
    *out = d;
    return 0;
}

struct homing_resolver *trace_dns_resolver(struct trace_dns *d)
{
    return &d->self;
}

void trace_dns_free(struct trace_dns *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->ents[i].name);
        homing_dns_answer_clear(&d->ents[i].a);
    }
    free(d->ents);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

struct prefetch {
    struct trace_dns *d;
    const struct trace_dns_query *q;
    size_t n;
    size_t next; /* under d->mu */
};

static void *prefetch_worker(void *arg)
{
    struct prefetch *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->d->mu);
        size_t i = p->next++;
        pthread_mutex_unlock(&p->d->mu);
        if (i >= p->n) return NULL;
        struct homing_dns_answer a = {0};
        if (budget_lookup(p->d, p->q[i].name, p->q[i].type, &a) == 0) homing_dns_answer_clear(&a);
    }
}

int trace_dns_prefetch(struct trace_dns *d, const struct trace_dns_query *q, size_t n)
{
    if (n == 0) return 0;
    /* A resolver that answers at once (no lookup_until) gains nothing from
     * threads; the verifiers ask it themselves. */
    if (!d->inner->lookup_until) return 0;
    struct prefetch p = {.d = d, .q = q, .n = n};
    pthread_t th[TRACE_DNS_PARALLEL_MAX];
    size_t nt = n < TRACE_DNS_PARALLEL_MAX ? n : TRACE_DNS_PARALLEL_MAX, started = 0;
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, prefetch_worker, &p) != 0) break;
    if (started == 0) prefetch_worker(&p);
    for (size_t i = 0; i < started; i++) pthread_join(th[i], NULL);
    return 0;
}

json_t *trace_dns_json(struct trace_dns *d)
{
    pthread_mutex_lock(&d->mu);
    unsigned over = d->over_budget;
    pthread_mutex_unlock(&d->mu);
    return json_pack("{s:i, s:b, s:i}", "budget_ms", d->budget_ms, "exhausted", over > 0,
                     "over_budget", (int)over);
}
