/*
 * document.c: encryption at rest of shared documents (homing/document.h).
 *
 * Contract: see the header. The file key is derived per file name, so the
 * documents directory can only be read with the key file, and one document's
 * file cannot stand in for another's. The stored digest is keyed (a copy of
 * the database cannot test guesses); the uploader also gets the plain one, to
 * check a download with any BLAKE2b tool.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "homing/document.h"
#include "homing/util.h"

#define DOC_MAGIC     "HOMINGD1"
#define DOC_MAGIC_LEN 8
#define DOC_KDF_LABEL "homing document file v1:"

_Static_assert(crypto_secretstream_xchacha20poly1305_HEADERBYTES == 24, "header size");
_Static_assert(crypto_secretstream_xchacha20poly1305_ABYTES == 17, "chunk overhead");

struct homing_doc_reader {
    int fd;
    int done;
    crypto_secretstream_xchacha20poly1305_state st;
    uint8_t sealed[HOMING_DOC_SEALED_CHUNK];
};

void homing_doc_file_name(char out[HOMING_DOC_FILE_MAX])
{
    uint8_t r[16];
    randombytes_buf(r, sizeof r);
    memcpy(out, "d-", 2);
    homing_hex_encode(r, sizeof r, out + 2);
    memcpy(out + 34, ".enc", 5);
}

static void file_key(const uint8_t key[HOMING_DOC_KEY_LEN], const char *file_name,
                     uint8_t out[crypto_secretstream_xchacha20poly1305_KEYBYTES])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, key, HOMING_DOC_KEY_LEN,
                            crypto_secretstream_xchacha20poly1305_KEYBYTES);
    crypto_generichash_update(&h, (const uint8_t *)DOC_KDF_LABEL, strlen(DOC_KDF_LABEL));
    crypto_generichash_update(&h, (const uint8_t *)file_name, strlen(file_name));
    crypto_generichash_final(&h, out, crypto_secretstream_xchacha20poly1305_KEYBYTES);
}

/* Reads up to n bytes, retrying short reads: the result is short only at EOF. */
static ssize_t read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -EIO;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno == ENOSPC ? -ENOSPC : -EIO;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int homing_doc_encrypt(const uint8_t key[HOMING_DOC_KEY_LEN],
                       const uint8_t digest_key[HOMING_DOC_KEY_LEN], const char *file_name,
                       int in_fd, int out_fd, uint64_t *size_out,
                       uint8_t digest[HOMING_DOC_DIGEST_LEN],
                       uint8_t plain_out[HOMING_DOC_DIGEST_LEN])
{
    if (!key || !digest_key || !file_name || in_fd < 0 || out_fd < 0 || !size_out || !digest)
        return -EINVAL;
    if (sodium_init() < 0) return -EIO;
    uint8_t k[crypto_secretstream_xchacha20poly1305_KEYBYTES];
    uint8_t hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    crypto_secretstream_xchacha20poly1305_state st;
    file_key(key, file_name, k);
    crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, k);
    sodium_memzero(k, sizeof k);

    uint8_t *plain = malloc(HOMING_DOC_CHUNK), *sealed = malloc(HOMING_DOC_SEALED_CHUNK);
    int r = plain && sealed ? 0 : -ENOMEM;
    crypto_generichash_state h, hp;
    crypto_generichash_init(&h, digest_key, HOMING_DOC_KEY_LEN, HOMING_DOC_DIGEST_LEN);
    crypto_generichash_init(&hp, NULL, 0, HOMING_DOC_DIGEST_LEN);
    uint64_t total = 0;
    if (r == 0) r = write_full(out_fd, (const uint8_t *)DOC_MAGIC, DOC_MAGIC_LEN);
    if (r == 0) r = write_full(out_fd, hdr, sizeof hdr);
    /* Read one chunk ahead so the last chunk (possibly empty) gets FINAL. */
    ssize_t n = r == 0 ? read_full(in_fd, plain, HOMING_DOC_CHUNK) : 0;
    if (n < 0) r = (int)n;
    while (r == 0) {
        total += (uint64_t)n;
        if (total > HOMING_DOC_SIZE_MAX) {
            r = -EFBIG;
            break;
        }
        crypto_generichash_update(&h, plain, (size_t)n);
        crypto_generichash_update(&hp, plain, (size_t)n);
        int final = (size_t)n < HOMING_DOC_CHUNK;
        uint8_t *next = NULL;
        ssize_t m = 0;
        if (!final) {
            /* A full chunk may be the last: look ahead before sealing it. */
            next = malloc(HOMING_DOC_CHUNK);
            if (!next) {
                r = -ENOMEM;
                break;
            }
            m = read_full(in_fd, next, HOMING_DOC_CHUNK);
            if (m < 0) {
                free(next);
                r = (int)m;
                break;
            }
            if (m == 0) final = 1;
        }
        unsigned long long clen;
        crypto_secretstream_xchacha20poly1305_push(
            &st, sealed, &clen, plain, (unsigned long long)n, NULL, 0,
            final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
        r = write_full(out_fd, sealed, (size_t)clen);
        if (final || r < 0) {
            free(next);
            break;
        }
        free(plain);
        plain = next;
        n = m;
    }
    uint8_t d[HOMING_DOC_DIGEST_LEN], dp[HOMING_DOC_DIGEST_LEN];
    crypto_generichash_final(&h, d, sizeof d);
    crypto_generichash_final(&hp, dp, sizeof dp);
    sodium_memzero(&st, sizeof st);
    if (plain) sodium_memzero(plain, HOMING_DOC_CHUNK);
    free(plain);
    free(sealed);
    if (r < 0) return r;
    *size_out = total;
    memcpy(digest, d, sizeof d);
    if (plain_out) memcpy(plain_out, dp, sizeof dp);
    return 0;
}

