/*
 * depth.c: the pre-scan described in depth.h.
 *
 * The model follows the tree-construction rules of the HTML standard (as gumbo
 * 0.10 implements them) only as far as they change the depth of the stack of
 * open elements, and errs towards keeping elements open:
 *
 * - a start tag pushes an element unless it is void (or self-closing in
 *   foreign content); <html>, <head> and <body> push nothing (their elements
 *   exist once). Before it, the implied end tags that make sloppy mail flat
 *   are applied: a p in button scope closed by the block elements, an open li
 *   (dd, dt) by the next, a heading by a heading, option by option, a cell,
 *   row or row group by the next, a table directly inside a table by the next
 *   table;
 * - an end tag pops to its element when the builder would: in scope (the scope
 *   of its kind) for the special elements, with no special element above it
 *   for the others, and for a formatting element only when it is in the list
 *   of active formatting elements and no special element is above it
 *   (otherwise the adoption agency moves elements without making the stack
 *   shallower, and the model keeps it; gumbo ignores the end tag of one the
 *   list no longer holds);
 * - active formatting elements that were closed by something other than their
 *   own end tag are reopened where the builder reopens them (before text and
 *   inline start tags), with the limit of three identical ones ("Noah's
 *   Ark", same name and same attribute text) and the markers of cells,
 *   captions, applet, marquee, object and template;
 * - foreign content (svg, math) until an HTML integration point, the start
 *   tags that break out of it, and the elements whose content is text (script,
 *   style, textarea, ...) only in HTML, so no markup the builder sees is
 *   skipped;
 * - in foreign content a CDATA section is text (the tokenizer reads a bogus
 *   comment there);
 * - a <template> refuses the document (its content has insertion modes of
 *   its own), and so does a <frameset>: whether the builder takes it (and then
 *   ignores nearly everything, text modes included) depends on text before it,
 *   no mail client shows one, and the builder frees the <body> it replaces
 *   recursively;
 * - a select takes options only (the rest is ignored, as the builder does;
 *   select, input, keygen, textarea and, in a table, table parts close it);
 *   table parts outside a table are ignored;
 * - end tags are matched as gumbo matches them: by its tag (every name gumbo
 *   does not know is one tag, so </x> closes an open <y>), and in foreign
 *   content by the tags' raw text as gumbo compares it (</x > closes nothing
 *   there, <x\vy> is closed by </x, a "</>" before a tag is part of its text,
 *   NUL bytes and long names compare as bytes).
 *
 * Every element looked at while searching the stack or the list, and the
 * depth at each push, is counted as work; the scan stops at
 * HTML_DEPTH_NEST_MAX or HTML_DEPTH_WORK_MAX, which bounds its
 * own time as well as gumbo's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gumbo.h>

#include "depth_int.h"
#include "tokenize_int.h"

enum {
    F_SPECIAL = 1 << 0,
    F_SCOPE = 1 << 1,    /* ends every scope */
    F_BUTTON = 1 << 2,   /* ends button scope too */
    F_LIST = 1 << 3,     /* ends list item scope too */
    F_TABLE = 1 << 4,    /* ends table scope (html, table, template) */
    F_FORMAT = 1 << 5,   /* a formatting element */
    F_MARKER = 1 << 6,   /* puts a marker in the list of active formatting elements */
    F_VOID = 1 << 7,     /* has no content */
    F_CLOSE_P = 1 << 8,  /* closes a p in button scope before it opens */
    F_BREAKOUT = 1 << 9, /* ends foreign content */
    F_INTEG = 1 << 10,   /* foreign: an HTML integration point */
    F_HEADING = 1 << 11,
    F_CELL = 1 << 12,  /* td, th */
    F_RGROUP = 1 << 13 /* tbody, thead, tfoot */
};

enum { NS_HTML, NS_SVG, NS_MATH };

struct tag_info {
    const char *name;
    unsigned flags;
};

