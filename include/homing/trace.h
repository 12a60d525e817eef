/*
 * homing/trace.h: header forensics for `homing trace`: the Received chain as
 * hops, the trusted boundary, Authentication-Results (RFC 8601), SPF, DKIM and
 * DMARC re-verified now, spoofing indicators and the sending service.
 *
 * Contract: every parser here reads untrusted header text under named limits
 * and returns -EBADMSG (malformed) or -E2BIG (over a limit) rather than
 * crashing; functions return 0 on success and a negative errno on failure, and
 * write their outputs only on success. Nothing here logs. DNS is reached only
 * through struct homing_resolver, so tests answer every query from a file.
 */
#ifndef HOMING_TRACE_H
#define HOMING_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Limits on untrusted input, shared by every parser of this module. */
#define HOMING_TRACE_MESSAGE_MAX   (64u * 1024 * 1024) /* whole message read */
#define HOMING_TRACE_HEADER_MAX    (64u * 1024)        /* one unfolded field */
#define HOMING_TRACE_FIELDS_MAX    2000                /* header fields looked at */
#define HOMING_TRACE_RECEIVED_MAX  128                 /* Received fields made hops */
#define HOMING_TRACE_AUTHRES_MAX   64                  /* Authentication-Results fields */
#define HOMING_TRACE_DKIM_SIGS_MAX 16                  /* DKIM-Signature fields verified */
#define HOMING_TRACE_TOKEN_MAX     512                 /* one word, domain or address */
#define HOMING_TRACE_TRUSTED_MAX   64                  /* --trusted-host / --authserv-id */

/* ---- Dates (RFC 5322 section 3.3, with the obsolete forms of 4.3) ---- */

/* Parses a date-time such as "Tue, 1 Jul 2003 10:52:37 +0200", also with
 * two- or three-digit years, named zones (UT, GMT, EST..PDT, military letters),
 * comments and missing seconds or weekday. *t gets seconds since the epoch in
 * UTC, *tz_min the zone offset in minutes east of UTC. -EBADMSG if malformed.
 * A weekday must be a weekday name but is not checked against the date: MTAs
 * get it wrong, and the numbers are what the hop arithmetic needs. */
int homing_date_parse(const char *s, size_t n, int64_t *t, int *tz_min);

/* ---- One Received field (RFC 5321 section 4.4, and common MTA forms) ---- */

struct homing_received {
    char *from_helo;   /* name the client gave in HELO/EHLO (sender-controlled) */
    char *from_rdns;   /* reverse DNS name the receiver recorded, if any */
    char *from_ip;     /* client address the receiver recorded, canonical text */
    char *by_host;     /* receiving host */
    char *via;         /* link, rarely used */
    char *protocol;    /* the "with" word: SMTP, ESMTP, ESMTPS, ESMTPSA, LMTP, HTTP... */
    char *id;          /* queue id */
    char *for_addr;    /* envelope recipient when stated */
    int tls;           /* 1 if TLS was stated (ESMTPS/..., or a TLS comment) */
    char *tls_version; /* "TLSv1.3" when stated */
    char *tls_cipher;  /* "TLS_AES_256_GCM_SHA384" when stated */
    int has_date;
    int64_t date; /* seconds since the epoch, UTC */
    int tz_min;   /* zone of the date as written */
};

/* Parses the value of one Received field (after "Received:"; folding allowed).
 * Fields that are absent stay NULL; -EBADMSG only if nothing useful at all
 * could be read. */
int homing_received_parse(const char *s, size_t n, struct homing_received **out);
void homing_received_free(struct homing_received *r);

/* ---- Authentication-Results (RFC 8601) ---- */

#define HOMING_AUTHRES_RESULTS_MAX 32 /* resinfo entries in one field */
#define HOMING_AUTHRES_PROPS_MAX   16 /* properties in one resinfo */

struct homing_authres_prop {
    char *ptype; /* smtp, header, body, policy */
    char *name;  /* mailfrom, d, i, b, from ... */
    char *value;
};

/* props and results are arrays grown as the field is read (a fixed table of
 * the limits was 13 KiB per field, allocated for every field); the _cap
 * members are their room, for the parser. */
struct homing_authres_result {
    char *method; /* spf, dkim, dmarc, arc, auth, iprev ... (lower case) */
    char *result; /* pass, fail, softfail, none, neutral, temperror ... (lower case) */
    char *reason;
    size_t n_props, props_cap;
    struct homing_authres_prop *props; /* at most HOMING_AUTHRES_PROPS_MAX */
};

struct homing_authres {
    char *authserv_id; /* who wrote the field: trust it only if it is yours */
    int version;       /* 1 if absent */
    int none;          /* the explicit "none" (no results) */
    size_t n_results, results_cap;
    struct homing_authres_result *results; /* at most HOMING_AUTHRES_RESULTS_MAX */
};

/* Parses the value of one Authentication-Results field. */
int homing_authres_parse(const char *s, size_t n, struct homing_authres **out);
void homing_authres_free(struct homing_authres *a);
/* The value of property ptype.name of r, or NULL. */
const char *homing_authres_prop(const struct homing_authres_result *r, const char *ptype,
                                const char *name);

/* ---- DNS through an interface, so tests never reach the internet ---- */

enum homing_rr {
    HOMING_RR_A = 1,
    HOMING_RR_PTR = 12,
    HOMING_RR_MX = 15,
    HOMING_RR_TXT = 16,
    HOMING_RR_AAAA = 28,
};

#define HOMING_DNS_ANSWERS_MAX 64 /* records kept from one answer */
#define HOMING_DNS_RDATA_MAX   4096

