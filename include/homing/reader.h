/*
 * homing/reader.h: who opened it. Enrichment of a committed open or click event:
 * the client (User-Agent parse), the network (country, autonomous system), a
 * verdict (human, proxy-open, prefetch, scanner, probe, unknown) with reasons and a
 * confidence, and the reader fingerprint used for forward detection.
 *
 * Layers, each usable alone:
 *   homing_ua_*       User-Agent parser: homing's own rules (data/useragents.tsv)
 *                     first, then the uap-core regexes; PCRE2 with JIT; LRU cache.
 *   homing_asn_*      autonomous system lookup in the compact range file that
 *                     homing_asn_build converts from the ip-location-db CSV.
 *   homing_geo_*      country from any MaxMind-format .mmdb (libmaxminddb).
 *   homing_machines_* the knowledge file data/machines.tsv: networks and names of
 *                     provider proxies, prefetchers and security scanners.
 *   homing_verdict_*  the verdict rules: a pure function of the facts above and of
 *                     the message's other events, versioned so stored verdicts can
 *                     be recomputed when the rules change (homing reclassify).
 *   homing_fingerprint_* reader ids.
 *   homing_reader_*   all of it behind one call for the daemon's enrichment thread.
 *
 * Contract: functions return 0 (or a count) on success and a negative errno on
 * failure, writing outputs only on success; nothing logs or exits. Untrusted text
 * (User-Agent, Accept-Language, data files) is bounded by the named limits below.
 *
 * Threads: an opened database (asn, geo, machines) is read-only after opening and
 * may be shared between threads. A homing_ua_parser and a homing_reader are NOT
 * thread-safe (the cache and the PCRE2 match data are mutated by every parse):
 * use one per thread; the daemon runs them on its single enrichment thread.
 */
#ifndef HOMING_READER_H
#define HOMING_READER_H

#include <stddef.h>
#include <stdint.h>

#include "homing/event.h"
#include "homing/util.h"

struct homing_config;

/* ---- User-Agent ---------------------------------------------------------- */

#define HOMING_UA_MAX           512  /* bytes of User-Agent looked at (= the event's) */
#define HOMING_UA_CACHE_DEFAULT 4096 /* parse results kept (LRU) */
#define HOMING_UA_CACHE_MAX     1048576
#define HOMING_UA_FIELD_MAX     48   /* family, os, device name incl. NUL */
#define HOMING_UA_VERSION_MAX   16   /* one version component incl. NUL */
#define HOMING_UA_REGEX_MAX     4096 /* bytes of one regex in a rules file */
#define HOMING_UA_RULES_MAX     8192 /* rules read from one file */

enum homing_device_type {
    HOMING_DEVICE_UNKNOWN = 0,
    HOMING_DEVICE_DESKTOP = 1,
    HOMING_DEVICE_MOBILE = 2,
    HOMING_DEVICE_TABLET = 3,
    HOMING_DEVICE_PROXY = 4, /* a mail provider fetching for its user */
    HOMING_DEVICE_BOT = 5,   /* crawlers, scanners, scripted clients */
};

/* What a homing rule says about the client; uap-core matches give BROWSER,
 * or BOT for its "Spider" device. */
enum homing_ua_class {
    HOMING_UA_CLASS_NONE = 0,     /* nothing known */
    HOMING_UA_CLASS_BROWSER = 1,  /* a browser (a person, or a scanner posing as one) */
    HOMING_UA_CLASS_MAIL = 2,     /* a mail client rendering the message */
    HOMING_UA_CLASS_PROXY = 3,    /* provider image proxy: fetches when the user opens */
    HOMING_UA_CLASS_PREFETCH = 4, /* fetches without a person (Apple MPP) */
    HOMING_UA_CLASS_SCANNER = 5,  /* security link scanner */
    HOMING_UA_CLASS_TOOL = 6,     /* scripted HTTP client: curl, wget, libraries */
    HOMING_UA_CLASS_BOT = 7,      /* crawler */
};