/* sorted by name for bsearch */
static const struct tag_info html_tags[] = {
    {"a", F_FORMAT},
    {"address", F_SPECIAL | F_CLOSE_P},
    {"applet", F_SPECIAL | F_SCOPE | F_MARKER},
    {"area", F_SPECIAL | F_VOID},
    {"article", F_SPECIAL | F_CLOSE_P},
    {"aside", F_SPECIAL | F_CLOSE_P},
    {"b", F_FORMAT | F_BREAKOUT},
    {"base", F_SPECIAL | F_VOID},
    {"basefont", F_SPECIAL | F_VOID},
    {"bgsound", F_SPECIAL | F_VOID},
    {"big", F_FORMAT | F_BREAKOUT},
    {"blockquote", F_SPECIAL | F_CLOSE_P | F_BREAKOUT},
    {"body", F_SPECIAL | F_BREAKOUT},
    {"br", F_SPECIAL | F_VOID | F_BREAKOUT},
    {"button", F_SPECIAL | F_BUTTON},
    {"caption", F_SPECIAL | F_SCOPE | F_MARKER},
    {"center", F_SPECIAL | F_CLOSE_P | F_BREAKOUT},
    {"code", F_FORMAT | F_BREAKOUT},
    {"col", F_SPECIAL | F_VOID},
    {"colgroup", F_SPECIAL},
    {"dd", F_SPECIAL | F_CLOSE_P | F_BREAKOUT},
    {"details", F_SPECIAL | F_CLOSE_P},
    {"dialog", F_CLOSE_P},
    {"dir", F_SPECIAL | F_CLOSE_P},
    {"div", F_SPECIAL | F_CLOSE_P | F_BREAKOUT},
    {"dl", F_SPECIAL | F_CLOSE_P | F_BREAKOUT},
    {"dt", F_SPECIAL | F_CLOSE_P | F_BREAKOUT},
    {"em", F_FORMAT | F_BREAKOUT},
    {"embed", F_SPECIAL | F_VOID | F_BREAKOUT},
    {"fieldset", F_SPECIAL | F_CLOSE_P},
    {"figcaption", F_SPECIAL | F_CLOSE_P},
    {"figure", F_SPECIAL | F_CLOSE_P},
    {"font", F_FORMAT},
    {"footer", F_SPECIAL | F_CLOSE_P},
    {"form", F_SPECIAL | F_CLOSE_P},
    {"frame", F_SPECIAL | F_VOID},
    {"frameset", F_SPECIAL},
    {"h1", F_SPECIAL | F_CLOSE_P | F_BREAKOUT | F_HEADING},
    {"h2", F_SPECIAL | F_CLOSE_P | F_BREAKOUT | F_HEADING},
    {"h3", F_SPECIAL | F_CLOSE_P | F_BREAKOUT | F_HEADING},
    {"h4", F_SPECIAL | F_CLOSE_P | F_BREAKOUT | F_HEADING},
    {"h5", F_SPECIAL | F_CLOSE_P | F_BREAKOUT | F_HEADING},
    {"h6", F_SPECIAL | F_CLOSE_P | F_BREAKOUT | F_HEADING},
    {"head", F_SPECIAL | F_BREAKOUT},
    {"header", F_SPECIAL | F_CLOSE_P},
    {"hgroup", F_SPECIAL | F_CLOSE_P},
    {"hr", F_SPECIAL | F_VOID | F_CLOSE_P | F_BREAKOUT},
    {"html", F_SPECIAL | F_SCOPE | F_TABLE},
    {"i", F_FORMAT | F_BREAKOUT},
    {"iframe", F_SPECIAL},
    {"image", F_VOID},
    {"img", F_SPECIAL | F_VOID | F_BREAKOUT},
    {"input", F_SPECIAL | F_VOID},
    {"keygen", F_SPECIAL | F_VOID},
    {"li", F_SPECIAL | F_CLOSE_P | F_BREAKOUT},
    {"link", F_SPECIAL | F_VOID},
    {"listing", F_SPECIAL | F_CLOSE_P | F_BREAKOUT},
    {"main", F_SPECIAL | F_CLOSE_P},
    {"marquee", F_SPECIAL | F_SCOPE | F_MARKER},
    {"menu", F_SPECIAL | F_CLOSE_P | F_BREAKOUT},
    {"meta", F_SPECIAL | F_VOID | F_BREAKOUT},
    {"nav", F_SPECIAL | F_CLOSE_P},
    {"nobr", F_FORMAT | F_BREAKOUT},
    {"noembed", F_SPECIAL},
    {"noframes", F_SPECIAL},
    {"noscript", F_SPECIAL},
    {"object", F_SPECIAL | F_SCOPE | F_MARKER},
    {"ol", F_SPECIAL | F_CLOSE_P | F_LIST | F_BREAKOUT},
    {"p", F_SPECIAL | F_CLOSE_P | F_BREAKOUT},
    {"param", F_SPECIAL | F_VOID},
    {"plaintext", F_SPECIAL | F_CLOSE_P},
    {"pre", F_SPECIAL | F_CLOSE_P | F_BREAKOUT},
    {"ruby", F_BREAKOUT},
    {"s", F_FORMAT | F_BREAKOUT},
    {"script", F_SPECIAL},
    {"section", F_SPECIAL | F_CLOSE_P},
    {"select", F_SPECIAL},
    {"small", F_FORMAT | F_BREAKOUT},
    {"source", F_SPECIAL | F_VOID},
    {"span", F_BREAKOUT},
    {"strike", F_FORMAT | F_BREAKOUT},
    {"strong", F_FORMAT | F_BREAKOUT},
    {"style", F_SPECIAL},
    {"sub", F_BREAKOUT},
    {"summary", F_SPECIAL | F_CLOSE_P},
    {"sup", F_BREAKOUT},
    {"table", F_SPECIAL | F_SCOPE | F_TABLE | F_BREAKOUT},
    {"tbody", F_SPECIAL | F_RGROUP},
    {"td", F_SPECIAL | F_SCOPE | F_MARKER | F_CELL},
    {"template", F_SPECIAL | F_SCOPE | F_TABLE | F_MARKER},
    {"textarea", F_SPECIAL},
    {"tfoot", F_SPECIAL | F_RGROUP},
    {"th", F_SPECIAL | F_SCOPE | F_MARKER | F_CELL},
    {"thead", F_SPECIAL | F_RGROUP},
    {"title", F_SPECIAL},
    {"tr", F_SPECIAL},
    {"track", F_SPECIAL | F_VOID},
    {"tt", F_FORMAT | F_BREAKOUT},
    {"u", F_FORMAT | F_BREAKOUT},
    {"ul", F_SPECIAL | F_CLOSE_P | F_LIST | F_BREAKOUT},
    {"var", F_BREAKOUT},
    {"wbr", F_SPECIAL | F_VOID},
    {"xmp", F_SPECIAL | F_CLOSE_P},
};

