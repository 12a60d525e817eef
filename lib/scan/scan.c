/*
 * scan.c: finds the tracking devices in one HTML document. gumbo parses the
 * document as a browser would; every reference that would load something when
 * the message is opened (img, srcset, picture, background, CSS url(), @import,
 * @font-face, link, iframe, object, embed, poster, meta refresh ...) and every
 * link is listed with its source offsets (scan_collect), so strip.c can splice
 * the original text; then each is judged (scan_ref_classify): hidden or tiny,
 * a known tracker, a unique-looking id, a redirect wrapper, a leaked address.
 *
 * Contract: see homing/scan.h and scan_int.h. The document is untrusted: its
 * size, element nesting and the number of references are bounded by the
 * HOMING_SCAN_* limits, and gumbo's output is only read.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "lib/html/depth_int.h"
#include "lib/html/gumbo_arena_int.h"
#include "scan_int.h"

_Static_assert(HOMING_SCAN_HTML_NEST_MAX == HTML_DEPTH_NEST_MAX, "one HTML nesting limit");
_Static_assert(HOMING_SCAN_HTML_WORK_MAX == HTML_DEPTH_WORK_MAX, "one HTML work limit");

#define SCAN_REFS_MAX 20000 /* references listed in one document */

/* ---- inline CSS declarations ---- */

static int parse_px(const char *v, int *out)
{
    while (*v == ' ' || *v == '\t') v++;
    if (!isdigit((unsigned char)*v) && *v != '.') return 0;
    char *end;
    double d = strtod(v, &end);
    while (*end == ' ') end++;
    if (*end && strncasecmp(end, "px", 2) != 0 && !(*end == '!' || *end == ';')) return 0;
    if (d < 0 || d > 100000) return 0;
    *out = (int)d;
    return 1;
}

static int is_zero(const char *v)
{
    while (*v == ' ') v++;
    char *end;
    double d = strtod(v, &end);
    return end != v && d == 0.0;
}

/* scan_style_parse on a declaration list without comments or escapes. */
static void style_parse_plain(const char *css, struct scan_style *st)
{
    st->hidden = 0;
    st->why = NULL;
    st->w = st->h = -1;
    int absolute = 0, offscreen = 0;
    const char *p = css;
    while (*p) {
        size_t n = strcspn(p, ";");
        char decl[256];
        size_t k = n < sizeof decl - 1 ? n : sizeof decl - 1;
        memcpy(decl, p, k);
        decl[k] = '\0';
        p += n;
        if (*p) p++;
        char *colon = strchr(decl, ':');
        if (!colon) continue;
        *colon = '\0';
        char *name = decl, *val = colon + 1;
        while (isspace((unsigned char)*name)) name++;
        size_t nl = strlen(name);
        while (nl && isspace((unsigned char)name[nl - 1])) name[--nl] = '\0';
        while (isspace((unsigned char)*val)) val++;
        char *imp = strcasestr(val, "!important");
        if (imp) *imp = '\0';
        size_t vl = strlen(val);
        while (vl && isspace((unsigned char)val[vl - 1])) val[--vl] = '\0';
        for (char *c = name; *c; c++) *c = (char)tolower((unsigned char)*c);
        if (st->hidden && (strcmp(name, "width") != 0 && strcmp(name, "height") != 0 &&
                           strcmp(name, "position") != 0)) {
            continue; /* the first reason to be hidden is the one reported */
        } else if (strcmp(name, "display") == 0 && strcasecmp(val, "none") == 0) {
            st->hidden = 1;
            st->why = "display:none";
        } else if (strcmp(name, "visibility") == 0 &&
                   (strcasecmp(val, "hidden") == 0 || strcasecmp(val, "collapse") == 0)) {
            st->hidden = 1;
            st->why = "visibility:hidden";
        } else if (strcmp(name, "opacity") == 0 && is_zero(val)) {
            st->hidden = 1;
            st->why = "opacity:0";
        } else if ((strcmp(name, "max-height") == 0 || strcmp(name, "max-width") == 0) &&
                   is_zero(val)) {
            st->hidden = 1;
            st->why = name[4] == 'h' ? "max-height:0" : "max-width:0";
        } else if (strcmp(name, "width") == 0) {
            parse_px(val, &st->w);
        } else if (strcmp(name, "height") == 0) {
            parse_px(val, &st->h);
        } else if (strcmp(name, "position") == 0) {
            absolute = strcasecmp(val, "absolute") == 0 || strcasecmp(val, "fixed") == 0;
        } else if (strcmp(name, "left") == 0 || strcmp(name, "top") == 0 ||
                   strcmp(name, "right") == 0 || strcmp(name, "bottom") == 0 ||
                   strcmp(name, "text-indent") == 0) {
            char *end;
            double d = strtod(val, &end);
            if (end != val && d <= -1000) offscreen = 1;
        } else if (strcmp(name, "clip") == 0 && strstr(val, "rect(0") == val) {
            st->hidden = 1;
            st->why = "clip:rect(0 0 0 0)";
        }
    }
    if (absolute && offscreen && !st->hidden) {
        st->hidden = 1;
        st->why = "positioned off-screen";
    }
}

/* ---- CSS references ---- */

/*
 * The walker reads CSS as the tokenizer of CSS Syntax Level 3 does where a
 * load can hide: comments; strings, which an unescaped newline ends (LF, CR or
 * FF: the preprocessing of section 3.3 makes all three LF); and escapes
 * (section 4.3.7: a backslash with one to six hex digits and an optional
 * whitespace, or with any other character but a newline). Names are compared
 * after decoding, so u\72l(, \75 rl( and \url( are url( and @\69mport is
 * @import; quotes, parentheses, braces and @ count only when not escaped. A
 * name is matched at every code point, not only where a token starts: a match
 * inside a longer identifier only neutralises a little more.
 */

static int css_newline(char c)
{
    return c == '\n' || c == '\r' || c == '\f';
}

static int css_space(char c)
{
    return c == ' ' || c == '\t' || css_newline(c);
}

/* Bytes of the whitespace at s[i]: CRLF is one newline. */
static size_t css_space_len(const char *s, size_t len, size_t i)
{
    if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') return 2;
    return css_space(s[i]) ? 1 : 0;
}

enum { CSS_RAW, CSS_ESC_BYTE, CSS_ESC_HEX };

/* The code point at s[i] (i < len), an escape decoded: *cp, and *how it was
 * written (CSS_RAW and CSS_ESC_BYTE: *cp is one byte of the text, maybe part
 * of a UTF-8 sequence; CSS_ESC_HEX: a code point). Returns the index after
 * it. A backslash before a newline is no escape but a delimiter. */
static size_t css_cp(const char *s, size_t len, size_t i, uint32_t *cp, int *how)
{
    *how = CSS_RAW;
    *cp = (unsigned char)s[i];
    if (s[i] != '\\' || (i + 1 < len && css_newline(s[i + 1]))) return i + 1;
    *how = CSS_ESC_HEX;
    *cp = 0xfffd; /* a backslash at the end */
    if (++i >= len) return i;
    if (!isxdigit((unsigned char)s[i])) {
        *how = CSS_ESC_BYTE;
        *cp = (unsigned char)s[i];
        return i + 1;
    }
    uint32_t v = 0;
    for (int n = 0; n < 6 && i < len && isxdigit((unsigned char)s[i]); n++, i++) {
        int d = tolower((unsigned char)s[i]);
        v = v * 16 + (uint32_t)(isdigit(d) ? d - '0' : d - 'a' + 10);
    }
    if (i < len) i += css_space_len(s, len, i);
    if (v && (v < 0xd800 || v > 0xdfff) && v <= 0x10ffff) *cp = v;
    return i;
}

