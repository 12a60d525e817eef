/*
 * test_document.c: lib/document/document.c. Encryption round trips at the chunk
 * boundaries (empty, one byte, exactly one chunk, one more, several chunks),
 * the digest and size, and refusal (-EBADMSG) of every kind of damage: a
 * flipped byte, a cut file, bytes after the final chunk, a dropped chunk, the
 * wrong key, the wrong file name (a file moved under another document's name),
 * a bad magic. Also the Content-Disposition escaping and media type checks.
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

#include <sodium.h>

#include "homing/document.h"

static const uint8_t key[HOMING_DOC_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

/* A memory file: fd of a temporary file holding n bytes of p. */
static int memfd(const uint8_t *p, size_t n)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    int fd = dup(fileno(f));
    fclose(f);
    assert_true(fd >= 0);
    if (n) assert_int_equal(write(fd, p, n), (ssize_t)n);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static uint8_t *slurp(int fd, size_t *n)
{
    off_t len = lseek(fd, 0, SEEK_END);
    uint8_t *b = malloc((size_t)len + 1);
    assert_non_null(b);
    assert_int_equal(pread(fd, b, (size_t)len, 0), len);
    *n = (size_t)len;
    return b;
}

static uint8_t *seal(const uint8_t *plain, size_t n, const char *name, size_t *out_n)
{
    int in = memfd(plain, n), out = memfd(NULL, 0);
    uint64_t size;
    uint8_t digest[HOMING_DOC_DIGEST_LEN], want[HOMING_DOC_DIGEST_LEN];
    assert_int_equal(homing_doc_encrypt(key, name, in, out, &size, digest), 0);
    assert_true(size == n);
    crypto_generichash(want, sizeof want, plain, n, NULL, 0);
    assert_memory_equal(digest, want, sizeof want);
    uint8_t *b = slurp(out, out_n);
    close(in);
    close(out);
    return b;
}

/* Decrypts sealed bytes: 0 and the plaintext, or the first error. */
static int open_all(const uint8_t *sealed, size_t n, const uint8_t *k, const char *name,
                    uint8_t **plain, size_t *plain_n)
{
    int fd = memfd(sealed, n);
    struct homing_doc_reader *r;
    int rc = homing_doc_reader_open(k, name, fd, &r);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    uint8_t *buf = malloc(HOMING_DOC_CHUNK), *all = NULL;
    size_t len = 0, got;
    int final = 0;
    while (!final) {
        if ((rc = homing_doc_reader_next(r, buf, &got, &final)) < 0) break;
        all = realloc(all, len + got + 1);
        memcpy(all + len, buf, got);
        len += got;
    }
    if (rc == 0) {
        assert_int_equal(homing_doc_reader_next(r, buf, &got, &final), -EINVAL);
    }
    homing_doc_reader_free(r);
    free(buf);
    close(fd);
    if (rc < 0) {
        free(all);
        return rc;
    }
    *plain = all;
    *plain_n = len;
    return 0;
}

static void test_round_trips(void **state)
{
    (void)state;
    const size_t sizes[] = {0,
                            1,
                            HOMING_DOC_CHUNK - 1,
                            HOMING_DOC_CHUNK,
                            HOMING_DOC_CHUNK + 1,
                            3 * HOMING_DOC_CHUNK + 12345};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i], sn, pn;
        uint8_t *plain = malloc(n + 1);
        randombytes_buf(plain, n);
        uint8_t *sealed = seal(plain, n, "d-a.enc", &sn);
        /* a full last chunk carries FINAL itself; an empty file is one empty chunk */
        size_t chunks = n ? (n + HOMING_DOC_CHUNK - 1) / HOMING_DOC_CHUNK : 1;
        assert_int_equal(sn, HOMING_DOC_HEADER_LEN + n + 17 * chunks);
        uint8_t *back = NULL;
        assert_int_equal(open_all(sealed, sn, key, "d-a.enc", &back, &pn), 0);
        assert_int_equal(pn, n);
        if (n) assert_memory_equal(back, plain, n);
        free(back);
        free(sealed);
        free(plain);
    }
}

