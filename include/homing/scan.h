/*
 * homing/scan.h: the recipient's side. Finds every tracking device in a message
 * (scan) and writes the message back with every remote load neutralised and
 * wrapped links unwrapped (strip). See docs/internals/scan.md.
 *
 * Contract: functions return 0 or a negative errno; outputs are written only on
 * success. Messages and HTML are untrusted: every parser below has the named
 * limits, and input past a limit is an error (-E2BIG; -ELOOP for address
 * headers nested past HOMING_MIME_ADDR_DEPTH_MAX; from strip, -EMLINK for HTML
 * past HOMING_SCAN_HTML_NEST_MAX or _WORK_MAX) or, for counts inside a message
 * (findings, parts, nesting), a truncation reported by the result. The
 * tracker table and allow-list are read-only here and may be shared by threads.
 */
#ifndef HOMING_SCAN_H
#define HOMING_SCAN_H

#include <stddef.h>

#include "homing/trackers.h"
#include "homing/util.h"

#define HOMING_SCAN_MESSAGE_MAX    (64u << 20) /* bytes of one message */
#define HOMING_SCAN_HTML_MAX       (16u << 20) /* bytes of one decoded HTML part */
#define HOMING_SCAN_FINDINGS_MAX   4096        /* findings kept per message */
#define HOMING_SCAN_PARTS_MAX      1000        /* MIME parts walked per message */
#define HOMING_SCAN_MIME_DEPTH_MAX 32          /* multipart / message nesting */
#define HOMING_SCAN_HTML_DEPTH_MAX 512         /* element nesting followed in HTML */
/* Before gumbo sees an HTML part: element nesting as a browser would build it,
 * and the work of building it (the depth at each element opened); past either,
 * scan marks the result truncated and strip refuses with -EMLINK. */
#define HOMING_SCAN_HTML_NEST_MAX  1024
#define HOMING_SCAN_HTML_WORK_MAX  (32u << 20)
#define HOMING_SCAN_URL_MAX        8192 /* bytes of one URL looked at */
#define HOMING_SCAN_UNWRAP_MAX     4    /* wrappers peeled from one link */
#define HOMING_SCAN_SPACER_REPEATS 3    /* an image URL this often is a spacer */
#define HOMING_SCAN_TINY_SIDE      3    /* a declared side <= this is a pixel */
#define HOMING_SCAN_TINY_AREA      25   /* ... or a declared area <= this */
#define HOMING_SCAN_ID_MIN         16   /* length of a unique-looking id token */
#define HOMING_SCAN_PART_MAX       64   /* bytes of a part path like "1.2.3" */
/* Images whose only sign of tracking is an id-looking token (an id-image
 * without evidence that the id names the recipient) kept per message, for
 * homing_scan_copies to compare between copies of one mailing. */
#define HOMING_SCAN_SUSPECTS_MAX 256
#define HOMING_SCAN_ID_TOKEN_MAX 48    /* bytes of an id token kept, with the NUL */
#define HOMING_SCAN_COPIES_MAX   10000 /* messages homing_scan_copies compares */
#define HOMING_ALLOW_MAX         10000 /* entries of an allow-list */
/* Address headers (From, Sender, Reply-To, To, Cc, Bcc, Delivered-To) of a
 * message and of the messages inside it: groups or comments nested deeper,
 * or more colons in one field, and scan, strip and track refuse the message
 * with -ELOOP before GMime sees it (GMime's group parser recurses). */
#define HOMING_MIME_ADDR_DEPTH_MAX  64
#define HOMING_MIME_ADDR_COLONS_MAX 1000

