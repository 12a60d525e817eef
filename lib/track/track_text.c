/*
 * track_text.c: charset conversion to UTF-8 with a byte map back to the
 * original, and the transfer encoders for writing changed parts (contract in
 * track_int.h).
 *
 * Why a map instead of converting back: a round trip through UTF-8 is not the
 * identity for every charset (ISO-2022-JP shift sequences, windows-1252 holes,
 * Shift_JIS variants), and the author's bytes outside the spliced URLs must stay
 * exactly as they were. Only ASCII is ever spliced in, so the charset must carry
 * ASCII unchanged; that is checked before anything is converted.
 */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "lib/mime/mime_int.h"
#include "track_int.h"

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD for undecodable bytes */

static int is_identity(const char *cs)
{
    return !cs || !*cs || strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
           strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

/* The charset writes ASCII as ASCII: a probe of every character we splice in
 * converts to the same bytes. */
static int carries_ascii(const char *cs)
{
    static const char probe[] = "<img src=\"http://H-_.~/c/09AZaz?&amp;#\" />";
    iconv_t cd = iconv_open(cs, "UTF-8");
    if (cd == (iconv_t)-1) return 0;
    char out[sizeof probe * 4];
    char *in = (char *)probe, *o = out;
    size_t il = sizeof probe - 1, ol = sizeof out;
    size_t r = iconv(cd, &in, &il, &o, &ol);
    if (r != (size_t)-1) r = iconv(cd, NULL, NULL, &o, &ol);
    iconv_close(cd);
    return r != (size_t)-1 && (size_t)(o - out) == sizeof probe - 1 &&
           memcmp(out, probe, sizeof probe - 1) == 0;
}

struct conv {
    char *u;
    uint32_t *lo, *hi;
    size_t len, cap;
};

/* Room for n more bytes and the end entries. */
static int conv_reserve(struct conv *c, size_t n)
{
    if (c->len + n + 1 <= c->cap) return 0;
    size_t cap = c->cap ? c->cap : 256;
    while (c->len + n + 1 > cap) cap *= 2;
    char *u = realloc(c->u, cap);
    if (!u) return -ENOMEM;
    c->u = u;
    uint32_t *l = realloc(c->lo, cap * sizeof *l);
    if (!l) return -ENOMEM;
    c->lo = l;
    uint32_t *h = realloc(c->hi, cap * sizeof *h);
    if (!h) return -ENOMEM;
    c->hi = h;
    c->cap = cap;
    return 0;
}

static int conv_put(struct conv *c, const char *p, size_t n, size_t lo, size_t hi)
{
    int r = conv_reserve(c, n);
    if (r < 0) return r;
    for (size_t i = 0; i < n; i++) {
        c->u[c->len] = p[i];
        c->lo[c->len] = (uint32_t)lo;
        c->hi[c->len] = (uint32_t)hi;
        c->len++;
    }
    return 0;
}

/* What converting one byte on its own gives, from the initial state. */
enum byte_kind {
    BYTE_CHAR,  /* a whole character: table[b], lens[b] bytes of UTF-8 */
    BYTE_LEAD,  /* the start of a longer character (EINVAL) */
    BYTE_OTHER, /* anything else: converted by iconv as it comes */
};

/* Multibyte charsets whose converters carry no state from one character to
 * the next, so a byte at a character boundary always converts as it did on
 * its own (glibc: SJIS, CP932, EUC-JP, EUC-KR, UHC, GBK, EUC-CN, BIG5, EUC-TW;
 * by the names GMime gives them). Not ISO-2022-* (shift sequences), not the
 * composing CP1255/CP1258/TCVN, not BIG5-HKSCS, GB18030 or the JIS X 0213 ones. */
static int stateless_multibyte(const char *cs)
{
    static const char *const names[] = {
        "shift-jis", "shift_jis", "sjis",   "x-sjis",   "ms_kanji", "csshiftjis", "windows-31j",
        "cp932",     "euc-jp",    "eucjp",  "x-euc-jp", "euc-kr",   "euckr",      "cp949",
        "uhc",       "gbk",       "cp936",  "gb2312",   "euc-cn",   "euccn",      "big5",
        "big-5",     "cn-big5",   "csbig5", "euc-tw",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(cs, names[i]) == 0) return 1;
    return 0;
}

/* Converters stay open per thread: glibc loads a charset's module on
 * iconv_open and unloads it on the last iconv_close, which cost more than the
 * conversion itself for a small part. */
#define TEXT_CACHE_MAX 8

struct charset_entry {
    char name[64];
    iconv_t cd;              /* to UTF-8; (iconv_t)-1 when the charset is refused */
    int single;              /* every byte is a character: table and lens hold them all */
    int bytes;               /* kind, table and lens may be used at character boundaries */
    unsigned char kind[256]; /* enum byte_kind */
    char table[256][4];
    unsigned char lens[256];
};

/* Converts every byte on its own. Single-byte charsets (ISO-8859-*,
 * windows-125*, KOI8...) then go through the table alone (a byte iconv
 * refuses becomes U+FFFD); a consumed byte without output means state
 * (composing or shifting charsets), which no table can follow. */
static void byte_table(struct charset_entry *e, const char *cs)
{
    int single = 1, stateful = 0;
    for (int b = 0; b < 256; b++) {
        iconv(e->cd, NULL, NULL, NULL, NULL);
        char in = (char)b, *ip = &in, *op = e->table[b];
        size_t il = 1, ol = 4;
        if (iconv(e->cd, &ip, &il, &op, &ol) == (size_t)-1) {
            int lead = errno == EINVAL; /* a lead byte: multibyte charset */
            e->kind[b] = lead ? BYTE_LEAD : BYTE_OTHER;
            if (lead) single = 0;
            memcpy(e->table[b], replacement, 3);
            e->lens[b] = 3;
            continue;
        }
        e->lens[b] = (unsigned char)(4 - ol);
        e->kind[b] = BYTE_CHAR;
        if (e->lens[b] == 0) stateful = 1;
    }
    e->single = single && !stateful;
    e->bytes = !stateful && (e->single || stateless_multibyte(cs));
}

static __thread struct charset_entry *text_cache[TEXT_CACHE_MAX];
static __thread unsigned text_cache_next;

static struct charset_entry *charset_lookup(const char *cs)
{
    for (unsigned i = 0; i < TEXT_CACHE_MAX && text_cache[i]; i++)
        if (strcasecmp(text_cache[i]->name, cs) == 0) return text_cache[i];
    if (strlen(cs) >= sizeof text_cache[0]->name) return NULL;
    struct charset_entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    strcpy(e->name, cs);
    e->cd = carries_ascii(cs) ? iconv_open("UTF-8", cs) : (iconv_t)-1;
    if (e->cd != (iconv_t)-1) byte_table(e, cs);
    unsigned slot = text_cache_next++ % TEXT_CACHE_MAX;
    if (text_cache[slot]) {
        if (text_cache[slot]->cd != (iconv_t)-1) iconv_close(text_cache[slot]->cd);
        free(text_cache[slot]);
    }
    text_cache[slot] = e;
    return e;
}

/* A single-byte charset: the output's size is known first, so it is written
 * without checks. */
static int decode_single(const struct charset_entry *e, const char *in, size_t n, struct conv *c)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += e->lens[(unsigned char)in[i]];
    int r = conv_reserve(c, m);
    if (r < 0) return r;
    char *u = c->u;
    uint32_t *lo = c->lo, *hi = c->hi;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)in[i];
        for (unsigned j = 0; j < e->lens[b]; j++, k++) {
            u[k] = e->table[b][j];
            lo[k] = hi[k] = (uint32_t)i;
        }
    }
    c->len = k;
    return 0;
}

