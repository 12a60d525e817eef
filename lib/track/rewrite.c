/*
 * rewrite.c: finds the link attributes and the pixel's place in an HTML part
 * with our own tokenizer (tokenize.h; see rewrite.h for the contract and the
 * skip rules, docs/internals/track.md for why not gumbo).
 *
 * Positions are the tokenizer's offsets into our own buffer, so the caller can
 * splice the original text and keep every other byte. The decoded value
 * (character references resolved as the standard's tokenizer does) is what
 * gets stored: it is what a browser follows. No tree is built; the little of
 * the tree builder that decides what we find is followed here: which elements
 * hold raw text, that a select drops its a and area children, and which
 * elements keep a </body> from closing the body. rewrite_gumbo.c, the gumbo
 * version it replaced, is the reference it is checked against.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rewrite_int.h"
#include "lib/html/tokenize_int.h"

static int is_c0_or_space(unsigned char c)
{
    return c <= 0x20;
}

#define DOC_PLACEHOLDER_OPEN     "{{doc:"
#define DOC_PLACEHOLDER_NAME_MAX 255

size_t rewrite_doc_placeholder(const char *s, size_t n)
{
    size_t open = sizeof DOC_PLACEHOLDER_OPEN - 1;
    if (n < open + 3 || memcmp(s, DOC_PLACEHOLDER_OPEN, open) != 0) return 0;
    for (size_t i = open; i < n && i <= open + DOC_PLACEHOLDER_NAME_MAX; i++) {
        char c = s[i];
        if (c == '}') return i > open && i + 1 < n && s[i + 1] == '}' ? i + 2 : 0;
        if (c == '{' || c == '<' || c == '>' || c == '"' || c == '\'' || (unsigned char)c < 0x20 ||
            c == 0x7f)
            return 0;
    }
    return 0;
}

int rewrite_url_trackable(const char *value, size_t n, const char *base_url, char **out,
                          const char **why)
{
    while (n > 0 && is_c0_or_space((unsigned char)value[0])) value++, n--;
    while (n > 0 && is_c0_or_space((unsigned char)value[n - 1])) n--;
    if (n == 0) return 0;
    /* the URL parser drops tabs and newlines anywhere in the input */
    char *u = malloc(n + 1);
    if (!u) return -ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (value[i] != '\t' && value[i] != '\n' && value[i] != '\r') u[m++] = value[i];
    u[m] = '\0';
    if (rewrite_doc_placeholder(u, m) == m) {
        *out = u;
        return 1;
    }
    size_t skip = 0;
    if (strncasecmp(u, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(u, "https://", 8) == 0)
        skip = 8;
    if (skip == 0 || m == skip) {
        free(u);
        return 0;
    }
    size_t bl = base_url ? strlen(base_url) : 0;
    while (bl > 0 && base_url[bl - 1] == '/') bl--;
    if (bl > 0 && m >= bl && strncasecmp(u, base_url, bl) == 0 &&
        (u[bl] == '\0' || u[bl] == '/' || u[bl] == '?' || u[bl] == '#')) {
        free(u);
        return 0;
    }
    /* what is stored is what homing_url_check writes, which the browser reads
     * the same way (space and non-ASCII percent-encoded); what it refuses (a
     * VT, FF or ESC left inside, a backslash, user info, a bad host ...) is
     * left as the author wrote it and reported */
    struct homing_buf b;
    homing_buf_init(&b, HOMING_URL_DEST_MAX + 1);
    int r = homing_url_check(u, m, &b, why);
    if (r == -ENOMEM) {
        free(u);
        homing_buf_free(&b);
        return r;
    }
    if (r < 0) {
        homing_buf_free(&b);
        if (m > REWRITE_REFUSED_SHOWN_MAX) u[REWRITE_REFUSED_SHOWN_MAX] = '\0';
        *out = u;
        return REWRITE_URL_REFUSED;
    }
    free(u);
    *out = homing_buf_steal(&b);
    return *out ? 1 : -ENOMEM;
}

int rewrite_list_push(struct rewrite_list *l, const struct rewrite_site *s)
{
    if (l->n >= REWRITE_SITES_MAX) return -E2BIG;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct rewrite_site *v = realloc(l->v, cap * sizeof *v);
        if (!v) return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *s;
    return 0;
}

