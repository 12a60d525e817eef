/*
 * enrich.c: the daemon's enrichment thread. Follows committed events by the
 * store cursor HOMING_ENRICH_CURSOR and, for every open, click and document
 * open, runs lib/reader (User-Agent, country, ASN, machine knowledge, verdict,
 * reader fingerprint) and stores the result (homing_store_enrichment_put):
 * verdicts, readers and possible forwards, off the request path.
 *
 * Contract:
 * - Exactly once: the enrichments of a page of events and the cursor move over
 *   them are one transaction, so after a crash or restart the thread resumes
 *   at the first event it had not stored, and the store refuses a second
 *   enrichment of an event (-EEXIST, taken as done).
 * - Order: this one thread enriches the hits of each message in id order (a
 *   page is grouped by message, so its context is read once), so a reader is
 *   "new" against everything of the message enriched before it: the stored
 *   rows (the reader lookup and the insert have no other writer in between)
 *   and the page's rows not stored yet.
 * - Consumers that need the enrichment (the notifier; IP truncation) never pass
 *   this cursor: enricher_running() says whether it moves at all.
 * - Missing country/ASN databases are not fatal: one warning, and the verdicts
 *   are made from the User-Agent and the machine knowledge. Without a
 *   User-Agent parser nothing can be enriched: one error, and the thread does
 *   not run (enricher_running() is 0), so nobody waits for it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "homing/reader.h"
#include "log.h"
#include "thread.h"
#include "serve.h"

#define ENRICH_EVENTS_PAGE   256  /* events read, and enrichments stored, per transaction */
#define ENRICH_OTHERS_MAX    2000 /* other events of a message given to the verdict */
#define ENRICH_CTX_MAX       16   /* messages whose context one page keeps */
#define ENRICH_POLL_MS       100  /* sleep when there is nothing new */
#define ENRICH_RETRY_MS      1000 /* sleep after a store error */
#define ENRICH_SLEEP_STEP_MS 50   /* how often a sleeping thread looks at the stop flag */

struct enricher {
    struct serve *serve;
    struct homing_store *store;
    struct homing_reader *reader; /* NULL: enrichment off */
    pthread_t thread;
    int started;
    atomic_int running;
    uint64_t enriched, failed;
};

static struct enricher enricher; /* one per daemon */

int enricher_running(void)
{
    return atomic_load(&enricher.running);
}

int enricher_horizon(struct homing_store *st, int64_t *upto)
{
    if (!enricher_running()) {
        *upto = INT64_MAX; /* enrichment off: nothing to wait for */
        return 0;
    }
    int64_t c = 0;
    int r = homing_store_cursor_get(st, HOMING_ENRICH_CURSOR, &c);
    if (r < 0 && r != -ENOENT) return r;
    *upto = c;
    return 0;
}

