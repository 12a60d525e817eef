/*
 * report_int.h: what the files of the report parser (report.c, report_mime.c,
 * report_reason.c, report_text.c) share. Not part of the public API.
 *
 * The parser never builds a full MIME tree: report_mime.c normalises line ends,
 * splits header blocks and walks multipart boundaries over the one normalised
 * buffer, recording slices; only the parts a report needs are decoded.
 */
#ifndef HOMING_REPORT_INT_H
#define HOMING_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "homing/report.h"
#include "homing/util.h"

#define RP_TYPE_MAX   64
#define RP_PARAM_MAX  128
#define RP_ADDR_MAX   320 /* RFC 5321: 64 + 1 + 255, with room */
#define RP_DIAG_MAX   1024
#define RP_HDRVAL_MAX HOMING_REPORT_LINE_MAX

struct rp_part {
    const char *hdr; /* header block, without the blank line */
    size_t hlen;
    const char *body;
    size_t blen;
    char type[RP_TYPE_MAX]; /* lower-cased "text/plain" */
    char cte[32];           /* lower-cased */
    char boundary[RP_PARAM_MAX];
    int depth;
    bool in_rfc822; /* inside a returned message/rfc822 */
};

struct rp_msg {
    char *buf; /* normalised copy: LF line ends, NUL-terminated */
    size_t len;
    struct rp_part parts[HOMING_REPORT_PARTS_MAX]; /* parts[0] is the message */
    size_t n_parts;
    bool truncated;
};

/* report_mime.c */
int rp_msg_init(struct rp_msg *m, const char *data, size_t len);
void rp_msg_free(struct rp_msg *m);
void rp_split(const char *p, size_t n, const char **hdr, size_t *hlen, const char **body,
              size_t *blen);
/* Copies the unfolded, trimmed value of the first header `name` into out
 * (truncated to cap-1); returns its length or -1 if absent. */
int rp_header(const char *hdr, size_t hlen, const char *name, char *out, size_t cap);
/* Iterates header fields: *pos starts at 0; returns 1 with name and value
 * filled (value unfolded and trimmed), 0 at the end. */
int rp_header_next(const char *hdr, size_t hlen, size_t *pos, char *name, size_t ncap, char *value,
                   size_t vcap);
int rp_param(const char *value, const char *name, char *out, size_t cap);
/* Decodes a part's transfer encoding into b (appended). */
int rp_decode(const struct rp_part *p, struct homing_buf *b);
/* RFC 2047 decoding of a header value; returns a malloc'd string. */
char *rp_decode_words(const char *s);

/* report_codes.c: the reason a provider documents for an enhanced status
 * code (of the Status field, else one written in the lower-cased text), or
 * NULL. */
const char *rp_reason_code(const char *status, const char *lower, size_t n);

/* report_reason.c */
const char *rp_reason_text(const char *lower, size_t n);
/* Writes `lower` to `out` (room for n + 1 bytes) with each run of white
 * space made one space and the code prefixes of multiline SMTP replies'
 * continuation lines removed (RFC 5321 4.2.1), NUL-terminated; returns the
 * length written. */
size_t rp_reply_flatten(const char *lower, size_t n, char *out);

/* For measuring the phrase table (bench/bounce_rules, the family-grouped
 * cross-validation of docs/delivery.md): when rp_rule_trace points at one,
 * rp_reason_text skips the phrases listed in `off` and records each phrase
 * that decided in `hit`. NULL in normal use; not thread-safe. */
#define RP_RULE_TRACE_MAX 64
struct rp_rule_ref {
    size_t rule;        /* index in the phrase table */
    const char *phrase; /* as written in the table */
};
struct rp_rule_trace {
    const struct rp_rule_ref *off;
    size_t n_off;
    struct rp_rule_ref hit[RP_RULE_TRACE_MAX];
    size_t n_hit;
};
extern struct rp_rule_trace *rp_rule_trace;
size_t rp_rule_count(void);
const char *rp_rule_reason(size_t rule);
/* The documentation a phrase table entry follows, NULL for corpus-written. */
const char *rp_rule_source(size_t rule);
const char *rp_reason_status(const char *status);
/* Provider-specific codes in the text (Orange / La Poste). */
const char *rp_reason_provider_code(const char *lower, size_t n);
/* why: rp_reason_text of the text, computed once by the caller; rhost: the
 * Remote-MTA when known (some providers' replies are read per host). */
const char *rp_reason_classify(const char *why, const char *diag_lower, size_t n,
                               const char *status, const char *reply_code, const char *action,
                               unsigned cmds, const char *rhost);
/* report_command.c: the SMTP command a refusal answered, from the signs
 * MTAs write (a bitmask; 0 when the text names none). */
#define RP_CMD_CONNECT 0x01u /* the greeting */
#define RP_CMD_HELO    0x02u
#define RP_CMD_MAIL    0x04u
#define RP_CMD_RCPT    0x08u
#define RP_CMD_DATA    0x10u /* DATA, end of data, BDAT */
unsigned rp_smtp_commands(const char *t, size_t n);
/* True when the text says the refusal came after DATA (lower-case text). */
bool rp_after_data(const char *t, size_t n);
/* True when the text says the refusal answered RCPT TO (lower-case text). */
bool rp_at_rcpt(const char *t, size_t n);

/* report_text.c: helpers over decoded text */
void rp_lower(char *s, size_t n);
const char *rp_memmem_ci(const char *h, size_t hn, const char *needle);
/* Finds the first C.S.D status code in t; writes it to out (cap >= 16). */
bool rp_find_status(const char *t, size_t n, char *out, size_t cap);
/* Finds a 3-digit SMTP reply code in t (at a line start or after "said:" etc). */
bool rp_find_reply(const char *t, size_t n, char *out, size_t cap);
/* Extracts addr-spec from a field value ("rfc822; <a@b>", "Name <a@b>"),
 * lower-cased; returns length or -1. */
int rp_addr(const char *v, char *out, size_t cap);
/* The same, keeping the case (a VERP local part carries a case-sensitive
 * token). */
int rp_addr_case(const char *v, char *out, size_t cap, bool lower);
/* Reads a non-standard bounce from its text and appends recipients to r. */
int rp_text_bounce(const struct rp_msg *m, const char *text, size_t n, struct homing_report *r,
                   const char *exclude[], size_t n_exclude, const char *failed_hdr);
int rp_rcpt_add(struct homing_report *r, struct homing_report_rcpt **out);
char *rp_collapse(const char *s, size_t n, size_t max);

#endif
