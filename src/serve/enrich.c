/*
 * enrich.c: the daemon's enrichment thread. Follows committed events by the
 * store cursor HOMING_ENRICH_CURSOR and, for every open, click and document
 * open, runs lib/reader (User-Agent, country, ASN, machine knowledge, verdict,
 * reader fingerprint) and stores the result (homing_store_enrichment_put):
 * verdicts, readers and possible forwards, off the request path. A one-click
 * unsubscribe (POST /u/) is judged here too, and lists its recipient unless
 * a scanner sent it (enrich_unsubscribe).
 *
 * Contract:
 * - Exactly once: the enrichments of a page of events and the cursor move over
 *   them are one transaction, so after a crash or restart the thread resumes
 *   at the first event it had not stored, and the store refuses a second
 *   enrichment of an event (-EEXIST, taken as done).
 * - Order: this one thread enriches the hits of each message in id order (a
 *   page is grouped by message), so a reader is "new" against everything of
 *   the message enriched before it: the stored rows (the reader lookup and the
 *   insert have no other writer in between) and the page's rows not stored yet.
 * - Context: what a verdict sees of its message (registration, first
 *   ENRICH_OTHERS_MAX events) is what the store holds when the page first
 *   needs it. It is kept from page to page and checked against a store stamp
 *   (struct enrich_ctx), so a flood's pages do not read 2,000 events each.
 * - Later hits: a burst, a loop and a time-of-click hand-off are seen only
 *   once their later hits are in, so after each page the earlier hits of its
 *   messages within ENRICH_REVISIT_US are decided again and rewritten where
 *   the verdict changed (revisit), in a transaction of their own: a failure
 *   there leaves them as they were, for homing reclassify.
 * - Consumers that need the enrichment (the notifier; IP truncation) never pass
 *   this cursor: enricher_running(s) says whether it moves at all.
 * - Missing country/ASN databases are not fatal: one warning, and the verdicts
 *   are made from the User-Agent and the machine knowledge. Without a
 *   User-Agent parser nothing can be enriched: one error, and the thread does
 *   not run (enricher_running(s) is 0), so nobody waits for it.
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
/* Three rules decide a hit from hits that come after it: a burst (the other
 * links within HOMING_VERDICT_BURST_US), a loop (the fifth hit within
 * HOMING_VERDICT_REPEAT_US) and a time-of-click hand-off (the person's click
 * within HOMING_VERDICT_HANDOFF_US). A hit stored by an earlier page was
 * decided before those came in; so after each page, the earlier hits of its
 * messages from this long before the page's hits are decided again with the
 * context that holds the page (revisit), as homing reclassify would. */
#define ENRICH_REVISIT_US HOMING_VERDICT_HANDOFF_US
_Static_assert(HOMING_VERDICT_BURST_US <= ENRICH_REVISIT_US &&
                   HOMING_VERDICT_REPEAT_US <= ENRICH_REVISIT_US,
               "the revisit window covers every rule that looks at later hits");
#define ENRICH_REVISIT_MAX 512 /* stored rows of one message looked at again per page */

struct enricher {
    struct serve *serve;
    struct homing_store *store;
    struct homing_reader *reader; /* NULL: enrichment off */
    pthread_t thread;
    int started;
    atomic_int running;
    uint64_t enriched, failed;
    uint64_t revised;   /* stored verdicts changed after later hits (revisit) */
    uint64_t redecided; /* stored rows decided again by revisit, changed or not */
};

/* One per daemon, owned by its struct serve (s->enricher): made by
 * enricher_init, freed by enricher_stop. */
int enricher_running(const struct serve *s)
{
    return s->enricher && atomic_load(&s->enricher->running);
}

