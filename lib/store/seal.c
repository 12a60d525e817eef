/*
 * seal.c: the seal codec of homing/seal.h: the data key file, sealing and
 * opening one value, and sealing every address inside a text.
 *
 * Contract: a value seals to the same text every time under one key (the
 * nonce is synthetic: L(normalised) || S(exact), see homing/seal.h), opening
 * checks the Poly1305 tag, so a changed byte or another key is -EBADMSG, never
 * a wrong value. Nothing here logs or exits; outputs are written only on
 * success.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "homing/seal.h"
#include "homing/util.h"

#define SEAL_CONTEXT     "homseal1"
#define SEAL_L_LEN       9  /* the lookup part of the IV */
#define SEAL_L_CHARS     15 /* ... as lower-case base32 */
#define SEAL_S_LEN       3
#define SEAL_IV_LEN      (SEAL_L_LEN + SEAL_S_LEN)
#define SEAL_FILE_MAX    4096
#define SEAL_BIN_MAX     (SEAL_S_LEN + 1 + HOMING_SEAL_VALUE_MAX)
#define SEAL_B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

struct homing_seal {
    uint8_t lookup[32]; /* L: keyed BLAKE2b of the lower-cased value */
    uint8_t siv[32];    /* S: keyed BLAKE2b of the exact value */
    uint8_t enc[32];    /* XChaCha20-Poly1305 */
    char id[HOMING_SEAL_ID_LEN + 1];
};

static int seal_init(void)
{
    return sodium_init() < 0 ? -EIO : 0;
}

int homing_seal_new(const uint8_t key[HOMING_SEAL_KEY_LEN], struct homing_seal **out)
{
    if (!key || !out) return -EINVAL;
    if (seal_init() < 0) return -EIO;
    struct homing_seal *k = sodium_malloc(sizeof *k);
    if (!k) return -ENOMEM;
    crypto_kdf_derive_from_key(k->lookup, sizeof k->lookup, 1, SEAL_CONTEXT, key);
    crypto_kdf_derive_from_key(k->siv, sizeof k->siv, 2, SEAL_CONTEXT, key);
    crypto_kdf_derive_from_key(k->enc, sizeof k->enc, 3, SEAL_CONTEXT, key);
    uint8_t idk[32], id[HOMING_SEAL_ID_LEN / 2];
    crypto_kdf_derive_from_key(idk, sizeof idk, 4, SEAL_CONTEXT, key);
    crypto_generichash(id, sizeof id, (const uint8_t *)"homing data key id", 18, idk, sizeof idk);
    sodium_bin2hex(k->id, sizeof k->id, id, sizeof id);
    sodium_memzero(idk, sizeof idk);
    *out = k;
    return 0;
}

void homing_seal_free(struct homing_seal *k)
{
    if (k) sodium_free(k);
}

const char *homing_seal_id(const struct homing_seal *k)
{
    return k->id;
}

static int seal_fail(char *err, size_t errcap, int r, const char *path, const char *why)
{
    if (err && errcap) snprintf(err, errcap, "%s: %s", path, why);
    return r;
}

/* Writes a fresh key to path (O_EXCL: an existing key is never replaced). */
static int seal_create(const char *path, uint8_t key[HOMING_SEAL_KEY_LEN])
{
    randombytes_buf(key, HOMING_SEAL_KEY_LEN);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return -errno;
    char hex[2 * HOMING_SEAL_KEY_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, key, HOMING_SEAL_KEY_LEN);
    char text[512];
    int n = snprintf(text, sizeof text,
                     "# homing data key: seals recipient and client addresses in the store.\n"
                     "# Keep mode 0600 and back it up with the store: without it the\n"
                     "# addresses in the store and in its backups cannot be read.\n%s\n",
                     hex);
    sodium_memzero(hex, sizeof hex);
    int r = write(fd, text, (size_t)n) == n && fsync(fd) == 0 ? 0 : -EIO;
    sodium_memzero(text, sizeof text);
    if (close(fd) < 0 && r == 0) r = -EIO;
    if (r < 0) unlink(path);
    return r;
}

