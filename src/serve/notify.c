/*
 * notify.c: the daemon's notifier thread and the live stream of notifications.
 *
 * Notifier: two threads, each with its own store handle:
 *   1. the policy thread reads committed events after its cursor (cursor "notify" in the store,
 *      so a restart resumes where it stopped), runs the policy of
 *      lib/notify/policy.c on each with what the store knows, and adds the
 *      notifications (with their webhook deliveries, in one transaction);
 *   2. the delivery thread sends due deliveries: a signed POST each, many at once on
 *      one libcurl multi handle. Per webhook (an "endpoint"): at most
 *      NOTIFY_INFLIGHT_PER_WEBHOOK running, NOTIFY_QUEUE_PER_WEBHOOK read ahead
 *      (longest due first), and after a failure an exponential back-off with
 *      jitter during which only that webhook waits, then one probe at a time
 *      until a 2xx. A delivery is retried until notify.retry_hours have passed,
 *      then failed. So one receiver that hangs or fails never delays another.
 *      Every connection goes through the SSRF guard (lib/notify/guard.c).
 * It polls the store (notify.poll_ms) rather than being handed events by the
 * loop threads: the hit path does not change at all, and nothing is held only
 * in memory. A crash between adding notifications and moving the cursor makes
 * the next run see the same events again; the store refuses a second
 * notification of one kind for one event, so none is made twice.
 *
 * Exactly-once from a receiver's view: a delivery is marked delivered only
 * after a 2xx and retried until then, so a receiver may see an id twice (its
 * 2xx was lost, or the daemon stopped mid-transfer) and must dedupe by id. In
 * normal operation nothing goes twice: the thread sends a row only from a
 * fresh read, never one it has running, and records each result before the
 * next read. Store writes are one short UPDATE per finished transfer, and
 * one claim before each POST (homing_store_delivery_claim): with several nodes
 * on one PostgreSQL, only the leader's thread runs (leader.c), and the claim
 * (FOR UPDATE SKIP LOCKED, with a lease longer than a POST) keeps a deliverer
 * that has not yet noticed it lost the leadership from sending what the new
 * leader sends; a leader killed mid-transfer leaves claims that the next
 * leader takes once their lease ends (docs/notifications.md).
 * Order: the store hands out a delivery only when every earlier notification
 * of the same message to the same webhook is delivered or failed.
 *
 * Stream: GET /api/v1/stream on the admin loop (stream_start, called by
 * admin.c) sends notifications as Server-Sent Events. Each stream has a timer
 * on the admin loop that reads the store (the admin thread's handle) every
 * STREAM_POLL_MS after its cursor, so the notifier and the stream share
 * nothing but the store; Last-Event-ID (or ?after=) resumes after that id.
 * With several nodes on one PostgreSQL the notifier runs on the leader only,
 * and each node's stream reads the shared store when its listener (leader.c,
 * LISTEN) hears that notifications were committed, so every node's stream
 * shows every notification, whichever node answered the hit.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "homing/notify.h"
#include "homing/reader.h"
#include "log.h"
#include "thread.h"
#include "serve.h"

#define NOTIFY_CURSOR         "notify"
#define NOTIFY_EVENTS_PAGE    256  /* events read per store call */
#define NOTIFY_OTHERS_MAX     2000 /* other events of a message given to the verdict */
#define NOTIFY_SLEEP_STEP_MS  50   /* how often a sleeping notifier looks at the stop flag */
#define NOTIFY_CLIENT_V4_BITS 24   /* client network named in a payload */
#define NOTIFY_CLIENT_V6_BITS 48
#define STREAM_POLL_MS        200
/* With a listener (leader.c, PostgreSQL's LISTEN): a stream looks at the wake
 * counter every STREAM_WAKE_TICK_MS (no store read) and reads the store when
 * it moved, and at least every STREAM_RECHECK_MS whatever it says. */
#define STREAM_WAKE_TICK_MS 50
#define STREAM_RECHECK_MS   5000
#define STREAM_KEEPALIVE_MS 15000
#define STREAM_PAGE         100
#define STREAM_BUF_MAX      (8 << 20)
/* Webhook deliveries: bounded memory whatever the backlog. */
#define NOTIFY_ENDPOINTS_MAX        256 /* webhooks with work tracked at once */
#define NOTIFY_INFLIGHT_PER_WEBHOOK 4   /* POSTs to one healthy webhook at once */
#define NOTIFY_INFLIGHT_MAX         64  /* POSTs at once, all webhooks */
#define NOTIFY_QUEUE_PER_WEBHOOK    16  /* due deliveries read ahead per webhook */
#define NOTIFY_DUE_PAGE             HOMING_STORE_DELIVERIES_MAX /* rows per store read */
/* A claim lasts notify.timeout_ms plus this: the POST has ended (or been
 * abandoned by libcurl) well before anyone else may claim its delivery. */
#define NOTIFY_LEASE_MARGIN_MS 5000
/* Streams open at once: each polls the store from the admin loop. */
#define STREAM_CLIENTS_MAX 64

/* A webhook as the delivery thread sees it: what runs, what is queued (rows
 * of the current page, by due time), and its back-off. */
struct endpoint {
    int64_t webhook;    /* 0: a free slot */
    int fails;          /* consecutive failed attempts: 0 healthy */
    int64_t next_ok_us; /* back-off: nothing starts before (wall clock, as the store) */
    int in_flight;
    int64_t flying[NOTIFY_INFLIGHT_PER_WEBHOOK]; /* notification ids running */
    size_t queue[NOTIFY_QUEUE_PER_WEBHOOK];      /* indices into the notifier's page */
    size_t n_queue;
};

/* One POST on its way: owns its delivery's strings. */
struct transfer {
    struct homing_delivery d;
    int64_t webhook;
    size_t slot; /* in the notifier's running */
};

