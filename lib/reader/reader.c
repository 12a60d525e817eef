/*
 * reader.c: the whole enrichment of one open or click behind one call, for the
 * daemon's enrichment thread: parse the User-Agent, look up the network (ASN,
 * country, machine knowledge), compute the verdict and the reader fingerprint.
 * Databases that are not configured are skipped; their facts stay unknown.
 *
 * Contract: see homing/reader.h. A homing_reader is used by one thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homing/config.h"
#include "homing/reader.h"

struct homing_reader {
    struct homing_ua_parser *ua;
    struct homing_machines *machines;
    struct homing_asn_db *asn;
    struct homing_geo_db *geo;
};

int homing_reader_new(const struct homing_reader_options *o, struct homing_reader **out)
{
    static const struct homing_reader_options none = {0};
    if (!o) o = &none;
    struct homing_reader *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
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
    int have_machine =
        homing_machines_match(r->machines, have_addr ? &a : NULL, x.asn, &x.machine) == 0;
    struct homing_verdict_input vi = *in;
    vi.ua = &x.ua;
    vi.machine = have_machine ? &x.machine : NULL;
    rc = homing_verdict_compute(&vi, &x.verdict);
    if (rc < 0) return rc;
    uint64_t fp;
    if (homing_fingerprint_compute(e, &x.ua, &x.verdict, &fp) == 0) x.fingerprint = fp;
    *out = x;
    return 0;
}