/* The value of json string key in o, or "". */
static const char *jget(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

int enricher_lookup(struct homing_store *st, const struct homing_event *ev,
                    struct homing_enrichment *out, int *new_reader, int *forward)
{
    struct homing_store_enrichment *row;
    int r = homing_store_enrichment_get(st, ev->id, &row);
    if (r < 0) return r;
    struct homing_enrichment x;
    memset(&x, 0, sizeof x);
    int v = homing_verdict_parse(row->verdict);
    x.verdict.verdict = v < 0 ? HOMING_VERDICT_UNKNOWN : (uint8_t)v;
    x.verdict.confidence = (uint8_t)row->confidence;
    x.verdict.rules_version = (uint16_t)row->rules_version;
    for (uint32_t b = 0; b < HOMING_REASON_COUNT; b++) {
        const char *name = homing_verdict_reason_name(1u << b);
        size_t len = name ? strlen(name) : 0;
        for (const char *p = row->reasons; len && (p = strstr(p, name)); p += len)
            if ((p == row->reasons || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
                x.verdict.reasons |= 1u << b;
    }
    homing_strlcpy(x.ua.family, row->client_family, sizeof x.ua.family);
    homing_strlcpy(x.ua.os, row->os, sizeof x.ua.os);
    homing_strlcpy(x.ua.device, row->device, sizeof x.ua.device);
    homing_strlcpy(x.country, row->country, sizeof x.country);
    homing_strlcpy(x.org, row->as_org, sizeof x.org);
    homing_strlcpy(x.machine.name, row->machine, sizeof x.machine.name);
    x.asn = row->asn;
    if (row->reader[0]) x.fingerprint = strtoull(row->reader, NULL, 16);
    /* What the columns do not hold (version parts, device type, class) comes
     * from the stored JSON. */
    json_t *j = json_loads(row->json, 0, NULL), *c = json_object_get(j, "client");
    const char *ver = jget(c, "version"), *type = jget(c, "type"), *cls = jget(c, "class");
    sscanf(ver, "%15[^.].%15[^.].%15s", x.ua.major, x.ua.minor, x.ua.patch);
    for (unsigned t = 0; t <= HOMING_DEVICE_BOT; t++)
        if (strcmp(type, homing_device_type_name(t)) == 0) x.ua.type = (uint8_t)t;
    for (unsigned k = 0; k <= HOMING_UA_CLASS_BOT; k++)
        if (strcmp(cls, homing_ua_class_name(k)) == 0) x.ua.ua_class = (uint8_t)k;
    json_decref(j);
    *new_reader = row->new_reader;
    *forward = row->forward;
    homing_store_enrichments_free(row, 1);
    *out = x;
    return 0;
}

/* The start of the prefetch window for ev: the first delivered report of its
 * recipient (of any recipient for per-message hits), else the first sent. */
static int64_t delivered_at(const struct homing_event *ev, const struct homing_event *others,
                            size_t n)
{
    int64_t delivered = 0, sent = 0;
    for (size_t i = 0; i < n; i++) {
        const struct homing_event *o = &others[i];
        if (ev->recipient && o->recipient != ev->recipient) continue;
        if (o->kind == HOMING_EV_DELIVERED && (!delivered || o->time_us < delivered))
            delivered = o->time_us;
        if (o->kind == HOMING_EV_SENT && (!sent || o->time_us < sent)) sent = o->time_us;
    }
    return delivered ? delivered : sent;
}

/* What one page of events needs: the context of each message it touches
 * (read once per page, not per hit: a campaign's hits share a few messages),
 * and the rows made so far, stored together in one transaction. */
struct enrich_ctx {
    uint64_t message;
    int64_t registered_us;
    struct homing_event *events;
    size_t n;
};

struct enrich_batch {
    struct enrich_ctx ctx[ENRICH_CTX_MAX];
    size_t nctx, next_ctx; /* next_ctx: the slot replaced when all are used */
    struct homing_store_enrichment rows[ENRICH_EVENTS_PAGE];
    size_t nrows;
};

static void batch_rows_clear(struct enrich_batch *b)
{
    for (size_t i = 0; i < b->nrows; i++) free(b->rows[i].json);
    b->nrows = 0;
}

static void batch_clear(struct enrich_batch *b)
{
    batch_rows_clear(b);
    for (size_t i = 0; i < b->nctx; i++) homing_events_free(b->ctx[i].events, b->ctx[i].n);
    b->nctx = b->next_ctx = 0;
}

static int ctx_get(struct enricher *en, struct enrich_batch *b, uint64_t message,
                   const struct enrich_ctx **out)
{
    for (size_t i = 0; i < b->nctx; i++)
        if (b->ctx[i].message == message) {
            *out = &b->ctx[i];
            return 0;
        }
    struct enrich_ctx *c;
    if (b->nctx < ENRICH_CTX_MAX) {
        c = &b->ctx[b->nctx++];
    } else {
        c = &b->ctx[b->next_ctx];
        b->next_ctx = (b->next_ctx + 1) % ENRICH_CTX_MAX;
        homing_events_free(c->events, c->n);
    }
    memset(c, 0, sizeof *c);
    c->message = message;
    struct homing_message *m = NULL;
    int r = homing_store_message_get(en->store, message, &m);
    if (r < 0 && r != -ENOENT) return r;
    c->registered_us = m ? m->created_us : 0;
    homing_message_free(m);
    /* The verdict looks at the message's other hits (bursts, clicks without an
     * open) and its delivery time; a failure only makes it see less. */
    if (homing_store_events_list(en->store, message, 0, ENRICH_OTHERS_MAX, &c->events, &c->n) < 0)
        c->n = 0;
    *out = c;
    return 0;
}

/* Reader flags of a new row: what the store knows plus the rows of this page
 * that are not stored yet (the same reader twice in one page is new once). */
static int reader_flags(struct enricher *en, const struct enrich_batch *b,
                        const struct homing_event *ev, const char *fp, int *new_reader,
                        int *forward)
{
    int known = 0;
    int64_t others = 0;
    int r = homing_store_reader_lookup(en->store, ev->message, ev->recipient, fp, &known, &others);
    if (r < 0) return r;
    for (size_t i = 0; i < b->nrows; i++) {
        const struct homing_store_enrichment *o = &b->rows[i];
        if (o->message != ev->message) continue;
        if (strcmp(o->reader, fp) == 0)
            known = 1;
        else if (o->recipient == ev->recipient && o->kind == HOMING_EV_OPEN &&
                 (strcmp(o->verdict, "human") == 0 || strcmp(o->verdict, "proxy-open") == 0))
            others++;
    }
    *new_reader = !known;
    *forward = !known && others > 0;
    return 0;
}

/* Enriches one hit into the next row of the batch (nothing added when the hit
 * cannot be enriched: it is skipped, said once). */
static int enrich_event(struct enricher *en, struct enrich_batch *b, const struct homing_event *ev)
{
    const struct enrich_ctx *c;
    int r = ctx_get(en, b, ev->message, &c);
    if (r < 0) return r;
    struct homing_verdict_input in = {
        .event = ev,
        .registered_us = c->registered_us,
        .delivered_us = delivered_at(ev, c->events, c->n),
        .others = c->events,
        .n_others = c->n,
    };
    struct homing_enrichment x;
    r = homing_reader_enrich(en->reader, &in, &x);
    if (r < 0) {
        /* Bad input cannot be enriched on a retry either. */
        log_warn("enrich: event %" PRId64 " not enriched: %s", ev->id, strerror(-r));
        en->failed++;
        return 0;
    }
    int new_reader = 0, forward = 0;
    if (x.fingerprint) {
        char fp[HOMING_FINGERPRINT_STR_MAX];
        homing_fingerprint_format(x.fingerprint, fp);
        if ((r = reader_flags(en, b, ev, fp, &new_reader, &forward)) < 0) return r;
    }
    struct homing_store_enrichment *row = &b->rows[b->nrows];
    if ((r = homing_store_enrichment_from(&x, ev, new_reader, forward, row)) < 0) return r;
    b->nrows++;
    if (forward) {
        char id[HOMING_ID_STR_MAX];
        homing_id_format(ev->message, id);
        log_info("message %s recipient %" PRIu32 ": new reader %s (%s, %s): possible forward", id,
                 ev->recipient, row->reader, row->client_family,
                 row->country[0] ? row->country : "country unknown");
    }
    return 0;
}

/* Stores the batch's rows with the cursor at `done`. A row enriched before
 * (only if another enricher ran on the same store) makes the batch fall back
 * to one row at a time, where -EEXIST means done. */
static int batch_flush(struct enricher *en, struct enrich_batch *b, int64_t done)
{
    int r = homing_store_enrichments_put(en->store, b->rows, b->nrows, done);
    if (r == -EEXIST) {
        r = 0;
        for (size_t i = 0; i < b->nrows && r == 0; i++) {
            r = homing_store_enrichment_put(en->store, &b->rows[i], b->rows[i].event);
            if (r == -EEXIST) r = 0;
        }
        if (r == 0) r = homing_store_enrichment_put(en->store, NULL, done);
    }
    if (r == 0) en->enriched += b->nrows;
    batch_rows_clear(b);
    return r;
}

/* Hits of one message together, in id order within it (reader flags depend on
 * that order only), so each message's context is read once per page. */
static int hit_cmp(const void *a, const void *b)
{
    const struct homing_event *x = *(const struct homing_event *const *)a,
                              *y = *(const struct homing_event *const *)b;
    if (x->message != y->message) return x->message < y->message ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int row_cmp(const void *a, const void *b)
{
    const struct homing_store_enrichment *x = a, *y = b;
    return x->event < y->event ? -1 : x->event > y->event;
}

/* Enriches the events after the cursor, one transaction per page; returns
 * how many were looked at. A page is stored whole or not at all: after an
 * error or a stop in the middle it is done again. */
static int enrich_page(struct enricher *en, struct enrich_batch *b)
{
    int64_t cursor = 0;
    int r = homing_store_cursor_get(en->store, HOMING_ENRICH_CURSOR, &cursor);
    if (r < 0 && r != -ENOENT) return r;
    struct homing_event *evs = NULL;
    size_t n = 0;
    if ((r = homing_store_events_list(en->store, 0, cursor, ENRICH_EVENTS_PAGE, &evs, &n)) < 0)
        return r;
    if (n == 0) return 0;
    const struct homing_event *hits[ENRICH_EVENTS_PAGE];
    size_t nh = 0;
    for (size_t i = 0; i < n; i++)
        if (evs[i].kind == HOMING_EV_OPEN || evs[i].kind == HOMING_EV_CLICK ||
            evs[i].kind == HOMING_EV_DOCUMENT_OPEN)
            hits[nh++] = &evs[i];
    qsort(hits, nh, sizeof hits[0], hit_cmp);
    for (size_t i = 0; i < nh && r == 0; i++) {
        if (atomic_load(&en->serve->stopping))
            r = -EINTR;
        else
            r = enrich_event(en, b, hits[i]);
    }
    int64_t done = evs[n - 1].id;
    homing_events_free(evs, n);
    if (r == 0) {
        /* The store takes a batch in event order. */
        qsort(b->rows, b->nrows, sizeof b->rows[0], row_cmp);
        r = batch_flush(en, b, done);
    }
    batch_clear(b);
    if (r == -EINTR) return 0; /* stopping: done again after the restart */
    return r < 0 ? r : (int)n;
}

static void enrich_sleep(struct enricher *en, long long ms)
{
    for (long long slept = 0; slept < ms && !atomic_load(&en->serve->stopping);
         slept += ENRICH_SLEEP_STEP_MS) {
        long long step = ms - slept < ENRICH_SLEEP_STEP_MS ? ms - slept : ENRICH_SLEEP_STEP_MS;
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void *enricher_main(void *arg)
{
    pthread_setname_np(pthread_self(), "homing-enrich");
    thread_background();
    struct enricher *en = arg;
    struct enrich_batch *b = calloc(1, sizeof *b); /* large: not on the stack */
    if (!b) {
        log_error("enrich: out of memory: opens and clicks are not enriched");
        atomic_store(&en->running, 0);
        return NULL;
    }
    while (!atomic_load(&en->serve->stopping)) {
        int r = enrich_page(en, b);
        if (r < 0) {
            log_error("enrich: %s", homing_store_errmsg(en->store));
            enrich_sleep(en, ENRICH_RETRY_MS);
        } else if (r < ENRICH_EVENTS_PAGE) {
            enrich_sleep(en, ENRICH_POLL_MS);
        }
    }
    free(b);
    return NULL;
}

int enricher_init(struct serve *s, struct homing_store *store)
{
    struct enricher *en = &enricher;
    en->serve = s;
    en->store = store;
    const struct homing_config *c = s->config;
    int r = homing_reader_from_config(c, &en->reader);
    if (r < 0) {
        /* Most likely the country or ASN database is not installed yet (make
         * setup): the User-Agent and the machine knowledge still make most
         * verdicts, so run without them rather than refuse to start. */
        const char *uap = homing_config_get(c, "enrich.uap_regexes");
        const char *rules = homing_config_get(c, "enrich.ua_rules");
        const char *machines = homing_config_get(c, "enrich.machines");
        struct homing_reader_options o = {
            .uap_regexes = uap && *uap ? uap : NULL,
            .ua_rules = rules && *rules ? rules : NULL,
            .machines = machines && *machines ? machines : NULL,
        };
        int r2 = homing_reader_new(&o, &en->reader);
        if (r2 == 0) {
            log_warn("enrich: geo.country_db / geo.asn_db not usable (%s): verdicts without "
                     "country and ASN (run make setup)",
                     strerror(-r));
        } else {
            en->reader = NULL;
            log_error("enrich: no User-Agent parser or machine knowledge (%s): opens and clicks "
                      "are not enriched",
                      strerror(-r2));
        }
    }
    return 0;
}

int enricher_start(struct serve *s)
{
    (void)s;
    if (!enricher.reader) return 0;
    atomic_store(&enricher.running, 1);
    if (pthread_create(&enricher.thread, NULL, enricher_main, &enricher) != 0) {
        atomic_store(&enricher.running, 0);
        return -EAGAIN;
    }
    enricher.started = 1;
    return 0;
}

void enricher_stop(struct serve *s)
{
    (void)s;
    if (enricher.started) pthread_join(enricher.thread, NULL);
    enricher.started = 0;
    atomic_store(&enricher.running, 0);
    if (enricher.enriched || enricher.failed)
        log_info("enrich: %" PRIu64 " hits enriched, %" PRIu64 " not enrichable", enricher.enriched,
                 enricher.failed);
    homing_reader_free(enricher.reader);
    enricher.reader = NULL;
    homing_store_close(enricher.store);
    enricher.store = NULL;
}
