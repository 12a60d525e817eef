/*
 * homing/config.h: the INI configuration file (read with inih).
 *
 * Every option is declared once, with its type, default, range (or choices)
 * and a one-line help, in the table in lib/util/config.c; docs/configuration.md
 * documents each of them (a test checks that the two agree, defaults included).
 * Every value is checked against its type when it is read or set, so a bad
 * value is an error naming the option and what it accepts, at start, not when
 * some thread first reads it. A file naming an unknown option is an error
 * that names the nearest known one, so a typo never silently falls back to a
 * default. Command-line flags override the file through homing_config_set.
 * Relative paths in path-valued options are taken relative to the base
 * directory given to homing_config_new: the state directory (the programs pass
 * the configuration file's directory, or HOMING_STATEDIR for the system file
 * in HOMING_SYSCONFDIR; see src/cli/main.c).
 */
#ifndef HOMING_CONFIG_H
#define HOMING_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct homing_config;

enum homing_config_type {
    HOMING_OPT_TEXT, /* any text */
    HOMING_OPT_PATH, /* a path, resolved relative to the config file's directory */
    HOMING_OPT_INT,  /* a decimal integer in [min, max] */
    HOMING_OPT_BOOL, /* yes/no, true/false, on/off, 1/0 */
    HOMING_OPT_ENUM, /* one of choices ("a|b|c") */
};

/* Every option's value, typed, read once when the file is loaded or a flag
 * sets it (homing_config_settings): a member per option, named as the option
 * ("serve.threads" is settings->serve.threads). Text, path and choice options
 * are strings owned by the configuration (paths resolved); integers are in
 * their option's range; booleans are 0 or 1. */
struct homing_settings {
    struct {
        const char *url;
        const char *sync;
        const char *journal;
    } store;
    struct {
        const char *id;
    } node;
    struct {
        const char *file;
        const char *data;
    } keys;
    struct {
        const char *listen;
        const char *base_url;
        const char *trusted_proxies;
        long long max_connections;
        long long max_connections_per_client;
        const char *tls_cert;
        const char *tls_key;
        const char *domain_base_urls;
    } public;
    struct {
        const char *listen;
    } admin;
    struct {
        const char *format;
    } log;
    struct {
        const char *user;
        long long threads;
        long long batch_max;
        long long link_cache;
        long long flood_rate;
        long long flood_burst;
        long long flood_table;
    } serve;
    struct {
        long long max_size;
        long long max_depth;
        long long max_parts;
        int list_unsubscribe;
        const char *pixel_placement;
    } track;
    struct {
        const char *country_db;
        const char *asn_db;
    } geo;
    struct {
        int rdns;
        const char *uap_regexes;
        const char *ua_rules;
        const char *machines;
        const char *published;
        long long ua_cache;
    } enrich;
    struct {
        const char *trusted_hosts;
        const char *authserv_ids;
        const char *dkim_verifier;
        long long dns_budget_ms;
        const char *dnsbl_zones;
    } trace;
    struct {
        const char *smtp;
        const char *starttls;
        const char *verp;
        long long jobs;
        long long timeout;
    } send;
    struct {
        const char *keys_dir;
        const char *selector;
        const char *selectors;
    } dkim;
    struct {
        long long poll_ms;
        long long timeout_ms;
        long long retry_hours;
        long long retry_min_ms;
        long long retry_max_ms;
        int machine;
        int enrich;
    } notify;
    struct {
        int allow_private;
    } webhooks;
    struct {
        int truncate;
        long long truncate_v4;
        long long truncate_v6;
        long long retention_days;
    } privacy;
    struct {
        const char *dir;
    } docs;
    struct {
        const char *listen;
        const char *default_policy;
        const char *policy;
        long long hold_min;
        const char *on_error;
        long long max_message;
        const char *oversize;
        long long max_connections;
        const char *trackers;
        const char *authserv_id;
        const char *stats_file;
    } milter;
    struct {
        const char *listen;
        const char *mode;
        const char *smarthost;
        const char *smarthost_tls;
        const char *hostname;
        long long max_message_size;
        long long max_recipients;
        long long max_connections;
        long long timeout;
        const char *tls_cert;
        const char *tls_key;
        int require_tls;
        int loopback_plain_auth;
        int sender_login_match;
        const char *stats_file;
        const char *track;
        const char *track_senders;
    } relay;
};

/* Where an option's value lands in struct homing_settings, checked against
 * its type at compile time (_Generic has no match otherwise). Stored plus
 * one, so that 0 means "no member": unit/config fails on such an option. */
