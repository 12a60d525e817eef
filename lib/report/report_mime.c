/*
 * report_mime.c: the light MIME layer of the report parser. It normalises line
 * ends to LF in one copy of the message, splits header blocks, reads header
 * fields and parameters, and walks multipart boundaries recording each part as
 * slices into that copy. Bodies are decoded (GMime's base64 / quoted-printable
 * decoders) only when the caller asks for a part.
 *
 * Why not g_mime_parser: a report needs the top headers, the small status part
 * and a little text; building GMime's whole object tree (and decoding returned
 * messages and attachments) costs several times more than this walk.
 *
 * Contract: every function is bounded by the limits in homing/report.h and
 * never reads outside the buffer it is given.
 */
#include <errno.h>
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mime/mime_int.h"
#include "report_int.h"

int rp_msg_init(struct rp_msg *m, const char *data, size_t len)
{
    memset(m, 0, sizeof *m);
    char *b = malloc(len + 1);
    if (!b) return -ENOMEM;
    /* CRLF and lone CR both become LF; NUL bytes become spaces so the C string
     * functions used on slices never stop early. Chunks between CRs are
     * copied whole: most messages have LF or CRLF only. */
    size_t o = 0, i = 0;
    while (i < len) {
        const char *cr = memchr(data + i, '\r', len - i);
        size_t chunk = cr ? (size_t)(cr - (data + i)) : len - i;
        memcpy(b + o, data + i, chunk);
        o += chunk;
        i += chunk;
        if (!cr) break;
        b[o++] = '\n';
        i++;
        if (i < len && data[i] == '\n') i++;
    }
    for (char *z = memchr(b, '\0', o); z; z = memchr(z, '\0', o - (size_t)(z - b))) *z = ' ';
    b[o] = '\0';
    m->buf = b;
    m->len = o;
    return 0;
}

void rp_msg_free(struct rp_msg *m)
{
    free(m->buf);
    m->buf = NULL;
}

void rp_split(const char *p, size_t n, const char **hdr, size_t *hlen, const char **body,
              size_t *blen)
{
    *hdr = p;
    if (n > 0 && p[0] == '\n') { /* no headers at all */
        *hlen = 0;
        *body = p + 1;
        *blen = n - 1;
        return;
    }
    for (const char *q = memchr(p, '\n', n); q && q + 1 < p + n;
         q = memchr(q + 1, '\n', n - (size_t)(q + 1 - p))) {
        if (q[1] == '\n') {
            size_t i = (size_t)(q - p);
            *hlen = i + 1;
            *body = p + i + 2;
            *blen = n - i - 2;
            return;
        }
    }
    *hlen = n;
    *body = p + n;
    *blen = 0;
}

/* Copies an unfolded value starting at v (up to the end of the field) into out. */
static size_t rp_unfold(const char *v, const char *end, char *out, size_t cap)
{
    size_t o = 0;
    const char *p = v;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    for (; p < end; p++) {
        char c = *p;
        if (c == '\n') {
            if (p + 1 < end && (p[1] == ' ' || p[1] == '\t')) {
                c = ' ';
                while (p + 1 < end && (p[1] == ' ' || p[1] == '\t')) p++;
            } else {
                break;
            }
        } else if (c == '\t') {
            c = ' ';
        }
        if (o + 1 < cap) out[o++] = c;
    }
    while (o > 0 && (out[o - 1] == ' ')) o--;
    if (cap) out[o] = '\0';
    return o;
}

/* Both readers take the fields of lib/mime's reader, skipping lines that are
 * not fields, and unfold the value. */
int rp_header_next(const char *hdr, size_t hlen, size_t *pos, char *name, size_t ncap, char *value,
                   size_t vcap)
{
    struct homing_mime_field f;
    int rc;
    while ((rc = homing_mime_field_next(hdr, hlen, pos, &f)) != 0) {
        if (rc < 0 || f.name.len >= ncap) continue;
        memcpy(name, f.name.p, f.name.len);
        name[f.name.len] = '\0';
        rp_unfold(f.value.p, f.value.p + f.value.len, value, vcap);
        return 1;
    }
    return 0;
}

int rp_header(const char *hdr, size_t hlen, const char *name, char *out, size_t cap)
{
    struct homing_mime_field f;
    size_t pos = 0;
    int rc;
    while ((rc = homing_mime_field_next(hdr, hlen, &pos, &f)) != 0)
        if (rc > 0 && homing_mime_field_is(&f, name))
            return (int)rp_unfold(f.value.p, f.value.p + f.value.len, out, cap);
    return -1;
}