/* Any other charset: one character at a time, so each output byte knows its
 * input. At a character boundary of a stateless charset (e->bytes), a byte
 * that is a character on its own comes from the table and a lead byte is not
 * tried alone again: what iconv would give there, without asking it. */
static int decode_multi(const struct charset_entry *e, const char *in, size_t n, struct conv *c)
{
    iconv_t cd = e->cd;
    iconv(cd, NULL, NULL, NULL, NULL);
    size_t pos = 0, lo = 0;
    int r = 0;
    while (pos < n && r == 0) {
        unsigned char b = (unsigned char)in[pos];
        size_t k = 1;
        if (e->bytes && e->kind[b] == BYTE_CHAR) {
            r = conv_put(c, e->table[b], e->lens[b], lo, pos);
            lo = ++pos;
            continue;
        }
        if (e->bytes && e->kind[b] == BYTE_LEAD) k = 2;
        char ob[32];
        int done = 0;
        for (; k <= 8 && pos + k <= n; k++) {
            char *ip = (char *)in + pos, *op = ob;
            size_t il = k, ol = sizeof ob;
            if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1) {
                size_t used = k - il, made = sizeof ob - ol;
                if (made > 0) {
                    r = conv_put(c, ob, made, lo, pos);
                    lo = pos + used;
                }
                pos += used;
                done = 1;
                break;
            }
            if (errno != EINVAL) break;
        }
        if (!done && r == 0) {
            iconv(cd, NULL, NULL, NULL, NULL);
            r = conv_put(c, replacement, 3, lo, pos);
            pos++;
            lo = pos;
        }
    }
    return r;
}

