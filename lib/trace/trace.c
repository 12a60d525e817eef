/*
 * trace.c: `homing trace` as a library call: turns one message into the JSON
 * document described in docs/internals/trace.md: the Received chain as hops
 * with signed delays, the trusted boundary and the addresses it saw,
 * Authentication-Results from trusted authserv-ids only, SPF/DKIM/DMARC
 * re-verified now beside the delivery-time verdict, spoofing indicators and
 * the sending service.
 *
 * Contract: the message is attacker text. Only what a trusted host wrote is
 * reported as fact: the boundary is the lowest hop of the unbroken run of
 * Received fields, from the top, written by a trusted host; everything below
 * it was written by machines the sender may control and is shown as a claim.
 * Limits: HOMING_TRACE_FIELDS_MAX fields, HOMING_TRACE_RECEIVED_MAX Received
 * fields (the rest are counted, not parsed), HOMING_TRACE_AUTHRES_MAX
 * Authentication-Results fields. Output is deterministic for a given message,
 * options and DNS answers, so it can be compared with golden files. DKIM is
 * verified by our own code unless the options select OpenDKIM's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "homing/punycode.h"
#include "trace_int.h"

#define TRACE_DATE_SKEW_DEFAULT (24 * 3600)

static void fmt_time(int64_t t, int tz_min, char *out, size_t cap)
{
    time_t s = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&s, &tm)) {
        homing_strlcpy(out, "?", cap);
        return;
    }
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int a = tz_min < 0 ? -tz_min : tz_min;
    snprintf(out + n, cap - n, " (%c%02d%02d)", tz_min < 0 ? '-' : '+', a / 60, a % 60);
}

static int host_match(const char *host, const char *pattern)
{
    if (!host || !pattern || !*pattern) return 0;
    size_t h = strlen(host), p = strlen(pattern);
    /* An address prefix: providers' internal hops are named by address
     * ("by 2002:a05:6a10::1 with SMTP", Gmail). */
    struct homing_cidr c;
    struct homing_addr a;
    if (strchr(pattern, '/') && homing_cidr_parse(pattern, p, &c) == 0)
        return homing_addr_parse(host, h, &a) == 0 && homing_cidr_contains(&c, &a);
    if (pattern[0] == '.') /* any name below */
        return h > p && strcasecmp(host + h - p, pattern) == 0;
    return h == p && strcasecmp(host, pattern) == 0;
}

static int trusted_host(const struct homing_trace_options *o, const char *host)
{
    for (size_t i = 0; i < o->n_trusted_hosts; i++)
        if (host_match(host, o->trusted_hosts[i])) return 1;
    return 0;
}

static int trusted_authserv(const struct homing_trace_options *o, const char *id)
{
    for (size_t i = 0; i < o->n_authserv_ids; i++)
        if (strcasecmp(id, o->authserv_ids[i]) == 0) return 1;
    return 0;
}

static int is_internal_ip(const char *ip)
{
    static const char *const nets[] = {"127.0.0.0/8",    "10.0.0.0/8", "172.16.0.0/12",
                                       "192.168.0.0/16", "::1/128",    "fc00::/7"};
    struct homing_addr a;
    if (!ip || homing_addr_parse(ip, strlen(ip), &a) < 0) return 0;
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        struct homing_cidr c;
        if (homing_cidr_parse(nets[i], strlen(nets[i]), &c) == 0 && homing_cidr_contains(&c, &a))
            return 1;
    }
    return 0;
}

/* Whether the client of a trusted hop is itself one of ours. Its reverse
 * name was looked up by the trusted receiver, so it counts; the HELO name is
 * the client's own claim and counts only from an internal address. */
static int client_trusted(const struct homing_trace_options *o, const struct homing_received *r)
{
    /* No from clause at all: a hand-off inside the trusted host (local
     * pickup, Gmail's internal "by 2002:... with SMTP"), no outside client. */
    if (!r->from_ip && !r->from_helo && !r->from_rdns) return 1;
    if (r->from_rdns && trusted_host(o, r->from_rdns)) return 1;
    if (r->from_helo && trusted_host(o, r->from_helo) &&
        (!r->from_ip || is_internal_ip(r->from_ip)))
        return 1;
    return 0;
}

/* Authenticated submission (RFC 3848: ...A): the client is the sender's own. */
static int is_auth_protocol(const char *p)
{
    if (!p) return 0;
    size_t n = strlen(p);
    return n > 4 && (p[n - 1] == 'A' || p[n - 1] == 'a') &&
           (strncasecmp(p, "ESMTP", 5) == 0 || strncasecmp(p, "UTF8SMTP", 8) == 0 ||
            strncasecmp(p, "LMTP", 4) == 0);
}

struct hop {
    struct homing_received *r; /* NULL if unparsable */
    size_t field;              /* index in the field list */
};