int homing_doc_digest_fd(const uint8_t digest_key[HOMING_DOC_KEY_LEN], int fd,
                         uint8_t digest[HOMING_DOC_DIGEST_LEN])
{
    if (!digest_key || fd < 0 || !digest) return -EINVAL;
    if (sodium_init() < 0) return -EIO;
    uint8_t *buf = malloc(HOMING_DOC_CHUNK);
    if (!buf) return -ENOMEM;
    crypto_generichash_state h;
    crypto_generichash_init(&h, digest_key, HOMING_DOC_KEY_LEN, HOMING_DOC_DIGEST_LEN);
    uint64_t total = 0;
    int r = 0;
    for (;;) {
        ssize_t n = read_full(fd, buf, HOMING_DOC_CHUNK);
        if (n < 0) {
            r = (int)n;
            break;
        }
        total += (uint64_t)n;
        if (total > HOMING_DOC_SIZE_MAX) {
            r = -EFBIG;
            break;
        }
        crypto_generichash_update(&h, buf, (size_t)n);
        if ((size_t)n < HOMING_DOC_CHUNK) break;
    }
    free(buf);
    if (r < 0) return r;
    crypto_generichash_final(&h, digest, HOMING_DOC_DIGEST_LEN);
    return 0;
}

int homing_doc_digest_sealed(const uint8_t key[HOMING_DOC_KEY_LEN],
                             const uint8_t digest_key[HOMING_DOC_KEY_LEN], const char *file_name,
                             int fd, uint8_t digest[HOMING_DOC_DIGEST_LEN])
{
    if (!key || !digest_key || !file_name || fd < 0 || !digest) return -EINVAL;
    struct homing_doc_reader *rd;
    int r = homing_doc_reader_open(key, file_name, fd, &rd);
    if (r < 0) return r;
    uint8_t *buf = malloc(HOMING_DOC_CHUNK);
    if (!buf) {
        homing_doc_reader_free(rd);
        return -ENOMEM;
    }
    crypto_generichash_state h;
    crypto_generichash_init(&h, digest_key, HOMING_DOC_KEY_LEN, HOMING_DOC_DIGEST_LEN);
    int final = 0;
    while (!final) {
        size_t n = 0;
        if ((r = homing_doc_reader_next(rd, buf, &n, &final)) < 0) break;
        crypto_generichash_update(&h, buf, n);
    }
    sodium_memzero(buf, HOMING_DOC_CHUNK);
    free(buf);
    homing_doc_reader_free(rd);
    if (r < 0) return r;
    crypto_generichash_final(&h, digest, HOMING_DOC_DIGEST_LEN);
    return 0;
}

