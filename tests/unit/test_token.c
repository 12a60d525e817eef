/*
 * test_token.c: tokens round-trip, and every way of tampering with one fails:
 * each single-bit flip, a wrong key, truncation, oversize, bad kinds. Key
 * rotation keeps old tokens verifying while the new key signs. API key scopes
 * parse only by their exact names, in their order (read < write < admin).
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

#include "homing/apikey.h"
#include "homing/token.h"
#include "homing/util.h"

struct fixture {
    char dir[64];
    char path[128];
    struct homing_keyring *k;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/homing-test-token-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/token.keys", f->dir);
    assert_int_equal(homing_keyring_create(f->path), 0);
    assert_int_equal(homing_keyring_load(f->path, &f->k, NULL, 0), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    homing_keyring_free(f->k);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    struct homing_token in = {
        .kind = HOMING_TOKEN_CLICK, .message = 0x1234567890abcdefULL, .recipient = 7, .item = 3};
    char text[HOMING_TOKEN_LEN + 1];
    assert_int_equal(homing_token_encode(f->k, &in, text), 0);
    assert_int_equal(strlen(text), HOMING_TOKEN_LEN);
    for (size_t i = 0; i < HOMING_TOKEN_LEN; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", text[i]));
    struct homing_token out;
    assert_int_equal(homing_token_verify(f->k, text, strlen(text), &out), 0);
    assert_int_equal(out.kind, in.kind);
    assert_int_equal(out.message, in.message);
    assert_int_equal(out.recipient, 7);
    assert_int_equal(out.item, 3);
    assert_int_equal(out.key_id, 1);
}

/* Known answers: tokens made with a fixed key by the first implementation
 * (libsodium's HMAC-SHA-256), so a new MAC code must give the same bytes and
 * every token already sent keeps verifying. */
static void test_known_answers(void **state)
{
    struct fixture *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/kat.keys", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("1 1700000000000000 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
          fp);
    fclose(fp);
    assert_int_equal(chmod(path, 0600), 0);
    struct homing_keyring *k;
    assert_int_equal(homing_keyring_load(path, &k, NULL, 0), 0);
    static const struct {
        struct homing_token t;
        const char *text;
    } kat[] = {
        {{.kind = HOMING_TOKEN_CLICK, .message = 0x1234567890abcdefULL, .recipient = 7, .item = 3},
         "AQABAhI0VniQq83vAAAABwAAAANZDUZJt0-Da1WLY1d3JjdU"},
        {{.kind = HOMING_TOKEN_OPEN, .message = 1},
         "AQABAQAAAAAAAAABAAAAAAAAAAAlqtRgWGtbQzdCMnOtcGOX"},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        char text[HOMING_TOKEN_LEN + 1];
        assert_int_equal(homing_token_encode(k, &kat[i].t, text), 0);
        text[HOMING_TOKEN_LEN] = '\0';
        assert_string_equal(text, kat[i].text);
        struct homing_token out;
        assert_int_equal(homing_token_verify(k, kat[i].text, strlen(kat[i].text), &out), 0);
        assert_int_equal(out.message, kat[i].t.message);
    }
    homing_keyring_free(k);
    unlink(path);
}

static void test_every_bit_flip_rejected(void **state)
{
    struct fixture *f = *state;
    struct homing_token in = {.kind = HOMING_TOKEN_OPEN, .message = 42, .recipient = 1};
    char text[HOMING_TOKEN_LEN + 1];
    assert_int_equal(homing_token_encode(f->k, &in, text), 0);
    /* Flip every bit of the decoded bytes and re-encode: all 288 variants fail. */
    uint8_t raw[HOMING_TOKEN_RAW_LEN];
    assert_int_equal(homing_b64url_decode(text, HOMING_TOKEN_LEN, raw, sizeof raw),
                     HOMING_TOKEN_RAW_LEN);
    for (size_t bit = 0; bit < HOMING_TOKEN_RAW_LEN * 8; bit++) {
        uint8_t t[HOMING_TOKEN_RAW_LEN];
        memcpy(t, raw, sizeof t);
        t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        char bad[HOMING_TOKEN_LEN + 1];
        homing_b64url_encode(t, sizeof t, bad);
        struct homing_token out;
        assert_int_equal(homing_token_verify(f->k, bad, HOMING_TOKEN_LEN, &out), -EINVAL);
    }
    /* And every character replaced by another alphabet character. */
    for (size_t i = 0; i < HOMING_TOKEN_LEN; i++) {
        char bad[HOMING_TOKEN_LEN + 1];
        memcpy(bad, text, sizeof bad);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        struct homing_token out;
        assert_int_equal(homing_token_verify(f->k, bad, HOMING_TOKEN_LEN, &out), -EINVAL);
    }
}

