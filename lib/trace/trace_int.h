/*
 * trace_int.h: what the files of `homing trace` share inside lib/trace
 * (trace.c, spoof.c, auth_*.c) and nothing else includes.
 *
 * Contract: the same as homing/trace.h: bounded, negative errno, no logging.
 */
#ifndef HOMING_TRACE_INTERNAL_H
#define HOMING_TRACE_INTERNAL_H

#include <stddef.h>

#include <jansson.h>

#include "homing/trace.h"
#include "homing/util.h"

/* One header field of the message, in file order; value still folded. */
struct trace_field {
    struct homing_slice name;
    struct homing_slice value;
};

/* The fields of one header section. f grows as fields are found, up to
 * HOMING_TRACE_FIELDS_MAX: a header of up to 32 fields takes 1 KiB, not the
 * 64 KiB of the limit (allocating that much for every message made glibc
 * consolidate its free lists each time). Start from {0}; trace_fields_clear
 * frees f. */
struct trace_fields {
    size_t n, cap;
    struct trace_field *f;
    size_t header_len; /* bytes of the header section including the blank line */
};

/* Splits the header section of msg (LF or CRLF). -EBADMSG if there is none,
 * -E2BIG over HOMING_TRACE_FIELDS_MAX fields, -ENOMEM. */
int trace_fields_split(const char *msg, size_t len, struct trace_fields *out);
void trace_fields_clear(struct trace_fields *fs);
/* Case-insensitive name test. */
int trace_field_is(const struct trace_field *f, const char *name);
/* A malloc'd copy of p[0..n) as written (a NUL byte as '?'), ASCII letters
 * lower-cased when lower is set; NULL when out of memory. Not replaced:
 * every output escapes the bytes, and a replacement would hide a look-alike
 * letter (issue 15). */
char *trace_text_dup(const char *p, size_t n, int lower);
/* The value unfolded into a NUL-terminated malloc'd copy, blanks trimmed. */
char *trace_unfold(struct homing_slice v);

/* An address as the tools need it: display name (RFC 2047 decoded, UTF-8),
 * the addr-spec, and its domain (lower case). */
struct trace_addr {
    char *display;
    char *addr;
    char *domain;
};
int trace_addr_parse(const char *s, struct trace_addr *out);
void trace_addr_clear(struct trace_addr *a);

/* Organisational domain by a small table of two-level suffixes (no public
 * suffix list: good enough to compare the addresses of one message). */
void trace_org_domain(const char *domain, char *out, size_t cap);

/* Appends spoofing indicators to arr (spoof.c). */
struct spoof_input {
    const struct trace_addr *from, *reply_to, *return_path, *sender;
    const char *message_id_domain;
    const char *const *dkim_domains;
    size_t n_dkim;
    int have_date, have_first_hop;
    int64_t date, first_hop;
    int64_t skew_max;
};
int spoof_indicators(const struct spoof_input *in, json_t *arr);

/* The sending service recognised from DKIM d= domains and hop host names. */
const char *trace_esp_lookup(const char *host);

/* Whether the message names a DKIM-Signature field anywhere (any case): one
 * that does not has nothing for either DKIM verifier, and its answer would be
 * no signature at all. The whole message is searched, not just the header
 * section, so where a verifier ends the header never matters; memchr for the
 * '-' keeps this a small fraction of a verifier's own pass. */
int trace_names_dkim_signature(const char *msg, size_t len);

/* Re-verification now (auth_spf.c, auth_dkim.c, auth_dmarc.c). Each fills a
 * JSON object with "result" (the RFC 8601 result word) and details. */
int auth_spf_check(struct homing_resolver *res, const char *ip, const char *helo,
                   const char *mailfrom, json_t *out);
int auth_dkim_verify(struct homing_resolver *res, const char *msg, size_t len, json_t *out_arr);
/* The same contract with libopendkim (auth_dkim_opendkim.c): the reference
 * auth_dkim_verify is checked against, and HOMING_DKIM_OPENDKIM's verifier. */
int auth_dkim_verify_opendkim(struct homing_resolver *res, const char *msg, size_t len,
                              json_t *out_arr);
int auth_dmarc_check(struct homing_resolver *res, const char *from_domain, const char *spf_result,
                     const char *spf_domain, json_t *dkim_arr, json_t *out);

/* The DNS of one run under one time budget, with its answers kept
 * (dns_budget.c). */
struct trace_dns;
struct trace_dns_query {
    char name[HOMING_TRACE_TOKEN_MAX + 32];
    enum homing_rr type;
};
int trace_dns_new(struct homing_resolver *inner, int budget_ms, struct trace_dns **out);
struct homing_resolver *trace_dns_resolver(struct trace_dns *d);
/* Asks the questions q in parallel (at most TRACE_DNS_PARALLEL_MAX at once),
 * keeping the answers for the lookups that follow; returns by the deadline. */
int trace_dns_prefetch(struct trace_dns *d, const struct trace_dns_query *q, size_t n);
/* {"budget_ms", "exhausted", "over_budget"} */
json_t *trace_dns_json(struct trace_dns *d);
void trace_dns_free(struct trace_dns *d);

/* One Authentication-Results as JSON {authserv_id, results[]} (trace.c). */
json_t *trace_authres_json(const struct homing_authres *a);
/* ARC (RFC 8617) verified now into out: {cv, reason, sets, hops[]} (arc.c). */
int trace_arc_verify(struct homing_resolver *res, const char *msg, size_t len, json_t *out);

/* Anti-spam filters' header fields (vendor.c): 1 and *out {vendor, field,
 * source, verdict, values, meaning, rules, cut} for a field it knows, 0 for
 * another, negative errno on failure. v is the unfolded value. */
int trace_vendor_decode(const char *field, const char *v, json_t **out);
/* Whether a field named p[0, n) may be one trace_vendor_decode knows (a
 * cheap test before the value is unfolded). */
int trace_vendor_known(const char *p, size_t n);

/* DNSBL (dnsbl.c): the query name of ip in zone, and the lookups. */
int trace_dnsbl_name(const char *ip, const char *zone, char *out, size_t cap);
int trace_dnsbl_check(struct homing_resolver *res, const char *ip, const char *const *zones,
                      size_t n_zones, json_t *out);

/* A TXT lookup through the resolver joined into one malloc'd string per record. */
int auth_txt(struct homing_resolver *res, const char *name, struct homing_dns_answer *out);

#endif