static json_t *hop_json(const struct hop *h, size_t index, const struct hop *next, int trusted,
                        int boundary)
{
    const struct homing_received *r = h->r;
    char ts[64];
    json_t *j = json_object();
    if (!j) return NULL;
    json_object_set_new(j, "hop", json_integer((json_int_t)index));
    if (!r) {
        json_object_set_new(j, "parsed", json_false());
        json_object_set_new(j, "trusted", json_boolean(trusted));
        return j;
    }
    json_object_set_new(j, "from_helo", homing_json_text(r->from_helo));
    json_object_set_new(j, "from_rdns", homing_json_text(r->from_rdns));
    json_object_set_new(j, "from_ip", homing_json_text(r->from_ip));
    json_object_set_new(j, "by", homing_json_text(r->by_host));
    json_object_set_new(j, "protocol", homing_json_text(r->protocol));
    json_t *tls = json_object();
    json_object_set_new(tls, "used", json_boolean(r->tls));
    json_object_set_new(tls, "version", homing_json_text(r->tls_version));
    json_object_set_new(tls, "cipher", homing_json_text(r->tls_cipher));
    json_object_set_new(j, "tls", tls);
    json_object_set_new(j, "id", homing_json_text(r->id));
    json_object_set_new(j, "for", homing_json_text(r->for_addr));
    if (r->has_date) {
        fmt_time(r->date, r->tz_min, ts, sizeof ts);
        json_object_set_new(j, "time", json_string(ts));
    } else {
        json_object_set_new(j, "time", json_null());
    }
    /* Signed: a receiver whose clock is behind shows a negative delay. */
    if (r->has_date && next && next->r && next->r->has_date)
        json_object_set_new(j, "delay_to_next_s", json_integer(next->r->date - r->date));
    else
        json_object_set_new(j, "delay_to_next_s", json_null());
    json_object_set_new(j, "trusted", json_boolean(trusted));
    json_object_set_new(j, "boundary", json_boolean(boundary));
    return j;
}

json_t *trace_authres_json(const struct homing_authres *a)
{
    json_t *j = json_object();
    json_object_set_new(j, "authserv_id", homing_json_text(a->authserv_id));
    json_t *res = json_array();
    for (size_t i = 0; i < a->n_results; i++) {
        const struct homing_authres_result *r = &a->results[i];
        json_t *o = json_object();
        json_object_set_new(o, "method", homing_json_text(r->method));
        json_object_set_new(o, "result", homing_json_text(r->result));
        json_object_set_new(o, "reason", homing_json_text(r->reason));
        json_t *props = json_object();
        for (size_t k = 0; k < r->n_props; k++) {
            char key[2 * HOMING_TRACE_TOKEN_MAX + 2];
            if (r->props[k].ptype[0])
                snprintf(key, sizeof key, "%s.%s", r->props[k].ptype, r->props[k].name);
            else
                snprintf(key, sizeof key, "%s", r->props[k].name);
            if (!json_object_get(props, key))
                json_object_set_new(props, key, homing_json_text(r->props[k].value));
        }
        json_object_set_new(o, "properties", props);
        json_array_append_new(res, o);
    }
    json_object_set_new(j, "results", res);
    return j;
}

/* The delivery-time verdict of method m: the first trusted result for it. */
static const struct homing_authres_result *delivery_result(struct homing_authres *const *ar,
                                                           size_t n, const char *m, size_t skip)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < ar[i]->n_results; k++)
            if (strcmp(ar[i]->results[k].method, m) == 0 && skip-- == 0) return &ar[i]->results[k];
    return NULL;
}

static char *field_text(const struct trace_fields *fs, const char *name)
{
    for (size_t i = 0; i < fs->n; i++)
        if (trace_field_is(&fs->f[i], name)) return trace_unfold(fs->f[i].value);
    return NULL;
}

static int parse_addr_field(const struct trace_fields *fs, const char *name, struct trace_addr *a,
                            int *have)
{
    *have = 0;
    char *v = field_text(fs, name);
    if (!v) return 0;
    int r = trace_addr_parse(v, a);
    free(v);
    if (r == 0) *have = 1;
    return r == -ENOMEM ? r : 0;
}

/* domain_unicode only for a domain with "xn--" labels: what a reader is shown */
static json_t *addr_json(const struct trace_addr *a, int have)
{
    if (!have) return json_null();
    json_t *j = json_object();
    json_object_set_new(j, "display", homing_json_text(a->display));
    json_object_set_new(j, "address", homing_json_text(a->addr));
    json_object_set_new(j, "domain", homing_json_text(a->domain));
    char u[HOMING_PUNYCODE_DOMAIN_MAX];
    if (a->domain && homing_idna_to_unicode(a->domain, u, sizeof u) > 0)
        json_object_set_new(j, "domain_unicode", homing_json_text(u));
    return j;
}

