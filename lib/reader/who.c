/*
 * who.c: "who opened it", from the store: the rows the enrichment thread writes
 * (homing_store_enrichment_from) and the per-recipient report that homing
 * report and GET /api/v1/messages/ID show (homing_store_who_json).
 *
 * Contract: backend-neutral (only the public store API); returns 0 or a
 * negative errno and writes outputs only on success; never logs.
 *
 * Counting (docs/reports.md): an open, click or document open is "human" when
 * its verdict is a person reading (human, proxy-open: homing_verdict_is_read),
 * "machine" for prefetch, scanner and probe, "unknown" for the unknown verdict
 * and for hits not enriched yet (also counted apart as "pending"). Totals count
 * hits; unique counts count recipients (or readers) with at least one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/reader.h"
#include "homing/store.h"
#include "homing/util.h"

#define WHO_PAGE HOMING_STORE_LIST_MAX /* rows per store call */

enum who_class { WHO_HUMAN = 0, WHO_MACHINE = 1, WHO_UNKNOWN = 2, WHO_CLASSES = 3 };
#define WHO_PENDING HOMING_VERDICT_COUNT /* by_verdict slot of hits not enriched yet */

static void fact(char *dst, size_t cap, const char *src)
{
    homing_strlcpy(dst, src ? src : "", cap);
}

int homing_store_enrichment_from(const struct homing_enrichment *x, const struct homing_event *ev,
                                 int new_reader, int forward, struct homing_store_enrichment *out)
{
    if (!x || !ev || !out) return -EINVAL;
    struct homing_store_enrichment e;
    memset(&e, 0, sizeof e);
    e.event = ev->id;
    e.message = ev->message;
    e.recipient = ev->recipient;
    e.kind = ev->kind;
    e.item = ev->item;
    e.time_us = ev->time_us;
    fact(e.verdict, sizeof e.verdict, homing_verdict_name(x->verdict.verdict));
    e.confidence = x->verdict.confidence;
    e.rules_version = x->verdict.rules_version;
    if (homing_verdict_reasons_format(x->verdict.reasons, e.reasons, sizeof e.reasons) < 0)
        e.reasons[0] = '\0'; /* cannot happen with the bounded reason set */
    fact(e.client_family, sizeof e.client_family, x->ua.family);
    if (x->ua.major[0])
        snprintf(e.client_version, sizeof e.client_version, "%s%s%s", x->ua.major,
                 x->ua.minor[0] ? "." : "", x->ua.minor);
    fact(e.os, sizeof e.os, x->ua.os);
    fact(e.device, sizeof e.device, x->ua.device);
    fact(e.country, sizeof e.country, x->country);
    e.asn = x->asn;
    fact(e.as_org, sizeof e.as_org, x->org);
    fact(e.machine, sizeof e.machine, x->machine.name);
    if (x->fingerprint) homing_fingerprint_format(x->fingerprint, e.reader);
    e.new_reader = e.reader[0] && new_reader;
    e.forward = e.reader[0] && forward;
    json_t *j = homing_enrichment_json(x);
    if (!j) return -ENOMEM;
    json_object_set_new(j, "new_reader", json_boolean(e.new_reader));
    json_object_set_new(j, "possible_forward", json_boolean(e.forward));
    e.json = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!e.json) return -ENOMEM;
    *out = e;
    return 0;
}

int homing_store_enrichment_redo(struct homing_store_enrichment *row,
                                 const struct homing_enrichment *x, const struct homing_event *ev)
{
    if (!row || !x || !ev) return -EINVAL;
    struct homing_store_enrichment fresh;
    int r = homing_store_enrichment_from(x, ev, row->new_reader, row->forward, &fresh);
    if (r < 0) return r;
    if (strcmp(row->verdict, fresh.verdict) == 0 && row->confidence == fresh.confidence &&
        strcmp(row->reasons, fresh.reasons) == 0 && row->rules_version == fresh.rules_version) {
        free(fresh.json);
        return 0;
    }
    homing_strlcpy(row->verdict, fresh.verdict, sizeof row->verdict);
    row->confidence = fresh.confidence;
    homing_strlcpy(row->reasons, fresh.reasons, sizeof row->reasons);
    row->rules_version = fresh.rules_version;
    free(row->json);
    row->json = fresh.json;
    return 1;
}