/* Whether the text at s[i], escapes decoded, is the ASCII word w (lower case,
 * compared without case); *next is the index after it. */
static int css_word(const char *s, size_t len, size_t i, const char *w, size_t *next)
{
    for (; *w; w++) {
        if (i >= len) return 0;
        uint32_t cp;
        int how;
        i = css_cp(s, len, i, &cp, &how);
        if (cp >= 0x80 || tolower((int)cp) != *w) return 0;
    }
    *next = i;
    return 1;
}

/* The index after the comment starting at s[i] ("/" "*"), or len. */
static size_t css_comment_end(const char *s, size_t len, size_t i)
{
    for (size_t j = i + 2; j + 1 < len; j++)
        if (s[j] == '*' && s[j + 1] == '/') return j + 2;
    return len;
}

/* Reads a CSS string starting at the quote s[i]; its value is s[*vs, *ve).
 * Returns the index after the closing quote, or of the newline that ends it
 * unclosed (tokens go on after it), or len. */
static size_t css_string(const char *s, size_t len, size_t i, size_t *vs, size_t *ve)
{
    char q = s[i++];
    *vs = i;
    while (i < len && s[i] != q && !css_newline(s[i])) {
        if (s[i] == '\\' && i + 1 < len) /* an escaped newline continues the string */
            i += 1 + (css_newline(s[i + 1]) ? css_space_len(s, len, i + 1) : 1);
        else
            i++;
    }
    *ve = i;
    return i < len && s[i] == q ? i + 1 : i;
}

/* s[a, b) with its escapes decoded (an escaped newline, in a string, is
 * dropped) as a malloc'd string; trim drops unescaped whitespace around it.
 * Decoding grows no text by more than half, plus 3 bytes at the end. */
static char *css_decode(const char *s, size_t a, size_t b, int trim)
{
    if (trim)
        while (a < b && css_space(s[a])) a++;
    char *o = malloc(2 * (b - a) + 4);
    if (!o) return NULL;
    size_t j = 0, keep = 0;
    for (size_t i = a; i < b;) {
        if (s[i] == '\\' && i + 1 < b && css_newline(s[i + 1])) {
            i += 1 + css_space_len(s, b, i + 1);
            continue;
        }
        uint32_t cp;
        int how;
        int space = css_space(s[i]);
        i = css_cp(s, b, i, &cp, &how);
        if (how == CSS_ESC_HEX)
            j += homing_utf8_encode(cp, o + j);
        else
            o[j++] = (char)cp;
        if (!space || how != CSS_RAW) keep = j;
    }
    o[trim ? keep : j] = '\0';
    return o;
}

/* The declarations of an inline style as a browser reads them: escapes
 * decoded, so d\69splay:n\6fne hides as display:none does, and each comment
 * a space, as it separates tokens (display:/ * x * /none hides; a comment
 * inside a name breaks it). An escape spelling ';' or ':' is part of a name
 * or value, not a delimiter: it becomes '_', as do ';' and ':' in strings,
 * which are otherwise kept as written.
 * Returns a malloc'd copy, or NULL when css needs none (or memory ran out:
 * the text is then read as written). */
static char *style_normalise(const char *css)
{
    size_t len = strlen(css);
    if (!strpbrk(css, "\\\"'") && !strstr(css, "/*")) return NULL;
    char *o = malloc(2 * len + 4); /* see css_decode */
    if (!o) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < len;) {
        if (css[i] == '/' && i + 1 < len && css[i + 1] == '*') {
            i = css_comment_end(css, len, i);
            o[j++] = ' ';
            continue;
        }
        if (css[i] == '"' || css[i] == '\'') {
            size_t vs, ve, end = css_string(css, len, i, &vs, &ve);
            for (; i < end; i++) o[j++] = css[i] == ';' || css[i] == ':' ? '_' : css[i];
            continue;
        }
        uint32_t cp;
        int how;
        i = css_cp(css, len, i, &cp, &how);
        if (how != CSS_RAW && (cp == ';' || cp == ':'))
            o[j++] = '_';
        else if (how == CSS_ESC_HEX)
            j += homing_utf8_encode(cp, o + j);
        else
            o[j++] = (char)cp;
    }
    o[j] = '\0';
    return o;
}

void scan_style_parse(const char *css, struct scan_style *st)
{
    char *norm = style_normalise(css);
    style_parse_plain(norm ? norm : css, st);
    free(norm);
}

/* The index of the ')' closing the parenthesis opened before s[i], or len;
 * comments, strings, escapes and nested parentheses are skipped. */
static size_t css_close(const char *s, size_t len, size_t i)
{
    int nest = 0;
    while (i < len) {
        if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
            i = css_comment_end(s, len, i);
        } else if (s[i] == '"' || s[i] == '\'') {
            size_t vs, ve;
            i = css_string(s, len, i, &vs, &ve);
        } else if (s[i] == ')' && nest-- == 0) {
            return i;
        } else {
            if (s[i] == '(') nest++;
            uint32_t cp;
            int how;
            i = css_cp(s, len, i, &cp, &how);
        }
    }
    return len;
}

/* After "url(" (s[i] is the first byte after the parenthesis): the URL,
 * quoted or not, into *u; returns the index after the closing ')'. */
static size_t css_url(const char *s, size_t len, size_t i, char **u)
{
    size_t j = i;
    while (j < len && css_space(s[j])) j++;
    if (j < len && (s[j] == '"' || s[j] == '\'')) {
        size_t vs, ve;
        j = css_string(s, len, j, &vs, &ve);
        *u = css_decode(s, vs, ve, 0);
        j = css_close(s, len, j);
    } else {
        /* a url token: it ends at the first unescaped ')', bad or not */
        while (j < len && s[j] != ')') {
            uint32_t cp;
            int how;
            j = css_cp(s, len, j, &cp, &how);
        }
        *u = css_decode(s, i, j, 1);
    }
    return j < len ? j + 1 : len;
}

/* A name followed by an unescaped '(' at s[i]: the index after the '('. */
static int css_function(const char *s, size_t len, size_t i, const char *name, size_t *after)
{
    size_t j;
    if (!css_word(s, len, i, name, &j) || j >= len || s[j] != '(') return 0;
    *after = j + 1;
    return 1;
}

/* The end of an at-rule's prelude: after its ';', or at its '{' or '}'. */
static size_t css_prelude_end(const char *s, size_t len, size_t j)
{
    while (j < len && s[j] != ';' && s[j] != '{' && s[j] != '}') {
        if (s[j] == '/' && j + 1 < len && s[j + 1] == '*') {
            j = css_comment_end(s, len, j);
        } else if (s[j] == '"' || s[j] == '\'') {
            size_t vs, ve;
            j = css_string(s, len, j, &vs, &ve);
        } else {
            uint32_t cp;
            int how;
            j = css_cp(s, len, j, &cp, &how);
        }
    }
    return j < len && s[j] == ';' ? j + 1 : j;
}

int scan_css_ambiguous(const char *s, size_t len)
{
    for (const char *p = s; (p = memchr(p, '\\', len - (size_t)(p - s))) != NULL; p++)
        if (p > s && (unsigned char)p[-1] >= 0x80) return 1;
    return 0;
}

