/*
 * verdict.c: who (or what) made an open or a click. A pure function of the
 * event, its parsed User-Agent, the machine knowledge matched on its network,
 * the message's delivery time and its other events: no I/O, no clock, so
 * `homing reclassify` recomputes exactly what the daemon computed, and a change
 * to what these rules decide must bump HOMING_VERDICT_RULES_VERSION.
 *
 * The rules are an ordered list; the first that applies decides, and every
 * signal seen is kept in the reasons whether it decided or not, so a report can
 * show why. docs/verdicts.md explains each rule to users; keep them in step.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/reader.h"

static const char *const verdict_names[HOMING_VERDICT_COUNT] = {"unknown",  "human",   "proxy-open",
                                                                "prefetch", "scanner", "probe"};

static const char *const reason_names[HOMING_REASON_COUNT] = {"method-not-get",
                                                              "ua-mail",
                                                              "ua-browser",
                                                              "ua-proxy",
                                                              "ua-prefetch",
                                                              "ua-scanner",
                                                              "ua-tool",
                                                              "ua-bot",
                                                              "ua-empty",
                                                              "ua-bare",
                                                              "net-proxy",
                                                              "net-prefetch",
                                                              "net-scanner",
                                                              "net-cloud",
                                                              "soon-after-delivery",
                                                              "burst",
                                                              "click-without-open",
                                                              "repeat",
                                                              "via-proxy",
                                                              "net-rdns",
                                                              "net-gateway",
                                                              "net-relay",
                                                              "net-crawler",
                                                              "ua-unknown",
                                                              "ua-no-browser",
                                                              "ua-app",
                                                              "no-language",
                                                              "handoff"};

const char *homing_verdict_name(unsigned v)
{
    return v < HOMING_VERDICT_COUNT ? verdict_names[v] : NULL;
}

int homing_verdict_is_read(unsigned v)
{
    switch (v) {
    case HOMING_VERDICT_HUMAN:
    case HOMING_VERDICT_PROXY_OPEN: return 1;
    case HOMING_VERDICT_PREFETCH:
    case HOMING_VERDICT_SCANNER:
    case HOMING_VERDICT_PROBE: return 0;
    default: return -1;
    }
}

int homing_verdict_parse(const char *s)
{
    for (int i = 0; s && i < HOMING_VERDICT_COUNT; i++)
        if (strcmp(s, verdict_names[i]) == 0) return i;
    return -EINVAL;
}

const char *homing_verdict_reason_name(uint32_t bit)
{
    for (int i = 0; i < HOMING_REASON_COUNT; i++)
        if (bit == 1u << i) return reason_names[i];
    return NULL;
}

int homing_verdict_reasons_format(uint32_t reasons, char *out, size_t cap)
{
    if (!out || cap == 0) return -EINVAL;
    /* Measure first: out is written only when everything fits. */
    size_t need = 0;
    for (int i = 0; i < HOMING_REASON_COUNT; i++)
        if (reasons & (1u << i)) need += strlen(reason_names[i]) + (need ? 1 : 0);
    if (need + 1 > cap) return -ENOSPC;
    size_t o = 0;
    for (int i = 0; i < HOMING_REASON_COUNT; i++) {
        if (!(reasons & (1u << i))) continue;
        if (o) out[o++] = ',';
        memcpy(out + o, reason_names[i], strlen(reason_names[i]));
        o += strlen(reason_names[i]);
    }
    out[o] = '\0';
    return (int)o;
}

static int is_hit(unsigned kind)
{
    return kind == HOMING_EV_OPEN || kind == HOMING_EV_CLICK || kind == HOMING_EV_DOCUMENT_OPEN;
}

/* "Mozilla/5.0" with nothing after it: the User-Agent of Apple's Mail Privacy
 * Protection fetches, and of little else. */
static int ua_bare(const char *ua)
{
    size_t n = strlen(ua);
    while (n && ua[n - 1] == ' ') n--;
    return n == 11 && memcmp(ua, "Mozilla/5.0", 11) == 0;
}

