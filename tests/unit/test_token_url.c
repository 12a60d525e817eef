/*
 * test_token_url.c: homing_token_url builds the paths the daemon routes
 * (/o/TOKEN.gif, /c/TOKEN, /d/TOKEN), with tokens that verify back to what was
 * asked, ignores a trailing '/' of the base URL, refuses other kinds and leaves
 * the buffer untouched on error.
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
#include <unistd.h>

#include "homing/token.h"
#include "homing/util.h"

static void check_token(const struct homing_keyring *k, const char *tok, uint8_t kind, uint64_t msg,
                        uint32_t rcpt, uint32_t item)
{
    struct homing_token t;
    assert_int_equal(homing_token_verify(k, tok, HOMING_TOKEN_LEN, &t), 0);
    assert_int_equal(t.kind, kind);
    assert_true(t.message == msg);
    assert_int_equal(t.recipient, rcpt);
    assert_int_equal(t.item, item);
}

static void test_urls(void **state)
{
    (void)state;
    char dir[] = "/tmp/homing-test-url-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/token.keys", dir);
    assert_int_equal(homing_keyring_create(path), 0);
    struct homing_keyring *k;
    assert_int_equal(homing_keyring_load(path, &k, NULL, 0), 0);
    const uint64_t msg = 0x1234567890abcdefULL & INT64_MAX;

    struct homing_buf b;
    homing_buf_init(&b, 4096);
    assert_int_equal(homing_token_url("https://t.example", k, HOMING_TOKEN_OPEN, msg, 3, 0, &b), 0);
    const char *pre = "https://t.example/o/";
    assert_int_equal(strncmp(b.data, pre, strlen(pre)), 0);
    assert_int_equal(b.len, strlen(pre) + HOMING_TOKEN_LEN + 4);
    assert_string_equal(b.data + b.len - 4, ".gif");
    check_token(k, b.data + strlen(pre), HOMING_TOKEN_OPEN, msg, 3, 0);

    /* Appends; a trailing slash of the base is not doubled. */
    assert_int_equal(homing_buf_puts(&b, " "), 0);
    size_t start = b.len;
    assert_int_equal(homing_token_url("http://h:8080//", k, HOMING_TOKEN_CLICK, msg, 0, 7, &b), 0);
    pre = "http://h:8080/c/";
    assert_int_equal(strncmp(b.data + start, pre, strlen(pre)), 0);
    assert_int_equal(b.len - start, strlen(pre) + HOMING_TOKEN_LEN);
    check_token(k, b.data + start + strlen(pre), HOMING_TOKEN_CLICK, msg, 0, 7);

    homing_buf_reset(&b);
    assert_int_equal(homing_token_url("http://h", k, HOMING_TOKEN_DOCUMENT, msg, 1, 2, &b), 0);
    assert_int_equal(strncmp(b.data, "http://h/d/", 11), 0);

    /* Errors leave the buffer as it was. */
    size_t len = b.len;
    assert_int_equal(homing_token_url("http://h", k, HOMING_TOKEN_VERP, msg, 1, 0, &b), -EINVAL);
    assert_int_equal(homing_token_url("http://h", k, 99, msg, 1, 0, &b), -EINVAL);
    assert_int_equal(b.len, len);
    struct homing_buf small;
    homing_buf_init(&small, 20);
    assert_int_equal(homing_buf_puts(&small, "keep"), 0);
    assert_int_equal(homing_token_url("http://h", k, HOMING_TOKEN_OPEN, msg, 1, 0, &small), -E2BIG);
    assert_string_equal(small.data, "keep");
    assert_int_equal(small.len, 4);
    homing_buf_free(&small);

    homing_buf_free(&b);
    homing_keyring_free(k);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