int scan_css_walk(const char *s, size_t len, int (*fn)(void *ctx, const struct scan_css_ref *ref),
                  void *ctx)
{
    int depth = 0, font_pending = 0, font_depth = -1;
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        size_t j;
        if (c == '/' && i + 1 < len && s[i + 1] == '*') {
            i = css_comment_end(s, len, i);
            continue;
        }
        if (c == '"' || c == '\'') {
            size_t vs, ve;
            i = css_string(s, len, i, &vs, &ve);
            continue;
        }
        if (c == '{') {
            depth++;
            if (font_pending) {
                font_depth = depth;
                font_pending = 0;
            }
            i++;
            continue;
        }
        if (c == '}') {
            if (depth == font_depth) font_depth = -1;
            if (depth > 0) depth--;
            i++;
            continue;
        }
        if (c == '@' && css_word(s, len, i + 1, "import", &j)) {
            size_t start = i;
            char *u = NULL;
            while (j < len && css_space(s[j])) j++;
            if (j < len && (s[j] == '"' || s[j] == '\'')) {
                size_t vs, ve;
                j = css_string(s, len, j, &vs, &ve);
                u = css_decode(s, vs, ve, 0);
            } else if (css_function(s, len, j, "url", &j)) {
                j = css_url(s, len, j, &u);
            }
            j = css_prelude_end(s, len, j);
            struct scan_css_ref r = {SCAN_CSS_IMPORT, start, j, u ? u : strdup("")};
            int rc = r.url ? fn(ctx, &r) : -ENOMEM;
            free(r.url);
            if (rc < 0) return rc;
            i = j;
            continue;
        }
        if (c == '@' && css_word(s, len, i + 1, "font-face", &j)) {
            font_pending = 1;
            i = j;
            continue;
        }
        uint32_t cp;
        int how;
        size_t next = css_cp(s, len, i, &cp, &how);
        int lc = cp < 0x80 ? tolower((int)cp) : 0;
        if (lc == 'u' && css_function(s, len, i, "url", &j)) {
            char *u = NULL;
            size_t end = css_url(s, len, j, &u);
            struct scan_css_ref r = {font_depth >= 0 ? SCAN_CSS_FONT : SCAN_CSS_URL, i, end, u};
            int rc = u ? fn(ctx, &r) : -ENOMEM;
            free(u);
            if (rc < 0) return rc;
            i = end;
            continue;
        }
        if ((lc == 'i' &&
             (css_function(s, len, i, "image-set", &j) || css_function(s, len, i, "image", &j))) ||
            (lc == '-' && css_function(s, len, i, "-webkit-image-set", &j)) ||
            (lc == 's' && css_function(s, len, i, "src", &j))) {
            /* the whole function goes; its first URL (a string or url()) is reported.
             * src("...") is CSS Values 4's url() that takes a string: no
             * browser loads from it yet, one that does must find it gone. */
            char *u = NULL;
            int nest = 0;
            while (j < len) {
                size_t k;
                if (s[j] == '/' && j + 1 < len && s[j + 1] == '*') {
                    j = css_comment_end(s, len, j);
                } else if (s[j] == '"' || s[j] == '\'') {
                    size_t vs, ve;
                    k = css_string(s, len, j, &vs, &ve);
                    if (!u && !(u = css_decode(s, vs, ve, 0))) return -ENOMEM;
                    j = k;
                } else if (s[j] == ')' && nest-- == 0) {
                    break;
                } else if (!u && css_function(s, len, j, "url", &k)) {
                    j = css_url(s, len, k, &u);
                    if (!u) return -ENOMEM;
                } else {
                    if (s[j] == '(') nest++;
                    j = css_cp(s, len, j, &cp, &how);
                }
            }
            size_t end = j < len ? j + 1 : len;
            struct scan_css_ref r = {SCAN_CSS_IMAGESET, i, end, u ? u : strdup("")};
            int rc = r.url ? fn(ctx, &r) : -ENOMEM;
            free(r.url);
            if (rc < 0) return rc;
            i = end;
            continue;
        }
        i = next;
    }
    return 0;
}

/* ---- the document walk ---- */

struct walk {
    const char *html;
    size_t len;
    struct scan_refs *refs;
    int err;
};

static int in_buf(const struct walk *w, const char *p)
{
    return p >= w->html && p <= w->html + w->len;
}

static struct scan_ref *ref_new(struct walk *w, int type, const char *element,
                                const char *attribute, const char *url)
{
    struct scan_refs *r = w->refs;
    if (r->n >= SCAN_REFS_MAX) {
        r->truncated = 1;
        return NULL;
    }
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 32;
        void *nv = realloc(r->v, nc * sizeof *r->v);
        if (!nv) {
            w->err = -ENOMEM;
            return NULL;
        }
        r->v = nv;
        r->cap = nc;
    }
    struct scan_ref *x = &r->v[r->n];
    memset(x, 0, sizeof *x);
    x->url = strndup(url, HOMING_SCAN_URL_MAX);
    if (!x->url) {
        w->err = -ENOMEM;
        return NULL;
    }
    x->type = type;
    x->element = element;
    x->attribute = attribute;
    x->w = x->h = -1;
    r->n++;
    return x;
}

static int html_escape_attr(struct homing_buf *out, const char *s, size_t n);

static int is_html_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* The source span of an attribute's value, quotes included, found by the
 * tokenizer's rules from the end of its name: gumbo's original_value is off
 * for unquoted values holding character references, and a splice at a wrong
 * offset would leave the load in place. 0 if the attribute has no value. */
static int value_span(const struct walk *w, const GumboAttribute *a, size_t *vs, size_t *ve)
{
    if (!in_buf(w, a->original_name.data) || !a->original_name.length) return 0;
    size_t i = (size_t)(a->original_name.data - w->html) + a->original_name.length;
    const char *h = w->html;
    size_t n = w->len;
    while (i < n && is_html_space(h[i])) i++;
    if (i >= n || h[i] != '=') return 0;
    i++;
    while (i < n && is_html_space(h[i])) i++;
    if (i >= n || h[i] == '>') return 0;
    *vs = i;
    if (h[i] == '"' || h[i] == '\'') {
        const char *q = memchr(h + i + 1, h[i], n - i - 1);
        *ve = q ? (size_t)(q - h) + 1 : n;
    } else {
        while (i < n && !is_html_space(h[i]) && h[i] != '>') i++;
        *ve = i;
    }
    return 1;
}

/* A reference through an attribute. It is neutralised by replacing the value,
 * not by renaming the attribute: the HTML tokenizer keeps the first of
 * duplicate attributes, so a renamed first "src" would let a second one load.
 * The original value is kept beside it in an inert data- attribute. */
static struct scan_ref *attr_ref(struct walk *w, int type, int kind, const char *element,
                                 const char *attribute, const GumboAttribute *a, const char *url)
{
    struct scan_ref *x = ref_new(w, type, element, attribute, url);
    if (!x) return NULL;
    x->kind = kind;
    if (!value_span(w, a, &x->vstart, &x->vend)) return x;
    if (type == SCAN_REF_LINK) return x; /* links are unwrapped, never blocked */
    struct homing_buf b;
    homing_buf_init(&b, HOMING_SCAN_HTML_MAX);
    int r = homing_buf_printf(
        &b, "\"%s\" " SCAN_RENAME_PREFIX "%s=\"",
        strcmp(attribute, "http-equiv") == 0 ? "x-homing-blocked" : "about:blank", attribute);
    if (r == 0) r = html_escape_attr(&b, a->value, strlen(a->value));
    if (r == 0) r = homing_buf_puts(&b, "\"");
    if (r < 0) {
        homing_buf_free(&b);
        w->err = r;
        return NULL;
    }
    x->edit = SCAN_EDIT_REPLACE;
    x->start = x->vstart;
    x->end = x->vend;
    x->repl = homing_buf_steal(&b);
    return x;
}