struct homing_ua {
    char family[HOMING_UA_FIELD_MAX]; /* "Thunderbird", "Gmail Image Proxy", "Other" */
    char major[HOMING_UA_VERSION_MAX];
    char minor[HOMING_UA_VERSION_MAX];
    char patch[HOMING_UA_VERSION_MAX];
    char os[HOMING_UA_FIELD_MAX]; /* "Windows", "Mac OS X", "iOS", "Other" */
    char os_major[HOMING_UA_VERSION_MAX];
    char device[HOMING_UA_FIELD_MAX]; /* uap-core device family: "iPhone", "Spider" */
    uint8_t type;                     /* enum homing_device_type */
    uint8_t ua_class;                 /* enum homing_ua_class */
    uint8_t from_rules;               /* 1: a homing rule named the family */
    uint8_t no_browser; /* 1: class NONE and no browser engine, "Mozilla/" or platform token */
    uint8_t app;        /* 1: class BROWSER from an app's own User-Agent (a person's device
                           named, no engine): reason ua-app */
    uint8_t view_only;  /* 1: class PROXY that its operator documents fetches only when its
                           user views the message (useragents.tsv class "proxy-view") */
};

struct homing_ua_parser;

/* Compiles the uap-core regexes.yaml (NULL: HOMING_UAP_REGEXES_DEFAULT) and
 * homing's rules file (NULL: the useragents.tsv of the data directory; "" for
 * none). cache_size 0 means HOMING_UA_CACHE_DEFAULT. -ENOENT for a missing file,
 * -EINVAL for a malformed one (a regex that does not compile). */
#define HOMING_UAP_REGEXES_DEFAULT "/usr/share/uap-core/regexes.yaml"
int homing_ua_parser_new(const char *uap_yaml, const char *rules_tsv, size_t cache_size,
                         struct homing_ua_parser **out);
void homing_ua_parser_free(struct homing_ua_parser *p);
/* A published list of automation User-Agent patterns (the JSON array of
 * monperrus/crawler-user-agents: [{"pattern": "Googlebot\\/", ...}, ...]):
 * a User-Agent that uap-core calls a browser, or does not know, and that one
 * of the patterns matches, is a bot. homing's own rules still come first, so
 * mail clients and provider proxies keep their class. Replaces any list
 * loaded before; call before the first parse. */
#define HOMING_UA_BOTS_MAX   8192 /* patterns in a list */
#define HOMING_UA_BOTS_CHUNK 64   /* patterns compiled into one alternation */
int homing_ua_parser_load_bots(struct homing_ua_parser *p, const char *path);
/* The patterns of such a list, each checked to compile, sorted and without
 * duplicates (homing update-data diffs them); free with homing_strv_free.
 * A pattern that is only an Android build ID (AP3A.240617.008) is left out:
 * it names a firmware build every browser and app of those phones sends
 * (Android's "Codenames, tags, and build numbers"), not an agent. */
int homing_ua_bots_read(const char *path, char ***out, size_t *n);
void homing_strv_free(char **v, size_t n);

/* Parses ua (n bytes, cut at HOMING_UA_MAX; NUL bytes end it). Never fails on
 * odd input: an unknown client is family "Other". */
int homing_ua_parse(struct homing_ua_parser *p, const char *ua, size_t n, struct homing_ua *out);

struct homing_ua_stats {
    size_t ua_regexes, os_regexes, device_regexes, rules; /* compiled */
    size_t jit;                                           /* of them, JIT-compiled */
    uint64_t lookups, hits;                               /* cache */
    size_t cached;
};
void homing_ua_parser_stats(const struct homing_ua_parser *p, struct homing_ua_stats *out);

const char *homing_device_type_name(unsigned type);
const char *homing_ua_class_name(unsigned c);

/* ---- Autonomous systems ------------------------------------------------- */

#define HOMING_ASN_ORG_MAX    128     /* organisation name bytes kept, NUL included */
#define HOMING_ASN_LINE_MAX   1024    /* CSV line */
#define HOMING_ASN_RANGES_MAX 8000000 /* ranges in one file */

/* Converts ip-location-db ASN CSV files (start,end,asn,"org"; IPv4 or IPv6
 * addresses, one range per line) into the compact file at out_path (written to a
 * temporary name and renamed). The format is in docs/internals/reader.md. Returns
 * the number of ranges written. err (optional) gets "file:line: problem". */
int homing_asn_build(const char *const *csv_paths, size_t n, const char *out_path, char *err,
                     size_t errcap);

