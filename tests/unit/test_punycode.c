/*
 * test_punycode.c: unit tests of lib/trace/punycode.c: the sample strings of
 * RFC 3492 section 7.1 decode to the code points listed there, malformed and
 * oversized input is refused, and domains show their A-labels in UTF-8.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "homing/punycode.h"

static const struct {
    const char *name, *puny;
    size_t n;
    uint32_t cp[64];
} samples[] = {
    {"A Arabic (Egyptian)",
     "egbpdaj6bu4bxfgehfvwxn",
     17,
     {0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628, 0x062A, 0x0643, 0x0644, 0x0645, 0x0648,
      0x0634, 0x0639, 0x0631, 0x0628, 0x064A, 0x061F}},
    {"B Chinese (simplified)",
     "ihqwcrb4cv8a8dqg056pqjye",
     9,
     {0x4ED6, 0x4EEC, 0x4E3A, 0x4EC0, 0x4E48, 0x4E0D, 0x8BF4, 0x4E2D, 0x6587}},
    {"C Chinese (traditional)",
     "ihqwctvzc91f659drss3x8bo0yb",
     9,
     {0x4ED6, 0x5011, 0x7232, 0x4EC0, 0x9EBD, 0x4E0D, 0x8AAA, 0x4E2D, 0x6587}},
    {"D Czech",
     "Proprostnemluvesky-uyb24dma41a",
     22,
     {0x0050, 0x0072, 0x006F, 0x010D, 0x0070, 0x0072, 0x006F, 0x0073, 0x0074, 0x011B, 0x006E,
      0x0065, 0x006D, 0x006C, 0x0075, 0x0076, 0x00ED, 0x010D, 0x0065, 0x0073, 0x006B, 0x0079}},
    {"E Hebrew",
     "4dbcagdahymbxekheh6e0a7fei0b",
     22,
     {0x05DC, 0x05DE, 0x05D4, 0x05D4, 0x05DD, 0x05E4, 0x05E9, 0x05D5, 0x05D8, 0x05DC, 0x05D0,
      0x05DE, 0x05D3, 0x05D1, 0x05E8, 0x05D9, 0x05DD, 0x05E2, 0x05D1, 0x05E8, 0x05D9, 0x05EA}},
    {"F Hindi (Devanagari)",
     "i1baa7eci9glrd9b2ae1bj0hfcgg6iyaf8o0a1dig0cd",
     30,
     {0x092F, 0x0939, 0x0932, 0x094B, 0x0917, 0x0939, 0x093F, 0x0928, 0x094D, 0x0926,
      0x0940, 0x0915, 0x094D, 0x092F, 0x094B, 0x0902, 0x0928, 0x0939, 0x0940, 0x0902,
      0x092C, 0x094B, 0x0932, 0x0938, 0x0915, 0x0924, 0x0947, 0x0939, 0x0948, 0x0902}},
    {"G Japanese (kanji and hiragana)",
     "n8jok5ay5dzabd5bym9f0cm5685rrjetr6pdxa",
     18,
     {0x306A, 0x305C, 0x307F, 0x3093, 0x306A, 0x65E5, 0x672C, 0x8A9E, 0x3092, 0x8A71, 0x3057,
      0x3066, 0x304F, 0x308C, 0x306A, 0x3044, 0x306E, 0x304B}},
    {"H Korean (Hangul syllables)",
     "989aomsvi5e83db1d2a355cv1e0vak1dwrv93d5xbh15a0dt30a5jpsd879ccm6fea98c",
     24,
     {0xC138, 0xACC4, 0xC758, 0xBAA8, 0xB4E0, 0xC0AC, 0xB78C, 0xB4E4,
      0xC774, 0xD55C, 0xAD6D, 0xC5B4, 0xB97C, 0xC774, 0xD574, 0xD55C,
      0xB2E4, 0xBA74, 0xC5BC, 0xB9C8, 0xB098, 0xC88B, 0xC744, 0xAE4C}},
    {"I Russian (Cyrillic)",
     "b1abfaaepdrnnbgefbaDotcwatmq2g4l",
     28,
     {0x043F, 0x043E, 0x0447, 0x0435, 0x043C, 0x0443, 0x0436, 0x0435, 0x043E, 0x043D,
      0x0438, 0x043D, 0x0435, 0x0433, 0x043E, 0x0432, 0x043E, 0x0440, 0x044F, 0x0442,
      0x043F, 0x043E, 0x0440, 0x0443, 0x0441, 0x0441, 0x043A, 0x0438}},
    {"J Spanish",
     "PorqunopuedensimplementehablarenEspaol-fmd56a",
     40,
     {0x0050, 0x006F, 0x0072, 0x0071, 0x0075, 0x00E9, 0x006E, 0x006F, 0x0070, 0x0075,
      0x0065, 0x0064, 0x0065, 0x006E, 0x0073, 0x0069, 0x006D, 0x0070, 0x006C, 0x0065,
      0x006D, 0x0065, 0x006E, 0x0074, 0x0065, 0x0068, 0x0061, 0x0062, 0x006C, 0x0061,
      0x0072, 0x0065, 0x006E, 0x0045, 0x0073, 0x0070, 0x0061, 0x00F1, 0x006F, 0x006C}},
    {"K Vietnamese",
     "TisaohkhngthchnitingVit-kjcr8268qyxafd2f1b9g",
     31,
     {0x0054, 0x1EA1, 0x0069, 0x0073, 0x0061, 0x006F, 0x0068, 0x1ECD, 0x006B, 0x0068, 0x00F4,
      0x006E, 0x0067, 0x0074, 0x0068, 0x1EC3, 0x0063, 0x0068, 0x1EC9, 0x006E, 0x00F3, 0x0069,
      0x0074, 0x0069, 0x1EBF, 0x006E, 0x0067, 0x0056, 0x0069, 0x1EC7, 0x0074}},
    {"L 3<nen>B<gumi><kinpachi><sensei>",
     "3B-ww4c5e180e575a65lsy2b",
     8,
     {0x0033, 0x5E74, 0x0042, 0x7D44, 0x91D1, 0x516B, 0x5148, 0x751F}},
    {"M <amuro><namie>-with-SUPER-MONKEYS",
     "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n",
     24,
     {0x5B89, 0x5BA4, 0x5948, 0x7F8E, 0x6075, 0x002D, 0x0077, 0x0069,
      0x0074, 0x0068, 0x002D, 0x0053, 0x0055, 0x0050, 0x0045, 0x0052,
      0x002D, 0x004D, 0x004F, 0x004E, 0x004B, 0x0045, 0x0059, 0x0053}},
    {"N Hello-Another-Way-<sorezore><no><basho>",
     "Hello-Another-Way--fc4qua05auwb3674vfr0b",
     25,
     {0x0048, 0x0065, 0x006C, 0x006C, 0x006F, 0x002D, 0x0041, 0x006E, 0x006F,
      0x0074, 0x0068, 0x0065, 0x0072, 0x002D, 0x0057, 0x0061, 0x0079, 0x002D,
      0x305D, 0x308C, 0x305E, 0x308C, 0x306E, 0x5834, 0x6240}},
    {"O <hitotsu><yane><no><shita>2",
     "2-u9tlzr9756bt3uc0v",
     8,
     {0x3072, 0x3068, 0x3064, 0x5C4B, 0x6839, 0x306E, 0x4E0B, 0x0032}},
    {"P Maji<de>Koi<suru>5<byou><mae>",
     "MajiKoi5-783gue6qz075azm5e",
     13,
     {0x004D, 0x0061, 0x006A, 0x0069, 0x3067, 0x004B, 0x006F, 0x0069, 0x3059, 0x308B, 0x0035,
      0x79D2, 0x524D}},
    {"Q <pafii>de<runba>",
     "de-jg4avhby1noc0d",
     9,
     {0x30D1, 0x30D5, 0x30A3, 0x30FC, 0x0064, 0x0065, 0x30EB, 0x30F3, 0x30D0}},
    {"R <sono><supiido><de>",
     "d9juau41awczczp",
     7,
     {0x305D, 0x306E, 0x30B9, 0x30D4, 0x30FC, 0x30C9, 0x3067}},
    {"S -> $1.00 <-",
     "-> $1.00 <--",
     11,
     {0x2D, 0x3E, 0x20, 0x24, 0x31, 0x2E, 0x30, 0x30, 0x20, 0x3C, 0x2D}},
};

static void test_rfc3492_samples(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        uint32_t out[HOMING_PUNYCODE_MAX];
        size_t n = 0;
        int r = homing_punycode_decode(samples[s].puny, strlen(samples[s].puny), out,
                                       HOMING_PUNYCODE_MAX, &n);
        if (r != 0 || n != samples[s].n || memcmp(out, samples[s].cp, n * sizeof *out) != 0)
            fail_msg("sample (%s): r=%d, %zu code points", samples[s].name, r, n);
    }
}

static void test_malformed(void **state)
{
    (void)state;
    uint32_t out[HOMING_PUNYCODE_MAX];
    size_t n = 99;
    /* a digit that is not one, a truncated number, a leading '-' read as a digit */
    assert_int_equal(homing_punycode_decode("abc_", 4, out, 64, &n), -EINVAL);
    assert_int_equal(homing_punycode_decode("bcher-kv", 8, out, 64, &n), -EINVAL);
    assert_int_equal(homing_punycode_decode("-abc", 4, out, 64, &n), -EINVAL);
    /* non-ASCII before the delimiter */
    assert_int_equal(homing_punycode_decode("\xc3\xa4-kva", 6, out, 64, &n), -EINVAL);
    /* overflow (section 6.4): "9" digits never end a number; the weight passes
     * 2^32 by the eighth and must not wrap */
    assert_int_equal(homing_punycode_decode("99999999999999", 14, out, 64, &n), -EINVAL);
    /* U+10FFFF is the last code point; U+110000 and a surrogate are none */
    assert_int_equal(homing_punycode_decode("dn32g", 5, out, 64, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 0x10ffff);
    n = 99;
    assert_int_equal(homing_punycode_decode("en32g", 5, out, 64, &n), -EINVAL);
    assert_int_equal(homing_punycode_decode("ib9b", 4, out, 64, &n), -EINVAL);
    assert_int_equal(n, 99); /* nothing written on failure */
    /* the named limits */
    char big[HOMING_PUNYCODE_MAX + 2];
    memset(big, 'a', sizeof big);
    assert_int_equal(homing_punycode_decode(big, HOMING_PUNYCODE_MAX + 1, out, 300, &n), -E2BIG);
    assert_int_equal(homing_punycode_decode("bcher-kva", 9, out, 5, &n), -E2BIG);
    assert_int_equal(homing_punycode_decode("bcher-kva", 9, out, 6, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(out[1], 0xfc);
    /* empty Punycode is the empty string; all-basic ends with the delimiter */
    assert_int_equal(homing_punycode_decode("", 0, out, 64, &n), 0);
    assert_int_equal(n, 0);
}

static void test_domains(void **state)
{
    (void)state;
    char u[256];
    assert_int_equal(homing_idna_to_unicode("mail.xn--pypal-4ve.com", u, sizeof u), 1);
    assert_string_equal(u, "mail.p\xd0\xb0ypal.com");
    assert_int_equal(homing_idna_to_unicode("XN--bcher-KVA.xn--tda.", u, sizeof u), 2);
    assert_string_equal(u, "b\xc3\xbc"
                           "cher.\xc3\xbc.");
    assert_int_equal(homing_idna_to_unicode("example.org", u, sizeof u), 0);
    assert_string_equal(u, "example.org");
    /* not Punycode, ASCII only, or beyond a limit: refused, out empty */
    assert_int_equal(homing_idna_to_unicode("xn--abc_.com", u, sizeof u), -EINVAL);
    assert_string_equal(u, "");
    assert_int_equal(homing_idna_to_unicode("xn--paypal-.com", u, sizeof u), -EINVAL);
    assert_int_equal(homing_idna_to_unicode("xn--.com", u, sizeof u), -EINVAL);
    /* RFC 3492 (H) is a fine Punycode string but longer than a DNS label */
    char korean[128];
    strcpy(korean, "xn--989aomsvi5e83db1d2a355cv1e0vak1dwrv93d5xbh15a0dt30a5jpsd879ccm6fea98c.kr");
    assert_int_equal(homing_idna_to_unicode(korean, u, sizeof u), -E2BIG);
    assert_int_equal(homing_idna_to_unicode("xn--bcher-kva.example", u, 8), -E2BIG);
    assert_int_equal(homing_idna_to_unicode("xn--bcher-kva", u, 8), 1);
    assert_string_equal(u, "b\xc3\xbc"
                           "cher");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3492_samples),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_domains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