struct css_ctx {
    struct walk *w;
    const char *element, *attribute;
    size_t base; /* offset of the CSS text in the document, for <style> */
    int splice;  /* 1: edits at base+offset; 0: refs carry no edit (style attribute) */
    int hidden;
    const char *hidden_why;
    size_t first; /* index of the first ref made */
    int any;
};

static int css_ref(void *ctx, const struct scan_css_ref *r)
{
    struct css_ctx *c = ctx;
    int type = SCAN_REF_IMAGE, kind = HOMING_SCAN_CSS_BEACON;
    if (r->type == SCAN_CSS_IMPORT) type = SCAN_REF_LOAD, kind = HOMING_SCAN_CSS_IMPORT;
    if (r->type == SCAN_CSS_FONT) type = SCAN_REF_LOAD, kind = HOMING_SCAN_FONT_BEACON;
    if (!scan_url_needs_strip(r->url)) return 0;
    struct scan_ref *x = ref_new(c->w, type, c->element, c->attribute, r->url);
    if (!x) return c->w->err ? c->w->err : -E2BIG;
    x->kind = kind;
    x->css = 1;
    x->hidden = c->hidden;
    x->hidden_why = c->hidden_why;
    if (c->splice) {
        x->edit = SCAN_EDIT_REPLACE;
        x->start = c->base + r->start;
        x->end = c->base + r->end;
        x->repl = strdup(r->type == SCAN_CSS_IMPORT ? "" : "none");
        if (!x->repl) return c->w->err = -ENOMEM;
    }
    if (!c->any) c->first = c->w->refs->n - 1;
    c->any = 1;
    return 0;
}

/* The CSS text with every reference neutralised, for a style attribute. */
struct neut {
    struct homing_buf *b;
    const char *s;
    size_t pos;
};
static int neut_ref(void *ctx, const struct scan_css_ref *r)
{
    struct neut *n = ctx;
    if (!scan_url_needs_strip(r->url)) return 0;
    int rc = homing_buf_append(n->b, n->s + n->pos, r->start - n->pos);
    if (rc == 0) rc = homing_buf_puts(n->b, r->type == SCAN_CSS_IMPORT ? "" : "none");
    n->pos = r->end;
    return rc;
}

static int html_escape_attr(struct homing_buf *out, const char *s, size_t n)
{
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        switch (s[i]) {
        case '&': r = homing_buf_puts(out, "&amp;"); break;
        case '"': r = homing_buf_puts(out, "&quot;"); break;
        case '<': r = homing_buf_puts(out, "&lt;"); break;
        case '>': r = homing_buf_puts(out, "&gt;"); break;
        default: r = homing_buf_append(out, s + i, 1);
        }
    }
    return r;
}

static void style_attr(struct walk *w, const char *element, const GumboAttribute *a, int hidden,
                       const char *why)
{
    struct css_ctx c = {.w = w,
                        .element = element,
                        .attribute = "style",
                        .splice = 0,
                        .hidden = hidden,
                        .hidden_why = why};
    size_t vl = strlen(a->value);
    int escaped = scan_css_ambiguous(a->value, vl); /* see the <style> case in walk_node */
    if (scan_css_walk(a->value, vl, css_ref, &c) < 0 || (!c.any && !escaped)) return;
    size_t vs, ve;
    if (!value_span(w, a, &vs, &ve)) return;
    /* The decoded value is what the browser sees, so the neutralised copy is
     * built from it (entity tricks like &#117;rl( cannot survive) and replaces
     * the whole original value. */
    if (escaped) {
        if (!c.any) {
            struct scan_ref *y = ref_new(w, SCAN_REF_LOAD, element, "style", "about:css-escapes");
            if (!y) return;
            y->kind = -1;
            c.first = w->refs->n - 1;
        }
        struct scan_ref *x = &w->refs->v[c.first];
        x->edit = SCAN_EDIT_REPLACE;
        x->start = vs;
        x->end = ve;
        if (!(x->repl = strdup("\"\""))) w->err = -ENOMEM;
        return;
    }
    struct homing_buf css, out;
    homing_buf_init(&css, HOMING_SCAN_HTML_MAX);
    homing_buf_init(&out, HOMING_SCAN_HTML_MAX);
    struct neut n = {&css, a->value, 0};
    int r = scan_css_walk(a->value, vl, neut_ref, &n);
    if (r == 0) r = homing_buf_append(&css, a->value + n.pos, vl - n.pos);
    if (r == 0) r = homing_buf_puts(&out, "\"");
    if (r == 0) r = html_escape_attr(&out, css.data ? css.data : "", css.len);
    if (r == 0) r = homing_buf_puts(&out, "\"");
    homing_buf_free(&css);
    if (r < 0) {
        homing_buf_free(&out);
        w->err = r == -E2BIG ? -E2BIG : r;
        return;
    }
    struct scan_ref *x = &w->refs->v[c.first];
    x->edit = SCAN_EDIT_REPLACE;
    x->start = vs;
    x->end = ve;
    x->repl = homing_buf_steal(&out);
}

static const GumboAttribute *attr(const GumboElement *e, const char *name)
{
    return gumbo_get_attribute(&e->attributes, name);
}

static int attr_int(const GumboElement *e, const char *name)
{
    const GumboAttribute *a = attr(e, name);
    int v;
    if (a && parse_px(a->value, &v)) return v;
    return -1;
}

/* srcset: "a.png 1x, b.png 2x" -> one reference per candidate URL. */
static void srcset_refs(struct walk *w, const char *element, const GumboAttribute *a, int hidden,
                        const char *why, int w_, int h_)
{
    const char *p = a->value;
    int first = 1;
    while (*p) {
        while (*p && (isspace((unsigned char)*p) || *p == ',')) p++;
        size_t n = strcspn(p, " \t\n\r\f");
        if (!n) break;
        char u[HOMING_SCAN_URL_MAX];
        size_t k = n < sizeof u - 1 ? n : sizeof u - 1;
        memcpy(u, p, k);
        u[k] = '\0';
        if (k && u[k - 1] == ',') u[k - 1] = '\0';
        p += n;
        p += strcspn(p, ",");
        if (!scan_url_needs_strip(u)) continue;
        struct scan_ref *x = first ? attr_ref(w, SCAN_REF_IMAGE, 0, element, "srcset", a, u)
                                   : ref_new(w, SCAN_REF_IMAGE, element, "srcset", u);
        if (!x) return;
        x->css = 1;
        x->hidden = hidden;
        x->hidden_why = why;
        x->w = w_;
        x->h = h_;
        first = 0;
    }
}

static const char *const link_load_rels[] = {
    "stylesheet", "prefetch",      "dns-prefetch",     "preconnect", "preload", "prerender",
    "icon",       "modulepreload", "apple-touch-icon", "manifest",   NULL};