/* One open, click or document open of the message, with its class. */
struct who_hit {
    uint32_t recipient;
    uint16_t kind;
    uint32_t item;
    int64_t time_us;
    uint8_t verdict; /* enum homing_verdict, or WHO_PENDING */
};

static int who_class_of(unsigned verdict)
{
    if (verdict == WHO_PENDING) return WHO_UNKNOWN;
    int r = homing_verdict_is_read(verdict);
    return r > 0 ? WHO_HUMAN : r == 0 ? WHO_MACHINE : WHO_UNKNOWN;
}

static int who_hit_cmp(const void *a, const void *b)
{
    const struct who_hit *x = a, *y = b;
    if (x->recipient != y->recipient) return x->recipient < y->recipient ? -1 : 1;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    if (x->item != y->item) return x->item < y->item ? -1 : 1;
    return x->time_us < y->time_us ? -1 : x->time_us > y->time_us;
}

static json_t *who_time(int64_t t_us)
{
    if (t_us <= 0) return json_null();
    char when[HOMING_TIME_STR_MAX];
    homing_time_format(t_us, when);
    return json_string(when);
}

/* A string that may hold bytes jansson refuses (not UTF-8): sanitised then. */
static json_t *who_str(const char *s)
{
    if (!s || !*s) return json_null();
    json_t *j = json_string(s);
    if (j) return j;
    char buf[512];
    homing_str_sanitize(buf, sizeof buf, s, strlen(s));
    return json_string(buf);
}

/* Reads every hit of the message with its verdict (WHO_PENDING when the
 * enrichment thread has not reached it). */
static int who_hits(struct homing_store *s, uint64_t message, struct who_hit **out, size_t *n)
{
    struct who_hit *hits = NULL;
    size_t used = 0, cap = 0;
    int64_t after = 0, eafter = 0;
    struct homing_store_enrichment *en = NULL;
    size_t nen = 0, ei = 0;
    int r = 0;
    for (;;) {
        struct homing_event *evs = NULL;
        size_t nev = 0;
        if ((r = homing_store_events_list(s, message, after, WHO_PAGE, &evs, &nev)) < 0) break;
        for (size_t i = 0; i < nev && r == 0; i++) {
            const struct homing_event *e = &evs[i];
            after = e->id;
            if (e->kind != HOMING_EV_OPEN && e->kind != HOMING_EV_CLICK &&
                e->kind != HOMING_EV_DOCUMENT_OPEN)
                continue;
            /* Both lists go by id: walk the enrichments beside the events. */
            uint8_t verdict = WHO_PENDING;
            for (;;) {
                if (ei == nen) {
                    homing_store_enrichments_free(en, nen);
                    en = NULL;
                    nen = ei = 0;
                    if ((r = homing_store_enrichments_list(s, message, eafter, WHO_PAGE, &en,
                                                           &nen)) < 0)
                        break;
                    if (nen == 0) break;
                    eafter = en[nen - 1].event;
                }
                if (en[ei].event > e->id) break;
                if (en[ei].event == e->id) {
                    int v = homing_verdict_parse(en[ei].verdict);
                    verdict = v < 0 ? HOMING_VERDICT_UNKNOWN : (uint8_t)v;
                }
                ei++;
            }
            if (r < 0) break;
            if (used == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                struct who_hit *p = realloc(hits, ncap * sizeof *p);
                if (!p) {
                    r = -ENOMEM;
                    break;
                }
                hits = p;
                cap = ncap;
            }
            hits[used++] = (struct who_hit){e->recipient, e->kind, e->item, e->time_us, verdict};
        }
        homing_events_free(evs, nev);
        if (r < 0 || nev < WHO_PAGE) break;
    }
    homing_store_enrichments_free(en, nen);
    if (r < 0) {
        free(hits);
        return r;
    }
    /* A message without hits leaves hits NULL: qsort's pointer is declared
     * nonnull even for zero elements, so the empty list is not sorted. */
    if (used) qsort(hits, used, sizeof *hits, who_hit_cmp);
    *out = hits;
    *n = used;
    return 0;
}

