/*
 * test_track_text.c: lib/track/track_text.c: charset conversion with the byte
 * map back to the original, and the transfer encoders used for changed parts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gmime/gmime.h>

#include "homing/track.h"
#include "lib/track/track_int.h"

static void test_identity(void **state)
{
    (void)state;
    struct track_text t;
    const char *in = "h\xc3\xa9llo";
    assert_int_equal(track_text_decode("UTF-8", in, strlen(in), &t), 0);
    assert_ptr_equal(t.utf8, in); /* nothing converted, nothing copied */
    assert_int_equal(track_text_lo(&t, 3), 3);
    assert_int_equal(track_text_hi(&t, 3), 3);
    track_text_free(&t);
    assert_int_equal(track_text_decode(NULL, in, strlen(in), &t), 0);
    track_text_free(&t);
}

static void test_latin1_map(void **state)
{
    (void)state;
    struct track_text t;
    const char *in = "\xe9t\xe9 http://x/"; /* "été http://x/" in ISO-8859-1 */
    assert_int_equal(track_text_decode("iso-8859-1", in, strlen(in), &t), 0);
    assert_string_equal(t.utf8, "\xc3\xa9t\xc3\xa9 http://x/");
    /* "h" is UTF-8 offset 6, input offset 4 */
    assert_int_equal(track_text_hi(&t, 6), 4);
    assert_int_equal(track_text_lo(&t, 6), 4);
    assert_int_equal(track_text_hi(&t, t.len), strlen(in));
    track_text_free(&t);

    assert_int_equal(track_text_decode("windows-1252", "\x93q\x94", 3, &t), 0);
    assert_string_equal(t.utf8, "\xe2\x80\x9cq\xe2\x80\x9d");
    assert_int_equal(track_text_hi(&t, 3), 1);
    track_text_free(&t);
}

static void test_iso2022jp_map(void **state)
{
    (void)state;
    struct track_text t;
    /* JIS "こ" (shift in, 2 bytes, shift out) then ASCII "ab" */
    const char in[] = "\x1b$B$3\x1b(Bab";
    assert_int_equal(track_text_decode("ISO-2022-JP", in, sizeof in - 1, &t), 0);
    assert_string_equal(t.utf8, "\xe3\x81\x93"
                                "ab");
    assert_int_equal(t.stateful, 1);
    /* "a" at UTF-8 offset 3: it starts after the shift back (hi), and the
     * character before it ended before that shift (lo) */
    assert_int_equal(track_text_hi(&t, 3), 8);
    assert_int_equal(track_text_lo(&t, 3), 5);
    assert_int_equal(track_text_hi(&t, 4), 9);
    track_text_free(&t);
}

static void test_shift_jis_and_refusals(void **state)
{
    (void)state;
    struct track_text t;
    const char in[] = "\x82\xa0x"; /* "あ" then "x" */
    assert_int_equal(track_text_decode("Shift_JIS", in, sizeof in - 1, &t), 0);
    assert_string_equal(t.utf8, "\xe3\x81\x82x");
    assert_int_equal(track_text_hi(&t, 3), 2);
    track_text_free(&t);
    /* charsets that cannot carry ASCII as it is, or do not exist */
    assert_int_equal(track_text_decode("UTF-16", "a\0", 2, &t), -ENOTSUP);
    assert_int_equal(track_text_decode("x-no-such-charset", "a", 1, &t), -ENOTSUP);
}

/* A stateless multibyte charset: single bytes come from a table, lead bytes
 * from iconv; the maps are the same as converting one character at a time. */
