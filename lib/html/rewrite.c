/*
 * rewrite.c: finds the link attributes and the pixel's place in an HTML part
 * with gumbo (see rewrite.h for the contract and the skip rules).
 *
 * Positions come from gumbo's pointers into our own buffer (original_value,
 * original_end_tag), so the caller can splice the original text and keep every
 * other byte. The decoded value (gumbo's, entities resolved) is what gets
 * stored: it is what a browser follows. The tree is walked with an explicit
 * stack, so a deeply nested document cannot exhaust ours.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "rewrite.h"

/* gumbo allocates and frees every token, string and node on its own; an arena
 * for one parse turns that into pointer bumps and the teardown of the tree into
 * freeing a few chunks. Its size is bounded by a constant times the input. */
#define ARENA_CHUNK (64u * 1024)

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

struct arena {
    struct arena_chunk *head;
};

/* A few chunks are kept per thread between parses (a part's parse, and the
 * parse of a conditional comment inside it, each need one): allocating and
 * freeing the same large blocks for every part made malloc trim and grow the
 * heap, and touch fresh pages, each time. */
#define ARENA_SPARE_MAX 4

static __thread struct arena_chunk *arena_spare;
static __thread unsigned arena_n_spare;

static void *arena_alloc(void *user, size_t n)
{
    struct arena *a = user;
    n = (n + 15) & ~(size_t)15;
    struct arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        if (arena_spare && cap == ARENA_CHUNK) {
            c = arena_spare;
            arena_spare = c->next;
            arena_n_spare--;
        } else {
            c = malloc(sizeof *c + cap);
        }
        /* gumbo never checks an allocation (its own default aborts too) */
        if (!c) abort();
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(void *user, void *p)
{
    (void)user;
    (void)p;
}

static void arena_release(struct arena *a)
{
    while (a->head) {
        struct arena_chunk *c = a->head;
        a->head = c->next;
        if (arena_n_spare < ARENA_SPARE_MAX && c->cap == ARENA_CHUNK) {
            c->next = arena_spare;
            arena_spare = c;
            arena_n_spare++;
            continue;
        }
        free(c);
    }
}

static GumboOutput *parse_html(struct arena *a, const char *html, size_t len)
{
    GumboOptions opt = kGumboDefaultOptions;
    opt.max_errors = 0; /* errors are not needed, and unbounded on bad input */
    opt.allocator = arena_alloc;
    opt.deallocator = arena_free;
    opt.userdata = a;
    return gumbo_parse_with_options(&opt, html, len);
}

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
        if (c == '{' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '\r' || c == '\n' ||
            c == '\0')
            return 0;
    }
    return 0;
}

int rewrite_url_trackable(const char *value, size_t n, const char *base_url, char **out)
{
    while (n > 0 && is_c0_or_space((unsigned char)value[0])) value++, n--;
    while (n > 0 && is_c0_or_space((unsigned char)value[n - 1])) n--;
    if (n == 0 || n > REWRITE_URL_MAX) return 0;
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
    *out = u;
    return 1;
}

static int list_push(struct rewrite_list *l, const struct rewrite_site *s)
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

void rewrite_list_free(struct rewrite_list *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) free(l->v[i].url);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int has_notrack(const GumboVector *attrs)
{
    GumboAttribute *a = gumbo_get_attribute(attrs, REWRITE_NOTRACK_ATTR);
    if (!a) return 0;
    const char *v = a->value;
    while (*v && is_c0_or_space((unsigned char)*v)) v++;
    size_t n = strlen(v);
    while (n > 0 && is_c0_or_space((unsigned char)v[n - 1])) n--;
    return n == strlen(REWRITE_NOTRACK_VALUE) && strncasecmp(v, REWRITE_NOTRACK_VALUE, n) == 0;
}

/* Adds the href of one element. base/len describe the buffer gumbo parsed;
 * shift moves its offsets into the caller's text (for conditional comments). */
static int add_href(const GumboElement *e, const char *base, size_t len, size_t shift,
                    const char *base_url, struct rewrite_list *out)
{
    GumboAttribute *a = gumbo_get_attribute(&e->attributes, "href");
    if (!a || has_notrack(&e->attributes)) return 0;
    const char *ov = a->original_value.data;
    size_t on = a->original_value.length;
    /* clones made by the tree builder share the source text: only pointers into
     * our buffer name a place we can splice */
    if (!ov || on == 0 || ov < base || (size_t)(ov - base) > len || on > len - (size_t)(ov - base))
        return 0;
    char quote = 0;
    if (on >= 2 && (ov[0] == '"' || ov[0] == '\'') && ov[on - 1] == ov[0])
        quote = ov[0];
    else if (ov[0] == '"' || ov[0] == '\'')
        return 0; /* an unterminated quote: gumbo reached the end of input */
    char *url = NULL;
    int r = rewrite_url_trackable(a->value, strlen(a->value), base_url, &url);
    if (r <= 0) return r;
    size_t start = (size_t)(ov - base) + (quote ? 1 : 0);
    size_t end = (size_t)(ov - base) + on - (quote ? 1 : 0);
    struct rewrite_site s = {REWRITE_LINK, start + shift, end + shift, quote, 1, url};
    r = list_push(out, &s);
    if (r < 0) free(url);
    return r;
}