struct homing_asn_db;
/* Maps a file made by homing_asn_build and checks it: -EINVAL if malformed. */
int homing_asn_open(const char *path, struct homing_asn_db **out);
void homing_asn_close(struct homing_asn_db *db);
/* -ENOENT when no range holds a. org points into the mapped file (valid until
 * close); either output may be NULL. */
int homing_asn_lookup(const struct homing_asn_db *db, const struct homing_addr *a, uint32_t *asn,
                      const char **org);
size_t homing_asn_count(const struct homing_asn_db *db);

/* ---- Country ------------------------------------------------------------- */

struct homing_geo_db;
int homing_geo_open(const char *mmdb_path, struct homing_geo_db **out);
void homing_geo_close(struct homing_geo_db *db);
/* ISO 3166 alpha-2 code in cc[3]; -ENOENT if the database has none. Reads
 * country_code (ip-location-db) or country.iso_code (MaxMind layout). */
int homing_geo_country(const struct homing_geo_db *db, const struct homing_addr *a, char cc[3]);

/* ---- Machine knowledge ------------------------------------------------- */

#define HOMING_MACHINES_LINE_MAX 1024
#define HOMING_MACHINES_FILE_MAX (4u << 20) /* bytes of a machine knowledge file */
#define HOMING_MACHINES_MAX      4096
#define HOMING_MACHINE_NAME_MAX  48

/* What a known machine does with a message (data/machines.tsv, column "class"). */
enum homing_machine_class {
    HOMING_MACHINE_NONE = 0,
    HOMING_MACHINE_PROXY = 1,    /* image proxy of a provider: opens are real */
    HOMING_MACHINE_PREFETCH = 2, /* fetches without a person */
    HOMING_MACHINE_SCANNER = 3,  /* security link scanner */
    HOMING_MACHINE_CLOUD = 4,    /* hosting network: humans rarely browse from it */
    HOMING_MACHINE_GATEWAY = 5,  /* corporate web gateway: people browse through it,
                                    and it also fetches links to scan them */
    HOMING_MACHINE_RELAY = 6,    /* iCloud Private Relay egress: Apple MPP prefetches
                                    and Safari users with Private Relay share it */
    HOMING_MACHINE_CRAWLER = 7,  /* a search engine's published crawler ranges */
};

struct homing_machine {
    uint8_t mclass; /* enum homing_machine_class */
    char name[HOMING_MACHINE_NAME_MAX];
};

struct homing_machines;
/* NULL path: machines.tsv of the data directory. */
int homing_machines_load(const char *path, struct homing_machines **out, char *err, size_t errcap);
void homing_machines_free(struct homing_machines *m);
/* The most specific entry for the address (prefix entries first, longest prefix
 * wins) or, failing that, for the ASN (0: unknown). -ENOENT when none. */
int homing_machines_match(const struct homing_machines *m, const struct homing_addr *a,
                          uint32_t asn, struct homing_machine *out);
size_t homing_machines_count(const struct homing_machines *m);

/* ---- Published range lists (data/published/) ----
 * lists.tsv in the directory names each list: "file  class  name  source";
 * a file is either a provider's JSON ({"prefixes": [{"ipv4Prefix": ...}]},
 * Google's and Bing's format; or Microsoft 365's array of endpoint sets, of
 * which Exchange Online Protection's "ips" are taken), known by its content or
 * a .json name, or text with one address or prefix per line (the first
 * comma-separated field: Apple's egress-ip-ranges.csv), '#' comments.
 * Their prefixes join the machine knowledge as cidr entries; lookups are a
 * binary search per prefix length, so the lists' size costs log(n). */
#define HOMING_PUBLISHED_FILE_MAX   (16u << 20) /* bytes of one list file */
#define HOMING_PUBLISHED_RANGES_MAX 1000000     /* prefixes of one list */
#define HOMING_PUBLISHED_LISTS_MAX  64          /* lists in lists.tsv */
/* Adds the lists of dir (NULL: data/published) to m. A missing lists.tsv adds
 * nothing; a list it names that is missing or malformed fails. */
int homing_machines_load_published(struct homing_machines *m, const char *dir, char *err,
                                   size_t errcap);