static void test_multibyte_table(void **state)
{
    (void)state;
    struct track_text t;
    /* "a", "あ", an invalid 0x80, "b", half-width "ｦ", a lead byte at the end */
    const char in[] = "a\x82\xa0\x80"
                      "b\xa6\x82";
    assert_int_equal(track_text_decode("Shift_JIS", in, sizeof in - 1, &t), 0);
    assert_string_equal(t.utf8, "a\xe3\x81\x82\xef\xbf\xbd"
                                "b\xef\xbd\xa6\xef\xbf\xbd");
    static const uint32_t map[] = {0, 1, 1, 1, 3, 3, 3, 4, 5, 5, 5, 6, 6, 6, 7};
    for (size_t i = 0; i <= t.len; i++) {
        assert_int_equal(track_text_lo(&t, i), map[i]);
        assert_int_equal(track_text_hi(&t, i), map[i]);
    }
    track_text_free(&t);
    /* EUC-JP: a 3-byte character (SS3) between ASCII */
    const char euc[] = "x\x8f\xb0\xa1y";
    assert_int_equal(track_text_decode("EUC-JP", euc, sizeof euc - 1, &t), 0);
    assert_int_equal(t.utf8[0], 'x');
    assert_int_equal(t.utf8[t.len - 1], 'y');
    assert_int_equal(track_text_hi(&t, t.len - 1), 4);
    assert_int_equal(track_text_lo(&t, t.len - 1), 4);
    track_text_free(&t);
}

static int meta(const char *html, char *out)
{
    return track_text_meta_charset(html, strlen(html), out, 64);
}

/* The HTML standard's prescan: <meta charset>, or http-equiv Content-Type
 * with a content charset, in the first 1024 bytes, not inside comments or
 * other tags' attribute values. */
static void test_meta_charset(void **state)
{
    (void)state;
    char cs[64];
    assert_true(meta("<html><head><meta charset=\"ISO-8859-1\">", cs));
    assert_string_equal(cs, "iso-8859-1");
    assert_true(
        meta("<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=windows-1252\">", cs));
    assert_string_equal(cs, "windows-1252");
    assert_true(
        meta("<meta content=\"text/html; charset='shift_jis'\" http-equiv=content-type>", cs));
    assert_string_equal(cs, "shift_jis");
    assert_true(meta("<meta charset = \" euc-jp \" >", cs));
    assert_string_equal(cs, "euc-jp");
    assert_true(meta("<meta/charset=x-user-defined>", cs));
    assert_string_equal(cs, "windows-1252");
    /* the first charset attribute counts, and a later meta when one has none */
    assert_true(meta("<meta name=x><meta charset=koi8-r charset=utf-8>", cs));
    assert_string_equal(cs, "koi8-r");
    assert_true(meta("<!-- <meta charset=koi8-r> --><meta charset=utf-8>", cs));
    assert_string_equal(cs, "utf-8");
    /* content without http-equiv, inside another tag, unfinished, too late */
    assert_false(meta("<meta content=\"text/html; charset=koi8-r\">", cs));
    assert_false(meta("<p title=\"<meta charset=koi8-r>\">", cs));
    assert_false(meta("<metax charset=koi8-r>", cs));
    assert_false(meta("<meta charset=\"koi8-r", cs));
    assert_false(meta("<!-- <meta charset=koi8-r>", cs));
    char late[1100];
    memset(late, ' ', sizeof late);
    memcpy(late + 1030, "<meta charset=koi8-r>", 22);
    assert_false(track_text_meta_charset(late, sizeof late - 1, cs, sizeof cs));
}

/* An HTML part without a charset parameter is read in its <meta> charset:
 * the destination is stored in UTF-8, percent-encoded (homing_url_check, as a
 * browser sends a path), the copy keeps the part's own bytes. */