static int tag_cmp(const void *k, const void *e)
{
    return strcmp(k, ((const struct tag_info *)e)->name);
}

static unsigned html_flags(const char *name)
{
    const struct tag_info *t = bsearch(name, html_tags, sizeof html_tags / sizeof html_tags[0],
                                       sizeof html_tags[0], tag_cmp);
    return t ? t->flags : 0;
}

/* The special elements of SVG and MathML are the integration points (and
 * annotation-xml, which is one only with an HTML encoding). */
static unsigned foreign_flags(int ns, const char *name)
{
    static const char *const svg[] = {"desc", "foreignobject", "title", NULL};
    static const char *const math[] = {"mi", "mn", "mo", "ms", "mtext", NULL};
    const char *const *l = ns == NS_SVG ? svg : math;
    for (size_t i = 0; l[i]; i++)
        if (strcmp(name, l[i]) == 0) return F_SPECIAL | F_SCOPE | F_INTEG;
    if (ns == NS_MATH && strcmp(name, "annotation-xml") == 0) return F_SPECIAL | F_SCOPE;
    return 0;
}

struct el {
    char name[HTML_TOK_NAME_MAX + 1];
    unsigned flags;
    unsigned char ns;
    unsigned char nomatch; /* an odd name (odd_name): an unknown tag to gumbo */
    int tag;               /* gumbo's tag: every unknown name is the same one to gumbo */
    size_t raw, raw_len;   /* foreign: the name gumbo compares end tags with */
};

/* An entry of the list of active formatting elements. */
struct afe {
    char name[HTML_TOK_NAME_MAX + 1];
    int marker;
    size_t at;             /* 1 + its index in the stack; 0 once closed */
    uint64_t key;          /* hash of name and attribute text */
    size_t attr, attr_len; /* the attribute text in the document */
};

#define DEPTH_AFE_MAX (2 * HTML_DEPTH_NEST_MAX + 16)

struct model {
    const char *s;
    struct el *st;
    size_t n;
    struct afe *l;
    size_t nl, capl;
    size_t max;
    uint64_t work;
    size_t selects; /* open select elements */
    size_t foreign; /* open svg and math elements and their descendants */
};

static int charge(struct model *m, uint64_t w)
{
    m->work += w;
    return m->work > HTML_DEPTH_WORK_MAX ? -EMLINK : 0;
}

static size_t last_marker(const struct model *m)
{
    size_t i = m->nl;
    while (i > 0 && !m->l[i - 1].marker) i--;
    return i; /* entries from here on are after the last marker */
}

static void afe_remove(struct model *m, size_t i)
{
    memmove(&m->l[i], &m->l[i + 1], (m->nl - i - 1) * sizeof *m->l);
    m->nl--;
}

static int afe_add(struct model *m, const struct afe *e)
{
    if (m->nl == DEPTH_AFE_MAX) return -EMLINK;
    if (m->nl == m->capl) {
        size_t nc = m->capl ? m->capl * 2 : 64;
        void *p = realloc(m->l, nc * sizeof *m->l);
        if (!p) return -ENOMEM;
        m->l = p;
        m->capl = nc;
    }
    m->l[m->nl++] = *e;
    return charge(m, m->nl);
}

static void clear_to_marker(struct model *m)
{
    while (m->nl > 0) {
        int mk = m->l[m->nl - 1].marker;
        m->nl--;
        if (mk) break;
    }
}

/* Pops the stack down to (and including) index i. */
static int pop_to(struct model *m, size_t i, const char *target)
{
    while (m->n > i) {
        struct el *e = &m->st[--m->n];
        if (e->ns != NS_HTML) {
            m->foreign--;
            continue;
        }
        if (strcmp(e->name, "select") == 0) m->selects--;
        if (e->flags & F_FORMAT) {
            for (size_t k = m->nl; k-- > 0;) {
                if (m->l[k].at == m->n + 1) {
                    m->l[k].at = 0;
                    break;
                }
                if (charge(m, 1) < 0) return -EMLINK;
            }
        }
        /* the builder clears to the last marker when it closes a cell or a
         * caption, and when an applet, marquee, object or template is closed
         * by its own end tag, not when a table's end pops one */
        if ((e->flags & F_MARKER) && ((e->flags & F_CELL) || strcmp(e->name, "caption") == 0 ||
                                      (target && strcmp(e->name, target) == 0)))
            clear_to_marker(m);
    }
    return 0;
}

static int push(struct model *m, const char *name, int nomatch, unsigned flags, int ns)
{
    if (m->n >= HTML_DEPTH_NEST_MAX) return -EMLINK;
    if (charge(m, m->n + 1) < 0) return -EMLINK;
    struct el *e = &m->st[m->n++];
    strcpy(e->name, name);
    e->flags = flags;
    e->ns = (unsigned char)ns;
    e->nomatch = (unsigned char)nomatch;
    e->tag = nomatch ? (int)GUMBO_TAG_UNKNOWN : (int)gumbo_tag_enum(name);
    if (m->n > m->max) m->max = m->n;
    if (ns != NS_HTML) m->foreign++;
    if (ns == NS_HTML && strcmp(name, "select") == 0) m->selects++;
    return 0;
}

