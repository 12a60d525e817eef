/*
 * fuzz_milter_proto.c: the milter protocol codec (lib/scan/milter_proto.c) on
 * arbitrary bytes taken as what an MTA writes to `homing milter`: packets are
 * framed one after the other as the front end frames them, and each goes
 * through the decoder of its command. Properties: framing never reads past
 * the bytes given and never takes more than LEN_BYTES + PACKET_MAX at once;
 * every decoded string lies inside its packet; a header that decodes
 * re-encodes (as the filter's reply) and frames back to the same name and
 * value, or is refused with -EINVAL (a name or value the MTA would misread);
 * replies built from decoded text are one packet that frames back whole.
 * The seed corpus (fuzz/corpus/milter_proto/) holds Postfix-shaped sessions.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/milter.h"
#include "homing/util.h"

static void inside(const char *s, const struct homing_milter_packet *p)
{
    if (s < p->data || s + strlen(s) >= p->data + p->len) abort();
}

/* One encoded reply frames back as exactly one packet of its command. */
static void frames_back(const struct homing_buf *b, int cmd, struct homing_milter_packet *out)
{
    if (homing_milter_frame(b->data, b->len, out) != (ssize_t)b->len || out->cmd != cmd) abort();
}

static void header(const struct homing_milter_packet *p)
{
    const char *name, *value;
    if (homing_milter_header_parse(p->data, p->len, &name, &value) < 0) return;
    inside(name, p);
    inside(value, p);
    if (!*name) abort();
    struct homing_buf b;
    homing_buf_init(&b, 2 * HOMING_MILTER_PACKET_MAX);
    int r = homing_milter_put_header(&b, HOMING_MILTER_R_ADDHEADER, 0, name, value);
    if (r == 0) {
        struct homing_milter_packet q;
        frames_back(&b, HOMING_MILTER_R_ADDHEADER, &q);
        const char *n2, *v2;
        if (homing_milter_header_parse(q.data, q.len, &n2, &v2) < 0 || strcmp(n2, name) ||
            strcmp(v2, value))
            abort();
    } else if (r != -EINVAL && r != -E2BIG) {
        abort();
    }
    homing_buf_reset(&b);
    /* the filter's refusal text can carry anything a message held */
    if (homing_milter_put_reply(&b, "550", "5.7.1", value) == 0) {
        struct homing_milter_packet q;
        frames_back(&b, HOMING_MILTER_R_REPLYCODE, &q);
        if (q.len == 0 || q.data[q.len - 1] != '\0' || strlen(q.data) + 1 != q.len) abort();
        for (size_t i = 0; i + 1 < q.len; i++)
            if ((unsigned char)q.data[i] < 0x20) abort(); /* one line */
    }
    homing_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        struct homing_milter_packet p;
        ssize_t k = homing_milter_frame(data + off, size - off, &p);
        if (k <= 0) break; /* need more, or a connection the front end closes */
        if ((size_t)k > size - off ||
            (size_t)k > HOMING_MILTER_LEN_BYTES + HOMING_MILTER_PACKET_MAX)
            abort();
        if (p.data != (const char *)data + off + HOMING_MILTER_LEN_BYTES + 1 ||
            p.len + HOMING_MILTER_LEN_BYTES + 1 != (size_t)k)
            abort();
        off += (size_t)k;
        const char *argv[HOMING_MILTER_ARGS_MAX], *s;
        size_t n;
        uint32_t v, a, st;
        int fam;
        switch (p.cmd) {
        case HOMING_MILTER_OPTNEG: homing_milter_optneg_parse(p.data, p.len, &v, &a, &st); break;
        case HOMING_MILTER_MACRO:
            if (homing_milter_macro_find(p.data, p.len, "i", &s) == 0) inside(s, &p);
            break;
        case HOMING_MILTER_CONNECT:
            if (homing_milter_connect_parse(p.data, p.len, &s, &fam) == 0) {
                inside(s, &p);
                if (fam != '4' && fam != '6' && fam != 'L' && fam != 'U') abort();
            }
            break;
        case HOMING_MILTER_MAIL:
        case HOMING_MILTER_RCPT:
            if (homing_milter_strings(p.data, p.len, argv, HOMING_MILTER_ARGS_MAX, &n) == 0) {
                if (n == 0 || n > HOMING_MILTER_ARGS_MAX) abort();
                for (size_t i = 0; i < n; i++) inside(argv[i], &p);
            }
            break;
        case HOMING_MILTER_HEADER: header(&p); break;
        default: break;
        }
    }
    return 0;
}