/* Signals from the message's other events. */
struct context {
    int earlier_open; /* an open of the same recipient at or before the event */
    int burst;        /* a click on another link within HOMING_VERDICT_BURST_US */
    int repeats;      /* hits with the same client and User-Agent nearby, for any
                       * recipient of the message (a loop over many tokens), counted
                       * up to HOMING_VERDICT_REPEAT_MIN (all the rules ask) */
    int own_repeats;  /* the same, of the event's own recipient only */
    int handoff;      /* a later hit of the same link, recipient and kind within
                       * HOMING_VERDICT_HANDOFF_US from another address sending an
                       * Accept-Language (asked only of a hit without one) */
};

/* Is o the hit a time-of-click check of e lets through: the same link of the
 * same recipient (the caller checks message, recipient, kind and item), after
 * e and within HOMING_VERDICT_HANDOFF_US, from another address, with the
 * language a person's browser sends? */
static int handoff_of(const struct homing_event *o, const struct homing_event *e)
{
    const int64_t t = e->time_us;
    /* t + HANDOFF_US, without overflow at the end of int64_t */
    const int64_t until =
        t > INT64_MAX - HOMING_VERDICT_HANDOFF_US ? INT64_MAX : t + HOMING_VERDICT_HANDOFF_US;
    return o->time_us > t && o->time_us <= until && o->accept_language[0] &&
           strcmp(o->client, e->client) != 0;
}

static int64_t absdiff(int64_t a, int64_t b)
{
    return a > b ? a - b : b - a;
}