struct who_totals {
    int64_t opens[WHO_CLASSES], clicks[WHO_CLASSES], documents[WHO_CLASSES];
    int64_t pending, unique_openers, unique_clickers, unique_document_openers;
};

static json_t *who_counts(const int64_t c[WHO_CLASSES])
{
    return json_pack("{s:I, s:I, s:I, s:I}", "human", (json_int_t)c[WHO_HUMAN], "machine",
                     (json_int_t)c[WHO_MACHINE], "unknown", (json_int_t)c[WHO_UNKNOWN], "total",
                     (json_int_t)(c[WHO_HUMAN] + c[WHO_MACHINE] + c[WHO_UNKNOWN]));
}

static const char *link_url(const struct homing_message *m, uint32_t item)
{
    for (size_t i = 0; i < m->n_links; i++)
        if (m->links[i].index == item) return m->links[i].url;
    return NULL;
}

/* The report of one recipient from its hits [h, h + n), sorted by kind, item
 * and time. */
static json_t *who_recipient(const struct homing_message *m, uint32_t recipient,
                             const struct who_hit *h, size_t n,
                             const struct homing_store_reader *rd, size_t nrd, struct who_totals *t)
{
    json_t *o = json_object(), *clicks = json_array(), *docs = json_array(),
           *readers = json_array(), *by = json_object();
    if (!o || !clicks || !docs || !readers || !by) goto fail;
    int64_t opens[WHO_CLASSES] = {0}, by_verdict[HOMING_VERDICT_COUNT + 1] = {0};
    int64_t first = 0, last = 0, human_clicks = 0, human_docs = 0;
    for (size_t i = 0; i < n;) {
        /* One group: the same kind and item. */
        size_t j = i;
        int64_t c[WHO_CLASSES] = {0}, gfirst = 0;
        while (j < n && h[j].kind == h[i].kind && h[j].item == h[i].item) {
            int cl = who_class_of(h[j].verdict);
            c[cl]++;
            if (h[j].verdict == WHO_PENDING) t->pending++;
            if (cl == WHO_HUMAN && !gfirst) gfirst = h[j].time_us;
            if (h[i].kind == HOMING_EV_OPEN) {
                by_verdict[h[j].verdict]++;
                if (cl == WHO_HUMAN) {
                    if (!first) first = h[j].time_us;
                    last = h[j].time_us;
                }
            }
            j++;
        }
        for (int k = 0; k < WHO_CLASSES; k++) {
            if (h[i].kind == HOMING_EV_OPEN) opens[k] += c[k], t->opens[k] += c[k];
            if (h[i].kind == HOMING_EV_CLICK) t->clicks[k] += c[k];
            if (h[i].kind == HOMING_EV_DOCUMENT_OPEN) t->documents[k] += c[k];
        }
        if (h[i].kind == HOMING_EV_CLICK) {
            human_clicks += c[WHO_HUMAN];
            json_t *l = who_counts(c);
            if (!l) goto fail;
            json_object_set_new(l, "link", json_integer(h[i].item));
            json_object_set_new(l, "url", who_str(link_url(m, h[i].item)));
            json_object_set_new(l, "first_human", who_time(gfirst));
            json_array_append_new(clicks, l);
        } else if (h[i].kind == HOMING_EV_DOCUMENT_OPEN) {
            human_docs += c[WHO_HUMAN];
            json_t *d = who_counts(c);
            if (!d) goto fail;
            json_object_set_new(d, "grant", json_integer(h[i].item));
            json_object_set_new(d, "first_human", who_time(gfirst));
            json_array_append_new(docs, d);
        }
        i = j;
    }
    if (opens[WHO_HUMAN]) t->unique_openers++;
    if (human_clicks) t->unique_clickers++;
    if (human_docs) t->unique_document_openers++;
    for (unsigned v = 0; v < HOMING_VERDICT_COUNT; v++)
        json_object_set_new(by, homing_verdict_name(v), json_integer(by_verdict[v]));
    json_object_set_new(by, "pending", json_integer(by_verdict[WHO_PENDING]));
    for (size_t i = 0; i < nrd; i++) {
        if (rd[i].recipient != recipient) continue;
        json_t *x =
            json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:b}", "reader", rd[i].fingerprint,
                      "client", who_str(rd[i].client), "device", who_str(rd[i].device), "country",
                      who_str(rd[i].country), "first_seen", who_time(rd[i].first_us), "last_seen",
                      who_time(rd[i].last_us), "opens", (json_int_t)rd[i].opens, "possible_forward",
                      rd[i].forward);
        if (!x) goto fail;
        json_array_append_new(readers, x);
    }
    json_t *oc = who_counts(opens);
    if (!oc) goto fail;
    json_object_set_new(oc, "by_verdict", by);
    by = NULL;
    json_object_set_new(o, "recipient", json_integer(recipient));
    json_object_set_new(o, "human_opens", json_integer(opens[WHO_HUMAN]));
    json_object_set_new(o, "first_human_open", who_time(first));
    json_object_set_new(o, "last_human_open", who_time(last));
    json_object_set_new(o, "opens_by_class", oc);
    json_object_set_new(o, "readers", readers);
    json_object_set_new(o, "links_clicked", clicks);
    json_object_set_new(o, "documents_opened", docs);
    return o;