int track_text_decode(const char *charset, const char *in, size_t n, struct track_text *out)
{
    if (n >= TRACK_TEXT_MAX) return -E2BIG;
    if (is_identity(charset)) {
        *out = (struct track_text){in, n, NULL, NULL, NULL, 0};
        return 0;
    }
    homing_mime_init(); /* GMime's charset names need its tables */
    const char *cs = g_mime_charset_iconv_name(charset);
    struct charset_entry *e = cs ? charset_lookup(cs) : NULL;
    if (!e || e->cd == (iconv_t)-1) return -ENOTSUP;
    struct conv c = {0};
    int r = e->single ? decode_single(e, in, n, &c) : decode_multi(e, in, n, &c);
    if (r == 0) r = conv_reserve(&c, 0); /* room for the end entries */
    if (r < 0) {
        free(c.u);
        free(c.lo);
        free(c.hi);
        return r;
    }
    c.u[c.len] = '\0';
    c.lo[c.len] = (uint32_t)n;
    c.hi[c.len] = (uint32_t)n;
    int stateful = strncasecmp(cs, "iso-2022", 8) == 0;
    *out = (struct track_text){c.u, c.len, c.u, c.lo, c.hi, stateful};
    return 0;
}

/* The HTML standard's prescan for a character encoding (HTML 13.2.3.2,
 * "prescan a byte stream to determine its encoding") over the first
 * TRACK_META_SCAN bytes: what a browser, and so a mail program showing the
 * part, reads from <meta charset> or <meta http-equiv=Content-Type
 * content="...; charset=..."> when nothing else names the charset. */
#define TRACK_META_SCAN 1024
#define META_VALUE_MAX  256 /* attribute names and values are cut there */

struct meta_scan {
    const char *p;
    size_t n, pos;
    int out; /* ran out of bytes: the prescan fails */
};

static int meta_space(unsigned char c)
{
    return c == 0x09 || c == 0x0a || c == 0x0c || c == 0x0d || c == 0x20;
}

static int meta_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 0x20 : c;
}

static int meta_out(struct meta_scan *m)
{
    m->out = 1;
    m->pos = m->n;
    return 0;
}

/* Appends to a bounded attribute name or value (a longer one is cut: it
 * then matches no name and no charset). */
static void meta_put(char *b, size_t *len, int c)
{
    if (*len + 1 < META_VALUE_MAX) b[(*len)++] = (char)meta_lower(c);
    b[*len] = '\0';
}

/* "Get an attribute": 1 with name and value, 0 when there is none (at '>',
 * or out of bytes, which sets m->out). */