/* Index of the topmost HTML element with name's tag (gumbo compares tags, so
 * </x> closes any element whose name gumbo does not know, as <y>), or with
 * one of the flags any when name is NULL (headings), before an element with
 * one of the stop flags; -1 if none. */
static long find(struct model *m, const char *name, unsigned any, unsigned stop)
{
    int tag = name ? (int)gumbo_tag_enum(name) : -1;
    for (size_t i = m->n; i-- > 0;) {
        if (charge(m, 1) < 0) return -2;
        const struct el *e = &m->st[i];
        if (e->ns == NS_HTML && (name ? e->tag == tag : (e->flags & any) != 0)) return (long)i;
        if (e->flags & stop) return -1;
    }
    return -1;
}

/* The topmost of a set of table elements, by name. */
static long find_any(struct model *m, const char *const *names, const char **which)
{
    for (size_t i = m->n; i-- > 0;) {
        if (charge(m, 1) < 0) return -2;
        const struct el *e = &m->st[i];
        if (e->ns != NS_HTML) continue;
        for (size_t k = 0; names[k]; k++)
            if (strcmp(e->name, names[k]) == 0) {
                *which = names[k];
                return (long)i;
            }
    }
    return -1;
}

static int reconstruct(struct model *m)
{
    if (m->nl == 0 || m->l[m->nl - 1].marker || m->l[m->nl - 1].at) return 0;
    size_t j = m->nl - 1;
    while (j > 0 && !m->l[j - 1].marker && !m->l[j - 1].at) {
        j--;
        if (charge(m, 1) < 0) return -EMLINK;
    }
    for (; j < m->nl; j++) {
        int r = push(m, m->l[j].name, 0, html_flags(m->l[j].name), NS_HTML);
        if (r < 0) return r;
        m->l[j].at = m->n;
    }
    return 0;
}

/* An end tag of a formatting element (or the <a>/<nobr> that closes an open
 * one). Where the standard says "act as any other end tag" (no such element
 * in the list since the last marker), gumbo 0.10 ignores the end tag instead,
 * so an element Noah's Ark took off the list stays open: the model does the
 * same (fuzz_html_depth found <b><i>x4 </b>x4 leaving the first <b> open). */
static void formatting_end(struct model *m, const char *name, int *err)
{
    size_t lm = last_marker(m), k = m->nl;
    while (k > lm && strcmp(m->l[k - 1].name, name) != 0) k--;
    if (charge(m, m->nl - k + 1) < 0) {
        *err = -EMLINK;
        return;
    }
    if (k == lm) return;
    struct afe *e = &m->l[k - 1];
    if (!e->at) {
        afe_remove(m, k - 1);
        return;
    }
    size_t at = e->at - 1;
    int special = 0;
    for (size_t i = m->n; i-- > at + 1;) {
        if (charge(m, 1) < 0) {
            *err = -EMLINK;
            return;
        }
        if (m->st[i].flags & F_SCOPE) return; /* not in scope: ignored */
        if (m->st[i].flags & F_SPECIAL) special = 1;
    }
    if (special) return; /* the adoption agency: no shallower, kept as it is */
    afe_remove(m, k - 1);
    *err = pop_to(m, at, NULL);
}

static uint64_t afe_key(const char *s, const struct html_token *tok, size_t *attr, size_t *len)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = tok->name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    *attr = *len = 0;
    if (tok->n_attrs) {
        const struct html_tok_attr *a = &tok->attrs[0], *z = &tok->attrs[tok->n_attrs - 1];
        size_t end = z->value_len ? z->value + z->value_len : z->name + z->name_len;
        *attr = a->name;
        *len = end - a->name;
        for (size_t i = *attr; i < end; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    }
    return h;
}

/* Noah's Ark: a fourth identical entry after the last marker removes the first. */
static int noahs_ark(struct model *m, const struct afe *n)
{
    size_t lm = last_marker(m), same = 0, first = 0;
    if (charge(m, m->nl - lm + 1) < 0) return -EMLINK;
    for (size_t k = m->nl; k-- > lm;) {
        const struct afe *e = &m->l[k];
        if (e->key != n->key || strcmp(e->name, n->name) != 0 || e->attr_len != n->attr_len ||
            memcmp(m->s + e->attr, m->s + n->attr, n->attr_len) != 0)
            continue;
        same++;
        first = k;
    }
    if (same >= 3) afe_remove(m, first);
    return 0;
}

static int is_html_encoding(const char *s, const struct html_token *tok)
{
    for (size_t i = 0; i < tok->n_attrs; i++) {
        const struct html_tok_attr *a = &tok->attrs[i];
        if (a->name_len != 8 || strncasecmp(s + a->name, "encoding", 8) != 0) continue;
        size_t q = a->quote ? 1 : 0;
        struct homing_buf b;
        homing_buf_init(&b, 4096);
        int r = html_tok_attr_value(s + a->value + q, a->value_len - 2 * q, a->quote, &b);
        int yes = r == 0 && b.data &&
                  (strcasecmp(b.data, "text/html") == 0 ||
                   strcasecmp(b.data, "application/xhtml+xml") == 0);
        homing_buf_free(&b);
        return yes; /* the first attribute of a name counts */
    }
    return 0;
}

