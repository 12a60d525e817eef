/*
 * config.c: the option table and INI loading. Each value is checked against
 * its option when read or set, then kept as text (for `homing doctor` and the
 * generated pages) and parsed once into its member of struct homing_settings,
 * which is what every module reads.
 */
#include <errno.h>
#include <ini.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "homing/config.h"

/* Keep this table and docs/configuration.md in step: tests/unit/test_config.c
 * fails if an option or its default is missing from the document, or a
 * default does not pass its own option's check. The ranges are the widest any
 * reader accepts; a reader may still name a tighter one. */
const struct homing_config_option homing_config_options[] = {
    {"store.url", "sqlite:homing.db", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "where events live: sqlite:PATH (relative to the state directory) or postgresql://...",
     HOMING_SET_TEXT(store.url)},
    {"store.sync", "normal", HOMING_OPT_ENUM, 0LL, 0LL, "normal|full",
     "SQLite synchronous mode: normal survives a daemon crash, full also a power loss",
     HOMING_SET_TEXT(store.sync)},
    {"store.journal", "journal", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "directory of the hit journal: answered hits on their way into the store",
     HOMING_SET_TEXT(store.journal)},
    {"node.id", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "this daemon's name among the nodes sharing a PostgreSQL store (letters, digits, - and _)",
     HOMING_SET_TEXT(node.id)},
    {"keys.file", "token.keys", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "the token and document key file (mode 0600)", HOMING_SET_TEXT(keys.file)},
    {"keys.data", "data.key", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "the data key that seals recipient and client addresses in the store (mode 0600, made "
     "when missing; back it up: without it the addresses cannot be read)",
     HOMING_SET_TEXT(keys.data)},
    {"public.listen", "127.0.0.1:8080", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "address:port of the public tracking listener", HOMING_SET_TEXT(public.listen)},
    {"public.base_url", "http://127.0.0.1:8080", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "URL prefix put in tracked mail (the public listener as recipients reach it)",
     HOMING_SET_TEXT(public.base_url)},
    {"public.trusted_proxies", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "comma-separated prefixes whose X-Forwarded-For / Forwarded headers are believed",
     HOMING_SET_TEXT(public.trusted_proxies)},
    {"public.domain_base_urls", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "the base URL per sending domain: DOMAIN=URL entries, separated by spaces or commas (also "
     "[domain NAME] sections with public_base_url)",
     HOMING_SET_TEXT(public.domain_base_urls)},
    {"public.max_connections", "10000", HOMING_OPT_INT, 0LL, 10000000LL, NULL,
     "most open connections on the public listener; more are refused at once (0: no cap)",
     HOMING_SET_INT(public.max_connections)},
    {"public.max_connections_per_client", "256", HOMING_OPT_INT, 0LL, 10000000LL, NULL,
     "most open public connections from one IPv4 address or IPv6 /64 (0: no cap)",
     HOMING_SET_INT(public.max_connections_per_client)},
    {"public.tls_cert", "", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "PEM certificate chain: the public listener speaks HTTPS (HTTP/2 by ALPN); reread on SIGHUP",
     HOMING_SET_TEXT(public.tls_cert)},
    {"public.tls_key", "", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "PEM private key of public.tls_cert, readable by serve.user; reread on SIGHUP",
     HOMING_SET_TEXT(public.tls_key)},
    {"admin.listen", "127.0.0.1:8081", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "address:port of the private API listener", HOMING_SET_TEXT(admin.listen)},
    {"log.format", "text", HOMING_OPT_ENUM, 0LL, 0LL, "text|json",
     "the daemon's log lines on stderr: text, or one JSON object per line",
     HOMING_SET_TEXT(log.format)},
    {"serve.user", "homing", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "user the daemon switches to after binding, when started as root",
     HOMING_SET_TEXT(serve.user)},
    {"serve.threads", "1", HOMING_OPT_INT, 1LL, 64LL, NULL,
     "event-loop threads for the public listener (SO_REUSEPORT)", HOMING_SET_INT(serve.threads)},
    {"serve.batch_max", "512", HOMING_OPT_INT, 1LL, 100000LL, NULL,
     "with store.sync = full: most hits answered per flush of the journal",
     HOMING_SET_INT(serve.batch_max)},
    {"serve.link_cache", "65536", HOMING_OPT_INT, 1LL, 100000000LL, NULL,
     "click destinations kept in memory per thread", HOMING_SET_INT(serve.link_cache)},
    {"serve.flood_rate", "2", HOMING_OPT_INT, 0LL, 1000000LL, NULL,
     "hits per second one client may record on one tracking URL (0: no limit)",
     HOMING_SET_INT(serve.flood_rate)},
    {"serve.flood_burst", "20", HOMING_OPT_INT, 1LL, 1000000LL, NULL,
     "hits one client may record on one URL in a burst before the rate applies",
     HOMING_SET_INT(serve.flood_burst)},
    {"serve.flood_table", "65536", HOMING_OPT_INT, 1LL, 1048576LL, NULL,
     "client and URL pairs tracked by flood control per thread", HOMING_SET_INT(serve.flood_table)},
    {"track.max_size", "26214400", HOMING_OPT_INT, 1LL, 1073741824LL, NULL,
     "largest message `homing track` reads, in bytes", HOMING_SET_INT(track.max_size)},
    {"track.max_depth", "32", HOMING_OPT_INT, 1LL, 1000LL, NULL,
     "deepest MIME nesting `homing track` accepts", HOMING_SET_INT(track.max_depth)},
    {"track.max_parts", "1000", HOMING_OPT_INT, 1LL, 1000000LL, NULL,
     "most MIME parts in a message `homing track` accepts", HOMING_SET_INT(track.max_parts)},
    {"track.list_unsubscribe", "no", HOMING_OPT_BOOL, 0LL, 0LL, NULL,
     "give each per-recipient copy a one-click List-Unsubscribe (RFC 8058) to the public listener",
     HOMING_SET_BOOL(track.list_unsubscribe)},
    {"track.pixel_placement", "top", HOMING_OPT_ENUM, 0LL, 0LL, "top|bottom",
     "where the pixel goes: right after <body> (kept by clients that clip long mail) or "
     "before </body>",
     HOMING_SET_TEXT(track.pixel_placement)},
    {"geo.country_db",
     "npm/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb",
     HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "MaxMind-format .mmdb giving the country of a client; empty: no country lookups",
     HOMING_SET_TEXT(geo.country_db)},
    {"geo.asn_db", "geo/asn.hmasn", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "ASN range file made by homing-geo-import (make setup); empty: no ASN lookups",
     HOMING_SET_TEXT(geo.asn_db)},
    {"enrich.rdns", "no", HOMING_OPT_BOOL, 0LL, 0LL, NULL,
     "reverse DNS of client addresses as a verdict signal (blocks the enrichment thread)",
     HOMING_SET_BOOL(enrich.rdns)},
    {"enrich.uap_regexes", "/usr/share/uap-core/regexes.yaml", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "uap-core regexes.yaml for User-Agent parsing", HOMING_SET_TEXT(enrich.uap_regexes)},
    {"enrich.ua_rules", "", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "homing's own User-Agent rules; empty: data/useragents.tsv", HOMING_SET_TEXT(enrich.ua_rules)},
    {"enrich.machines", "", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "known proxy and scanner networks; empty: data/machines.tsv",
     HOMING_SET_TEXT(enrich.machines)},
    {"enrich.published", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "directory of published lists (lists.tsv); empty: data/published; none: off",
     HOMING_SET_TEXT(enrich.published)},
    {"enrich.ua_cache", "4096", HOMING_OPT_INT, 1LL, 1000000LL, NULL,
     "User-Agent parse results kept in memory (LRU)", HOMING_SET_INT(enrich.ua_cache)},
    {"trace.trusted_hosts", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "hosts writing your Received fields, for homing trace", HOMING_SET_TEXT(trace.trusted_hosts)},
    {"trace.authserv_ids", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "authserv-ids whose results homing trace believes", HOMING_SET_TEXT(trace.authserv_ids)},
    {"trace.dkim_verifier", "homing", HOMING_OPT_ENUM, 0LL, 0LL, "homing|opendkim",
     "DKIM verifier of homing trace: homing (ours, the default) or opendkim",
     HOMING_SET_TEXT(trace.dkim_verifier)},
    {"trace.dns_budget_ms", "3000", HOMING_OPT_INT, 1LL, 600000LL, NULL,
     "time all DNS of one message may take in homing trace; what is left unanswered is temperror",
     HOMING_SET_INT(trace.dns_budget_ms)},
    {"trace.dnsbl_zones", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "DNS blocklist zones homing trace asks about the origin address (empty: none)",
     HOMING_SET_TEXT(trace.dnsbl_zones)},
    {"send.smtp", "127.0.0.1:25", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "host:port of the relay homing send submits to", HOMING_SET_TEXT(send.smtp)},
    {"send.starttls", "opportunistic", HOMING_OPT_ENUM, 0LL, 0LL, "required|opportunistic|off",
     "STARTTLS to the relay: required, opportunistic or off", HOMING_SET_TEXT(send.starttls)},
    {"send.verp", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "envelope sender with {token}, e.g. bounce+{token}@bounces.example",
     HOMING_SET_TEXT(send.verp)},
    {"send.jobs", "4", HOMING_OPT_INT, 1LL, 64LL, NULL, "SMTP sessions homing send runs at once",
     HOMING_SET_INT(send.jobs)},
    {"send.timeout", "60", HOMING_OPT_INT, 1LL, 3600LL, NULL,
     "seconds homing send waits for each relay reply", HOMING_SET_INT(send.timeout)},
    {"dkim.keys_dir", "dkim", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "directory of the DKIM signing keys, DOMAIN.SELECTOR.key (homing dkim-keys)",
     HOMING_SET_TEXT(dkim.keys_dir)},
    {"dkim.selector", "homing", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "the DKIM selector that signs for a domain dkim.selectors does not name",
     HOMING_SET_TEXT(dkim.selector)},
    {"dkim.selectors", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "per-domain DKIM selectors: DOMAIN=SELECTOR, comma-separated",
     HOMING_SET_TEXT(dkim.selectors)},
    {"notify.poll_ms", "200", HOMING_OPT_INT, 10LL, 60000LL, NULL,
     "how often the notifier looks for new events and due webhooks",
     HOMING_SET_INT(notify.poll_ms)},
    {"notify.timeout_ms", "10000", HOMING_OPT_INT, 100LL, 600000LL, NULL,
     "time limit of one webhook POST, connection included", HOMING_SET_INT(notify.timeout_ms)},
    {"notify.retry_hours", "24", HOMING_OPT_INT, 0LL, 8760LL, NULL,
     "how long a failing webhook delivery is retried", HOMING_SET_INT(notify.retry_hours)},
    {"notify.retry_min_ms", "1000", HOMING_OPT_INT, 1LL, 86400000LL, NULL,
     "first wait before retrying a delivery (doubles each time)",
     HOMING_SET_INT(notify.retry_min_ms)},
    {"notify.retry_max_ms", "3600000", HOMING_OPT_INT, 1LL, 86400000LL, NULL,
     "longest wait between two attempts of a delivery", HOMING_SET_INT(notify.retry_max_ms)},
    {"notify.machine", "no", HOMING_OPT_BOOL, 0LL, 0LL, NULL,
     "notify machine verdicts (prefetch, scanner, probe) too", HOMING_SET_BOOL(notify.machine)},
    {"notify.enrich", "yes", HOMING_OPT_BOOL, 0LL, 0LL, NULL,
     "name the client, country and verdict in notifications", HOMING_SET_BOOL(notify.enrich)},
    {"webhooks.allow_private", "no", HOMING_OPT_BOOL, 0LL, 0LL, NULL,
     "allow webhooks to loopback, link-local and private addresses (the SSRF guard)",
     HOMING_SET_BOOL(webhooks.allow_private)},
    {"privacy.truncate", "yes", HOMING_OPT_BOOL, 0LL, 0LL, NULL,
     "truncate stored client addresses once enriched (docs/privacy.md)",
     HOMING_SET_BOOL(privacy.truncate)},
    {"privacy.truncate_v4", "24", HOMING_OPT_INT, 0LL, 32LL, NULL,
     "IPv4 prefix bits kept of a client address (0..32)", HOMING_SET_INT(privacy.truncate_v4)},
    {"privacy.truncate_v6", "48", HOMING_OPT_INT, 0LL, 128LL, NULL,
     "IPv6 prefix bits kept of a client address (0..128)", HOMING_SET_INT(privacy.truncate_v6)},
    {"privacy.retention_days", "365", HOMING_OPT_INT, 0LL, 36500LL, NULL,
     "events older than this are rolled up into daily counts and deleted (0: keep forever)",
     HOMING_SET_INT(privacy.retention_days)},
    {"docs.dir", "documents", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "directory of the encrypted documents (docs/documents.md); the key stays in keys.file",
     HOMING_SET_TEXT(docs.dir)},
    {"milter.listen", "127.0.0.1:8899", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "address:port (or unix:/path) `homing milter` listens on for the MTA",
     HOMING_SET_TEXT(milter.listen)},
    {"milter.default_policy", "tag", HOMING_OPT_ENUM, 0LL, 0LL,
     "off|tag|strip|notice|quarantine|reject",
     "what the milter does for a recipient milter.policy does not name",
     HOMING_SET_TEXT(milter.default_policy)},
    {"milter.policy", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "per-recipient policies: ADDRESS=POLICY, DOMAIN=POLICY, *=POLICY, comma-separated",
     HOMING_SET_TEXT(milter.policy)},
    {"milter.hold_min", "1", HOMING_OPT_INT, 1LL, 1000000LL, NULL,
     "trackers a message must carry before quarantine or reject applies",
     HOMING_SET_INT(milter.hold_min)},
    {"milter.on_error", "accept", HOMING_OPT_ENUM, 0LL, 0LL, "accept|tempfail",
     "what the MTA is told when homing fails on a message (accept: delivered unchanged)",
     HOMING_SET_TEXT(milter.on_error)},
    {"milter.max_message", "26214400", HOMING_OPT_INT, 1024LL, 67108864LL, NULL,
     "bytes of one message the milter holds in memory; a larger one gets milter.oversize",
     HOMING_SET_INT(milter.max_message)},
    {"milter.oversize", "accept", HOMING_OPT_ENUM, 0LL, 0LL, "accept|tempfail|reject",
     "a message over milter.max_message: delivered untouched, deferred or refused",
     HOMING_SET_TEXT(milter.oversize)},
    {"milter.max_connections", "64", HOMING_OPT_INT, 1LL, 100000LL, NULL,
     "MTA connections filtered at once; more are passed through untouched",
     HOMING_SET_INT(milter.max_connections)},
    {"milter.trackers", "", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "tracker knowledge file (empty: the installed trackers.tsv)",
     HOMING_SET_TEXT(milter.trackers)},
    {"milter.authserv_id", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "the host named in X-Homing-Tracker-Results (empty: this host's name)",
     HOMING_SET_TEXT(milter.authserv_id)},
    {"milter.stats_file", "", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "Prometheus text file of the milter's counters, rewritten at most once a second",
     HOMING_SET_TEXT(milter.stats_file)},
    {"relay.listen", "127.0.0.1:2525", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "address:port `homing relay` listens on (loopback by default)", HOMING_SET_TEXT(relay.listen)},
    {"relay.mode", "submission", HOMING_OPT_ENUM, 0LL, 0LL, "submission|filter",
     "submission: mail clients log in (STARTTLS, AUTH); filter: Postfix's content_filter",
     HOMING_SET_TEXT(relay.mode)},
    {"relay.smarthost", "127.0.0.1:25", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "host:port every tracked copy is handed to (filter mode: Postfix's re-injection port)",
     HOMING_SET_TEXT(relay.smarthost)},
    {"relay.smarthost_tls", "opportunistic", HOMING_OPT_ENUM, 0LL, 0LL,
     "required|opportunistic|off", "STARTTLS towards relay.smarthost",
     HOMING_SET_TEXT(relay.smarthost_tls)},
    {"relay.hostname", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "name in the greeting and EHLO (default: the host name)", HOMING_SET_TEXT(relay.hostname)},
    {"relay.max_message_size", "26214400", HOMING_OPT_INT, 1024LL, 67108864LL, NULL,
     "bytes of one message (announced as SIZE); a larger one is refused with 552",
     HOMING_SET_INT(relay.max_message_size)},
    {"relay.max_recipients", "100", HOMING_OPT_INT, 1LL, 1000LL, NULL,
     "envelope recipients of one message; one more gets 452", HOMING_SET_INT(relay.max_recipients)},
    {"relay.max_connections", "32", HOMING_OPT_INT, 1LL, 10000LL, NULL,
     "client connections at once; one more gets 421 and is closed",
     HOMING_SET_INT(relay.max_connections)},
    {"relay.timeout", "300", HOMING_OPT_INT, 5LL, 3600LL, NULL,
     "seconds a client may stay silent, and the smarthost's timeout",
     HOMING_SET_INT(relay.timeout)},
    {"relay.tls_cert", "", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "PEM certificate chain offered by STARTTLS (empty: no STARTTLS)",
     HOMING_SET_TEXT(relay.tls_cert)},
    {"relay.tls_key", "", HOMING_OPT_PATH, 0LL, 0LL, NULL, "PEM private key of relay.tls_cert",
     HOMING_SET_TEXT(relay.tls_key)},
    {"relay.require_tls", "yes", HOMING_OPT_BOOL, 0LL, 0LL, NULL,
     "submission mode: AUTH only after STARTTLS", HOMING_SET_BOOL(relay.require_tls)},
    {"relay.loopback_plain_auth", "no", HOMING_OPT_BOOL, 0LL, 0LL, NULL,
     "submission mode: a client on 127.0.0.0/8 or ::1 may AUTH without TLS",
     HOMING_SET_BOOL(relay.loopback_plain_auth)},
    {"relay.sender_login_match", "yes", HOMING_OPT_BOOL, 0LL, 0LL, NULL,
     "submission mode: MAIL FROM must be the address the client logged in as",
     HOMING_SET_BOOL(relay.sender_login_match)},
    {"relay.stats_file", "", HOMING_OPT_PATH, 0LL, 0LL, NULL,
     "Prometheus text file of the relay's counters, rewritten after each message",
     HOMING_SET_TEXT(relay.stats_file)},
    {"relay.track", "recipient", HOMING_OPT_ENUM, 0LL, 0LL, "no|message|recipient",
     "tracking of relayed mail unless X-Homing-Track or relay.track_senders says otherwise",
     HOMING_SET_TEXT(relay.track)},
    {"relay.track_senders", "", HOMING_OPT_TEXT, 0LL, 0LL, NULL,
     "per sender: ADDRESS=MODE or DOMAIN=MODE entries (MODE no, message or recipient)",
     HOMING_SET_TEXT(relay.track_senders)},
    {NULL, NULL, 0, 0, 0, NULL, NULL},
};