static int is_link_tag(const GumboElement *e, int in_conditional)
{
    if (e->tag == GUMBO_TAG_A || e->tag == GUMBO_TAG_AREA) return 1;
    if (!in_conditional || e->tag != GUMBO_TAG_UNKNOWN) return 0;
    /* VML buttons (<v:roundrect href=...>) that only Outlook renders */
    GumboStringPiece name = e->original_tag;
    return name.length > 3 && (name.data[1] == 'v' || name.data[1] == 'V') && name.data[2] == ':';
}

static int walk(struct arena *a, GumboNode *root, const char *base, size_t len, size_t shift,
                const char *base_url, int in_conditional, struct rewrite_list *out);

/* Outlook conditional comments (<!--[if mso]> ... <![endif]-->) hold markup
 * that Outlook renders: their links are parsed and tracked too. */
static int conditional_comment(const GumboNode *n, const char *base, size_t len, size_t shift,
                               const char *base_url, struct rewrite_list *out)
{
    GumboStringPiece t = n->v.text.original_text;
    if (!t.data || t.data < base || (size_t)(t.data - base) > len ||
        t.length > len - (size_t)(t.data - base) || t.length < 7 || memcmp(t.data, "<!--", 4) != 0)
        return 0;
    const char *inner = t.data + 4;
    size_t il = t.length - 4;
    if (il >= 3 && memcmp(inner + il - 3, "-->", 3) == 0) il -= 3;
    if (il < 4 || strncasecmp(inner, "[if", 3) != 0) return 0;
    /* most conditional comments hold only styles and settings: a second parse
     * is worth it only where a link can be */
    int has_href = 0;
    for (size_t i = 0; i + 4 <= il && !has_href; i++)
        has_href = (inner[i] | 0x20) == 'h' && strncasecmp(inner + i, "href", 4) == 0;
    if (!has_href) return 0;
    struct arena a = {0};
    GumboOutput *o = parse_html(&a, inner, il);
    int r = o ? walk(&a, o->root, inner, il, shift + (size_t)(inner - base), base_url, 1, out)
              : -ENOMEM;
    arena_release(&a);
    return r;
}

static int walk(struct arena *a, GumboNode *root, const char *base, size_t len, size_t shift,
                const char *base_url, int in_conditional, struct rewrite_list *out)
{
    /* grown on the way down: most documents are a few dozen levels deep */
    size_t cap = 64, depth = 0;
    GumboNode **stack = arena_alloc(a, cap * sizeof *stack);
    size_t *next = arena_alloc(a, cap * sizeof *next);
    int r = 0;
    stack[depth] = root;
    next[depth++] = 0;
    while (depth > 0 && r == 0) {
        GumboNode *n = stack[depth - 1];
        if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE &&
            n->type != GUMBO_NODE_DOCUMENT) {
            depth--;
            continue;
        }
        const GumboVector *kids =
            n->type == GUMBO_NODE_DOCUMENT ? &n->v.document.children : &n->v.element.children;
        if (next[depth - 1] == 0 && n->type != GUMBO_NODE_DOCUMENT &&
            is_link_tag(&n->v.element, in_conditional))
            r = add_href(&n->v.element, base, len, shift, base_url, out);
        if (r < 0) break;
        if (next[depth - 1] >= kids->length) {
            depth--;
            continue;
        }
        GumboNode *c = kids->data[next[depth - 1]++];
        if (c->type == GUMBO_NODE_COMMENT && !in_conditional) {
            r = conditional_comment(c, base, len, shift, base_url, out);
            continue;
        }
        if (depth == cap && cap < REWRITE_HTML_DEPTH) {
            size_t cap2 = cap * 2 < REWRITE_HTML_DEPTH ? cap * 2 : REWRITE_HTML_DEPTH;
            GumboNode **s2 = arena_alloc(a, cap2 * sizeof *s2);
            size_t *n2 = arena_alloc(a, cap2 * sizeof *n2);
            memcpy(s2, stack, cap * sizeof *s2);
            memcpy(n2, next, cap * sizeof *n2);
            stack = s2;
            next = n2;
            cap = cap2;
        }
        if (depth < cap) {
            stack[depth] = c;
            next[depth++] = 0;
        }
    }
    return r;
}

static const GumboNode *child_element(const GumboNode *parent, GumboTag tag)
{
    if (!parent) return NULL;
    const GumboVector *kids = parent->type == GUMBO_NODE_DOCUMENT ? &parent->v.document.children
                                                                  : &parent->v.element.children;
    for (unsigned i = 0; i < kids->length; i++) {
        const GumboNode *c = kids->data[i];
        if (c->type == GUMBO_NODE_ELEMENT && c->v.element.tag == tag) return c;
    }
    return NULL;
}

