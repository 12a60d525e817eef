/*
 * reader.c: the whole enrichment of one open or click behind one call, for the
 * daemon's enrichment thread: parse the User-Agent, look up the network (ASN,
 * country, machine knowledge), compute the verdict and the reader fingerprint.
 * Databases that are not configured are skipped; their facts stay unknown.
 *
 * Contract: see homing/reader.h. A homing_reader is used by one thread.
 */
#include <errno.h>
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
    if (rc == 0 && o->asn_db && o->asn_db[0]) rc = homing_asn_open(o->asn_db, &r->asn);
    if (rc == 0 && o->country_db && o->country_db[0]) rc = homing_geo_open(o->country_db, &r->geo);
    if (rc < 0) {
        homing_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int homing_reader_from_config(const struct homing_config *c, struct homing_reader **out)
{
    long long cache;
    int rc = homing_config_get_int(c, "enrich.ua_cache", 1, HOMING_UA_CACHE_MAX, &cache);
    if (rc < 0) return rc;
    int rdns;
    rc = homing_config_get_bool(c, "enrich.rdns", &rdns);
    if (rc < 0) return rc;
    const char *uap = homing_config_get(c, "enrich.uap_regexes");
    const char *rules = homing_config_get(c, "enrich.ua_rules");
    const char *machines = homing_config_get(c, "enrich.machines");
    struct homing_reader_options o = {
        .uap_regexes = uap && uap[0] ? uap : NULL,
        .ua_rules = rules && rules[0] ? rules : NULL,
        .machines = machines && machines[0] ? machines : NULL,
        .asn_db = homing_config_get(c, "geo.asn_db"),
        .country_db = homing_config_get(c, "geo.country_db"),
        .ua_cache = (size_t)cache,
        .rdns = rdns,
    };
    return homing_reader_new(&o, out);
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
