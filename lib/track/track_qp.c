/*
 * track_qp.c: where a quoted-printable body's lines are, so a tracked copy
 * re-encodes only the lines that change (track.c's render_part).
 *
 * Why: re-encoding a whole changed part turned its bare LFs into the
 * message's CRLF, re-wrapped every line and put a hard line break after a
 * final soft break, while docs/tracking.md promises every byte outside the
 * links and the pixel is kept. A unit is one hard line of the encoded body:
 * physical lines joined by soft breaks, with its terminator (the hard line
 * break, or a final soft break "=" plus its line break, or nothing at the end).
 *
 * Contract: track_qp_units splits raw into units and decodes each on its own;
 * it succeeds only when the units' decodings, each followed by its line break,
 * are byte for byte the decoded body the part was analysed in (GMime's), so
 * positions in that body map onto units exactly. Otherwise -EINVAL, and the
 * caller re-encodes the whole part as before. Bounded by n; one allocation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "track_int.h"

static int qp_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Compares the decoding of raw[a, b) with dec at *d, advancing *d. */
static int qp_match(const char *raw, size_t a, size_t b, const char *dec, size_t dec_len, size_t *d)
{
    for (size_t i = a; i < b; i++) {
        unsigned char c = (unsigned char)raw[i];
        int h, l;
        if (c == '=' && i + 2 < b && (h = qp_hex((unsigned char)raw[i + 1])) >= 0 &&
            (l = qp_hex((unsigned char)raw[i + 2])) >= 0) {
            c = (unsigned char)(h << 4 | l);
            i += 2;
        }
        if (*d >= dec_len || (unsigned char)dec[*d] != c) return -EINVAL;
        (*d)++;
    }
    return 0;
}

static int qp_units(const char *raw, size_t n, const char *dec, size_t dec_len, int crlf_as_lf,
                    struct track_qp_unit *u, size_t *n_units)
{
    size_t nu = 0, d = 0, i = 0;
    while (i < n) {
        struct track_qp_unit x = {.raw_start = i, .dec_start = d};
        for (;;) {
            const char *nl = memchr(raw + i, '\n', n - i);
            size_t le = nl ? (size_t)(nl - raw) : n;                       /* the line's end */
            size_t ce = le > i && raw[le - 1] == '\r' && nl ? le - 1 : le; /* its content's */
            size_t next = nl ? le + 1 : n;
            size_t t = ce;
            while (t > i && (raw[t - 1] == ' ' || raw[t - 1] == '\t')) t--;
            if (t > i && raw[t - 1] == '=') { /* a soft break */
                if (qp_match(raw, i, t - 1, dec, dec_len, &d) < 0) return -EINVAL;
                i = next;
                if (i >= n) { /* a final soft break: the unit ends with it */
                    x.raw_tail = t - 1;
                    x.raw_end = n;
                    x.dec_end = x.dec_brk = d;
                    break;
                }
                continue;
            }
            if (qp_match(raw, i, ce, dec, dec_len, &d) < 0) return -EINVAL;
            x.raw_tail = ce;
            x.raw_end = next;
            x.dec_end = d;
            /* the hard line break, as the decoder wrote it */
            const char *brk = !nl ? "" : ce < le && !crlf_as_lf ? "\r\n" : "\n";
            size_t bl = strlen(brk);
            if (d + bl > dec_len || memcmp(dec + d, brk, bl) != 0) return -EINVAL;
            d += bl;
            x.dec_brk = d;
            i = next;
            break;
        }
        u[nu++] = x;
    }
    if (d != dec_len) return -EINVAL;
    *n_units = nu;
    return 0;
}

int track_qp_units(const char *raw, size_t n, const char *dec, size_t dec_len,
                   struct track_qp_unit **out, size_t *n_out)
{
    size_t lines = 1;
    for (size_t i = 0; i < n; i++) lines += raw[i] == '\n';
    struct track_qp_unit *u = calloc(lines, sizeof *u);
    if (!u) return -ENOMEM;
    size_t nu = 0;
    if (qp_units(raw, n, dec, dec_len, 0, u, &nu) < 0 &&
        qp_units(raw, n, dec, dec_len, 1, u, &nu) < 0) {
        free(u);
        return -EINVAL;
    }
    *out = u;
    *n_out = nu;
    return 0;
}