struct notifier {
    struct serve *serve;
    struct homing_store *store;
    struct homing_reader *reader; /* NULL: no enrichment */
    struct homing_store *dstore;  /* the delivery thread's own handle */
    pthread_t thread, dthread;
    int started;
    long long poll_ms, timeout_ms, retry_hours, retry_min_ms, retry_max_ms;
    int machine;
    /* The delivery thread's own: */
    struct homing_webhook_guard guard;
    struct homing_notify_sender *sender;
    struct homing_delivery *page; /* the last read of due deliveries */
    size_t n_page;
    struct endpoint endpoints[NOTIFY_ENDPOINTS_MAX];
    size_t rotate;
    struct transfer *running[NOTIFY_INFLIGHT_MAX];
};

/* One per daemon, owned by its struct serve (s->notifier): made by
 * notifier_init, freed by notifier_stop. */

/* ---- the policy over committed events ---- */

#define NOTIFY_ALREADY_MAX 8 /* (kind, message, recipient, item) known notified, per page */

/* What one page of events has looked up already. A flood on one message gives
 * one notification at most, and the policy can tell from little which hit
 * says nothing (notify_quiet): the page reads the verdicts and reader flags of
 * all its hits in one store call, and remembers which notifications exist. A
 * notification, once made, is never removed while the page runs (only this
 * thread adds them; forgetting an address removes them, and a page that
 * remembers one behaves as if the forget had come after it). */
struct notify_page {
    int enriched; /* the enrichment thread ran when the page began: flags are read */
    const struct homing_store_enrichment_flags *flags; /* ascending events */
    size_t n_flags, next_flag;
    struct notify_already {
        const char *kind;
        uint64_t message;
        int64_t recipient, item;
    } already[NOTIFY_ALREADY_MAX];
    size_t n_already, next_already;
};

static int exists(struct homing_store *st, const char *kind, uint64_t message, int64_t recipient,
                  int64_t item, const char *reader, int *out)
{
    struct homing_notification_query q = {
        .kind = kind, .message = message, .recipient = recipient, .item = item, .reader = reader};
    return homing_store_notification_exists(st, &q, out);
}

/* Enriches an open or click with lib/reader (client, country, verdict, reader). */
static int enrich(struct notifier *nt, const struct homing_event *ev,
                  const struct homing_message *m, struct homing_enrichment *out)
{
    struct homing_event *others = NULL;
    size_t n_others = 0;
    /* The verdict looks at the message's other hits (bursts, clicks without
     * an open); a failure only makes it see less. */
    if (homing_store_events_list(nt->store, ev->message, 0, NOTIFY_OTHERS_MAX, &others, &n_others) <
        0)
        n_others = 0;
    struct homing_verdict_input in = {
        .event = ev,
        .registered_us = m->created_us,
        .others = others,
        .n_others = n_others,
    };
    int r = homing_reader_enrich(nt->reader, &in, out);
    homing_events_free(others, n_others);
    return r;
}

static json_t *payload_of(const struct homing_event *ev, const struct homing_message *m,
                          const char *address, const char *link, const struct homing_enrichment *e,
                          const char *fp)
{
    char ids[HOMING_ID_STR_MAX];
    homing_id_format(ev->message, ids);
    json_t *p = json_object();
    if (!p) return NULL;
    json_object_set_new(p, "message", json_string(ids));
    json_object_set_new(p, "subject", homing_json_text(m->subject));
    json_object_set_new(p, "from", homing_json_text(m->sender));
    json_object_set_new(p, "address", homing_json_text(address));
    json_object_set_new(p, "recipient", json_integer(ev->recipient));
    json_object_set_new(p, "event_kind", json_string(homing_event_kind_name(ev->kind)));
    if (link) json_object_set_new(p, "link", homing_json_text(link));
    if (ev->kind == HOMING_EV_OPEN || ev->kind == HOMING_EV_CLICK ||
        ev->kind == HOMING_EV_DOCUMENT_OPEN) {
        /* The network, not the address: a notification is kept and sent out,
         * so it holds no more than the /24 or /48 the store keeps for good. */
        struct homing_addr a;
        char net[HOMING_ADDR_STR_MAX + 4] = "";
        if (homing_addr_parse(ev->client, strnlen(ev->client, sizeof ev->client), &a) == 0) {
            unsigned bits = a.family == 4 ? NOTIFY_CLIENT_V4_BITS : NOTIFY_CLIENT_V6_BITS;
            homing_addr_truncate(&a, bits);
            homing_addr_format(&a, net);
            snprintf(net + strlen(net), sizeof net - strlen(net), "/%u", bits);
        }
        json_object_set_new(p, "client", net[0] ? json_string(net) : json_null());
        json_object_set_new(p, "user_agent", homing_json_text(ev->user_agent));
    }
    if (e) {
        char reasons[512] = "";
        homing_verdict_reasons_format(e->verdict.reasons, reasons, sizeof reasons);
        json_object_set_new(p, "verdict", json_string(homing_verdict_name(e->verdict.verdict)));
        json_object_set_new(p, "reasons", json_string(reasons));
        json_object_set_new(p, "browser", homing_json_text(e->ua.family));
        json_object_set_new(p, "os", homing_json_text(e->ua.os));
        json_object_set_new(p, "device", homing_json_text(e->ua.device));
        json_object_set_new(p, "device_type", json_string(homing_device_type_name(e->ua.type)));
        if (e->country[0]) json_object_set_new(p, "country", homing_json_text(e->country));
        if (fp) json_object_set_new(p, "reader", json_string(fp));
    }
    if (ev->detail) {
        json_t *d = json_loads(ev->detail, 0, NULL);
        if (d) json_object_set_new(p, "detail", d);
    }
    return p;
}

/* The stored flags of ev, or NULL if it has no enrichment. Events come in
 * ascending order, so the search goes on from the last one found. */
