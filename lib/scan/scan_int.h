/*
 * scan_int.h: what lib/scan/scan*.c, strip.c and scan_walk.c share and
 * no program should see: URL dissection, unwrapping, the recipient-address
 * needles and the finding list helpers.
 *
 * Contract: as homing/scan.h. Functions taking URLs look at no more than
 * HOMING_SCAN_URL_MAX bytes.
 */
#ifndef HOMING_SCAN_INT_H
#define HOMING_SCAN_INT_H

#include <stddef.h>

#include "homing/scan.h"

/* A URL cut into pieces; every pointer is into copy (owned), host lower-cased.
 * Pieces that are absent are "" (never NULL). */
struct scan_url {
    char *copy;
    const char *scheme, *host, *path, *query, *fragment;
};
/* The next http(s) URL in plain text at or after *pos: 1 and its span
 * [*start, *end) (sentence punctuation at its end left out), *pos moved past
 * it; 0 at the end. A URL is cut at HOMING_SCAN_URL_MAX - 1 bytes (then
 * *pos - *start is that long). */
#define SCAN_TEXT_URL_TRAIL ".,;:!?)]'"
int scan_text_url(const char *text, size_t len, size_t *pos, size_t *start, size_t *end);

/* Absolute http(s)/ftp or scheme-relative URL: the kind that loads remotely. */
int scan_url_is_remote(const char *u);
/* What strip must neutralise: anything but data:, cid:, mid:, about:, #frag, "". */
int scan_url_needs_strip(const char *u);
int scan_url_parse(const char *u, struct scan_url *out);
void scan_url_free(struct scan_url *u);
/* Percent-decodes n bytes of s into a malloc'd string ('+' kept). */
char *scan_pct_decode(const char *s, size_t n);

/* A unique-looking token in the URL's path, query or fragment: copies it (at
 * most cap-1 bytes) into tok and returns 1. */
int scan_url_has_id(const struct scan_url *u, char *tok, size_t cap);

/* The link destination a redirect wrapper carries: 1 and a malloc'd *dest (the
 * innermost after up to HOMING_SCAN_UNWRAP_MAX wrappers) with a static
 * description of where it was; 0 if none. rule may be NULL. */
int scan_url_unwrap(const struct homing_trackers *t, const char *url, char **dest, char *why,
                    size_t whycap);

/* The recipient's address in the forms that leak it. */
#define SCAN_NEEDLES_MAX 24
struct scan_needles {
    char *address; /* as given */
    char *lower;   /* lower-cased */
    char *hex;     /* the lower-cased address's bytes in lower-case hex */
    size_t n;
    int hashed; /* digests are computed on first need: most URLs hold no hex run */
    struct {
        char hex[129]; /* lower-case hex digest */
        char what[64]; /* "sha256 of the lower-cased address" ... */
    } h[SCAN_NEEDLES_MAX];
};
int scan_needles_init(struct scan_needles *nd, const char *address);
void scan_needles_free(struct scan_needles *nd);
/* 1 if url leaks the address; why describes the form and place. */
int scan_leak(struct scan_needles *nd, const char *url, char *why, size_t whycap);

/* Appends a finding (copies the strings); -E2BIG past HOMING_SCAN_FINDINGS_MAX
 * sets res->truncated and is not an error for callers. */
int scan_add(struct homing_scan_result *res, int kind, const char *part, const char *element,
             const char *attribute, const char *url, const char *vendor, const char *evidence,
             const char *destination);

/* Keeps an image whose only sign of tracking is its id token (see
 * struct homing_scan_suspect); past HOMING_SCAN_SUSPECTS_MAX it is dropped
 * (a suspect is no finding: only the comparison of copies reads them). */
int scan_suspect_add(struct homing_scan_result *res, int kind, const char *part,
                     const char *element, const char *attribute, const char *url,
                     const char *vendor, const char *tok);

/* Decoded inline-style facts about one element. */
struct scan_style {
    int hidden;      /* display:none, visibility:hidden, opacity:0 ... */
    const char *why; /* static reason when hidden */
    int w, h;        /* px, -1 when not declared */
};
void scan_style_parse(const char *css, struct scan_style *st);

/* Every url() / @import / image-set in a CSS text, in order. */
enum { SCAN_CSS_URL, SCAN_CSS_IMPORT, SCAN_CSS_FONT, SCAN_CSS_IMAGESET };
struct scan_css_ref {
    int type;
    size_t start, end; /* the bytes to neutralise */
    char *url;         /* malloc'd, unquoted */
};
/* Calls fn for each reference; stops early on a negative return. CSS escapes
 * are decoded (u\72l( is url(); urls are reported decoded. */
int scan_css_walk(const char *css, size_t len, int (*fn)(void *ctx, const struct scan_css_ref *ref),
                  void *ctx);
/* 1 when a backslash follows a non-ASCII byte: in Shift_JIS, Big5 or GBK that
 * byte can be a lead byte swallowing the backslash, so whether it escapes
 * anything depends on the charset, which the walker does not know. */
int scan_css_ambiguous(const char *css, size_t len);

/* One remote reference in an HTML document, with the edit that neutralises it. */
enum { SCAN_REF_IMAGE, SCAN_REF_LOAD, SCAN_REF_LINK };
enum { SCAN_EDIT_NONE, SCAN_EDIT_INSERT, SCAN_EDIT_REPLACE };
struct scan_ref {
    int type; /* SCAN_REF_* */
    int kind; /* for loads: the finding kind */
    int css;  /* an image loaded through CSS, srcset or background */
    const char *element, *attribute;
    char *url;  /* decoded; owned */
    int hidden; /* an ancestor or the element itself is hidden */
    const char *hidden_why;
    int w, h; /* declared px size, -1 unknown */
    int edit; /* SCAN_EDIT_*: insert repl at start, or replace [start, end) */
    size_t start, end;
    char *repl;          /* owned; NULL = the static prefix for SCAN_EDIT_INSERT */
    size_t vstart, vend; /* a link's attribute value (with quotes) for unwrapping */
};
struct scan_refs {
    struct scan_ref *v;
    size_t n, cap;
    int truncated;
};
#define SCAN_RENAME_PREFIX "data-homing-blocked-"
/* Parses html with gumbo and lists every reference; -E2BIG past the limits. */
int scan_collect(const char *html, size_t len, struct scan_refs *out);
void scan_refs_free(struct scan_refs *r);
/* The finding kind a reference is (or -1 when it is not tracking), with the
 * evidence and the vendor's rule when known. count = how often its URL occurs
 * among the document's image references (the spacer guard). When the kind
 * rests on nothing but an id-looking token in the URL (an id-image, or a CSS
 * image with an id) and idtok is not NULL, the token is copied there (at most
 * idcap - 1 bytes): the caller must find evidence that it names the
 * recipient before reporting it. Otherwise idtok (when given) is "". */
int scan_ref_classify(const struct scan_ref *r, const struct homing_trackers *t, size_t count,
                      char *why, size_t whycap, const struct homing_tracker_rule **rule,
                      char *idtok, size_t idcap);
size_t scan_refs_count_url(const struct scan_refs *refs, const char *url);

#endif
