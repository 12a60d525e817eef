/*
 * rewrite_gumbo.c: the gumbo-based finder of link sites and the pixel's place
 * that rewrite_html (rewrite.c, our own tokenizer) replaced. It is kept as the
 * reference the tokenizer is checked against: tests/unit/test_rewrite_diff.c
 * runs both over every HTML part of the corpus, fuzz/fuzz_rewrite_diff.c over
 * arbitrary input (docs/internals/track.md). Not used by `homing track`.
 *
 * Positions come from gumbo's pointers into our own buffer (original_value,
 * original_end_tag); the decoded value (gumbo's, entities resolved) is the
 * destination. The tree is walked with an explicit stack.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "lib/html/gumbo_arena_int.h"
#include "rewrite_int.h"

static int has_notrack(const GumboVector *attrs)
{
    GumboAttribute *a = gumbo_get_attribute(attrs, REWRITE_NOTRACK_ATTR);
    return a && rewrite_is_notrack(a->value, strlen(a->value));
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
    const char *why = NULL;
    int r = rewrite_url_trackable(a->value, strlen(a->value), base_url, &url, &why);
    if (r <= 0) return r;
    size_t start = (size_t)(ov - base) + (quote ? 1 : 0);
    size_t end = (size_t)(ov - base) + on - (quote ? 1 : 0);
    struct rewrite_site s = {r == REWRITE_URL_REFUSED ? REWRITE_REFUSED : REWRITE_LINK,
                             start + shift,
                             end + shift,
                             quote,
                             1,
                             url,
                             why};
    r = rewrite_list_push(out, &s);
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

static int walk(struct gumbo_arena *a, GumboNode *root, const char *base, size_t len, size_t shift,
                const char *base_url, int in_conditional, struct rewrite_list *out);

/* Outlook conditional comments (<!--[if mso]> ... <![endif]-->) hold markup
 * that Outlook renders: their links are parsed and tracked too. */
static int conditional_comment(const GumboNode *n, const char *base, size_t len, size_t shift,
                               const char *base_url, struct rewrite_list *out)
{
    GumboStringPiece t = n->v.text.original_text;
    if (!t.data || t.data < base || (size_t)(t.data - base) > len ||
        t.length > len - (size_t)(t.data - base))
        return 0;
    size_t il, off = rewrite_conditional_inner(t.data, t.length, &il);
    if (off == 0) return 0;
    const char *inner = t.data + off;
    struct gumbo_arena a = {0};
    GumboOutput *o = gumbo_arena_parse(&a, inner, il);
    int r = o ? walk(&a, o->root, inner, il, shift + (size_t)(inner - base), base_url, 1, out)
              : -ENOMEM;
    gumbo_arena_release(&a);
    return r;
}

static int walk(struct gumbo_arena *a, GumboNode *root, const char *base, size_t len, size_t shift,
                const char *base_url, int in_conditional, struct rewrite_list *out)
{
    /* grown on the way down: most documents are a few dozen levels deep */
    size_t cap = 64, depth = 0;
    GumboNode **stack = gumbo_arena_alloc(a, cap * sizeof *stack);
    size_t *next = gumbo_arena_alloc(a, cap * sizeof *next);
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
            GumboNode **s2 = gumbo_arena_alloc(a, cap2 * sizeof *s2);
            size_t *n2 = gumbo_arena_alloc(a, cap2 * sizeof *n2);
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

size_t rewrite_gumbo_body_start(const char *html, size_t len)
{
    if (len > UINT32_MAX) return SIZE_MAX;
    struct gumbo_arena a = {0};
    GumboOutput *o = gumbo_arena_parse(&a, html, len);
    size_t at = SIZE_MAX;
    const GumboNode *body =
        o ? child_element(child_element(o->document, GUMBO_TAG_HTML), GUMBO_TAG_BODY) : NULL;
    if (body) {
        /* an implied body has no tag of its own */
        GumboStringPiece t = body->v.element.original_tag;
        if (t.data && t.length > 0 && t.data >= html && (size_t)(t.data - html) + t.length <= len)
            at = (size_t)(t.data - html) + t.length;
    }
    gumbo_arena_release(&a);
    return at;
}

int rewrite_html_gumbo(const char *html, size_t len, const char *base_url, int pixel,
                       struct rewrite_list *out)
{
    if (len > UINT32_MAX) return -E2BIG; /* gumbo's offsets are unsigned int */
    struct gumbo_arena a = {0};
    GumboOutput *o = gumbo_arena_parse(&a, html, len);
    if (!o) {
        gumbo_arena_release(&a);
        return -ENOMEM;
    }
    size_t from = out->n, pixel_at = 0;
    int r = walk(&a, o->document, html, len, 0, base_url, 0, out);
    if (r == 0 && pixel) {
        const GumboNode *root = child_element(o->document, GUMBO_TAG_HTML);
        size_t at = len;
        if (!end_tag_offset(child_element(root, GUMBO_TAG_BODY), html, len, &at) &&
            !last_body_tag(o, html, len, &at))
            end_tag_offset(root, html, len, &at);
        pixel_at = at;
    }
    gumbo_arena_release(&a);
    size_t top = r == 0 && pixel == REWRITE_PIXEL_AT_TOP ? rewrite_body_start(html, len) : SIZE_MAX;
    return rewrite_finish(out, from, r, pixel, pixel_at, top);
}