int rewrite_finish(struct rewrite_list *out, size_t from, int r, int pixel, size_t at, size_t top)
{
    if (r == 0 && pixel) {
        struct rewrite_site s = {REWRITE_PIXEL, at, at, 0, 1, NULL};
        r = rewrite_list_push(out, &s);
    }
    /* two insertions at one place would be one site: an empty body keeps
     * its pixel at the end */
    if (r == 0 && pixel == REWRITE_PIXEL_AT_TOP && top != SIZE_MAX && top < at) {
        struct rewrite_site s = {REWRITE_PIXEL_TOP, top, top, 0, 1, NULL};
        r = rewrite_list_push(out, &s);
    }
    if (r < 0) {
        for (size_t i = from; i < out->n; i++) free(out->v[i].url);
        out->n = from;
        return r;
    }
    rewrite_sort_sites(out, from);
    return 0;
}

int rewrite_list_same(const struct rewrite_list *a, const struct rewrite_list *b)
{
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct rewrite_site *x = &a->v[i], *y = &b->v[i];
        if (x->kind != y->kind || x->start != y->start || x->end != y->end ||
            x->quote != y->quote || x->html != y->html || !x->url != !y->url ||
            (x->url && strcmp(x->url, y->url) != 0))
            return 0;
    }
    return 1;
}

void rewrite_list_free(struct rewrite_list *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) free(l->v[i].url);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int site_cmp(const void *a, const void *b)
{
    const struct rewrite_site *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    /* an insertion goes before a replacement starting at the same place */
    return (x->end > y->end) - (x->end < y->end);
}

/* Sorts and drops overlapping sites (the first at a place wins): the splicer
 * relies on sites being strictly ordered. */
void rewrite_sort_sites(struct rewrite_list *l, size_t from)
{
    if (l->n - from < 2) return; /* also no array at all (qsort wants one) */
    size_t n = l->n - from;
    struct rewrite_site *v = l->v + from;
    qsort(v, n, sizeof *v, site_cmp);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && (v[i].start < v[w - 1].end ||
                      (v[i].start == v[w - 1].start && v[i].end == v[w - 1].end))) {
            free(v[i].url);
            continue;
        }
        v[w++] = v[i];
    }
    l->n = from + w;
}

int rewrite_is_notrack(const char *v, size_t n)
{
    while (n > 0 && is_c0_or_space((unsigned char)*v)) v++, n--;
    while (n > 0 && is_c0_or_space((unsigned char)v[n - 1])) n--;
    return n == strlen(REWRITE_NOTRACK_VALUE) && strncasecmp(v, REWRITE_NOTRACK_VALUE, n) == 0;
}

/* One document being read: the text, where its offsets go in the caller's
 * text, and what the walk keeps. */
struct doc {
    const char *s;
    size_t len, shift;
    const char *base_url;
    int in_conditional;
    struct rewrite_list *out;
    struct homing_buf value; /* scratch for decoded attribute values */
    /* comments and raw text, in order: a "</body" there closes nothing */
    size_t (*opaque)[2];
    size_t n_opaque, cap_opaque;
};

/* The first attribute of that name (the tokenizer keeps duplicates; the tree
 * builder keeps the first). */
static const struct html_tok_attr *find_attr(const struct doc *d, const struct html_token *tok,
                                             const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < tok->n_attrs; i++) {
        const struct html_tok_attr *a = &tok->attrs[i];
        if (a->name_len == n && strncasecmp(d->s + a->name, name, n) == 0) return a;
    }
    return NULL;
}

/* Decodes an attribute's value into d->value (NUL-terminated). */
static int attr_value(struct doc *d, const struct html_tok_attr *a, const char **v, size_t *n)
{
    homing_buf_reset(&d->value);
    size_t q = a->quote ? 1 : 0;
    int r = a->value_len ? html_tok_attr_value(d->s + a->value + q, a->value_len - 2 * q, a->quote,
                                               &d->value)
                         : 0;
    if (r == 0) r = homing_buf_append(&d->value, "", 1);
    if (r < 0) return r;
    *v = d->value.data;
    *n = d->value.len - 1;
    return 0;
}

static int add_href(struct doc *d, const struct html_token *tok)
{
    const struct html_tok_attr *a = find_attr(d, tok, "href");
    if (!a || a->value_len == 0) return 0;
    const struct html_tok_attr *nt = find_attr(d, tok, REWRITE_NOTRACK_ATTR);
    const char *v;
    size_t vn;
    int r;
    if (nt) {
        if ((r = attr_value(d, nt, &v, &vn)) < 0) return r;
        if (rewrite_is_notrack(v, vn)) return 0;
    }
    if ((r = attr_value(d, a, &v, &vn)) < 0) return r;
    char *url = NULL;
    const char *why = NULL;
    r = rewrite_url_trackable(v, vn, d->base_url, &url, &why);
    if (r <= 0) return r;
    size_t q = a->quote ? 1 : 0;
    struct rewrite_site s = {r == REWRITE_URL_REFUSED ? REWRITE_REFUSED : REWRITE_LINK,
                             d->shift + a->value + q,
                             d->shift + a->value + a->value_len - q,
                             a->quote,
                             1,
                             url,
                             why};
    r = rewrite_list_push(d->out, &s);
    if (r < 0) free(url);
    return r;
}

