/*
 * track.c: `homing track` below the command line: parse a message with GMime,
 * find what to change in its text parts, and write tracked copies (contract in
 * homing/track.h).
 *
 * The copies are not re-serialised by GMime: GMime's parser (with the input as
 * a persistent stream) tells where each part's body lies in the input, and the
 * writer copies the input, replacing only the bodies of changed parts and
 * adding headers at the end of the top-level header block. So headers keep
 * their folding, order and bytes, and unchanged parts (attachments, signed
 * parts, preambles) are left exactly as they were, whatever GMime would have
 * normalised.
 *
 * Inside a changed part, the decoded body (in its own charset) is spliced at
 * the sites lib/track/rewrite*.c found in its UTF-8 form, mapped back through
 * the charset map of track_text.c, then re-encoded in the part's own transfer
 * encoding. Every site is known after prepare; render only fills in tokens, so
 * it cannot fail on the input.
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <sodium.h>

#include "homing/config.h"
#include "homing/store.h"
#include "homing/token.h"
#include "homing/track.h"
#include "lib/mime/addr_check_int.h"
#include "lib/mime/mime_int.h"
#include "lib/track/rewrite_int.h"
#include "track_int.h"

#define TRACK_WARNINGS_MAX      64  /* notes kept; later ones are counted in the last */
#define TRACK_ADDR_MAX          320 /* longest address taken for Disposition-Notification-To */
#define TRACK_REFUSED_SHOWN_MAX 120 /* bytes of a refused link quoted in its warning */
#define TRACK_MSGID_FIELDS_MAX  8   /* Message-ID fields replaced by a fresh one */

struct track_op {
    size_t start, end; /* in the part's decoded body, original charset */
    int kind;          /* enum rewrite_kind */
    uint32_t link;     /* link index (1-based) */
    char quote;
    int html;
    /* ISO-2022 text: the ASCII we splice in is preceded by a switch to ASCII
     * and followed by the shift sequence in effect before, at body[shift] */
    int stateful;
    size_t shift, shift_len;
};

struct track_part {
    size_t body_start, body_end; /* the raw body in t->data */
    int encoding;                /* GMimeContentEncoding */
    int ends_nl;                 /* the raw body ended with a line break */
    const char *body;            /* decoded body */
    size_t body_len;
    char *owned;
    struct track_op *ops;
    size_t n_ops;
    int pixel_top; /* the pixel is the REWRITE_PIXEL_TOP op; the end one adds document links */
    /* quoted-printable: its hard lines, so only changed ones are re-encoded
     * (NULL: re-encoded whole) */
    struct track_qp_unit *units;
    size_t n_units;
};

struct homing_track {
    char *data;
    size_t len;
    const char *eol;
    size_t hdr_end;
    struct homing_buf extra; /* headers to add, each ending in eol */
    struct track_part *parts;
    size_t n_parts, cap_parts;
    char **links;
    size_t n_links, cap_links;
    GHashTable *link_index; /* destination -> index, keys borrowed from links */
    char **rcpt;
    size_t n_rcpt, cap_rcpt;
    char *message_id, *subject, *sender, *base_url;
    unsigned flags;
    /* new_message_id: the Message-ID fields of the header block; the first
     * gives way to the fresh one (mid_field), the others are dropped */
    struct {
        size_t start, end;
    } mid_fields[TRACK_MSGID_FIELDS_MAX];
    size_t n_mid_fields;
    char *mid_field;
    char *warnings[TRACK_WARNINGS_MAX];
    size_t n_warn;
    size_t n_refused; /* links left untracked: not a valid destination */
    /* while parsing */
    const struct homing_track_options *o;
    unsigned n_seen;
    int crit;
    char crit_msg[160];
};

static void fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static void warn(struct homing_track *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn(struct homing_track *t, const char *fmt, ...)
{
    if (t->n_warn >= TRACK_WARNINGS_MAX) return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char *w = strdup(line);
    if (w) t->warnings[t->n_warn++] = w;
}

/* GMime's critical findings mean it may have skipped input, so the offsets it
 * gives would not describe the message: that is broken MIME, refused. */
static void on_parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
                              gpointer user)
{
    struct homing_track *t = user;
    const char *what = NULL;
    switch (code) {
    case GMIME_CRIT_INVALID_HEADER_NAME: what = "invalid header name"; break;
    case GMIME_CRIT_CONFLICTING_HEADER: what = "conflicting header"; break;
    case GMIME_CRIT_CONFLICTING_PARAMETER: what = "conflicting header parameter"; break;
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: what = "multipart without a boundary"; break;
    case GMIME_CRIT_NESTING_OVERFLOW: what = "MIME nesting too deep"; break;
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
        what = "part without headers or content";
        break;
    default: return;
    }
    (void)item;
    if (!t->crit) {
        t->crit = 1;
        snprintf(t->crit_msg, sizeof t->crit_msg, "broken MIME: %s at byte %lld", what,
                 (long long)offset);
    }
}

/* Counts and reports a link homing_url_check refused, escaped: the warning
 * reaches a terminal. */