/* Compares the verdict now with the one at delivery and says why they differ. */
static void compare(json_t *o, const char *method, const char *at_delivery)
{
    json_object_set_new(o, "at_delivery", homing_json_text(at_delivery));
    const char *now = json_string_value(json_object_get(o, "result"));
    const char *why = NULL;
    if (!at_delivery || !now)
        why = NULL;
    else if (strcmp(now, at_delivery) == 0)
        why = "same";
    else if (strcmp(method, "dkim") == 0 && strcmp(at_delivery, "pass") == 0 &&
             json_is_true(json_object_get(o, "key_missing_now")))
        why = "key not found now but passed at delivery: the key was probably rotated or "
              "removed since, which is not evidence of forgery";
    else if (strcmp(now, "temperror") == 0)
        why = "temporary DNS failure now: retry later";
    else if (strcmp(now, "none") == 0 || strcmp(now, "permerror") == 0)
        why = "no usable record now: it was removed or broken after delivery";
    else if (strcmp(at_delivery, "pass") == 0)
        why = "passed at delivery but not now: the DNS records changed since, or the message "
              "was altered after the receiver checked it";
    else if (strcmp(now, "pass") == 0)
        why = "failed at delivery but passes now: the DNS records changed since delivery";
    else
        why = "the verdicts differ: the DNS records changed since delivery";
    json_object_set_new(o, "difference", homing_json_text(why));
}

int homing_dkim_verifier_parse(const char *s, enum homing_dkim_verifier *out)
{
    if (!s || !*s || strcmp(s, "homing") == 0)
        *out = HOMING_DKIM_OWN;
    else if (strcmp(s, "opendkim") == 0)
        *out = HOMING_DKIM_OPENDKIM;
    else
        return -EINVAL;
    return 0;
}

/* One run of homing_trace_run: what each step reads and leaves for the next.
 * The bounded tables live here, on the caller's stack (2.5 KiB): allocating
 * them per message cost more than filling them. */
struct trace_run {
    const char *msg;
    size_t len;
    const struct homing_trace_options *o;
    json_t *root;
    struct trace_fields fields;
    struct hop hops[HOMING_TRACE_RECEIVED_MAX];
    size_t n_hops, n_received;
    ssize_t boundary; /* index into hops of the trusted boundary, or -1 */
    size_t trusted_run;
    struct homing_authres *ars[HOMING_TRACE_AUTHRES_MAX];
    size_t n_ar;
    struct trace_addr from, reply, rpath, sender;
    int have_from, have_reply, have_rpath, have_sender;
    char *datev, *msgid;
    const char *msgid_domain;
    int have_date, have_first, tz;
    int64_t date, first;
    char dk[HOMING_TRACE_DKIM_SIGS_MAX][256];
    const char *dkim_domains[HOMING_TRACE_DKIM_SIGS_MAX];
    size_t n_dkim;
    struct trace_dns *dns;       /* the budget and answers of this run; NULL offline */
    struct homing_resolver *res; /* what the verifiers ask: dns's resolver */
};

/* Received fields, top (newest) first, as written. */
static int step_received(struct trace_run *t)
{
    struct trace_fields *fs = &t->fields;
    for (size_t i = 0; i < fs->n; i++) {
        if (!trace_field_is(&fs->f[i], "Received")) continue;
        t->n_received++;
        if (t->n_hops >= HOMING_TRACE_RECEIVED_MAX) continue;
        t->hops[t->n_hops].field = i;
        struct homing_received *r = NULL;
        int pr = homing_received_parse(fs->f[i].value.p, fs->f[i].value.len, &r);
        if (pr == -ENOMEM) return pr;
        t->hops[t->n_hops++].r = pr == 0 ? r : NULL;
    }
    return 0;
}

/* The boundary: walk down while the writer is trusted; stop at the first hop
 * whose client is not one of ours. Then the hops in the order the message
 * travelled (oldest first), the boundary, and what the untrusted part claims. */
