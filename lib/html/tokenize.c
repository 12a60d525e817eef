/*
 * tokenize.c: the HTML tokenizer of tokenize.h, after the WHATWG standard's
 * tokenization states (section 13.2.5). The states that decide where a token
 * ends are followed exactly; the ones that only name parse errors or build
 * values are folded into scans for the next byte that matters (memchr), since
 * no value is built here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tokenize_int.h"

#include "charref_table.h"

static int is_ws(unsigned char c)
{
    /* CR counts: input preprocessing turns it into LF */
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static int is_alpha(unsigned char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

void html_tok_init(struct html_tok *t, const char *s, size_t len)
{
    memset(t, 0, sizeof *t);
    t->s = s;
    t->len = len;
}

void html_tok_free(struct html_tok *t)
{
    if (!t) return;
    free(t->attrs);
    t->attrs = NULL;
    t->attrs_cap = 0;
}

static int push_attr(struct html_tok *t, struct html_token *tok, const struct html_tok_attr *a)
{
    if (tok->n_attrs >= HTML_TOK_ATTRS_MAX) return 0;
    if (tok->n_attrs == t->attrs_cap) {
        size_t cap = t->attrs_cap ? t->attrs_cap * 2 : 16;
        struct html_tok_attr *v = realloc(t->attrs, cap * sizeof *v);
        if (!v) return -ENOMEM;
        t->attrs = v;
        t->attrs_cap = cap;
    }
    t->attrs[tok->n_attrs++] = *a;
    return 0;
}

void html_tok_text_mode(struct html_tok *t, int mode)
{
    t->mode = mode;
}

/* Whether an end tag for the last start tag begins at p ("</name" and then
 * whitespace, '/' or '>'): the only end tag that closes raw text. */
static int appropriate_end(const struct html_tok *t, size_t p)
{
    size_t n = t->last_start_len;
    if (n == 0 || n > HTML_TOK_NAME_MAX || t->len - p < n + 3) return 0;
    if (t->s[p] != '<' || t->s[p + 1] != '/' || strncasecmp(t->s + p + 2, t->last_start, n) != 0)
        return 0;
    unsigned char c = (unsigned char)t->s[p + 2 + n];
    return is_ws(c) || c == '/' || c == '>';
}

/* RCDATA and RAWTEXT: text up to the appropriate end tag (or the end). */
static size_t raw_text_end(const struct html_tok *t)
{
    size_t p = t->pos;
    while (p < t->len) {
        const char *lt = memchr(t->s + p, '<', t->len - p);
        if (!lt) return t->len;
        p = (size_t)(lt - t->s);
        if (appropriate_end(t, p)) return p;
        p++;
    }
    return t->len;
}

static int word_at(const struct html_tok *t, size_t p, const char *w)
{
    size_t n = strlen(w);
    if (t->len - p < n) return 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)t->s[p + i] | 0x20) != (unsigned char)w[i]) return 0;
    unsigned char c = p + n < t->len ? (unsigned char)t->s[p + n] : 0;
    return p + n < t->len && (is_ws(c) || c == '/' || c == '>');
}

/* Script data with its escaped and double-escaped states: "<!--" starts an
 * escaped run in which "<script" (double escape) hides "</script>" until its
 * own "</script" or "-->". Returns where the text ends. */
static size_t script_end(const struct html_tok *t)
{
    enum { DATA, ESCAPED, DOUBLE } st = DATA;
    int dashes = 0; /* '-' just before, counted up to 2 */
    const char *s = t->s;
    for (size_t p = t->pos; p < t->len; p++) {
        unsigned char c = (unsigned char)s[p];
        if (c == '-') {
            if (dashes < 2) dashes++;
            continue;
        }
        if (c == '>' && dashes == 2 && st != DATA) {
            st = DATA;
            dashes = 0;
            continue;
        }
        dashes = 0;
        if (c != '<') continue;
        if (st == DATA) {
            if (appropriate_end(t, p)) return p;
            if (t->len - p >= 4 && memcmp(s + p, "<!--", 4) == 0) {
                st = ESCAPED;
                p += 3;
                dashes = 2; /* "<!--" then ">" ends the escape at once */
            }
        } else if (st == ESCAPED) {
            if (appropriate_end(t, p)) return p;
            if (word_at(t, p + 1, "script")) {
                st = DOUBLE;
                p += 6;
            }
        } else {
            if (p + 1 < t->len && s[p + 1] == '/' && word_at(t, p + 2, "script")) {
                st = ESCAPED;
                p += 7;
            }
        }
    }
    return t->len;
}

/* Comment states from just after "<!--": returns the end of the token (after
 * its '>', or the end of input) and the end of the comment's data in *dend. */