static void refused(struct homing_track *t, int part, const char *url, const char *why)
{
    char safe[TRACK_REFUSED_SHOWN_MAX + 1];
    size_t n = strlen(url);
    homing_str_escape(safe, sizeof safe, url, n, 0);
    t->n_refused++;
    warn(t, "part %d: link \"%s%s\" left untracked: not a valid destination (%s)", part, safe,
         n > TRACK_REFUSED_SHOWN_MAX ? "..." : "", why ? why : "refused");
}

static int add_link(struct homing_track *t, char *url, uint32_t *index)
{
    gpointer v = g_hash_table_lookup(t->link_index, url);
    if (v) {
        *index = (uint32_t)GPOINTER_TO_UINT(v);
        free(url);
        return 0;
    }
    if (t->n_links >= HOMING_STORE_LINKS_MAX) {
        free(url);
        return -E2BIG;
    }
    if (t->n_links == t->cap_links) {
        size_t cap = t->cap_links ? t->cap_links * 2 : 16;
        char **v2 = realloc(t->links, cap * sizeof *v2);
        if (!v2) {
            free(url);
            return -ENOMEM;
        }
        t->links = v2;
        t->cap_links = cap;
    }
    t->links[t->n_links++] = url;
    *index = (uint32_t)t->n_links;
    g_hash_table_insert(t->link_index, url, GUINT_TO_POINTER(*index));
    return 0;
}

static int add_recipient(struct homing_track *t, const char *addr)
{
    if (!addr || !strchr(addr, '@')) return 0;
    for (size_t i = 0; i < t->n_rcpt; i++)
        if (strcasecmp(t->rcpt[i], addr) == 0) return 0;
    if (t->n_rcpt >= HOMING_STORE_RECIPIENTS_MAX) return -E2BIG;
    if (t->n_rcpt == t->cap_rcpt) {
        size_t cap = t->cap_rcpt ? t->cap_rcpt * 2 : 8;
        char **v = realloc(t->rcpt, cap * sizeof *v);
        if (!v) return -ENOMEM;
        t->rcpt = v;
        t->cap_rcpt = cap;
    }
    char *a = strdup(addr);
    if (!a) return -ENOMEM;
    t->rcpt[t->n_rcpt++] = a;
    return 0;
}

static int add_addresses(struct homing_track *t, InternetAddressList *l, int depth)
{
    int n = l ? internet_address_list_length(l) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *a = internet_address_list_get_address(l, i);
        int r = 0;
        if (INTERNET_ADDRESS_IS_MAILBOX(a))
            r = add_recipient(t, internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
        else if (INTERNET_ADDRESS_IS_GROUP(a) && depth < 4)
            r = add_addresses(t, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)),
                              depth + 1);
        if (r < 0) return r;
    }
    return 0;
}

static const char *first_mailbox(InternetAddressList *l)
{
    int n = l ? internet_address_list_length(l) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *a = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(a))
            return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
    }
    return NULL;
}

static void part_free(struct track_part *p)
{
    free(p->units);
    free(p->owned);
    free(p->ops);
}

void homing_track_free(struct homing_track *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n_parts; i++) part_free(&t->parts[i]);
    free(t->parts);
    if (t->link_index) g_hash_table_destroy(t->link_index);
    for (size_t i = 0; i < t->n_links; i++) free(t->links[i]);
    free(t->links);
    for (size_t i = 0; i < t->n_rcpt; i++) free(t->rcpt[i]);
    free(t->rcpt);
    for (size_t i = 0; i < t->n_warn; i++) free(t->warnings[i]);
    homing_buf_free(&t->extra);
    free(t->message_id);
    free(t->mid_field);
    free(t->subject);
    free(t->sender);
    free(t->base_url);
    free(t->data);
    free(t);
}

static int decode_body(struct track_part *p, const char *raw, size_t n)
{
    if (p->encoding != GMIME_CONTENT_ENCODING_BASE64 &&
        p->encoding != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) {
        p->body = raw;
        p->body_len = n;
        return 0;
    }
    GMimeEncoding st;
    g_mime_encoding_init_decode(&st, (GMimeContentEncoding)p->encoding);
    size_t cap = g_mime_encoding_outlen(&st, n) + 16;
    char *out = malloc(cap);
    if (!out) return -ENOMEM;
    size_t m = g_mime_encoding_flush(&st, raw, n, out);
    p->owned = out;
    p->body = out;
    p->body_len = m;
    return 0;
}

/* The ISO 2022 shift sequence last seen before offset end (ESC, intermediate
 * bytes 0x20-0x2f, a final byte 0x30-0x7e): the state text at end is in. ESC
 * never occurs inside ISO 2022 characters, so looking back is exact. */
static void last_shift(const char *b, size_t end, size_t *off, size_t *len)
{
    *off = *len = 0;
    for (size_t i = end; i-- > 0;) {
        if (b[i] != 0x1b) continue;
        size_t j = i + 1;
        while (j < end && j - i < 6 && b[j] >= 0x20 && b[j] <= 0x2f) j++;
        if (j < end && b[j] >= 0x30 && b[j] <= 0x7e && j > i + 1) {
            *off = i;
            *len = j + 1 - i;
            return;
        }
    }
}