static int add_opaque(struct doc *d, size_t start, size_t end)
{
    if (d->n_opaque == d->cap_opaque) {
        size_t cap = d->cap_opaque ? d->cap_opaque * 2 : 16;
        size_t(*v)[2] = realloc(d->opaque, cap * sizeof *v);
        if (!v) return -ENOMEM;
        d->opaque = v;
        d->cap_opaque = cap;
    }
    d->opaque[d->n_opaque][0] = start;
    d->opaque[d->n_opaque][1] = end;
    d->n_opaque++;
    return 0;
}

static int in_opaque(const struct doc *d, size_t off)
{
    size_t lo = 0, hi = d->n_opaque;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (d->opaque[mid][1] <= off)
            lo = mid + 1;
        else if (d->opaque[mid][0] > off)
            hi = mid;
        else
            return 1;
    }
    return 0;
}

static int read_doc(struct doc *d, size_t *pixel_at);

size_t rewrite_conditional_inner(const char *t, size_t tl, size_t *il)
{
    if (tl < 7 || memcmp(t, "<!--", 4) != 0) return 0;
    const char *inner = t + 4;
    size_t n = tl - 4;
    if (n >= 3 && memcmp(inner + n - 3, "-->", 3) == 0) n -= 3;
    if (n < 4 || strncasecmp(inner, "[if", 3) != 0) return 0;
    /* most conditional comments hold only styles and settings: reading one
     * again is worth it only where a link can be */
    int has_href = 0;
    for (size_t i = 0; i + 4 <= n && !has_href; i++)
        has_href = (inner[i] | 0x20) == 'h' && strncasecmp(inner + i, "href", 4) == 0;
    if (!has_href) return 0;
    *il = n;
    return 4;
}

/* Outlook conditional comments (<!--[if mso]> ... <![endif]-->) hold markup
 * that Outlook renders: their links are read and tracked too. */
static int conditional_comment(struct doc *d, const struct html_token *tok)
{
    size_t il, off = tok->bogus
                         ? 0
                         : rewrite_conditional_inner(d->s + tok->start, tok->end - tok->start, &il);
    if (off == 0) return 0;
    const char *inner = d->s + tok->start + off;
    struct doc c = {inner, il, d->shift + tok->start + off, d->base_url, 1, d->out, {0}, NULL,
                    0,     0};
    homing_buf_init(&c.value, il * 4 + 64);
    int r = read_doc(&c, NULL);
    homing_buf_free(&c.value);
    free(c.opaque);
    return r;
}

/* Tag names are compared with their length: one with a NUL in it (U+FFFD
 * to the tree builder) is no known element. */
static int tag_is(const struct html_token *tok, const char *name)
{
    size_t n = strlen(name);
    return tok->name_len == n && memcmp(tok->name, name, n) == 0;
}

static int is_link_tag(const struct doc *d, const struct html_token *tok)
{
    if (tag_is(tok, "a") || tag_is(tok, "area")) return 1;
    /* VML buttons (<v:roundrect href=...>) that only Outlook renders */
    return d->in_conditional && tok->name_len >= 2 && tok->name[0] == 'v' && tok->name[1] == ':';
}

static int name_in(const struct html_token *tok, const char *const *list)
{
    for (; *list; list++)
        if (tag_is(tok, *list)) return 1;
    return 0;
}

/* Elements that end "has an element in scope" for </body>: an end tag of
 * body inside one of them is ignored by the tree builder. */
static const char *const scope_tags[] = {"table", "applet", "marquee", "object", "template", NULL};
/* In a select inside a table, these close the select. */
static const char *const table_tags[] = {"caption", "table", "tbody", "tfoot", "thead",
                                         "tr",      "td",    "th",    NULL};
static const char *const rawtext_tags[] = {"style", "xmp", "iframe", "noembed", "noframes", NULL};