/* Implied end tags of table parts: closes an open cell, then returns the
 * topmost of tr, row groups and table (or template) in *which. */
static long table_context(struct model *m, const char **which)
{
    static const char *const cells[] = {"td",    "th",    "tr",       "tbody", "thead",
                                        "tfoot", "table", "template", NULL};
    long i = find_any(m, cells, which);
    if (i >= 0 && (strcmp(*which, "td") == 0 || strcmp(*which, "th") == 0)) {
        if (pop_to(m, (size_t)i, NULL) < 0) return -2;
        i = find_any(m, cells + 2, which);
    }
    return i;
}

/* A name cut at HTML_TOK_NAME_MAX, or with a NUL byte (gumbo makes it U+FFFD,
 * the tokenizer's C string ends there): compared with nothing, so it is never
 * mistaken for a shorter name (<option\0> is not an <option>). */
static int odd_name(const struct html_token *tok)
{
    size_t n = tok->name_len < HTML_TOK_NAME_MAX ? tok->name_len : HTML_TOK_NAME_MAX;
    return tok->name_len > HTML_TOK_NAME_MAX || strlen(tok->name) != n;
}

static const char *const select_closers[] = {"caption", "table", "tbody", "tfoot", "thead",
                                             "tr",      "td",    "th",    NULL};

static int name_in(const char *name, const char *const *l)
{
    for (size_t k = 0; l[k]; k++)
        if (strcmp(name, l[k]) == 0) return 1;
    return 0;
}

/* The open select's index, and whether a table (or template) is below it (the
 * builder is then "in select in table"); -1 if none, -2 past the work limit. */
static long open_select(struct model *m, int *in_table)
{
    static const char *const tbl[] = {"table", "template", NULL};
    static const char *const sel[] = {"select", "template", NULL};
    const char *which;
    long i = find_any(m, sel, &which);
    *in_table = 0;
    if (i < 0) return i;
    if (strcmp(which, "template") == 0) return -1; /* a template in the select: its own rules */
    for (size_t k = (size_t)i; k-- > 0;) {
        if (charge(m, 1) < 0) return -2;
        if (m->st[k].ns == NS_HTML && name_in(m->st[k].name, tbl)) {
            *in_table = 1;
            break;
        }
    }
    return i;
}

/* In a select the builder takes only options, and a few tags that close the
 * select first: 1 when the token was consumed here, 0 to process it as
 * usual (the select closed, or script and template), or a negative errno. */
static int in_select_start(struct model *m, const char *name, unsigned f)
{
    int in_table, r;
    long s = open_select(m, &in_table);
    if (s == -2) return -EMLINK;
    if (s < 0) return 0;
    struct el *top = &m->st[m->n - 1];
    if (strcmp(name, "option") == 0 || strcmp(name, "optgroup") == 0) {
        if (strcmp(top->name, "option") == 0 && (r = pop_to(m, m->n - 1, NULL)) < 0) return r;
        top = &m->st[m->n - 1];
        if (name[1] == 'p' && strcmp(top->name, "optgroup") == 0 &&
            (r = pop_to(m, m->n - 1, NULL)) < 0)
            return r;
        return (r = push(m, name, 0, f, NS_HTML)) < 0 ? r : 1;
    }
    if (strcmp(name, "select") == 0) return (r = pop_to(m, (size_t)s, NULL)) < 0 ? r : 1;
    if (strcmp(name, "input") == 0 || strcmp(name, "keygen") == 0 ||
        strcmp(name, "textarea") == 0 || (in_table && name_in(name, select_closers)))
        return (r = pop_to(m, (size_t)s, NULL)) < 0 ? r : 0;
    if (strcmp(name, "script") == 0 || strcmp(name, "template") == 0) return 0;
    return charge(m, 1) < 0 ? -EMLINK : 1; /* ignored */
}

static int in_select_end(struct model *m, const char *name)
{
    int in_table, r;
    long s = open_select(m, &in_table);
    if (s == -2) return -EMLINK;
    if (s < 0) return 0;
    size_t n = m->n;
    if (strcmp(name, "optgroup") == 0) {
        if (n >= 2 && strcmp(m->st[n - 1].name, "option") == 0 &&
            strcmp(m->st[n - 2].name, "optgroup") == 0 && (r = pop_to(m, n - 1, NULL)) < 0)
            return r;
        if (strcmp(m->st[m->n - 1].name, "optgroup") == 0 && (r = pop_to(m, m->n - 1, NULL)) < 0)
            return r;
        return 1;
    }
    if (strcmp(name, "option") == 0)
        return strcmp(m->st[n - 1].name, "option") == 0 ? ((r = pop_to(m, n - 1, NULL)) < 0 ? r : 1)
                                                        : 1;
    if (strcmp(name, "select") == 0) return (r = pop_to(m, (size_t)s, NULL)) < 0 ? r : 1;
    if (in_table && name_in(name, select_closers)) {
        long i = find(m, name, 0, F_TABLE);
        if (i == -2) return -EMLINK;
        if (i < 0) return 1;
        return (r = pop_to(m, (size_t)s, NULL)) < 0 ? r : 0;
    }
    if (strcmp(name, "script") == 0 || strcmp(name, "template") == 0) return 0;
    return charge(m, 1) < 0 ? -EMLINK : 1;
}