enum homing_scan_kind {
    HOMING_SCAN_PIXEL,          /* hidden or tiny remote image */
    HOMING_SCAN_TRACKER_IMAGE,  /* remote image at a known tracker host or path */
    HOMING_SCAN_ID_IMAGE,       /* remote image without a size, URL with a unique id */
    HOMING_SCAN_CSS_BEACON,     /* CSS url() / background / srcset load that tracks */
    HOMING_SCAN_CSS_IMPORT,     /* @import */
    HOMING_SCAN_FONT_BEACON,    /* @font-face src */
    HOMING_SCAN_LINK_LOAD,      /* <link> stylesheet, prefetch, preconnect ... */
    HOMING_SCAN_FRAME,          /* iframe, frame */
    HOMING_SCAN_OBJECT,         /* object, embed, applet */
    HOMING_SCAN_MEDIA,          /* video poster, audio/video/track src */
    HOMING_SCAN_SCRIPT,         /* script src */
    HOMING_SCAN_META_REFRESH,   /* <meta http-equiv=refresh> */
    HOMING_SCAN_WRAPPED_LINK,   /* redirect wrapper, destination recoverable */
    HOMING_SCAN_TRACKED_LINK,   /* known click tracker, destination hidden */
    HOMING_SCAN_RECIPIENT_LEAK, /* the recipient's address in a URL */
    HOMING_SCAN_READ_RECEIPT,   /* Disposition-Notification-To and kin */
    HOMING_SCAN_KIND_COUNT
};

/* "pixel", "tracker-image", ... as used in --json output. */
const char *homing_scan_kind_name(int kind);

struct homing_scan_finding {
    int kind;
    char part[HOMING_SCAN_PART_MAX]; /* "1.2"; "" for the message headers */
    const char *element;             /* static: "img", "style", "a", "header" ... */
    const char *attribute;           /* static: "src", "srcset", header name ... */
    char *url;                       /* owned; NULL for headers */
    char *vendor;                    /* owned; NULL when unknown */
    char *evidence;                  /* owned: why this is tracking */
    char *destination;               /* owned; unwrapped link target, or NULL */
};

/* An image that carries an id-looking token but no evidence that the id
 * names the recipient: not a finding (builders' CDN images look the same),
 * kept so that copies of one mailing can be compared (homing_scan_copies). */
struct homing_scan_suspect {
    char part[HOMING_SCAN_PART_MAX];
    const char *element, *attribute; /* static */
    int kind;                        /* what it becomes: id-image or css-beacon */
    char *url;                       /* owned */
    char *vendor;                    /* owned; NULL when unknown */
    char tok[HOMING_SCAN_ID_TOKEN_MAX];
};

struct homing_scan_result {
    struct homing_scan_finding *f;
    size_t n, cap;
    struct homing_scan_suspect *s; /* at most HOMING_SCAN_SUSPECTS_MAX */
    size_t ns, caps;
    char *recipient;     /* the address looked for (owned), or NULL */
    unsigned html_parts; /* HTML parts scanned */
    int truncated;       /* a count limit was reached */
};

void homing_scan_result_free(struct homing_scan_result *r);

/* Per-sender allow-list: lines "SENDER HOST" where SENDER is an address, a
 * domain (matching it and its subdomains) or *, and HOST a domain whose loads
 * and links are not reported in mail from that sender. # starts a comment. */
struct homing_allow;
int homing_allow_parse(const char *text, size_t len, struct homing_allow **out, char *err,
                       size_t errcap);
void homing_allow_free(struct homing_allow *a);
int homing_allow_match(const struct homing_allow *a, const char *sender, const char *host);

struct homing_scan_options {
    const struct homing_trackers *trackers; /* may be NULL */
    const struct homing_allow *allow;       /* may be NULL */
    const char *recipient;                  /* NULL: Delivered-To, else the first To address */
    /* strip only. keep_signed: signed or encrypted content (multipart/signed,
     * multipart/encrypted, application/pkcs7-mime, a part holding an inline
     * PGP block) is left byte for byte, since changing it breaks the
     * signature the recipient checks. notice_text / notice_html (ASCII, NULL
     * for none): put at the top of the first inline text/plain and text/html
     * part of the message (not inside signed content or an attached
     * message), so the reader sees what was removed. */
    int keep_signed;
    const char *notice_text;
    const char *notice_html;
};