static int meta_attr(struct meta_scan *m, char *name, char *value)
{
    size_t nl = 0, vl = 0;
    name[0] = value[0] = '\0';
    while (m->pos < m->n && (meta_space((unsigned char)m->p[m->pos]) || m->p[m->pos] == '/'))
        m->pos++;
    if (m->pos >= m->n) return meta_out(m);
    if (m->p[m->pos] == '>') return 0;
    for (;; m->pos++) {
        if (m->pos >= m->n) return meta_out(m);
        char c = m->p[m->pos];
        if (c == '=' && nl > 0) {
            m->pos++;
            goto value;
        }
        if (meta_space((unsigned char)c)) break;
        if (c == '/' || c == '>') return 1;
        meta_put(name, &nl, c);
    }
    while (m->pos < m->n && meta_space((unsigned char)m->p[m->pos])) m->pos++;
    if (m->pos >= m->n) return meta_out(m);
    if (m->p[m->pos] != '=') return 1;
    m->pos++;
value:
    while (m->pos < m->n && meta_space((unsigned char)m->p[m->pos])) m->pos++;
    if (m->pos >= m->n) return meta_out(m);
    char q = m->p[m->pos];
    if (q == '"' || q == '\'') {
        for (m->pos++; m->pos < m->n; m->pos++) {
            if (m->p[m->pos] == q) {
                m->pos++;
                return 1;
            }
            meta_put(value, &vl, m->p[m->pos]);
        }
        return meta_out(m);
    }
    if (q == '>') return 1;
    for (; m->pos < m->n; m->pos++) {
        char c = m->p[m->pos];
        if (meta_space((unsigned char)c) || c == '>') return 1;
        meta_put(value, &vl, c);
    }
    return meta_out(m);
}

/* "Extracting a character encoding from a meta element" (a content value,
 * already lower case): the charset=... in it, into out; 0 if none. */
static int meta_content_charset(const char *v, char *out)
{
    const char *p = v;
    while ((p = strstr(p, "charset")) != NULL) {
        p += 7;
        while (meta_space((unsigned char)*p)) p++;
        if (*p != '=') continue;
        p++;
        while (meta_space((unsigned char)*p)) p++;
        size_t n;
        if (*p == '"' || *p == '\'') {
            const char *e = strchr(p + 1, *p);
            if (!e) return 0;
            p++;
            n = (size_t)(e - p);
        } else {
            n = 0;
            while (p[n] && !meta_space((unsigned char)p[n]) && p[n] != ';') n++;
        }
        if (n == 0 || n >= META_VALUE_MAX) return 0;
        memcpy(out, p, n);
        out[n] = '\0';
        return 1;
    }
    return 0;
}

/* Skips past the "-->" that ends the comment opened at pos ("<!-->" and
 * "<!--->" close themselves). */
static void meta_skip_comment(struct meta_scan *m)
{
    for (size_t i = m->pos + 4; i < m->n; i++)
        if (m->p[i] == '>' && m->p[i - 1] == '-' && m->p[i - 2] == '-') {
            m->pos = i + 1;
            return;
        }
    meta_out(m);
}

/* The <meta> at pos (just after "<meta" and its space or '/'): the charset
 * it declares, into out; 0 if none counts. */
static int meta_element(struct meta_scan *m, char *out, size_t cap)
{
    char name[META_VALUE_MAX], value[META_VALUE_MAX], charset[META_VALUE_MAX] = "";
    int got_pragma = 0, need_pragma = -1, seen = 0; /* seen: http-equiv, content, charset */
    while (meta_attr(m, name, value)) {
        if (strcmp(name, "http-equiv") == 0 && !(seen & 1)) {
            seen |= 1;
            if (strcmp(value, "content-type") == 0) got_pragma = 1;
        } else if (strcmp(name, "content") == 0 && !(seen & 2)) {
            seen |= 2;
            char cs[META_VALUE_MAX];
            if (!charset[0] && meta_content_charset(value, cs)) {
                strcpy(charset, cs);
                need_pragma = 1;
            }
        } else if (strcmp(name, "charset") == 0 && !(seen & 4)) {
            seen |= 4;
            snprintf(charset, sizeof charset, "%s", value);
            need_pragma = 0;
        }
    }
    if (m->out || need_pragma < 0 || (need_pragma == 1 && !got_pragma)) return 0;
    /* the name as written, trimmed; a label no converter knows is the
     * caller's to refuse */
    const char *c = charset;
    size_t n = strlen(c);
    while (n > 0 && meta_space((unsigned char)*c)) c++, n--;
    while (n > 0 && meta_space((unsigned char)c[n - 1])) n--;
    /* what the standard reads instead (UTF-16 labels, read as UTF-8, need
     * nothing: no converter here takes them, and the caller then reads the
     * part as UTF-8) */
    if (n == 14 && strncmp(c, "x-user-defined", 14) == 0) c = "windows-1252", n = 12;
    if (n == 0 || n >= cap) return 0;
    memcpy(out, c, n);
    out[n] = '\0';
    return 1;
}