static int end_tag_offset(const GumboNode *n, const char *base, size_t len, size_t *off)
{
    if (!n) return 0;
    GumboStringPiece t = n->v.element.original_end_tag;
    if (!t.data || t.length == 0 || t.data < base || (size_t)(t.data - base) > len) return 0;
    *off = (size_t)(t.data - base);
    return 1;
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
static void sort_sites(struct rewrite_list *l, size_t from)
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

/* Text of these elements is not markup. (A text node elsewhere may span an
 * end tag the tree builder ignored, so only these count.) */
static int raw_text_parent(const GumboNode *n)
{
    const GumboNode *p = n->parent;
    if (!p || p->type != GUMBO_NODE_ELEMENT) return 0;
    switch (p->v.element.tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_TITLE:
    case GUMBO_TAG_XMP:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_NOEMBED:
    case GUMBO_TAG_NOFRAMES:
    case GUMBO_TAG_PLAINTEXT: return 1;
    default: return 0;
    }
}

/* Whether offset off lies in a comment or in the text of an element whose
 * content is not markup (script, style...): a "</body>" there closes nothing. */
static int in_opaque_text(const GumboNode *root, const char *base, size_t off)
{
    const GumboNode *stack[REWRITE_HTML_DEPTH];
    size_t depth = 0;
    stack[depth++] = root;
    while (depth > 0) {
        const GumboNode *n = stack[--depth];
        if (n->type == GUMBO_NODE_COMMENT || n->type == GUMBO_NODE_TEXT ||
            n->type == GUMBO_NODE_CDATA) {
            GumboStringPiece t = n->v.text.original_text;
            if (t.data && t.data >= base && off >= (size_t)(t.data - base) &&
                off < (size_t)(t.data - base) + t.length)
                return n->type != GUMBO_NODE_TEXT || raw_text_parent(n);
            continue;
        }
        if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE &&
            n->type != GUMBO_NODE_DOCUMENT)
            continue;
        const GumboVector *kids =
            n->type == GUMBO_NODE_DOCUMENT ? &n->v.document.children : &n->v.element.children;
        for (unsigned i = kids->length; i-- > 0 && depth < REWRITE_HTML_DEPTH;)
            stack[depth++] = kids->data[i];
    }
    return 0;
}

/* When the tree builder ignored </body> (say, inside an unclosed table), the
 * pixel still goes before the last "</body" of the text that is markup: after
 * the end of the text it would be foster-parented to the top of the table. */
static int last_body_tag(const GumboOutput *o, const char *html, size_t len, size_t *at)
{
    for (size_t i = len; i-- > 0;) {
        if (html[i] != '<' || len - i < 7 || strncasecmp(html + i, "</body", 6) != 0) continue;
        char c = i + 6 < len ? html[i + 6] : '>';
        if (c != '>' && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '/')
            continue;
        if (in_opaque_text(o->document, html, i)) continue;
        *at = i;
        return 1;
    }
    return 0;
}

int rewrite_html(const char *html, size_t len, const char *base_url, int pixel,
                 struct rewrite_list *out)
{
    if (len > UINT32_MAX) return -E2BIG; /* gumbo's offsets are unsigned int */
    struct arena a = {0};
    GumboOutput *o = parse_html(&a, html, len);
    if (!o) {
        arena_release(&a);
        return -ENOMEM;
    }
    size_t from = out->n;
    int r = walk(&a, o->document, html, len, 0, base_url, 0, out);
    if (r == 0 && pixel) {
        const GumboNode *root = child_element(o->document, GUMBO_TAG_HTML);
        size_t at = len;
        if (!end_tag_offset(child_element(root, GUMBO_TAG_BODY), html, len, &at) &&
            !last_body_tag(o, html, len, &at))
            end_tag_offset(root, html, len, &at);
        struct rewrite_site s = {REWRITE_PIXEL, at, at, 0, 1, NULL};
        r = list_push(out, &s);
    }
    arena_release(&a);
    if (r < 0) {
        for (size_t i = from; i < out->n; i++) free(out->v[i].url);
        out->n = from;
        return r;
    }
    sort_sites(out, from);
    return 0;
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
    /* display:block and explicit zero borders and margins keep it out of line
     * boxes (an inline image would add a line of height); alt="" keeps blocked
     * images from showing a placeholder text or icon */
    int r = homing_buf_puts(b, "<img src=\"");
    if (r == 0) r = put_escaped(b, open_url);
    if (r == 0)
        r = homing_buf_puts(b, "\" width=\"1\" height=\"1\" alt=\"\" border=\"0\" "
                               "style=\"display:block;border:0;margin:0;padding:0;"
                               "width:1px;height:1px\" />");
    return r;
}