static void element_refs(struct walk *w, const GumboNode *node, int hidden, const char *why)
{
    const GumboElement *e = &node->v.element;
    const char *tag = gumbo_normalized_tagname(e->tag);
    if (e->tag == GUMBO_TAG_UNKNOWN) tag = "unknown";
    int width = attr_int(e, "width"), height = attr_int(e, "height");
    const GumboAttribute *st = attr(e, "style");
    if (st) {
        struct scan_style s;
        scan_style_parse(st->value, &s);
        if (s.w >= 0) width = s.w;
        if (s.h >= 0) height = s.h;
    }
    for (unsigned i = 0; i < e->attributes.length; i++) {
        const GumboAttribute *a = e->attributes.data[i];
        const char *n = a->name;
        const char *v = a->value;
        struct scan_ref *x = NULL;
        if (strcasecmp(n, "style") == 0) {
            style_attr(w, tag, a, hidden, why);
            continue;
        }
        if (strcasecmp(n, "srcset") == 0) {
            srcset_refs(w, tag, a, hidden, why, width, height);
            continue;
        }
        if (!scan_url_needs_strip(v) && strcasecmp(n, "http-equiv") != 0) continue;
        if (strcasecmp(n, "src") == 0 || strcasecmp(n, "lowsrc") == 0 ||
            strcasecmp(n, "dynsrc") == 0) {
            switch (e->tag) {
            case GUMBO_TAG_IMG:
            case GUMBO_TAG_INPUT:
            case GUMBO_TAG_IMAGE: x = attr_ref(w, SCAN_REF_IMAGE, 0, tag, "src", a, v); break;
            case GUMBO_TAG_SOURCE:
                x = attr_ref(w, SCAN_REF_IMAGE, HOMING_SCAN_MEDIA, tag, "src", a, v);
                if (x) x->css = 1;
                break;
            case GUMBO_TAG_IFRAME:
            case GUMBO_TAG_FRAME:
                x = attr_ref(w, SCAN_REF_LOAD, HOMING_SCAN_FRAME, tag, "src", a, v);
                break;
            case GUMBO_TAG_EMBED:
                x = attr_ref(w, SCAN_REF_LOAD, HOMING_SCAN_OBJECT, tag, "src", a, v);
                break;
            case GUMBO_TAG_SCRIPT:
                x = attr_ref(w, SCAN_REF_LOAD, HOMING_SCAN_SCRIPT, tag, "src", a, v);
                break;
            default: x = attr_ref(w, SCAN_REF_LOAD, HOMING_SCAN_MEDIA, tag, "src", a, v);
            }
        } else if (strcasecmp(n, "background") == 0) {
            x = attr_ref(w, SCAN_REF_IMAGE, 0, tag, "background", a, v);
            if (x) x->css = 1;
        } else if (strcasecmp(n, "poster") == 0) {
            x = attr_ref(w, SCAN_REF_LOAD, HOMING_SCAN_MEDIA, tag, "poster", a, v);
        } else if (strcasecmp(n, "srcdoc") == 0) {
            x = attr_ref(w, SCAN_REF_LOAD, HOMING_SCAN_FRAME, tag, "srcdoc", a, "about:srcdoc");
        } else if (strcasecmp(n, "data") == 0 && e->tag == GUMBO_TAG_OBJECT) {
            x = attr_ref(w, SCAN_REF_LOAD, HOMING_SCAN_OBJECT, tag, "data", a, v);
        } else if (strcasecmp(n, "codebase") == 0 || strcasecmp(n, "archive") == 0 ||
                   strcasecmp(n, "manifest") == 0) {
            /* static names only: gumbo's strings die with its tree */
            const char *an = strcasecmp(n, "codebase") == 0  ? "codebase"
                             : strcasecmp(n, "archive") == 0 ? "archive"
                                                             : "manifest";
            x = attr_ref(w, SCAN_REF_LOAD, HOMING_SCAN_OBJECT, tag, an, a, v);
        } else if (strcasecmp(n, "ping") == 0) {
            x = attr_ref(w, SCAN_REF_LOAD, HOMING_SCAN_LINK_LOAD, tag, "ping", a, v);
        } else if ((strcasecmp(n, "href") == 0 || strcasecmp(n, "xlink:href") == 0) &&
                   e->tag_namespace == GUMBO_NAMESPACE_SVG &&
                   (e->tag == GUMBO_TAG_IMAGE || e->tag == GUMBO_TAG_UNKNOWN)) {
            /* svg <image>, and <use>/<feImage> which gumbo does not name */
            x = attr_ref(w, SCAN_REF_IMAGE, 0, "svg:image", "href", a, v);
        } else if (strcasecmp(n, "href") == 0 && e->tag == GUMBO_TAG_LINK) {
            const GumboAttribute *rel = attr(e, "rel");
            int loads = 0;
            if (rel)
                for (size_t k = 0; link_load_rels[k]; k++)
                    if (strcasestr(rel->value, link_load_rels[k])) loads = 1;
            x = attr_ref(w, SCAN_REF_LOAD, loads ? HOMING_SCAN_LINK_LOAD : -1, tag, "href", a, v);
        } else if (strcasecmp(n, "href") == 0 &&
                   (e->tag == GUMBO_TAG_A || e->tag == GUMBO_TAG_AREA)) {
            x = attr_ref(w, SCAN_REF_LINK, HOMING_SCAN_WRAPPED_LINK, tag, "href", a, v);
        } else if (strcasecmp(n, "http-equiv") == 0 && e->tag == GUMBO_TAG_META &&
                   strcasecmp(v, "refresh") == 0) {
            const GumboAttribute *c = attr(e, "content");
            const char *u = c ? strcasestr(c->value, "url=") : NULL;
            u = u ? u + 4 : (c ? c->value : "");
            while (*u == '\'' || *u == '"' || *u == ' ') u++;
            char ub[HOMING_SCAN_URL_MAX];
            homing_strlcpy(ub, u, sizeof ub);
            size_t ul = strlen(ub);
            while (ul && (ub[ul - 1] == '\'' || ub[ul - 1] == '"' || ub[ul - 1] == ' '))
                ub[--ul] = '\0';
            x = attr_ref(w, SCAN_REF_LOAD, HOMING_SCAN_META_REFRESH, tag, "http-equiv", a,
                         *ub ? ub : "about:refresh");
        }
        if (x) {
            x->hidden = hidden;
            x->hidden_why = why;
            x->w = width;
            x->h = height;
        }
        if (w->err) return;
    }
}

/* The text of every descendant of n (character references decoded, CDATA
 * included, comments not): the CSS of an SVG or MathML <style>. */
static int foreign_text(const GumboNode *n, struct homing_buf *css, int depth)
{
    if (depth > HOMING_SCAN_HTML_DEPTH_MAX) return -E2BIG;
    const GumboVector *ch = &n->v.element.children;
    int r = 0;
    for (unsigned i = 0; i < ch->length && r == 0; i++) {
        const GumboNode *c = ch->data[i];
        if (c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_CDATA ||
            c->type == GUMBO_NODE_WHITESPACE)
            r = homing_buf_puts(css, c->v.text.text);
        else if (c->type == GUMBO_NODE_ELEMENT || c->type == GUMBO_NODE_TEMPLATE)
            r = foreign_text(c, css, depth + 1);
    }
    return r;
}

/* Removes the source of every text and CDATA node below n; the first edit
 * goes to the reference *first (then set to none), so strip counts the load
 * by its kind, the others to markers of their own. */
