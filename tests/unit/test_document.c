/*
 * test_document.c: lib/document/document.c. Encryption round trips at the chunk
 * boundaries (empty, one byte, exactly one chunk, one more, several chunks),
 * the digest and size, and refusal (-EBADMSG) of every kind of damage: a
 * flipped byte, a cut file, bytes after the final chunk, a dropped chunk, the
 * wrong key, the wrong file name (a file moved under another document's name),
 * a bad magic. Also the Content-Disposition escaping and media type checks.
 * The stored digest is BLAKE2b-256 keyed with the digest key, never the plain
 * hash (which only comes back for the uploader); two installs (two digest
 * keys) store different digests of one file; homing_doc_digests_upgrade keys
 * a row left unkeyed by a store from before migration 0009 and leaves a row
 * whose file is missing as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "homing/document.h"
#include "homing/store.h"
#include "homing/util.h"

static const uint8_t key[HOMING_DOC_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t dkey[HOMING_DOC_KEY_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1};

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
    uint8_t digest[HOMING_DOC_DIGEST_LEN], pd[HOMING_DOC_DIGEST_LEN], want[HOMING_DOC_DIGEST_LEN],
        unkeyed[HOMING_DOC_DIGEST_LEN];
    assert_int_equal(homing_doc_encrypt(key, dkey, name, in, out, &size, digest, pd), 0);
    assert_true(size == n);
    /* The stored digest is the keyed one, and not the plain hash anyone could
     * compute from a guess; the plain one comes back for the uploader. */
    crypto_generichash(want, sizeof want, plain, n, dkey, sizeof dkey);
    crypto_generichash(unkeyed, sizeof unkeyed, plain, n, NULL, 0);
    assert_memory_equal(digest, want, sizeof want);
    assert_memory_not_equal(digest, unkeyed, sizeof unkeyed);
    assert_memory_equal(pd, unkeyed, sizeof unkeyed);
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

/* Another install (another key file, so another digest key) stores another
 * digest of the same file; the digest of a plaintext file and of a sealed
 * one agree with encrypt's. */
static void test_digest_keyed(void **state)
{
    (void)state;
    size_t n = 2 * HOMING_DOC_CHUNK + 7;
    uint8_t *plain = malloc(n);
    randombytes_buf(plain, n);
    uint8_t other[HOMING_DOC_KEY_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 2};
    uint8_t d1[HOMING_DOC_DIGEST_LEN], d2[HOMING_DOC_DIGEST_LEN], p1[HOMING_DOC_DIGEST_LEN],
        p2[HOMING_DOC_DIGEST_LEN], x[HOMING_DOC_DIGEST_LEN];
    uint64_t size;
    int in = memfd(plain, n), out = memfd(NULL, 0);
    assert_int_equal(homing_doc_encrypt(key, dkey, "d-c.enc", in, out, &size, d1, p1), 0);
    close(in);
    int in2 = memfd(plain, n), out2 = memfd(NULL, 0);
    assert_int_equal(homing_doc_encrypt(key, other, "d-c.enc", in2, out2, &size, d2, p2), 0);
    close(in2);
    close(out2);
    assert_memory_not_equal(d1, d2, sizeof d1);
    assert_memory_equal(p1, p2, sizeof p1); /* the plain digest is the file's alone */

    int pf = memfd(plain, n);
    assert_int_equal(homing_doc_digest_fd(dkey, pf, x), 0);
    assert_memory_equal(x, d1, sizeof x);
    close(pf);
    assert_int_equal(lseek(out, 0, SEEK_SET), 0);
    assert_int_equal(homing_doc_digest_sealed(key, dkey, "d-c.enc", out, x), 0);
    assert_memory_equal(x, d1, sizeof x);
    assert_int_equal(lseek(out, 0, SEEK_SET), 0);
    assert_int_equal(homing_doc_digest_sealed(key, dkey, "d-other.enc", out, x), -EBADMSG);
    close(out);
    free(plain);
}

/* A store from before migration 0009 holds the plain digest, marked unkeyed:
 * the upgrade decrypts the file and stores the keyed digest; a row whose file
 * is gone stays as it was, counted as failed; a second run finds nothing. */
static void test_digests_upgrade(void **state)
{
    (void)state;
    char dir[] = "/tmp/homing-test-docdigest-XXXXXX", db[128], path[160];
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/homing.db", dir);
    struct homing_store *s;
    char err[256];
    assert_int_equal(homing_store_open(db, NULL, "normal", &s, err, sizeof err), 0);

    static const uint8_t plain[] = "the notice of hearing";
    int in = memfd(plain, sizeof plain - 1);
    snprintf(path, sizeof path, "%s/d-old.enc", dir);
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(out >= 0);
    uint64_t size;
    uint8_t keyed[HOMING_DOC_DIGEST_LEN], unkeyed[HOMING_DOC_DIGEST_LEN];
    assert_int_equal(homing_doc_encrypt(key, dkey, "d-old.enc", in, out, &size, keyed, unkeyed), 0);
    close(in);
    close(out);
    /* the rows as the old code wrote them: the plain digest, digest_keyed 0 */
    struct homing_document d = {
        .name = "old", .media_type = "text/plain", .size = (int64_t)size, .file = "d-old.enc"};
    homing_hex_encode(unkeyed, sizeof unkeyed, d.digest);
    int64_t id_old, id_gone;
    assert_int_equal(homing_store_document_add(s, &d, &id_old), 0);
    d.name = "gone";
    d.file = "d-gone.enc";
    assert_int_equal(homing_store_document_add(s, &d, &id_gone), 0);

    size_t up = 99, failed = 99;
    assert_int_equal(homing_doc_digests_upgrade(s, key, dkey, dir, &up, &failed), 0);
    assert_int_equal(up, 1);
    assert_int_equal(failed, 1);
    char want[2 * HOMING_DOC_DIGEST_LEN + 1], plain_hex[2 * HOMING_DOC_DIGEST_LEN + 1];
    homing_hex_encode(keyed, sizeof keyed, want);
    homing_hex_encode(unkeyed, sizeof unkeyed, plain_hex);
    struct homing_document *got;
    assert_int_equal(homing_store_document_get(s, "old", &got), 0);
    assert_string_equal(got->digest, want);
    assert_int_equal(got->digest_keyed, 1);
    homing_documents_free(got, 1);
    assert_int_equal(homing_store_document_get(s, "gone", &got), 0);
    assert_string_equal(got->digest, plain_hex);
    assert_int_equal(got->digest_keyed, 0);
    homing_documents_free(got, 1);
    assert_int_equal(homing_doc_digests_upgrade(s, key, dkey, dir, &up, &failed), 0);
    assert_int_equal(up, 0);
    assert_int_equal(failed, 1);
    /* set_digest only ever rewrites an unkeyed row */
    assert_int_equal(homing_store_document_set_digest(s, id_old, plain_hex), -ENOENT);

    homing_store_close(s);
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", db, suffix[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/d-old.enc", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),     cmocka_unit_test(test_damage_is_refused),
        cmocka_unit_test(test_disposition),     cmocka_unit_test(test_media_type),
        cmocka_unit_test(test_file_name),       cmocka_unit_test(test_digest_keyed),
        cmocka_unit_test(test_digests_upgrade),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
