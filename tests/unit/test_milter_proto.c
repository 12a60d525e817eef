/*
 * test_milter_proto.c: unit tests of the milter protocol codec
 * (lib/scan/milter_proto.c): framing with its maximum, each decoder's length
 * checks on short, long and unterminated payloads, and the reply encoders'
 * bytes as the protocol lays them out (Sendmail's libmilter/docs, version 6).
 * The codec against a real MTA is tests/integration/test_milter.py; against
 * a scripted MTA, tests/integration/test_milter_conns.py.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "homing/milter.h"
#include "homing/util.h"

/* A packet as the MTA writes it: length, command, data. */
static size_t packet(unsigned char *out, int cmd, const void *data, size_t len)
{
    uint32_t n = (uint32_t)len + 1;
    out[0] = (unsigned char)(n >> 24), out[1] = (unsigned char)(n >> 16);
    out[2] = (unsigned char)(n >> 8), out[3] = (unsigned char)n;
    out[4] = (unsigned char)cmd;
    memcpy(out + 5, data, len);
    return len + 5;
}

static void test_frame(void **state)
{
    (void)state;
    unsigned char b[64];
    size_t n = packet(b, 'L', "Subject\0hi\0", 11);
    n += packet(b + n, 'N', "", 0);
    struct homing_milter_packet p = {0};
    /* every prefix of the first packet is "need more" */
    for (size_t i = 0; i < 16; i++) assert_int_equal(homing_milter_frame(b, i, &p), 0);
    assert_int_equal(homing_milter_frame(b, n, &p), 16);
    assert_int_equal(p.cmd, 'L');
    assert_int_equal(p.len, 11);
    assert_memory_equal(p.data, "Subject\0hi\0", 11);
    assert_int_equal(homing_milter_frame(b + 16, n - 16, &p), 5);
    assert_int_equal(p.cmd, 'N');
    assert_int_equal(p.len, 0);
}

static void test_frame_limits(void **state)
{
    (void)state;
    struct homing_milter_packet p = {.cmd = 'x'};
    unsigned char zero[5] = {0, 0, 0, 0, 'A'};
    assert_int_equal(homing_milter_frame(zero, 5, &p), -EMSGSIZE);
    /* over the maximum: refused from the prefix alone, before its bytes */
    uint32_t big = HOMING_MILTER_PACKET_MAX + 1;
    unsigned char over[4] = {(unsigned char)(big >> 24), (unsigned char)(big >> 16),
                             (unsigned char)(big >> 8), (unsigned char)big};
    assert_int_equal(homing_milter_frame(over, 4, &p), -EMSGSIZE);
    assert_int_equal(p.cmd, 'x'); /* untouched */
    unsigned char huge[4] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(homing_milter_frame(huge, 4, &p), -EMSGSIZE);
    /* exactly the maximum: waits for its bytes */
    uint32_t max = HOMING_MILTER_PACKET_MAX;
    unsigned char at[5] = {(unsigned char)(max >> 24), (unsigned char)(max >> 16),
                           (unsigned char)(max >> 8), (unsigned char)max, 'B'};
    assert_int_equal(homing_milter_frame(at, 5, &p), 0);
}

static void test_optneg(void **state)
{
    (void)state;
    /* what Postfix 3.7 sends with milter_protocol = 6 */
    static const char d[] = {0, 0, 0, 6, 0, 0, 1, 0xff, 0, 0x1f, 0xff, 0xff};
    uint32_t v = 0, a = 0, s = 0;
    assert_int_equal(homing_milter_optneg_parse(d, 12, &v, &a, &s), 0);
    assert_int_equal(v, 6);
    assert_int_equal(a, 0x1ff);
    assert_int_equal(s, 0x1fffff);
    v = 99;
    assert_int_equal(homing_milter_optneg_parse(d, 11, &v, &a, &s), -EBADMSG);
    assert_int_equal(v, 99);
    assert_int_equal(homing_milter_optneg_parse(d, 0, &v, &a, &s), -EBADMSG);
}

