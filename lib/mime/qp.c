/*
 * qp.c: the quoted-printable encoder of every part homing writes back (track's
 * changed lines, strip's changed parts): homing_mime_encode_qp (mime_int.h).
 *
 * Contract: lines of at most 76 characters (75 and a soft break's "="), as
 * RFC 2045 6.7 requires; GMime's own encoder, which strip used, wrote 77.
 * Never allocates but through out; -ENOMEM or -E2BIG (out's maximum) only.
 */
#include <errno.h>
#include <string.h>

#include "homing/util.h"
#include "lib/mime/mime_int.h"

/* What must not start a line of quoted-printable text we write: "-" (a line
 * could then read as a boundary: the original may have had it encoded, and our
 * soft breaks fall elsewhere), "." (SMTP) and "From " (mbox). */
static int line_start_special(const char *p, size_t n)
{
    return p[0] == '-' || p[0] == '.' || (p[0] == 'F' && n >= 5 && memcmp(p, "From ", 5) == 0);
}

/* A character written as it is wherever it falls inside a line (not at its
 * start, where line_start_special applies): printable ASCII but "=", and white
 * space that does not end a line. */
static int qp_literal(const char *in, size_t n, size_t i)
{
    unsigned char c = (unsigned char)in[i];
    if (c > 0x20 && c < 0x7f) return c != '=';
    return (c == ' ' || c == '\t') && i + 1 < n && in[i + 1] != '\n' && in[i + 1] != '\r';
}

/* Quoted-printable (RFC 2045 6.7): lines of at most 76 characters, trailing
 * white space encoded, CRLF or LF in the input are line breaks, and "-", "."
 * and "From " at the start of a line are encoded (line_start_special). Output is gathered in a
 * local block and appended in pieces: a copy is rendered per recipient, so this is on the render
 * path. */
int homing_mime_encode_qp(struct homing_buf *out, const char *in, size_t n, const char *eol)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t el = strlen(eol);
    char blk[8192];
    size_t bl = 0, ll = 0; /* bytes in blk, characters on the current line */
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        if (bl > sizeof blk - 16) {
            r = homing_buf_append(out, blk, bl);
            bl = 0;
        }
        if (ll > 0) {
            /* a run that goes out as it is, inside the line: copied at once */
            size_t lim = 75 - ll, j = 0;
            if (lim > sizeof blk - 16 - bl) lim = sizeof blk - 16 - bl;
            if (lim > n - i) lim = n - i;
            while (j < lim && qp_literal(in, n, i + j)) j++;
            if (j > 0) {
                memcpy(blk + bl, in + i, j);
                bl += j;
                ll += j;
                i += j - 1;
                continue;
            }
        }
        unsigned char c = (unsigned char)in[i];
        if (c == '\n' || (c == '\r' && i + 1 < n && in[i + 1] == '\n')) {
            if (c == '\r') i++;
            memcpy(blk + bl, eol, el);
            bl += el;
            ll = 0;
            continue;
        }
        int enc;
        if (c > 0x20 && c < 0x7f) {
            enc = c == '=' || (ll == 0 && line_start_special(in + i, n - i));
        } else if (c == ' ' || c == '\t') {
            enc = i + 1 == n || in[i + 1] == '\n' ||
                  (in[i + 1] == '\r' && i + 2 < n && in[i + 2] == '\n');
        } else {
            enc = 1;
        }
        size_t k = enc ? 3 : 1;
        if (ll + k > 75) { /* 75 + the soft break's "=" */
            blk[bl++] = '=';
            memcpy(blk + bl, eol, el);
            bl += el;
            ll = 0;
            if (!enc && line_start_special(in + i, n - i)) {
                enc = 1;
                k = 3;
            }
        }
        if (enc) {
            blk[bl++] = '=';
            blk[bl++] = hex[c >> 4];
            blk[bl++] = hex[c & 15];
        } else {
            blk[bl++] = (char)c;
        }
        ll += k;
    }
    /* a text ending without a line break ends so here too: the line break
     * before a boundary belongs to the boundary */
    if (r == 0 && bl > 0) r = homing_buf_append(out, blk, bl);
    return r;
}