static const struct homing_store_enrichment_flags *page_flags(struct notify_page *pg,
                                                              const struct homing_event *ev)
{
    while (pg->next_flag < pg->n_flags && pg->flags[pg->next_flag].event < ev->id) pg->next_flag++;
    if (pg->next_flag < pg->n_flags && pg->flags[pg->next_flag].event == ev->id)
        return &pg->flags[pg->next_flag];
    return NULL;
}

/* exists() for a kind of (message, recipient, item), remembering a yes. */
static int page_exists(struct notifier *nt, struct notify_page *pg, const char *kind,
                       uint64_t message, int64_t recipient, int64_t item, int *out)
{
    for (size_t i = 0; i < pg->n_already; i++) {
        const struct notify_already *a = &pg->already[i];
        if (a->kind == kind && a->message == message && a->recipient == recipient &&
            a->item == item) {
            *out = 1;
            return 0;
        }
    }
    int r = exists(nt->store, kind, message, recipient, item, NULL, out);
    if (r < 0 || !*out) return r;
    struct notify_already *a = &pg->already[pg->next_already];
    pg->next_already = (pg->next_already + 1) % NOTIFY_ALREADY_MAX;
    if (pg->n_already < NOTIFY_ALREADY_MAX) pg->n_already++;
    *a = (struct notify_already){kind, message, recipient, item};
    return 0;
}

/* *quiet = 1 when the policy says nothing about hit ev whatever else the
 * store holds, from the stored verdict and reader flags and whether the kind
 * was notified: homing_notify_policy's rules 1 to 3 with the facts
 * notify_event passes while the enrichment thread runs (its stored verdict
 * and flags; no enrichment row: no verdict, no reader). 0 when notify_event
 * must look; a negative errno when the store failed. */
static int notify_quiet(struct notifier *nt, struct notify_page *pg, const struct homing_event *ev,
                        const char *kind, int per_item, int *quiet)
{
    *quiet = 0;
    const struct homing_store_enrichment_flags *f = page_flags(pg, ev);
    /* Rule 1: a machine (a HEAD, or a stored machine verdict) says nothing. */
    int v = f ? homing_verdict_parse(f->verdict) : -1;
    int machine =
        ev->method == HOMING_METHOD_HEAD || (v >= 0 && homing_verdict_is_read((unsigned)v) == 0);
    if (machine && !nt->machine) {
        *quiet = 1;
        return 0;
    }
    int already = 0;
    int r = page_exists(nt, pg, kind, ev->message, ev->recipient, per_item ? (int64_t)ev->item : -1,
                        &already);
    if (r < 0) return r;
    /* Rule 3: a click or document already notified. Rule 2: an open already
     * notified is news only from a new reader after another reader opened
     * (the stored flags; no enrichment, no reader, nothing). */
    if (already && (per_item || !f || !f->forward || !f->new_reader)) *quiet = 1;
    return 0;
}

/* Runs the policy on one event. 0 when done (also when it says nothing), a
 * negative errno when the store failed and the event must be seen again. */
static int notify_event(struct notifier *nt, struct notify_page *pg, const struct homing_event *ev)
{
    const char *same_kind = NULL, *state_kind = NULL;
    int per_item = 0, hit = 0;
    switch (ev->kind) {
    case HOMING_EV_OPEN:
        same_kind = "open";
        hit = 1;
        break;
    case HOMING_EV_CLICK:
        same_kind = "click";
        per_item = hit = 1;
        break;
    case HOMING_EV_DOCUMENT_OPEN:
        same_kind = "document-open";
        per_item = hit = 1;
        break;
    case HOMING_EV_DELIVERED: state_kind = "delivered"; break;
    case HOMING_EV_BOUNCED: state_kind = "bounced"; break;
    case HOMING_EV_DELAYED: state_kind = "delayed"; break;
    case HOMING_EV_READ: state_kind = "read"; break;
    case HOMING_EV_COMPLAINT: state_kind = "complaint"; break;
    default: return 0; /* nothing to say about these */
    }
    /* A state step notifies once (policy rule 4): the same delivery from a DSN
     * and from the log, or each retry of a deferral, says nothing new. */
    int state_notified = 0;
    for (int i = homing_notify_state_rank(state_kind) - 1;
         state_kind && homing_notify_state_kinds[i] && !state_notified; i++) {
        int r = exists(nt->store, homing_notify_state_kinds[i], ev->message, ev->recipient, -1,
                       NULL, &state_notified);
        if (r < 0) return r;
    }
    if (state_notified) return 0;
    if (hit && pg->enriched) {
        int quiet, r = notify_quiet(nt, pg, ev, same_kind, per_item, &quiet);
        if (r < 0 || quiet) return r;
    }
    struct homing_message *m = NULL;
    json_t *detail = NULL;
    int r = homing_store_message_get(nt->store, ev->message, &m);
    if (r == -ENOENT) return 0; /* a token of a message this store does not know */
    if (r < 0) return r;
    const char *address = NULL, *link = NULL;
    for (size_t i = 0; i < m->n_recipients; i++)
        if (m->recipients[i].index == ev->recipient) address = m->recipients[i].address;
    if (ev->kind == HOMING_EV_CLICK)
        for (size_t i = 0; i < m->n_links; i++)
            if (m->links[i].index == ev->item) link = m->links[i].url;

    /* Looked up first: a click already notified needs no enrichment at all. */
    int already = 0;
    if (same_kind && (r = exists(nt->store, same_kind, ev->message, ev->recipient,
                                 per_item ? (int64_t)ev->item : -1, NULL, &already)) < 0)
        goto out;
    if (already && per_item) goto out;
    struct homing_enrichment en;
    const struct homing_enrichment *e = NULL;
    char fp[HOMING_FINGERPRINT_STR_MAX] = "";
    /* The enrichment thread's verdict and reader flags (enrich.c) while it runs:
     * one verdict per event, the one reports show; enriched here otherwise. */
    int stored = 0, new_reader = 0, forward = 0;
    if (hit && enricher_running(nt->serve) &&
        enricher_lookup(nt->store, ev, &en, &new_reader, &forward) == 0)
        stored = 1;
    if (stored ||
        (hit && !enricher_running(nt->serve) && nt->reader && enrich(nt, ev, m, &en) == 0)) {
        e = &en;
        if (en.fingerprint) homing_fingerprint_format(en.fingerprint, fp);
    }
    struct homing_notify_facts f = {
        .event = ev,
        .subject = m->subject,
        .address = address,
        .link_url = link,
        .enrich = e,
        .notify_machine = nt->machine,
        .already_notified = already,
        .state_notified = state_notified,
    };
    if (ev->detail) detail = json_loads(ev->detail, 0, NULL);
    f.status = json_string_value(json_object_get(detail, "status"));
    f.reason = json_string_value(json_object_get(detail, "reason"));
    if (ev->kind == HOMING_EV_OPEN && f.already_notified && fp[0]) {
        int known = 0;
        if ((r = exists(nt->store, "open", ev->message, -1, -1, NULL, &f.message_opened)) < 0 ||
            (r = exists(nt->store, NULL, ev->message, -1, -1, fp, &known)) < 0)
            goto out;
        f.reader_new = !known;
    }
    if (stored) {
        /* A reader new to the message after another one read the recipient's
         * copy: a possible forward (the readers table decides, per copy). */
        f.message_opened = forward;
        f.reader_new = new_reader;
    }
    struct homing_notify_decision d[HOMING_NOTIFY_POLICY_MAX];
    int n = homing_notify_policy(&f, d);
    for (int i = 0; i < n; i++) {
        json_t *p = payload_of(ev, m, address, link, e, fp[0] ? fp : NULL);
        int64_t id = 0;
        const char *reader = strcmp(d[i].kind, "open") == 0 || strcmp(d[i].kind, "new-reader") == 0
                                 ? (fp[0] ? fp : NULL)
                                 : NULL;
        r = homing_notify_add(nt->store, d[i].kind, ev->message, ev->recipient,
                              per_item ? ev->item : 0, ev->id, reader, d[i].text, p, &id);
        json_decref(p);
        if (r == -EEXIST) r = 0; /* made before a crash: the event is seen again */
        if (r < 0) goto out;
        char safe[HOMING_NOTIFY_TEXT_MAX];
        homing_str_escape(safe, sizeof safe, d[i].text, strlen(d[i].text), 0);
        if (id) log_info("notification %" PRId64 " (%s): %s", id, d[i].kind, safe);
    }
    r = 0;
out:
    json_decref(detail);
    homing_message_free(m);
    return r;
}