/* Reads one document: links, and (when pixel_at is set) the pixel's place. */
static int read_doc(struct doc *d, size_t *pixel_at)
{
    struct html_tok t;
    struct html_token tok;
    html_tok_init(&t, d->s, d->len);
    int r = 0, in_select = 0; /* 2: a select inside a table */
    size_t scope = 0, tables = 0, cells = 0, body_end = SIZE_MAX, html_end = SIZE_MAX;
    while (r == 0 && html_tok_next(&t, &tok) != HTML_TOK_EOF) {
        switch (tok.type) {
        case HTML_TOK_START:
            if (in_select) {
                /* the select's content model: only these act (the rest, a
                 * and area too, are dropped by the tree builder) */
                if (tag_is(&tok, "script")) {
                    html_tok_text_mode(&t, HTML_TOK_SCRIPT);
                    break;
                }
                if (!tag_is(&tok, "textarea") && !tag_is(&tok, "select") &&
                    !tag_is(&tok, "input") && !tag_is(&tok, "keygen") &&
                    !(in_select == 2 && name_in(&tok, table_tags)))
                    break;
                in_select = 0; /* closes the select, then acts as usual */
                if (tag_is(&tok, "select")) break;
            }
            if (is_link_tag(d, &tok)) r = add_href(d, &tok);
            if (tag_is(&tok, "script"))
                html_tok_text_mode(&t, HTML_TOK_SCRIPT);
            else if (name_in(&tok, rawtext_tags))
                html_tok_text_mode(&t, HTML_TOK_RAWTEXT);
            else if (tag_is(&tok, "textarea") || tag_is(&tok, "title"))
                html_tok_text_mode(&t, HTML_TOK_RCDATA);
            else if (tag_is(&tok, "plaintext"))
                html_tok_text_mode(&t, HTML_TOK_PLAINTEXT);
            else if (tag_is(&tok, "select"))
                in_select = tables > 0 ? 2 : 1;
            else if (name_in(&tok, scope_tags))
                scope++;
            if (tag_is(&tok, "table")) tables++;
            if (tag_is(&tok, "td") || tag_is(&tok, "th")) cells++;
            break;
        case HTML_TOK_END:
            if (in_select) {
                /* in a table, an end tag of a table part closes the select
                 * when that part is open: counted for cells, which hold it */
                if (!tag_is(&tok, "select") && !(in_select == 2 && tag_is(&tok, "table")) &&
                    !(in_select == 2 && cells > 0 && name_in(&tok, table_tags)))
                    break;
                in_select = 0;
                if (tag_is(&tok, "select")) break;
            }
            if (tag_is(&tok, "table") && tables > 0) tables--;
            if ((tag_is(&tok, "td") || tag_is(&tok, "th")) && cells > 0) cells--;
            if (name_in(&tok, scope_tags)) {
                if (scope > 0) scope--;
            } else if (scope == 0 && tag_is(&tok, "body"))
                body_end = tok.start;
            else if (scope == 0 && tag_is(&tok, "html"))
                html_end = tok.start;
            break;
        case HTML_TOK_COMMENT:
            r = add_opaque(d, tok.start, tok.end);
            if (r == 0 && !d->in_conditional) r = conditional_comment(d, &tok);
            break;
        case HTML_TOK_TEXT: r = add_opaque(d, tok.start, tok.end); break;
        default: break;
        }
    }
    if (r == 0 && t.nomem) r = -ENOMEM;
    html_tok_free(&t);
    if (r < 0 || !pixel_at) return r;
    /* before </body>; when the tree builder ignored it (say, inside an
     * unclosed table), before the last "</body" of the text that is markup:
     * after the end of the text the pixel would be foster-parented to the top
     * of the table; else before </html>; else at the end */
    size_t at = d->len;
    if (body_end != SIZE_MAX)
        at = body_end;
    else {
        int found = 0;
        for (size_t i = d->len; i-- > 0;) {
            if (d->s[i] != '<' || d->len - i < 7 || strncasecmp(d->s + i, "</body", 6) != 0)
                continue;
            char c = d->s[i + 6];
            if (c != '>' && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
                c != '/')
                continue;
            if (in_opaque(d, i)) continue;
            at = i;
            found = 1;
            break;
        }
        if (!found && html_end != SIZE_MAX) at = html_end;
    }
    *pixel_at = at;
    return 0;
}

/* Elements the tree builder keeps in the head (or, for html and head, whose
 * tags open no body): before the body's own start tag only these, comments, a
 * doctype and white space leave the body unopened. noscript and template are
 * left out on purpose: what they do depends on scripting and on the parser. */
static const char *const head_tags[] = {"html",  "head",     "meta",     "link",
                                        "base",  "basefont", "bgsound",  "title",
                                        "style", "script",   "noframes", NULL};

static int all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\f' && s[i] != '\r') return 0;
    return 1;
}