static size_t comment_end(const struct html_tok *t, size_t p, size_t *dend)
{
    const char *s = t->s;
    size_t n = t->len;
    /* comment start and comment start dash: "<!-->" and "<!--->" */
    if (p < n && s[p] == '>') {
        *dend = p;
        return p + 1;
    }
    if (p + 1 < n && s[p] == '-' && s[p + 1] == '>') {
        *dend = p;
        return p + 2;
    }
    for (;;) {
        const char *d = memchr(s + p, '-', n - p);
        if (!d) break;
        size_t q = (size_t)(d - s);
        if (q + 1 >= n || s[q + 1] != '-') {
            p = q + 1;
            continue;
        }
        /* comment end: "--" then more '-', '>', or "!>" */
        size_t e = q + 2;
        while (e < n && s[e] == '-') e++;
        if (e < n && s[e] == '>') {
            *dend = e - 2;
            return e + 1;
        }
        if (e + 1 < n && s[e] == '!' && s[e + 1] == '>') {
            *dend = e - 2;
            return e + 2;
        }
        if (e + 1 == n && s[e] == '!') break; /* "--!" then the end */
        p = e;
        if (p >= n) break;
    }
    *dend = n;
    return n;
}

static size_t gt_end(const struct html_tok *t, size_t p)
{
    const char *g = p < t->len ? memchr(t->s + p, '>', t->len - p) : NULL;
    return g ? (size_t)(g - t->s) + 1 : t->len;
}

/* A bogus comment (data from p) up to the next '>' or the end. */
static int bogus_comment(struct html_tok *t, struct html_token *tok, size_t p)
{
    tok->type = HTML_TOK_COMMENT;
    tok->bogus = 1;
    tok->data = p;
    tok->end = t->pos = gt_end(t, p);
    tok->data_len = tok->end - p - (tok->end > p && t->s[tok->end - 1] == '>');
    return tok->type;
}

/* Tag name, attributes, self-closing flag; p is at the name's first letter.
 * Returns the end of the tag, or 0 if the input ends inside it. */