int track_text_meta_charset(const char *html, size_t len, char *out, size_t cap)
{
    struct meta_scan m = {html, len < TRACK_META_SCAN ? len : TRACK_META_SCAN, 0};
    char name[META_VALUE_MAX], value[META_VALUE_MAX];
    while (m.pos < m.n) {
        const char *p = m.p + m.pos;
        size_t left = m.n - m.pos;
        if (left >= 4 && memcmp(p, "<!--", 4) == 0) {
            meta_skip_comment(&m);
            continue;
        }
        if (left >= 6 && strncasecmp(p, "<meta", 5) == 0 &&
            (meta_space((unsigned char)p[5]) || p[5] == '/')) {
            m.pos += 5; /* at the space or '/', which attributes skip */
            if (meta_element(&m, out, cap)) return 1;
            continue;
        }
        int letter = left >= 2 && ((p[1] | 0x20) >= 'a' && (p[1] | 0x20) <= 'z');
        int end_letter = left >= 3 && p[1] == '/' && ((p[2] | 0x20) >= 'a' && (p[2] | 0x20) <= 'z');
        if (p[0] == '<' && (letter || end_letter)) {
            /* another tag: its attributes are read past, so a quoted '>'
             * or "<meta" inside one is not taken for markup */
            while (m.pos < m.n && !meta_space((unsigned char)m.p[m.pos]) && m.p[m.pos] != '>')
                m.pos++;
            while (meta_attr(&m, name, value)) {
            }
            m.pos++;
            continue;
        }
        if (p[0] == '<' && left >= 2 && (p[1] == '!' || p[1] == '/' || p[1] == '?')) {
            const char *gt = memchr(p, '>', left);
            if (!gt) break;
            m.pos = (size_t)(gt - m.p) + 1;
            continue;
        }
        m.pos++;
    }
    return 0;
}

void track_text_free(struct track_text *t)
{
    if (!t) return;
    free(t->owned);
    free(t->lo);
    free(t->hi);
    memset(t, 0, sizeof *t);
}

size_t track_text_lo(const struct track_text *t, size_t p)
{
    return t->lo ? t->lo[p] : p;
}

size_t track_text_hi(const struct track_text *t, size_t p)
{
    return t->hi ? t->hi[p] : p;
}

int track_encode_base64(struct homing_buf *out, const char *in, size_t n, const char *eol)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t el = strlen(eol);
    char line[80];
    size_t ll = 0;
    int first = 1;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n) v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)in[i + 2];
        line[ll++] = al[v >> 18 & 63];
        line[ll++] = al[v >> 12 & 63];
        line[ll++] = i + 1 < n ? al[v >> 6 & 63] : '=';
        line[ll++] = i + 2 < n ? al[v & 63] : '=';
        if (ll == 76 || i + 3 >= n) {
            /* no line break after the last line: the caller keeps the one the
             * original body had */
            int r = !first ? homing_buf_append(out, eol, el) : 0;
            if (r == 0) r = homing_buf_append(out, line, ll);
            if (r < 0) return r;
            ll = 0;
            first = 0;
        }
    }
    return 0;
}

/* Quoted-printable lives in lib/mime (homing_mime_encode_qp): strip writes
 * it too, and both must keep RFC 2045's 76 characters per line. */
int track_encode_qp(struct homing_buf *out, const char *in, size_t n, const char *eol)
{
    return homing_mime_encode_qp(out, in, n, eol);
}