int rp_param(const char *value, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = value;
    while ((p = strchr(p, ';')) != NULL) {
        p++;
        while (*p == ' ' || *p == '\t') p++;
        if (strncasecmp(p, name, nlen) != 0) continue;
        const char *q = p + nlen;
        while (*q == ' ') q++;
        if (*q != '=') continue;
        q++;
        while (*q == ' ') q++;
        size_t o = 0;
        if (*q == '"') {
            q++;
            while (*q && *q != '"') {
                if (*q == '\\' && q[1]) q++;
                if (o + 1 < cap) out[o++] = *q;
                q++;
            }
        } else {
            while (*q && *q != ';' && *q != ' ' && *q != '\t') {
                if (o + 1 < cap) out[o++] = *q;
                q++;
            }
        }
        out[o] = '\0';
        return (int)o;
    }
    return -1;
}

static void rp_part_headers(struct rp_part *pt)
{
    char v[1024];
    pt->type[0] = pt->cte[0] = pt->boundary[0] = '\0';
    if (rp_header(pt->hdr, pt->hlen, "Content-Type", v, sizeof v) >= 0) {
        size_t i = 0;
        while (v[i] && v[i] != ';' && v[i] != ' ' && i + 1 < sizeof pt->type) {
            char c = v[i];
            pt->type[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
            i++;
        }
        pt->type[i] = '\0';
        rp_param(v, "boundary", pt->boundary, sizeof pt->boundary);
    }
    if (!pt->type[0]) strcpy(pt->type, "text/plain");
    if (rp_header(pt->hdr, pt->hlen, "Content-Transfer-Encoding", v, sizeof v) >= 0) {
        homing_strlcpy(pt->cte, v, sizeof pt->cte);
        rp_lower(pt->cte, strlen(pt->cte));
    }
}

/* Finds the next boundary line "--b" at a line start in [p, end). */
static const char *rp_find_boundary(const char *p, const char *end, const char *b, size_t bl,
                                    bool at_start)
{
    const char *s = p;
    if (at_start && (size_t)(end - s) >= bl + 2 && s[0] == '-' && s[1] == '-' &&
        memcmp(s + 2, b, bl) == 0)
        return s;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl) return NULL;
        s = nl + 1;
        if ((size_t)(end - s) >= bl + 2 && s[0] == '-' && s[1] == '-' && memcmp(s + 2, b, bl) == 0)
            return s;
    }
    return NULL;
}

/* The first line of body that looks like a MIME delimiter ("--token"), for
 * multiparts whose declared boundary does not occur and for bounces that
 * carry MIME parts without a Content-Type header. */
static bool rp_guess_boundary(const char *body, size_t n, char *out, size_t cap)
{
    const char *p = body, *end = body + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t l = (size_t)(le - p);
        if (l > 3 && l < cap + 2 && p[0] == '-' && p[1] == '-' && p[2] != ' ' &&
            !(l > 6 && p[2] == '-' && p[3] == '-' && p[4] == '-' && p[l - 1] == '-' &&
              p[l - 2] == '-' && p[l - 3] == '-')) {
            /* the next line must be a header, as in a real part */
            const char *nx = le + 1;
            if (nx < end && *nx != '\n' &&
                memchr(nx, ':', (size_t)(end - nx) < 80 ? (size_t)(end - nx) : 80)) {
                size_t bl = l - 2;
                while (bl > 0 && (p[2 + bl - 1] == ' ' || p[2 + bl - 1] == '\t')) bl--;
                if (bl == 0 || bl + 1 > cap) return false;
                memcpy(out, p + 2, bl);
                out[bl] = '\0';
                return true;
            }
        }
        if (!nl) break;
        p = nl + 1;
    }
    return false;
}