static void foreign_remove(struct walk *w, const GumboNode *n, int depth, struct scan_ref **first)
{
    const GumboVector *ch = &n->v.element.children;
    for (unsigned i = 0; i < ch->length && !w->err && depth <= HOMING_SCAN_HTML_DEPTH_MAX; i++) {
        const GumboNode *c = ch->data[i];
        if (c->type == GUMBO_NODE_ELEMENT || c->type == GUMBO_NODE_TEMPLATE) {
            foreign_remove(w, c, depth + 1, first);
            continue;
        }
        if (c->type != GUMBO_NODE_TEXT && c->type != GUMBO_NODE_CDATA &&
            c->type != GUMBO_NODE_WHITESPACE)
            continue;
        const GumboStringPiece *o = &c->v.text.original_text;
        if (!o->length || !in_buf(w, o->data)) continue;
        struct scan_ref *x = *first;
        *first = NULL;
        if (!x && (x = ref_new(w, SCAN_REF_LOAD, "style", "text", "about:css-foreign")))
            x->kind = -1;
        if (!x) return;
        x->edit = SCAN_EDIT_REPLACE;
        x->start = (size_t)(o->data - w->html);
        x->end = x->start + o->length;
        if (!(x->repl = strdup(""))) w->err = -ENOMEM;
    }
}

/* <style> in SVG or MathML is not RAWTEXT: its CSS is the text of all its
 * descendants, with character references decoded (&#117;rl(), CDATA sections
 * and elements in between (u<x/>rl(), so it cannot be spliced in place. Its
 * loads are listed from that text, and when there are any (or the CSS is
 * beyond the limits or ambiguous) strip removes all of the text. */
static void foreign_style(struct walk *w, const GumboNode *node)
{
    struct homing_buf css;
    homing_buf_init(&css, HOMING_SCAN_HTML_MAX);
    struct css_ctx c = {.w = w, .element = "style", .attribute = "text"};
    int r = foreign_text(node, &css, 0);
    if (r == 0) r = scan_css_walk(css.data ? css.data : "", css.len, css_ref, &c);
    int remove = r < 0 || c.any || scan_css_ambiguous(css.data ? css.data : "", css.len);
    homing_buf_free(&css);
    if (w->err) return;
    if (r < 0 && r != -E2BIG) {
        w->err = r;
        return;
    }
    struct scan_ref *first = c.any ? &w->refs->v[c.first] : NULL;
    if (remove) foreign_remove(w, node, 0, &first);
}

static void walk_node(struct walk *w, const GumboNode *node, int depth, int hidden, const char *why)
{
    if (w->err || depth > HOMING_SCAN_HTML_DEPTH_MAX) {
        if (depth > HOMING_SCAN_HTML_DEPTH_MAX) w->refs->truncated = 1;
        return;
    }
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE) return;
    const GumboElement *e = &node->v.element;
    if (!hidden) {
        const GumboAttribute *st = attr(e, "style");
        if (st) {
            struct scan_style s;
            scan_style_parse(st->value, &s);
            if (s.hidden) hidden = 1, why = s.why;
        }
        if (!hidden && attr(e, "hidden") && e->tag != GUMBO_TAG_INPUT) {
            hidden = 1;
            why = "hidden attribute";
        }
    }
    element_refs(w, node, hidden, why);
    if (e->tag == GUMBO_TAG_STYLE && e->tag_namespace != GUMBO_NAMESPACE_HTML) {
        foreign_style(w, node);
    } else if (e->tag == GUMBO_TAG_STYLE) {
        for (unsigned i = 0; i < e->children.length; i++) {
            const GumboNode *t = e->children.data[i];
            if (t->type != GUMBO_NODE_TEXT && t->type != GUMBO_NODE_WHITESPACE) continue;
            const GumboText *tx = &t->v.text;
            if (!in_buf(w, tx->original_text.data)) continue;
            struct css_ctx c = {.w = w,
                                .element = "style",
                                .attribute = "text",
                                .base = (size_t)(tx->original_text.data - w->html),
                                .splice = 1,
                                .hidden = 0};
            /* A backslash after a non-ASCII byte may or may not escape what
             * follows, depending on the charset (scan_css_ambiguous): such a
             * style sheet is removed whole by strip rather than spliced. */
            int escaped = scan_css_ambiguous(tx->original_text.data, tx->original_text.length);
            c.splice = !escaped;
            /* RAWTEXT: the original text is what the CSS parser sees */
            int r = scan_css_walk(tx->original_text.data, tx->original_text.length, css_ref, &c);
            if (r < 0 && r != -E2BIG && !w->err) w->err = r;
            if (escaped && !w->err) {
                struct scan_ref *x =
                    ref_new(w, SCAN_REF_LOAD, "style", "text", "about:css-escapes");
                if (!x) break;
                x->kind = -1;
                x->edit = SCAN_EDIT_REPLACE;
                x->start = c.base;
                x->end = c.base + tx->original_text.length;
                if (!(x->repl = strdup(""))) w->err = -ENOMEM;
            }
        }
    }
    for (unsigned i = 0; i < e->children.length && !w->err; i++)
        walk_node(w, e->children.data[i], depth + 1, hidden, why);
}

int scan_collect(const char *html, size_t len, struct scan_refs *out)
{
    if (!html) html = "";
    if (len > HOMING_SCAN_HTML_MAX) return -E2BIG;
    memset(out, 0, sizeof *out);
    /* gumbo has no limits of its own: its time grows with the square of the
     * nesting and it frees its tree recursively */
    int r = html_depth_check(html, len, NULL);
    if (r < 0) return r;
    /* in an arena dropped whole: gumbo_destroy_output frees the tree
     * recursively, so it is never called */
    struct gumbo_arena arena = {0};
    GumboOutput *g = gumbo_arena_parse(&arena, html, len);
    if (!g) {
        gumbo_arena_release(&arena);
        return -ENOMEM;
    }
    struct walk w = {.html = html, .len = len, .refs = out};
    walk_node(&w, g->root, 0, 0, NULL);
    /* the document node's siblings of <html> (comments) load nothing */
    gumbo_arena_release(&arena);
    if (w.err) {
        scan_refs_free(out);
        return w.err;
    }
    return 0;
}

void scan_refs_free(struct scan_refs *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].url);
        free(r->v[i].repl);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}

size_t scan_refs_count_url(const struct scan_refs *refs, const char *url)
{
    size_t c = 0;
    for (size_t i = 0; i < refs->n; i++)
        if (refs->v[i].type == SCAN_REF_IMAGE && strcmp(refs->v[i].url, url) == 0) c++;
    return c;
}

/* ---- judging ---- */

/* Public web-font services: every sender's mail loads the same style sheets
 * and font files from them, so a load tells the service an address but tells
 * the sender nothing (the URL names a font, not a reader). Their style sheet,
 * font and preconnect loads are not tracking unless a rule or the recipient's
 * address in the URL says otherwise (strip still neutralises them). */
static int shared_font_service(const char *host)
{
    static const char *const hosts[] = {"fonts.googleapis.com", "fonts.gstatic.com",
                                        "fonts.bunny.net",      "use.typekit.net",
                                        "fast.fonts.net",       NULL};
    for (size_t i = 0; hosts[i]; i++)
        if (strcmp(host, hosts[i]) == 0) return 1;
    return 0;
}

