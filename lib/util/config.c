/*
 * config.c: the option table and INI loading. Values are kept as text and parsed
 * by the typed getters, so every module reads its options the same way.
 */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homing/config.h"

/* Keep this table and docs/configuration.md in step: tests/unit/test_config.c
 * fails if an option is missing from the document. */
const struct homing_config_option homing_config_options[] = {
    {"store.url", "sqlite:homing.db", 0,
     "where events live: sqlite:PATH (relative to this file) or postgresql://..."},
    {"store.sync", "normal", 0,
     "SQLite synchronous mode: normal survives a daemon crash, full also a power loss"},
    {"store.journal", "journal", 1,
     "directory of the hit journal: answered hits on their way into the store"},
    {"keys.file", "token.keys", 1, "the token and document key file (mode 0600)"},
    {"public.listen", "127.0.0.1:8080", 0, "address:port of the public tracking listener"},
    {"public.base_url", "http://127.0.0.1:8080", 0,
     "URL prefix put in tracked mail (the public listener as recipients reach it)"},
    {"public.trusted_proxies", "", 0,
     "comma-separated prefixes whose X-Forwarded-For / Forwarded headers are believed"},
    {"public.max_connections", "10000", 0,
     "most open connections on the public listener; more are refused at once (0: no cap)"},
    {"public.max_connections_per_client", "256", 0,
     "most open public connections from one IPv4 address or IPv6 /64 (0: no cap)"},
    {"admin.listen", "127.0.0.1:8081", 0, "address:port of the private API listener"},
    {"serve.user", "homing", 0, "user the daemon switches to after binding, when started as root"},
    {"serve.threads", "1", 0, "event-loop threads for the public listener (SO_REUSEPORT)"},
    {"serve.batch_max", "512", 0,
     "with store.sync = full: most hits answered per flush of the journal"},
    {"serve.link_cache", "65536", 0, "click destinations kept in memory per thread"},
    {"serve.flood_rate", "2", 0,
     "hits per second one client may record on one tracking URL (0: no limit)"},
    {"serve.flood_burst", "20", 0,
     "hits one client may record on one URL in a burst before the rate applies"},
    {"serve.flood_table", "65536", 0, "client and URL pairs tracked by flood control per thread"},
    {"track.max_size", "26214400", 0, "largest message `homing track` reads, in bytes"},
    {"track.max_depth", "32", 0, "deepest MIME nesting `homing track` accepts"},
    {"track.max_parts", "1000", 0, "most MIME parts in a message `homing track` accepts"},
    {"geo.country_db",
     "npm/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb", 1,
     "MaxMind-format .mmdb giving the country of a client; empty: no country lookups"},
    {"geo.asn_db", "geo/asn.hmasn", 1,
     "ASN range file made by homing-geo-import (make setup); empty: no ASN lookups"},
    {"enrich.rdns", "no", 0,
     "reverse DNS of client addresses as a verdict signal (blocks the enrichment thread)"},
    {"enrich.uap_regexes", "/usr/share/uap-core/regexes.yaml", 1,
     "uap-core regexes.yaml for User-Agent parsing"},
    {"enrich.ua_rules", "", 1, "homing's own User-Agent rules; empty: data/useragents.tsv"},
    {"enrich.machines", "", 1, "known proxy and scanner networks; empty: data/machines.tsv"},
    {"enrich.ua_cache", "4096", 0, "User-Agent parse results kept in memory (LRU)"},
    {"trace.trusted_hosts", "", 0, "hosts writing your Received fields, for homing trace"},
    {"trace.authserv_ids", "", 0, "authserv-ids whose results homing trace believes"},
    {"trace.dkim_verifier", "homing", 0,
     "DKIM verifier of homing trace: homing (ours, the default) or opendkim"},
    {"send.smtp", "127.0.0.1:25", 0, "host:port of the relay homing send submits to"},
    {"send.starttls", "opportunistic", 0, "STARTTLS to the relay: required, opportunistic or off"},
    {"send.verp", "", 0, "envelope sender with {token}, e.g. bounce+{token}@bounces.example"},
    {"send.jobs", "4", 0, "SMTP sessions homing send runs at once"},
    {"send.timeout", "60", 0, "seconds homing send waits for each relay reply"},
    {"notify.poll_ms", "200", 0, "how often the notifier looks for new events and due webhooks"},
    {"notify.timeout_ms", "10000", 0, "time limit of one webhook POST, connection included"},
    {"notify.retry_hours", "24", 0, "how long a failing webhook delivery is retried"},
    {"notify.retry_min_ms", "1000", 0, "first wait before retrying a delivery (doubles each time)"},
    {"notify.retry_max_ms", "3600000", 0, "longest wait between two attempts of a delivery"},
    {"notify.machine", "no", 0, "notify machine verdicts (prefetch, scanner, probe) too"},
    {"notify.enrich", "yes", 0, "name the client, country and verdict in notifications"},
    {"webhooks.allow_private", "no", 0,
     "allow webhooks to loopback, link-local and private addresses (the SSRF guard)"},
    {"privacy.truncate", "yes", 0,
     "truncate stored client addresses once enriched (docs/privacy.md)"},
    {"privacy.truncate_v4", "24", 0, "IPv4 prefix bits kept of a client address (0..32)"},
    {"privacy.truncate_v6", "48", 0, "IPv6 prefix bits kept of a client address (0..128)"},
    {"privacy.retention_days", "365", 0,
     "events older than this are rolled up into daily counts and deleted (0: keep forever)"},
    {"docs.dir", "documents", 1,
     "directory of the encrypted documents (docs/documents.md); the key stays in keys.file"},
    {NULL, NULL, 0, NULL},
};