static int step_boundary(struct trace_run *t)
{
    const struct homing_trace_options *o = t->o;
    t->boundary = -1;
    for (size_t i = 0; i < t->n_hops; i++) {
        struct homing_received *r = t->hops[i].r;
        if (!r || !trusted_host(o, r->by_host)) break;
        t->trusted_run = i + 1;
        if (!client_trusted(o, r)) {
            t->boundary = (ssize_t)i;
            break;
        }
    }
    json_t *jh = json_array();
    json_object_set_new(t->root, "hops", jh);
    for (size_t k = 0; k < t->n_hops; k++) {
        size_t i = t->n_hops - 1 - k;
        const struct hop *next = i > 0 ? &t->hops[i - 1] : NULL;
        json_t *h =
            hop_json(&t->hops[i], k + 1, next, i < t->trusted_run, (ssize_t)i == t->boundary);
        if (!h) return -ENOMEM;
        json_array_append_new(jh, h);
    }
    json_object_set_new(t->root, "received_fields", json_integer((json_int_t)t->n_received));
    json_object_set_new(t->root, "received_ignored_over_limit",
                        json_integer((json_int_t)(t->n_received - t->n_hops)));

    json_t *jb = json_object();
    if (t->boundary >= 0) {
        const struct homing_received *r = t->hops[t->boundary].r;
        json_object_set_new(jb, "hop", json_integer((json_int_t)(t->n_hops - (size_t)t->boundary)));
        json_object_set_new(jb, "by", homing_json_text(r->by_host));
        json_object_set_new(jb, "connecting_ip", homing_json_text(r->from_ip));
        json_object_set_new(jb, "connecting_rdns", homing_json_text(r->from_rdns));
        json_object_set_new(jb, "connecting_helo", homing_json_text(r->from_helo));
        /* The client is the originator only when it authenticated to us. */
        json_object_set_new(jb, "originating_ip",
                            is_auth_protocol(r->protocol) ? homing_json_text(r->from_ip)
                                                          : json_null());
        json_object_set_new(jb, "note", json_null());
    } else {
        json_object_set_new(jb, "hop", json_null());
        json_object_set_new(jb, "connecting_ip", json_null());
        json_object_set_new(jb, "originating_ip", json_null());
        json_object_set_new(
            jb, "note",
            json_string(o->n_trusted_hosts == 0
                            ? "no trusted host configured (--trusted-host): no address is trusted"
                        : t->trusted_run == t->n_hops && t->n_hops
                            ? "every hop was written by a trusted host: no outside client"
                            : "no Received field was written by a trusted host"));
    }
    json_object_set_new(t->root, "boundary", jb);
    /* What the untrusted part of the chain claims, for the investigator. */
    const char *claim = NULL;
    for (size_t i = t->n_hops; i-- > t->trusted_run;)
        if (t->hops[i].r && t->hops[i].r->from_ip) {
            claim = t->hops[i].r->from_ip;
            break;
        }
    json_object_set_new(t->root, "claimed_origin_ip_untrusted", homing_json_text(claim));
    return 0;
}

/* Authentication-Results: only trusted authserv-ids, and only above the
 * Received field just below the boundary (a sender can forge one with our
 * authserv-id in the part of the header it wrote). */
static int step_authres(struct trace_run *t)
{
    const struct trace_fields *fs = &t->fields;
    size_t ar_limit = fs->n;
    if (t->boundary >= 0 && (size_t)t->boundary + 1 < t->n_hops)
        ar_limit = t->hops[t->boundary + 1].field;
    json_t *jar = json_object(), *jtrusted = json_array(), *jignored = json_array();
    json_object_set_new(jar, "trusted", jtrusted);
    json_object_set_new(jar, "ignored", jignored);
    json_object_set_new(t->root, "authentication_results", jar);
    for (size_t i = 0; i < fs->n && t->n_ar < HOMING_TRACE_AUTHRES_MAX; i++) {
        if (!trace_field_is(&fs->f[i], "Authentication-Results")) continue;
        struct homing_authres *a = NULL;
        int pr = homing_authres_parse(fs->f[i].value.p, fs->f[i].value.len, &a);
        if (pr == -ENOMEM) return pr;
        if (pr < 0) {
            json_array_append_new(jignored,
                                  json_pack("{s:n, s:s}", "authserv_id", "why", "unparsable"));
            continue;
        }
        const char *why = NULL;
        if (!trusted_authserv(t->o, a->authserv_id))
            why = "authserv-id not trusted (--authserv-id)";
        else if (i >= ar_limit)
            why = "below the trusted boundary: written before the mail reached us";
        if (why) {
            json_array_append_new(jignored,
                                  json_pack("{s:o, s:s}", "authserv_id",
                                            homing_json_text(a->authserv_id), "why", why));
            homing_authres_free(a);
            continue;
        }
        json_array_append_new(jtrusted, trace_authres_json(a));
        t->ars[t->n_ar++] = a;
    }
    return 0;
}