/* The prefixes of one list file, normalised, sorted and without duplicates. */
int homing_published_read(const char *path, struct homing_cidr **out, size_t *n);
/* Lists of User-Agent patterns are named in lists.tsv with the class ua-bot;
 * the prefix loader skips them. The path of the first, in out; -ENOENT when
 * lists.tsv names none (or is missing). */
int homing_published_ua_bots(const char *dir, char *out, size_t cap);
/* The entry of kind rdns whose domain is host or a parent of it ("google.com"
 * matches "google-proxy-66-249-93-10.google.com"), the longest first. host
 * must come from homing_rdns_lookup (confirmed): a PTR alone is whatever the
 * address's owner wants it to say. -ENOENT when none. */
int homing_machines_match_host(const struct homing_machines *m, const char *host,
                               struct homing_machine *out);

/* Reverse DNS of a, confirmed by a forward lookup of the name that must give a
 * back (otherwise anyone could name their address "x.google.com"). Blocking:
 * uses the system resolver. -ENOENT when there is no confirmed name. */
#define HOMING_RDNS_MAX 256
int homing_rdns_lookup(const struct homing_addr *a, char *host, size_t cap);

/* ---- Verdicts ------------------------------------------------------------ */

/* Bump when a rule changes what it decides: stored verdicts with a smaller
 * version are recomputed by homing reclassify. */
#define HOMING_VERDICT_RULES_VERSION 13

enum homing_verdict {
    HOMING_VERDICT_UNKNOWN = 0,
    HOMING_VERDICT_HUMAN = 1,
    HOMING_VERDICT_PROXY_OPEN = 2,
    HOMING_VERDICT_PREFETCH = 3,
    HOMING_VERDICT_SCANNER = 4,
    HOMING_VERDICT_PROBE = 5,
    HOMING_VERDICT_COUNT = 6,
};

/* Reasons, a bit each; homing_verdict_reason_name gives their stable names. */
enum homing_verdict_reason {
    HOMING_REASON_METHOD_HEAD = 1u << 0,          /* HEAD or another non-GET method */
    HOMING_REASON_UA_MAIL = 1u << 1,              /* a mail client's User-Agent */
    HOMING_REASON_UA_BROWSER = 1u << 2,           /* a browser's User-Agent */
    HOMING_REASON_UA_PROXY = 1u << 3,             /* a provider image proxy's User-Agent */
    HOMING_REASON_UA_PREFETCH = 1u << 4,          /* a prefetcher's User-Agent */
    HOMING_REASON_UA_SCANNER = 1u << 5,           /* a security scanner's User-Agent */
    HOMING_REASON_UA_TOOL = 1u << 6,              /* curl, wget, a library */
    HOMING_REASON_UA_BOT = 1u << 7,               /* crawler */
    HOMING_REASON_UA_EMPTY = 1u << 8,             /* no User-Agent at all */
    HOMING_REASON_UA_BARE = 1u << 9,              /* "Mozilla/5.0" and nothing else */
    HOMING_REASON_NET_PROXY = 1u << 10,           /* network of a provider proxy */
    HOMING_REASON_NET_PREFETCH = 1u << 11,        /* network of a prefetcher (Apple) */
    HOMING_REASON_NET_SCANNER = 1u << 12,         /* network of a security scanner */
    HOMING_REASON_NET_CLOUD = 1u << 13,           /* hosting network */
    HOMING_REASON_SOON_AFTER_DELIVERY = 1u << 14, /* within the prefetch window */
    HOMING_REASON_BURST = 1u << 15,               /* several links within a second */
    HOMING_REASON_CLICK_WITHOUT_OPEN = 1u << 16,  /* no open of the recipient before */
    HOMING_REASON_REPEAT = 1u << 17,              /* same client hitting in a loop */
    HOMING_REASON_VIA_PROXY = 1u << 18,           /* a Via header naming a proxy */
    HOMING_REASON_NET_RDNS = 1u << 19,            /* the network fact came from reverse DNS */
    HOMING_REASON_NET_GATEWAY = 1u << 20,         /* a corporate web gateway (Zscaler...) */
    HOMING_REASON_NET_RELAY = 1u << 21,           /* iCloud Private Relay egress (published) */
    HOMING_REASON_NET_CRAWLER = 1u << 22,         /* a search engine's crawler (published) */
    HOMING_REASON_UA_UNKNOWN = 1u << 23,          /* a User-Agent naming no client known */
    HOMING_REASON_UA_NO_BROWSER = 1u << 24,       /* no browser engine nor platform token */
    HOMING_REASON_UA_APP = 1u << 25,              /* an app's own User-Agent on a person's device */
    HOMING_REASON_NO_LANGUAGE = 1u << 26, /* a browser's User-Agent without Accept-Language */
    HOMING_REASON_HANDOFF = 1u << 27,     /* a click without Accept-Language, then the same
                                           * link from another address with one */
    HOMING_REASON_COUNT = 28,
};

