/*
 * keyring.c: the token key file.
 *
 * Format, one key per line (blank lines and # comments allowed):
 *   ID CREATED_US HEX64
 * ID is 1..65535 and strictly increasing; the last key signs. The file holds
 * secrets, so it is created 0600 and a group- or world-readable file is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "homing/util.h"
#include "keyring_int.h"

#define KEYFILE_LINE_MAX 256

const struct keyring_key *keyring_newest(const struct homing_keyring *k)
{
    return k && k->n ? &k->keys[k->n - 1] : NULL;
}

const struct keyring_key *keyring_find(const struct homing_keyring *k, uint16_t id)
{
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (k->keys[mid].id == id) return &k->keys[mid];
        if (k->keys[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void homing_keyring_free(struct homing_keyring *k)
{
    if (!k) return;
    if (k->keys) sodium_memzero(k->keys, k->n * sizeof *k->keys);
    free(k->keys);
    free(k);
}

size_t homing_keyring_count(const struct homing_keyring *k)
{
    return k->n;
}

int homing_keyring_info(const struct homing_keyring *k, size_t i, uint16_t *id, int64_t *created_us)
{
    if (i >= k->n) return -ERANGE;
    if (id) *id = k->keys[i].id;
    if (created_us) *created_us = k->keys[i].created_us;
    return 0;
}

int homing_keyring_doc_key(const struct homing_keyring *k, uint8_t out[32])
{
    const struct keyring_key *key = keyring_newest(k);
    if (!key) return -ENOKEY;
    /* Derived from the oldest key so that rotating token keys never makes stored
     * documents unreadable; the context keeps it apart from token MACs. */
    const struct keyring_key *first = &k->keys[0];
    return crypto_kdf_derive_from_key(out, 32, 1, "homingdc", first->secret) == 0 ? 0 : -EIO;
}

int homing_keyring_digest_key(const struct homing_keyring *k, uint8_t out[32])
{
    if (!keyring_newest(k)) return -ENOKEY;
    /* Same reasoning as the document key: the oldest key survives rotation. A
     * context of its own, so the digest key never equals the encryption key. */
    return crypto_kdf_derive_from_key(out, 32, 1, "homingdg", k->keys[0].secret) == 0 ? 0 : -EIO;
}

static int parse_line(char *line, struct keyring_key *key)
{
    char *save = NULL;
    char *f_id = strtok_r(line, " \t", &save);
    char *f_created = strtok_r(NULL, " \t", &save);
    char *f_hex = strtok_r(NULL, " \t\r\n", &save);
    if (!f_id || !f_created || !f_hex || strtok_r(NULL, " \t\r\n", &save)) return -EINVAL;
    char *end;
    long id = strtol(f_id, &end, 10);
    if (*end || id < 1 || id > 65535) return -EINVAL;
    long long created = strtoll(f_created, &end, 10);
    if (*end || created < 0) return -EINVAL;
    if (strlen(f_hex) != 2 * HOMING_TOKEN_KEY_LEN ||
        homing_hex_decode(f_hex, strlen(f_hex), key->secret, sizeof key->secret) !=
            HOMING_TOKEN_KEY_LEN)
        return -EINVAL;
    key->id = (uint16_t)id;
    key->created_us = created;
    keyring_key_prepare(key);
    return 0;
}

void keyring_key_prepare(struct keyring_key *key)
{
    uint8_t pad[SHA256_CBLOCK];
    memset(pad, 0x36, sizeof pad);
    for (size_t i = 0; i < sizeof key->secret; i++) pad[i] ^= key->secret[i];
    SHA256_Init(&key->hmac_inner);
    SHA256_Update(&key->hmac_inner, pad, sizeof pad);
    memset(pad, 0x5c, sizeof pad);
    for (size_t i = 0; i < sizeof key->secret; i++) pad[i] ^= key->secret[i];
    SHA256_Init(&key->hmac_outer);
    SHA256_Update(&key->hmac_outer, pad, sizeof pad);
    sodium_memzero(pad, sizeof pad);
}

