/*
 * milter_proto.c: the milter protocol's packets (homing/milter.h): framing
 * with a hard packet maximum, payload decoders that check every length
 * against the bytes given, and reply encoders. Pure functions over memory:
 * the sockets, threads and policies are the front end's (src/cli/milter.c).
 */
#include <errno.h>
#include <string.h>

#include "homing/milter.h"

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

ssize_t homing_milter_frame(const void *buf, size_t len, struct homing_milter_packet *out)
{
    const unsigned char *b = buf;
    if (len < HOMING_MILTER_LEN_BYTES) return 0;
    uint32_t n = get32(b);
    /* decided from the prefix alone: the reader never buffers a bad one */
    if (n == 0 || n > HOMING_MILTER_PACKET_MAX) return -EMSGSIZE;
    if (len - HOMING_MILTER_LEN_BYTES < n) return 0;
    out->cmd = b[HOMING_MILTER_LEN_BYTES];
    out->data = (const char *)b + HOMING_MILTER_LEN_BYTES + 1;
    out->len = n - 1;
    return (ssize_t)(HOMING_MILTER_LEN_BYTES + n);
}

int homing_milter_optneg_parse(const char *data, size_t len, uint32_t *version, uint32_t *actions,
                               uint32_t *steps)
{
    if (len < 12) return -EBADMSG;
    const unsigned char *p = (const unsigned char *)data;
    *version = get32(p);
    *actions = get32(p + 4);
    *steps = get32(p + 8);
    return 0;
}

int homing_milter_strings(const char *data, size_t len, const char **argv, size_t max, size_t *n)
{
    if (len == 0 || data[len - 1] != '\0') return -EBADMSG;
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        if (k == max) return -E2BIG;
        argv[k++] = data + i;
        i += strlen(data + i) + 1; /* bounded: data[len - 1] is a NUL */
    }
    *n = k;
    return 0;
}

int homing_milter_header_parse(const char *data, size_t len, const char **name, const char **value)
{
    const char *v[3];
    size_t n = 0;
    int r = homing_milter_strings(data, len, v, 3, &n);
    if (r < 0 || n != 2 || !v[0][0]) return -EBADMSG;
    *name = v[0];
    *value = v[1];
    return 0;
}

int homing_milter_macro_find(const char *data, size_t len, const char *name, const char **value)
{
    if (len < 1) return -EBADMSG;
    if (len == 1) return -ENOENT; /* an empty list: Postfix sends one when none are set */
    const char *v[HOMING_MILTER_ARGS_MAX];
    size_t n = 0;
    int r = homing_milter_strings(data + 1, len - 1, v, HOMING_MILTER_ARGS_MAX, &n);
    if (r < 0 || n % 2) return -EBADMSG;
    size_t nl = strlen(name);
    for (size_t i = 0; i < n; i += 2) {
        const char *m = v[i];
        size_t ml = strlen(m);
        if (ml >= 2 && m[0] == '{' && m[ml - 1] == '}') m++, ml -= 2;
        if (ml == nl && memcmp(m, name, nl) == 0) {
            *value = v[i + 1];
            return 0;
        }
    }
    return -ENOENT;
}

int homing_milter_connect_parse(const char *data, size_t len, const char **host, int *family)
{
    const char *end = memchr(data, '\0', len);
    if (!end || (size_t)(end - data) + 2 > len) return -EBADMSG;
    size_t i = (size_t)(end - data) + 1;
    int fam = (unsigned char)data[i++];
    if (fam == 'U') {
        if (i != len) return -EBADMSG;
    } else if (fam == '4' || fam == '6' || fam == 'L') {
        /* port, then the address ending the packet */
        if (len - i < 3 || data[len - 1] != '\0' ||
            memchr(data + i + 2, '\0', len - i - 2) != data + len - 1)
            return -EBADMSG;
    } else {
        return -EBADMSG;
    }
    *host = data;
    *family = fam;
    return 0;
}

int homing_milter_put(struct homing_buf *out, int cmd, const void *data, size_t len)
{
    if (len >= HOMING_MILTER_PACKET_MAX) return -E2BIG;
    unsigned char h[HOMING_MILTER_LEN_BYTES + 1];
    put32(h, (uint32_t)len + 1);
    h[HOMING_MILTER_LEN_BYTES] = (unsigned char)cmd;
    size_t before = out->len;
    int r = homing_buf_append(out, h, sizeof h);
    if (r == 0 && len) r = homing_buf_append(out, data, len);
    if (r < 0) {
        out->len = before; /* all of the packet or none of it */
        if (out->data) out->data[before] = '\0';
    }
    return r;
}