/* Finds the sites of one text part and keeps them as splice operations on its
 * decoded body. Parts without any site stay out of the list: unchanged. */
static int track_leaf(struct homing_track *t, GMimePart *part, int html, int index)
{
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    GMimeStream *s = w ? g_mime_data_wrapper_get_stream(w) : NULL;
    if (!s) return 0;
    gint64 bs = s->bound_start, be = s->bound_end < 0 ? (gint64)t->len : s->bound_end;
    /* a message that ends inside its header block has no body to change:
     * anything written after the headers would be read as one */
    if (t->hdr_end == t->len) return 0;
    size_t prev_end = t->n_parts ? t->parts[t->n_parts - 1].body_end : t->hdr_end;
    if (bs < 0 || bs > be || (size_t)be > t->len || (size_t)bs < prev_end) {
        warn(t, "part %d: body not found in the input, left unchanged", index);
        return 0;
    }
    /* an empty body shares its line break with the end of the headers, so the
     * boundary follows right at bs: anything written there would join its
     * line. Nothing to track in it anyway. */
    if (bs == be || ((size_t)be < t->len && t->data[be] != '\n' && t->data[be] != '\r')) return 0;
    struct track_part p = {(size_t)bs, (size_t)be, (int)g_mime_part_get_content_encoding(part)};
    if (p.encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
        warn(t, "part %d: uuencoded text, left unchanged", index);
        return 0;
    }
    p.ends_nl = be > bs && t->data[be - 1] == '\n';
    int r = decode_body(&p, t->data + bs, (size_t)(be - bs));
    if (r < 0) return r;
    if (p.encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
        (r = track_qp_units(t->data + bs, (size_t)(be - bs), p.body, p.body_len, &p.units,
                            &p.n_units)) == -ENOMEM) {
        part_free(&p);
        return r;
    }
    const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    /* HTML without a charset parameter is read in the charset its <meta>
     * declares, as a mail program shows it; a label no converter here takes
     * is read as no label (as UTF-8, like a part that declares none) */
    char meta[64];
    int by_meta =
        html && (!cs || !*cs) && track_text_meta_charset(p.body, p.body_len, meta, sizeof meta);
    if (by_meta) cs = meta;
    struct track_text tt;
    r = track_text_decode(cs, p.body, p.body_len, &tt);
    if (r == -ENOTSUP && by_meta) r = track_text_decode(NULL, p.body, p.body_len, &tt);
    if (r == -ENOTSUP || r == -E2BIG) {
        char safe[64];
        homing_str_sanitize(safe, sizeof safe, cs ? cs : "", cs ? strlen(cs) : 0);
        warn(t, "part %d: charset '%s' cannot be rewritten, left unchanged", index, safe);
        part_free(&p);
        return 0;
    }
    if (r < 0) {
        part_free(&p);
        return r;
    }
    struct rewrite_list l = {0};
    int pixel = !t->o->pixel         ? REWRITE_PIXEL_NONE
                : t->o->pixel_at_end ? REWRITE_PIXEL_AT_END
                                     : REWRITE_PIXEL_AT_TOP;
    r = html ? rewrite_html(tt.utf8, tt.len, t->base_url, pixel, &l)
             : rewrite_text(tt.utf8, tt.len, t->base_url, &l);
    if (r == 0 && l.n > 0) {
        p.ops = calloc(l.n, sizeof *p.ops);
        if (!p.ops) r = -ENOMEM;
    }
    size_t last = 0;
    int unencoded = p.encoding != GMIME_CONTENT_ENCODING_BASE64 &&
                    p.encoding != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
    for (size_t i = 0; i < l.n && r == 0; i++) {
        struct rewrite_site *site = &l.v[i];
        struct track_op *op = &p.ops[p.n_ops];
        if (site->kind == REWRITE_REFUSED) {
            /* left as the author wrote it, never stored: a destination the
             * redirect could not write safely (issue 11) */
            refused(t, index, site->url, site->why);
            continue;
        }
        if (site->start == site->end) {
            op->start = op->end = track_text_hi(&tt, site->start);
        } else if (tt.stateful) {
            /* shift sequences around the URL stay; ours restore the state */
            op->start = track_text_lo(&tt, site->start);
            op->end = track_text_lo(&tt, site->end);
        } else {
            op->start = track_text_lo(&tt, site->start);
            op->end = track_text_hi(&tt, site->end);
        }
        if (tt.stateful) {
            op->stateful = 1;
            last_shift(p.body, op->end, &op->shift, &op->shift_len);
        }
        if (op->start < last || op->end < op->start || op->end > p.body_len) continue;
        /* in an unencoded part, a URL right after "--" at the start of a line
         * stays: its new text could make the line read as a boundary */
        if (site->kind == REWRITE_LINK && unencoded && op->start >= 2 &&
            memcmp(p.body + op->start - 2, "--", 2) == 0 &&
            (op->start == 2 || p.body[op->start - 3] == '\n'))
            continue;
        last = op->end;
        op->kind = site->kind;
        op->quote = site->quote;
        op->html = site->html;
        if (site->kind == REWRITE_PIXEL_TOP) p.pixel_top = 1;
        if (site->kind == REWRITE_LINK) {
            r = add_link(t, site->url, &op->link);
            site->url = NULL;
        }
        p.n_ops++;
    }
    rewrite_list_free(&l);
    track_text_free(&tt);
    if (r == -E2BIG) {
        part_free(&p);
        return r;
    }
    if (r < 0 || p.n_ops == 0) {
        part_free(&p);
        return r;
    }
    if (t->n_parts == t->cap_parts) {
        size_t cap = t->cap_parts ? t->cap_parts * 2 : 4;
        struct track_part *v = realloc(t->parts, cap * sizeof *v);
        if (!v) {
            part_free(&p);
            return -ENOMEM;
        }
        t->parts = v;
        t->cap_parts = cap;
    }
    t->parts[t->n_parts++] = p;
    return 0;
}