static void test_truncated_oversized_garbage(void **state)
{
    struct fixture *f = *state;
    struct homing_token in = {.kind = HOMING_TOKEN_OPEN, .message = 99, .recipient = 0};
    char text[HOMING_TOKEN_LEN + 2];
    assert_int_equal(homing_token_encode(f->k, &in, text), 0);
    struct homing_token out;
    for (size_t n = 0; n < HOMING_TOKEN_LEN; n++)
        assert_int_equal(homing_token_verify(f->k, text, n, &out), -EINVAL);
    strcat(text, "A");
    assert_int_equal(homing_token_verify(f->k, text, HOMING_TOKEN_LEN + 1, &out), -EINVAL);
    assert_int_equal(homing_token_verify(f->k, "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
                                         HOMING_TOKEN_LEN, &out),
                     -EINVAL);
}

static void test_wrong_key(void **state)
{
    struct fixture *f = *state;
    char other[160];
    snprintf(other, sizeof other, "%s/other.keys", f->dir);
    assert_int_equal(homing_keyring_create(other), 0);
    struct homing_keyring *k2;
    assert_int_equal(homing_keyring_load(other, &k2, NULL, 0), 0);
    struct homing_token in = {.kind = HOMING_TOKEN_OPEN, .message = 5, .recipient = 2};
    char text[HOMING_TOKEN_LEN + 1];
    assert_int_equal(homing_token_encode(k2, &in, text), 0);
    struct homing_token out;
    /* Same key id 1, different secret: must not verify. */
    assert_int_equal(homing_token_verify(f->k, text, HOMING_TOKEN_LEN, &out), -EINVAL);
    homing_keyring_free(k2);
    unlink(other);
}

static void test_rotation(void **state)
{
    struct fixture *f = *state;
    struct homing_token in = {
        .kind = HOMING_TOKEN_DOCUMENT, .message = 77, .recipient = 1, .item = 2};
    char old[HOMING_TOKEN_LEN + 1], fresh[HOMING_TOKEN_LEN + 1];
    assert_int_equal(homing_token_encode(f->k, &in, old), 0);
    uint16_t id = 0;
    assert_int_equal(homing_keyring_rotate(f->path, &id), 0);
    assert_int_equal(id, 2);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    struct homing_keyring *k2;
    assert_int_equal(homing_keyring_load(f->path, &k2, NULL, 0), 0);
    assert_int_equal(homing_keyring_count(k2), 2);
    assert_int_equal(homing_token_encode(k2, &in, fresh), 0);
    assert_string_not_equal(old, fresh);
    struct homing_token out;
    assert_int_equal(homing_token_verify(k2, old, HOMING_TOKEN_LEN, &out), 0);
    assert_int_equal(out.key_id, 1);
    assert_int_equal(homing_token_verify(k2, fresh, HOMING_TOKEN_LEN, &out), 0);
    assert_int_equal(out.key_id, 2);
    /* The old ring does not know key 2. */
    assert_int_equal(homing_token_verify(f->k, fresh, HOMING_TOKEN_LEN, &out), -EINVAL);
    /* The document key does not change with rotation. */
    uint8_t d1[32], d2[32];
    assert_int_equal(homing_keyring_doc_key(f->k, d1), 0);
    assert_int_equal(homing_keyring_doc_key(k2, d2), 0);
    assert_memory_equal(d1, d2, 32);
    /* Nor does the digest key, which is another key than the document key's. */
    uint8_t g1[32], g2[32];
    assert_int_equal(homing_keyring_digest_key(f->k, g1), 0);
    assert_int_equal(homing_keyring_digest_key(k2, g2), 0);
    assert_memory_equal(g1, g2, 32);
    assert_memory_not_equal(g1, d1, 32);
    homing_keyring_free(k2);
}

static void test_kind_rules(void **state)
{
    struct fixture *f = *state;
    char text[HOMING_TOKEN_LEN + 1];
    struct homing_token bad_open = {.kind = HOMING_TOKEN_OPEN, .message = 1, .item = 1};
    assert_int_equal(homing_token_encode(f->k, &bad_open, text), -EINVAL);
    struct homing_token bad_click = {.kind = HOMING_TOKEN_CLICK, .message = 1, .item = 0};
    assert_int_equal(homing_token_encode(f->k, &bad_click, text), -EINVAL);
    struct homing_token bad_kind = {.kind = 9, .message = 1};
    assert_int_equal(homing_token_encode(f->k, &bad_kind, text), -EINVAL);
    struct homing_token no_msg = {.kind = HOMING_TOKEN_OPEN, .message = 0};
    assert_int_equal(homing_token_encode(f->k, &no_msg, text), -EINVAL);
}