/* In foreign content gumbo matches an end tag with an element by text: the
 * end tag's text between "</" and ">" against the start tag's text after "<"
 * up to a blank (C's isspace) or '/', compared with strncasecmp. The token
 * spans are the tokenizer's, which are gumbo's (a "</>" that makes no token
 * is part of the next tag's text in both). */
static void raw_start_name(const char *s, const struct html_token *tok, size_t *at, size_t *len)
{
    size_t p = tok->start + 1, e = tok->end > p ? tok->end - 1 : p;
    size_t q = p;
    while (q < e && !memchr(" \t\n\v\f\r/", s[q], 7)) q++;
    *at = p;
    *len = q - p;
}

static int raw_end_match(const char *s, const struct html_token *tok, const struct el *e)
{
    size_t len = tok->end - tok->start >= 3 ? tok->end - tok->start - 3 : 0;
    return e->raw_len == len && strncasecmp(s + e->raw, s + tok->start + 2, len) == 0;
}

static int push_foreign(struct model *m, const struct html_token *tok, const char *name,
                        unsigned flags, int ns)
{
    int r = push(m, name, 1, flags, ns);
    if (r == 0) raw_start_name(m->s, tok, &m->st[m->n - 1].raw, &m->st[m->n - 1].raw_len);
    return r;
}

static int duplicate_attr(const char *s, const struct html_token *tok)
{
    for (size_t i = 0; i < tok->n_attrs && i < 64; i++)
        for (size_t j = 0; j < i; j++)
            if (tok->attrs[i].name_len == tok->attrs[j].name_len &&
                strncasecmp(s + tok->attrs[i].name, s + tok->attrs[j].name,
                            tok->attrs[i].name_len) == 0)
                return 1;
    return tok->n_attrs > 64; /* past that, assume the worst */
}