static int walk(struct homing_track *t, GMimeObject *obj, unsigned depth, char *err, size_t cap)
{
    if (depth > t->o->max_depth) {
        fail(err, cap, "MIME nesting deeper than track.max_depth (%u)", t->o->max_depth);
        return -E2BIG;
    }
    if (++t->n_seen > t->o->max_parts) {
        fail(err, cap, "more MIME parts than track.max_parts (%u)", t->o->max_parts);
        return -E2BIG;
    }
    int index = (int)t->n_seen;
    if (GMIME_IS_MULTIPART(obj)) {
        if (GMIME_IS_MULTIPART_SIGNED(obj) || GMIME_IS_MULTIPART_ENCRYPTED(obj)) {
            /* rewriting would break the signature or cannot see the text */
            warn(t, "part %d: signed or encrypted, left unchanged", index);
            return 0;
        }
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++) {
            int r = walk(t, g_mime_multipart_get_part(mp, i), depth + 1, err, cap);
            if (r < 0) return r;
        }
        return 0;
    }
    if (!GMIME_IS_PART(obj)) return 0; /* an attached message: its author's, not ours */
    GMimePart *part = GMIME_PART(obj);
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    int html = ct && g_mime_content_type_is_type(ct, "text", "html");
    int plain = ct && g_mime_content_type_is_type(ct, "text", "plain");
    if ((!html && !plain) || (plain && !t->o->rewrite_text)) return 0;
    if (t->o->no_links && (plain || !t->o->pixel)) return 0; /* nothing to change in it */
    if (g_mime_part_is_attachment(part)) return 0;
    int r = track_leaf(t, part, html, index);
    if (r == -E2BIG)
        fail(err, cap, "part %d: too many links", index);
    else if (r < 0)
        fail(err, cap, "%s", strerror(-r));
    return r;
}

static int header_name_line(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] > 0x20 && p[i] < 0x7f && p[i] != ':') i++;
    if (i == 0) return 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t')) i++;
    return i < n && p[i] == ':';
}

static int valid_base_url(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n > HOMING_TRACK_URL_MAX) return 0;
    if (strncasecmp(u, "http://", 7) != 0 && strncasecmp(u, "https://", 8) != 0) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c <= 0x20 || c >= 0x7f || strchr("\"'<>`\\", c)) return 0;
    }
    return 1;
}

static int valid_address(const char *a)
{
    size_t n = strlen(a);
    if (n < 3 || n > TRACK_ADDR_MAX || !strchr(a, '@')) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',') return 0;
    }
    return 1;
}

/* A Message-ID in the sender's domain, so it looks like any other the sender's
 * mail program makes; "invalid" when there is no usable domain. */
static char *make_message_id(const char *sender)
{
    /* one draw for both halves: each is a system call */
    uint64_t ab[2];
    randombytes_buf(ab, sizeof ab);
    uint64_t a = ab[0] & 0x7fffffffffffffffULL, b = ab[1] & 0x7fffffffffffffffULL;
    char dom[256] = "";
    const char *at = sender ? strrchr(sender, '@') : NULL;
    size_t k = 0;
    if (at)
        for (const char *p = at + 1; *p && k + 1 < sizeof dom; p++) {
            if (!(g_ascii_isalnum(*p) || *p == '-' || *p == '.')) {
                k = 0;
                break;
            }
            dom[k++] = *p;
        }
    dom[k] = '\0';
    char buf[320];
    snprintf(buf, sizeof buf, "%016llx%016llx@%s", (unsigned long long)a, (unsigned long long)b,
             k ? dom : "homing.invalid");
    return strdup(buf);
}