/* Addresses, and the Message-ID's domain. */
static int step_addresses(struct trace_run *t)
{
    const struct trace_fields *fs = &t->fields;
    int rc;
    if ((rc = parse_addr_field(fs, "From", &t->from, &t->have_from)) < 0 ||
        (rc = parse_addr_field(fs, "Reply-To", &t->reply, &t->have_reply)) < 0 ||
        (rc = parse_addr_field(fs, "Return-Path", &t->rpath, &t->have_rpath)) < 0 ||
        (rc = parse_addr_field(fs, "Sender", &t->sender, &t->have_sender)) < 0)
        return rc;
    t->msgid = field_text(fs, "Message-ID");
    if (t->msgid) {
        char *at = strrchr(t->msgid, '@');
        if (at) {
            char *end = strchr(at, '>');
            if (end) *end = '\0';
            t->msgid_domain = at + 1;
            for (char *p = at + 1; *p; p++) *p = (char)tolower((unsigned char)*p);
            if (!*t->msgid_domain) t->msgid_domain = NULL;
        }
    }
    json_t *ja = json_object();
    json_object_set_new(ja, "from", addr_json(&t->from, t->have_from));
    json_object_set_new(ja, "reply_to", addr_json(&t->reply, t->have_reply));
    json_object_set_new(ja, "return_path", addr_json(&t->rpath, t->have_rpath));
    json_object_set_new(ja, "sender", addr_json(&t->sender, t->have_sender));
    json_object_set_new(ja, "message_id_domain", homing_json_text(t->msgid_domain));
    json_object_set_new(t->root, "addresses", ja);
    return 0;
}

/* Date against the first hop with a time stamp. */
static int step_date(struct trace_run *t)
{
    t->datev = field_text(&t->fields, "Date");
    if (t->datev && homing_date_parse(t->datev, strlen(t->datev), &t->date, &t->tz) == 0)
        t->have_date = 1;
    for (size_t i = t->n_hops; i-- > 0;)
        if (t->hops[i].r && t->hops[i].r->has_date) {
            t->first = t->hops[i].r->date;
            t->have_first = 1;
            break;
        }
    json_t *jd = json_object();
    char ts[64];
    if (t->have_date) fmt_time(t->date, t->tz, ts, sizeof ts);
    json_object_set_new(jd, "header", t->have_date ? json_string(ts) : json_null());
    json_object_set_new(jd, "header_valid", json_boolean(t->have_date));
    json_object_set_new(jd, "first_hop_minus_date_s",
                        t->have_date && t->have_first ? json_integer(t->first - t->date)
                                                      : json_null());
    json_object_set_new(t->root, "date", jd);
    return 0;
}

/* DKIM d= domains as signed (for the service table and look-alikes). */
static int step_dkim_domains(struct trace_run *t)
{
    const struct trace_fields *fs = &t->fields;
    for (size_t i = 0; i < fs->n && t->n_dkim < HOMING_TRACE_DKIM_SIGS_MAX; i++) {
        if (!trace_field_is(&fs->f[i], "DKIM-Signature")) continue;
        char *v = trace_unfold(fs->f[i].value);
        if (!v) return -ENOMEM;
        for (char *p = v; *p; p++) {
            if ((p == v || p[-1] == ';' || p[-1] == ' ') && p[0] == 'd' && p[1] == '=') {
                p += 2;
                size_t n = strcspn(p, "; ");
                char *d = t->dk[t->n_dkim];
                if (n >= sizeof t->dk[0]) n = sizeof t->dk[0] - 1;
                for (size_t k = 0; k < n; k++) d[k] = (char)tolower((unsigned char)p[k]);
                d[n] = '\0';
                if (n) t->dkim_domains[t->n_dkim++] = d;
                break;
            }
        }
        free(v);
    }
    return 0;
}

