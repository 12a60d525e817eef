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
                                                              "net-gateway"};

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
    int repeats;      /* hits with the same client and User-Agent nearby */
};

static int64_t absdiff(int64_t a, int64_t b)
{
    return a > b ? a - b : b - a;
}

static void scan_others(const struct homing_verdict_input *in, struct context *c)
{
    const struct homing_event *e = in->event;
    memset(c, 0, sizeof *c);
    c->repeats = 1;
    for (size_t i = 0; i < in->n_others; i++) {
        const struct homing_event *o = &in->others[i];
        if (o == e || (o->id && o->id == e->id) || !is_hit(o->kind)) continue;
        if (o->message != e->message || o->recipient != e->recipient) continue;
        if (o->kind == HOMING_EV_OPEN && o->time_us <= e->time_us) c->earlier_open = 1;
        if (e->kind != HOMING_EV_OPEN && o->kind == e->kind && o->item != e->item &&
            absdiff(o->time_us, e->time_us) <= HOMING_VERDICT_BURST_US)
            c->burst = 1;
        if (absdiff(o->time_us, e->time_us) <= HOMING_VERDICT_REPEAT_US &&
            strcmp(o->client, e->client) == 0 && strcmp(o->user_agent, e->user_agent) == 0)
            c->repeats++;
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
    unsigned mcl = in->machine ? in->machine->mclass : HOMING_MACHINE_NONE;
    static const uint32_t net_reason[] = {0,
                                          HOMING_REASON_NET_PROXY,
                                          HOMING_REASON_NET_PREFETCH,
                                          HOMING_REASON_NET_SCANNER,
                                          HOMING_REASON_NET_CLOUD,
                                          HOMING_REASON_NET_GATEWAY};
    if (mcl <= HOMING_MACHINE_GATEWAY) why |= net_reason[mcl];
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
    if (c.repeats >= HOMING_VERDICT_REPEAT_MIN) why |= HOMING_REASON_REPEAT;

    struct homing_verdict_result r = {.verdict = HOMING_VERDICT_UNKNOWN,
                                      .confidence = 30,
                                      .rules_version = HOMING_VERDICT_RULES_VERSION,
                                      .reasons = why};

    /* ---- rules, first match decides ---- */
    if (why & HOMING_REASON_METHOD_HEAD) {
        /* No mail client renders an image or follows a link with HEAD. */
        decide(&r, HOMING_VERDICT_PROBE, 95);
    } else if (ucl == HOMING_UA_CLASS_SCANNER || mcl == HOMING_MACHINE_SCANNER) {
        /* A security vendor's own network or name: whatever the UA pretends. */
        decide(&r, HOMING_VERDICT_SCANNER,
               (ucl == HOMING_UA_CLASS_SCANNER && mcl == HOMING_MACHINE_SCANNER) ? 98 : 90);
    } else if (ucl == HOMING_UA_CLASS_TOOL || ucl == HOMING_UA_CLASS_BOT) {
        decide(&r, HOMING_VERDICT_PROBE, (why & HOMING_REASON_REPEAT) ? 95 : 85);
    } else if (ucl == HOMING_UA_CLASS_PREFETCH ||
               (mcl == HOMING_MACHINE_PREFETCH && (is_open || (why & HOMING_REASON_UA_BARE)))) {
        /* Apple MPP loads every image of every message on delivery, from
         * Apple's network, whether or not anyone reads it; it follows no links,
         * so a click from there is a person behind iCloud Private Relay. */
        decide(&r, HOMING_VERDICT_PREFETCH,
               (ucl == HOMING_UA_CLASS_PREFETCH || (why & HOMING_REASON_UA_BARE)) ? 95 : 80);
    } else if (is_open && (ucl == HOMING_UA_CLASS_PROXY || mcl == HOMING_MACHINE_PROXY)) {
        /* A provider proxy fetches when its user opens, except for the
         * prefetch some providers do when a message arrives: the first fetch
         * within the window is taken as that. */
        int both = ucl == HOMING_UA_CLASS_PROXY && mcl == HOMING_MACHINE_PROXY;
        if (soon && !c.earlier_open)
            decide(&r, HOMING_VERDICT_PREFETCH, 65);
        else
            decide(&r, HOMING_VERDICT_PROXY_OPEN, both ? 95 : 80);
    } else if (!is_open && (why & HOMING_REASON_BURST)) {
        /* No one clicks two links of a message within a second. */
        decide(&r, HOMING_VERDICT_SCANNER, 90);
    } else if (why & HOMING_REASON_REPEAT) {
        decide(&r, HOMING_VERDICT_PROBE, 80);
    } else if (!is_open &&
               (mcl == HOMING_MACHINE_CLOUD || mcl == HOMING_MACHINE_PROXY ||
                mcl == HOMING_MACHINE_GATEWAY) &&
               ((why & HOMING_REASON_CLICK_WITHOUT_OPEN) || soon)) {
        /* Clicks from a cloud or provider network before any open: link
         * detonation (Safe Links, Defender) rather than the reader. */
        decide(&r, HOMING_VERDICT_SCANNER, 80);
    } else if (!is_open && soon && (why & HOMING_REASON_CLICK_WITHOUT_OPEN) &&
               ucl != HOMING_UA_CLASS_MAIL) {
        /* A click within minutes of delivery with no open: a scanner that
         * came through a network we do not know yet, more often than not. */
        decide(&r, HOMING_VERDICT_SCANNER, 60);
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
