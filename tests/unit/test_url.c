/*
 * test_url.c: homing_url_check (lib/util/url.c), the one check of a click
 * destination, table-driven: good URLs and the form they come out in, every
 * class of refused byte (C0 with TAB, LF and CR, DEL, C1, backslash, bytes
 * that are not UTF-8), the response-splitting links of issue 11, schemes and
 * shapes that are not an http(s) URL with a host, hosts (names, numbers,
 * IPv6, IDN), ports, user info, the length limit before and after encoding;
 * that what comes out is header-safe and checks to itself, and that the
 * buffer is untouched on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homing/util.h"

struct good {
    const char *in, *out; /* out NULL: the same as in */
};

static const struct good goods[] = {
    {"http://example.com", NULL},
    {"https://example.com/", NULL},
    {"https://example.com/a?x=1&y=2#frag", NULL},
    {"HTTPS://Example.COM/Path", "https://Example.COM/Path"},
    {"hTtP://example.com/", "http://example.com/"},
    {"https://example.com:8443/", NULL},
    {"https://example.com:08443/", "https://example.com:8443/"},
    {"https://example.com:/x", "https://example.com/x"},
    {"https://example.com:65535", NULL},
    {"https://example.com:1", NULL},
    {"https://example.com.", NULL},
    {"https://sub_domain.example-1.com/", NULL},
    {"http://192.0.2.7/", NULL},
    {"http://192.0.2.7:8080/x", NULL},
    {"http://[2001:db8::1]/", NULL},
    {"http://[2001:db8::1]:8080/", NULL},
    {"http://[::ffff:192.0.2.7]/", NULL},
    {"https://example.com?q", NULL},
    {"https://example.com#top", NULL},
    /* sub-delims, ':' and '@' are allowed in the path and query */
    {"https://example.com/a:b@c!$&'()*+,;=-._~/?q=/?:@", NULL},
    /* encoded where RFC 3986 does not allow them */
    {"https://example.com/a b", "https://example.com/a%20b"},
    {"https://example.com/a\"<>^`{|}", "https://example.com/a%22%3C%3E%5E%60%7B%7C%7D"},
    {"https://example.com/[x]", "https://example.com/%5Bx%5D"},
    {"https://example.com/#a#b", "https://example.com/#a%23b"},
    {"https://example.com/100%", "https://example.com/100%25"},
    {"https://example.com/%zz%4", "https://example.com/%25zz%254"},
    /* valid %XX are kept as written, encoded controls included: they stay
     * encoded all the way to the header */
    {"https://example.com/a%20b%2fc%0D%0A", NULL},
    /* non-ASCII: UTF-8, percent-encoded */
    {"https://example.com/caf\xc3\xa9", "https://example.com/caf%C3%A9"},
    {"https://example.com/?q=\xe2\x82\xac", "https://example.com/?q=%E2%82%AC"},
    {"https://example.com/\xf0\x9f\x98\x80", "https://example.com/%F0%9F%98%80"},
    /* U+00A0 is the first code point past C1 */
    {"https://example.com/\xc2\xa0", "https://example.com/%C2%A0"},
    /* an IDN host: RFC 3986 section 3.2.2, a browser maps it to xn-- */
    {"https://b\xc3\xbc"
     "cher.example/",
     "https://b%C3%BCcher.example/"},
    {"https://b%C3%BCcher.example/", NULL},
    {"https://xn--bcher-kva.example/", NULL},
    {"https://\xe4\xbe\x8b\xe3\x81\x88.jp/", "https://%E4%BE%8B%E3%81%88.jp/"},
};

struct bad {
    const char *in;
    size_t len; /* 0: strlen(in) */
    int err;
};