static int prepare(struct homing_track *t, const char *data, size_t len, char *err, size_t cap)
{
    const struct homing_track_options *o = t->o;
    if (!o->base_url || !valid_base_url(o->base_url)) {
        fail(err, cap, "public.base_url must be an http or https URL of printable ASCII");
        return -EINVAL;
    }
    if (len > o->max_size) {
        fail(err, cap, "message larger than track.max_size (%zu bytes)", o->max_size);
        return -E2BIG;
    }
    /* a message saved from an mbox may start with its "From " separator line */
    if (len >= 5 && memcmp(data, "From ", 5) == 0) {
        const char *nl = memchr(data, '\n', len);
        size_t skip = nl ? (size_t)(nl - data) + 1 : len;
        data += skip;
        len -= skip;
    }
    const char *nl = memchr(data, '\n', len);
    size_t l0 = nl ? (size_t)(nl - data) : len;
    if (len == 0 || !header_name_line(data, l0)) {
        fail(err, cap, "not an RFC 5322 message: it does not start with a header field");
        return -EINVAL;
    }
    if (memchr(data, '\0', l0)) {
        fail(err, cap, "not an RFC 5322 message: NUL byte in the header");
        return -EINVAL;
    }
    t->eol = nl && nl > data && nl[-1] == '\r' ? "\r\n" : "\n";
    t->data = malloc(len + 1);
    t->base_url = strdup(o->base_url);
    t->link_index = g_hash_table_new(g_str_hash, g_str_equal);
    if (!t->data || !t->base_url || !t->link_index) return -ENOMEM;
    memcpy(t->data, data, len);
    t->data[len] = '\0';
    t->len = len;

    /* the header block ends at the first empty line */
    size_t pos = 0;
    t->hdr_end = len;
    while (pos < len) {
        const char *e = memchr(t->data + pos, '\n', len - pos);
        size_t ll = e ? (size_t)(e - t->data) - pos : len - pos;
        if (ll == 0 || (ll == 1 && t->data[pos] == '\r')) {
            t->hdr_end = pos;
            break;
        }
        if (!e) break;
        pos += ll + 1;
    }

    if (mime_addr_check(t->data, len) < 0) {
        fail(err, cap,
             "an address header nested deeper than %d groups or comments (or with more than %d "
             "colons)",
             MIME_ADDR_DEPTH_MAX, MIME_ADDR_COLONS_MAX);
        return -ELOOP;
    }
    GMimeStream *st = g_mime_stream_mem_new_with_buffer(t->data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(st);
    g_object_unref(st);
    GMimeParserOptions *po = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(po, on_parser_warning, t);
    g_mime_parser_set_persist_stream(parser, TRUE);
    GMimeMessage *m = g_mime_parser_construct_message(parser, po);
    int r = 0;
    if (!m) {
        fail(err, cap, "not an RFC 5322 message");
        r = -EINVAL;
        goto out;
    }
    if (t->crit) {
        fail(err, cap, "%s", t->crit_msg);
        r = -EINVAL;
        goto out;
    }
    GMimeObject *mo = GMIME_OBJECT(m);
    const char *from = first_mailbox(g_mime_message_get_from(m));
    if (!from && !g_mime_object_get_header(mo, "From")) {
        fail(err, cap, "not an RFC 5322 message: no From header");
        r = -EINVAL;
        goto out;
    }
    if (from && (t->sender = strdup(from)) == NULL) r = -ENOMEM;
    if (r == 0 && o->domain_base_urls && *o->domain_base_urls) {
        /* the From domain's own tracking host: before the parts are read,
         * as links already under it are left alone */
        char url[HOMING_TRACK_URL_MAX + 1];
        int d =
            homing_domain_base_url(o->domain_base_urls, t->sender, o->base_url, url, sizeof url);
        if (d < 0 || !valid_base_url(url)) {
            fail(err, cap, "public.domain_base_urls is not a list of DOMAIN=URL");
            r = -EINVAL;
            goto out;
        }
        char *u = strdup(url);
        if (!u)
            r = -ENOMEM;
        else {
            free(t->base_url);
            t->base_url = u;
        }
    }
    const char *subj = g_mime_message_get_subject(m);
    if (r == 0 && subj && (t->subject = strdup(subj)) == NULL) r = -ENOMEM;
    if (r == 0) r = add_addresses(t, g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO), 0);
    if (r == 0) r = add_addresses(t, g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_CC), 0);
    if (r == 0) r = add_addresses(t, g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_BCC), 0);
    if (r < 0) {
        fail(err, cap, "%s", r == -E2BIG ? "too many recipients" : strerror(-r));
        goto out;
    }
    if (g_mime_object_get_header(mo, "DKIM-Signature")) t->flags |= HOMING_TRACK_DKIM_SIGNED;

    GMimeObject *body = g_mime_message_get_mime_part(m);
    if (body) r = walk(t, body, 1, err, cap);
    if (r < 0) goto out;

    homing_buf_init(&t->extra, 4096);
    const char *mid = g_mime_message_get_message_id(m);
    const char *raw_mid = g_mime_object_get_header(mo, "Message-ID");
    if (o->new_message_id) {
        /* a message of its own: tracking one .eml twice must not give two
         * registered messages one Message-ID (mail logs name messages by it) */
        size_t fpos = 0;
        struct homing_mime_field f;
        int fr;
        while ((fr = homing_mime_field_next(t->data, t->hdr_end, &fpos, &f)) != 0)
            if (fr == 1 && homing_mime_field_is(&f, "Message-ID")) {
                if (t->n_mid_fields == TRACK_MSGID_FIELDS_MAX) {
                    fail(err, cap, "more than %d Message-ID fields", TRACK_MSGID_FIELDS_MAX);
                    r = -EINVAL;
                    goto out;
                }
                t->mid_fields[t->n_mid_fields].start = f.start;
                t->mid_fields[t->n_mid_fields++].end = f.end;
            }
        t->message_id = make_message_id(t->sender);
        t->flags |= HOMING_TRACK_NEW_MSGID;
        if (!t->message_id) {
            r = -ENOMEM;
        } else if (t->n_mid_fields) {
            struct homing_buf b;
            homing_buf_init(&b, 4096);
            r = homing_buf_printf(&b, "Message-ID: <%s>%s", t->message_id, t->eol);
            if (r == 0) t->mid_field = homing_buf_steal(&b);
            homing_buf_free(&b);
        } else {
            r = homing_buf_printf(&t->extra, "Message-ID: <%s>%s", t->message_id, t->eol);
        }
    } else if (mid && *mid) {
        t->message_id = strdup(mid);
        if (!t->message_id) r = -ENOMEM;
    } else if (raw_mid) {
        /* there is one GMime cannot read: a second would conflict with it, so
         * it stays and is stored as printable text */
        size_t n = strlen(raw_mid);
        t->message_id = malloc(n + 1);
        if (!t->message_id)
            r = -ENOMEM;
        else
            homing_str_sanitize(t->message_id, n + 1, raw_mid, n);
    } else {
        t->message_id = make_message_id(t->sender);
        t->flags |= HOMING_TRACK_ADDED_MSGID;
        if (!t->message_id)
            r = -ENOMEM;
        else
            r = homing_buf_printf(&t->extra, "Message-ID: <%s>%s", t->message_id, t->eol);
    }
    if (r == 0 && o->read_receipt && !g_mime_object_get_header(mo, "Disposition-Notification-To")) {
        const char *to = o->read_receipt_to ? o->read_receipt_to : t->sender;
        if (!to || !valid_address(to)) {
            fail(err, cap, "%s",
                 to ? "the read receipt address is not a plain address"
                    : "no sender address to send the read receipt to");
            r = -EINVAL;
            goto out;
        }
        r = homing_buf_printf(&t->extra, "Disposition-Notification-To: <%s>%s", to, t->eol);
    }
    if (r < 0) fail(err, cap, "%s", strerror(-r));