static void test_meta_charset_part(void **state)
{
    (void)state;
    const char msg[] = "From: a@example.com\nTo: b@example.org\nMIME-Version: 1.0\n"
                       "Content-Type: text/html\nContent-Transfer-Encoding: 8bit\n\n"
                       "<html><head><meta charset=\"iso-8859-1\"></head><body>"
                       "<a href=\"https://x.example/journ\xe9"
                       "e\">caf\xe9</a></body></html>\n";
    struct homing_track_options o = {.base_url = "https://t.example.com", .pixel = 1};
    struct homing_track *t;
    char err[256];
    assert_int_equal(homing_track_prepare(msg, sizeof msg - 1, &o, &t, err, sizeof err), 0);
    assert_int_equal(homing_track_link_count(t), 1);
    assert_string_equal(homing_track_link(t, 0), "https://x.example/journ%C3%A9e");
    homing_track_free(t);
}

static char *enc(int qp, const char *in, size_t n, const char *eol)
{
    struct homing_buf b;
    homing_buf_init(&b, 1 << 20);
    assert_int_equal(qp ? track_encode_qp(&b, in, n, eol) : track_encode_base64(&b, in, n, eol), 0);
    if (!b.data) return strdup("");
    return homing_buf_steal(&b);
}

static void test_qp(void **state)
{
    (void)state;
    char *o = enc(1, "a=b caf\xc3\xa9 \nend ", 15, "\r\n");
    assert_string_equal(o, "a=3Db caf=C3=A9=20\r\nend=20");
    free(o);
    /* "-", "." and "From " never start a line we write */
    o = enc(1, "--b\r\n.x\nFrom me", 15, "\n");
    assert_string_equal(o, "=2D-b\n=2Ex\n=46rom me");
    free(o);
    /* long lines get soft breaks at 76 characters at most */
    char line[200];
    memset(line, 'a', sizeof line);
    o = enc(1, line, sizeof line, "\n");
    assert_int_equal(strchr(o, '\n') - o, 76);
    assert_int_equal(o[75], '=');
    free(o);
    /* a soft break never leaves a line starting with '-' */
    memset(line, 'a', sizeof line);
    line[75] = '-';
    o = enc(1, line, 100, "\n");
    assert_non_null(strstr(o, "=\n=2D"));
    free(o);
}

/* Whatever the text, quoted-printable lines stay within 76 characters and
 * decode back to it (line ends as eol). */
static void test_qp_roundtrip(void **state)
{
    (void)state;
    static const char alpha[] = "abc  \t=-.From\n\x80\xff";
    char in[3000];
    unsigned x = 1;
    for (size_t i = 0; i < sizeof in; i++) {
        x = x * 1103515245 + 12345;
        in[i] = i % 500 < 250 ? 'a' + (char)(i % 7) : alpha[(x >> 16) % (sizeof alpha - 1)];
    }
    char *o = enc(1, in, sizeof in, "\n");
    for (const char *l = o; *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        assert_true(n <= 76);
        l += n + (e ? 1 : 0);
    }
    GMimeEncoding st;
    g_mime_encoding_init_decode(&st, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    size_t on = strlen(o);
    char *d = malloc(g_mime_encoding_outlen(&st, on) + 16);
    assert_non_null(d);
    size_t dn = g_mime_encoding_flush(&st, o, on, d);
    assert_int_equal(dn, sizeof in);
    assert_memory_equal(d, in, sizeof in);
    free(d);
    free(o);
}

static void test_base64(void **state)
{
    (void)state;
    char *o = enc(0, "hello", 5, "\r\n");
    assert_string_equal(o, "aGVsbG8=");
    free(o);
    char in[60];
    memset(in, 0, sizeof in);
    o = enc(0, in, sizeof in, "\r\n");
    assert_int_equal(strlen(o), 76 + 2 + 4);
    assert_memory_equal(o + 76, "\r\n", 2);
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),          cmocka_unit_test(test_latin1_map),
        cmocka_unit_test(test_iso2022jp_map),     cmocka_unit_test(test_shift_jis_and_refusals),
        cmocka_unit_test(test_multibyte_table),   cmocka_unit_test(test_meta_charset),
        cmocka_unit_test(test_meta_charset_part), cmocka_unit_test(test_qp),
        cmocka_unit_test(test_qp_roundtrip),      cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
