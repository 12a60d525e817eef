/*
 * test_seal.c: the seal codec (lib/store/seal.c, homing/seal.h): values and
 * client addresses round trip; equal values seal alike and case variants
 * share the lookup prefix; a changed byte or another key is refused with
 * -EBADMSG; sealed IPv6 clients fit an event's client field; text keeps what
 * is not an address (JSON stays JSON) and seals twice to the same; the key
 * file is created 0600, read back, and refused when others can read it.
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
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "homing/seal.h"
#include "homing/util.h"

static struct homing_seal *key_a(void)
{
    static const uint8_t k[HOMING_SEAL_KEY_LEN] = "key A for the seal unit tests..";
    struct homing_seal *s;
    assert_int_equal(homing_seal_new(k, &s), 0);
    return s;
}

static struct homing_seal *key_b(void)
{
    static const uint8_t k[HOMING_SEAL_KEY_LEN] = "key B for the seal unit tests..";
    struct homing_seal *s;
    assert_int_equal(homing_seal_new(k, &s), 0);
    return s;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct homing_seal *k = key_a();
    const char *values[] = {
        "bob@example.net",    "Carol.O'Neil+tag@Sub.Example.COM", "", "x", "~s1:not really sealed",
        "ünïcødé@example.org"};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char tok[256], back[256];
        int n = homing_seal_value(k, values[i], strlen(values[i]), tok, sizeof tok);
        assert_true(n > 0);
        assert_int_equal((size_t)n, strlen(tok));
        assert_int_equal((size_t)n, HOMING_SEAL_LEN(strlen(values[i])));
        assert_true(homing_seal_is(tok, (size_t)n));
        assert_null(strchr(tok, '@'));
        assert_int_equal(homing_seal_open(k, tok, (size_t)n, back, sizeof back),
                         (int)strlen(values[i]));
        assert_string_equal(back, values[i]);
        /* deterministic: equality lookups work on the sealed column */
        char again[256];
        assert_int_equal(homing_seal_value(k, values[i], strlen(values[i]), again, sizeof again),
                         n);
        assert_string_equal(again, tok);
    }
    homing_seal_free(k);
}

static void test_clients(void **state)
{
    (void)state;
    struct homing_seal *k = key_a();
    const char *clients[] = {"203.0.113.77",           "0.0.0.0",
                             "2001:db8:1:2::77",       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                             "::ffff:255.255.255.255", "2001:DB8::1" /* not canonical: text */};
    for (size_t i = 0; i < sizeof clients / sizeof *clients; i++) {
        char tok[HOMING_ADDR_STR_MAX], back[64];
        int n = homing_seal_client(k, clients[i], tok, sizeof tok);
        assert_true(n > 0); /* fits the 46 bytes of an event's client field */
        assert_int_equal(homing_seal_open(k, tok, (size_t)n, back, sizeof back),
                         (int)strlen(clients[i]));
        assert_string_equal(back, clients[i]);
    }
    /* a truncated address seals to the same length (the append-only guard) */
    char a[64], b[64];
    assert_int_equal(homing_seal_client(k, "203.0.113.77", a, sizeof a),
                     homing_seal_client(k, "203.0.113.0", b, sizeof b));
    assert_int_equal(homing_seal_client(k, "2001:db8:1:2::77", a, sizeof a),
                     homing_seal_client(k, "2001:db8:1::", b, sizeof b));
    homing_seal_free(k);
}

static void test_lookup(void **state)
{
    (void)state;
    struct homing_seal *k = key_a();
    char t1[256], t2[256], l[HOMING_SEAL_LOOKUP_LEN + 1];
    homing_seal_value(k, "Bob@Example.NET", 15, t1, sizeof t1);
    homing_seal_value(k, "bob@example.net", 15, t2, sizeof t2);
    assert_string_not_equal(t1, t2); /* each keeps its own case */
    homing_seal_lookup(k, "BOB@example.net", 15, l);
    assert_int_equal(strlen(l), HOMING_SEAL_LOOKUP_LEN);
    assert_memory_equal(t1, l, HOMING_SEAL_LOOKUP_LEN);
    assert_memory_equal(t2, l, HOMING_SEAL_LOOKUP_LEN);
    for (const char *p = l; *p; p++) assert_false(*p >= 'A' && *p <= 'Z'); /* SQL lower() */
    homing_seal_value(k, "rob@example.net", 15, t1, sizeof t1);
    assert_memory_not_equal(t1, l, HOMING_SEAL_LOOKUP_LEN);
    homing_seal_free(k);
}