int homing_doc_reader_open(const uint8_t key[HOMING_DOC_KEY_LEN], const char *file_name, int fd,
                           struct homing_doc_reader **out)
{
    if (!key || !file_name || fd < 0 || !out) return -EINVAL;
    if (sodium_init() < 0) return -EIO;
    uint8_t head[HOMING_DOC_HEADER_LEN];
    ssize_t n = read_full(fd, head, sizeof head);
    if (n < 0) return (int)n;
    if ((size_t)n != sizeof head || memcmp(head, DOC_MAGIC, DOC_MAGIC_LEN) != 0) return -EBADMSG;
    struct homing_doc_reader *r = malloc(sizeof *r);
    if (!r) return -ENOMEM;
    uint8_t k[crypto_secretstream_xchacha20poly1305_KEYBYTES];
    file_key(key, file_name, k);
    int rc = crypto_secretstream_xchacha20poly1305_init_pull(&r->st, head + DOC_MAGIC_LEN, k);
    sodium_memzero(k, sizeof k);
    if (rc != 0) {
        free(r);
        return -EBADMSG;
    }
    r->fd = fd;
    r->done = 0;
    *out = r;
    return 0;
}

int homing_doc_reader_next(struct homing_doc_reader *r, uint8_t *out, size_t *n, int *final)
{
    if (!r || !out || !n || !final) return -EINVAL;
    if (r->done) return -EINVAL;
    ssize_t got = read_full(r->fd, r->sealed, sizeof r->sealed);
    if (got < 0) return (int)got;
    if ((size_t)got < crypto_secretstream_xchacha20poly1305_ABYTES) return -EBADMSG;
    unsigned long long plen;
    unsigned char tag;
    if (crypto_secretstream_xchacha20poly1305_pull(&r->st, out, &plen, &tag, r->sealed,
                                                   (unsigned long long)got, NULL, 0) != 0)
        return -EBADMSG;
    int fin = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    /* A full sealed chunk without FINAL must be followed by more; a short one
     * must be the final one, or the file was cut. */
    if (!fin && (size_t)got < sizeof r->sealed) return -EBADMSG;
    if (fin) {
        uint8_t extra;
        if (read_full(r->fd, &extra, 1) != 0) return -EBADMSG; /* bytes after FINAL */
        r->done = 1;
    }
    *n = (size_t)plen;
    *final = fin;
    return 0;
}

void homing_doc_reader_free(struct homing_doc_reader *r)
{
    if (!r) return;
    sodium_memzero(r, sizeof *r);
    free(r);
}

int homing_doc_disposition(const char *name, char *out, size_t cap)
{
    if (!name || !out || cap == 0) return -EINVAL;
    struct homing_buf b;
    homing_buf_init(&b, cap - 1);
    int plain = 1;
    int r = homing_buf_puts(&b, "attachment; filename=\"");
    for (const unsigned char *p = (const unsigned char *)name; *p && r == 0; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            r = homing_buf_append(&b, esc, 2);
        } else if (*p < 0x20 || *p >= 0x7f) {
            plain = 0;
            r = homing_buf_append(&b, "_", 1);
        } else {
            r = homing_buf_append(&b, p, 1);
        }
    }
    if (r == 0) r = homing_buf_puts(&b, "\"");
    if (r == 0 && !plain) {
        /* RFC 8187 ext-value: attr-char stays, everything else percent-encoded. */
        static const char keep[] = "!#$&+-.^_`|~";
        r = homing_buf_puts(&b, "; filename*=UTF-8''");
        for (const unsigned char *p = (const unsigned char *)name; *p && r == 0; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr(keep, *p))
                r = homing_buf_append(&b, p, 1);
            else
                r = homing_buf_printf(&b, "%%%02X", *p);
        }
    }
    if (r < 0) {
        homing_buf_free(&b);
        out[0] = '\0';
        return r == -E2BIG ? -ENOSPC : r;
    }
    memcpy(out, b.data, b.len + 1);
    homing_buf_free(&b);
    return 0;
}

static int restricted_name(const char *s, size_t n)
{
    static const char extra[] = "!#$&-^_.+";
    if (n == 0 || n > 127) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || !strchr(extra, c))) return 0;
    }
    return 1;
}

int homing_doc_media_type_ok(const char *s)
{
    if (!s) return 0;
    const char *slash = strchr(s, '/');
    if (!slash || strlen(s) > HOMING_DOC_TYPE_MAX) return 0;
    return restricted_name(s, (size_t)(slash - s)) && restricted_name(slash + 1, strlen(slash + 1));
}