/* The facts a verdict is computed from. ua and machine may be NULL (unknown). */
struct homing_verdict_input {
    const struct homing_event *event;
    const struct homing_ua *ua;
    const struct homing_machine *machine; /* from homing_machines_match */
    int machine_by_rdns;                  /* machine was matched on the reverse DNS name */
    /* Context: 0 when unknown. */
    int64_t registered_us; /* message registered (homing track) */
    int64_t delivered_us;  /* delivered (DSN) or sent: the start of the prefetch window */
    /* Other events of the same message (any recipient, any order; the event
     * itself may be among them and is skipped by id). Only opens and clicks
     * matter. Later events are used too, so a reclassification sees a burst
     * that the first click of it could not. */
    const struct homing_event *others;
    size_t n_others;
    /* NULL, or homing_verdict_index_new(others, n_others): the same verdict,
     * in a few index seeks rather than a pass over every other event. */
    const struct homing_verdict_index *index;
};

/* The other events of a message sorted for the verdict's questions (an
 * earlier open, a click on another link nearby, the same client and
 * User-Agent nearby), for a caller that computes many verdicts against the
 * same others (the daemon's enrichment thread: up to 2,000 per message).
 * Refers to others, which must stay as they are while it is used. */
struct homing_verdict_index;
int homing_verdict_index_new(const struct homing_event *others, size_t n,
                             struct homing_verdict_index **out);
void homing_verdict_index_free(struct homing_verdict_index *ix);

/* Windows of the time rules (seconds), documented in docs/verdicts.md. */
#define HOMING_VERDICT_PREFETCH_WINDOW_S 120     /* proxy fetch this soon: prefetch */
#define HOMING_VERDICT_SCAN_WINDOW_S     300     /* a click this soon without an open */
#define HOMING_VERDICT_BURST_US          1000000 /* clicks of distinct links within */
#define HOMING_VERDICT_REPEAT_MIN                                                                  \
    5 /* hits of one client and UA (any recipient of the message) in ... */
#define HOMING_VERDICT_REPEAT_US 10000000 /* ... this long: a loop */
/* A time-of-click check, then the person it lets through: the same link of the
 * same recipient from another address within this long (rules version 12).
 * homing's bound, not a vendor's figure: the gateways hold the user only while
 * they analyse the link (Vade Cloud's Time-of-Click "Time out" setting), and
 * the person's redirected click follows within seconds (part H's Mimecast and
 * Proofpoint lines, part M's). */
#define HOMING_VERDICT_HANDOFF_US 30000000

struct homing_verdict_result {
    uint8_t verdict;    /* enum homing_verdict */
    uint8_t confidence; /* 0..100 */
    uint16_t rules_version;
    uint32_t reasons; /* enum homing_verdict_reason bits */
};

int homing_verdict_compute(const struct homing_verdict_input *in,
                           struct homing_verdict_result *out);
const char *homing_verdict_name(unsigned v);
/* For reports, which show human, machine and unknown side by side: 1 for the
 * verdicts that are a person reading (human, proxy-open), 0 for machines
 * (prefetch, scanner, probe), -1 for unknown. */
int homing_verdict_is_read(unsigned v);
/* The verdict named s ("proxy-open"), or -EINVAL. */
int homing_verdict_parse(const char *s);
const char *homing_verdict_reason_name(uint32_t bit);
/* "ua-proxy,net-proxy,soon-after-delivery": the names of the set bits, comma
 * separated. Returns the length, -ENOSPC if cap is too small. */
