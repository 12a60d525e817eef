/*
 * reader.c: the whole enrichment of one open or click behind one call, for the
 * daemon's enrichment thread: parse the User-Agent, look up the network (ASN,
 * country, machine knowledge), compute the verdict and the reader fingerprint.
 * Databases that are not configured are skipped; their facts stay unknown.
 *
 * Contract: see homing/reader.h. A homing_reader is used by one thread.
 */
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "homing/config.h"
#include "homing/reader.h"

struct homing_reader {
    struct homing_ua_parser *ua;
    struct homing_machines *machines;
    struct homing_asn_db *asn;
    struct homing_geo_db *geo;
    int rdns;
};

int homing_rdns_lookup(const struct homing_addr *a, char *host, size_t cap)
{
    if (!a || !host || cap == 0) return -EINVAL;
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (a->family == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, a->bytes, 4);
        sl = sizeof *s4;
    } else if (a->family == 6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, a->bytes, 16);
        sl = sizeof *s6;
    } else {
        return -EINVAL;
    }
    char name[NI_MAXHOST];
    if (getnameinfo((struct sockaddr *)&ss, sl, name, sizeof name, NULL, 0, NI_NAMEREQD) != 0)
        return -ENOENT;
    /* Forward-confirm: the name must resolve back to the address. */
    struct addrinfo hints = {.ai_family = a->family == 4 ? AF_INET : AF_INET6,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(name, NULL, &hints, &res) != 0) return -ENOENT;
    int confirmed = 0;
    for (struct addrinfo *ai = res; ai && !confirmed; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET && a->family == 4)
            confirmed = memcmp(&((struct sockaddr_in *)ai->ai_addr)->sin_addr, a->bytes, 4) == 0;
        else if (ai->ai_family == AF_INET6 && a->family == 6)
            confirmed = memcmp(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, a->bytes, 16) == 0;
    }
    freeaddrinfo(res);
    if (!confirmed || strlen(name) >= cap) return -ENOENT;
    memcpy(host, name, strlen(name) + 1);
    return 0;
}