int enricher_horizon(const struct serve *s, struct homing_store *st, int64_t *upto)
{
    if (!enricher_running(s)) {
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

/* What the pages of events need: the context of each message they touch
 * (kept across pages: a flood's pages all hit the same message), and the rows
 * of the page made so far, stored together in one transaction.
 *
 * The context of a message is what the verdict is given: its registration
 * time and its first ENRICH_OTHERS_MAX events. A page reads it once; a later
 * page checks it with one store stamp (homing_store_events_stamp) instead of
 * reading up to 2,000 events again: an equal stamp means no event it holds
 * was deleted or had its client truncated since, so only events appended
 * since (ids only grow) are read, while it is not full. A different stamp
 * reads it all again. Either way a page sees exactly what a fresh read would
 * have given at the moment it checked, as before. */
struct enrich_ctx {
    uint64_t message;
    int64_t registered_us; /* 0: not known: asked again by the next page */
    struct homing_event *events;
    struct homing_verdict_index *index; /* of events, for the verdict; NULL: none */
    size_t n, cap;
    int checked;                      /* 0: a read failed: read it all again */
    struct homing_events_stamp stamp; /* read before events[0..n) */
    uint64_t page;                    /* the last page that checked it */
    /* delivered_at of the last recipient asked: a function of the events. */
    int have_delivered;
    uint32_t delivered_recipient;
    int64_t delivered_us;
};

struct enrich_batch {
    struct enrich_ctx ctx[ENRICH_CTX_MAX];
    size_t nctx, next_ctx; /* next_ctx: the slot replaced when all are used */
    uint64_t page;         /* pages started, so a context is checked once per page */
    struct homing_store_enrichment rows[ENRICH_EVENTS_PAGE];
    size_t nrows;
    /* The last row made from a fresh enrichment: a flood's hits differ only in
     * the event, so its JSON (a third of the row's cost) is copied when x and
     * the reader flags are the same bytes (homing_store_enrichment_from is a
     * function of them and of the event's id, message, recipient, kind, item
     * and time, which are set per row). memo.json NULL: none. */
    struct homing_enrichment memo_x;
    int memo_new_reader, memo_forward;
    struct homing_store_enrichment memo;
    /* The messages of the page, for revisit: per message, its first hit of the
     * page (rows before it were stored by earlier pages) and the span of the
     * page's hits widened by ENRICH_REVISIT_US. */
    struct revisit_target {
        uint64_t message;
        int64_t first_id;
        int64_t from_us, to_us;
    } targets[ENRICH_EVENTS_PAGE];
    size_t ntargets;
};

static void batch_rows_clear(struct enrich_batch *b)
{
    for (size_t i = 0; i < b->nrows; i++) free(b->rows[i].json);
    b->nrows = 0;
}

static void ctx_clear(struct enrich_ctx *c)
{
    homing_events_free(c->events, c->n);
    homing_verdict_index_free(c->index);
    memset(c, 0, sizeof *c);
}

/* Forgets every context (stopping). */
static void batch_ctx_clear(struct enrich_batch *b)
{
    for (size_t i = 0; i < b->nctx; i++) ctx_clear(&b->ctx[i]);
    b->nctx = b->next_ctx = 0;
}

/* Keeps the contexts this page used, so memory follows what the hits need now,
 * and an idle thread keeps those of the last page (a flood comes in waves). */
static void batch_ctx_trim(struct enrich_batch *b)
{
    size_t kept = 0;
    for (size_t i = 0; i < b->nctx; i++) {
        if (b->ctx[i].page == b->page && b->ctx[i].message)
            b->ctx[kept++] = b->ctx[i];
        else
            ctx_clear(&b->ctx[i]);
    }
    for (size_t i = kept; i < b->nctx; i++) memset(&b->ctx[i], 0, sizeof b->ctx[i]);
    b->nctx = kept;
    b->next_ctx = 0;
}

static void batch_clear(struct enrich_batch *b)
{
    batch_rows_clear(b);
    batch_ctx_clear(b);
    free(b->memo.json);
    b->memo.json = NULL;
}

/* Sorts the events for the verdict (built again when they change: a flood's
 * context stops changing once full). Without an index (no memory) the
 * verdict reads the events themselves: the same verdict, slower. */
static void ctx_index(struct enrich_ctx *c)
{
    homing_verdict_index_free(c->index);
    c->index = NULL;
    if (homing_verdict_index_new(c->events, c->n, &c->index) < 0) c->index = NULL;
}

/* Reads the message's first events afresh; stamp was read before. */
static void ctx_read(struct enricher *en, struct enrich_ctx *c,
                     const struct homing_events_stamp *stamp)
{
    homing_events_free(c->events, c->n);
    homing_verdict_index_free(c->index);
    c->events = NULL;
    c->index = NULL;
    c->n = c->cap = 0;
    c->have_delivered = 0;
    /* The verdict looks at the message's other hits (bursts, clicks without an
     * open) and its delivery time; a failure only makes it see less. */
    if (homing_store_events_list(en->store, c->message, 0, ENRICH_OTHERS_MAX, &c->events, &c->n) <
        0) {
        c->n = 0;
        c->checked = 0;
        return;
    }
    c->cap = c->n;
    ctx_index(c);
    c->checked = stamp != NULL;
    if (stamp) c->stamp = *stamp;
    c->stamp.count = (int64_t)c->n;
}

/* Adds the events appended since the context was read, while it is not full;
 * 0, or -1 when that could not be read (the caller reads it all again). */
static int ctx_extend(struct enricher *en, struct enrich_ctx *c)
{
    if (c->n >= ENRICH_OTHERS_MAX) return 0;
    int64_t last = c->n ? c->events[c->n - 1].id : 0;
    struct homing_event *more = NULL;
    size_t m = 0;
    if (homing_store_events_list(en->store, c->message, last, ENRICH_OTHERS_MAX - c->n, &more, &m) <
        0)
        return -1;
    if (m == 0) {
        free(more);
        return 0;
    }
    if (c->n + m > c->cap) {
        size_t cap = c->n + m < 2 * c->cap ? 2 * c->cap : c->n + m;
        if (cap > ENRICH_OTHERS_MAX) cap = ENRICH_OTHERS_MAX;
        struct homing_event *grown = realloc(c->events, cap * sizeof *grown);
        if (!grown) {
            homing_events_free(more, m);
            return -1;
        }
        c->events = grown;
        c->cap = cap;
    }
    /* The events move, with their detail: only the array is freed. */
    memcpy(c->events + c->n, more, m * sizeof *more);
    free(more);
    c->n += m;
    ctx_index(c);
    c->stamp.count = (int64_t)c->n;
    c->have_delivered = 0;
    return 0;
}

/* Brings a context read by an earlier page up to date (see struct enrich_ctx). */
static int ctx_check(struct enricher *en, struct enrich_ctx *c)
{
    if (!c->registered_us) {
        struct homing_message *m = NULL;
        int r = homing_store_message_get(en->store, c->message, &m);
        if (r < 0 && r != -ENOENT) return r;
        c->registered_us = m ? m->created_us : 0;
        homing_message_free(m);
    }
    struct homing_events_stamp now;
    int64_t upto = c->n ? c->events[c->n - 1].id : 0;
    if (homing_store_events_stamp(en->store, c->message, upto, &now) < 0) {
        ctx_read(en, c, NULL);
        return 0;
    }
    if (!c->checked || now.count != c->stamp.count || now.truncated != c->stamp.truncated) {
        ctx_read(en, c, &now);
        return 0;
    }
    if (ctx_extend(en, c) < 0) ctx_read(en, c, &now);
    return 0;
}

static int ctx_get(struct enricher *en, struct enrich_batch *b, uint64_t message,
                   struct enrich_ctx **out)
{
    struct enrich_ctx *c = NULL;
    for (size_t i = 0; i < b->nctx && !c; i++)
        if (b->ctx[i].message == message) c = &b->ctx[i];
    if (!c) {
        if (b->nctx < ENRICH_CTX_MAX) {
            c = &b->ctx[b->nctx++];
        } else {
            c = &b->ctx[b->next_ctx];
            b->next_ctx = (b->next_ctx + 1) % ENRICH_CTX_MAX;
            ctx_clear(c);
        }
        c->message = message; /* unchecked: ctx_check reads it all */
    }
    if (c->page != b->page) {
        int r = ctx_check(en, c);
        if (r < 0) {
            ctx_clear(c); /* a slot with message 0 is never found */
            return r;
        }
        c->page = b->page;
    }
    *out = c;
    return 0;
}

/* Reader flags of a new row: what the store knows plus the rows of this page
 * that are not stored yet (the same reader twice in one page is new once). */
static int reader_flags(struct enricher *en, const struct enrich_batch *b,
                        const struct homing_event *ev, const char *fp, int *new_reader,
                        int *forward)
{
    /* A reader of this page is known whatever the store says, and a known
     * reader is neither new nor a forward: the store is asked only for the
     * first hit of each reader in a page. */
    for (size_t i = b->nrows; i-- > 0;) {
        const struct homing_store_enrichment *o = &b->rows[i];
        if (o->message == ev->message && strcmp(o->reader, fp) == 0) {
            *new_reader = *forward = 0;
            return 0;
        }
    }
    int known = 0;
    int64_t others = 0;
    int r = homing_store_reader_lookup(en->store, ev->message, ev->recipient, fp, &known, &others);
    if (r < 0) return r;
    for (size_t i = 0; i < b->nrows; i++) {
        const struct homing_store_enrichment *o = &b->rows[i];
        if (o->message == ev->message && o->recipient == ev->recipient &&
            o->kind == HOMING_EV_OPEN &&
            (strcmp(o->verdict, "human") == 0 || strcmp(o->verdict, "proxy-open") == 0))
            others++;
    }
    *new_reader = !known;
    *forward = !known && others > 0;
    return 0;
}

/* The row of an enriched hit: a copy of the last one's when only the event
 * differs (see enrich_batch.memo). */
static int row_make(struct enrich_batch *b, const struct homing_enrichment *x,
                    const struct homing_event *ev, int new_reader, int forward,
                    struct homing_store_enrichment *row)
{
    if (b->memo.json && new_reader == b->memo_new_reader && forward == b->memo_forward &&
        memcmp(x, &b->memo_x, sizeof *x) == 0) {
        char *json = strdup(b->memo.json);
        if (!json) return -ENOMEM;
        *row = b->memo;
        row->json = json;
        row->event = ev->id;
        row->message = ev->message;
        row->recipient = ev->recipient;
        row->kind = ev->kind;
        row->item = ev->item;
        row->time_us = ev->time_us;
        return 0;
    }
    int r = homing_store_enrichment_from(x, ev, new_reader, forward, row);
    if (r < 0) return r;
    char *json = strdup(row->json);
    if (json) {
        free(b->memo.json);
        b->memo = *row;
        b->memo.json = json;
        b->memo_x = *x;
        b->memo_new_reader = new_reader;
        b->memo_forward = forward;
    }
    return 0;
}

/* Enriches one hit into the next row of the batch (nothing added when the hit
 * cannot be enriched: it is skipped, said once). */
static int enrich_event(struct enricher *en, struct enrich_batch *b, const struct homing_event *ev)
{
    struct enrich_ctx *c;
    int r = ctx_get(en, b, ev->message, &c);
    if (r < 0) return r;
    if (!c->have_delivered || c->delivered_recipient != ev->recipient) {
        c->delivered_us = delivered_at(ev, c->events, c->n);
        c->delivered_recipient = ev->recipient;
        c->have_delivered = 1;
    }
    struct homing_verdict_input in = {
        .event = ev,
        .registered_us = c->registered_us,
        .delivered_us = c->delivered_us,
        .others = c->events,
        .n_others = c->n,
        .index = c->index,
    };
    struct homing_enrichment x;
    /* Zero padding, so equal enrichments are equal bytes (row_make). */
    memset(&x, 0, sizeof x);
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
    if ((r = row_make(b, &x, ev, new_reader, forward, row)) < 0) return r;
    b->nrows++;
    if (forward) {
        char id[HOMING_ID_STR_MAX], family[256], country[64];
        homing_id_format(ev->message, id);
        /* the family is a capture out of the hit's User-Agent */
        homing_str_escape(family, sizeof family, row->client_family, strlen(row->client_family), 0);
        homing_str_escape(country, sizeof country, row->country, strlen(row->country), 0);
        log_info("message %s recipient %" PRIu32 ": new reader %s (%s, %s): possible forward", id,
                 ev->recipient, row->reader, family, country[0] ? country : "country unknown");
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

/* A one-click unsubscribe (public.c, POST /u/): the request is judged as a
 * click by the same client would be (its User-Agent and network; a POST is
 * what the confirmation form and RFC 8058 send, so the method is no signal),
 * and unless the verdict is `scanner` the recipient goes on the sender's
 * suppression list. Any other machine verdict still unsubscribes: RFC 8058's
 * POST comes from the mail provider's servers by design, not from the
 * reader's browser. Either way a `suppression` event says what was decided
 * (the listing's own, or {"action": "ignored"} for a scanner). Idempotent:
 * a page done again after a failure lists nobody twice. */
static int enrich_unsubscribe(struct enricher *en, const struct homing_event *ev)
{
    struct homing_event probe = *ev;
    probe.kind = HOMING_EV_CLICK;
    probe.method = HOMING_METHOD_GET;
    probe.item = 1;
    probe.detail = NULL;
    struct homing_verdict_input in = {.event = &probe};
    struct homing_enrichment x;
    int r = homing_reader_enrich(en->reader, &in, &x);
    if (r == -ENOMEM) return r;
    int scanner = r == 0 && x.verdict.verdict == HOMING_VERDICT_SCANNER;
    const char *verdict = r == 0 ? homing_verdict_name(x.verdict.verdict) : "unknown";
    char note[64];
    snprintf(note, sizeof note, "one-click unsubscribe, verdict %s", verdict);
    if (!scanner) {
        r = homing_store_suppress_recipient(en->store, ev->message, ev->recipient,
                                            HOMING_SUPPRESS_UNSUBSCRIBE, note, NULL);
        return r == -ENOENT ? 0 : r; /* a token of a message this store does not hold */
    }
    json_t *d = json_object();
    if (!d) return -ENOMEM;
    json_object_set_new(d, "action", json_string("ignored"));
    json_object_set_new(d, "reason", json_string("unsubscribe"));
    json_object_set_new(d, "verdict", json_string(verdict));
    json_object_set_new(d, "event", json_integer(ev->id));
    return homing_store_suppression_event(en->store, ev->message, ev->recipient, d);
}

static int is_hit_kind(unsigned kind)
{
    return kind == HOMING_EV_OPEN || kind == HOMING_EV_CLICK || kind == HOMING_EV_DOCUMENT_OPEN;
}

static int64_t add_sat(int64_t t, int64_t d)
{
    if (d > 0 && t > INT64_MAX - d) return INT64_MAX;
    if (d < 0 && t < INT64_MIN - d) return INT64_MIN;
    return t + d;
}

/* The page's messages and the spans of their hits (enrich_batch.targets);
 * hits are grouped by message, in id order within it (hit_cmp). */
static void revisit_targets(struct enrich_batch *b, const struct homing_event *const *hits,
                            size_t nh)
{
    b->ntargets = 0;
    for (size_t i = 0; i < nh; i++) {
        const struct homing_event *h = hits[i];
        struct revisit_target *t = b->ntargets ? &b->targets[b->ntargets - 1] : NULL;
        if (!t || t->message != h->message) {
            t = &b->targets[b->ntargets++];
            *t = (struct revisit_target){h->message, h->id, h->time_us, h->time_us};
        }
        if (h->time_us < t->from_us) t->from_us = h->time_us;
        if (h->time_us > t->to_us) t->to_us = h->time_us;
    }
    for (size_t i = 0; i < b->ntargets; i++) {
        b->targets[i].from_us = add_sat(b->targets[i].from_us, -ENRICH_REVISIT_US);
        b->targets[i].to_us = add_sat(b->targets[i].to_us, ENRICH_REVISIT_US);
    }
}

/* The context's event with this id (the events are in id order), or NULL. */
static const struct homing_event *ctx_event(const struct enrich_ctx *c, int64_t id)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->events[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->n && c->events[lo].id == id ? &c->events[lo] : NULL;
}

/* Decides again the hits of t's message that earlier pages stored within its
 * span, with the context that now holds the page's hits, and rewrites the
 * rows whose verdict changed (homing_store_enrichments_rewrite: reader rows
 * and flags are kept, as they say what was known when the hit came in). At
 * most ENRICH_REVISIT_MAX rows; the rest keep their verdict until homing
 * reclassify. */
static int revisit(struct enricher *en, struct enrich_batch *b, const struct revisit_target *t)
{
    struct enrich_ctx *c;
    int r = ctx_get(en, b, t->message, &c);
    if (r < 0) return r;
    /* A verdict sees only the context (the first ENRICH_OTHERS_MAX events of
     * the message). When it holds none of the page's hits, the earlier rows'
     * verdicts are what the last page whose hits it took decided: deciding
     * them again changes nothing, and a flood on one message would pay
     * ENRICH_REVISIT_MAX verdicts per page for its whole 30 s (docs/benchmarks.md,
     * "The revisit under a flood"). */
    if (c->n == 0 || c->events[c->n - 1].id < t->first_id) return 0;
    int64_t after = -1;
    for (size_t i = 0; i < c->n && c->events[i].id < t->first_id && after < 0; i++) {
        const struct homing_event *o = &c->events[i];
        if (is_hit_kind(o->kind) && o->time_us >= t->from_us && o->time_us <= t->to_us)
            after = o->id - 1;
    }
    if (after < 0) return 0; /* no earlier hit near the page's */
    struct homing_store_enrichment *rows = NULL;
    size_t n = 0, out = 0; /* rows[0..out): the ones to rewrite */
    if ((r = homing_store_enrichments_list(en->store, t->message, after, ENRICH_REVISIT_MAX, &rows,
                                           &n)) < 0)
        return r;
    for (size_t i = 0; i < n && rows[i].event < t->first_id && r == 0; i++) {
        struct homing_store_enrichment *row = &rows[i];
        const struct homing_event *o = ctx_event(c, row->event);
        if (!o || row->time_us < t->from_us || row->time_us > t->to_us) continue;
        struct homing_verdict_input in = {
            .event = o,
            .registered_us = c->registered_us,
            .delivered_us = delivered_at(o, c->events, c->n),
            .others = c->events,
            .n_others = c->n,
            .index = c->index,
        };
        struct homing_enrichment x;
        memset(&x, 0, sizeof x);
        en->redecided++;
        if (homing_reader_enrich(en->reader, &in, &x) < 0) continue; /* as when it came in */
        char was[HOMING_STORE_VERDICT_MAX];
        homing_strlcpy(was, row->verdict, sizeof was);
        int changed = homing_store_enrichment_redo(row, &x, o);
        if (changed <= 0) {
            r = changed;
            continue;
        }
        if (strcmp(was, row->verdict) != 0) {
            char id[HOMING_ID_STR_MAX];
            homing_id_format(row->message, id);
            log_info("message %s recipient %" PRIu32 ": event %" PRId64 " is %s, not %s: the "
                     "hits after it show it (%s)",
                     id, row->recipient, row->event, row->verdict, was, row->reasons);
        }
        /* swapped, so every row's JSON is still freed once */
        struct homing_store_enrichment keep = rows[out];
        rows[out++] = *row;
        *row = keep;
    }
    if (r == 0 && out) r = homing_store_enrichments_rewrite(en->store, rows, out);
    if (r == 0) en->revised += out;
    homing_store_enrichments_free(rows, n);
    return r;
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
    b->page++;
    const struct homing_event *hits[ENRICH_EVENTS_PAGE];
    size_t nh = 0;
    for (size_t i = 0; i < n; i++)
        if (is_hit_kind(evs[i].kind)) hits[nh++] = &evs[i];
    qsort(hits, nh, sizeof hits[0], hit_cmp);
    for (size_t i = 0; i < nh && r == 0; i++) {
        if (serve_stages_stopping(en->serve))
            r = -EINTR;
        else
            r = enrich_event(en, b, hits[i]);
    }
    /* before the page's cursor moves: an unsubscribe is never lost, at
     * worst decided again */
    for (size_t i = 0; i < n && r == 0; i++)
        if (evs[i].kind == HOMING_EV_UNSUBSCRIBE) r = enrich_unsubscribe(en, &evs[i]);
    revisit_targets(b, hits, nh);
    int64_t done = evs[n - 1].id;
    homing_events_free(evs, n);
    if (r == 0) {
        /* The store takes a batch in event order. */
        if (b->nrows > 1) qsort(b->rows, b->nrows, sizeof b->rows[0], row_cmp);
        r = batch_flush(en, b, done);
    }
    /* The page is stored: a failure here only leaves earlier verdicts as they
     * were (homing reclassify decides them again), said once per page. */
    for (size_t i = 0; i < b->ntargets && r == 0; i++) {
        int rv = revisit(en, b, &b->targets[i]);
        if (rv == -ENOMEM) {
            r = rv;
        } else if (rv < 0) {
            log_warn("enrich: earlier hits not decided again: %s", strerror(-rv));
            break;
        }
    }
    batch_rows_clear(b);
    batch_ctx_trim(b);
    if (r == -EINTR) return 0; /* stopping: done again after the restart */
    return r < 0 ? r : (int)n;
}

/* Also ends when the listener (leader.c) hears events committed by any node:
 * on a shared store the leader's thread then starts at once. */
static void enrich_sleep(struct enricher *en, long long ms)
{
    unsigned woke = atomic_load(&en->serve->woke_events);
    for (long long slept = 0; slept < ms && !serve_stages_stopping(en->serve) &&
                              atomic_load(&en->serve->woke_events) == woke;
         slept += ENRICH_SLEEP_STEP_MS) {
        long long step = ms - slept < ENRICH_SLEEP_STEP_MS ? ms - slept : ENRICH_SLEEP_STEP_MS;
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* SIGHUP: this thread alone uses en->reader, so it swaps it here between
 * pages; a reader that fails to open leaves the old one in use. */
static void enrich_reload(struct enricher *en)
{
    struct homing_reader *r;
    int geo_err;
    int e = homing_reader_open(en->serve->config, &r, &geo_err);
    if (e < 0) {
        log_error("enrich: reload: %s: keeping the data files in use", strerror(-e));
        return;
    }
    if (geo_err) log_warn("enrich: reload: geo databases not usable (%s)", strerror(-geo_err));
    homing_reader_free(en->reader);
    en->reader = r;
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
        thread_background_end();
        return NULL;
    }
    unsigned reload_seen = atomic_load(&en->serve->reload_gen);
    while (!serve_stages_stopping(en->serve)) {
        unsigned gen = atomic_load(&en->serve->reload_gen);
        if (gen != reload_seen) {
            reload_seen = gen;
            enrich_reload(en);
        }
        int r = enrich_page(en, b);
        if (r < 0) {
            /* A store that is down (PostgreSQL restarting) fails every try. */
            static struct log_limit limit = LOG_LIMIT_INIT;
            log_error_limited(&limit, "enrich: %s", homing_store_errmsg(en->store));
            enrich_sleep(en, ENRICH_RETRY_MS);
        } else if (r < ENRICH_EVENTS_PAGE) {
            enrich_sleep(en, ENRICH_POLL_MS);
        }
    }
    batch_clear(b);
    free(b);
    thread_background_end();
    return NULL;
}

int enricher_init(struct serve *s, struct homing_store *store)
{
    struct enricher *en = calloc(1, sizeof *en);
    if (!en) return -ENOMEM;
    s->enricher = en;
    en->serve = s;
    en->store = store;
    const struct homing_config *c = s->config;
    int geo_err;
    int r = homing_reader_open(c, &en->reader, &geo_err);
    if (r < 0) {
        en->reader = NULL;
        log_error("enrich: no User-Agent parser or machine knowledge (%s): opens and clicks "
                  "are not enriched",
                  strerror(-r));
    } else if (geo_err) {
        log_warn("enrich: geo.country_db / geo.asn_db not usable (%s): verdicts without "
                 "country and ASN (run make setup)",
                 strerror(-geo_err));
    }
    return 0;
}

int enricher_start(struct serve *s)
{
    struct enricher *en = s->enricher;
    if (!en || !en->reader) return 0;
    atomic_store(&en->running, 1);
    if (pthread_create(&en->thread, NULL, enricher_main, en) != 0) {
        atomic_store(&en->running, 0);
        return -EAGAIN;
    }
    en->started = 1;
    return 0;
}

void enricher_halt(struct serve *s)
{
    struct enricher *en = s->enricher;
    if (!en) return;
    if (en->started) pthread_join(en->thread, NULL);
    en->started = 0;
    atomic_store(&en->running, 0);
}

void enricher_stop(struct serve *s)
{
    struct enricher *en = s->enricher;
    if (!en) return;
    enricher_halt(s);
    if (en->enriched || en->failed)
        log_info("enrich: %" PRIu64 " hits enriched, %" PRIu64 " not enrichable, %" PRIu64
                 " changed after later hits (%" PRIu64 " decided again)",
                 en->enriched, en->failed, en->revised, en->redecided);
    homing_reader_free(en->reader);
    homing_store_close(en->store);
    s->enricher = NULL;
    free(en);
}