/* FNV-1a over client, a NUL and the User-Agent. */
static uint64_t other_key(const struct homing_event *e)
{
    uint64_t h = 14695981039346656037ull;
    for (const char *p = e->client; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h *= 1099511628211ull; /* the NUL between them */
    for (const char *p = e->user_agent; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

/* Is o (others[pos]) the event itself? As scan_others: the same object, or
 * the same non-zero id. */
static int is_self(const struct homing_event *o, const struct homing_event *e)
{
    return o == e || (o->id && o->id == e->id);
}

/* ---- the index: the hits among others, in two orders ----
 * by_item: (message, recipient, kind, item, time): earlier opens and bursts;
 * by_key: (message, key, time): repeats of a client and User-Agent, over
 * every recipient of the message.
 * Every question of scan_others is about the event's own message and
 * recipient and a time window, so each becomes a few binary searches. */
struct vx {
    uint64_t message;
    uint32_t recipient;
    uint16_t kind;
    uint32_t item;
    uint64_t key; /* by_key: other_key; by_item: 0 */
    int64_t time_us;
    size_t pos; /* in others */
};

struct homing_verdict_index {
    const struct homing_event *others;
    size_t n; /* hits */
    struct vx *by_item, *by_key;
};

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int vx_cmp_item(const struct vx *a, const struct vx *b)
{
    int c;
    if ((c = cmp_u64(a->message, b->message)) || (c = cmp_u64(a->recipient, b->recipient)) ||
        (c = cmp_u64(a->kind, b->kind)) || (c = cmp_u64(a->item, b->item)))
        return c;
    return cmp_i64(a->time_us, b->time_us);
}

static int vx_cmp_key(const struct vx *a, const struct vx *b)
{
    int c;
    if ((c = cmp_u64(a->message, b->message)) || (c = cmp_u64(a->key, b->key))) return c;
    return cmp_i64(a->time_us, b->time_us);
}

static int vx_qsort_item(const void *a, const void *b)
{
    return vx_cmp_item(a, b);
}

static int vx_qsort_key(const void *a, const void *b)
{
    return vx_cmp_key(a, b);
}

/* The first entry not before probe (after: the first entry after it). */
static size_t vx_bound(const struct vx *v, size_t n, const struct vx *probe,
                       int (*cmp)(const struct vx *, const struct vx *), int after)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp(&v[mid], probe);
        if (c < 0 || (after && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int homing_verdict_index_new(const struct homing_event *others, size_t n,
                             struct homing_verdict_index **out)
{
    if (!out || (n && !others)) return -EINVAL;
    struct homing_verdict_index *ix = calloc(1, sizeof *ix);
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) hits += is_hit(others[i].kind);
    if (ix && hits) {
        ix->by_item = malloc(hits * sizeof *ix->by_item);
        ix->by_key = malloc(hits * sizeof *ix->by_key);
    }
    if (!ix || (hits && (!ix->by_item || !ix->by_key))) {
        homing_verdict_index_free(ix);
        return -ENOMEM;
    }
    ix->others = others;
    for (size_t i = 0; i < n; i++) {
        const struct homing_event *o = &others[i];
        if (!is_hit(o->kind)) continue;
        struct vx v = {o->message, o->recipient, o->kind, o->item, 0, o->time_us, i};
        ix->by_item[ix->n] = v;
        v.key = other_key(o);
        ix->by_key[ix->n++] = v;
    }
    if (ix->n) {
        qsort(ix->by_item, ix->n, sizeof *ix->by_item, vx_qsort_item);
        qsort(ix->by_key, ix->n, sizeof *ix->by_key, vx_qsort_key);
    }
    *out = ix;
    return 0;
}

void homing_verdict_index_free(struct homing_verdict_index *ix)
{
    if (!ix) return;
    free(ix->by_item);
    free(ix->by_key);
    free(ix);
}

/* Is there, in by_item between lo and hi (one message, recipient and kind),
 * an entry other than e with time in [from, to], in a group of an item other
 * than skip_item (any item when any_item)? One search per item group. */
static int vx_any(const struct homing_verdict_index *ix, size_t lo, size_t hi,
                  const struct homing_event *e, int any_item, uint32_t skip_item, int64_t from,
                  int64_t to)
{
    while (lo < hi) {
        struct vx probe = ix->by_item[lo];
        /* the end of this item's group */
        probe.time_us = INT64_MAX;
        size_t end = lo + vx_bound(ix->by_item + lo, hi - lo, &probe, vx_cmp_item, 1);
        if (any_item || probe.item != skip_item) {
            probe.time_us = from;
            size_t i = lo + vx_bound(ix->by_item + lo, end - lo, &probe, vx_cmp_item, 0);
            for (; i < end && ix->by_item[i].time_us <= to; i++)
                if (!is_self(&ix->others[ix->by_item[i].pos], e)) return 1;
        }
        lo = end;
    }
    return 0;
}

static void scan_indexed(const struct homing_verdict_input *in, struct context *c)
{
    const struct homing_verdict_index *ix = in->index;
    const struct homing_event *e = in->event;
    const int64_t t = e->time_us;
    /* The entries of the event's message, recipient and one kind. */
    struct vx probe = {e->message, e->recipient, HOMING_EV_OPEN, 0, 0, INT64_MIN, 0};
    size_t lo = vx_bound(ix->by_item, ix->n, &probe, vx_cmp_item, 0);
    probe.item = UINT32_MAX;
    probe.time_us = INT64_MAX;
    size_t hi = vx_bound(ix->by_item, ix->n, &probe, vx_cmp_item, 1);
    c->earlier_open = vx_any(ix, lo, hi, e, 1, 0, INT64_MIN, t);
    if (e->kind != HOMING_EV_OPEN) {
        probe = (struct vx){e->message, e->recipient, e->kind, 0, 0, INT64_MIN, 0};
        lo = vx_bound(ix->by_item, ix->n, &probe, vx_cmp_item, 0);
        probe.item = UINT32_MAX;
        probe.time_us = INT64_MAX;
        hi = vx_bound(ix->by_item, ix->n, &probe, vx_cmp_item, 1);
        /* absdiff <= BURST_US, without overflow at the ends of int64_t */
        int64_t from =
            t < INT64_MIN + HOMING_VERDICT_BURST_US ? INT64_MIN : t - HOMING_VERDICT_BURST_US;
        int64_t to =
            t > INT64_MAX - HOMING_VERDICT_BURST_US ? INT64_MAX : t + HOMING_VERDICT_BURST_US;
        c->burst = vx_any(ix, lo, hi, e, 0, e->item, from, to);
        if (!e->accept_language[0]) {
            /* the same link's later hits, up to the end of the window */
            const int64_t until = t > INT64_MAX - HOMING_VERDICT_HANDOFF_US
                                      ? INT64_MAX
                                      : t + HOMING_VERDICT_HANDOFF_US;
            probe = (struct vx){e->message, e->recipient, e->kind, e->item, 0, t, 0};
            for (size_t i = vx_bound(ix->by_item, ix->n, &probe, vx_cmp_item, 1);
                 i < ix->n && !c->handoff; i++) {
                const struct vx *v = &ix->by_item[i];
                if (v->message != e->message || v->recipient != e->recipient ||
                    v->kind != e->kind || v->item != e->item || v->time_us > until)
                    break;
                const struct homing_event *o = &ix->others[v->pos];
                c->handoff = !is_self(o, e) && handoff_of(o, e);
            }
        }
    }
    probe = (struct vx){e->message, e->recipient, 0, 0, other_key(e), 0, 0};
    probe.time_us =
        t < INT64_MIN + HOMING_VERDICT_REPEAT_US ? INT64_MIN : t - HOMING_VERDICT_REPEAT_US;
    int64_t to =
        t > INT64_MAX - HOMING_VERDICT_REPEAT_US ? INT64_MAX : t + HOMING_VERDICT_REPEAT_US;
    for (size_t i = vx_bound(ix->by_key, ix->n, &probe, vx_cmp_key, 0);
         i < ix->n && c->own_repeats < HOMING_VERDICT_REPEAT_MIN; i++) {
        const struct vx *v = &ix->by_key[i];
        if (v->message != e->message || v->key != probe.key || v->time_us > to) break;
        const struct homing_event *o = &ix->others[v->pos];
        if (!is_self(o, e) && strcmp(o->client, e->client) == 0 &&
            strcmp(o->user_agent, e->user_agent) == 0) {
            if (c->repeats < HOMING_VERDICT_REPEAT_MIN) c->repeats++;
            if (o->recipient == e->recipient) c->own_repeats++;
        }
    }
}

/* Stops as soon as every signal is settled: the rules only ask whether there
 * was an earlier open, a burst, and at least HOMING_VERDICT_REPEAT_MIN repeats,
 * so further events cannot change the verdict. With an index, the same
 * answers from a few binary searches (scan_indexed; tests/unit/test_verdict.c
 * compares the two on random events). */
static void scan_others(const struct homing_verdict_input *in, struct context *c)
{
    const struct homing_event *e = in->event;
    memset(c, 0, sizeof *c);
    c->repeats = c->own_repeats = 1;
    if (in->index) {
        scan_indexed(in, c);
        return;
    }
    /* An open never has a burst: only clicks and documents look for one, and
     * for a handoff only those without a language. */
    const int want_burst = e->kind != HOMING_EV_OPEN;
    const int want_handoff = want_burst && !e->accept_language[0];
    for (size_t i = 0; i < in->n_others; i++) {
        const struct homing_event *o = &in->others[i];
        if (is_self(o, e) || !is_hit(o->kind)) continue;
        if (o->message != e->message) continue;
        if (o->recipient == e->recipient) {
            if (o->kind == HOMING_EV_OPEN && o->time_us <= e->time_us) c->earlier_open = 1;
            if (want_burst && o->kind == e->kind && o->item != e->item &&
                absdiff(o->time_us, e->time_us) <= HOMING_VERDICT_BURST_US)
                c->burst = 1;
            if (want_handoff && o->kind == e->kind && o->item == e->item && handoff_of(o, e))
                c->handoff = 1;
        }
        if (c->own_repeats < HOMING_VERDICT_REPEAT_MIN &&
            absdiff(o->time_us, e->time_us) <= HOMING_VERDICT_REPEAT_US &&
            strcmp(o->client, e->client) == 0 && strcmp(o->user_agent, e->user_agent) == 0) {
            if (c->repeats < HOMING_VERDICT_REPEAT_MIN) c->repeats++;
            if (o->recipient == e->recipient) c->own_repeats++;
        }
        if (c->earlier_open && (c->burst || !want_burst) && (c->handoff || !want_handoff) &&
            c->own_repeats >= HOMING_VERDICT_REPEAT_MIN)
            break;
    }
}

static void decide(struct homing_verdict_result *r, unsigned v, unsigned confidence)
{
    r->verdict = (uint8_t)v;
    r->confidence = (uint8_t)confidence;
}

int homing_verdict_compute(const struct homing_verdict_input *in, struct homing_verdict_result *out)
{
    if (!in || !in->event || !out || !is_hit(in->event->kind)) return -EINVAL;
    const struct homing_event *e = in->event;
    const int is_open = e->kind == HOMING_EV_OPEN;
    uint32_t why = 0;

    /* ---- signals ---- */
    if (e->method != HOMING_METHOD_GET) why |= HOMING_REASON_METHOD_HEAD;
    unsigned ucl = in->ua ? in->ua->ua_class : HOMING_UA_CLASS_NONE;
    if (!e->user_agent[0])
        why |= HOMING_REASON_UA_EMPTY;
    else if (ua_bare(e->user_agent))
        why |= HOMING_REASON_UA_BARE;
    else if (ucl == HOMING_UA_CLASS_NONE)
        why |= HOMING_REASON_UA_UNKNOWN; /* so an unknown verdict always says why */
    if (in->ua && in->ua->no_browser) why |= HOMING_REASON_UA_NO_BROWSER;
    static const uint32_t ua_reason[] = {
        0,
        HOMING_REASON_UA_BROWSER,
        HOMING_REASON_UA_MAIL,
        HOMING_REASON_UA_PROXY,
        HOMING_REASON_UA_PREFETCH,
        HOMING_REASON_UA_SCANNER,
        HOMING_REASON_UA_TOOL,
        HOMING_REASON_UA_BOT,
    };
    if (ucl <= HOMING_UA_CLASS_BOT) why |= ua_reason[ucl];
    /* An app's own User-Agent is decided as a browser (a person's device),
     * but says what it is. */
    if (ucl == HOMING_UA_CLASS_BROWSER && in->ua && in->ua->app)
        why = (why & ~(uint32_t)HOMING_REASON_UA_BROWSER) | HOMING_REASON_UA_APP;
    unsigned mcl = in->machine ? in->machine->mclass : HOMING_MACHINE_NONE;
    static const uint32_t net_reason[] = {0,
                                          HOMING_REASON_NET_PROXY,
                                          HOMING_REASON_NET_PREFETCH,
                                          HOMING_REASON_NET_SCANNER,
                                          HOMING_REASON_NET_CLOUD,
                                          HOMING_REASON_NET_GATEWAY,
                                          HOMING_REASON_NET_RELAY,
                                          HOMING_REASON_NET_CRAWLER};
    if (mcl <= HOMING_MACHINE_CRAWLER) why |= net_reason[mcl];
    if (e->via[0]) why |= HOMING_REASON_VIA_PROXY;
    if (mcl && in->machine_by_rdns) why |= HOMING_REASON_NET_RDNS;

    /* Time since the message could first be fetched: delivery when a DSN said
     * so, else registration (homing track), which is earlier, hence the same
     * window errs towards "not soon". */
    int64_t start = in->delivered_us ? in->delivered_us : in->registered_us;
    int64_t window =
        (int64_t)(is_open ? HOMING_VERDICT_PREFETCH_WINDOW_S : HOMING_VERDICT_SCAN_WINDOW_S) *
        1000000;
    int soon = start && e->time_us >= start && e->time_us - start <= window;
    if (soon) why |= HOMING_REASON_SOON_AFTER_DELIVERY;

    struct context c;
    scan_others(in, &c);
    if (!is_open && !c.earlier_open) why |= HOMING_REASON_CLICK_WITHOUT_OPEN;
    if (c.burst) why |= HOMING_REASON_BURST;
    if (c.handoff) why |= HOMING_REASON_HANDOFF;
    /* A loop over many recipients' tokens is automation, but one mail client
     * build behind one office NAT opening an all-staff message is people: for
     * mail clients only the recipient's own repeats count. */
    if (c.own_repeats >= HOMING_VERDICT_REPEAT_MIN ||
        (ucl != HOMING_UA_CLASS_MAIL && c.repeats >= HOMING_VERDICT_REPEAT_MIN))
        why |= HOMING_REASON_REPEAT;

    struct homing_verdict_result r = {.verdict = HOMING_VERDICT_UNKNOWN,
                                      .confidence = 30,
                                      .rules_version = HOMING_VERDICT_RULES_VERSION,
                                      .reasons = why};

    /* A browser engine run by automation: HeadlessChrome names itself so
     * (Chromium's headless mode), as does headless Edge. */
    const int headless = strstr(e->user_agent, "Headless") != NULL;

    /* A person's browser on a consumer network: a real browser User-Agent with
     * the Accept-Language every browser sends, from no known machine network
     * (or from iCloud Private Relay, which carries Safari users). Scanners
     * posing as browsers come from their vendors' or clouds' networks and
     * rarely send a language. Rules version 8 adds corporate web gateways
     * (machines.tsv class gateway): their egress carries the employees' own
     * browsing (Zscaler Internet Access forwards users' web traffic through
     * its published Cloud Enforcement Nodes, config.zscaler.com), and a
     * browser sends the user's language (RFC 9110 section 12.5.4); the
     * gateway's own link checks send none. */
    const int consumer_browser = ucl == HOMING_UA_CLASS_BROWSER && e->accept_language[0] &&
                                 (mcl == HOMING_MACHINE_NONE || mcl == HOMING_MACHINE_RELAY ||
                                  mcl == HOMING_MACHINE_GATEWAY);

    /* A browser's User-Agent without the language every browser sends, from
     * no known machine network: the WHATWG Fetch standard has user agents
     * append Accept-Language to every request that lacks it (navigations and
     * images alike), so the request was not made by the browser it names.
     * Within the delivery window that is a program fetching the message as
     * it arrives, as security products do (rules version 11). Not an app's
     * own stack or a mail client, which need not send a language. */
    const int posing_browser = ucl == HOMING_UA_CLASS_BROWSER && !(in->ua && in->ua->app) &&
                               !e->accept_language[0] && mcl == HOMING_MACHINE_NONE && soon;
    if (posing_browser) r.reasons |= HOMING_REASON_NO_LANGUAGE;

    /* ---- rules, first match decides ---- */
    if ((why & HOMING_REASON_METHOD_HEAD) && mcl != HOMING_MACHINE_SCANNER) {
        /* No mail client renders an image or follows a link with HEAD. From a
         * scanner's network it is the scanner's own request (rules version 7):
         * link checkers send HEAD before their GET (NextAuth's "Avoid
         * corporate link checking", FusionAuth 1.49's release notes). */
        decide(&r, HOMING_VERDICT_PROBE, 95);
    } else if (ucl == HOMING_UA_CLASS_SCANNER || mcl == HOMING_MACHINE_SCANNER) {
        /* A security vendor's own network or name, or Exchange Online
         * Protection's published ranges: whatever the UA pretends, and for
         * opens as for clicks (gateways fetch the pixel at delivery). */
        decide(&r, HOMING_VERDICT_SCANNER,
               (ucl == HOMING_UA_CLASS_SCANNER && mcl == HOMING_MACHINE_SCANNER) ? 98 : 90);
    } else if (!is_open && headless && soon && (why & HOMING_REASON_CLICK_WITHOUT_OPEN) &&
               (mcl == HOMING_MACHINE_CLOUD || mcl == HOMING_MACHINE_GATEWAY ||
                mcl == HOMING_MACHINE_PROXY)) {
        /* A headless browser following a link within minutes of delivery,
         * before any open, from a cloud or gateway network: a detonation
         * sandbox, which runs a real browser engine under automation
         * (Microsoft Defender for Office 365, "Safe Links": URLs are scanned
         * in real time as the message is delivered, from Microsoft's
         * network). Later, or from elsewhere, it is automation (below).
         * Rules version 7. Rules version 11 adds a mail provider's own
         * network (machines.tsv class proxy, not its published crawler
         * ranges): Gmail checks the links of arriving mail (Google Workspace
         * Admin Help, "Advanced phishing and malware protection": identify
         * links behind shortened URLs, scan linked images, enhanced
         * pre-delivery message scanning). */
        decide(&r, HOMING_VERDICT_SCANNER, 80);
    } else if (ucl == HOMING_UA_CLASS_TOOL || ucl == HOMING_UA_CLASS_BOT) {
        decide(&r, HOMING_VERDICT_PROBE, (why & HOMING_REASON_REPEAT) ? 95 : 85);
    } else if (!is_open && (why & HOMING_REASON_UA_NO_BROWSER)) {
        /* A link is followed in a browser or an app's web view, and every one
         * of them sends an engine or platform token (ua.c, UA_GEN_ENGINE_RE):
         * a click without any is a program's. Not for opens: a mail client
         * may fetch images with its own HTTP stack. */
        decide(&r, HOMING_VERDICT_PROBE, 75);
    } else if (ucl == HOMING_UA_CLASS_PREFETCH ||
               (mcl == HOMING_MACHINE_PREFETCH && (is_open || (why & HOMING_REASON_UA_BARE)))) {
        /* Apple MPP loads every image of every message on delivery, from
         * Apple's network, whether or not anyone reads it; it follows no links,
         * so a click from there is a person behind iCloud Private Relay. */
        decide(&r, HOMING_VERDICT_PREFETCH,
               (ucl == HOMING_UA_CLASS_PREFETCH || (why & HOMING_REASON_UA_BARE)) ? 95 : 80);
    } else if (mcl == HOMING_MACHINE_RELAY && is_open &&
               ((why & HOMING_REASON_UA_BARE) || ucl == HOMING_UA_CLASS_MAIL)) {
        /* MPP fetches through the iCloud Private Relay egress Apple publishes
         * (egress-ip-ranges.csv) with the bare "Mozilla/5.0" or Mail's WebKit
         * User-Agent; Safari users share those addresses, but they send a
         * browser's User-Agent and are decided below. */
        decide(&r, HOMING_VERDICT_PREFETCH, (why & HOMING_REASON_UA_BARE) ? 95 : 85);
    } else if (is_open && (ucl == HOMING_UA_CLASS_PROXY || mcl == HOMING_MACHINE_PROXY)) {
        /* A provider proxy fetches when its user opens, except for the
         * prefetch some providers do when a message arrives: the first fetch
         * within the window is taken as that. */
        int both = ucl == HOMING_UA_CLASS_PROXY && mcl == HOMING_MACHINE_PROXY;
        /* Not for a proxy whose operator documents that it fetches only as
         * its user views the message (useragents.tsv "proxy-view", such as
         * HEY's image proxy, https://www.hey.com/image-proxy): its quick
         * fetch is a quick read. Rules version 8. */
        const int view_only = ucl == HOMING_UA_CLASS_PROXY && in->ua->view_only;
        if (soon && !c.earlier_open && !view_only)
            decide(&r, HOMING_VERDICT_PREFETCH, 65);
        else
            decide(&r, HOMING_VERDICT_PROXY_OPEN, both ? 95 : 80);
    } else if (mcl == HOMING_MACHINE_CRAWLER) {
        /* Google's and Bing's published crawler ranges: whatever the UA says,
         * no one reads mail from there. */
        decide(&r, HOMING_VERDICT_PROBE, 85);
    } else if (!is_open && (why & HOMING_REASON_BURST)) {
        /* No one clicks two links of a message within a second. */
        decide(&r, HOMING_VERDICT_SCANNER, 90);
    } else if (!is_open && (why & HOMING_REASON_REPEAT) && ucl == HOMING_UA_CLASS_BROWSER &&
               (why & HOMING_REASON_CLICK_WITHOUT_OPEN) &&
               c.own_repeats >= HOMING_VERDICT_REPEAT_MIN) {
        /* A browser following the links of one recipient's copy in a loop
         * (five within ten seconds), before any open: an email security
         * scanner clicking every link of the message, not a scripted client
         * looping over tokens (Maestra's "Filtering out fake clicks":
         * scanners click on every link before the recipient sees the
         * message, and five or more clicks within ten seconds are theirs).
         * Rules version 10. */
        decide(&r, HOMING_VERDICT_SCANNER, 80);
    } else if (why & HOMING_REASON_REPEAT) {
        /* One client and User-Agent hitting the message's tokens in a loop,
         * for one recipient or many: decided as soon as the loop is seen. */
        decide(&r, HOMING_VERDICT_PROBE, 80);
    } else if (!is_open &&
               (mcl == HOMING_MACHINE_CLOUD || mcl == HOMING_MACHINE_PROXY ||
                (mcl == HOMING_MACHINE_GATEWAY && !consumer_browser)) &&
               ((why & HOMING_REASON_CLICK_WITHOUT_OPEN) || soon)) {
        /* Clicks from a cloud or provider network before any open: link
         * detonation (Safe Links, Defender) rather than the reader. From a
         * web gateway, only when it is not a person's browser (above; rules
         * version 8): a burst from there was decided before. */
        decide(&r, HOMING_VERDICT_SCANNER, 80);
    } else if (!is_open && soon &&
               (((why & HOMING_REASON_CLICK_WITHOUT_OPEN) && ucl != HOMING_UA_CLASS_MAIL &&
                 !consumer_browser) ||
                posing_browser)) {
        /* A click within minutes of delivery with no open: a scanner that
         * came through a network we do not know yet, more often than not;
         * but not a person's browser on a consumer network (a quick click
         * with images off, as on a password reset). After an open too when
         * the browser sends no language (rules version 11, above): a person's
         * browser sends it with the navigation. */
        decide(&r, HOMING_VERDICT_SCANNER, 60);
    } else if (!is_open && (why & HOMING_REASON_HANDOFF) && ucl == HOMING_UA_CLASS_BROWSER &&
               !(in->ua && in->ua->app) && mcl == HOMING_MACHINE_NONE) {
        /* A time-of-click check: a browser's User-Agent without the language
         * every browser sends (WHATWG Fetch, above), from no known network,
         * followed on the same link of the same recipient, within seconds, by
         * another address whose browser sends one. Gateways that rewrite links
         * analyse the target when the user clicks and then let the user
         * through: Vade Cloud's Time-of-Click (URLs rewritten to Vade's
         * infrastructure, analysed in real time, the user redirected after the
         * analysis or its time-out), Hornetsecurity's Secure Links (the ATP
         * service acts as a web proxy and checks the target before forwarding
         * the user), Avanan's Click-Time Protection (the site inspected at
         * every click). Any time after delivery, not only in its window: the
         * check runs when the person clicks. Rules version 12. */
        decide(&r, HOMING_VERDICT_SCANNER, 70);
    } else if (is_open && posing_browser) {
        /* The pixel fetched within the delivery window by a program sending a
         * browser's User-Agent but no language (above): a machine open at
         * delivery, not a person's webmail. Rules version 11. */
        decide(&r, HOMING_VERDICT_SCANNER, 60);
    } else if (!is_open && ucl == HOMING_UA_CLASS_PROXY) {
        /* A mail provider's image proxy on a link: the proxies fetch the
         * images of a message for the user who views it (Gmail Help, "Choose
         * whether to show images": images are served through Google's secure
         * proxy servers; Seznam's, Rambler's and UkrNet's proxies name
         * themselves image proxies), and a person's click comes from the
         * person's browser, not through them. From the provider's own network
         * such a click was decided above (a link check, as Yahoo documents);
         * elsewhere it is a program sending the proxy's User-Agent. Rules
         * version 9. */
        decide(&r, HOMING_VERDICT_PROBE, 70);
    } else if (mcl == HOMING_MACHINE_CLOUD) {
        /* A person rarely reads mail from a data centre; not proof either way. */
        decide(&r, HOMING_VERDICT_UNKNOWN, 50);
    } else if (ucl == HOMING_UA_CLASS_MAIL) {
        decide(&r, HOMING_VERDICT_HUMAN, 90);
    } else if (ucl == HOMING_UA_CLASS_BROWSER) {
        /* A browser that opens the pixel is webmail; a browser that clicks is
         * the usual reader. A click with no open is common (images off). */
        decide(&r, HOMING_VERDICT_HUMAN,
               (why & HOMING_REASON_CLICK_WITHOUT_OPEN) ? 70 : (is_open ? 75 : 85));
    } else {
        decide(&r, HOMING_VERDICT_UNKNOWN, (why & HOMING_REASON_UA_EMPTY) ? 50 : 30);
    }
    *out = r;
    return 0;
}