/* SPF, DKIM and DMARC re-verified now, each beside the delivery verdict. */
static int step_verify(struct trace_run *t)
{
    const struct homing_trace_options *o = t->o;
    json_t *jv = json_object();
    json_object_set_new(t->root, "verification", jv);
    if (o->offline) {
        json_object_set_new(jv, "skipped", json_string("offline"));
        return 0;
    }
    json_object_set_new(jv, "skipped", json_null());
    const struct homing_received *br = t->boundary >= 0 ? t->hops[t->boundary].r : NULL;
    const char *mailfrom = t->have_rpath ? t->rpath.addr : NULL;
    int rc;
    json_t *spf = json_object();
    if (!br || !br->from_ip) {
        json_object_set_new(spf, "result", json_null());
        json_object_set_new(spf, "note", json_string("no trusted connecting address to check"));
    } else if ((rc = auth_spf_check(t->res, br->from_ip, br->from_helo, mailfrom, spf)) < 0) {
        json_decref(spf);
        return rc;
    }
    const struct homing_authres_result *d = delivery_result(t->ars, t->n_ar, "spf", 0);
    compare(spf, "spf", d ? d->result : NULL);
    json_object_set_new(jv, "spf", spf);

    json_t *dkim = json_array();
    json_object_set_new(jv, "dkim", dkim);
    rc = o->dkim_verifier == HOMING_DKIM_OPENDKIM
             ? auth_dkim_verify_opendkim(t->res, t->msg, t->len, dkim)
             : auth_dkim_verify(t->res, t->msg, t->len, dkim);
    if (rc < 0) return rc;
    size_t idx;
    json_t *sig;
    json_array_foreach(dkim, idx, sig)
    {
        /* Match the delivery verdict by signing domain (header.d or header.i). */
        const char *sd = json_string_value(json_object_get(sig, "d"));
        const struct homing_authres_result *m = NULL;
        for (size_t s = 0; (d = delivery_result(t->ars, t->n_ar, "dkim", s)) != NULL; s++) {
            const char *hd = homing_authres_prop(d, "header", "d");
            const char *hi = homing_authres_prop(d, "header", "i");
            const char *at = hi ? strrchr(hi, '@') : NULL;
            if ((hd && sd && strcasecmp(hd, sd) == 0) ||
                (at && sd && strcasecmp(at + 1, sd) == 0)) {
                m = d;
                break;
            }
        }
        compare(sig, "dkim", m ? m->result : NULL);
    }
    json_t *arc = json_object();
    if (!arc) return -ENOMEM;
    json_object_set_new(jv, "arc", arc);
    int any_arc = 0;
    for (size_t i = 0; i < t->fields.n && !any_arc; i++)
        any_arc = trace_field_is(&t->fields.f[i], "ARC-Seal") ||
                  trace_field_is(&t->fields.f[i], "ARC-Message-Signature") ||
                  trace_field_is(&t->fields.f[i], "ARC-Authentication-Results");
    if (!any_arc) { /* most messages: no second split of the header for nothing */
        json_object_set_new(arc, "cv", json_string("none"));
        json_object_set_new(arc, "reason", json_null());
        json_object_set_new(arc, "sets", json_integer(0));
        json_object_set_new(arc, "hops", json_array());
    } else if ((rc = trace_arc_verify(t->res, t->msg, t->len, arc)) < 0) {
        return rc;
    }
    d = delivery_result(t->ars, t->n_ar, "arc", 0);
    json_object_set_new(arc, "result", json_incref(json_object_get(arc, "cv")));
    compare(arc, "arc", d ? d->result : NULL);
    json_object_del(arc, "result");
    json_t *dmarc = json_object();
    const char *spf_res = json_string_value(json_object_get(spf, "result"));
    const char *spf_dom = json_string_value(json_object_get(spf, "domain"));
    if ((rc = auth_dmarc_check(t->res, t->have_from ? t->from.domain : NULL, spf_res, spf_dom, dkim,
                               dmarc)) < 0) {
        json_decref(dmarc);
        return rc;
    }
    d = delivery_result(t->ars, t->n_ar, "dmarc", 0);
    compare(dmarc, "dmarc", d ? d->result : NULL);
    json_object_set_new(jv, "dmarc", dmarc);
    return 0;
}

/* The value of tag name in a DKIM-style tag-list (first one), into out. */
static int tag_value(const char *v, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = v; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ';') p++;
        const char *eq = strchr(p, '=');
        const char *semi = strchr(p, ';');
        if (!eq || (semi && semi < eq)) break;
        const char *ne = eq;
        while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
        const char *vs = eq + 1, *ve = semi ? semi : eq + strlen(eq);
        while (vs < ve && (*vs == ' ' || *vs == '\t')) vs++;
        while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        if ((size_t)(ne - p) == nl && strncasecmp(p, name, nl) == 0) {
            if ((size_t)(ve - vs) >= cap || ve == vs) return -1;
            memcpy(out, vs, (size_t)(ve - vs));
            out[ve - vs] = '\0';
            return 0;
        }
        if (!semi) break;
        p = semi + 1;
    }
    return -1;
}

static void query_add(struct trace_dns_query *q, size_t *n, size_t cap, const char *name,
                      enum homing_rr type)
{
    if (*n >= cap || strlen(name) >= sizeof q[0].name) return;
    for (size_t i = 0; i < *n; i++)
        if (q[i].type == type && strcasecmp(q[i].name, name) == 0) return;
    homing_strlcpy(q[*n].name, name, sizeof q[0].name);
    q[(*n)++].type = type;
}

#define TRACE_PREFETCH_MAX 64 /* questions asked in advance for one message */

/* The questions the verifiers will ask, asked now in parallel: the keys of
 * every DKIM and ARC signature, the DMARC record of the From domain and the
 * SPF record of the envelope sender, and the DNSBL names. */
