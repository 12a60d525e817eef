/*
 * rewrite.h (internal to libhoming): finds what `homing track` changes in one
 * text part, without changing anything itself.
 *
 * Input is UTF-8 text (track.c converts other charsets first and maps the
 * offsets back). Output is a list of sites, sorted by offset and never
 * overlapping: a link site is the byte range of one attribute value (or one URL
 * in plain text) to be replaced by a click URL, with the destination exactly as
 * a browser would follow it; a pixel site is an insertion point. Splicing only
 * at these ranges keeps every other byte of the author's HTML as it was.
 *
 * Skip rules (a link is left alone when): its scheme is not http or https
 * (mailto:, tel:, cid:, fragments, relative links), it already points at the
 * tracking base URL, or its element carries the notrack marker
 * data-homing="notrack". An http or https link that homing_url_check refuses
 * (homing/util.h: a control character, a backslash, user info, a bad host or
 * port, longer than HOMING_URL_DEST_MAX ...) is left alone too, as a
 * REWRITE_REFUSED site, so that `homing track` can report it.
 */
#ifndef HOMING_LIB_HTML_REWRITE_H
#define HOMING_LIB_HTML_REWRITE_H

#include <stddef.h>

#include "homing/util.h"

#define REWRITE_NOTRACK_ATTR      "data-homing"
#define REWRITE_NOTRACK_VALUE     "notrack"
#define REWRITE_REFUSED_SHOWN_MAX 200    /* bytes of a refused link kept to report it */
#define REWRITE_SITES_MAX         100000 /* sites per part: beyond it the part is refused */
#define REWRITE_HTML_DEPTH        4096   /* rewrite_html_gumbo: tree depth walked, no deeper */

enum rewrite_kind {
    REWRITE_LINK = 1,
    REWRITE_PIXEL = 2,
    REWRITE_REFUSED = 3, /* a link left alone: not a valid destination */
    /* the pixel right after the body's start tag (REWRITE_PIXEL_AT_TOP): the
     * REWRITE_PIXEL site at the end then takes only the added document links */
    REWRITE_PIXEL_TOP = 4,
};

/* The finders' pixel argument: none, before </body> (the end), or right
 * after <body ...> when the body has its own start tag (else at the end). */
#define REWRITE_PIXEL_NONE   0
#define REWRITE_PIXEL_AT_END 1
#define REWRITE_PIXEL_AT_TOP 2

/* The pixel's attributes after its src (rewrite_put_pixel). */
#define REWRITE_PIXEL_ATTRS                                                                        \
    "width=\"1\" height=\"1\" alt=\"\" border=\"0\" "                                              \
    "style=\"position:absolute;float:left;border:0;margin:0;padding:0;width:0;height:0\""

struct rewrite_site {
    int kind;
    size_t start, end; /* replaced byte range; start == end for an insertion */
    char quote;        /* LINK in HTML: '"' or '\'' around the value, 0 if none */
    int html;          /* the replacement goes into HTML (escape it) */
    char *url;         /* LINK: the destination (malloc'd, NUL-terminated); REFUSED: the
                        * link as read, cut at REWRITE_REFUSED_SHOWN_MAX bytes */
    const char *why;   /* REFUSED: why (a static string of homing_url_check) */
};

struct rewrite_list {
    struct rewrite_site *v;
    size_t n, cap;
};

/* Finds links in <a href>, <area href> (and href attributes of elements inside
 * Outlook conditional comments) and, when pixel is set, the pixel's place:
 * before </body>, else before </html>, else at the end; with
 * REWRITE_PIXEL_AT_TOP also a REWRITE_PIXEL_TOP site (rewrite_body_start).
 * base_url is the tracking prefix (links under it are skipped). Appends to
 * out; -ENOMEM, -E2BIG past REWRITE_SITES_MAX. */
int rewrite_html(const char *html, size_t len, const char *base_url, int pixel,
                 struct rewrite_list *out);