static void test_keyfile_permissions_and_syntax(void **state)
{
    struct fixture *f = *state;
    struct homing_keyring *k;
    char err[256];
    assert_int_equal(chmod(f->path, 0644), 0);
    assert_int_equal(homing_keyring_load(f->path, &k, err, sizeof err), -EPERM);
    assert_int_equal(chmod(f->path, 0600), 0);
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad.keys", f->dir);
    FILE *fp = fopen(bad, "w");
    fputs("# comment\n1 0 zz\n", fp);
    fclose(fp);
    chmod(bad, 0600);
    assert_int_equal(homing_keyring_load(bad, &k, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, ":2:"));
    fp = fopen(bad, "w");
    fclose(fp);
    assert_int_equal(homing_keyring_load(bad, &k, err, sizeof err), -ENOKEY);
    unlink(bad);
    assert_int_equal(homing_keyring_create(f->path), -EEXIST);
}

static void test_apikey_scopes(void **state)
{
    (void)state;
    assert_int_equal(homing_apikey_scope_parse("read"), HOMING_APIKEY_SCOPE_READ);
    assert_int_equal(homing_apikey_scope_parse("write"), HOMING_APIKEY_SCOPE_WRITE);
    assert_int_equal(homing_apikey_scope_parse("admin"), HOMING_APIKEY_SCOPE_ADMIN);
    /* The route check compares scopes as numbers: the order is the contract. */
    assert_true(HOMING_APIKEY_SCOPE_READ < HOMING_APIKEY_SCOPE_WRITE);
    assert_true(HOMING_APIKEY_SCOPE_WRITE < HOMING_APIKEY_SCOPE_ADMIN);
    static const char *const bad[] = {"",       "Read",  "ADMIN",      "reader", "writ",
                                      "admin ", " read", "read,write", "all",    "none"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(homing_apikey_scope_parse(bad[i]), -EINVAL);
    assert_int_equal(homing_apikey_scope_parse(NULL), -EINVAL);
    for (int sc = HOMING_APIKEY_SCOPE_READ; sc <= HOMING_APIKEY_SCOPE_ADMIN; sc++) {
        const char *name = homing_apikey_scope_name(sc);
        assert_non_null(name);
        assert_true(strlen(name) < HOMING_APIKEY_SCOPE_NAME_MAX);
        assert_int_equal(homing_apikey_scope_parse(name), sc);
    }
    assert_null(homing_apikey_scope_name(0));
    assert_null(homing_apikey_scope_name(HOMING_APIKEY_SCOPE_ADMIN + 1));
    assert_null(homing_apikey_scope_name(-1));
}

/* Sealed key files (backups): the right passphrase gives the bytes back;
 * a wrong one, any changed byte and a cut file do not (-EBADMSG or -EINVAL);
 * a file asking for argon2 costs over the maxima is refused before any work;
 * a short passphrase is refused when sealing. */
static void test_seal(void **state)
{
    (void)state;
    static const char plain[] = "1 2026 0123456789abcdef\n";
    static const char pass[] = "correct horse battery";
    uint8_t *s, *p;
    size_t sn, pn;
    assert_int_equal(
        homing_keys_seal((const uint8_t *)plain, sizeof plain - 1, "short", 5, &s, &sn), -EINVAL);
    assert_int_equal(
        homing_keys_seal((const uint8_t *)plain, sizeof plain - 1, pass, strlen(pass), &s, &sn), 0);
    assert_memory_equal(s, "HOMINGKB", 8);
    assert_null(memmem(s, sn, "0123456789abcdef", 16));
    assert_int_equal(homing_keys_unseal(s, sn, pass, strlen(pass), &p, &pn), 0);
    assert_int_equal(pn, sizeof plain - 1);
    assert_memory_equal(p, plain, pn);
    free(p);
    assert_int_equal(homing_keys_unseal(s, sn, "correct horse batterY", strlen(pass), &p, &pn),
                     -EBADMSG);
    /* one flipped byte in the salt, nonce and box each (the header's costs: below) */
    size_t at[] = {20, 40, sn - 1};
    for (size_t i = 0; i < 3; i++) {
        s[at[i]] ^= 1;
        assert_int_equal(homing_keys_unseal(s, sn, pass, strlen(pass), &p, &pn), -EBADMSG);
        s[at[i]] ^= 1;
    }
    assert_int_equal(homing_keys_unseal(s, 20, pass, strlen(pass), &p, &pn), -EINVAL);
    s[0] = 'X';
    assert_int_equal(homing_keys_unseal(s, sn, pass, strlen(pass), &p, &pn), -EINVAL);
    s[0] = 'H';
    uint8_t keep = s[14]; /* memlimit, big-endian at 14..17: ask for 4 TiB */
    s[14] = 0xff;
    assert_int_equal(homing_keys_unseal(s, sn, pass, strlen(pass), &p, &pn), -EINVAL);
    s[14] = keep;
    s[13] = 0xff; /* opslimit */
    assert_int_equal(homing_keys_unseal(s, sn, pass, strlen(pass), &p, &pn), -EINVAL);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_known_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_bit_flip_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_oversized_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kind_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyfile_permissions_and_syntax, setup, teardown),
        cmocka_unit_test(test_apikey_scopes),
        cmocka_unit_test(test_seal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