static int step_dns_prefetch(struct trace_run *t)
{
    /* a resolver without lookup_until answers at once (the zone file) */
    if (t->o->offline || !t->o->resolver->lookup_until) return 0;
    struct trace_dns_query *q = calloc(TRACE_PREFETCH_MAX, sizeof *q);
    if (!q) return -ENOMEM;
    size_t n = 0;
    const struct trace_fields *fs = &t->fields;
    for (size_t i = 0; i < fs->n && n < TRACE_PREFETCH_MAX; i++) {
        if (!trace_field_is(&fs->f[i], "DKIM-Signature") &&
            !trace_field_is(&fs->f[i], "ARC-Message-Signature") &&
            !trace_field_is(&fs->f[i], "ARC-Seal"))
            continue;
        char *v = trace_unfold(fs->f[i].value);
        if (!v) {
            free(q);
            return -ENOMEM;
        }
        char d[256], sel[128], name[sizeof q[0].name];
        if (tag_value(v, "d", d, sizeof d) == 0 && tag_value(v, "s", sel, sizeof sel) == 0) {
            snprintf(name, sizeof name, "%s._domainkey.%s", sel, d);
            query_add(q, &n, TRACE_PREFETCH_MAX, name, HOMING_RR_TXT);
        }
        free(v);
    }
    char name[sizeof q[0].name];
    if (t->have_from && t->from.domain && strlen(t->from.domain) < 200) {
        snprintf(name, sizeof name, "_dmarc.%s", t->from.domain);
        query_add(q, &n, TRACE_PREFETCH_MAX, name, HOMING_RR_TXT);
    }
    if (t->have_rpath && t->rpath.domain)
        query_add(q, &n, TRACE_PREFETCH_MAX, t->rpath.domain, HOMING_RR_TXT);
    const struct homing_received *br = t->boundary >= 0 ? t->hops[t->boundary].r : NULL;
    for (size_t z = 0; br && br->from_ip && z < t->o->n_dnsbl_zones; z++)
        if (trace_dnsbl_name(br->from_ip, t->o->dnsbl_zones[z], name, sizeof name) == 0)
            query_add(q, &n, TRACE_PREFETCH_MAX, name, HOMING_RR_A);
    int rc = trace_dns_prefetch(t->dns, q, n);
    free(q);
    return rc;
}

/* DNSBL listings of the boundary's connecting address (dnsbl.c). */
static int step_dnsbl(struct trace_run *t)
{
    const struct homing_received *br = t->boundary >= 0 ? t->hops[t->boundary].r : NULL;
    if (t->o->offline || t->o->n_dnsbl_zones == 0) return 0;
    json_t *j = json_object(), *zones = json_array();
    if (!j || !zones) {
        json_decref(j);
        json_decref(zones);
        return -ENOMEM;
    }
    json_object_set_new(j, "address", br ? homing_json_text(br->from_ip) : json_null());
    json_object_set_new(j, "zones", zones);
    json_object_set_new(t->root, "dnsbl", j);
    if (!br || !br->from_ip) return 0;
    return trace_dnsbl_check(t->res, br->from_ip, t->o->dnsbl_zones, t->o->n_dnsbl_zones, zones);
}

#define TRACE_VENDOR_FIELDS_MAX 32 /* anti-spam vendor fields decoded per message */

/* The anti-spam filters' own fields (vendor.c), each marked trusted when it
 * sits where a trusted host wrote it: above the Received field written just
 * below the boundary, as for Authentication-Results. Anyone can write these
 * fields, so one below that is the sender's claim. */
static int step_vendor(struct trace_run *t)
{
    const struct trace_fields *fs = &t->fields;
    size_t limit = fs->n;
    if (t->boundary >= 0 && (size_t)t->boundary + 1 < t->n_hops)
        limit = t->hops[t->boundary + 1].field;
    json_t *arr = json_array();
    if (!arr) return -ENOMEM;
    json_object_set_new(t->root, "vendor_headers", arr);
    size_t n = 0, over = 0;
    for (size_t i = 0; i < fs->n; i++) {
        const struct trace_field *f = &fs->f[i];
        if (f->name.len > 64 || !trace_vendor_known(f->name.p, f->name.len)) continue;
        char name[65];
        memcpy(name, f->name.p, f->name.len);
        name[f->name.len] = '\0';
        char *v = trace_unfold(f->value);
        if (!v) return -ENOMEM;
        json_t *o = NULL;
        int rc = trace_vendor_decode(name, v, &o);
        free(v);
        if (rc < 0) return rc;
        if (rc == 0) continue;
        if (n++ >= TRACE_VENDOR_FIELDS_MAX) {
            json_decref(o);
            over++;
            continue;
        }
        json_object_set_new(o, "trusted", json_boolean(t->boundary >= 0 && i < limit));
        json_array_append_new(arr, o);
    }
    json_object_set_new(t->root, "vendor_headers_over_limit", json_integer((json_int_t)over));
    return 0;
}

/* What the DNS budget came to (after every step that asks DNS). */
static int step_dns_report(struct trace_run *t)
{
    json_t *jv = json_object_get(t->root, "verification");
    if (!t->dns || !jv) return 0;
    json_t *j = trace_dns_json(t->dns);
    if (!j) return -ENOMEM;
    json_object_set_new(jv, "dns", j);
    return 0;
}

