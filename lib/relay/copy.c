/*
 * copy.c: what changes in a message before it is tracked for one envelope
 * recipient: its Bcc and Resent-Bcc header fields go, so no copy tells one
 * recipient who else got it blind (RFC 5322 3.6.3 leaves that to the
 * sender's system, and the relay is that system). With a Message-ID given,
 * the message's own Message-ID fields go too and the given one comes first:
 * the relay names a message the same way each time a client retries it, so
 * a retry finds the message it registered the first time. The relay's own
 * control fields (X-Homing-Campaign, X-Homing-Track, a tracked copy's
 * X-Homing-Copy) are read by the relay and never leave: a recipient does not
 * learn which campaign it is counted in.
 *
 * Contract: homing/relay.h. Every other byte is kept as it came, folded
 * lines and line ends included; a message without a blank line is all
 * header.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "homing/relay.h"

/* The length of the name of the field at p when it is name (its ':' after
 * optional WSP), else 0. */
static size_t copy_field_is(const char *p, size_t n, const char *name)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(p, name, k)) return 0;
    size_t j = k;
    while (j < n && (p[j] == ' ' || p[j] == '\t')) j++; /* obs-optional WSP before ':' */
    return j < n && p[j] == ':' ? j + 1 : 0;
}

/* Whether the field at p is one the copies lose: Bcc, Resent-Bcc, the
 * relay's control fields, and Message-ID when with_id. */
static int copy_is_bcc(const char *p, size_t n, int with_id)
{
    static const char *const names[] = {
        "Bcc",           "Resent-Bcc", HOMING_RELAY_CAMPAIGN_FIELD, HOMING_RELAY_TRACK_FIELD,
        "X-Homing-Copy", /* HOMING_COPY_HEADER */
        "Message-ID"};
    size_t n_names = sizeof names / sizeof names[0] - (with_id ? 0 : 1);
    for (size_t i = 0; i < n_names; i++)
        if (copy_field_is(p, n, names[i])) return 1;
    return 0;
}

int homing_relay_header(const char *msg, size_t len, const char *name, char *out, size_t cap)
{
    if (!msg || !name || !out || cap == 0) return -EINVAL;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(msg + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - msg) + 1 : len;
        if (end - i == 1 || (end - i == 2 && msg[i] == '\r')) break; /* the body */
        size_t fend = end;
        while (fend < len && (msg[fend] == ' ' || msg[fend] == '\t')) {
            const char *n2 = memchr(msg + fend, '\n', len - fend);
            fend = n2 ? (size_t)(n2 - msg) + 1 : len;
        }
        size_t v = copy_field_is(msg + i, fend - i, name);
        if (v) {
            /* unfolded (CR and LF dropped), blanks trimmed at both ends */
            size_t o = 0;
            for (size_t k = i + v; k < fend; k++) {
                char ch = msg[k];
                if (ch == '\r' || ch == '\n') continue;
                if (ch == '\0') return -EINVAL;
                if (o == 0 && (ch == ' ' || ch == '\t')) continue;
                if (o + 1 >= cap) return -E2BIG;
                out[o++] = ch;
            }
            while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t')) o--;
            out[o] = '\0';
            return (int)o;
        }
        i = fend;
    }
    return -ENOENT;
}

int homing_relay_strip_bcc(const char *msg, size_t len, const char *message_id,
                           struct homing_buf *out)
{
    if (!msg || !out) return -EINVAL;
    size_t start = out->len, i = 0;
    if (message_id) {
        int r = homing_buf_printf(out, "Message-ID: <%s>\r\n", message_id);
        if (r < 0) {
            out->len = start;
            return r;
        }
    }
    while (i < len) {
        const char *nl = memchr(msg + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - msg) + 1 : len;
        /* the blank line: the body follows, copied as it is */
        if (end - i == 1 || (end - i == 2 && msg[i] == '\r')) break;
        /* the field runs to the next line that does not start with WSP */
        size_t fend = end;
        while (fend < len && (msg[fend] == ' ' || msg[fend] == '\t')) {
            const char *n2 = memchr(msg + fend, '\n', len - fend);
            fend = n2 ? (size_t)(n2 - msg) + 1 : len;
        }
        if (!copy_is_bcc(msg + i, fend - i, message_id != NULL)) {
            int r = homing_buf_append(out, msg + i, fend - i);
            if (r < 0) {
                out->len = start;
                return r;
            }
        }
        i = fend;
    }
    int r = homing_buf_append(out, msg + i, len - i);
    if (r < 0) out->len = start;
    return r;
}