int homing_keyring_load(const char *path, struct homing_keyring **out, char *err, size_t errcap)
{
    if (sodium_init() < 0) return -EIO;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (err) snprintf(err, errcap, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
        close(fd);
        if (err)
            snprintf(err, errcap, "%s: key file must not be readable by others (chmod 600)", path);
        return -EPERM;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return -ENOMEM;
    }
    struct homing_keyring *k = calloc(1, sizeof *k);
    if (!k) {
        fclose(f);
        return -ENOMEM;
    }
    char line[KEYFILE_LINE_MAX];
    int lineno = 0, r = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            r = -EINVAL;
            break;
        }
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0') continue;
        if (k->n >= HOMING_TOKEN_KEYS_MAX) {
            r = -E2BIG;
            break;
        }
        struct keyring_key *keys = realloc(k->keys, (k->n + 1) * sizeof *keys);
        if (!keys) {
            r = -ENOMEM;
            break;
        }
        k->keys = keys;
        if (parse_line(p, &k->keys[k->n]) < 0 ||
            (k->n && k->keys[k->n].id <= k->keys[k->n - 1].id)) {
            r = -EINVAL;
            break;
        }
        k->n++;
    }
    fclose(f);
    if (r == 0 && k->n == 0) r = -ENOKEY;
    if (r < 0) {
        if (err) {
            if (r == -ENOKEY)
                snprintf(err, errcap, "%s: no keys", path);
            else
                snprintf(err, errcap, "%s:%d: malformed key line", path, lineno);
        }
        homing_keyring_free(k);
        return r;
    }
    *out = k;
    return 0;
}

static int write_keys(const char *path, const struct homing_keyring *k, int exclusive)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return -ENAMETOOLONG;
    const char *target = exclusive ? path : tmp;
    int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0600);
    if (fd < 0) return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -ENOMEM;
    }
    fprintf(f, "# homing token keys: ID CREATED_US SECRET. Secret: keep mode 0600.\n"
               "# The last key signs; every key listed verifies.\n");
    for (size_t i = 0; i < k->n; i++) {
        char hex[2 * HOMING_TOKEN_KEY_LEN + 1];
        homing_hex_encode(k->keys[i].secret, HOMING_TOKEN_KEY_LEN, hex);
        fprintf(f, "%u %lld %s\n", k->keys[i].id, (long long)k->keys[i].created_us, hex);
        sodium_memzero(hex, sizeof hex);
    }
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad) {
        unlink(target);
        return -EIO;
    }
    if (!exclusive && rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return -e;
    }
    return 0;
}

static void fresh_key(struct keyring_key *key, uint16_t id)
{
    key->id = id;
    key->created_us = homing_now_us();
    randombytes_buf(key->secret, sizeof key->secret);
}

int homing_keyring_create(const char *path)
{
    if (sodium_init() < 0) return -EIO;
    struct keyring_key key;
    fresh_key(&key, 1);
    struct homing_keyring k = {1, &key};
    int r = write_keys(path, &k, 1);
    sodium_memzero(&key, sizeof key);
    return r;
}

int homing_keyring_rotate(const char *path, uint16_t *new_id)
{
    struct homing_keyring *k;
    int r = homing_keyring_load(path, &k, NULL, 0);
    if (r < 0) return r;
    const struct keyring_key *last = keyring_newest(k);
    if (last->id == 65535 || k->n >= HOMING_TOKEN_KEYS_MAX) {
        homing_keyring_free(k);
        return -E2BIG;
    }
    struct keyring_key *keys = realloc(k->keys, (k->n + 1) * sizeof *keys);
    if (!keys) {
        homing_keyring_free(k);
        return -ENOMEM;
    }
    k->keys = keys;
    fresh_key(&k->keys[k->n], (uint16_t)(k->keys[k->n - 1].id + 1));
    k->n++;
    r = write_keys(path, k, 0);
    if (r == 0 && new_id) *new_id = k->keys[k->n - 1].id;
    homing_keyring_free(k);
    return r;
}