/* Spoofing indicators. */
static int step_indicators(struct trace_run *t)
{
    const struct homing_trace_options *o = t->o;
    json_t *ji = json_array();
    json_object_set_new(t->root, "indicators", ji);
    struct spoof_input si = {
        .from = t->have_from ? &t->from : NULL,
        .reply_to = t->have_reply ? &t->reply : NULL,
        .return_path = t->have_rpath ? &t->rpath : NULL,
        .sender = t->have_sender ? &t->sender : NULL,
        .message_id_domain = t->msgid_domain,
        .dkim_domains = t->dkim_domains,
        .n_dkim = t->n_dkim,
        .have_date = t->have_date,
        .have_first_hop = t->have_first,
        .date = t->date,
        .first_hop = t->first,
        .skew_max = o->date_skew_max > 0 ? o->date_skew_max : TRACE_DATE_SKEW_DEFAULT,
    };
    int rc = spoof_indicators(&si, ji);
    if (rc < 0) return rc;
    if (t->boundary >= 0) {
        /* A hop below the boundary that claims to be one of ours is forged. */
        for (size_t i = (size_t)t->boundary + 1; i < t->n_hops; i++)
            if (t->hops[i].r && trusted_host(o, t->hops[i].r->by_host))
                json_array_append_new(
                    ji, json_pack("{s:s, s:s, s:s}", "kind", "forged_trusted_hop", "severity",
                                  "high", "detail",
                                  "a Received field below the trusted boundary names a "
                                  "trusted host as receiver: the sender wrote it"));
    }
    for (size_t i = 0; i < t->n_hops; i++)
        if (!t->hops[i].r)
            json_array_append_new(ji, json_pack("{s:s, s:s, s:s}", "kind", "unparsable_received",
                                                "severity", "low", "detail",
                                                "a Received field could not be parsed"));
    return 0;
}

/* The sending service: DKIM signers first, then the hosts that handed the
 * message to the boundary or sent it before it. */
static int step_service(struct trace_run *t)
{
    const char *esp = NULL;
    for (size_t i = 0; i < t->n_dkim && !esp; i++) esp = trace_esp_lookup(t->dkim_domains[i]);
    for (size_t i = t->trusted_run ? t->trusted_run - 1 : 0; i < t->n_hops && !esp; i++)
        if (t->hops[i].r)
            esp = trace_esp_lookup(t->hops[i].r->from_rdns)
                      ? trace_esp_lookup(t->hops[i].r->from_rdns)
                      : trace_esp_lookup(t->hops[i].r->from_helo);
    json_object_set_new(t->root, "sending_service", homing_json_text(esp));
    return 0;
}

/* The report, built in this order: each step reads what the ones before it
 * left in the run (the boundary needs the hops, Authentication-Results the
 * boundary, verification the results and the addresses, indicators all). */
static int (*const trace_steps[])(struct trace_run *) = {
    step_received,     step_boundary,     step_authres,    step_addresses, step_date,
    step_dkim_domains, step_dns_prefetch, step_verify,     step_dnsbl,     step_vendor,
    step_indicators,   step_service,      step_dns_report,
};

int homing_trace_run(const char *msg, size_t len, const struct homing_trace_options *o,
                     json_t **out)
{
    if (!msg || !o || (!o->offline && !o->resolver)) return -EINVAL;
    if (o->dkim_verifier != HOMING_DKIM_OWN && o->dkim_verifier != HOMING_DKIM_OPENDKIM)
        return -EINVAL;
    if (len > HOMING_TRACE_MESSAGE_MAX) return -E2BIG;
    if (o->dns_budget_ms < 0 || o->dns_budget_ms > HOMING_TRACE_DNS_BUDGET_MAX_MS) return -EINVAL;
    if (o->n_dnsbl_zones > HOMING_TRACE_DNSBL_ZONES_MAX) return -E2BIG;
    struct trace_run t = {.msg = msg, .len = len, .o = o, .boundary = -1};
    int rc = (t.root = json_object()) ? trace_fields_split(msg, len, &t.fields) : -ENOMEM;
    if (rc >= 0 && !o->offline) {
        rc = trace_dns_new(o->resolver, o->dns_budget_ms, &t.dns);
        if (rc >= 0) t.res = trace_dns_resolver(t.dns);
    }
    for (size_t i = 0; rc >= 0 && i < sizeof trace_steps / sizeof trace_steps[0]; i++)
        rc = trace_steps[i](&t);
    for (size_t i = 0; i < t.n_hops; i++) homing_received_free(t.hops[i].r);
    for (size_t i = 0; i < t.n_ar; i++) homing_authres_free(t.ars[i]);
    trace_fields_clear(&t.fields);
    trace_dns_free(t.dns);
    free(t.datev);
    free(t.msgid);
    trace_addr_clear(&t.from);
    trace_addr_clear(&t.reply);
    trace_addr_clear(&t.rpath);
    trace_addr_clear(&t.sender);
    if (rc < 0) {
        json_decref(t.root);
        return rc;
    }
    *out = t.root;
    return 0;
}