#define CONFIG_NAME_MAX 128 /* "section.key" */

static int parse_bool(const char *v, int *out)
{
    static const char *yes[] = {"yes", "true", "on", "1"}, *no[] = {"no", "false", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0) return *out = 0, 0;
    }
    return -EINVAL;
}

static int parse_int(const char *v, long long min, long long max, long long *out)
{
    if (!v || !*v) return -EINVAL;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < min || x > max) return -EINVAL;
    *out = x;
    return 0;
}

/* Whether v is one of "a|b|c". */
static int in_choices(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

static int option_index(const char *name);

int homing_config_check(const char *name, const char *value, char *err, size_t errcap)
{
    int i = option_index(name);
    if (i < 0) {
        const char *near = homing_config_nearest(name);
        if (err)
            snprintf(err, errcap, "unknown option %s%s%s%s", name, near ? " (did you mean " : "",
                     near ? near : "", near ? "?)" : "");
        return -ENOENT;
    }
    const struct homing_config_option *o = &homing_config_options[i];
    long long x;
    int b;
    switch (o->type) {
    case HOMING_OPT_INT:
        if (parse_int(value, o->min, o->max, &x) == 0) return 0;
        if (err)
            snprintf(err, errcap, "%s = %s: an integer from %lld to %lld", name, value, o->min,
                     o->max);
        return -EINVAL;
    case HOMING_OPT_BOOL:
        if (parse_bool(value, &b) == 0) return 0;
        if (err) snprintf(err, errcap, "%s = %s: yes or no", name, value);
        return -EINVAL;
    case HOMING_OPT_ENUM:
        if (in_choices(o->choices, value)) return 0;
        if (err) snprintf(err, errcap, "%s = %s: one of %s", name, value, o->choices);
        return -EINVAL;
    case HOMING_OPT_TEXT:
    case HOMING_OPT_PATH: break;
    }
    if (strcmp(name, "public.domain_base_urls") == 0) {
        char why[160];
        if (homing_domain_urls_check(value, why, sizeof why) == 0) return 0;
        if (err) snprintf(err, errcap, "%s: %s", name, why);
        return -EINVAL;
    }
    return 0;
}

/* Edit distance (insertions, deletions, substitutions) of two short names. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= CONFIG_NAME_MAX || lb >= CONFIG_NAME_MAX) return SIZE_MAX;
    size_t row[CONFIG_NAME_MAX + 1];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *homing_config_nearest(const char *name)
{
    const char *best = NULL;
    size_t bd = SIZE_MAX;
    for (int i = 0; name && homing_config_options[i].name; i++) {
        size_t d = distance(name, homing_config_options[i].name);
        if (d < bd) bd = d, best = homing_config_options[i].name;
    }
    /* A third of the name at most: close enough to be a typo, not a guess. */
    return best && bd <= 3 && bd * 3 <= strlen(name) ? best : NULL;
}