static size_t tag(struct html_tok *t, size_t p, struct html_token *tok)
{
    const char *s = t->s;
    size_t n = t->len, ns = p;
    while (p < n && !is_ws((unsigned char)s[p]) && s[p] != '/' && s[p] != '>') p++;
    if (p >= n) return 0;
    tok->name_len = p - ns;
    size_t copy = tok->name_len < HTML_TOK_NAME_MAX ? tok->name_len : HTML_TOK_NAME_MAX;
    for (size_t i = 0; i < copy; i++) {
        unsigned char c = (unsigned char)s[ns + i];
        tok->name[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    }
    tok->name[copy] = '\0';
    tok->n_attrs = 0;
    tok->attrs = t->attrs;
    tok->self_closing = 0;
    for (;;) {
        /* before attribute name */
        while (p < n && is_ws((unsigned char)s[p])) p++;
        if (p >= n) return 0;
        if (s[p] == '>') return p + 1;
        if (s[p] == '/') {
            /* self-closing start tag */
            p++;
            if (p >= n) return 0;
            if (s[p] == '>') {
                tok->self_closing = 1;
                return p + 1;
            }
            continue;
        }
        /* attribute name: the first character is taken whatever it is ('='
         * too); a NUL there is lost (gumbo 0.10 drops the U+FFFD it should
         * become, so "\0href" is href: we keep what gumbo did) */
        if (s[p] == '\0') p++;
        struct html_tok_attr a = {p, 0, 0, 0, 0};
        if (p < n && s[p - 1] != '\0') p++;
        while (p < n && !is_ws((unsigned char)s[p]) && s[p] != '/' && s[p] != '>' && s[p] != '=')
            p++;
        a.name_len = p - a.name;
        /* after attribute name */
        while (p < n && is_ws((unsigned char)s[p])) p++;
        if (p >= n) return 0;
        if (s[p] == '=') {
            /* before attribute value */
            p++;
            while (p < n && is_ws((unsigned char)s[p])) p++;
            if (p >= n) return 0;
            if (s[p] == '"' || s[p] == '\'') {
                const char *q = memchr(s + p + 1, s[p], n - p - 1);
                if (!q) return 0;
                a.value = p;
                a.quote = s[p];
                p = (size_t)(q - s) + 1;
                a.value_len = p - a.value;
            } else if (s[p] != '>') {
                a.value = p;
                while (p < n && !is_ws((unsigned char)s[p]) && s[p] != '>') p++;
                if (p >= n) return 0;
                a.value_len = p - a.value;
            }
        }
        if (push_attr(t, tok, &a) < 0) {
            t->nomem = 1;
            return 0;
        }
        tok->attrs = t->attrs;
    }
}

int html_tok_next(struct html_tok *t, struct html_token *tok)
{
    const char *s = t->s;
    size_t n = t->len;
    if (t->mode != HTML_TOK_DATA) {
        size_t start = t->pos, end;
        switch (t->mode) {
        case HTML_TOK_PLAINTEXT: end = n; break;
        case HTML_TOK_SCRIPT: end = script_end(t); break;
        default: end = raw_text_end(t); break;
        }
        t->mode = HTML_TOK_DATA;
        t->pos = end;
        if (end > start) {
            tok->type = HTML_TOK_TEXT;
            tok->start = tok->data = start;
            tok->end = end;
            tok->data_len = end - start;
            return tok->type;
        }
    }
    size_t p = t->pos;
    /* "</>" emits nothing; gumbo then counts it into the next token's text
     * when that follows at once ("</></body>" ends the body at "</>"): kept
     * so, since a comment's text decides whether it is a conditional one */
    size_t glue = SIZE_MAX, glue_end = SIZE_MAX;
    while (p < n) {
        const char *lt = memchr(s + p, '<', n - p);
        if (!lt) break;
        size_t at = (size_t)(lt - s);
        p = at + 1;
        if (p >= n) break;
        unsigned char c = (unsigned char)s[p];
        tok->start = glue_end == at ? glue : at;
        tok->bogus = 0;
        if (is_alpha(c)) {
            size_t e = tag(t, p, tok);
            if (e == 0) break;
            tok->type = HTML_TOK_START;
            tok->end = t->pos = e;
            size_t k = tok->name_len < HTML_TOK_NAME_MAX ? tok->name_len : HTML_TOK_NAME_MAX;
            memcpy(t->last_start, tok->name, k + 1);
            t->last_start_len = tok->name_len;
            return tok->type;
        }
        if (c == '/') {
            p++;
            if (p >= n) break;
            if (is_alpha((unsigned char)s[p])) {
                size_t e = tag(t, p, tok);
                if (e == 0) break;
                tok->type = HTML_TOK_END;
                tok->end = t->pos = e;
                return tok->type;
            }
            if (s[p] == '>') { /* "</>" is dropped */
                if (glue_end != at) glue = at;
                glue_end = ++p;
                continue;
            }
            return bogus_comment(t, tok, p);
        }
        if (c == '?') {
            return bogus_comment(t, tok, p);
        }
        if (c == '!') {
            p++;
            if (n - p >= 2 && s[p] == '-' && s[p + 1] == '-') {
                size_t dend;
                tok->type = HTML_TOK_COMMENT;
                tok->data = p + 2;
                tok->end = t->pos = comment_end(t, p + 2, &dend);
                tok->data_len = dend - tok->data;
                return tok->type;
            }
            if (n - p >= 7 && strncasecmp(s + p, "doctype", 7) == 0) {
                tok->type = HTML_TOK_DOCTYPE;
                tok->end = t->pos = gt_end(t, p);
                return tok->type;
            }
            /* "<![CDATA[" is a bogus comment too outside foreign content */
            return bogus_comment(t, tok, p);
        }
        /* anything else: the '<' was text */
    }
    t->pos = n;
    tok->type = HTML_TOK_EOF;
    tok->start = tok->end = n;
    return tok->type;
}

/* windows-1252 meanings of numeric references to 0x80-0x9F (the standard's
 * table; 0 where the code point stays as it is) */
static const uint16_t c1_table[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

static int put_cp(struct homing_buf *b, uint32_t cp)
{
    char u[4];
    size_t k;
    if (cp < 0x80) {
        u[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    return homing_buf_append(b, u, k);
}

/* A numeric reference after "&#": returns the bytes consumed after the '&'
 * (0 if it is none) and the code point in *cp. */
static size_t numeric_ref(const char *v, size_t n, size_t p, uint32_t *cp)
{
    size_t i = p + 1; /* after '#' */
    int hex = i < n && (v[i] == 'x' || v[i] == 'X');
    if (hex) i++;
    size_t d0 = i;
    uint32_t x = 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        unsigned dv;
        if (c >= '0' && c <= '9')
            dv = c - '0';
        else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            dv = (c | 0x20) - 'a' + 10;
        else
            break;
        x = x * (hex ? 16 : 10) + dv;
        if (x > 0x10FFFF) x = 0x110000; /* stays out of range however long */
    }
    if (i == d0) return 0;
    if (i < n && v[i] == ';') i++;
    if (x == 0 || x > 0x10FFFF || (x >= 0xD800 && x <= 0xDFFF))
        x = 0xFFFD;
    else if (x >= 0x80 && x <= 0x9F && c1_table[x - 0x80])
        x = c1_table[x - 0x80];
    *cp = x;
    return i - p;
}

/* The longest named reference at v+p (just after '&'): its table entry and
 * length, or NULL. */
static const struct charref *named_ref(const char *v, size_t n, size_t p, size_t *len)
{
    size_t avail = n - p;
    size_t max = avail < CHARREF_NAME_MAX ? avail : CHARREF_NAME_MAX;
    size_t k = 0;
    while (k < max && is_alnum((unsigned char)v[p + k])) k++;
    if (k < max && v[p + k] == ';') k++;
    size_t n_table = sizeof charref_table / sizeof charref_table[0];
    for (; k > 0; k--) {
        size_t lo = 0, hi = n_table;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            const char *nm = charref_table[mid].name;
            int c = strncmp(nm, v + p, k);
            if (c == 0 && nm[k] != '\0') c = 1;
            if (c == 0) {
                *len = k;
                return &charref_table[mid];
            }
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return NULL;
}

/* Code points that gumbo, the parser this replaced, turns into U+FFFD when it
 * reads them from the input (the standard only names them parse errors):
 * controls other than whitespace and NUL, C1 controls, noncharacters. Kept,
 * so the destinations stored stay the ones stored before. */
static int invalid_cp(uint32_t c)
{
    return (c >= 0x1 && c <= 0x8) || c == 0xB || (c >= 0xE && c <= 0x1F) ||
           (c >= 0x7F && c <= 0x9F) || (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFF) == 0xFFFE ||
           (c & 0xFFFF) == 0xFFFF;
}

/* One character of the input at v+p as the encoding standard's UTF-8
 * decoder reads it (as gumbo does): a byte that cannot start a sequence, or
 * a sequence cut by a byte that cannot continue it (longer forms than needed
 * and surrogates included), is one U+FFFD for the bytes before the one that
 * broke it (at least one). Returns the width; the code point in *cp. */
static size_t read_char(const unsigned char *v, size_t n, size_t p, uint32_t *cp)
{
    unsigned char c = v[p];
    size_t w;
    uint32_t x;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        w = 2, x = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        w = 3, x = c & 0xF;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        w = 4, x = c & 0x7;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < w; i++) {
        if (p + i >= n) { /* cut by the end: the rest is one U+FFFD */
            *cp = 0xFFFD;
            return n - p;
        }
        unsigned char d = v[p + i];
        if (d < lo || d > hi) {
            *cp = 0xFFFD;
            return i;
        }
        lo = 0x80;
        hi = 0xBF;
        x = x << 6 | (d & 0x3F);
    }
    *cp = x;
    return w;
}

int html_tok_attr_value(const char *value, size_t len, char quote, struct homing_buf *b)
{
    (void)quote; /* the value ends before its quote (or '>'): neither is inside */
    const unsigned char *v = (const unsigned char *)value;
    size_t p = 0, run = 0;
    int r = 0;
    while (p < len && r == 0) {
        unsigned char c = v[p];
        if ((c >= 0x20 && c < 0x7F && c != '&') || c == '\t' || c == '\n' || c == '\f') {
            p++;
            continue;
        }
        uint32_t cp;
        size_t w = c == '&' ? 1 : read_char(v, len, p, &cp);
        if (c != '&' && c >= 0x80 && cp != 0xFFFD && !invalid_cp(cp)) {
            p += w; /* as written: shortest form, nothing to replace */
            continue;
        }
        r = homing_buf_append(b, value + run, p - run);
        if (r < 0) break;
        if (c == '\r') {
            r = homing_buf_append(b, "\n", 1);
            p += p + 1 < len && v[p + 1] == '\n' ? 2 : 1;
        } else if (c != '&') {
            r = put_cp(b, cp == 0 || invalid_cp(cp) ? 0xFFFD : cp);
            p += w;
        } else {
            /* '&': a reference, or a '&' as written */
            size_t k = 0;
            const struct charref *ref;
            if (p + 1 < len && v[p + 1] == '#' && (k = numeric_ref(value, len, p + 1, &cp)) > 0) {
                r = put_cp(b, cp);
                p += 1 + k;
            } else if (p + 1 < len && v[p + 1] != '#' &&
                       (ref = named_ref(value, len, p + 1, &k)) != NULL &&
                       !(ref->name[k - 1] != ';' && p + 1 + k < len &&
                         (v[p + 1 + k] == '=' || is_alnum(v[p + 1 + k])))) {
                r = homing_buf_puts(b, ref->utf8);
                p += 1 + k;
            } else {
                r = homing_buf_append(b, "&", 1);
                p++;
            }
        }
        run = p;
    }
    if (r == 0) r = homing_buf_append(b, value + run, p - run);
    return r;
}