/* Runs the policy over every event after the cursor; returns the number seen. */
static int notify_events(struct notifier *nt)
{
    int64_t cursor = 0;
    int r = homing_store_cursor_get(nt->store, NOTIFY_CURSOR, &cursor);
    if (r < 0 && r != -ENOENT) return r;
    /* Never past the enrichment cursor: the policy needs the verdicts. */
    int64_t upto;
    if ((r = enricher_horizon(nt->serve, nt->store, &upto)) < 0) return r;
    struct homing_event *evs = NULL;
    size_t n = 0;
    if ((r = homing_store_events_list(nt->store, 0, cursor, NOTIFY_EVENTS_PAGE, &evs, &n)) < 0)
        return r;
    struct notify_page pg = {0};
    struct homing_store_enrichment_flags *flags = NULL;
    if (n && enricher_running(nt->serve)) {
        /* The enrichments of the page's hits: all stored, up to the horizon. */
        int64_t last = evs[n - 1].id < upto ? evs[n - 1].id : upto;
        if (last > cursor &&
            (r = homing_store_enrichment_flags(nt->store, cursor, last, NOTIFY_EVENTS_PAGE, &flags,
                                               &pg.n_flags)) < 0) {
            homing_events_free(evs, n);
            return r;
        }
        pg.flags = flags;
        pg.enriched = 1;
    }
    int64_t done = cursor;
    size_t seen = n;
    for (size_t i = 0; i < n; i++) {
        if (evs[i].id > upto) {
            seen = i; /* seen again once enriched; a short page ends the round */
            break;
        }
        if ((r = notify_event(nt, &pg, &evs[i])) < 0) break;
        done = evs[i].id;
    }
    free(flags);
    homing_events_free(evs, n);
    n = seen;
    if (done != cursor) {
        int w = homing_store_cursor_set(nt->store, NOTIFY_CURSOR, done);
        if (w < 0) return w;
    }
    return r < 0 ? r : (int)n;
}

/* ---- webhook deliveries ---- */

/* The wait before attempt number `attempts` + 1: retry_min doubled per attempt
 * up to retry_max, then a random point in its upper half, so receivers coming
 * back are not hit by every daemon at the same moment. */
static int64_t backoff_us(const struct notifier *nt, int attempts)
{
    long long ms = nt->retry_min_ms;
    for (int i = 1; i < attempts && ms < nt->retry_max_ms; i++) ms *= 2;
    if (ms > nt->retry_max_ms) ms = nt->retry_max_ms;
    long long half = ms / 2;
    uint32_t span = half > 0x7fffffff ? 0x7fffffff : (uint32_t)half;
    long long jitter = span ? (long long)randombytes_uniform(span) : 0;
    return (half + jitter + 1) * 1000LL;
}

/* A transfer owns the strings of its delivery (moved out of the page). */
static void transfer_free(struct transfer *t)
{
    if (!t) return;
    free(t->d.url);
    free(t->d.secret);
    free(t->d.n.reader);
    free(t->d.n.text);
    free(t->d.n.payload);
    free(t);
}

/* Finds the endpoint of a webhook, taking a slot for it if it has none: a free
 * one, else one with nothing running (a healthy one first: forgetting a
 * failing one's back-off only brings its next try forward, and its failed
 * delivery keeps its own next attempt time in the store). NULL: all busy. */