struct homing_config {
    char *base_dir;
    size_t n;
    char **values;   /* parallel to homing_config_options */
    char **resolved; /* resolved path values, or NULL */
    struct homing_settings set;
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
    if (homing_config_options[i].type == HOMING_OPT_PATH && v[0] && v[0] != '/') {
        size_t need = strlen(c->base_dir) + strlen(v) + 2;
        char *p = malloc(need);
        if (!p) return -ENOMEM;
        snprintf(p, need, "%s/%s", c->base_dir, v);
        c->resolved[i] = p;
    }
    /* The typed member: value has passed homing_config_check. */
    const struct homing_config_option *o = &homing_config_options[i];
    char *field = (char *)&c->set + o->field - 1;
    long long x = 0;
    int b = 0;
    switch (o->type) {
    case HOMING_OPT_INT:
        if (parse_int(v, o->min, o->max, &x) < 0) return -EINVAL;
        memcpy(field, &x, sizeof x);
        break;
    case HOMING_OPT_BOOL:
        if (parse_bool(v, &b) < 0) return -EINVAL;
        memcpy(field, &b, sizeof b);
        break;
    default: {
        const char *t = c->resolved[i] ? c->resolved[i] : v;
        memcpy(field, &t, sizeof t);
    }
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

#define CONFIG_DOMAIN_SECTION "domain "
#define CONFIG_DOMAIN_KEY     "public_base_url"

/* [domain NAME] public_base_url = URL: one more entry of
 * public.domain_base_urls, checked as the option is. */
static int on_domain(struct load_ctx *lc, const char *section, const char *name, const char *value)
{
    const char *dom = section + strlen(CONFIG_DOMAIN_SECTION);
    while (*dom == ' ') dom++;
    int i = option_index("public.domain_base_urls");
    char why[256];
    if (strcmp(name, CONFIG_DOMAIN_KEY) != 0) {
        if (lc->err)
            snprintf(lc->err, lc->errcap, "%s: [%s] takes only " CONFIG_DOMAIN_KEY ", not %s",
                     lc->path, section, name);
        lc->failed = -EINVAL;
        return 0;
    }
    const char *old = lc->c->values[i];
    size_t need = strlen(old) + strlen(dom) + strlen(value) + 3;
    char *map = malloc(need);
    if (!map) {
        lc->failed = -ENOMEM;
        return 0;
    }
    snprintf(map, need, "%s%s%s=%s", old, *old ? " " : "", dom, value);
    int r = homing_config_check("public.domain_base_urls", map, why, sizeof why);
    if (r < 0) {
        if (lc->err) snprintf(lc->err, lc->errcap, "%s: [%s]: %s", lc->path, section, why);
        lc->failed = r;
    } else if (set_value(lc->c, i, map) < 0)
        lc->failed = -ENOMEM;
    free(map);
    return lc->failed ? 0 : 1;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *lc = user;
    if (strncmp(section, CONFIG_DOMAIN_SECTION, strlen(CONFIG_DOMAIN_SECTION)) == 0)
        return on_domain(lc, section, name, value);
    char full[CONFIG_NAME_MAX];
    if (snprintf(full, sizeof full, "%s.%s", section, name) >= (int)sizeof full) {
        if (lc->err) snprintf(lc->err, lc->errcap, "%s: option name too long", lc->path);
        lc->failed = -EINVAL;
        return 0;
    }
    char why[256];
    if (homing_config_check(full, value, why, sizeof why) < 0) {
        if (lc->err) snprintf(lc->err, lc->errcap, "%s: %s", lc->path, why);
        lc->failed = -EINVAL;
        return 0;
    }
    int i = option_index(full);
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
    if (!value || homing_config_check(name, value, NULL, 0) < 0) return -EINVAL;
    return set_value(c, i, value);
}

const char *homing_config_get(const struct homing_config *c, const char *name)
{
    int i = option_index(name);
    if (i < 0) return NULL;
    return c->resolved[i] ? c->resolved[i] : c->values[i];
}

const struct homing_settings *homing_config_settings(const struct homing_config *c)
{
    return &c->set;
}

const char *homing_config_base_dir(const struct homing_config *c)
{
    return c->base_dir;
}
