/*
 * test_util.c: buffers keep their maximum, base64url and hex are strict and
 * round-trip, addresses and prefixes parse and match, ids round-trip, JSON text
 * written into a buffer is what homing_json_dumps writes for the same string,
 * and every hostile string of tests/data/hostile/strings.json comes out of the
 * terminal, CSV and JSON writers exactly as that file says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

/* The dashboard's HTML writer and form reader. */
static void test_html_and_form(void **state)
{
    (void)state;
    struct homing_buf b;
    homing_buf_init(&b, 4096);
    assert_int_equal(homing_buf_html(&b, "<a href=\"x\">'&'</a>\x1b\xe2\x80\xae\xc3\xa9"), 0);
    assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
                                "\\x1b\\u202e\xc3\xa9");
    homing_buf_free(&b);
    char v[16];
    const char *f = "a=1&key=hk_x%2By+z&key=second";
    assert_int_equal(homing_form_get(f, strlen(f), "key", v, sizeof v), 8);
    assert_string_equal(v, "hk_x+y z");
    assert_int_equal(homing_form_get(f, strlen(f), "k", v, sizeof v), -ENOENT);
    assert_int_equal(homing_form_get("key=%4", 6, "key", v, sizeof v), -EINVAL);
    assert_int_equal(homing_form_get("key=a%00", 8, "key", v, sizeof v), -EINVAL);
    assert_int_equal(homing_form_get("key=0123456789abcdefg", 21, "key", v, sizeof v), -E2BIG);
}

/* homing_json_buf_text against homing_json_dumps of homing_json_text, on every
 * byte alone and after valid text, on the UTF-8 sequences jansson refuses and
 * on the code points homing_json_dumps escapes beyond json_dumps. */
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
        "\xc2\x80\xc2\x9b\xc2\x9f\xc2\xa0\x7f",
        "\xe2\x80\xa7\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xae\xe2\x80\xaf",
        "\xe2\x81\xa5\xe2\x81\xa6\xe2\x81\xa9\xe2\x81\xaa",
        "x\x9b\xc2\x9b",
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
        char *want = homing_json_dumps(a, JSON_COMPACT);
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

static size_t hex_bytes(const char *hex, char *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(n < cap);
    assert_int_equal(homing_hex_decode(hex, n * 2, (uint8_t *)out, cap), (int)n);
    out[n] = '\0';
    return n;
}