out:
    if (m) g_object_unref(m);
    g_object_unref(parser);
    g_mime_parser_options_free(po);
    return r;
}

int homing_track_prepare(const char *data, size_t len, const struct homing_track_options *opts,
                         struct homing_track **out, char *err, size_t errcap)
{
    homing_mime_init();
    struct homing_track_options o = *opts;
    if (!o.max_size) o.max_size = HOMING_TRACK_MAX_SIZE;
    if (!o.max_depth) o.max_depth = HOMING_TRACK_MAX_DEPTH;
    if (!o.max_parts) o.max_parts = HOMING_TRACK_MAX_PARTS;
    struct homing_track *t = calloc(1, sizeof *t);
    if (!t) return -ENOMEM;
    t->o = &o;
    int r = prepare(t, data, len, err, errcap);
    t->o = NULL;
    if (r < 0) {
        if (r == -ENOMEM) fail(err, errcap, "out of memory");
        homing_track_free(t);
        return r;
    }
    *out = t;
    return 0;
}

unsigned homing_track_flags(const struct homing_track *t)
{
    return t->flags;
}

const char *homing_track_message_id(const struct homing_track *t)
{
    return t->message_id;
}

const char *homing_track_subject(const struct homing_track *t)
{
    return t->subject;
}

const char *homing_track_sender(const struct homing_track *t)
{
    return t->sender;
}

size_t homing_track_recipient_count(const struct homing_track *t)
{
    return t->n_rcpt;
}

const char *homing_track_recipient(const struct homing_track *t, size_t i)
{
    return i < t->n_rcpt ? t->rcpt[i] : NULL;
}

size_t homing_track_link_count(const struct homing_track *t)
{
    return t->n_links;
}

const char *homing_track_link(const struct homing_track *t, size_t i)
{
    return i < t->n_links ? t->links[i] : NULL;
}

size_t homing_track_part_count(const struct homing_track *t)
{
    return t->n_parts;
}

size_t homing_track_refused_count(const struct homing_track *t)
{
    return t->n_refused;
}

size_t homing_track_warning_count(const struct homing_track *t)
{
    return t->n_warn;
}

const char *homing_track_warning(const struct homing_track *t, size_t i)
{
    return i < t->n_warn ? t->warnings[i] : NULL;
}

/* The links homing track --doc adds before the pixel: <p><a href=URL>NAME</a></p>. */
static int put_doc_links(const struct homing_track *t, const struct homing_keyring *k,
                         uint64_t message, uint32_t recipient, const struct homing_track_docs *d,
                         struct homing_buf *url, struct homing_buf *body)
{
    int r = 0;
    for (size_t i = 0; d && i < d->n && r == 0; i++) {
        homing_buf_reset(url);
        r = homing_token_url(t->base_url, k, HOMING_TOKEN_DOCUMENT, message, recipient, d->items[i],
                             url);
        if (r == 0) r = homing_buf_printf(body, "<p><a href=\"%s\">", url->data);
        for (const char *c = d->names[i]; *c && r == 0; c++)
            r = *c == '&'   ? homing_buf_puts(body, "&amp;")
                : *c == '<' ? homing_buf_puts(body, "&lt;")
                : *c == '>' ? homing_buf_puts(body, "&gt;")
                            : homing_buf_append(body, c, 1);
        if (r == 0) r = homing_buf_puts(body, "</a></p>");
    }
    return r;
}