static int start_tag(struct model *m, struct html_tok *t, const struct html_token *tok)
{
    const char *name = tok->name;
    int nomatch = odd_name(tok);
    if (nomatch) name = ""; /* an unknown element to gumbo, whatever its prefix */
    unsigned f = html_flags(name);
    const struct el *top = m->n ? &m->st[m->n - 1] : NULL;
    int r = 0;
    /* in a MathML text integration point, mglyph and malignmark stay MathML */
    int math_glyph = top && top->ns == NS_MATH && (top->flags & F_INTEG) &&
                     strcmp(top->name, "annotation-xml") != 0 &&
                     (strcmp(name, "mglyph") == 0 || strcmp(name, "malignmark") == 0);
    /* <svg> in annotation-xml is processed by the HTML rules: an SVG element */
    int svg_in_annotation = top && top->ns == NS_MATH && strcmp(top->name, "annotation-xml") == 0 &&
                            strcmp(name, "svg") == 0;
    if (top && top->ns != NS_HTML && (!(top->flags & F_INTEG) || math_glyph) &&
        !svg_in_annotation) {
        int out = (f & F_BREAKOUT) != 0;
        /* gumbo (with max_errors 0, as scan runs it) glues the name after a
         * duplicate attribute to the duplicate's, so whether a <font> with
         * one breaks out is not worth modelling: refused */
        if (strcmp(name, "font") == 0 && duplicate_attr(t->s, tok)) return -EMLINK;
        if (strcmp(name, "font") == 0)
            for (size_t i = 0; i < tok->n_attrs; i++) {
                const struct html_tok_attr *a = &tok->attrs[i];
                const char *an = t->s + a->name;
                if ((a->name_len == 5 && strncasecmp(an, "color", 5) == 0) ||
                    (a->name_len == 4 &&
                     (strncasecmp(an, "face", 4) == 0 || strncasecmp(an, "size", 4) == 0)))
                    out = 1;
            }
        if (!out) {
            if (tok->self_closing) return charge(m, 1);
            int ns = top->ns;
            unsigned ff = foreign_flags(ns, name);
            if (ns == NS_MATH && strcmp(name, "annotation-xml") == 0) {
                if (duplicate_attr(t->s, tok)) return -EMLINK; /* as for <font> above */
                if (is_html_encoding(t->s, tok)) ff |= F_INTEG;
            }
            return push_foreign(m, tok, name, ff, ns);
        }
        while (m->n && m->st[m->n - 1].ns != NS_HTML && !(m->st[m->n - 1].flags & F_INTEG)) {
            if ((r = pop_to(m, m->n - 1, NULL)) < 0 || (r = charge(m, 1)) < 0) return r;
        }
    }
    if (m->selects && (r = in_select_start(m, name, f)) != 0) return r < 0 ? r : 0;
    if (strcmp(name, "svg") == 0 || strcmp(name, "math") == 0) {
        if ((r = reconstruct(m)) < 0) return r;
        if (tok->self_closing) return 0;
        return push_foreign(m, tok, name, 0, name[0] == 's' ? NS_SVG : NS_MATH);
    }
    if (strcmp(name, "html") == 0 || strcmp(name, "head") == 0 || strcmp(name, "body") == 0)
        return 0;
    /* a template's content follows insertion modes of its own (a row, a
     * table body ...) that the model does not follow; no mail client uses one */
    if (strcmp(name, "frameset") == 0 || strcmp(name, "template") == 0) return -EMLINK;
    long i;
    const char *which = NULL;
    if (f & F_CLOSE_P) {
        if ((i = find(m, "p", 0, F_SCOPE | F_BUTTON)) >= 0) r = pop_to(m, (size_t)i, NULL);
        if (i == -2) return -EMLINK;
    }
    if (r == 0 && (f & F_HEADING) && m->n && (m->st[m->n - 1].flags & F_HEADING))
        r = pop_to(m, m->n - 1, NULL);
    if (r == 0 && (strcmp(name, "li") == 0 || strcmp(name, "dd") == 0 || strcmp(name, "dt") == 0)) {
        int li = name[0] == 'l';
        for (size_t k = m->n; k-- > 0;) {
            if ((r = charge(m, 1)) < 0) return r;
            const struct el *e = &m->st[k];
            if (e->ns == NS_HTML &&
                (li ? strcmp(e->name, "li") == 0
                    : (strcmp(e->name, "dd") == 0 || strcmp(e->name, "dt") == 0))) {
                r = pop_to(m, k, NULL);
                break;
            }
            if ((e->flags & F_SPECIAL) && strcmp(e->name, "address") != 0 &&
                strcmp(e->name, "div") != 0 && strcmp(e->name, "p") != 0)
                break;
        }
    }
    /* outside a select an option or optgroup closes an option, not an optgroup */
    if (r == 0 && (strcmp(name, "option") == 0 || strcmp(name, "optgroup") == 0) && m->n &&
        strcmp(m->st[m->n - 1].name, "option") == 0)
        r = pop_to(m, m->n - 1, NULL);
    if (r < 0) return r;
    int caption = strcmp(name, "caption") == 0 || strcmp(name, "colgroup") == 0;
    if ((f & (F_CELL | F_RGROUP)) || strcmp(name, "tr") == 0 || caption) {
        if ((i = table_context(m, &which)) == -2) return -EMLINK;
        /* outside a table (and a template) the builder ignores table parts:
         * a cell the model kept there could later close real elements */
        if (i < 0) return charge(m, 1);
        if (strcmp(which, "template") != 0) {
            int row = strcmp(which, "tr") == 0, table = strcmp(which, "table") == 0;
            if ((f & F_RGROUP) || caption) {
                /* cleared back to the table: the open row and group close */
                static const char *const tbl[] = {"table", "template", NULL};
                if ((i = find_any(m, tbl, &which)) == -2) return -EMLINK;
                if (i >= 0 && strcmp(which, "table") == 0) r = pop_to(m, (size_t)i + 1, NULL);
            } else if (f & F_CELL) {
                /* cleared back to the row, or a row (and its group) implied */
                r = pop_to(m, (size_t)i + 1, NULL);
                if (r == 0 && table) r = push(m, "tbody", 0, html_flags("tbody"), 0);
                if (r == 0 && !row) r = push(m, "tr", 0, html_flags("tr"), 0);
            } else { /* tr: closes the open row, or opens the implied group */
                r = pop_to(m, (size_t)i + (row ? 0 : 1), NULL);
                if (r == 0 && table) r = push(m, "tbody", 0, html_flags("tbody"), 0);
            }
        }
    }
    if (r == 0 && strcmp(name, "table") == 0) {
        static const char *const ctx[] = {"td", "th", "caption", "table", "template", NULL};
        if ((i = find_any(m, ctx, &which)) == -2) return -EMLINK;
        if (i >= 0 && strcmp(which, "table") == 0) r = pop_to(m, (size_t)i, NULL);
    }
    if (r == 0 && (strcmp(name, "a") == 0 || strcmp(name, "nobr") == 0)) {
        formatting_end(m, name, &r);
        /* the builder also removes an <a> the adoption agency kept; the model
         * keeps it open (deeper) but takes it off the list */
        size_t lm = last_marker(m);
        for (size_t k = m->nl; r == 0 && k-- > lm;)
            if (strcmp(m->l[k].name, name) == 0) {
                afe_remove(m, k);
                break;
            }
    }
    if (r == 0 && strcmp(name, "button") == 0 && (i = find(m, "button", 0, F_SCOPE)) != -1)
        r = i == -2 ? -EMLINK : pop_to(m, (size_t)i, NULL);
    if (r < 0) return r;
    /* the builder reopens formatting elements before inline content, not
     * before a block (where they would pile up outside each paragraph) */
    static const char *const inline_special[] = {"applet", "area",  "br",     "button",  "embed",
                                                 "img",    "input", "keygen", "marquee", "object",
                                                 "select", "wbr",   "xmp",    NULL};
    int recon = !(f & F_SPECIAL);
    for (size_t k = 0; !recon && inline_special[k]; k++)
        recon = strcmp(name, inline_special[k]) == 0;
    if (recon && (r = reconstruct(m)) < 0) return r;
    if (f & F_VOID) return charge(m, 1);
    if ((r = push(m, name, nomatch, f, NS_HTML)) < 0) return r;
    if (f & F_FORMAT) {
        struct afe e = {.at = m->n};
        strcpy(e.name, name);
        e.key = afe_key(t->s, tok, &e.attr, &e.attr_len);
        if ((r = noahs_ark(m, &e)) < 0 || (r = afe_add(m, &e)) < 0) return r;
    } else if (f & F_MARKER) {
        struct afe e = {.marker = 1};
        if ((r = afe_add(m, &e)) < 0) return r;
    }
    if (strcmp(name, "script") == 0)
        html_tok_text_mode(t, HTML_TOK_SCRIPT);
    else if (strcmp(name, "style") == 0 || strcmp(name, "xmp") == 0 ||
             strcmp(name, "iframe") == 0 || strcmp(name, "noembed") == 0 ||
             strcmp(name, "noframes") == 0)
        html_tok_text_mode(t, HTML_TOK_RAWTEXT);
    else if (strcmp(name, "textarea") == 0 || strcmp(name, "title") == 0)
        html_tok_text_mode(t, HTML_TOK_RCDATA);
    else if (strcmp(name, "plaintext") == 0)
        html_tok_text_mode(t, HTML_TOK_PLAINTEXT);
    return 0;
}