#define HOMING_SET_FIELD_(f, T)                                                                    \
    (offsetof(struct homing_settings, f) + 1 +                                                     \
     0 * sizeof(_Generic(((struct homing_settings *)0)->f, T : 1)))
#define HOMING_SET_TEXT(f) HOMING_SET_FIELD_(f, const char *)
#define HOMING_SET_INT(f)  HOMING_SET_FIELD_(f, long long)
#define HOMING_SET_BOOL(f) HOMING_SET_FIELD_(f, int)

struct homing_config_option {
    const char *name; /* "section.key" */
    const char *def;  /* default value as text, "" for none */
    enum homing_config_type type;
    long long min, max;  /* HOMING_OPT_INT */
    const char *choices; /* HOMING_OPT_ENUM: "a|b|c" */
    const char *help;
    size_t field; /* HOMING_SET_*(member) */
};

/* The table of every known option, terminated by a NULL name. */
extern const struct homing_config_option homing_config_options[];

/* Creates a configuration holding the defaults; base_dir anchors relative paths. */
int homing_config_new(const char *base_dir, struct homing_config **out);
void homing_config_free(struct homing_config *c);

/* Reads an INI file over the current values. On error, err (if not NULL) gets a
 * one-line description such as "homing.conf: unknown option public.lisen". */
int homing_config_load(struct homing_config *c, const char *path, char *err, size_t errcap);

/* Sets "section.key" = value (command-line overrides): -ENOENT if unknown,
 * -EINVAL (and the value left as it was) if value is not of the option's type. */
int homing_config_set(struct homing_config *c, const char *name, const char *value);
/* Whether value suits option name: 0, or -ENOENT / -EINVAL with a one-line
 * reason in err (if not NULL) naming the option and what it accepts, e.g.
 * "serve.threads = 0: an integer from 1 to 64". */
int homing_config_check(const char *name, const char *value, char *err, size_t errcap);
/* The known option nearest to name (for "did you mean"), or NULL if none is
 * close. */
const char *homing_config_nearest(const char *name);

/* The typed values, valid as long as c (a later set or load updates them). */
const struct homing_settings *homing_config_settings(const struct homing_config *c);

/* The value of "section.key" as text, for code that names options at run
 * time (`homing config`); modules read homing_config_settings. Never NULL for a known option ("" if
 * empty); NULL for an unknown name. Path options come back resolved. */
const char *homing_config_get(const struct homing_config *c, const char *name);

/* The base directory relative paths are resolved against (where `homing init`
 * puts the store). */
const char *homing_config_base_dir(const struct homing_config *c);

/* The tracking base URL per sending domain (lib/util/domain_urls.c): the map
 * is public.domain_base_urls, entries "DOMAIN=URL" separated by white space or
 * commas ([domain NAME] sections with public_base_url = URL add to it). */
#define HOMING_DOMAIN_URLS_MAX 10000 /* domains in the map */
#define HOMING_DOMAIN_NAME_MAX 253   /* bytes of a domain name */
#define HOMING_DOMAIN_URL_MAX  1024  /* bytes of its URL (HOMING_TRACK_URL_MAX) */
/* The next entry of map from *p on: its domain and URL (NUL-terminated) into
 * dom and url, *p moved past it; 1, 0 at the end, -EINVAL for a malformed
 * entry, -ENAMETOOLONG when dom or url is too small. Start with *p = map. */
int homing_domain_urls_next(const char **p, char *dom, size_t dcap, char *url, size_t ucap);
/* Whether map is well formed: 0, or -EINVAL / -E2BIG with a reason in err. */
int homing_domain_urls_check(const char *map, char *err, size_t errcap);
/* The base URL for mail from sender (an address; the part after its last '@'
 * is its domain, compared without case, exactly) into out: the map's URL for
 * that domain (returns 1), else fallback (returns 0). -EINVAL for a malformed
 * map or no fallback when one is needed, -ENAMETOOLONG when out is too small. */
int homing_domain_base_url(const char *map, const char *sender, const char *fallback, char *out,
                           size_t cap);

/* The directory of homing's read-only data files (trackers.tsv, useragents.tsv,
 * machines.tsv) into out: the installed HOMING_DATADIR, except for a program
 * run from inside the build tree it was compiled in (the tests, `make run`),
 * which reads the source tree's data/ so an uninstalled build needs nothing
 * installed. -ENAMETOOLONG if out is too small. */
int homing_data_dir(char *out, size_t cap);

/* homing_data_dir() "/" name into out. */
int homing_data_path(const char *name, char *out, size_t cap);

#endif