int homing_seal_load(const char *path, int create, struct homing_seal **out, int *created,
                     char *err, size_t errcap)
{
    if (!path || !out) return -EINVAL;
    if (seal_init() < 0) return seal_fail(err, errcap, -EIO, path, "libsodium failed to start");
    uint8_t key[HOMING_SEAL_KEY_LEN];
    int made = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        int r = seal_create(path, key);
        if (r == -EEXIST) {
            fd = open(path, O_RDONLY | O_CLOEXEC); /* another process made it first */
        } else if (r < 0) {
            return seal_fail(err, errcap, r, path, strerror(-r));
        } else {
            made = 1;
        }
    }
    if (!made) {
        if (fd < 0) return seal_fail(err, errcap, -errno, path, strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
            close(fd);
            return seal_fail(err, errcap, -EPERM, path,
                             "readable by group or others: chmod 600 it (it is a secret)");
        }
        char text[SEAL_FILE_MAX];
        ssize_t n = read(fd, text, sizeof text - 1);
        close(fd);
        if (n < 0) return seal_fail(err, errcap, -EIO, path, "cannot be read");
        text[n] = '\0';
        int ok = 0;
        for (char *line = text, *next; line && *line; line = next) {
            next = strchr(line, '\n');
            if (next) *next++ = '\0';
            if (line[0] == '#' || line[0] == '\0') continue;
            size_t got = 0;
            ok = strlen(line) == 2 * HOMING_SEAL_KEY_LEN &&
                 sodium_hex2bin(key, sizeof key, line, strlen(line), NULL, &got, NULL) == 0 &&
                 got == sizeof key;
            break;
        }
        sodium_memzero(text, sizeof text);
        if (!ok) return seal_fail(err, errcap, -EINVAL, path, "no key (64 hex digits) in it");
    }
    struct homing_seal *k;
    int r = homing_seal_new(key, &k);
    sodium_memzero(key, sizeof key);
    if (r < 0) return seal_fail(err, errcap, r, path, "out of memory");
    *out = k;
    if (created) *created = made;
    return 0;
}

int homing_seal_is(const char *v, size_t n)
{
    return v && n >= HOMING_SEAL_PREFIX_LEN &&
           memcmp(v, HOMING_SEAL_PREFIX, HOMING_SEAL_PREFIX_LEN) == 0;
}

/* L: the keyed hash of the ASCII-lower-cased value. */
static void seal_l(const struct homing_seal *k, const char *v, size_t n, uint8_t l[SEAL_L_LEN])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, k->lookup, sizeof k->lookup, SEAL_L_LEN);
    uint8_t chunk[256];
    for (size_t i = 0; i < n;) {
        size_t m = 0;
        for (; m < sizeof chunk && i < n; m++, i++)
            chunk[m] = (uint8_t)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
        crypto_generichash_update(&st, chunk, m);
    }
    crypto_generichash_final(&st, l, SEAL_L_LEN);
}

/* S: the keyed hash of the exact value. */
static void seal_s(const struct homing_seal *k, const char *v, size_t n, uint8_t s[SEAL_S_LEN])
{
    crypto_generichash(s, SEAL_S_LEN, (const uint8_t *)v, n, k->siv, sizeof k->siv);
}

/* XChaCha20 of n bytes under the IV (zero-padded to the 24-byte nonce). */
static void seal_xor(const struct homing_seal *k, const uint8_t iv[SEAL_IV_LEN], uint8_t *out,
                     const uint8_t *in, size_t n)
{
    uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES] = {0};
    memcpy(nonce, iv, SEAL_IV_LEN);
    crypto_stream_xchacha20_xor(out, in, n, nonce, k->enc);
}

static const char seal_b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* L's 9 bytes as 15 base32 characters, lower case: lower() in SQL leaves the
 * lookup prefix as it is, so forget's case-blind search still finds it. */