static struct endpoint *endpoint_of(struct notifier *nt, int64_t webhook)
{
    struct endpoint *free_slot = NULL, *idle = NULL;
    for (size_t i = 0; i < NOTIFY_ENDPOINTS_MAX; i++) {
        struct endpoint *ep = &nt->endpoints[i];
        if (ep->webhook == webhook) return ep;
        if (!ep->webhook) {
            if (!free_slot) free_slot = ep;
        } else if (ep->in_flight == 0 && ep->n_queue == 0 &&
                   (!idle || (idle->fails && !ep->fails) ||
                    (!idle->fails == !ep->fails && ep->next_ok_us < idle->next_ok_us))) {
            idle = ep;
        }
    }
    struct endpoint *ep = free_slot ? free_slot : idle;
    if (ep) *ep = (struct endpoint){.webhook = webhook};
    return ep;
}

/* Reads what is due, at most NOTIFY_QUEUE_PER_WEBHOOK ahead per webhook past
 * what runs, into the endpoints' queues. One store read per round (and after
 * each finished transfer, since the next notification of a message becomes
 * due only when the one before it is done). */
static int deliver_read(struct notifier *nt)
{
    homing_deliveries_free(nt->page, nt->n_page);
    nt->page = NULL;
    nt->n_page = 0;
    for (size_t i = 0; i < NOTIFY_ENDPOINTS_MAX; i++) nt->endpoints[i].n_queue = 0;
    int r = homing_store_deliveries_due_fair(nt->dstore, homing_now_us(),
                                             NOTIFY_QUEUE_PER_WEBHOOK + NOTIFY_INFLIGHT_PER_WEBHOOK,
                                             NOTIFY_DUE_PAGE, &nt->page, &nt->n_page);
    if (r < 0) return r;
    for (size_t i = 0; i < nt->n_page; i++) {
        const struct homing_delivery *d = &nt->page[i];
        struct endpoint *ep = endpoint_of(nt, d->webhook);
        if (!ep || ep->n_queue >= NOTIFY_QUEUE_PER_WEBHOOK) continue;
        int running = 0;
        for (int k = 0; k < ep->in_flight && !running; k++)
            running = ep->flying[k] == d->notification;
        if (!running) ep->queue[ep->n_queue++] = i;
    }
    return 0;
}

/* Starts the head of ep's queue. The transfer takes the row over. */
static void deliver_start(struct notifier *nt, struct endpoint *ep)
{
    struct homing_delivery *row = &nt->page[ep->queue[0]];
    memmove(ep->queue, ep->queue + 1, (ep->n_queue - 1) * sizeof ep->queue[0]);
    ep->n_queue--;
    struct transfer *t = calloc(1, sizeof *t);
    if (!t) return; /* the row stays in the page; the next read finds it again */
    t->d = *row;
    memset(row, 0, sizeof *row); /* the page no longer owns its strings */
    t->webhook = ep->webhook;
    /* Claimed before it is sent: with several nodes on one store a deliverer
     * that outlived its leadership (or a second one) cannot send it too. The
     * lease outlives the POST (bounded by timeout_ms), so a claim is never
     * taken over while its POST may still be on the wire; one abandoned by a
     * crash is free again when the lease ends. */
    int claimed = homing_store_delivery_claim(nt->dstore, t->d.notification, t->d.webhook,
                                              (nt->timeout_ms + NOTIFY_LEASE_MARGIN_MS) * 1000LL);
    if (claimed <= 0) {
        if (claimed < 0)
            log_error("notifier: cannot claim a delivery: %s", homing_store_errmsg(nt->dstore));
        transfer_free(t); /* another deliverer's, or finished: the next read tells */
        return;
    }
    json_t *j = homing_notification_json(&t->d.n);
    char *body = j ? homing_json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    int r =
        body ? homing_notify_sender_start(nt->sender, t->d.url, t->d.secret, t->d.n.id, t->d.n.kind,
                                          body, strlen(body), (long)nt->timeout_ms, t)
             : -ENOMEM;
    free(body);
    if (r < 0) {
        /* Not sent: it stays pending and due, and is read again next round. */
        log_error("notifier: cannot start a webhook POST: %s", strerror(-r));
        transfer_free(t);
        return;
    }
    ep->flying[ep->in_flight++] = t->d.notification;
    for (size_t i = 0; i < NOTIFY_INFLIGHT_MAX; i++)
        if (!nt->running[i]) {
            nt->running[i] = t;
            t->slot = i;
            break;
        }
}

/* Starts what the limits allow: per webhook NOTIFY_INFLIGHT_PER_WEBHOOK (one
 * while it is failing: a probe), NOTIFY_INFLIGHT_MAX in all, nothing to a
 * webhook in back-off. The scan starts at a rotating endpoint so no webhook
 * always comes first when the total limit is reached. */
static void deliver_start_due(struct notifier *nt)
{
    int64_t now = homing_now_us();
    for (size_t n = 0; n < NOTIFY_ENDPOINTS_MAX; n++) {
        struct endpoint *ep = &nt->endpoints[(nt->rotate + n) % NOTIFY_ENDPOINTS_MAX];
        if (!ep->webhook || now < ep->next_ok_us) continue;
        int limit = ep->fails ? 1 : NOTIFY_INFLIGHT_PER_WEBHOOK;
        while (ep->n_queue && ep->in_flight < limit &&
               homing_notify_sender_active(nt->sender) < NOTIFY_INFLIGHT_MAX)
            deliver_start(nt, ep);
    }
    nt->rotate = (nt->rotate + 1) % NOTIFY_ENDPOINTS_MAX;
}