static const struct bad bads[] = {
    /* the response-splitting links of issue 11 */
    {"https://example.com/\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK", 0, -EINVAL},
    {"https://example.com/\r\nSet-Cookie: a=b", 0, -EINVAL},
    {"https://example.com/\nSet-Cookie: a=b", 0, -EINVAL},
    {"https://example.com/\rSet-Cookie: a=b", 0, -EINVAL},
    /* each class of control byte, anywhere */
    {"https://example.com/\x01", 0, -EINVAL},
    {"https://example.com/\t", 0, -EINVAL},
    {"https://example.com/\x0b", 0, -EINVAL},
    {"https://example.com/\x0c", 0, -EINVAL},
    {"https://example.com/\x1b[31m", 0, -EINVAL},
    {"https://example.com/\x1f", 0, -EINVAL},
    {"https://example.com/\x7f", 0, -EINVAL},
    {"https://example.com/a\0b", 23, -EINVAL},
    {"\x0bhttps://example.com/", 0, -EINVAL},
    {"https://exa\tmple.com/", 0, -EINVAL},
    /* C1 as UTF-8: U+0080, U+0085 (NEL), U+009F */
    {"https://example.com/\xc2\x80", 0, -EINVAL},
    {"https://example.com/\xc2\x85", 0, -EINVAL},
    {"https://example.com/\xc2\x9f", 0, -EINVAL},
    /* not UTF-8: a lone C1 byte, a lone continuation, overlong, surrogate */
    {"https://example.com/\x85", 0, -EINVAL},
    {"https://example.com/\xa9", 0, -EINVAL},
    {"https://example.com/\xc0\xaf", 0, -EINVAL},
    {"https://example.com/\xed\xa0\x80", 0, -EINVAL},
    {"https://example.com/\xff", 0, -EINVAL},
    {"https://example.com/\xc3", 0, -EINVAL},
    /* a backslash: '/' to a browser, not to everything else */
    {"https://example.com\\@evil.example/", 0, -EINVAL},
    {"https://example.com/a\\b", 0, -EINVAL},
    /* not http(s), not absolute, no host */
    {"javascript:alert(1)", 0, -EINVAL},
    {"data:text/html,<script>alert(1)</script>", 0, -EINVAL},
    {"file:///etc/passwd", 0, -EINVAL},
    {"ftp://example.com/", 0, -EINVAL},
    {"mailto:bob@example.com", 0, -EINVAL},
    {"//example.com/", 0, -EINVAL},
    {"/relative", 0, -EINVAL},
    {"https:/x", 0, -EINVAL},
    {"https:example.com", 0, -EINVAL},
    {"https://", 0, -EINVAL},
    {"http://", 0, -EINVAL},
    {"https:///x", 0, -EINVAL},
    {"https://?q", 0, -EINVAL},
    {"https://:443/", 0, -EINVAL},
    {" https://example.com/", 0, -EINVAL},
    {"", 0, -EINVAL},
    /* hosts */
    {"http://exa mple.com", 0, -EINVAL},
    {"http://example.com /", 0, -EINVAL},
    {"http://exa%20mple.com/", 0, -EINVAL},
    {"http://exa%2emple.com/", 0, -EINVAL},
    {"http://example.com%2f.evil.example/", 0, -EINVAL},
    {"http://b%C3cher.example/", 0, -EINVAL},
    {"http://b%C2%85cher.example/", 0, -EINVAL},
    {"http://b%zzcher.example/", 0, -EINVAL},
    {"http://a..b/", 0, -EINVAL},
    {"http://.a/", 0, -EINVAL},
    {"http://./", 0, -EINVAL},
    {"http://a!b.com/", 0, -EINVAL},
    {"http://a<b.com/", 0, -EINVAL},
    {"http://exam[ple.com/", 0, -EINVAL},
    /* a host that ends in a number must be a dotted quad */
    {"http://2130706433/", 0, -EINVAL},
    {"http://0x7f.1/", 0, -EINVAL},
    {"http://017.0.0.1/", 0, -EINVAL},
    {"http://1.2.3/", 0, -EINVAL},
    {"http://1.2.3.256/", 0, -EINVAL},
    {"http://1.2.3.4.5/", 0, -EINVAL},
    {"http://example.0x1/", 0, -EINVAL},
    {"http://example.123/", 0, -EINVAL},
    /* IPv6 */
    {"http://[2001:db8::g]/", 0, -EINVAL},
    {"http://[]/", 0, -EINVAL},
    {"http://[::1/", 0, -EINVAL},
    {"http://[::1]x/", 0, -EINVAL},
    {"http://[fe80::1%25eth0]/", 0, -EINVAL},
    {"http://[v1.x]/", 0, -EINVAL},
    {"http://::1/", 0, -EINVAL},
    /* ports */
    {"http://a.com:99999", 0, -EINVAL},
    {"http://a.com:65536/", 0, -EINVAL},
    {"http://a.com:0/", 0, -EINVAL},
    {"http://a.com:-1/", 0, -EINVAL},
    {"http://a.com:80a/", 0, -EINVAL},
    {"http://a.com:80:80/", 0, -EINVAL},
    {"http://a.com:184467440737095516170/", 0, -EINVAL},
    /* user info */
    {"https://bank.example@evil.example/", 0, -EINVAL},
    {"https://user:pass@example.com/", 0, -EINVAL},
    {"https://@example.com/", 0, -EINVAL},
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
        const char *in = goods[i].in, *want = goods[i].out ? goods[i].out : goods[i].in;
        struct homing_buf b, again;
        homing_buf_init(&b, 1 << 16);
        homing_buf_init(&again, 1 << 16);
        const char *why = NULL;
        int r = homing_url_check(in, strlen(in), &b, &why);
        if (r != 0 || strcmp(b.data, want) != 0)
            fail_msg("%zu: %s -> %d %s (%s), want %s", i, in, r, b.data ? b.data : "",
                     why ? why : "", want);
        assert_true(homing_url_header_safe(b.data, b.len));
        /* what comes out checks to itself */
        assert_int_equal(homing_url_check(b.data, b.len, &again, NULL), 0);
        assert_string_equal(again.data, b.data);
        homing_buf_free(&b);
        homing_buf_free(&again);
    }
}

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        size_t len = bads[i].len ? bads[i].len : strlen(bads[i].in);
        struct homing_buf b;
        homing_buf_init(&b, 1 << 16);
        assert_int_equal(homing_buf_puts(&b, "keep"), 0);
        const char *why = NULL;
        int r = homing_url_check(bads[i].in, len, &b, &why);
        char safe[128];
        homing_str_sanitize(safe, sizeof safe, bads[i].in, len);
        if (r != bads[i].err) fail_msg("%zu: %s -> %d, want %d", i, safe, r, bads[i].err);
        assert_non_null(why);
        assert_true(strlen(why) > 0);
        /* the buffer is as it was */
        assert_string_equal(b.data, "keep");
        assert_int_equal(b.len, 4);
        homing_buf_free(&b);
    }
}