static void seal_l_text(const uint8_t l[SEAL_L_LEN], char out[SEAL_L_CHARS])
{
    unsigned acc = 0, bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < SEAL_L_LEN; i++) {
        acc = (acc << 8) | l[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = seal_b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits) out[o++] = seal_b32[(acc << (5 - bits)) & 31];
}

static int seal_l_parse(const char *in, uint8_t l[SEAL_L_LEN])
{
    unsigned acc = 0, bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < SEAL_L_CHARS; i++) {
        const char *p = in[i] ? strchr(seal_b32, in[i]) : NULL;
        if (!p) return -EBADMSG;
        acc = (acc << 5) | (unsigned)(p - seal_b32);
        bits += 5;
        if (bits >= 8) {
            l[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return 0;
}

void homing_seal_lookup(const struct homing_seal *k, const char *v, size_t n,
                        char out[HOMING_SEAL_LOOKUP_LEN + 1])
{
    uint8_t l[SEAL_L_LEN];
    seal_l(k, v, n, l);
    memcpy(out, HOMING_SEAL_PREFIX, HOMING_SEAL_PREFIX_LEN);
    seal_l_text(l, out + HOMING_SEAL_PREFIX_LEN);
    out[HOMING_SEAL_LOOKUP_LEN] = '\0';
}

/* Seals text v (n bytes) whose plaintext is body (m bytes: 't' and the text,
 * or an address's 4 or 16 bytes). */
static int seal_encode(const struct homing_seal *k, const char *v, size_t n, const uint8_t *body,
                       size_t m, char *out, size_t cap)
{
    size_t len = HOMING_SEAL_PREFIX_LEN + SEAL_L_CHARS + ((SEAL_S_LEN + m) * 4 + 2) / 3;
    if (cap < len + 1) return -ENOSPC;
    uint8_t iv[SEAL_IV_LEN], bin[SEAL_BIN_MAX];
    seal_l(k, v, n, iv);
    seal_s(k, v, n, iv + SEAL_L_LEN);
    memcpy(bin, iv + SEAL_L_LEN, SEAL_S_LEN);
    seal_xor(k, iv, bin + SEAL_S_LEN, body, m);
    memcpy(out, HOMING_SEAL_PREFIX, HOMING_SEAL_PREFIX_LEN);
    seal_l_text(iv, out + HOMING_SEAL_PREFIX_LEN);
    sodium_bin2base64(out + HOMING_SEAL_PREFIX_LEN + SEAL_L_CHARS,
                      cap - HOMING_SEAL_PREFIX_LEN - SEAL_L_CHARS, bin, SEAL_S_LEN + m,
                      SEAL_B64_VARIANT);
    return (int)len;
}

int homing_seal_value(const struct homing_seal *k, const char *v, size_t n, char *out, size_t cap)
{
    if (n > HOMING_SEAL_VALUE_MAX) return -E2BIG;
    uint8_t body[1 + HOMING_SEAL_VALUE_MAX];
    body[0] = 't';
    memcpy(body + 1, v, n);
    int r = seal_encode(k, v, n, body, 1 + n, out, cap);
    sodium_memzero(body, 1 + n);
    return r;
}

int homing_seal_client(const struct homing_seal *k, const char *v, char *out, size_t cap)
{
    size_t n = strlen(v);
    uint8_t b[16];
    char canon[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, v, b) == 1 && inet_ntop(AF_INET, b, canon, sizeof canon) &&
        strcmp(canon, v) == 0)
        return seal_encode(k, v, n, b, 4, out, cap);
    if (inet_pton(AF_INET6, v, b) == 1 && inet_ntop(AF_INET6, b, canon, sizeof canon) &&
        strcmp(canon, v) == 0)
        return seal_encode(k, v, n, b, 16, out, cap);
    return homing_seal_value(k, v, n, out, cap);
}

/* 1 when text (n bytes) is what iv was made from. */
static int seal_check(const struct homing_seal *k, const char *text, size_t n,
                      const uint8_t iv[SEAL_IV_LEN])
{
    uint8_t check[SEAL_IV_LEN];
    seal_l(k, text, n, check);
    seal_s(k, text, n, check + SEAL_L_LEN);
    return sodium_memcmp(check, iv, SEAL_IV_LEN) == 0;
}

int homing_seal_open(const struct homing_seal *k, const char *v, size_t n, char *out, size_t cap)
{
    if (!homing_seal_is(v, n)) return -EINVAL;
    uint8_t iv[SEAL_IV_LEN], bin[SEAL_BIN_MAX];
    size_t blen;
    const char *b64 = v + HOMING_SEAL_PREFIX_LEN + SEAL_L_CHARS;
    if (n < HOMING_SEAL_PREFIX_LEN + SEAL_L_CHARS ||
        seal_l_parse(v + HOMING_SEAL_PREFIX_LEN, iv) < 0 ||
        (size_t)(v + n - b64) > (SEAL_BIN_MAX * 4 + 2) / 3 ||
        sodium_base642bin(bin, sizeof bin, b64, (size_t)(v + n - b64), NULL, &blen, NULL,
                          SEAL_B64_VARIANT) != 0 ||
        blen < SEAL_S_LEN + 1)
        return -EBADMSG;
    memcpy(iv + SEAL_L_LEN, bin, SEAL_S_LEN);
    /* Only the canonical text of these bytes (the spare bits of the last
     * base32 and base64 characters zero): one value, one sealed text. */
    char canon[HOMING_SEAL_LEN(HOMING_SEAL_VALUE_MAX) + 1];
    seal_l_text(iv, canon);
    sodium_bin2base64(canon + SEAL_L_CHARS, sizeof canon - SEAL_L_CHARS, bin, blen,
                      SEAL_B64_VARIANT);
    if (strlen(canon) != n - HOMING_SEAL_PREFIX_LEN ||
        memcmp(canon, v + HOMING_SEAL_PREFIX_LEN, n - HOMING_SEAL_PREFIX_LEN) != 0)
        return -EBADMSG;
    uint8_t plain[1 + HOMING_SEAL_VALUE_MAX];
    size_t m = blen - SEAL_S_LEN;
    seal_xor(k, iv, plain, bin + SEAL_S_LEN, m);
    /* The plaintext does not say what it is: the candidate whose IV checks
     * is (an address's bytes, else text). */
    char text[HOMING_SEAL_VALUE_MAX + 1];
    size_t tlen = 0;
    int ok = 0;
    if ((m == 4 || m == 16) && inet_ntop(m == 4 ? AF_INET : AF_INET6, plain, text, sizeof text)) {
        tlen = strlen(text);
        ok = seal_check(k, text, tlen, iv);
    }
    if (!ok && plain[0] == 't') {
        tlen = m - 1;
        memcpy(text, plain + 1, tlen);
        ok = seal_check(k, text, tlen, iv);
    }
    sodium_memzero(plain, m);
    int r = !ok ? -EBADMSG : cap < tlen + 1 ? -ENOSPC : (int)tlen;
    if (r >= 0) {
        memcpy(out, text, tlen);
        out[tlen] = '\0';
    }
    sodium_memzero(text, tlen);
    return r;
}

/* atext (RFC 5322) and '.': what a local part is made of. */
static int local_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

/* A domain's characters; '_' too, so that no base64url character follows a
 * sealed address and the opener finds where it ends. */
static int domain_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

static int b64_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* The address around the '@' at in[at]: [*b, *e), or 0 if there is none. Its
 * local part starts at floor at the earliest (the end of the address sealed
 * before it: a sealed value's base64 is never taken for a local part). */
static int text_address(const char *in, size_t n, size_t at, size_t floor, size_t *b, size_t *e)
{
    size_t s = at;
    while (s > floor && local_char((unsigned char)in[s - 1])) s--;
    /* '@' too: "a@b@c" is one run, so no '@' is left beside a sealed value
     * (sealing again would take its base64 for a local part) */
    size_t t = at + 1;
    while (t < n && (domain_char((unsigned char)in[t]) || in[t] == '@')) t++;
    while (t > at + 1 && in[t - 1] == '.') t--;
    if (s == at || t == at + 1 || t - s > HOMING_SEAL_VALUE_MAX) return 0;
    *b = s;
    *e = t;
    return 1;
}

/* Hands buf's text to the caller (always a string, "" when empty). */
static int seal_buf_out(struct homing_buf *buf, int r, char **out, size_t *out_len)
{
    if (r < 0) {
        homing_buf_free(buf);
        return r;
    }
    size_t len = buf->len;
    char *t = buf->data ? homing_buf_steal(buf) : strdup("");
    if (!t) return -ENOMEM;
    *out = t;
    if (out_len) *out_len = len;
    return 0;
}

int homing_seal_text_pending(const char *in, size_t n)
{
    size_t b, e;
    for (const char *p = in; (p = memchr(p, '@', n - (size_t)(p - in))); p++)
        if (text_address(in, n, (size_t)(p - in), 0, &b, &e)) return 1;
    return 0;
}

/* Seals (refs: replaces by its lookup prefix) every address of in. */
static int seal_text(const struct homing_seal *k, const char *in, size_t n, int refs, char **out,
                     size_t *out_len)
{
    struct homing_buf buf;
    homing_buf_init(&buf, SIZE_MAX / 2);
    size_t done = 0;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        size_t b, e;
        if (in[i] != '@' || !text_address(in, n, i, done, &b, &e)) continue;
        char tok[HOMING_SEAL_LEN(HOMING_SEAL_VALUE_MAX) + 1];
        int len = HOMING_SEAL_LOOKUP_LEN;
        if (refs)
            homing_seal_lookup(k, in + b, e - b, tok);
        else
            len = homing_seal_value(k, in + b, e - b, tok, sizeof tok);
        if (len < 0) {
            r = len;
            break;
        }
        if ((r = homing_buf_append(&buf, in + done, b - done)) == 0)
            r = homing_buf_append(&buf, tok, (size_t)len);
        done = e;
        i = e - 1;
    }
    if (r == 0) r = homing_buf_append(&buf, in + done, n - done);
    return seal_buf_out(&buf, r, out, out_len);
}

int homing_seal_text(const struct homing_seal *k, const char *in, size_t n, char **out,
                     size_t *out_len)
{
    return seal_text(k, in, n, 0, out, out_len);
}

int homing_seal_text_refs(const struct homing_seal *k, const char *in, size_t n, char **out,
                          size_t *out_len)
{
    return seal_text(k, in, n, 1, out, out_len);
}

int homing_seal_open_text(const struct homing_seal *k, const char *in, size_t n, int strict,
                          char **out, size_t *out_len)
{
    struct homing_buf buf;
    homing_buf_init(&buf, SIZE_MAX / 2);
    size_t done = 0, i = 0;
    int r = 0;
    while (r == 0 && i + HOMING_SEAL_PREFIX_LEN <= n) {
        const char *p = memmem(in + i, n - i, HOMING_SEAL_PREFIX, HOMING_SEAL_PREFIX_LEN);
        if (!p) break;
        size_t b = (size_t)(p - in), e = b + HOMING_SEAL_PREFIX_LEN;
        while (e < n && b64_char((unsigned char)in[e])) e++;
        char plain[HOMING_SEAL_VALUE_MAX + 1];
        int len = homing_seal_open(k, in + b, e - b, plain, sizeof plain);
        if (len < 0) {
            if (strict) r = len == -EINVAL ? -EBADMSG : len;
            i = b + 1;
            continue;
        }
        if ((r = homing_buf_append(&buf, in + done, b - done)) == 0)
            r = homing_buf_append(&buf, plain, (size_t)len);
        sodium_memzero(plain, (size_t)len);
        done = i = e;
    }
    if (r == 0) r = homing_buf_append(&buf, in + done, n - done);
    return seal_buf_out(&buf, r, out, out_len);
}
