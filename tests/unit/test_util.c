/*
 * test_util.c: buffers keep their maximum, base64url and hex are strict and
 * round-trip, addresses and prefixes parse and match, ids round-trip, JSON text
 * written into a buffer is what jansson writes for the same string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/util.h"

static void test_buf_limit(void **state)
{
    (void)state;
    struct homing_buf b;
    homing_buf_init(&b, 10);
    assert_int_equal(homing_buf_puts(&b, "hello"), 0);
    assert_int_equal(homing_buf_printf(&b, "%d", 12345), 0);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "hello12345");
    assert_int_equal(homing_buf_puts(&b, "x"), -E2BIG);
    assert_int_equal(b.len, 10);
    homing_buf_reset(&b);
    assert_int_equal(b.len, 0);
    homing_buf_free(&b);
}

static void test_b64url(void **state)
{
    (void)state;
    uint8_t in[64], out[64];
    char text[100];
    for (size_t i = 0; i < sizeof in; i++) in[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof in; n++) {
        size_t len = homing_b64url_encode(in, n, text);
        assert_int_equal(len, HOMING_B64URL_LEN(n));
        assert_int_equal(homing_b64url_decode(text, len, out, sizeof out), (int)n);
        assert_memory_equal(in, out, n);
    }
    assert_int_equal(homing_b64url_decode("ab=", 3, out, sizeof out), -EINVAL);
    assert_int_equal(homing_b64url_decode("a", 1, out, sizeof out), -EINVAL);
    assert_int_equal(homing_b64url_decode("a+", 2, out, sizeof out), -EINVAL);
    /* "AB" decodes to one byte with non-zero leftover bits: not canonical. */
    assert_int_equal(homing_b64url_decode("AB", 2, out, sizeof out), -EINVAL);
    assert_int_equal(homing_b64url_decode("AA", 2, out, sizeof out), 1);
    assert_int_equal(homing_b64url_decode("AAAA", 4, out, 2), -E2BIG);
}

static void test_hex_and_ids(void **state)
{
    (void)state;
    uint8_t b[4] = {0xde, 0xad, 0xbe, 0xef}, o[4];
    char t[9];
    homing_hex_encode(b, 4, t);
    assert_string_equal(t, "deadbeef");
    assert_int_equal(homing_hex_decode("DEADbeef", 8, o, 4), 4);
    assert_memory_equal(b, o, 4);
    assert_int_equal(homing_hex_decode("abc", 3, o, 4), -EINVAL);
    assert_int_equal(homing_hex_decode("zz", 2, o, 4), -EINVAL);
    for (int i = 0; i < 100; i++) {
        uint64_t id = homing_id_random(), back;
        assert_true(id != 0 && id <= 0x7fffffffffffffffULL);
        char s[HOMING_ID_STR_MAX];
        homing_id_format(id, s);
        assert_int_equal(strlen(s), 16);
        assert_int_equal(homing_id_parse(s, &back), 0);
        assert_true(back == id);
    }
    uint64_t x;
    assert_int_equal(homing_id_parse("0000000000000000", &x), -EINVAL);
    assert_int_equal(homing_id_parse("8000000000000000", &x), -EINVAL);
    assert_int_equal(homing_id_parse("123", &x), -EINVAL);
}

/* Every length of UTF-8, the last code point, and U+FFFD for what is none. */
static void test_utf8(void **state)
{
    (void)state;
    char o[4];
    assert_int_equal(homing_utf8_encode('A', o), 1);
    assert_int_equal(o[0], 'A');
    assert_int_equal(homing_utf8_encode(0xe9, o), 2);
    assert_memory_equal(o, "\xc3\xa9", 2);
    assert_int_equal(homing_utf8_encode(0x20ac, o), 3);
    assert_memory_equal(o, "\xe2\x82\xac", 3);
    assert_int_equal(homing_utf8_encode(0x10ffff, o), 4);
    assert_memory_equal(o, "\xf4\x8f\xbf\xbf", 4);
    assert_int_equal(homing_utf8_encode(0xd800, o), 3);
    assert_memory_equal(o, "\xef\xbf\xbd", 3);
    assert_int_equal(homing_utf8_encode(0x110000, o), 3);
    assert_memory_equal(o, "\xef\xbf\xbd", 3);
}