/* Records a finished transfer and moves its endpoint's back-off. */
static void deliver_finish(struct notifier *nt, const struct homing_notify_result *res)
{
    struct transfer *t = res->tag;
    const struct homing_delivery *d = &t->d;
    nt->running[t->slot] = NULL;
    struct endpoint *ep = NULL;
    for (size_t i = 0; i < NOTIFY_ENDPOINTS_MAX && !ep; i++)
        if (nt->endpoints[i].webhook == t->webhook) ep = &nt->endpoints[i];
    if (ep) {
        for (int k = 0; k < ep->in_flight; k++)
            if (ep->flying[k] == d->notification) {
                ep->flying[k] = ep->flying[--ep->in_flight];
                break;
            }
    }
    int64_t now = homing_now_us();
    int r;
    if (res->r == 0) {
        log_debug("notification %" PRId64 " delivered to webhook %" PRId64, d->n.id, d->webhook);
        if (ep) {
            ep->fails = 0;
            ep->next_ok_us = 0;
        }
        r = homing_store_delivery_result(nt->dstore, d->notification, d->webhook, 1, 0, NULL);
    } else {
        /* The endpoint backs off as a whole (its consecutive failures), and
         * never less than this delivery's own attempts say (after a restart
         * the endpoint starts afresh, the delivery does not). */
        int attempts = d->attempts + 1;
        int fails = ep ? ++ep->fails : attempts;
        int64_t next = now + backoff_us(nt, fails > attempts ? fails : attempts);
        if (ep) ep->next_ok_us = next;
        int give_up = now - d->notification_us >= nt->retry_hours * 3600LL * 1000000LL;
        char safe[HOMING_NOTIFY_ERROR_MAX];
        homing_str_escape(safe, sizeof safe, res->err, strlen(res->err), 0);
        if (give_up)
            log_warn("notification %" PRId64 " to webhook %" PRId64 " failed for good after %d "
                     "attempts: %s",
                     d->n.id, d->webhook, attempts, safe);
        else
            log_info("notification %" PRId64 " to webhook %" PRId64 ": attempt %d failed (%s), "
                     "webhook retried in %.1f s",
                     d->n.id, d->webhook, attempts, safe, (double)(next - now) / 1e6);
        r = homing_store_delivery_result(nt->dstore, d->notification, d->webhook, 0,
                                         give_up ? 0 : next, safe);
    }
    /* -ENOENT: the webhook was removed (its deliveries failed) meanwhile. */
    if (r < 0 && r != -ENOENT)
        log_error("notifier: cannot record a delivery: %s", homing_store_errmsg(nt->dstore));
    transfer_free(t);
}

/* How long the delivery thread may wait in libcurl: until the next read, the
 * end of a back-off with something queued, or NOTIFY_SLEEP_STEP_MS (the stop
 * flag), whichever is first. */
static int deliver_wait_ms(const struct notifier *nt, int64_t next_read_us)
{
    int64_t now = homing_now_us(), until = next_read_us;
    for (size_t i = 0; i < NOTIFY_ENDPOINTS_MAX; i++) {
        const struct endpoint *ep = &nt->endpoints[i];
        /* Only a back-off that will end: a webhook at its limits waits for a
         * transfer to finish, which wakes libcurl anyway. */
        if (ep->webhook && ep->n_queue && ep->next_ok_us > now && ep->next_ok_us < until)
            until = ep->next_ok_us;
    }
    int64_t ms = (until - now + 999) / 1000;
    if (ms < 0) ms = 0;
    return ms < NOTIFY_SLEEP_STEP_MS ? (int)ms : NOTIFY_SLEEP_STEP_MS;
}

/* Sleeps poll_ms, looking at the stop flag every NOTIFY_SLEEP_STEP_MS. */
static void notifier_nap(struct notifier *nt)
{
    for (long long slept = 0; slept < nt->poll_ms && !serve_stages_stopping(nt->serve);
         slept += NOTIFY_SLEEP_STEP_MS) {
        long long step =
            nt->poll_ms - slept < NOTIFY_SLEEP_STEP_MS ? nt->poll_ms - slept : NOTIFY_SLEEP_STEP_MS;
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* SIGHUP: only this thread uses nt->reader (notify_enrich), so it swaps it
 * here between passes; one that fails to open leaves the old one in use. */
static void notifier_reload(struct notifier *nt)
{
    if (!nt->reader) return; /* notify.enrich off, or never opened: a restart changes that */
    struct homing_reader *r;
    int geo_err;
    int e = homing_reader_open(nt->serve->config, &r, &geo_err);
    if (e < 0) {
        log_error("notifier: reload: %s: keeping the data files in use", strerror(-e));
        return;
    }
    homing_reader_free(nt->reader);
    nt->reader = r;
}

/* The policy thread: events to notifications. */
static void *notifier_main(void *arg)
{
    pthread_setname_np(pthread_self(), "homing-notify");
    thread_background();
    struct notifier *nt = arg;
    unsigned reload_seen = atomic_load(&nt->serve->reload_gen);
    while (!serve_stages_stopping(nt->serve)) {
        unsigned gen = atomic_load(&nt->serve->reload_gen);
        if (gen != reload_seen) {
            reload_seen = gen;
            notifier_reload(nt);
        }
        int r;
        while ((r = notify_events(nt)) == NOTIFY_EVENTS_PAGE && !serve_stages_stopping(nt->serve))
            ;
        /* A store that is down (PostgreSQL restarting) fails every poll. */
        static struct log_limit events_limit = LOG_LIMIT_INIT;
        if (r < 0)
            log_error_limited(&events_limit, "notifier: cannot process events: %s",
                              homing_store_errmsg(nt->store));
        notifier_nap(nt);
    }
    thread_background_end();
    return NULL;
}

/* The delivery thread: one libcurl multi handle runs every webhook's POSTs
 * side by side, so a receiver that hangs holds only its own transfers (until
 * notify.timeout_ms) and one that fails backs off alone; the others are
 * served as soon as their notifications are due. */
static void *deliverer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "homing-deliver");
    thread_background();
    struct notifier *nt = arg;
    int64_t next_read = 0;
    while (!serve_stages_stopping(nt->serve)) {
        int64_t now = homing_now_us();
        if (now >= next_read) {
            static struct log_limit read_limit = LOG_LIMIT_INIT;
            if (deliver_read(nt) < 0)
                log_error_limited(&read_limit, "notifier: cannot read deliveries: %s",
                                  homing_store_errmsg(nt->dstore));
            next_read = now + nt->poll_ms * 1000LL;
            /* A back-off ends when its delivery falls due: read then, so the
             * retry goes at its time, not up to a poll later. */
            for (size_t i = 0; i < NOTIFY_ENDPOINTS_MAX; i++) {
                const struct endpoint *ep = &nt->endpoints[i];
                if (ep->webhook && ep->fails && ep->next_ok_us > now && ep->next_ok_us < next_read)
                    next_read = ep->next_ok_us;
            }
        }
        deliver_start_due(nt);
        if (homing_notify_sender_run(nt->sender, deliver_wait_ms(nt, next_read)) < 0) {
            log_error("notifier: libcurl failed; webhook deliveries wait");
            notifier_nap(nt);
        }
        struct homing_notify_result res;
        while (homing_notify_sender_done(nt->sender, &res) == 1) {
            deliver_finish(nt, &res);
            next_read = 0; /* a later notification of its message may be due now */
        }
    }
    /* Transfers still running are abandoned: their deliveries stay pending and
     * go out after a restart (receivers dedupe by id). */
    homing_notify_sender_free(nt->sender);
    nt->sender = NULL;
    for (size_t i = 0; i < NOTIFY_INFLIGHT_MAX; i++) {
        transfer_free(nt->running[i]);
        nt->running[i] = NULL;
    }
    homing_deliveries_free(nt->page, nt->n_page);
    nt->page = NULL;
    nt->n_page = 0;
    thread_background_end();
    return NULL;
}

