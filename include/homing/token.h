/*
 * homing/token.h: self-contained signed tracking tokens and their key file.
 *
 * Wire format (all integers big-endian), then base64url without padding:
 *
 *   version(1) | key id(2) | kind(1) | message id(8) | recipient(4) | item(4) | MAC(16)
 *
 * = 36 bytes = 48 characters. The MAC is HMAC-SHA-256 over the first 20 bytes
 * with the key named by the key id, truncated to 128 bits and compared in
 * constant time. Verification needs only the key file: no store lookup, so any
 * number of nodes can accept hits. recipient 0 means a per-message token; item is
 * the link index of a click token, the grant index of a document token, 0 for an
 * open token. An unsubscribe token always names a recipient (never 0).
 *
 * Keys: the key file holds one key per line; the newest (highest id) signs, every
 * listed key verifies, so rotating keys never breaks mail already sent.
 */
#ifndef HOMING_TOKEN_H
#define HOMING_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define HOMING_TOKEN_VERSION  1
#define HOMING_TOKEN_RAW_LEN  36
#define HOMING_TOKEN_LEN      48 /* characters of the text form */
#define HOMING_TOKEN_MAC_LEN  16 /* 128-bit truncated HMAC-SHA-256 */
#define HOMING_TOKEN_KEY_LEN  32
#define HOMING_TOKEN_KEYS_MAX 1024 /* named limit on the key file */

enum homing_token_kind {
    HOMING_TOKEN_OPEN = 1,
    HOMING_TOKEN_CLICK = 2,
    HOMING_TOKEN_DOCUMENT = 3,
    HOMING_TOKEN_VERP = 4, /* the bounce address of one recipient */
    HOMING_TOKEN_COPY = 5, /* which recipient a tracked copy is for (X-Homing-Copy) */
    /* one-click unsubscribe (RFC 8058) of one recipient: recipient != 0, item 0 */
    HOMING_TOKEN_UNSUBSCRIBE = 6,
};

struct homing_token {
    uint8_t kind;
    uint16_t key_id; /* filled in by encode and by verify */
    uint64_t message;
    uint32_t recipient;
    uint32_t item;
};

struct homing_keyring;

/* Loads a key file. -ENOENT if missing, -EINVAL (with a line number in err) if
 * malformed, -EPERM if it is readable by group or others. */
int homing_keyring_load(const char *path, struct homing_keyring **out, char *err, size_t errcap);
/* Creates a key file with one fresh key, mode 0600; -EEXIST if it exists. */
int homing_keyring_create(const char *path);
/* Adds a new signing key (id = newest + 1) and rewrites the file atomically. */
int homing_keyring_rotate(const char *path, uint16_t *new_id);
void homing_keyring_free(struct homing_keyring *k);
size_t homing_keyring_count(const struct homing_keyring *k);
/* The i-th key's id and creation time, oldest first. */
int homing_keyring_info(const struct homing_keyring *k, size_t i, uint16_t *id,
                        int64_t *created_us);
/* The 32-byte document encryption key, derived from the first (oldest) key's
 * secret under a separate KDF context: it never signs tokens, and rotating token
 * keys never makes stored documents unreadable. */
int homing_keyring_doc_key(const struct homing_keyring *k, uint8_t out[32]);
/* The 32-byte document digest key (homing/document.h), derived like the
 * document key from the oldest key under a context of its own
 * (crypto_kdf_derive_from_key, subkey 1, context "homingdg"): the stored
 * digests stay valid across token-key rotation, and a copy of the database
 * without the key file cannot confirm a guess of a document. */
int homing_keyring_digest_key(const struct homing_keyring *k, uint8_t out[32]);

/* Writes the 48-character token plus NUL into out (HOMING_TOKEN_LEN + 1), signed
 * with the newest key. */
int homing_token_encode(const struct homing_keyring *k, const struct homing_token *t, char *out);
/* Verifies text of length n: -EINVAL for anything malformed or not verifying
 * (unknown key, bad MAC, wrong version, bad kind, open token with an item). */
int homing_token_verify(const struct homing_keyring *k, const char *text, size_t n,
                        struct homing_token *out);

struct homing_buf;
/* Appends the public URL of a fresh token to out: base_url (trailing '/'
 * ignored) + "/o/TOKEN.gif" (HOMING_TOKEN_OPEN, item must be 0), "/c/TOKEN"
 * (CLICK, item = link index), "/d/TOKEN" (DOCUMENT, item = grant index) or
 * "/u/TOKEN" (UNSUBSCRIBE, item 0, recipient not 0).
 * -EINVAL for another kind; on error out is left as it was. */
int homing_token_url(const char *base_url, const struct homing_keyring *k, unsigned kind,
                     uint64_t message, uint32_t recipient, uint32_t item, struct homing_buf *out);

/* Backups (lib/token/seal.c): a key file's bytes sealed with a passphrase
 * (argon2id, then XSalsa20-Poly1305), so a backup of the keys is useless
 * without it. Outputs are malloc'd, the caller's (wipe the plain text with
 * sodium_memzero before free). seal: -EINVAL for a passphrase shorter than
 * HOMING_SEAL_PASS_MIN or text over HOMING_SEAL_PLAIN_MAX; unseal: -EINVAL
 * for what is not a sealed key file (or asks for costs over the maxima),
 * -EBADMSG for a wrong passphrase or a changed byte. */
#define HOMING_SEAL_PASS_MIN    8
#define HOMING_SEAL_PLAIN_MAX   (64 * 1024)
#define HOMING_SEAL_OPS_MAX     16
#define HOMING_SEAL_MEM_KIB_MAX (1024 * 1024) /* 1 GiB of argon2 memory */
int homing_keys_seal(const uint8_t *plain, size_t n, const char *pass, size_t passlen,
                     uint8_t **out, size_t *outlen);
int homing_keys_unseal(const uint8_t *sealed, size_t n, const char *pass, size_t passlen,
                       uint8_t **out, size_t *outlen);

#endif