size_t rewrite_body_start(const char *html, size_t len)
{
    struct html_tok t;
    struct html_token tok;
    html_tok_init(&t, html, len);
    size_t at = SIZE_MAX, prev = 0;
    if (len >= 3 && memcmp(html, "\xef\xbb\xbf", 3) == 0) prev = 3; /* a BOM: no text */
    int raw = 0; /* the last start tag switched the tokenizer to raw text */
    while (html_tok_next(&t, &tok) != HTML_TOK_EOF) {
        /* text in the data state is no token: what lies between two tokens */
        if (!raw && !all_space(html + prev, tok.start - prev)) break;
        prev = tok.end;
        raw = 0;
        if (tok.type == HTML_TOK_START && tag_is(&tok, "body")) {
            at = tok.end;
            break;
        }
        if (tok.type == HTML_TOK_START) {
            if (!name_in(&tok, head_tags)) break;
            if (tag_is(&tok, "script"))
                html_tok_text_mode(&t, HTML_TOK_SCRIPT), raw = 1;
            else if (tag_is(&tok, "style") || tag_is(&tok, "noframes"))
                html_tok_text_mode(&t, HTML_TOK_RAWTEXT), raw = 1;
            else if (tag_is(&tok, "title"))
                html_tok_text_mode(&t, HTML_TOK_RCDATA), raw = 1;
        } else if (tok.type == HTML_TOK_END) {
            /* </head> closes the head; the end tags of the raw text elements
             * end their text; any other (</html>, </body>, </br>) opens the body */
            if (!tag_is(&tok, "head") && !tag_is(&tok, "script") && !tag_is(&tok, "style") &&
                !tag_is(&tok, "noframes") && !tag_is(&tok, "title"))
                break;
        } else if (tok.type == HTML_TOK_TEXT) {
            raw = 0; /* the raw text of the element just opened: its end tag follows */
        }
    }
    html_tok_free(&t);
    return at;
}

int rewrite_html(const char *html, size_t len, const char *base_url, int pixel,
                 struct rewrite_list *out)
{
    size_t from = out->n, at = 0;
    struct doc d = {html, len, 0, base_url, 0, out, {0}, NULL, 0, 0};
    /* a decoded value is at most 3 bytes per byte of its text (U+FFFD) */
    homing_buf_init(&d.value, len * 4 + 64);
    int r = read_doc(&d, pixel ? &at : NULL);
    homing_buf_free(&d.value);
    free(d.opaque);
    size_t top = r == 0 && pixel == REWRITE_PIXEL_AT_TOP ? rewrite_body_start(html, len) : SIZE_MAX;
    return rewrite_finish(out, from, r, pixel, at, top);
}

static int put_escaped(struct homing_buf *b, const char *s)
{
    int r = 0;
    while (*s && r == 0) {
        size_t run = strcspn(s, "&\"'<>"); /* URLs rarely hold any: copy runs */
        r = homing_buf_append(b, s, run);
        s += run;
        if (r < 0 || !*s) break;
        switch (*s++) {
        case '&': r = homing_buf_puts(b, "&amp;"); break;
        case '"': r = homing_buf_puts(b, "&quot;"); break;
        case '\'': r = homing_buf_puts(b, "&#39;"); break;
        case '<': r = homing_buf_puts(b, "&lt;"); break;
        default: r = homing_buf_puts(b, "&gt;"); break;
        }
    }
    return r;
}

int rewrite_put_link(struct homing_buf *b, const struct rewrite_site *s, const char *click_url)
{
    if (!s->html) return homing_buf_puts(b, click_url);
    int r = 0;
    /* an unquoted value that now needs quotes gets them; ours never does in
     * practice (base64url tokens), but the base URL is the operator's text */
    int quote = !s->quote && strpbrk(click_url, " \t\n\f\r\"'=<>`&") != NULL;
    if (quote) r = homing_buf_puts(b, "\"");
    if (r == 0) r = put_escaped(b, click_url);
    if (r == 0 && quote) r = homing_buf_puts(b, "\"");
    return r;
}

int rewrite_put_pixel(struct homing_buf *b, const char *open_url)
{
    /* Changes no layout (docs/tracking.md, measured by browser/pixel_layout):
     * out of the flow (position:absolute) and of zero size, it takes no room,
     * separates no margins and makes no line box; where position is stripped
     * (Gmail) float:left keeps it out of the flow, and zero size out of the
     * line boxes next to it. The width and height attributes are for clients
     * that ignore CSS (Outlook's Word engine): 1x1 there, as every pixel is;
     * alt="" keeps blocked images from showing a placeholder text or icon. */
    int r = homing_buf_puts(b, "<img src=\"");
    if (r == 0) r = put_escaped(b, open_url);
    if (r == 0) r = homing_buf_puts(b, "\" " REWRITE_PIXEL_ATTRS " />");
    return r;
}