int scan_ref_classify(const struct scan_ref *r, const struct homing_trackers *t, size_t count,
                      char *why, size_t whycap, const struct homing_tracker_rule **rule,
                      char *idtok, size_t idcap)
{
    *rule = NULL;
    if (idtok && idcap) idtok[0] = '\0';
    if (r->type == SCAN_REF_LINK) return -1; /* links are judged by the caller */
    int remote = scan_url_is_remote(r->url) || strcmp(r->url, "about:srcdoc") == 0 ||
                 strcmp(r->url, "about:refresh") == 0;
    if (!remote) return -1;
    struct scan_url u;
    if (scan_url_parse(r->url, &u) < 0) return -1;
    const struct homing_tracker_rule *m =
        homing_trackers_match(t, u.host, u.path, HOMING_TRACKER_PIXEL);
    *rule = m ? m : homing_trackers_vendor(t, u.host);
    int kind = -1;
    if (r->type == SCAN_REF_LOAD) {
        kind = r->kind;
        if (!m && shared_font_service(u.host) &&
            (kind == HOMING_SCAN_CSS_IMPORT || kind == HOMING_SCAN_FONT_BEACON ||
             kind == HOMING_SCAN_LINK_LOAD))
            kind = -1;
        if (kind >= 0) {
            static const char *const what[HOMING_SCAN_KIND_COUNT] = {
                [HOMING_SCAN_CSS_IMPORT] = "@import loads a remote stylesheet on opening",
                [HOMING_SCAN_FONT_BEACON] = "@font-face loads a remote font on opening",
                [HOMING_SCAN_LINK_LOAD] = "<link> makes the client contact the host",
                [HOMING_SCAN_FRAME] = "a frame loads remote content on opening",
                [HOMING_SCAN_OBJECT] = "an embedded object loads remote content",
                [HOMING_SCAN_MEDIA] = "a media element loads a remote resource",
                [HOMING_SCAN_SCRIPT] = "a script loads from a remote host",
                [HOMING_SCAN_META_REFRESH] = "meta refresh navigates to a remote URL",
            };
            snprintf(why, whycap, "%s%s%s", what[kind] ? what[kind] : "remote load",
                     m ? "; known tracker: " : "", m ? m->vendor : "");
        }
        scan_url_free(&u);
        return kind;
    }
    int css = r->css;
    char tok[48];
    if (m) {
        kind = css ? HOMING_SCAN_CSS_BEACON : HOMING_SCAN_TRACKER_IMAGE;
        snprintf(why, whycap, "known tracker %s (%s%s, rule line %u)", m->vendor, m->host,
                 strcmp(m->path, "*") ? m->path : "", m->line);
    } else if (count >= HOMING_SCAN_SPACER_REPEATS) {
        kind = -1; /* the same image many times is a layout spacer, not a beacon */
    } else if (r->hidden) {
        kind = css ? HOMING_SCAN_CSS_BEACON : HOMING_SCAN_PIXEL;
        snprintf(why, whycap, "hidden remote image (%s)", r->hidden_why ? r->hidden_why : "hidden");
    } else if ((r->w >= 0 && r->w <= HOMING_SCAN_TINY_SIDE) ||
               (r->h >= 0 && r->h <= HOMING_SCAN_TINY_SIDE) ||
               (r->w >= 0 && r->h >= 0 && r->w * r->h <= HOMING_SCAN_TINY_AREA)) {
        kind = css ? HOMING_SCAN_CSS_BEACON : HOMING_SCAN_PIXEL;
        char ws[16] = "?", hs[16] = "?";
        if (r->w >= 0) snprintf(ws, sizeof ws, "%d", r->w);
        if (r->h >= 0) snprintf(hs, sizeof hs, "%d", r->h);
        snprintf(why, whycap, "tiny remote image (declared %sx%s)", ws, hs);
    } else if (r->w < 0 && r->h < 0 && scan_url_has_id(&u, tok, sizeof tok)) {
        kind = css ? HOMING_SCAN_CSS_BEACON : HOMING_SCAN_ID_IMAGE;
        snprintf(why, whycap, "remote image without a declared size, URL carries id '%s'", tok);
        if (idtok && idcap) homing_strlcpy(idtok, tok, idcap);
    } else if (css && scan_url_has_id(&u, tok, sizeof tok)) {
        kind = HOMING_SCAN_CSS_BEACON;
        snprintf(why, whycap, "CSS image URL carries id '%s'", tok);
        if (idtok && idcap) homing_strlcpy(idtok, tok, idcap);
    }
    scan_url_free(&u);
    return kind;
}

/* ---- allow-list ---- */

struct homing_allow {
    char *text;
    size_t n;
    struct {
        const char *sender, *host;
    } e[];
};

int homing_allow_parse(const char *text, size_t len, struct homing_allow **out, char *err,
                       size_t errcap)
{
    if (len > HOMING_TRACKERS_FILE_MAX || memchr(text, '\0', len)) {
        snprintf(err, errcap, "allow-list too large or binary");
        return -EINVAL;
    }
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    if (lines > HOMING_ALLOW_MAX) {
        snprintf(err, errcap, "more than %d lines", HOMING_ALLOW_MAX);
        return -E2BIG;
    }
    struct homing_allow *a = calloc(1, sizeof *a + lines * sizeof a->e[0]);
    if (!a || !(a->text = strndup(text, len))) {
        free(a);
        return -ENOMEM;
    }
    struct homing_lines it;
    homing_lines_init(&it, a->text, len, len, 0);
    char *line;
    while (homing_lines_next(&it, &line, NULL) > 0) {
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        for (char *c = line; *c; c++) *c = (char)tolower((unsigned char)*c);
        char *f[3];
        size_t nf = 0;
        for (char *save = NULL, *w = strtok_r(line, " \t\r", &save); w && nf < 3;
             w = strtok_r(NULL, " \t\r", &save))
            f[nf++] = w;
        if (nf == 0) continue;
        if (nf != 2 || strlen(f[0]) > 320 || strlen(f[1]) > 253) {
            snprintf(err, errcap, "line %ld: expected 'SENDER HOST'", it.lineno);
            homing_allow_free(a);
            return -EINVAL;
        }
        a->e[a->n].sender = f[0];
        a->e[a->n].host = f[1];
        a->n++;
    }
    *out = a;
    return 0;
}

void homing_allow_free(struct homing_allow *a)
{
    if (!a) return;
    free(a->text);
    free(a);
}

static int domain_match(const char *name, const char *dom)
{
    size_t n = strlen(name), d = strlen(dom);
    if (n < d || strcasecmp(name + n - d, dom) != 0) return 0;
    return n == d || name[n - d - 1] == '.' || name[n - d - 1] == '@';
}

int homing_allow_match(const struct homing_allow *a, const char *sender, const char *host)
{
    if (!a || !host) return 0;
    for (size_t i = 0; i < a->n; i++) {
        const char *s = a->e[i].sender;
        int sm = strcmp(s, "*") == 0 ||
                 (sender && (strchr(s, '@') ? strcasecmp(sender, s) == 0
                                            : domain_match(sender, s[0] == '@' ? s + 1 : s)));
        if (sm && domain_match(host, a->e[i].host)) return 1;
    }
    return 0;
}

/* ---- links ---- */

/* A link is a finding when a wrapper's destination is recoverable, or when it
 * goes through a known click tracker. */