static int end_tag(struct model *m, const struct html_token *tok)
{
    const char *name = tok->name;
    /* foreign content: the topmost foreign element gumbo matches by text, up
     * to the first HTML element (then the HTML rules apply) */
    for (size_t k = m->n; k > 0 && m->st[k - 1].ns != NS_HTML; k--) {
        if (charge(m, 1) < 0) return -EMLINK;
        if (raw_end_match(m->s, tok, &m->st[k - 1])) return pop_to(m, k - 1, NULL);
    }
    if (odd_name(tok)) name = ""; /* gumbo: an unknown tag, which closes any unknown element */
    unsigned f = html_flags(name);
    long i;
    int sr;
    if (m->selects && (sr = in_select_end(m, name)) != 0) return sr < 0 ? sr : 0;
    if (strcmp(name, "html") == 0 || strcmp(name, "head") == 0 || strcmp(name, "body") == 0 ||
        strcmp(name, "br") == 0)
        return 0;
    if (strcmp(name, "p") == 0)
        i = find(m, "p", 0, F_SCOPE | F_BUTTON);
    else if (strcmp(name, "li") == 0)
        i = find(m, "li", 0, F_SCOPE | F_LIST);
    else if (f & F_HEADING)
        i = find(m, NULL, F_HEADING, F_SCOPE);
    else if ((f & (F_CELL | F_RGROUP)) || strcmp(name, "tr") == 0 || strcmp(name, "table") == 0 ||
             strcmp(name, "caption") == 0 || strcmp(name, "colgroup") == 0)
        i = find(m, name, 0, F_TABLE);
    else if (f & F_FORMAT) {
        int r = 0;
        formatting_end(m, name, &r);
        return r;
    } else if (f & F_SPECIAL)
        i = find(m, name, 0, F_SCOPE);
    else
        i = find(m, name, 0, F_SPECIAL);
    if (i == -2) return -EMLINK;
    return i >= 0 ? pop_to(m, (size_t)i, name) : 0;
}

int html_depth_check(const char *html, size_t len, struct html_depth *out)
{
    struct model m = {.s = html};
    m.st = malloc(HTML_DEPTH_NEST_MAX * sizeof *m.st);
    if (!m.st) return -ENOMEM;
    struct html_tok t;
    struct html_token tok;
    html_tok_init(&t, html ? html : "", html ? len : 0);
    int r = 0;
    size_t prev_end = 0;
    while (r == 0) {
        int type = html_tok_next(&t, &tok);
        /* text between tokens (the tokenizer skips it): the builder reopens
         * the formatting elements there */
        if (tok.start > prev_end && (r = reconstruct(&m)) < 0) break;
        if (type == HTML_TOK_EOF) break;
        prev_end = tok.end;
        if (type == HTML_TOK_START)
            r = start_tag(&m, &t, &tok);
        else if (type == HTML_TOK_END)
            r = end_tag(&m, &tok);
        else if (type == HTML_TOK_COMMENT && m.n && m.st[m.n - 1].ns != NS_HTML &&
                 len - tok.start >= 9 && memcmp(html + tok.start, "<![CDATA[", 9) == 0) {
            /* in foreign content a CDATA section is text up to "]]>", where
             * the tokenizer (which knows no tree) saw a bogus comment */
            const char *e = memmem(html + tok.start + 9, len - tok.start - 9, "]]>", 3);
            t.pos = prev_end = e ? (size_t)(e - html) + 3 : len;
            r = charge(&m, 1);
        } else
            r = charge(&m, 1);
    }
    if (r == 0 && t.nomem) r = -ENOMEM;
    html_tok_free(&t);
    free(m.st);
    free(m.l);
    if (r == 0 && out) {
        out->max_depth = m.max;
        out->work = m.work;
    }
    return r;
}