struct homing_config {
    char *base_dir;
    size_t n;
    char **values;   /* parallel to homing_config_options */
    char **resolved; /* resolved path values, or NULL */
};

static int option_index(const char *name)
{
    for (int i = 0; homing_config_options[i].name; i++)
        if (strcmp(homing_config_options[i].name, name) == 0) return i;
    return -1;
}

static int set_value(struct homing_config *c, int i, const char *value)
{
    char *v = strdup(value);
    if (!v) return -ENOMEM;
    free(c->values[i]);
    c->values[i] = v;
    free(c->resolved[i]);
    c->resolved[i] = NULL;
    if (homing_config_options[i].is_path && v[0] && v[0] != '/') {
        size_t need = strlen(c->base_dir) + strlen(v) + 2;
        char *p = malloc(need);
        if (!p) return -ENOMEM;
        snprintf(p, need, "%s/%s", c->base_dir, v);
        c->resolved[i] = p;
    }
    return 0;
}

int homing_config_new(const char *base_dir, struct homing_config **out)
{
    struct homing_config *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    while (homing_config_options[c->n].name) c->n++;
    c->base_dir = strdup(base_dir && *base_dir ? base_dir : ".");
    c->values = calloc(c->n, sizeof *c->values);
    c->resolved = calloc(c->n, sizeof *c->resolved);
    if (!c->base_dir || !c->values || !c->resolved) {
        homing_config_free(c);
        return -ENOMEM;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (set_value(c, (int)i, homing_config_options[i].def) < 0) {
            homing_config_free(c);
            return -ENOMEM;
        }
    }
    *out = c;
    return 0;
}

void homing_config_free(struct homing_config *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n && c->values; i++) {
        free(c->values[i]);
        if (c->resolved) free(c->resolved[i]);
    }
    free(c->values);
    free(c->resolved);
    free(c->base_dir);
    free(c);
}

struct load_ctx {
    struct homing_config *c;
    const char *path;
    char *err;
    size_t errcap;
    int failed;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *lc = user;
    char full[128];
    if (snprintf(full, sizeof full, "%s.%s", section, name) >= (int)sizeof full) {
        if (lc->err) snprintf(lc->err, lc->errcap, "%s: option name too long", lc->path);
        lc->failed = -EINVAL;
        return 0;
    }
    int i = option_index(full);
    if (i < 0) {
        if (lc->err) snprintf(lc->err, lc->errcap, "%s: unknown option %s", lc->path, full);
        lc->failed = -EINVAL;
        return 0;
    }
    if (set_value(lc->c, i, value) < 0) {
        lc->failed = -ENOMEM;
        return 0;
    }
    return 1;
}

int homing_config_load(struct homing_config *c, const char *path, char *err, size_t errcap)
{
    struct load_ctx lc = {c, path, err, errcap, 0};
    int r = ini_parse(path, on_ini, &lc);
    if (lc.failed) return lc.failed;
    if (r == -1) {
        if (err) snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
        return -ENOENT;
    }
    if (r != 0) {
        if (err) snprintf(err, errcap, "%s:%d: syntax error", path, r);
        return -EINVAL;
    }
    return 0;
}

int homing_config_set(struct homing_config *c, const char *name, const char *value)
{
    int i = option_index(name);
    if (i < 0) return -ENOENT;
    return set_value(c, i, value);
}

const char *homing_config_get(const struct homing_config *c, const char *name)
{
    int i = option_index(name);
    if (i < 0) return NULL;
    return c->resolved[i] ? c->resolved[i] : c->values[i];
}

int homing_config_get_int(const struct homing_config *c, const char *name, long long min,
                          long long max, long long *out)
{
    const char *v = homing_config_get(c, name);
    if (!v || !*v) return -EINVAL;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < min || x > max) return -EINVAL;
    *out = x;
    return 0;
}

int homing_config_get_bool(const struct homing_config *c, const char *name, int *out)
{
    const char *v = homing_config_get(c, name);
    if (!v) return -EINVAL;
    static const char *yes[] = {"yes", "true", "on", "1"}, *no[] = {"no", "false", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0) return *out = 0, 0;
    }
    return -EINVAL;
}

const char *homing_config_base_dir(const struct homing_config *c)
{
    return c->base_dir;
}