static int judge_link(const struct homing_trackers *t, const struct scan_url *u, const char *url,
                      const char *part, const char *element, const char *attribute,
                      struct homing_scan_result *res)
{
    char why[512];
    char *dest = NULL;
    int r = 0;
    int k = scan_url_unwrap(t, url, &dest, why, sizeof why);
    const struct homing_tracker_rule *m =
        homing_trackers_match(t, u->host, u->path, HOMING_TRACKER_CLICK);
    const struct homing_tracker_rule *v = m ? m : homing_trackers_vendor(t, u->host);
    if (k > 0)
        r = scan_add(res, HOMING_SCAN_WRAPPED_LINK, part, element, attribute, url,
                     v ? v->vendor : NULL, why, dest);
    else if (m) {
        snprintf(why, sizeof why, "known click tracker %s (%s%s, rule line %u)", m->vendor, m->host,
                 strcmp(m->path, "*") ? m->path : "", m->line);
        r = scan_add(res, HOMING_SCAN_TRACKED_LINK, part, element, attribute, url, m->vendor, why,
                     NULL);
    }
    free(dest);
    return r;
}

/* URLs in a text/plain part: nothing loads from them, but they can be wrapped
 * or tracked links and can carry the recipient's address. */
int homing_scan_text(const char *text, size_t len, const struct homing_scan_options *o,
                     const char *sender, const char *part, struct homing_scan_result *res)
{
    if (len > HOMING_SCAN_HTML_MAX) return -E2BIG;
    struct scan_needles nd = {0};
    const char *rcpt = res->recipient ? res->recipient : (o ? o->recipient : NULL);
    int have_nd = rcpt && scan_needles_init(&nd, rcpt) == 0;
    const struct homing_trackers *t = o ? o->trackers : NULL;
    int r = 0;
    size_t pos = 0, i, end;
    while (r >= 0 && scan_text_url(text, len, &pos, &i, &end)) {
        char url[HOMING_SCAN_URL_MAX];
        memcpy(url, text + i, end - i);
        url[end - i] = '\0';
        struct scan_url u;
        if (scan_url_parse(url, &u) < 0) continue;
        if (!(o && homing_allow_match(o->allow, sender, u.host))) {
            char why[512];
            r = judge_link(t, &u, url, part, "text", "url", res);
            if (r >= 0 && have_nd && scan_leak(&nd, url, why, sizeof why)) {
                const struct homing_tracker_rule *v = homing_trackers_vendor(t, u.host);
                r = scan_add(res, HOMING_SCAN_RECIPIENT_LEAK, part, "text", "url", url,
                             v ? v->vendor : NULL, why, NULL);
            }
        }
        scan_url_free(&u);
    }
    if (have_nd) scan_needles_free(&nd);
    return r == -E2BIG ? 0 : (r < 0 ? r : 0);
}

/* ---- one document ---- */

/* A URL component (a path segment, a query parameter's value, the fragment)
 * holding the id token tok and, in some encoding, the recipient's address: the
 * id and the address were written together, so the id names the recipient
 * (an open pixel's id that the same message's click link pairs with the
 * base64 of the address). Components are cut at '/', '?', '&', '=', '#' and
 * ';'; at most SCAN_TIED_URLS_MAX other URLs are looked at. */
#define SCAN_TIED_URLS_MAX 2000
static int id_tied(const struct scan_refs *refs, size_t self, struct scan_needles *nd,
                   const char *tok, char *why, size_t whycap)
{
    size_t tl = strlen(tok), looked = 0;
    if (tl == 0) return 0;
    for (size_t i = 0; i < refs->n && looked < SCAN_TIED_URLS_MAX; i++) {
        const char *url = refs->v[i].url;
        const char *hit = i == self ? NULL : strstr(url, tok);
        if (!hit) continue;
        looked++;
        const char *delims = "/?&=#;";
        const char *a = hit, *b = hit + tl;
        while (a > url && !strchr(delims, a[-1])) a--;
        b += strcspn(b, delims);
        size_t n = (size_t)(b - a);
        if (n == tl || n >= HOMING_SCAN_URL_MAX) continue; /* the id alone */
        char comp[HOMING_SCAN_URL_MAX + 2];
        comp[0] = '/';
        memcpy(comp + 1, a, n);
        comp[n + 1] = '\0';
        char leak[256];
        if (scan_leak(nd, comp, leak, sizeof leak)) {
            /* the URL is shown cut short: it is in the findings when it matters */
            char esc[120];
            homing_str_sanitize(esc, sizeof esc, url, strlen(url));
            int k = snprintf(why, whycap, "the id stands next to the recipient's address (%s) in ",
                             leak);
            if (k > 0 && (size_t)k < whycap) homing_strlcpy(why + k, esc, whycap - (size_t)k);
            return 1;
        }
    }
    return 0;
}

int homing_scan_html(const char *html, size_t len, const struct homing_scan_options *o,
                     const char *sender, const char *part, struct homing_scan_result *res)
{
    struct scan_refs refs;
    int r = scan_collect(html, len, &refs);
    if (r == -EMLINK) { /* not parsed: reported as a scan past its limits */
        res->truncated = 1;
        return 0;
    }
    if (r < 0) return r;
    if (refs.truncated) res->truncated = 1;
    struct scan_needles nd = {0};
    const char *rcpt = res->recipient ? res->recipient : (o ? o->recipient : NULL);
    int have_nd = rcpt && scan_needles_init(&nd, rcpt) == 0;
    const struct homing_trackers *t = o ? o->trackers : NULL;
    for (size_t i = 0; i < refs.n && r >= 0; i++) {
        const struct scan_ref *x = &refs.v[i];
        if (!scan_url_is_remote(x->url) && x->type != SCAN_REF_LOAD) continue;
        struct scan_url u;
        if (scan_url_parse(x->url, &u) < 0) continue;
        int allowed = o && homing_allow_match(o->allow, sender, u.host);
        char why[512];
        const struct homing_tracker_rule *rule = NULL;
        if (!allowed && x->type == SCAN_REF_LINK) {
            r = judge_link(t, &u, x->url, part, x->element, x->attribute, res);
        } else if (!allowed) {
            char tok[HOMING_SCAN_ID_TOKEN_MAX];
            int kind = scan_ref_classify(x, t, scan_refs_count_url(&refs, x->url), why, sizeof why,
                                         &rule, tok, sizeof tok);
            if (kind >= 0 && tok[0]) {
                /* an id alone is what every builder's CDN image has: report it
                 * only with evidence that the id names the recipient */
                char ev[400];
                size_t wl = strlen(why);
                if (have_nd && scan_leak(&nd, x->url, ev, sizeof ev)) {
                    snprintf(why + wl, sizeof why - wl, "; it names the recipient: %s", ev);
                } else if (have_nd && id_tied(&refs, i, &nd, tok, ev, sizeof ev)) {
                    snprintf(why + wl, sizeof why - wl, "; it names the recipient: %s", ev);
                } else {
                    r = scan_suspect_add(res, kind, part, x->element, x->attribute, x->url,
                                         rule ? rule->vendor : NULL, tok);
                    kind = -1;
                }
            }
            if (kind >= 0 && r >= 0)
                r = scan_add(res, kind, part, x->element, x->attribute, x->url,
                             rule ? rule->vendor : NULL, why, NULL);
        }
        if (r >= 0 && !allowed && have_nd && scan_leak(&nd, x->url, why, sizeof why)) {
            if (!rule) rule = homing_trackers_vendor(t, u.host);
            r = scan_add(res, HOMING_SCAN_RECIPIENT_LEAK, part, x->element, x->attribute, x->url,
                         rule ? rule->vendor : NULL, why, NULL);
        }
        scan_url_free(&u);
    }
    if (have_nd) scan_needles_free(&nd);
    scan_refs_free(&refs);
    return r == -E2BIG ? 0 : (r < 0 ? r : 0);
}