fail:
    json_decref(o);
    json_decref(clicks);
    json_decref(docs);
    json_decref(readers);
    json_decref(by);
    return NULL;
}

int homing_store_who_json(struct homing_store *s, uint64_t message, void **out)
{
    if (!s || !message || !out) return -EINVAL;
    struct homing_message *m = NULL;
    int r = homing_store_message_get(s, message, &m);
    if (r < 0) return r;
    struct who_hit *h = NULL;
    size_t nh = 0;
    struct homing_store_reader *rd = NULL;
    size_t nrd = 0;
    json_t *arr = NULL, *j = NULL;
    if ((r = who_hits(s, message, &h, &nh)) < 0 ||
        (r = homing_store_readers_list(s, message, &rd, &nrd)) < 0)
        goto out;
    r = -ENOMEM;
    if (!(arr = json_array())) goto out;
    struct who_totals t;
    memset(&t, 0, sizeof t);
    /* Recipient 0 (per-message tokens) only when hit; every registered one. */
    size_t i = 0;
    if (nh && h[0].recipient == 0) {
        while (i < nh && h[i].recipient == 0) i++;
        json_t *o = who_recipient(m, 0, h, i, rd, nrd, &t);
        if (!o || json_array_append_new(arr, o) < 0) goto out;
    }
    for (size_t k = 0; k < m->n_recipients; k++) {
        uint32_t idx = m->recipients[k].index;
        while (i < nh && h[i].recipient < idx) i++; /* hits of unregistered indexes */
        size_t e = i;
        while (e < nh && h[e].recipient == idx) e++;
        json_t *o = who_recipient(m, idx, h + i, e - i, rd, nrd, &t);
        if (!o || json_array_append_new(arr, o) < 0) goto out;
        i = e;
    }
    int64_t forwards = 0;
    for (size_t k = 0; k < nrd; k++) forwards += rd[k].forward != 0;
    json_t *tot =
        json_pack("{s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I}", "opens", who_counts(t.opens),
                  "clicks", who_counts(t.clicks), "document_opens", who_counts(t.documents),
                  "unique_openers", (json_int_t)t.unique_openers, "unique_clickers",
                  (json_int_t)t.unique_clickers, "unique_document_openers",
                  (json_int_t)t.unique_document_openers, "readers", (json_int_t)nrd,
                  "possible_forwards", (json_int_t)forwards, "pending", (json_int_t)t.pending);
    if (!tot) goto out;
    j = json_pack("{s:o, s:o}", "totals", tot, "recipients", arr);
    arr = NULL;
    if (!j) goto out;
    *out = j;
    r = 0;
out:
    json_decref(arr);
    free(h);
    homing_store_readers_free(rd, nrd);
    homing_message_free(m);
    return r;
}