static void test_strings(void **state)
{
    (void)state;
    const char *argv[4];
    size_t n = 0;
    assert_int_equal(homing_milter_strings("<a@b>\0SIZE=10\0", 14, argv, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(argv[0], "<a@b>");
    assert_string_equal(argv[1], "SIZE=10");
    assert_int_equal(homing_milter_strings("<a@b>", 5, argv, 4, &n), -EBADMSG);
    assert_int_equal(homing_milter_strings("", 0, argv, 4, &n), -EBADMSG);
    assert_int_equal(homing_milter_strings("a\0b\0c\0", 6, argv, 2, &n), -E2BIG);
    assert_int_equal(homing_milter_strings("\0", 1, argv, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(argv[0], "");
}

static void test_header(void **state)
{
    (void)state;
    const char *name = NULL, *value = NULL;
    assert_int_equal(homing_milter_header_parse("Subject\0hi\n\tthere\0", 18, &name, &value), 0);
    assert_string_equal(name, "Subject");
    assert_string_equal(value, "hi\n\tthere");
    assert_int_equal(homing_milter_header_parse("X\0\0", 3, &name, &value), 0);
    assert_string_equal(value, "");
    name = NULL;
    assert_int_equal(homing_milter_header_parse("Subject\0hi", 10, &name, &value), -EBADMSG);
    assert_int_equal(homing_milter_header_parse("\0hi\0", 4, &name, &value), -EBADMSG);
    assert_int_equal(homing_milter_header_parse("A\0b\0c\0", 6, &name, &value), -EBADMSG);
    assert_int_equal(homing_milter_header_parse("A\0", 2, &name, &value), -EBADMSG);
    assert_null(name);
}

static void test_macro(void **state)
{
    (void)state;
    const char *v = NULL;
    static const char m[] = "Ei\0ABC123\0{rcpt_addr}\0x@y\0";
    assert_int_equal(homing_milter_macro_find(m, sizeof m - 1, "i", &v), 0);
    assert_string_equal(v, "ABC123");
    assert_int_equal(homing_milter_macro_find(m, sizeof m - 1, "rcpt_addr", &v), 0);
    assert_string_equal(v, "x@y");
    static const char braced[] = "M{i}\0Q1\0";
    assert_int_equal(homing_milter_macro_find(braced, sizeof braced - 1, "i", &v), 0);
    assert_string_equal(v, "Q1");
    assert_int_equal(homing_milter_macro_find(m, sizeof m - 1, "j", &v), -ENOENT);
    assert_int_equal(homing_milter_macro_find("C", 1, "i", &v), -ENOENT);
    assert_int_equal(homing_milter_macro_find("", 0, "i", &v), -EBADMSG);
    assert_int_equal(homing_milter_macro_find("Ei\0", 3, "i", &v), -EBADMSG);   /* no value */
    assert_int_equal(homing_milter_macro_find("Ei\0AB", 5, "i", &v), -EBADMSG); /* unterminated */
}

static void test_connect(void **state)
{
    (void)state;
    const char *host = NULL;
    int fam = 0;
    static const char in4[] = "mx.example\0"
                              "4\x00\x19"
                              "192.0.2.1\0";
    assert_int_equal(homing_milter_connect_parse(in4, sizeof in4 - 1, &host, &fam), 0);
    assert_string_equal(host, "mx.example");
    assert_int_equal(fam, '4');
    assert_int_equal(homing_milter_connect_parse("localhost\0U", 11, &host, &fam), 0);
    assert_int_equal(fam, 'U');
    assert_int_equal(homing_milter_connect_parse("localhost\0Ux", 12, &host, &fam), -EBADMSG);
    assert_int_equal(homing_milter_connect_parse("h\0"
                                                 "4\x00",
                                                 4, &host, &fam),
                     -EBADMSG);
    assert_int_equal(homing_milter_connect_parse(in4, sizeof in4 - 2, &host, &fam), -EBADMSG);
    assert_int_equal(homing_milter_connect_parse("h\0"
                                                 "9\0\0a\0",
                                                 7, &host, &fam),
                     -EBADMSG);
    assert_int_equal(homing_milter_connect_parse("host", 4, &host, &fam), -EBADMSG);
    assert_int_equal(homing_milter_connect_parse("h\0", 2, &host, &fam), -EBADMSG);
}

static void test_encode(void **state)
{
    (void)state;
    struct homing_buf b;
    homing_buf_init(&b, 1 << 16);
    assert_int_equal(homing_milter_put(&b, HOMING_MILTER_R_CONTINUE, NULL, 0), 0);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "\0\0\0\1c", 5);
    homing_buf_reset(&b);
    assert_int_equal(homing_milter_put_optneg(&b, 6, 0x33, 0x4382), 0);
    assert_memory_equal(b.data, "\0\0\0\x0dO\0\0\0\6\0\0\0\x33\0\0\x43\x82", 17);
    homing_buf_reset(&b);
    assert_int_equal(homing_milter_put_header(&b, 'h', 0, "X-A", "1\r\n\t2"), 0);
    assert_memory_equal(b.data,
                        "\0\0\0\x0bhX-A\0"
                        "1\r\n\t2\0",
                        15);
    homing_buf_reset(&b);
    assert_int_equal(homing_milter_put_header(&b, 'm', 2, "To", NULL), 0); /* delete */
    assert_memory_equal(b.data, "\0\0\0\x09m\0\0\0\2To\0\0", 13);
    homing_buf_reset(&b);
    /* names and values the MTA would misread: nothing appended */
    assert_int_equal(homing_milter_put_header(&b, 'h', 0, "", "v"), -EINVAL);
    assert_int_equal(homing_milter_put_header(&b, 'h', 0, "A:B", "v"), -EINVAL);
    assert_int_equal(homing_milter_put_header(&b, 'h', 0, "A", "v\r\nBcc: x"), -EINVAL);
    assert_int_equal(homing_milter_put_header(&b, 'h', 0, "A", "v\nB"), -EINVAL);
    assert_int_equal(homing_milter_put_header(&b, 'h', 0, "A", NULL), -EINVAL);
    assert_int_equal(homing_milter_put_header(&b, 'x', 0, "A", "v"), -EINVAL);
    assert_int_equal(b.len, 0);
    assert_int_equal(homing_milter_put_reply(&b, "550", "5.7.1", "bad\r\nnews"), 0);
    assert_memory_equal(b.data, "\0\0\0\x15y550 5.7.1 bad  news\0", 25);
    homing_buf_reset(&b);
    assert_int_equal(homing_milter_put_reply(&b, "250", "2.0.0", "ok"), -EINVAL);
    assert_int_equal(homing_milter_put_reply(&b, "55", "5.7.1", "x"), -EINVAL);
    assert_int_equal(homing_milter_put_reply(&b, "550", "5 7", "x"), -EINVAL);
    assert_int_equal(b.len, 0);
    assert_int_equal(homing_milter_put_quarantine(&b, "held\n"), 0);
    assert_memory_equal(b.data, "\0\0\0\x07qheld \0", 11);
    homing_buf_free(&b);
}

/* An encoder never leaves half a packet: past the buffer's max, nothing. */
static void test_encode_bounds(void **state)
{
    (void)state;
    struct homing_buf b;
    homing_buf_init(&b, 12);
    assert_int_equal(homing_milter_put(&b, 'c', NULL, 0), 0);
    assert_int_equal(homing_milter_put(&b, 'b', "0123456789", 10), -E2BIG);
    assert_int_equal(b.len, 5);
    homing_buf_free(&b);
    homing_buf_init(&b, 4 * HOMING_MILTER_PACKET_MAX);
    char *big = calloc(1, HOMING_MILTER_PACKET_MAX);
    assert_non_null(big);
    assert_int_equal(homing_milter_put(&b, 'b', big, HOMING_MILTER_PACKET_MAX), -E2BIG);
    assert_int_equal(homing_milter_put(&b, 'b', big, HOMING_MILTER_PACKET_MAX - 1), 0);
    struct homing_milter_packet p;
    assert_int_equal(homing_milter_frame(b.data, b.len, &p),
                     HOMING_MILTER_LEN_BYTES + HOMING_MILTER_PACKET_MAX);
    assert_int_equal(p.len, HOMING_MILTER_PACKET_MAX - 1);
    free(big);
    homing_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame),         cmocka_unit_test(test_frame_limits),
        cmocka_unit_test(test_optneg),        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_header),        cmocka_unit_test(test_macro),
        cmocka_unit_test(test_connect),       cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