int homing_verdict_reasons_format(uint32_t reasons, char *out, size_t cap);

/* ---- Reader fingerprints ------------------------------------------------ */

#define HOMING_FINGERPRINT_V4_BITS  24
#define HOMING_FINGERPRINT_V6_BITS  48
#define HOMING_FINGERPRINT_LANG_MAX 32 /* Accept-Language bytes fingerprinted */
#define HOMING_FINGERPRINT_STR_MAX  17 /* 16 hex digits and a NUL */

/* The reader of a hit: a hash of (client network /24 or /48, client family and
 * major version, primary Accept-Language tags). Stable across runs and nodes
 * (no secret: it identifies a reader within a message, it is not a capability).
 * -EPERM for a hit that is not a person's (any verdict but human or unknown, or
 * a proxy client), since a proxy's address says nothing about the reader;
 * -EINVAL if the client address does not parse. Never 0. */
int homing_fingerprint_compute(const struct homing_event *ev, const struct homing_ua *ua,
                               const struct homing_verdict_result *v, uint64_t *out);
void homing_fingerprint_format(uint64_t fp, char out[HOMING_FINGERPRINT_STR_MAX]);
/* 1 when fp is none of known[0..n): a new reader of a message that already has
 * readers is a possible forward; 0 when known. */
int homing_fingerprint_is_new(uint64_t fp, const uint64_t *known, size_t n);

/* ---- Everything at once -------------------------------------------------- */

struct homing_reader_options {
    const char *uap_regexes; /* NULL: default */
    const char *ua_rules;    /* NULL: data dir; "": none */
    const char *machines;    /* NULL: data dir */
    const char *published;   /* NULL: data/published; "": no published range lists */
    const char *asn_db;      /* NULL or "": no ASN lookups */
    const char *country_db;  /* NULL or "": no country lookups */
    size_t ua_cache;         /* 0: default */
    int rdns;                /* 1: reverse DNS lookups (blocking) */
};

struct homing_enrichment {
    struct homing_ua ua;
    uint32_t asn; /* 0: unknown */
    char org[HOMING_ASN_ORG_MAX];
    char country[3];            /* "" unknown */
    char host[HOMING_RDNS_MAX]; /* confirmed reverse DNS name, "" if none or off */
    struct homing_machine machine;
    struct homing_verdict_result verdict;
    uint64_t fingerprint; /* 0: none (machine hit or no address) */
};

struct homing_reader;
int homing_reader_new(const struct homing_reader_options *o, struct homing_reader **out);
/* From geo.country_db, geo.asn_db and the enrich.* options: a
 * configured database that is missing is an error (-ENOENT), an empty option
 * turns its lookups off. */
int homing_reader_from_config(const struct homing_config *c, struct homing_reader **out);
/* The reader every front end uses (daemon threads, reclassify): as
 * homing_reader_from_config, but when a configured geo database cannot be
 * opened it falls back to a reader without geo (User-Agent and machine
 * knowledge still decide most verdicts) and says so in *geo_err (the negative
 * errno of the geo failure; 0 when geo loaded). Fails only when even that
 * reader cannot be made, or an option is invalid. */
int homing_reader_open(const struct homing_config *c, struct homing_reader **out, int *geo_err);
void homing_reader_free(struct homing_reader *r);
/* Enriches one open or click: in->event must be set, in->ua and in->machine are
 * filled in by the reader (what the caller put there is ignored). */
int homing_reader_enrich(struct homing_reader *r, const struct homing_verdict_input *in,
                         struct homing_enrichment *out);

/* The enrichment as a JSON object (jansson json_t *, as void * like
 * homing_event_json), for an event's detail and the API:
 *   {"verdict": "scanner", "confidence": 90, "reasons": ["net-scanner", ...],
 *    "rules_version": 1,
 *    "client": {"family", "version", "os", "device", "type", "class"},
 *    "network": {"asn", "org", "country", "host", "machine", "machine_class"},
 *    "reader": "16 hex digits" or null}
 * Empty facts are left out. NULL on allocation failure; the caller owns it. */
void *homing_enrichment_json(const struct homing_enrichment *x);
const char *homing_machine_class_name(unsigned c);

#endif