/* The same with gumbo's tree (rewrite_gumbo.c): the reference rewrite_html
 * is checked against (tests/unit/test_rewrite_diff.c, fuzz_rewrite_diff). */
int rewrite_html_gumbo(const char *html, size_t len, const char *base_url, int pixel,
                       struct rewrite_list *out);

/* Where the body's content starts: the offset right after the body's own
 * start tag, when nothing before it opened the body (only a doctype,
 * comments, white space, html, head and what stays in the head); SIZE_MAX
 * otherwise. One pass of the tokenizer, shared by both finders. */
size_t rewrite_body_start(const char *html, size_t len);

/* The same place in gumbo's tree: right after the original tag of the body
 * element, SIZE_MAX when the body was implied. For the checks that
 * rewrite_body_start, when it finds a place, finds gumbo's (it may give up
 * where gumbo does not: noscript and template in the head). */
size_t rewrite_gumbo_body_start(const char *html, size_t len);

/* Finds http and https URLs in plain text. */
int rewrite_text(const char *text, size_t len, const char *base_url, struct rewrite_list *out);

void rewrite_list_free(struct rewrite_list *l);

/* Internal to lib/html: appends a site (-E2BIG past REWRITE_SITES_MAX); sorts
 * the sites from index from on and drops overlapping ones (the first at a
 * place wins); whether an attribute value says data-homing="notrack". */
int rewrite_list_push(struct rewrite_list *l, const struct rewrite_site *s);
void rewrite_sort_sites(struct rewrite_list *l, size_t from);
int rewrite_is_notrack(const char *v, size_t n);

/* Whether the comment t/tl (its whole text, "<!--" on) is a conditional one
 * ("<!--[if ...") that holds an href: returns where its inside starts in t
 * and its length in *il, 0 if not. */
size_t rewrite_conditional_inner(const char *t, size_t tl, size_t *il);

/* The end of a finder: on success adds the pixel at at (when pixel is set),
 * and with REWRITE_PIXEL_AT_TOP a top site at top (unless SIZE_MAX), and
 * sorts the sites from index from on; on failure (r < 0) drops them. */
int rewrite_finish(struct rewrite_list *out, size_t from, int r, int pixel, size_t at, size_t top);

/* Whether two lists hold the same sites (kinds, ranges, quotes, URLs). */
int rewrite_list_same(const struct rewrite_list *a, const struct rewrite_list *b);

/* Normalises a decoded attribute value the way a browser's URL parser does
 * (strips leading and trailing C0 controls and spaces, removes tabs and
 * newlines) and decides whether to track it. Returns 1 and a malloc'd
 * destination in *out (as homing_url_check writes it) if it is to be tracked,
 * 0 if it is not a link to track, REWRITE_URL_REFUSED with the link as read
 * in *out (malloc'd, cut at REWRITE_REFUSED_SHOWN_MAX bytes) and the reason in
 * *why if it is an http or https link that homing_url_check refuses; -ENOMEM. */
#define REWRITE_URL_REFUSED 2
int rewrite_url_trackable(const char *value, size_t n, const char *base_url, char **out,
                          const char **why);

/* The length of a document placeholder "{{doc:NAME}}" at the start of s (n
 * bytes), 0 if there is none: NAME is 1 to 255 bytes without braces, angle
 * brackets, quotes or line breaks. rewrite_url_trackable takes a placeholder
 * as a link whose destination is the placeholder (homing/track.h). */
size_t rewrite_doc_placeholder(const char *s, size_t n);

/* Appends the replacement for a link site: the click URL, escaped for HTML
 * and quoted when the original value was unquoted. */
int rewrite_put_link(struct homing_buf *b, const struct rewrite_site *s, const char *click_url);

/* Appends the tracking pixel tag for the open URL. */
int rewrite_put_pixel(struct homing_buf *b, const char *open_url);

#endif