static void test_tamper_and_wrong_key(void **state)
{
    (void)state;
    struct homing_seal *k = key_a(), *other = key_b();
    char tok[256], back[256];
    int n = homing_seal_value(k, "bob@example.net", 15, tok, sizeof tok);
    char ip[64];
    int m = homing_seal_client(k, "203.0.113.77", ip, sizeof ip);
    assert_int_equal(homing_seal_open(other, tok, (size_t)n, back, sizeof back), -EBADMSG);
    assert_int_equal(homing_seal_open(other, ip, (size_t)m, back, sizeof back), -EBADMSG);
    /* every byte after the prefix matters */
    for (int i = HOMING_SEAL_PREFIX_LEN; i < n; i++) {
        char bad[256];
        memcpy(bad, tok, (size_t)n + 1);
        bad[i] = bad[i] == 'a' ? 'b' : 'a';
        int r = homing_seal_open(k, bad, (size_t)n, back, sizeof back);
        assert_true(r == -EBADMSG);
    }
    assert_int_equal(homing_seal_open(k, tok, (size_t)n - 1, back, sizeof back), -EBADMSG);
    assert_int_equal(homing_seal_open(k, "bob@example.net", 15, back, sizeof back), -EINVAL);
    assert_int_equal(homing_seal_open(k, tok, (size_t)n, back, 4), -ENOSPC);
    assert_int_equal(homing_seal_value(k, "bob@example.net", 15, tok, 8), -ENOSPC);
    homing_seal_free(k);
    homing_seal_free(other);
}

static void test_text(void **state)
{
    (void)state;
    struct homing_seal *k = key_a();
    const char *in = "{\"diagnostic\":\"550 5.1.1 <nobody@dest.example>: unknown\","
                     "\"to\":\"Bob@Example.NET.\",\"n\":1,\"x\":\"no address @ here\"}";
    char *out, *back, *twice;
    size_t len, blen, tlen;
    assert_true(homing_seal_text_pending(in, strlen(in)));
    assert_int_equal(homing_seal_text(k, in, strlen(in), &out, &len), 0);
    assert_int_equal(len, strlen(out));
    assert_null(strstr(out, "nobody@dest.example"));
    assert_null(strstr(out, "Bob@Example.NET"));
    assert_non_null(strstr(out, "no address @ here"));
    json_t *j = json_loads(out, 0, NULL); /* still JSON */
    assert_non_null(j);
    json_decref(j);
    /* sealed text has no address left: sealing again changes nothing */
    assert_false(homing_seal_text_pending(out, len));
    assert_int_equal(homing_seal_text(k, out, len, &twice, &tlen), 0);
    assert_string_equal(twice, out);
    assert_int_equal(homing_seal_open_text(k, out, len, 1, &back, &blen), 0);
    assert_string_equal(back, in);
    free(back);
    /* forget's search: the lookup prefix is inside, lower-cased or not */
    char l[HOMING_SEAL_LOOKUP_LEN + 1];
    homing_seal_lookup(k, "bob@example.net", 15, l);
    assert_non_null(strstr(out, l));
    /* another key: strict refuses, lenient leaves the text as it is */
    struct homing_seal *other = key_b();
    assert_int_equal(homing_seal_open_text(other, out, len, 1, &back, &blen), -EBADMSG);
    assert_int_equal(homing_seal_open_text(other, out, len, 0, &back, &blen), 0);
    assert_string_equal(back, out);
    free(back);
    /* refs only: each address keeps its lookup prefix */
    assert_int_equal(homing_seal_text_refs(k, in, strlen(in), &back, &blen), 0);
    assert_non_null(strstr(back, l));
    assert_null(strstr(back, "Bob@Example"));
    free(back);
    /* bytes that are not text (a raw report with a NUL) */
    const char raw[] = "To: <a@b.example>\0\x01 z@y.example";
    assert_int_equal(homing_seal_text(k, raw, sizeof raw - 1, &back, &blen), 0);
    assert_null(memmem(back, blen, "a@b.example", 11));
    assert_null(memmem(back, blen, "z@y.example", 11));
    char *open2;
    size_t olen;
    assert_int_equal(homing_seal_open_text(k, back, blen, 1, &open2, &olen), 0);
    assert_int_equal(olen, sizeof raw - 1);
    assert_memory_equal(open2, raw, olen);
    free(open2);
    free(back);
    free(out);
    free(twice);
    homing_seal_free(other);
    homing_seal_free(k);
}

static void test_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/homing-seal-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/data.key", dir);
    struct homing_seal *a, *b;
    int created = 0;
    assert_int_equal(homing_seal_load(path, 0, &a, &created, err, sizeof err), -ENOENT);
    assert_int_equal(homing_seal_load(path, 1, &a, &created, err, sizeof err), 0);
    assert_int_equal(created, 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(homing_seal_load(path, 1, &b, &created, err, sizeof err), 0);
    assert_int_equal(created, 0);
    assert_string_equal(homing_seal_id(a), homing_seal_id(b));
    assert_int_equal(strlen(homing_seal_id(a)), HOMING_SEAL_ID_LEN);
    char t[128], back[128];
    int n = homing_seal_value(a, "bob@example.net", 15, t, sizeof t);
    assert_int_equal(homing_seal_open(b, t, (size_t)n, back, sizeof back), 15);
    homing_seal_free(b);
    chmod(path, 0640);
    assert_int_equal(homing_seal_load(path, 0, &b, NULL, err, sizeof err), -EPERM);
    assert_non_null(strstr(err, "chmod 600"));
    chmod(path, 0600);
    FILE *f = fopen(path, "w");
    fputs("# no key\nabc\n", f);
    fclose(f);
    assert_int_equal(homing_seal_load(path, 0, &b, NULL, err, sizeof err), -EINVAL);
    homing_seal_free(a);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_clients),
        cmocka_unit_test(test_lookup),     cmocka_unit_test(test_tamper_and_wrong_key),
        cmocka_unit_test(test_text),       cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