/* The reasons name the problem, for the error messages of the front ends. */
static void test_reasons(void **state)
{
    (void)state;
    static const struct {
        const char *in, *why;
    } cases[] = {
        {"https://example.com/\r\nX: y", "a control character"},
        {"https://example.com/\xc2\x85", "a control character"},
        {"https://example.com/\xff", "not UTF-8"},
        {"https://example.com\\x", "a backslash"},
        {"javascript:alert(1)", "not an http:// or https:// URL"},
        {"https://", "no host"},
        {"https://u@example.com/", "a user name or password before the host"},
        {"http://a.com:99999", "a port that is not 1 to 65535"},
        {"http://0x7f.1/", "a host that is a number but not a dotted-quad IPv4 address"},
        {"http://[::g]/", "a bad IPv6 address"},
        {"http://exa mple.com", "a bad host name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct homing_buf b;
        homing_buf_init(&b, 1 << 16);
        const char *why = NULL;
        assert_int_equal(homing_url_check(cases[i].in, strlen(cases[i].in), &b, &why), -EINVAL);
        assert_string_equal(why, cases[i].why);
        homing_buf_free(&b);
    }
}

static void test_trailing_space(void **state)
{
    (void)state;
    struct homing_buf b;
    homing_buf_init(&b, 1 << 16);
    assert_int_equal(homing_url_check("https://example.com/ ", 21, &b, NULL), 0);
    assert_string_equal(b.data, "https://example.com/%20");
    homing_buf_free(&b);
}

static void test_length(void **state)
{
    (void)state;
    const char *pre = "https://example.com/";
    size_t pl = strlen(pre);
    char *u = malloc(HOMING_URL_DEST_MAX + 2);
    assert_non_null(u);
    memcpy(u, pre, pl);
    memset(u + pl, 'a', HOMING_URL_DEST_MAX + 1 - pl);
    struct homing_buf b;
    homing_buf_init(&b, 1 << 16);
    /* exactly the limit: taken */
    assert_int_equal(homing_url_check(u, HOMING_URL_DEST_MAX, &b, NULL), 0);
    assert_int_equal(b.len, HOMING_URL_DEST_MAX);
    homing_buf_reset(&b);
    /* one more: refused before any work */
    const char *why = NULL;
    assert_int_equal(homing_url_check(u, HOMING_URL_DEST_MAX + 1, &b, &why), -E2BIG);
    assert_non_null(strstr(why, "longer than 2048 bytes"));
    assert_int_equal(b.len, 0);
    /* short enough as given, too long once encoded */
    memset(u + pl, ' ', 700);
    assert_int_equal(homing_url_check(u, pl + 700, &b, &why), -E2BIG);
    assert_non_null(strstr(why, "once percent-encoded"));
    assert_int_equal(b.len, 0);
    /* a host name of more than HOMING_URL_HOST_MAX bytes, and a label of 64 */
    char host[HOMING_URL_HOST_MAX + 32];
    size_t hl = 0;
    hl += (size_t)snprintf(host, sizeof host, "http://");
    while (hl < 7 + HOMING_URL_HOST_MAX + 1) {
        memcpy(host + hl, "abcdefgh.", 9);
        hl += 9;
    }
    host[hl] = '\0';
    assert_int_equal(homing_url_check(host, hl, &b, &why), -EINVAL);
    assert_string_equal(why, "a host name that is too long");
    char label[128];
    snprintf(label, sizeof label, "http://%.*s.example/", 64,
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(homing_url_check(label, strlen(label), &b, NULL), -EINVAL);
    snprintf(label, sizeof label, "http://%.*s.example/", 63,
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(homing_url_check(label, strlen(label), &b, NULL), 0);
    /* the caller's buffer maximum is respected and nothing is left in it */
    struct homing_buf small;
    homing_buf_init(&small, 16);
    assert_int_equal(homing_url_check(pre, pl, &small, &why), -E2BIG);
    assert_int_equal(small.len, 0);
    homing_buf_free(&small);
    homing_buf_free(&b);
    free(u);
}

static void test_header_safe(void **state)
{
    (void)state;
    assert_true(homing_url_header_safe("https://x/", 10));
    assert_false(homing_url_header_safe("", 0));
    assert_false(homing_url_header_safe(NULL, 0));
    assert_false(homing_url_header_safe("https://x/ ", 11));
    assert_false(homing_url_header_safe("https://x/\r\n", 12));
    assert_false(homing_url_header_safe("https://x/\x7f", 11));
    assert_false(homing_url_header_safe("https://x/\xc2\x85", 12));
    assert_false(homing_url_header_safe("https://x/\0", 11));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),    cmocka_unit_test(test_bad),
        cmocka_unit_test(test_reasons), cmocka_unit_test(test_trailing_space),
        cmocka_unit_test(test_length),  cmocka_unit_test(test_header_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