/* A quoted-printable part written hard line by hard line: a line no op
 * touches is copied from the input as it was (its line break, its soft
 * breaks), a changed one re-encoded with its own terminator kept. body is the
 * new decoded text; deltas[i] how much op i changed its length. */
static int render_qp_units(const struct homing_track *t, const struct track_part *p,
                           const ptrdiff_t *deltas, const struct homing_buf *body,
                           struct homing_buf *out)
{
    const char *raw = t->data + p->body_start;
    size_t k = 0, u = 0;
    ptrdiff_t shift = 0; /* new minus old length of the ops before unit u */
    int r = 0;
    while (u < p->n_units && r == 0) {
        /* a run of units: extended while an op starting in it ends past it */
        size_t a = u, b = u;
        size_t k0 = k;
        ptrdiff_t grow = 0;
        while (k < p->n_ops && (p->ops[k].start < p->units[b].dec_brk || b + 1 == p->n_units)) {
            while (b + 1 < p->n_units && p->ops[k].end > p->units[b].dec_end) b++;
            grow += deltas[k++];
        }
        const struct track_qp_unit *ua = &p->units[a], *ub = &p->units[b];
        /* ops that inserted nothing (the end site of a top pixel without
         * document links) change nothing: the lines stay as they were */
        int changed = 0;
        for (size_t j = k0; j < k && !changed; j++)
            changed = deltas[j] != 0 || p->ops[j].start != p->ops[j].end;
        if (!changed) {
            r = homing_buf_append(out, raw + ua->raw_start, ub->raw_end - ua->raw_start);
        } else {
            size_t from = (size_t)((ptrdiff_t)ua->dec_start + shift);
            size_t to = (size_t)((ptrdiff_t)ub->dec_end + shift + grow);
            r = track_encode_qp(out, body->data + from, to - from, t->eol);
            if (r == 0) r = homing_buf_append(out, raw + ub->raw_tail, ub->raw_end - ub->raw_tail);
        }
        shift += grow;
        u = b + 1;
    }
    return r;
}