int homing_milter_put_optneg(struct homing_buf *out, uint32_t version, uint32_t actions,
                             uint32_t steps)
{
    unsigned char d[12];
    put32(d, version);
    put32(d + 4, actions);
    put32(d + 8, steps);
    return homing_milter_put(out, HOMING_MILTER_OPTNEG, d, sizeof d);
}

/* A CR or LF must start a fold (CRLF or LF, then a space or tab). */
static int header_text_ok(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '\r' && p[1] == '\n') p++;
        if ((*p == '\r' || *p == '\n') && p[1] != ' ' && p[1] != '\t') return 0;
    }
    return 1;
}

int homing_milter_put_header(struct homing_buf *out, int cmd, uint32_t index, const char *name,
                             const char *value)
{
    if (!name || !*name || strpbrk(name, "\r\n:") || (cmd != HOMING_MILTER_R_CHGHEADER && !value) ||
        (value && !header_text_ok(value)))
        return -EINVAL;
    if (cmd != HOMING_MILTER_R_ADDHEADER && cmd != HOMING_MILTER_R_CHGHEADER &&
        cmd != HOMING_MILTER_R_INSHEADER)
        return -EINVAL;
    size_t nl = strlen(name), vl = value ? strlen(value) : 0;
    size_t off = cmd == HOMING_MILTER_R_ADDHEADER ? 0 : 4;
    if (nl + vl + off + 2 >= HOMING_MILTER_PACKET_MAX) return -E2BIG;
    struct homing_buf d;
    homing_buf_init(&d, HOMING_MILTER_PACKET_MAX);
    unsigned char ix[4];
    put32(ix, index);
    int r = off ? homing_buf_append(&d, ix, 4) : 0;
    if (r == 0) r = homing_buf_append(&d, name, nl + 1);
    if (r == 0) r = homing_buf_append(&d, value ? value : "", vl + 1);
    if (r == 0) r = homing_milter_put(out, cmd, d.data, d.len);
    homing_buf_free(&d);
    return r;
}

/* Text as one line: control characters become spaces. */
static int put_line(struct homing_buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        char ch = (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p;
        int r = homing_buf_append(b, &ch, 1);
        if (r < 0) return r;
    }
    return homing_buf_append(b, "", 1);
}

int homing_milter_put_reply(struct homing_buf *out, const char *code, const char *xcode,
                            const char *text)
{
    if (!code || strlen(code) != 3 || (code[0] != '4' && code[0] != '5') || code[1] < '0' ||
        code[1] > '9' || code[2] < '0' || code[2] > '9' || !xcode || !*xcode ||
        strpbrk(xcode, " \r\n") || !text)
        return -EINVAL;
    struct homing_buf d;
    homing_buf_init(&d, HOMING_MILTER_PACKET_MAX - 1);
    int r = homing_buf_printf(&d, "%s %s ", code, xcode);
    if (r == 0) r = put_line(&d, text);
    if (r == 0) r = homing_milter_put(out, HOMING_MILTER_R_REPLYCODE, d.data, d.len);
    homing_buf_free(&d);
    return r;
}

int homing_milter_put_quarantine(struct homing_buf *out, const char *reason)
{
    struct homing_buf d;
    homing_buf_init(&d, HOMING_MILTER_PACKET_MAX - 1);
    int r = put_line(&d, reason ? reason : "");
    if (r == 0) r = homing_milter_put(out, HOMING_MILTER_R_QUARANTINE, d.data, d.len);
    homing_buf_free(&d);
    return r;
}

const char *homing_milter_cmd_name(int cmd)
{
    switch (cmd) {
    case HOMING_MILTER_ABORT: return "ABORT";
    case HOMING_MILTER_BODY: return "BODY";
    case HOMING_MILTER_CONNECT: return "CONNECT";
    case HOMING_MILTER_MACRO: return "MACRO";
    case HOMING_MILTER_BODYEOB: return "BODYEOB";
    case HOMING_MILTER_HELO: return "HELO";
    case HOMING_MILTER_QUIT_NC: return "QUIT_NC";
    case HOMING_MILTER_HEADER: return "HEADER";
    case HOMING_MILTER_MAIL: return "MAIL";
    case HOMING_MILTER_EOH: return "EOH";
    case HOMING_MILTER_OPTNEG: return "OPTNEG";
    case HOMING_MILTER_QUIT: return "QUIT";
    case HOMING_MILTER_RCPT: return "RCPT";
    case HOMING_MILTER_DATA: return "DATA";
    case HOMING_MILTER_UNKNOWN: return "UNKNOWN";
    default: return "?";
    }
}
