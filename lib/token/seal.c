/*
 * seal.c: a key file sealed with a passphrase, for backups (homing backup).
 *
 * Format (all integers big-endian):
 *   "HOMINGKB" | version 1 | algorithm 1 (argon2id v1.3) | opslimit u32 |
 *   memlimit in KiB u32 | salt[crypto_pwhash_SALTBYTES] |
 *   nonce[crypto_secretbox_NONCEBYTES] | crypto_secretbox_easy(plain)
 * The key is crypto_pwhash (argon2id) of the passphrase and salt with the
 * stored costs; a wrong passphrase, a changed cost or any changed byte of the
 * box fails the MAC. Costs are stored so later versions may raise them and
 * still open old backups; a file asking for more than HOMING_SEAL_*_MAX is
 * refused before any work, so a crafted backup cannot exhaust the machine.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "homing/token.h"

#define SEAL_MAGIC     "HOMINGKB"
#define SEAL_MAGIC_LEN 8
#define SEAL_HEAD_LEN                                                                              \
    (SEAL_MAGIC_LEN + 2 + 4 + 4 + crypto_pwhash_SALTBYTES + crypto_secretbox_NONCEBYTES)

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int derive(uint8_t key[crypto_secretbox_KEYBYTES], const char *pass, size_t passlen,
                  const uint8_t *salt, uint32_t ops, uint32_t mem_kib)
{
    if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, pass, passlen, salt, ops,
                      (size_t)mem_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -ENOMEM; /* libsodium's only failure here: the memory */
    return 0;
}

int homing_keys_seal(const uint8_t *plain, size_t n, const char *pass, size_t passlen,
                     uint8_t **out, size_t *outlen)
{
    if (!plain || n > HOMING_SEAL_PLAIN_MAX || !pass || passlen < HOMING_SEAL_PASS_MIN)
        return -EINVAL;
    if (sodium_init() < 0) return -EIO;
    size_t total = SEAL_HEAD_LEN + crypto_secretbox_MACBYTES + n;
    uint8_t *buf = malloc(total), key[crypto_secretbox_KEYBYTES];
    if (!buf) return -ENOMEM;
    uint32_t ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    uint32_t mem_kib = (uint32_t)(crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024);
    uint8_t *p = buf;
    memcpy(p, SEAL_MAGIC, SEAL_MAGIC_LEN), p += SEAL_MAGIC_LEN;
    *p++ = 1; /* version */
    *p++ = 1; /* argon2id v1.3 */
    put32(p, ops), p += 4;
    put32(p, mem_kib), p += 4;
    uint8_t *salt = p;
    randombytes_buf(salt, crypto_pwhash_SALTBYTES), p += crypto_pwhash_SALTBYTES;
    uint8_t *nonce = p;
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES), p += crypto_secretbox_NONCEBYTES;
    int r = derive(key, pass, passlen, salt, ops, mem_kib);
    if (r == 0) crypto_secretbox_easy(p, plain, n, nonce, key);
    sodium_memzero(key, sizeof key);
    if (r < 0) {
        free(buf);
        return r;
    }
    *out = buf;
    *outlen = total;
    return 0;
}

int homing_keys_unseal(const uint8_t *sealed, size_t n, const char *pass, size_t passlen,
                       uint8_t **out, size_t *outlen)
{
    if (!sealed || !pass) return -EINVAL;
    if (n < SEAL_HEAD_LEN + crypto_secretbox_MACBYTES ||
        n > SEAL_HEAD_LEN + crypto_secretbox_MACBYTES + HOMING_SEAL_PLAIN_MAX ||
        memcmp(sealed, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0 || sealed[SEAL_MAGIC_LEN] != 1 ||
        sealed[SEAL_MAGIC_LEN + 1] != 1)
        return -EINVAL;
    if (sodium_init() < 0) return -EIO;
    const uint8_t *p = sealed + SEAL_MAGIC_LEN + 2;
    uint32_t ops = get32(p), mem_kib = get32(p + 4);
    p += 8;
    if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > HOMING_SEAL_OPS_MAX ||
        (size_t)mem_kib * 1024 < crypto_pwhash_MEMLIMIT_MIN || mem_kib > HOMING_SEAL_MEM_KIB_MAX)
        return -EINVAL;
    const uint8_t *salt = p, *nonce = p + crypto_pwhash_SALTBYTES;
    const uint8_t *box = nonce + crypto_secretbox_NONCEBYTES;
    size_t boxlen = n - SEAL_HEAD_LEN, plen = boxlen - crypto_secretbox_MACBYTES;
    uint8_t *plain = malloc(plen ? plen : 1), key[crypto_secretbox_KEYBYTES];
    if (!plain) return -ENOMEM;
    int r = derive(key, pass, passlen, salt, ops, mem_kib);
    if (r == 0 && crypto_secretbox_open_easy(plain, box, boxlen, nonce, key) != 0) r = -EBADMSG;
    sodium_memzero(key, sizeof key);
    if (r < 0) {
        sodium_memzero(plain, plen);
        free(plain);
        return r;
    }
    *out = plain;
    *outlen = plen;
    return 0;
}