/* One answer in text form: A/AAAA as addresses, MX as "pref host", PTR as a
 * host name, TXT with its character-strings concatenated (RFC 7208 3.3). */
struct homing_dns_answer {
    size_t n;
    char *rr[HOMING_DNS_ANSWERS_MAX];
};
void homing_dns_answer_clear(struct homing_dns_answer *a);

struct homing_resolver {
    void *ctx;
    /* Looks name up: 0 and *out filled (n may be 0: no data), -ENOENT if the
     * name does not exist, -EAGAIN on a temporary failure, other negative
     * errno on errors. */
    int (*lookup)(void *ctx, const char *name, enum homing_rr type, struct homing_dns_answer *out);
    void (*destroy)(void *ctx);
    /* Optional: the same, giving up with -EAGAIN at deadline_ms (CLOCK_MONOTONIC,
     * milliseconds) whatever the resolver's own timeouts. A resolver without it
     * is asked through lookup and is not interrupted (the zone file answers at
     * once). Must be safe to call from several threads at once. */
    int (*lookup_until)(void *ctx, const char *name, enum homing_rr type, int64_t deadline_ms,
                        struct homing_dns_answer *out);
};

/* The system resolver (libresolv, /etc/resolv.conf): the default for real use. */
int homing_resolver_system_new(struct homing_resolver **out);
/* A resolver answering from a text file of "name TYPE data" lines (TYPE one of
 * A AAAA MX TXT PTR; TXT data may be quoted strings; "#" starts a comment); a
 * name with no line is NXDOMAIN. For tests and offline replays. */
int homing_resolver_zone_new(const char *path, struct homing_resolver **out);
void homing_resolver_free(struct homing_resolver *r);

/* ---- The whole analysis ---- */

/* Which DKIM verifier re-verifies signatures. Both fill the same JSON (d, s,
 * algorithm, result, error); docs/internals/trace.md lists where they differ.
 * OpenDKIM spends about 158 us decoding each RSA key on OpenSSL 3.0
 * (docs/benchmarks.md, Trace), hence not the default. */
enum homing_dkim_verifier {
    HOMING_DKIM_OWN = 0,  /* homing's own on libcrypto (auth_dkim.c), the default */
    HOMING_DKIM_OPENDKIM, /* libopendkim (auth_dkim_opendkim.c) */
};

/* Parses "homing" or "opendkim" (the names of --dkim-verifier and
 * trace.dkim_verifier; an empty string is the default). -EINVAL otherwise. */
int homing_dkim_verifier_parse(const char *s, enum homing_dkim_verifier *out);

struct homing_trace_options {
    const char *const *trusted_hosts; /* host names (".example.org" = any below) */
    size_t n_trusted_hosts;
    const char *const *authserv_ids; /* authserv-ids whose results are believed */
    size_t n_authserv_ids;
    int offline;                      /* skip SPF/DKIM/DMARC re-verification */
    struct homing_resolver *resolver; /* needed unless offline */
    int64_t date_skew_max;            /* seconds Date may differ from the first hop */
    int dkim_verifier;                /* enum homing_dkim_verifier; 0 = our own */
    /* All DNS of one message must be answered within this many milliseconds
     * (0: HOMING_TRACE_DNS_BUDGET_DEFAULT_MS); a lookup past it is a temporary
     * failure (temperror), so an unreachable resolver costs the budget, not
     * its timeout per query. */
    int dns_budget_ms;
    /* DNS blocklist zones asked about the boundary's connecting address
     * (RFC 5782); none: no lookups. */
    const char *const *dnsbl_zones;
    size_t n_dnsbl_zones; /* at most HOMING_TRACE_DNSBL_ZONES_MAX */
};

#define HOMING_TRACE_DNSBL_ZONES_MAX 16

#define HOMING_TRACE_DNS_BUDGET_DEFAULT_MS 3000
#define HOMING_TRACE_DNS_BUDGET_MAX_MS     600000

/* Analyses one message (headers and body as read from the file). On success
 * *out is a JSON object owned by the caller (json_decref); its layout is the
 * documented output of `homing trace --json` (docs/internals/trace.md).
 * -EBADMSG if the input has no header section at all. */
int homing_trace_run(const char *msg, size_t len, const struct homing_trace_options *o,
                     json_t **out);

/* ---- Indicators of compromise (`homing trace --iocs`) ---- */

#define HOMING_IOCS_MAX        4096                        /* indicators kept per message */
#define HOMING_IOCS_DEPTH_MAX  32                          /* multipart / message nesting walked */
#define HOMING_IOCS_PARTS_MAX  1000                        /* MIME parts walked (and attachments) */
#define HOMING_IOCS_TEXT_MAX   (16u * 1024 * 1024)         /* bytes of header and text searched */
#define HOMING_IOCS_ITEM_MAX   2048                        /* bytes of one indicator (a URL) */
#define HOMING_IOCS_DEFANG_MAX (HOMING_IOCS_ITEM_MAX + 16) /* one defanged indicator */

/* The URLs, domains, IP addresses and e-mail addresses in the message's
 * header fields and text parts, and its attachments: *out is {urls[],
 * domains[], ips[], emails[], attachments[] {name, content_type, size,
 * sha256}, over_limit}, each list in first-seen order without repeats.
 * -EBADMSG if GMime cannot read it, -ELOOP for address nesting past
 * MIME_ADDR_DEPTH_MAX, -E2BIG past HOMING_TRACE_MESSAGE_MAX. */
int homing_trace_iocs(const char *msg, size_t len, json_t **out);
/* s defanged ("hxxp://", "example[.]com", "192.0.2[.]1") into out. */
void homing_iocs_defang(const char *s, char *out, size_t cap);

#endif