/* The shared hostile corpus, case by case, through every writer. */
static void test_escape_corpus(void **state)
{
    (void)state;
    json_error_t err;
    json_t *all = json_load_file("tests/data/hostile/strings.json", 0, &err);
    assert_non_null(all);
    assert_true(json_array_size(all) >= 20);
    size_t i;
    json_t *c;
    json_array_foreach(all, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        char raw[256], out[1024];
        size_t n = hex_bytes(json_string_value(json_object_get(c, "hex")), raw, sizeof raw);
        print_message("case %s\n", name);
        size_t len = homing_str_escape(out, sizeof out, raw, n, HOMING_ESCAPE_UTF8);
        assert_string_equal(out, json_string_value(json_object_get(c, "terminal")));
        assert_int_equal(len, strlen(out));
        homing_str_escape(out, sizeof out, raw, n, 0);
        assert_string_equal(out, json_string_value(json_object_get(c, "terminal_ascii")));
        for (const unsigned char *p = (const unsigned char *)out; *p; p++)
            assert_true(*p >= 0x20 && *p < 0x7f);

        struct homing_buf b;
        homing_buf_init(&b, 4096);
        assert_int_equal(homing_buf_escape(&b, raw, n, HOMING_ESCAPE_UTF8), 0);
        assert_string_equal(b.data ? b.data : "",
                            json_string_value(json_object_get(c, "terminal")));
        homing_buf_reset(&b);
        assert_int_equal(homing_csv_cell(&b, raw, HOMING_ESCAPE_UTF8), 0);
        assert_string_equal(b.data ? b.data : "", json_string_value(json_object_get(c, "csv")));
        homing_buf_reset(&b);
        assert_int_equal(homing_json_buf_text(&b, raw), 0);
        const char *want = json_string_value(json_object_get(c, "json"));
        assert_string_equal(b.data, want);
        homing_buf_free(&b);

        /* the document writer agrees, and the JSON parses back to the string
         * (for UTF-8 input) or to its escaped terminal form */
        json_t *a = json_array();
        json_array_append_new(a, homing_json_text(raw));
        char *doc = homing_json_dumps(a, JSON_COMPACT);
        json_decref(a);
        assert_non_null(doc);
        assert_int_equal(strlen(doc), strlen(want) + 2);
        assert_memory_equal(doc + 1, want, strlen(want));
        for (const unsigned char *p = (const unsigned char *)doc; *p; p++) {
            assert_true(*p >= 0x20 && *p != 0x7f);
            assert_false(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
        }
        json_t *back = json_loads(doc, 0, NULL);
        assert_non_null(back);
        homing_str_escape(out, sizeof out, raw, n, HOMING_ESCAPE_UTF8);
        const char *got = json_string_value(json_array_get(back, 0));
        assert_non_null(got);
        json_t *t = json_string(raw); /* NULL: not UTF-8 */
        assert_string_equal(got, t ? raw : out);
        json_decref(t);
        json_decref(back);
        free(doc);
    }
    json_decref(all);
}

/* HOMING_ESCAPE_MARK (homing trace on a colour terminal, issue 15): a
 * look-alike letter is shown escaped and marked, whatever the locale, and the
 * only raw ESC bytes are the marks' own; a doubled backslash stays plain. */
static void test_escape_mark(void **state)
{
    (void)state;
    char s[128];
    const char *in = "p\xd0\xb0ypal.com";
    homing_str_escape(s, sizeof s, in, strlen(in), HOMING_ESCAPE_MARK);
    assert_string_equal(s, "p\x1b[1;7;31m\\u0430\x1b[0mypal.com");
    homing_str_escape(s, sizeof s, "a\x1b\\b", 4, HOMING_ESCAPE_MARK | HOMING_ESCAPE_UTF8);
    assert_string_equal(s, "a\x1b[1;7;31m\\x1b\x1b[0m\\\\b");
    /* the worst growth per byte is what the header says */
    size_t n = homing_str_escape(s, sizeof s, "\x1b", 1, HOMING_ESCAPE_MARK);
    assert_true(n <= HOMING_ESCAPE_MARK_GROWTH);
    /* cut at a whole marked escape */
    assert_int_equal(homing_str_escape(s, 10, "ab\x1b", 3, HOMING_ESCAPE_MARK), 2);
    struct homing_buf b;
    homing_buf_init(&b, 256);
    assert_int_equal(homing_buf_escape(&b, in, strlen(in), HOMING_ESCAPE_MARK), 0);
    assert_string_equal(b.data, "p\x1b[1;7;31m\\u0430\x1b[0mypal.com");
    homing_buf_free(&b);
}

/* Cut output: never half an escape or half a UTF-8 sequence. */
static void test_escape_cut(void **state)
{
    (void)state;
    char s[8];
    assert_int_equal(homing_str_escape(s, sizeof s,
                                       "ab\x1b"
                                       "cd",
                                       5, 0),
                     7);
    assert_string_equal(s, "ab\\x1bc");
    assert_int_equal(homing_str_escape(s, 6,
                                       "ab\x1b"
                                       "cd",
                                       5, 0),
                     2);
    assert_string_equal(s, "ab");
    assert_int_equal(homing_str_escape(s, 5, "ab\xc3\xa9\xc3\xa9", 6, HOMING_ESCAPE_UTF8), 4);
    assert_string_equal(s, "ab\xc3\xa9");
    assert_int_equal(homing_str_escape(s, 1, "abc", 3, 0), 0);
    assert_string_equal(s, "");
    struct homing_buf b;
    homing_buf_init(&b, 6);
    assert_int_equal(homing_buf_puts(&b, "x,"), 0);
    assert_int_equal(homing_csv_cell(&b, "=1+\x1b", 0), -E2BIG);
    assert_string_equal(b.data, "x,"); /* nothing of the cell left behind */
    homing_buf_free(&b);
}

/* The lenient base64 of mail and URLs, and its two flags. */
static void test_base64(void **state)
{
    (void)state;
    uint8_t out[16];
    assert_int_equal(homing_base64_decode("aGk=", 4, out, sizeof out, 0), 2);
    assert_memory_equal(out, "hi", 2);
    assert_int_equal(homing_base64_decode("aGk", 3, out, sizeof out, 0), 2); /* no padding */
    assert_int_equal(homing_base64_decode("-_8", 3, out, sizeof out, 0), -EINVAL);
    assert_int_equal(homing_base64_decode("-_8", 3, out, sizeof out, HOMING_B64_URLSAFE), 2);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    assert_int_equal(homing_base64_decode("+/8", 3, out, sizeof out, HOMING_B64_URLSAFE), 2);
    assert_int_equal(out[0], 0xfb);
    /* DKIM: folding and padding passed over, the data after them still read. */
    assert_int_equal(homing_base64_decode("aG\r\n\t k=", 9, out, sizeof out, HOMING_B64_SKIP), 2);
    assert_memory_equal(out, "hi", 2);
    assert_int_equal(homing_base64_decode("a Gk", 4, out, sizeof out, 0), -EINVAL);
    assert_int_equal(homing_base64_decode("aGVsbG8=", 8, out, 4, 0), -E2BIG);
    assert_int_equal(homing_base64_decode("", 0, out, sizeof out, 0), 0);
}

/* Socket addresses: IPv4, IPv6, IPv4-mapped IPv6 as IPv4, another family. */
static void test_addr_from_sockaddr(void **state)
{
    (void)state;
    struct homing_addr a;
    char text[HOMING_ADDR_STR_MAX];
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
    assert_int_equal(homing_addr_from_sockaddr((struct sockaddr *)&s4, sizeof s4, &a), 0);
    homing_addr_format(&a, text);
    assert_string_equal(text, "192.0.2.7");
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:198.51.100.9", &s6.sin6_addr);
    assert_int_equal(homing_addr_from_sockaddr((struct sockaddr *)&s6, sizeof s6, &a), 0);
    assert_int_equal(a.family, 4);
    homing_addr_format(&a, text);
    assert_string_equal(text, "198.51.100.9");
    inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
    assert_int_equal(homing_addr_from_sockaddr((struct sockaddr *)&s6, sizeof s6, &a), 0);
    assert_int_equal(a.family, 6);
    homing_addr_format(&a, text);
    assert_string_equal(text, "2001:db8::1");
    assert_int_equal(homing_addr_from_sockaddr((struct sockaddr *)&s6, 8, &a), -EAFNOSUPPORT);
    assert_int_equal(a.family, 0);
    struct sockaddr su = {.sa_family = AF_UNIX};
    assert_int_equal(homing_addr_from_sockaddr(&su, sizeof su, &a), -EAFNOSUPPORT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_limit),     cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_hex_and_ids),   cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_addr),          cmocka_unit_test(test_addr_from_sockaddr),
        cmocka_unit_test(test_base64),        cmocka_unit_test(test_time_and_sanitize),
        cmocka_unit_test(test_html_and_form), cmocka_unit_test(test_json_buf_text),
        cmocka_unit_test(test_escape_corpus), cmocka_unit_test(test_escape_cut),
        cmocka_unit_test(test_escape_mark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
