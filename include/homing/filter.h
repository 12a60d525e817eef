/*
 * homing/filter.h: what `homing milter` does to one message at delivery, as a
 * pure function: the message's bytes and a policy in, a verdict, header edits
 * and (when it changed) a new body out. No sockets, no libmilter: the front
 * end (src/cli/milter.c) only gathers the message and applies the result, and
 * fuzz/fuzz_milter_body.c drives this directly. See docs/milter.md.
 *
 * Policies, weakest first (the strictest of a message's recipients wins):
 *   off        nothing is done (the message is not even scanned)
 *   tag        X-Homing-Trackers (count and vendors) and X-Homing-Tracker-Results
 *              (Authentication-Results-style evidence) are added
 *   strip      tag, and the body replaced by homing_strip_message's (every
 *              remote load neutralised, wrapped links unwrapped, read-receipt
 *              headers removed, X-Homing-Stripped added)
 *   notice     strip, and a short visible notice at the top of the first text
 *              and HTML part saying what was removed
 *   quarantine tag, and the message held (smfi_quarantine) when it carries at
 *              least hold_min trackers; else as tag
 *   reject     refused (5.7.1) when it carries at least hold_min trackers;
 *              else as tag
 * Signed or encrypted content (S/MIME, PGP/MIME, inline PGP) is never
 * changed; the MIME structure is kept; when the body or headers changed and
 * the message carries a DKIM-Signature, X-Homing-DKIM says that the original
 * signature no longer verifies. Only what changed is returned: a body that
 * strip left alone is not replaced.
 *
 * Contract: 0 or a negative errno (those of homing_strip_message and
 * homing_scan_message, -E2BIG past HOMING_FILTER_EDITS_MAX); *out written
 * only on success. The trackers table is read-only and may be shared.
 */
#ifndef HOMING_FILTER_H
#define HOMING_FILTER_H

#include <stddef.h>

#include "homing/scan.h"
#include "homing/trackers.h"

#define HOMING_FILTER_EDITS_MAX    64   /* header edits of one message */
#define HOMING_FILTER_EVIDENCE_MAX 8    /* findings named in X-Homing-Tracker-Results */
#define HOMING_FILTER_VENDORS_MAX  8    /* vendors named in X-Homing-Trackers */
#define HOMING_FILTER_RULES_MAX    4096 /* entries of a policy table */
#define HOMING_FILTER_KEY_MAX      256  /* bytes of an address or domain in the table */

enum homing_filter_policy {
    HOMING_FILTER_OFF,
    HOMING_FILTER_TAG,
    HOMING_FILTER_STRIP,
    HOMING_FILTER_NOTICE,
    HOMING_FILTER_QUARANTINE,
    HOMING_FILTER_REJECT,
    HOMING_FILTER_POLICY_COUNT
};

/* "off", "tag", ...; -EINVAL for an unknown name. */
const char *homing_filter_policy_name(int policy);
int homing_filter_policy_parse(const char *name, int *out);

/* The per-recipient table: entries "KEY=POLICY" separated by commas or
 * white space, KEY an address (exact, case-insensitive), a domain (it and its
 * subdomains; the longest match wins) or * (everyone else). def is the policy
 * of a recipient no entry matches. On error err names the bad entry. */
struct homing_filter_table;
int homing_filter_table_parse(const char *text, int def, struct homing_filter_table **out,
                              char *err, size_t errcap);
void homing_filter_table_free(struct homing_filter_table *t);
/* The policy of one envelope recipient ("<a@b>" or "a@b"). */
int homing_filter_table_lookup(const struct homing_filter_table *t, const char *rcpt);

struct homing_filter_options {
    const struct homing_trackers *trackers; /* may be NULL */
    int policy;                             /* enum homing_filter_policy */
    unsigned hold_min;    /* findings for quarantine / reject to apply (0 counts as 1) */
    const char *authserv; /* the host named in X-Homing-Tracker-Results; NULL: "homing" */
};

enum homing_filter_verdict {
    HOMING_FILTER_ACCEPT, /* with the edits below */
    HOMING_FILTER_HOLD,   /* quarantine, with the edits below */
    HOMING_FILTER_REFUSE, /* reject; reason says why */
};

enum homing_filter_op {
    HOMING_FILTER_ADD,    /* append header name: value */
    HOMING_FILTER_CHANGE, /* the index-th (from 1) header called name gets value */
    HOMING_FILTER_DELETE, /* the index-th header called name goes */
};

/* Values may hold folded lines: "\n" then a space or tab (libmilter's form). */
struct homing_filter_edit {
    int op;
    char *name;
    unsigned index;
    char *value; /* NULL for DELETE */
};

struct homing_filter_result {
    int verdict;
    int policy;                       /* the policy applied */
    unsigned trackers;                /* scan findings */
    char vendors[256];                /* "Mailchimp, SendGrid", or "" */
    struct homing_strip_stats st;     /* strip and notice */
    struct homing_filter_edit *edits; /* in the order they are to be applied */
    size_t n_edits;
    char *body; /* the new body (after the blank line), or NULL: unchanged */
    size_t body_len;
    int dkim_invalidated; /* a DKIM-Signature no longer verifies */
    char reason[320];     /* for REFUSE and HOLD */
};

/* Filters one whole message (headers, blank line, body; CRLF or LF). */
int homing_filter_message(const char *data, size_t len, const struct homing_filter_options *o,
                          struct homing_filter_result **out);
void homing_filter_result_free(struct homing_filter_result *r);

#endif