int notifier_init(struct serve *s, struct homing_store *store)
{
    struct notifier *nt = calloc(1, sizeof *nt);
    if (!nt) return -ENOMEM;
    s->notifier = nt; /* freed by notifier_stop, also after a failure here */
    nt->serve = s;
    nt->store = store;
    const struct homing_config *c = s->config;
    const struct homing_settings *set = homing_config_settings(c);
    char err[512];
    if (homing_store_open(set->store.url, homing_config_base_dir(c), set->store.sync, &nt->dstore,
                          err, sizeof err) < 0) {
        log_error("cannot open store for webhook deliveries: %s", err);
        return -EIO;
    }
    nt->poll_ms = set->notify.poll_ms;
    nt->timeout_ms = set->notify.timeout_ms;
    nt->retry_hours = set->notify.retry_hours;
    nt->retry_min_ms = set->notify.retry_min_ms;
    nt->retry_max_ms = set->notify.retry_max_ms;
    nt->machine = set->notify.machine;
    if (nt->retry_max_ms < nt->retry_min_ms) nt->retry_max_ms = nt->retry_min_ms;
    if (homing_webhook_guard_from_config(c, &nt->guard) < 0) {
        log_error("webhooks.allow_private or admin.listen is not valid (see "
                  "docs/configuration.md)");
        return -EINVAL;
    }
    if (homing_notify_sender_new(&nt->guard, &nt->sender) < 0) {
        log_error("cannot initialise libcurl for webhook deliveries");
        return -EIO;
    }
    if (set->notify.enrich) {
        int geo_err;
        int r = homing_reader_open(c, &nt->reader, &geo_err);
        if (r < 0) {
            nt->reader = NULL;
            log_warn("notifier: no User-Agent parser (%s): notifications name no client",
                     strerror(-r));
        } else if (geo_err) {
            log_warn("notifier: geo databases not usable (%s): notifications name no country",
                     strerror(-geo_err));
        }
    }
    return 0;
}

int notifier_start(struct serve *s)
{
    struct notifier *nt = s->notifier;
    /* Run again after a halt (leader.c): the deliverer freed its sender and
     * starts with no endpoint state. */
    if (!nt->sender && homing_notify_sender_new(&nt->guard, &nt->sender) < 0) return -EIO;
    memset(nt->endpoints, 0, sizeof nt->endpoints);
    nt->rotate = 0;
    if (pthread_create(&nt->thread, NULL, notifier_main, nt) != 0) return -EAGAIN;
    if (pthread_create(&nt->dthread, NULL, deliverer_main, nt) != 0) {
        /* Without deliveries the outbox only grows; they go out after a restart. */
        nt->started = 1;
        return -EAGAIN;
    }
    nt->started = 2;
    return 0;
}

void notifier_halt(struct serve *s)
{
    struct notifier *nt = s->notifier;
    if (!nt) return;
    if (nt->started >= 1) pthread_join(nt->thread, NULL);
    if (nt->started >= 2) pthread_join(nt->dthread, NULL);
    nt->started = 0;
}

void notifier_stop(struct serve *s)
{
    struct notifier *nt = s->notifier;
    if (!nt) return;
    notifier_halt(s);
    homing_notify_sender_free(nt->sender); /* (the delivery thread's, if it never ran) */
    homing_store_close(nt->dstore);
    homing_reader_free(nt->reader);
    homing_store_close(nt->store);
    s->notifier = NULL;
    free(nt);
}

/* ---- GET /api/v1/stream: Server-Sent Events on the admin loop ---- */

struct stream {
    h2o_generator_t gen; /* first: h2o hands it back to us */
    h2o_req_t *req;
    struct worker *w;
    h2o_timeout_entry_t timer;
    int64_t cursor;       /* last notification id sent */
    int64_t last_send_us; /* for the keep-alive comment */
    int64_t last_read_us; /* the last read of the store */
    unsigned woke_seen;   /* s->woke_notifications at that read */
    int sending;          /* h2o owns buf until proceed */
    int closed;
    struct homing_buf buf;
};

static h2o_timeout_t stream_timeout;
static int stream_timeout_ready;
static int stream_clients; /* only the admin loop thread touches it */

static void stream_flush(struct stream *st);

static void stream_arm(struct stream *st)
{
    if (!h2o_timeout_is_linked(&st->timer))
        h2o_timeout_link(st->w->loop, &stream_timeout, &st->timer);
}