static void test_addr(void **state)
{
    (void)state;
    struct homing_addr a;
    char s[HOMING_ADDR_STR_MAX];
    assert_int_equal(homing_addr_parse("192.0.2.77", 10, &a), 0);
    assert_int_equal(a.family, 4);
    homing_addr_truncate(&a, 24);
    homing_addr_format(&a, s);
    assert_string_equal(s, "192.0.2.0");
    assert_int_equal(homing_addr_parse("::ffff:10.1.2.3", 15, &a), 0);
    assert_int_equal(a.family, 4);
    homing_addr_format(&a, s);
    assert_string_equal(s, "10.1.2.3");
    /* Every width of octet, the widest address. */
    assert_int_equal(homing_addr_parse("255.100.10.0", 12, &a), 0);
    homing_addr_format(&a, s);
    assert_string_equal(s, "255.100.10.0");
    assert_int_equal(homing_addr_parse("199.99.9.109", 12, &a), 0);
    homing_addr_format(&a, s);
    assert_string_equal(s, "199.99.9.109");
    assert_int_equal(homing_addr_parse("2001:db8:1:2:3::9", 17, &a), 0);
    homing_addr_truncate(&a, 48);
    homing_addr_format(&a, s);
    assert_string_equal(s, "2001:db8:1::");
    assert_int_equal(homing_addr_parse("300.1.1.1", 9, &a), -EINVAL);
    assert_int_equal(homing_addr_parse("", 0, &a), -EINVAL);
    assert_int_equal(homing_addr_parse("1.2.3.4 ", 8, &a), -EINVAL);

    struct homing_cidr c;
    assert_int_equal(homing_cidr_parse("10.0.0.0/8", 10, &c), 0);
    assert_int_equal(homing_addr_parse("10.200.3.4", 10, &a), 0);
    assert_true(homing_cidr_contains(&c, &a));
    assert_int_equal(homing_addr_parse("11.0.0.1", 8, &a), 0);
    assert_false(homing_cidr_contains(&c, &a));
    assert_int_equal(homing_cidr_parse("::1", 3, &c), 0);
    assert_int_equal(c.bits, 128);
    assert_int_equal(homing_cidr_parse("10.0.0.0/33", 11, &c), -EINVAL);
    assert_int_equal(homing_cidr_parse("10.0.0.0/", 9, &c), -EINVAL);
}

static void test_time_and_sanitize(void **state)
{
    (void)state;
    char t[HOMING_TIME_STR_MAX];
    homing_time_format(1700000000123456LL, t);
    assert_string_equal(t, "2023-11-14T22:13:20.123456Z");
    char s[16];
    homing_str_sanitize(s, sizeof s, "a\x1b[31mb\xff", 8);
    assert_string_equal(s, "a?[31mb?");
    homing_str_sanitize(s, 4, "abcdef", 6);
    assert_string_equal(s, "abc");
}

/* homing_json_buf_text against json_dumps of homing_json_text, on every byte
 * alone and after valid text, and on the UTF-8 sequences jansson refuses. */
static void test_json_buf_text(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "",
        "plain",
        "q\"b\\s/",
        "\b\f\n\r\t\x01\x1f\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "\xef\xbf\xbf\xf4\x8f\xbf\xbf",
        "\xc0\xaf",
        "\xc1\xbf",
        "\xe0\x9f\xbf",
        "\xed\xa0\x80",
        "\xf0\x8f\xbf\xbf",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xc3",
        "\xe2\x82",
        "\x80",
        "ok\x01\"\xff",
        "a\xc3\xa9\n\xe9",
    };
    char one[4];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] + 2 * 255; i++) {
        const char *s = cases[0];
        if (i < sizeof cases / sizeof cases[0]) {
            s = cases[i];
        } else {
            size_t k = i - sizeof cases / sizeof cases[0];
            one[0] = 'a';
            one[1] = (char)(k % 255 + 1);
            one[2] = '\0';
            s = k < 255 ? one + 1 : one;
        }
        json_t *a = json_array();
        json_array_append_new(a, homing_json_text(s));
        char *want = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        struct homing_buf b;
        homing_buf_init(&b, 1024);
        assert_int_equal(homing_buf_append(&b, "[", 1), 0);
        assert_int_equal(homing_json_buf_text(&b, s), 0);
        assert_int_equal(homing_buf_append(&b, "]", 1), 0);
        assert_string_equal(b.data, want);
        homing_buf_free(&b);
        free(want);
    }
    struct homing_buf b;
    homing_buf_init(&b, 1024);
    assert_int_equal(homing_json_buf_text(&b, NULL), 0);
    assert_string_equal(b.data, "null");
    homing_buf_free(&b);
    homing_buf_init(&b, 5);
    assert_int_equal(homing_json_buf_text(&b, "abcdef"), -E2BIG);
    homing_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_limit),     cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_hex_and_ids),   cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_addr),          cmocka_unit_test(test_time_and_sanitize),
        cmocka_unit_test(test_json_buf_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