static void rp_walk(struct rp_msg *m, size_t idx)
{
    /* copy: m->parts may not move, but keep the reads obvious */
    struct rp_part *pt = &m->parts[idx];
    int depth = pt->depth;
    bool in822 = pt->in_rfc822;
    if (depth >= HOMING_REPORT_DEPTH_MAX) {
        m->truncated = true;
        return;
    }
    if (depth == 0 && strncmp(pt->type, "text/", 5) == 0 &&
        rp_memmem_ci(pt->body, pt->blen, "\ncontent-type: message/delivery-status") &&
        rp_guess_boundary(pt->body, pt->blen, pt->boundary, sizeof pt->boundary))
        strcpy(pt->type, "multipart/mixed"); /* MIME parts without the header */
    if (strncmp(pt->type, "multipart/", 10) == 0 && pt->boundary[0]) {
        char b[RP_PARAM_MAX];
        homing_strlcpy(b, pt->boundary, sizeof b);
        size_t bl = strlen(b);
        const char *end = pt->body + pt->blen;
        const char *s = rp_find_boundary(pt->body, end, b, bl, true);
        if (!s && rp_guess_boundary(pt->body, pt->blen, b, sizeof b)) {
            /* The declared boundary is never used (some MTAs rewrite one but
             * not the other): take the delimiter the body really has. */
            bl = strlen(b);
            s = rp_find_boundary(pt->body, end, b, bl, true);
        }
        while (s) {
            const char *line_end = memchr(s, '\n', (size_t)(end - s));
            if (!line_end) break;
            if ((size_t)(line_end - s) >= bl + 4 && s[bl + 2] == '-' && s[bl + 3] == '-')
                break; /* closing delimiter */
            const char *start = line_end + 1;
            const char *next = rp_find_boundary(start, end, b, bl, true);
            const char *pend = next ? next : end;
            if (pend > start && pend[-1] == '\n' && next) pend--;
            if (pend < start) pend = start;
            if (m->n_parts >= HOMING_REPORT_PARTS_MAX) {
                m->truncated = true;
                return;
            }
            size_t ci = m->n_parts++;
            struct rp_part *c = &m->parts[ci];
            memset(c, 0, sizeof *c);
            rp_split(start, (size_t)(pend - start), &c->hdr, &c->hlen, &c->body, &c->blen);
            rp_part_headers(c);
            c->depth = depth + 1;
            c->in_rfc822 = in822;
            rp_walk(m, ci);
            s = next;
        }
        return;
    }
    /* A returned message is walked one level (it is where Sisimai-style
     * parsers find the original headers), but its parts are marked so text
     * extraction skips them. */
    if (strcmp(pt->type, "message/rfc822") == 0 || strcmp(pt->type, "message/global") == 0) {
        if (in822 || m->n_parts >= HOMING_REPORT_PARTS_MAX) return;
        size_t ci = m->n_parts++;
        struct rp_part *c = &m->parts[ci];
        memset(c, 0, sizeof *c);
        rp_split(pt->body, pt->blen, &c->hdr, &c->hlen, &c->body, &c->blen);
        rp_part_headers(c);
        c->depth = depth + 1;
        c->in_rfc822 = true;
    }
}

int rp_msg_walk(struct rp_msg *m);
int rp_msg_walk(struct rp_msg *m)
{
    struct rp_part *top = &m->parts[0];
    memset(top, 0, sizeof *top);
    rp_split(m->buf, m->len, &top->hdr, &top->hlen, &top->body, &top->blen);
    rp_part_headers(top);
    m->n_parts = 1;
    rp_walk(m, 0);
    return 0;
}

int rp_decode(const struct rp_part *p, struct homing_buf *b)
{
    if (strcmp(p->cte, "base64") == 0 || strcmp(p->cte, "quoted-printable") == 0) {
        unsigned char *out = malloc(p->blen + 8);
        if (!out) return -ENOMEM;
        int state = 0;
        guint32 save = 0;
        size_t n;
        if (p->cte[0] == 'b')
            n = g_mime_encoding_base64_decode_step((const unsigned char *)p->body, p->blen, out,
                                                   &state, &save);
        else
            n = g_mime_encoding_quoted_decode_step((const unsigned char *)p->body, p->blen, out,
                                                   &state, &save);
        /* Decoded text may carry CRLF, CR or NUL again: normalise as the
         * message was. */
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = out[i];
            if (c == '\r') {
                if (i + 1 < n && out[i + 1] == '\n') continue;
                c = '\n';
            } else if (c == '\0') {
                c = ' ';
            }
            out[o++] = c;
        }
        int r = homing_buf_append(b, out, o);
        free(out);
        return r;
    }
    return homing_buf_append(b, p->body, p->blen);
}

char *rp_decode_words(const char *s)
{
    return homing_mime_decode_words(s);
}