static void test_damage_is_refused(void **state)
{
    (void)state;
    size_t n = 2 * HOMING_DOC_CHUNK + 100, sn, pn;
    uint8_t *plain = malloc(n), *back = NULL;
    randombytes_buf(plain, n);
    uint8_t *sealed = seal(plain, n, "d-b.enc", &sn);
    uint8_t other[HOMING_DOC_KEY_LEN] = {9};

    assert_int_equal(open_all(sealed, sn, other, "d-b.enc", &back, &pn), -EBADMSG);
    assert_int_equal(open_all(sealed, sn, key, "d-c.enc", &back, &pn), -EBADMSG);
    sealed[HOMING_DOC_HEADER_LEN + 70000] ^= 1; /* second chunk */
    assert_int_equal(open_all(sealed, sn, key, "d-b.enc", &back, &pn), -EBADMSG);
    sealed[HOMING_DOC_HEADER_LEN + 70000] ^= 1;
    assert_int_equal(open_all(sealed, sn - 1, key, "d-b.enc", &back, &pn), -EBADMSG);
    /* cut at a chunk boundary: the last chunk (FINAL) is missing */
    assert_int_equal(open_all(sealed, HOMING_DOC_HEADER_LEN + 2 * HOMING_DOC_SEALED_CHUNK, key,
                              "d-b.enc", &back, &pn),
                     -EBADMSG);
    /* a chunk dropped from the middle */
    uint8_t *dropped = malloc(sn);
    memcpy(dropped, sealed, HOMING_DOC_HEADER_LEN + HOMING_DOC_SEALED_CHUNK);
    memcpy(dropped + HOMING_DOC_HEADER_LEN + HOMING_DOC_SEALED_CHUNK,
           sealed + HOMING_DOC_HEADER_LEN + 2 * HOMING_DOC_SEALED_CHUNK,
           sn - HOMING_DOC_HEADER_LEN - 2 * HOMING_DOC_SEALED_CHUNK);
    assert_int_equal(open_all(dropped, sn - HOMING_DOC_SEALED_CHUNK, key, "d-b.enc", &back, &pn),
                     -EBADMSG);
    /* bytes after the final chunk */
    uint8_t *longer = malloc(sn + 1);
    memcpy(longer, sealed, sn);
    longer[sn] = 0;
    assert_int_equal(open_all(longer, sn + 1, key, "d-b.enc", &back, &pn), -EBADMSG);
    sealed[0] = 'X';
    assert_int_equal(open_all(sealed, sn, key, "d-b.enc", &back, &pn), -EBADMSG);
    assert_int_equal(open_all(sealed, 10, key, "d-b.enc", &back, &pn), -EBADMSG);
    free(longer);
    free(dropped);
    free(sealed);
    free(plain);
}

static void test_disposition(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(homing_doc_disposition("notice.pdf", out, sizeof out), 0);
    assert_string_equal(out, "attachment; filename=\"notice.pdf\"");
    assert_int_equal(homing_doc_disposition("a \"b\" \\c.pdf", out, sizeof out), 0);
    assert_string_equal(out, "attachment; filename=\"a \\\"b\\\" \\\\c.pdf\"");
    assert_int_equal(homing_doc_disposition("Bescheid \xc3\xa4.pdf\r\n", out, sizeof out), 0);
    assert_string_equal(out, "attachment; filename=\"Bescheid __.pdf__\"; "
                             "filename*=UTF-8''Bescheid%20%C3%A4.pdf%0D%0A");
    assert_int_equal(homing_doc_disposition("x.pdf", out, 10), -ENOSPC);
    assert_string_equal(out, "");
}

static void test_media_type(void **state)
{
    (void)state;
    assert_true(homing_doc_media_type_ok("application/pdf"));
    assert_true(homing_doc_media_type_ok(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"));
    assert_false(homing_doc_media_type_ok("text/html; charset=utf-8"));
    assert_false(homing_doc_media_type_ok("application"));
    assert_false(homing_doc_media_type_ok("/pdf"));
    assert_false(homing_doc_media_type_ok("text/"));
    assert_false(homing_doc_media_type_ok("text/ht\r\nml"));
}

static void test_file_name(void **state)
{
    (void)state;
    char a[HOMING_DOC_FILE_MAX], b[HOMING_DOC_FILE_MAX];
    homing_doc_file_name(a);
    homing_doc_file_name(b);
    assert_int_equal(strlen(a), 38);
    assert_true(strncmp(a, "d-", 2) == 0 && strcmp(a + 34, ".enc") == 0);
    assert_string_not_equal(a, b);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips), cmocka_unit_test(test_damage_is_refused),
        cmocka_unit_test(test_disposition), cmocka_unit_test(test_media_type),
        cmocka_unit_test(test_file_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