/* Scans a whole RFC 5322 message (MIME parts decoded, charsets converted). */
int homing_scan_message(const char *data, size_t len, const struct homing_scan_options *o,
                        struct homing_scan_result **out);

/* Scans a raw HTML file (not a message) as one text/html part "1": findings
 * as homing_scan_message's, with o->recipient as the address looked for. */
int homing_scan_html_file(const char *data, size_t len, const struct homing_scan_options *o,
                          struct homing_scan_result **out);

/* 1 when data looks like an HTML document rather than a message: it starts
 * (after a UTF-8 byte order mark and white space) with '<', which no header
 * field can (RFC 5322 field names are printable ASCII without ':' and a
 * message starts with one, or with "From " in an mbox). */
int homing_scan_looks_html(const char *data, size_t len);

/* Copies of one mailing sent to different recipients: an image (a suspect of
 * res[i]) whose URL is that of an image of another copy with only its id
 * token changed names the recipient, and becomes a finding of res[i] (in
 * every copy where it differs). Copies whose recipients are the same address
 * are not compared. Returns the number of findings added, -E2BIG for more
 * than HOMING_SCAN_COPIES_MAX results, or -ENOMEM. */
int homing_scan_copies(struct homing_scan_result *const *res, size_t n);

/* Scans one HTML document, appending findings to res under part path `part`.
 * sender may be NULL. Used by the message scanner and the fuzz target. */
int homing_scan_html(const char *html, size_t len, const struct homing_scan_options *o,
                     const char *sender, const char *part, struct homing_scan_result *res);

/* URLs in a text/plain part (wrapped and tracked links, leaked addresses). */
int homing_scan_text(const char *text, size_t len, const struct homing_scan_options *o,
                     const char *sender, const char *part, struct homing_scan_result *res);

struct homing_strip_stats {
    unsigned pixels;      /* loads that were scan findings */
    unsigned loads;       /* other remote loads neutralised */
    unsigned unwrapped;   /* links replaced by their destination */
    unsigned receipts;    /* read-receipt headers removed */
    unsigned html_parts;  /* HTML parts rewritten */
    unsigned text_parts;  /* text/plain parts with links unwrapped */
    unsigned notices;     /* parts given the notice (homing_scan_options.notice_*) */
    unsigned signed_kept; /* signed or encrypted subtrees left as they were (keep_signed) */
};

/* Neutralises every remote load in one HTML document by splicing the source at
 * gumbo's offsets (everything else byte for byte); appends to out. -E2BIG for a
 * document nested deeper than HOMING_SCAN_HTML_DEPTH_MAX or with more
 * references than the walker lists: what it did not visit could still load. */
int homing_strip_html(const char *html, size_t len, const struct homing_scan_options *o,
                      struct homing_buf *out, struct homing_strip_stats *st);

/* Replaces each URL of a plain text that is a redirect wrapper with a
 * recoverable destination (found as homing_scan_text finds URLs, unwrapped as
 * strip unwraps HTML links) by that destination; every other byte is copied
 * unchanged; appends to out. delsp: the text is format=flowed with DelSp=yes
 * (RFC 3676), where a URL can go on after a soft line break, so a URL followed
 * by one is left as it is; so is a URL cut at HOMING_SCAN_URL_MAX. */
int homing_strip_text(const char *text, size_t len, const struct homing_scan_options *o, int delsp,
                      struct homing_buf *out, struct homing_strip_stats *st);

/* The whole message stripped (HTML parts by homing_strip_html, text/plain
 * ones by homing_strip_text): changed parts re-encoded in their transfer
 * encoding and charset, read-receipt headers removed, an X-Homing-Stripped
 * header added. *out is malloc'd. */
int homing_strip_message(const char *data, size_t len, const struct homing_scan_options *o,
                         char **out, size_t *outlen, struct homing_strip_stats *st);

#endif