static void stream_on_timer(h2o_timeout_entry_t *entry)
{
    struct stream *st = H2O_STRUCT_FROM_MEMBER(struct stream, timer, entry);
    if (st->closed) return;
    if (!st->sending) stream_flush(st);
    stream_arm(st);
}

static void stream_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    struct stream *st = (struct stream *)gen;
    st->sending = 0;
    homing_buf_reset(&st->buf);
}

static void stream_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    struct stream *st = (struct stream *)gen;
    st->closed = 1;
    stream_clients--;
    if (h2o_timeout_is_linked(&st->timer)) h2o_timeout_unlink(&st->timer);
    homing_buf_free(&st->buf);
}

/* Appends one notification as an SSE event. */
static int stream_format(struct homing_buf *b, const struct homing_notification *n)
{
    json_t *j = homing_notification_json(n);
    char *data = j ? homing_json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!data) return -ENOMEM;
    /* JSON_COMPACT output has no newline, so one data line carries it. */
    int r = homing_buf_printf(b, "id: %" PRId64 "\nevent: %s\ndata: %s\n\n", n->id, n->kind, data);
    free(data);
    return r;
}

/* Sends what the store has after the cursor, or a keep-alive comment. While
 * the listener hears the store, the store is read only when someone stored
 * notifications since the last read (on any node), or STREAM_RECHECK_MS
 * after it; otherwise every tick. */
static void stream_flush(struct stream *st)
{
    struct homing_notification *v = NULL;
    size_t n = 0;
    struct serve *s = st->w->serve;
    int64_t now = homing_mono_us();
    unsigned woke = atomic_load(&s->woke_notifications);
    int skip = atomic_load(&s->listening) && woke == st->woke_seen &&
               now - st->last_read_us < STREAM_RECHECK_MS * 1000LL;
    if (!skip) {
        /* before the read: a wake during it is seen at the next tick */
        st->woke_seen = woke;
        st->last_read_us = now;
    }
    if (!skip &&
        homing_store_notifications_list(st->w->store, st->cursor, STREAM_PAGE, &v, &n) < 0) {
        log_warn("stream: cannot read notifications: %s", homing_store_errmsg(st->w->store));
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (stream_format(&st->buf, &v[i]) < 0) break;
        st->cursor = v[i].id;
    }
    homing_notifications_free(v, n);
    if (st->buf.len == 0 && now - st->last_send_us >= STREAM_KEEPALIVE_MS * 1000LL)
        homing_buf_puts(&st->buf, ": keep-alive\n\n");
    if (st->buf.len == 0) return;
    st->last_send_us = now;
    st->sending = 1;
    h2o_iovec_t chunk = h2o_iovec_init(st->buf.data, st->buf.len);
    h2o_send(st->req, &chunk, 1, H2O_SEND_STATE_IN_PROGRESS);
}

/* The resume point: Last-Event-ID (a reconnecting EventSource), else ?after=
 * (a number, or "now": the newest notification), else 0 (everything).
 * Anything else is a 400. */
static int stream_cursor(struct worker *w, h2o_req_t *req, int64_t *out)
{
    *out = 0;
    const char *p = NULL;
    size_t len = 0;
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("last-event-id"), -1);
    char query[64];
    if (i >= 0) {
        p = req->headers.entries[i].value.base;
        len = req->headers.entries[i].value.len;
    } else if (req->query_at != SIZE_MAX) {
        const char *q = req->path.base + req->query_at + 1;
        size_t qn = req->path.len - req->query_at - 1;
        if (qn >= 6 && memcmp(q, "after=", 6) == 0) {
            p = q + 6;
            len = qn - 6;
            const char *amp = memchr(p, '&', len);
            if (amp) len = (size_t)(amp - p);
        }
    }
    if (!p || len == 0) return 0;
    if (len >= sizeof query) return -EINVAL;
    memcpy(query, p, len);
    query[len] = '\0';
    if (strcmp(query, "now") == 0) return homing_store_notifications_last(w->store, out);
    char *end;
    long long v = strtoll(query, &end, 10);
    if (*end || v < 0) return -EINVAL;
    *out = v;
    return 0;
}

int stream_start(struct worker *w, h2o_req_t *req)
{
    int64_t cursor;
    if (stream_cursor(w, req, &cursor) < 0) return -EINVAL;
    if (stream_clients >= STREAM_CLIENTS_MAX) return -EBUSY;
    if (!stream_timeout_ready) {
        h2o_timeout_init(w->loop, &stream_timeout,
                         w->serve->listener ? STREAM_WAKE_TICK_MS : STREAM_POLL_MS);
        stream_timeout_ready = 1;
    }
    struct stream *st = h2o_mem_alloc_pool(&req->pool, sizeof *st);
    memset(st, 0, sizeof *st);
    st->gen.proceed = stream_proceed;
    st->gen.stop = stream_stop;
    st->req = req;
    st->w = w;
    st->cursor = cursor;
    st->timer.cb = stream_on_timer;
    stream_clients++;
    homing_buf_init(&st->buf, STREAM_BUF_MAX);
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/event-stream; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    h2o_start_response(req, &st->gen);
    /* The first bytes at once, so the client knows the stream is up and where
     * it starts: a "ready" event whose id is the resume point (an EventSource
     * keeps it as its Last-Event-ID). */
    homing_buf_printf(&st->buf,
                      ": homing notifications\nretry: 1000\nid: %" PRId64
                      "\nevent: ready\ndata: {\"after\":%" PRId64 "}\n\n",
                      cursor, cursor);
    st->last_send_us = homing_mono_us();
    st->sending = 1;
    h2o_iovec_t chunk = h2o_iovec_init(st->buf.data, st->buf.len);
    h2o_send(req, &chunk, 1, H2O_SEND_STATE_IN_PROGRESS);
    stream_arm(st);
    return 0;
}