int homing_reader_new(const struct homing_reader_options *o, struct homing_reader **out)
{
    static const struct homing_reader_options none = {0};
    if (!o) o = &none;
    struct homing_reader *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    r->rdns = o->rdns;
    int rc = homing_ua_parser_new(o->uap_regexes, o->ua_rules, o->ua_cache, &r->ua);
    if (rc == 0) rc = homing_machines_load(o->machines, &r->machines, NULL, 0);
    if (rc == 0 && !(o->published && !o->published[0])) {
        rc = homing_machines_load_published(r->machines, o->published, NULL, 0);
        char bots[4096 + 512];
        int b = rc == 0 ? homing_published_ua_bots(o->published, bots, sizeof bots) : -ENOENT;
        if (b == 0)
            rc = homing_ua_parser_load_bots(r->ua, bots);
        else if (b != -ENOENT)
            rc = b;
    }
    if (rc == 0 && o->asn_db && o->asn_db[0]) rc = homing_asn_open(o->asn_db, &r->asn);
    if (rc == 0 && o->country_db && o->country_db[0]) rc = homing_geo_open(o->country_db, &r->geo);
    if (rc < 0) {
        homing_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* The options of homing_reader_from_config, parsed once for both tries of
 * homing_reader_open. */
static int reader_options(const struct homing_config *c, struct homing_reader_options *o)
{
    const struct homing_settings *set = homing_config_settings(c);
    if (set->enrich.ua_cache > HOMING_UA_CACHE_MAX) return -EINVAL;
    const char *uap = set->enrich.uap_regexes;
    const char *rules = set->enrich.ua_rules;
    const char *machines = set->enrich.machines;
    const char *published = set->enrich.published;
    *o = (struct homing_reader_options){
        .uap_regexes = uap && uap[0] ? uap : NULL,
        .ua_rules = rules && rules[0] ? rules : NULL,
        .machines = machines && machines[0] ? machines : NULL,
        .published = published && strcmp(published, "none") == 0 ? ""
                     : published && published[0]                 ? published
                                                                 : NULL,
        .asn_db = set->geo.asn_db,
        .country_db = set->geo.country_db,
        .ua_cache = (size_t)set->enrich.ua_cache,
        .rdns = set->enrich.rdns,
    };
    return 0;
}

int homing_reader_open(const struct homing_config *c, struct homing_reader **out, int *geo_err)
{
    if (!c || !out) return -EINVAL;
    struct homing_reader_options o;
    int rc = reader_options(c, &o);
    if (rc < 0) return rc;
    if (geo_err) *geo_err = 0;
    rc = homing_reader_new(&o, out);
    if (rc == 0 || (!(o.asn_db && o.asn_db[0]) && !(o.country_db && o.country_db[0]))) return rc;
    /* Most likely the country or ASN database is not installed yet (make
     * setup): the User-Agent and the machine knowledge still make most
     * verdicts, so every front end runs without geo rather than not at all. */
    int geo = rc;
    o.asn_db = o.country_db = NULL;
    rc = homing_reader_new(&o, out);
    if (rc == 0 && geo_err) *geo_err = geo;
    return rc;
}

int homing_reader_from_config(const struct homing_config *c, struct homing_reader **out)
{
    struct homing_reader_options o;
    int rc = reader_options(c, &o);
    return rc < 0 ? rc : homing_reader_new(&o, out);
}

void homing_reader_free(struct homing_reader *r)
{
    if (!r) return;
    homing_ua_parser_free(r->ua);
    homing_machines_free(r->machines);
    homing_asn_close(r->asn);
    homing_geo_close(r->geo);
    free(r);
}

int homing_reader_enrich(struct homing_reader *r, const struct homing_verdict_input *in,
                         struct homing_enrichment *out)
{
    if (!r || !in || !in->event || !out) return -EINVAL;
    const struct homing_event *e = in->event;
    struct homing_enrichment x;
    memset(&x, 0, sizeof x);
    int rc =
        homing_ua_parse(r->ua, e->user_agent, strnlen(e->user_agent, sizeof e->user_agent), &x.ua);
    if (rc < 0) return rc;
    struct homing_addr a;
    int have_addr = homing_addr_parse(e->client, strnlen(e->client, sizeof e->client), &a) == 0;
    if (have_addr && r->asn) {
        const char *org;
        if (homing_asn_lookup(r->asn, &a, &x.asn, &org) == 0)
            homing_strlcpy(x.org, org, sizeof x.org);
    }
    if (have_addr && r->geo) {
        char cc[3];
        if (homing_geo_country(r->geo, &a, cc) == 0) memcpy(x.country, cc, 3);
    }
    if (have_addr && r->rdns) {
        char host[HOMING_RDNS_MAX];
        if (homing_rdns_lookup(&a, host, sizeof host) == 0)
            homing_strlcpy(x.host, host, sizeof x.host);
    }
    /* A prefix is the most specific fact, then a confirmed name, then the AS. */
    int by_rdns = 0, have_machine = homing_machines_match(r->machines, have_addr ? &a : NULL, 0,
                                                          &x.machine) == 0;
    if (!have_machine && x.host[0])
        have_machine = by_rdns = homing_machines_match_host(r->machines, x.host, &x.machine) == 0;
    if (!have_machine)
        have_machine = homing_machines_match(r->machines, NULL, x.asn, &x.machine) == 0;
    struct homing_verdict_input vi = *in;
    vi.ua = &x.ua;
    vi.machine = have_machine ? &x.machine : NULL;
    vi.machine_by_rdns = by_rdns;
    rc = homing_verdict_compute(&vi, &x.verdict);
    if (rc < 0) return rc;
    uint64_t fp;
    if (homing_fingerprint_compute(e, &x.ua, &x.verdict, &fp) == 0) x.fingerprint = fp;
    *out = x;
    return 0;
}

const char *homing_machine_class_name(unsigned c)
{
    static const char *names[] = {"none",  "proxy",   "prefetch", "scanner",
                                  "cloud", "gateway", "relay",    "crawler"};
    return c <= HOMING_MACHINE_CRAWLER ? names[c] : "none";
}

/* Sets key to the string s unless s is empty; 0 or -ENOMEM. */
static int set_str(json_t *o, const char *key, const char *s)
{
    if (!s[0]) return 0;
    return json_object_set_new(o, key, json_string(s)) == 0 ? 0 : -ENOMEM;
}

void *homing_enrichment_json(const struct homing_enrichment *x)
{
    json_t *o = json_object(), *reasons = json_array(), *client = json_object(),
           *net = json_object();
    int rc = (o && reasons && client && net) ? 0 : -ENOMEM;
    for (int i = 0; rc == 0 && i < HOMING_REASON_COUNT; i++)
        if (x->verdict.reasons & (1u << i))
            rc = json_array_append_new(reasons, json_string(homing_verdict_reason_name(1u << i)));
    /* The version as clients print it: "16.0.5266", "605.1.15", "7". */
    char version[3 * HOMING_UA_VERSION_MAX];
    snprintf(version, sizeof version, "%s%s%s%s%s", x->ua.major, x->ua.minor[0] ? "." : "",
             x->ua.minor, x->ua.patch[0] ? "." : "", x->ua.patch);
    if (rc == 0) rc = set_str(client, "family", x->ua.family);
    if (rc == 0) rc = set_str(client, "version", version);
    if (rc == 0) rc = set_str(client, "os", x->ua.os);
    if (rc == 0) rc = set_str(client, "device", x->ua.device);
    if (rc == 0) rc = set_str(client, "type", homing_device_type_name(x->ua.type));
    if (rc == 0) rc = set_str(client, "class", homing_ua_class_name(x->ua.ua_class));
    if (rc == 0 && x->asn)
        rc = json_object_set_new(net, "asn", json_integer(x->asn)) == 0 ? 0 : -ENOMEM;
    if (rc == 0) rc = set_str(net, "org", x->org);
    if (rc == 0) rc = set_str(net, "country", x->country);
    if (rc == 0) rc = set_str(net, "host", x->host);
    if (rc == 0 && x->machine.mclass) {
        rc = set_str(net, "machine", x->machine.name);
        if (rc == 0)
            rc = set_str(net, "machine_class", homing_machine_class_name(x->machine.mclass));
    }
    char fp[HOMING_FINGERPRINT_STR_MAX] = "";
    if (x->fingerprint) homing_fingerprint_format(x->fingerprint, fp);
    const char *vname = homing_verdict_name(x->verdict.verdict);
    if (rc == 0 &&
        (json_object_set_new(o, "verdict", json_string(vname ? vname : "unknown")) ||
         json_object_set_new(o, "confidence", json_integer(x->verdict.confidence)) ||
         json_object_set_new(o, "reasons", reasons) ||
         json_object_set_new(o, "rules_version", json_integer(x->verdict.rules_version)) ||
         json_object_set_new(o, "client", client) || json_object_set_new(o, "network", net) ||
         json_object_set_new(o, "reader", fp[0] ? json_string(fp) : json_null())))
        rc = -ENOMEM;
    if (rc < 0) {
        /* set_new took the references it was given, even on failure */
        json_decref(o);
        return NULL;
    }
    return o;
}
