/*
 * copy.c: what changes in a message before it is tracked for one envelope
 * recipient: its Bcc and Resent-Bcc header fields go, so no copy tells one
 * recipient who else got it blind (RFC 5322 3.6.3 leaves that to the
 * sender's system, and the relay is that system). With a Message-ID given,
 * the message's own Message-ID fields go too and the given one comes first:
 * the relay names a message the same way each time a client retries it, so
 * a retry finds the message it registered the first time.
 *
 * Contract: homing/relay.h. Every other byte is kept as it came, folded
 * lines and line ends included; a message without a blank line is all
 * header.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "homing/relay.h"

/* Whether the field at p is one of names[0..n_names). */
static int copy_is_bcc(const char *p, size_t n, size_t n_names)
{
    static const char *const names[] = {"Bcc", "Resent-Bcc", "Message-ID"};
    for (size_t i = 0; i < n_names; i++) {
        size_t k = strlen(names[i]);
        if (n <= k || strncasecmp(p, names[i], k)) continue;
        size_t j = k;
        while (j < n && (p[j] == ' ' || p[j] == '\t')) j++; /* obs-optional WSP before ':' */
        if (j < n && p[j] == ':') return 1;
    }
    return 0;
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
        if (!copy_is_bcc(msg + i, fend - i, message_id ? 3 : 2)) {
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