static int render_part_ops(const struct homing_track *t, const struct track_part *p,
                           const struct homing_keyring *k, uint64_t message, uint32_t recipient,
                           const struct homing_track_docs *docs, ptrdiff_t *deltas,
                           struct homing_buf *body, struct homing_buf *url, struct homing_buf *out)
{
    homing_buf_reset(body);
    size_t pos = 0;
    int r = 0;
    for (size_t i = 0; i < p->n_ops && r == 0; i++) {
        const struct track_op *op = &p->ops[i];
        r = homing_buf_append(body, p->body + pos, op->start - pos);
        if (r < 0) break;
        size_t op_out = body->len; /* where this op's replacement starts */
        homing_buf_reset(url);
        uint32_t doc = 0;
        if (op->kind != REWRITE_PIXEL && docs && op->link >= 1 && op->link <= docs->n_link_items)
            doc = docs->link_items[op->link - 1];
        if (op->kind == REWRITE_PIXEL || op->kind == REWRITE_PIXEL_TOP) {
            int links = op->kind == REWRITE_PIXEL && docs && docs->n > 0;
            int pixel = op->kind == REWRITE_PIXEL_TOP || !p->pixel_top;
            /* added document links go in ASCII, after a stateful charset's
             * reset; an end site with nothing to add adds nothing */
            if (op->stateful && (links || pixel)) r = homing_buf_puts(body, "\x1b(B");
            if (r == 0 && links) r = put_doc_links(t, k, message, recipient, docs, url, body);
            if (r == 0) homing_buf_reset(url);
            if (r == 0 && pixel)
                r = homing_token_url(t->base_url, k, HOMING_TOKEN_OPEN, message, recipient, 0, url);
            if (r == 0 && pixel) r = rewrite_put_pixel(body, url->data);
        } else if (!doc && strncmp(t->links[op->link - 1], HOMING_TRACK_DOC_PREFIX,
                                   strlen(HOMING_TRACK_DOC_PREFIX)) == 0) {
            /* a placeholder without a grant: never a click URL to it */
            r = homing_buf_append(body, p->body + op->start, op->end - op->start);
        } else {
            r = homing_token_url(t->base_url, k, doc ? HOMING_TOKEN_DOCUMENT : HOMING_TOKEN_CLICK,
                                 message, recipient, doc ? doc : op->link, url);
            struct rewrite_site s = {REWRITE_LINK, 0, 0, op->quote, op->html, NULL};
            if (r == 0 && op->stateful) r = homing_buf_puts(body, "\x1b(B");
            if (r == 0) r = rewrite_put_link(body, &s, url->data);
        }
        if (r == 0 && op->stateful && op->shift_len > 0 && body->len > op_out)
            r = homing_buf_append(body, p->body + op->shift, op->shift_len);
        if (deltas) deltas[i] = (ptrdiff_t)(body->len - op_out) - (ptrdiff_t)(op->end - op->start);
        pos = op->end;
    }
    if (r == 0) r = homing_buf_append(body, p->body + pos, p->body_len - pos);
    if (r < 0) return r;
    /* an op past the last line's break (nothing follows it to splice into)
     * leaves the part to the whole re-encoding */
    if (p->units && deltas &&
        (p->n_ops == 0 || p->ops[p->n_ops - 1].start <= p->units[p->n_units - 1].dec_end))
        return render_qp_units(t, p, deltas, body, out);
    /* (out of memory for deltas: the whole part re-encoded, as before) */
    size_t before = out->len;
    if (p->encoding == GMIME_CONTENT_ENCODING_BASE64)
        r = track_encode_base64(out, body->data, body->len, t->eol);
    else if (p->encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
        r = track_encode_qp(out, body->data, body->len, t->eol);
    else
        r = homing_buf_append(out, body->data, body->len);
    /* an encoder's last line has no line break: give back the one the raw body
     * had (an unencoded body is its own raw text, pixel at the end included) */
    int encoded = p->encoding == GMIME_CONTENT_ENCODING_BASE64 ||
                  p->encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
    if (r == 0 && encoded && p->ends_nl && (out->len == before || out->data[out->len - 1] != '\n'))
        r = homing_buf_puts(out, t->eol);
    return r;
}

static int render_part(const struct homing_track *t, const struct track_part *p,
                       const struct homing_keyring *k, uint64_t message, uint32_t recipient,
                       const struct homing_track_docs *docs, struct homing_buf *body,
                       struct homing_buf *url, struct homing_buf *out)
{
    ptrdiff_t *deltas = p->units ? calloc(p->n_ops ? p->n_ops : 1, sizeof *deltas) : NULL;
    int r = render_part_ops(t, p, k, message, recipient, docs, deltas, body, url, out);
    free(deltas);
    return r;
}

int homing_track_render(const struct homing_track *t, const struct homing_keyring *k,
                        uint64_t message, uint32_t recipient, struct homing_buf *out)
{
    return homing_track_render_docs(t, k, message, recipient, NULL, out);
}

int homing_track_render_docs(const struct homing_track *t, const struct homing_keyring *k,
                             uint64_t message, uint32_t recipient,
                             const struct homing_track_docs *docs, struct homing_buf *out)
{
    size_t before = out->len;
    struct homing_buf body, url;
    /* no cap of its own: every site was counted in prepare, so the size is
     * bounded by the input times the longest replacement, and a cap here could
     * only fail a message that is already registered */
    homing_buf_init(&body, SIZE_MAX / 4);
    homing_buf_init(&url, HOMING_TRACK_URL_MAX + 256);
    int r = 0;
    size_t hp = 0;
    for (size_t i = 0; i < t->n_mid_fields && r == 0; i++) {
        /* the fresh Message-ID where the first one stood, the others dropped */
        r = homing_buf_append(out, t->data + hp, t->mid_fields[i].start - hp);
        if (r == 0 && i == 0) r = homing_buf_puts(out, t->mid_field);
        hp = t->mid_fields[i].end;
    }
    if (r == 0) r = homing_buf_append(out, t->data + hp, t->hdr_end - hp);
    if (r == 0 && t->extra.len > 0 && out->len > before && out->data[out->len - 1] != '\n')
        r = homing_buf_puts(out, t->eol); /* a header block without a final line break */
    if (r == 0) r = homing_buf_append(out, t->extra.data, t->extra.len);
    size_t pos = t->hdr_end;
    for (size_t i = 0; i < t->n_parts && r == 0; i++) {
        const struct track_part *p = &t->parts[i];
        r = homing_buf_append(out, t->data + pos, p->body_start - pos);
        if (r == 0) r = render_part(t, p, k, message, recipient, docs, &body, &url, out);
        pos = p->body_end;
    }
    if (r == 0) r = homing_buf_append(out, t->data + pos, t->len - pos);
    homing_buf_free(&body);
    homing_buf_free(&url);
    if (r < 0) {
        out->len = before;
        if (out->data) out->data[before] = '\0';
    }
    return r;
}

int homing_track_check(const char *data, size_t len)
{
    homing_mime_init();
    if (mime_addr_check(data, len) < 0) return -ELOOP; /* GMime's group parser recurses */
    struct homing_track t = {0};
    GMimeStream *st = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(st);
    g_object_unref(st);
    GMimeParserOptions *po = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(po, on_parser_warning, &t);
    GMimeMessage *m = g_mime_parser_construct_message(parser, po);
    int r = m && !t.crit ? 0 : -EINVAL;
    if (r == 0) {
        /* the number of parts, so a caller can tell the structure stayed */
        GMimePartIter *it = g_mime_part_iter_new(GMIME_OBJECT(m));
        r = 1;
        while (g_mime_part_iter_is_valid(it) && r < INT32_MAX) {
            r++;
            if (!g_mime_part_iter_next(it)) break;
        }
        g_mime_part_iter_free(it);
    }
    if (m) g_object_unref(m);
    g_object_unref(parser);
    g_mime_parser_options_free(po);
    return r;
}
