/*
 * homing/seal.h: encryption at rest of personal data (issue #14 item 6).
 *
 * Recipient addresses and client addresses are stored sealed: encrypted with
 * the data key (keys.data, `data.key` next to token.keys, never in the
 * store). A sealed value is text:
 *
 *   "~s1:" base32(L[9]) base64url(S[3] || XChaCha20(value))    (no padding)
 *
 * Deterministic authenticated encryption in the SIV way (RFC 5297's idea):
 * the synthetic IV is L || S, L a keyed BLAKE2b of the value lower-cased
 * (ASCII) and S a keyed BLAKE2b of the exact value; the IV (zero-padded) is
 * the XChaCha20 nonce, and opening decrypts, recomputes both and compares, so
 * a changed byte or another key is refused (96 bits of keyed hash checked).
 * The encrypted value is 't' and the text, or, for a client address in
 * canonical form, its 4 or 16 bytes, so that a sealed IPv6 address (45
 * characters at most) still fits the 46 bytes of an event's client field.
 * Equal values seal to equal text: equality lookups, UNIQUE constraints and
 * joins keep working on the sealed column. Every value that lower-cases
 * alike starts with the same lookup prefix (homing_seal_lookup: "~s1:" and
 * L's 15 lower-case base32 characters, unchanged by SQL's lower()), which
 * forget searches for inside text columns. What this leaks is equality (and
 * a value's length), as any lookup hash does. The subkeys are derived from
 * the 32-byte data key with crypto_kdf (context "homseal1").
 *
 * Text that may name addresses anywhere (an event's detail and From header, a
 * notification's text and payload, an unmatched report) is sealed address by
 * address (homing_seal_text): each run that looks like local@domain becomes
 * the sealed value of its text, the rest stays as it was (valid JSON stays
 * valid JSON). Sealed text carries no '@', so sealing twice changes nothing.
 */
#ifndef HOMING_SEAL_H
#define HOMING_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define HOMING_SEAL_KEY_LEN    32
#define HOMING_SEAL_PREFIX     "~s1:"
#define HOMING_SEAL_PREFIX_LEN 4
/* The lookup prefix: HOMING_SEAL_PREFIX and L's 15 base32 characters. */
#define HOMING_SEAL_LOOKUP_LEN (HOMING_SEAL_PREFIX_LEN + 15)
/* The longest value sealed as a whole (an address; longer is -E2BIG). */
#define HOMING_SEAL_VALUE_MAX 1024
/* The sealed length of a value of n bytes (without the NUL). */
#define HOMING_SEAL_LEN(n) (HOMING_SEAL_LOOKUP_LEN + ((3 + 1 + (n)) * 4 + 2) / 3)
/* The key id: 16 hex digits, recorded in the store, so a store opened with
 * another key is refused rather than read as garbage. */
#define HOMING_SEAL_ID_LEN 16

struct homing_seal;

/* Loads the data key from path: 32 bytes as 64 hex digits on the first line
 * that is not a comment. A group- or world-readable file is refused
 * (-EPERM). With create, a missing file is made (0600, O_EXCL, a fresh
 * random key) and *created set to 1. -ENOENT when missing and not create. */
int homing_seal_load(const char *path, int create, struct homing_seal **out, int *created,
                     char *err, size_t errcap);
/* A seal from a raw key (tests, tools). */
int homing_seal_new(const uint8_t key[HOMING_SEAL_KEY_LEN], struct homing_seal **out);
void homing_seal_free(struct homing_seal *k);
/* The key's id (HOMING_SEAL_ID_LEN hex digits). */
const char *homing_seal_id(const struct homing_seal *k);

/* 1 when v (n bytes) is sealed text (starts with HOMING_SEAL_PREFIX). */
int homing_seal_is(const char *v, size_t n);

/* Seals the n bytes of v into out (cap bytes, NUL-terminated). Returns the
 * length written, -ENOSPC if out is too small, -E2BIG past
 * HOMING_SEAL_VALUE_MAX. */
int homing_seal_value(const struct homing_seal *k, const char *v, size_t n, char *out, size_t cap);
/* Seals a client address (text) into out (cap bytes): an IPv4 or IPv6 address
 * in canonical form as its bytes, anything else as text. The length, or
 * -ENOSPC (cap is enough for any address when >= HOMING_ADDR_STR_MAX). */
int homing_seal_client(const struct homing_seal *k, const char *v, char *out, size_t cap);
/* Opens sealed text (n bytes) into out (cap bytes, NUL-terminated): the
 * length, -EINVAL if it is not sealed text, -EBADMSG if it does not
 * authenticate (changed, or sealed with another key), -ENOSPC. */
int homing_seal_open(const struct homing_seal *k, const char *v, size_t n, char *out, size_t cap);
/* The lookup prefix of a value: every sealed form of a value that lower-cases
 * (ASCII) to the same text starts with it. out: HOMING_SEAL_LOOKUP_LEN + 1. */
void homing_seal_lookup(const struct homing_seal *k, const char *v, size_t n,
                        char out[HOMING_SEAL_LOOKUP_LEN + 1]);

/* Seals every address in text (n bytes) into a new NUL-terminated string
 * (*out, *out_len without the NUL). 0 or -ENOMEM. */
int homing_seal_text(const struct homing_seal *k, const char *in, size_t n, char **out,
                     size_t *out_len);
/* The same, each address replaced by its lookup prefix only: what a
 * fixed-size field keeps when its sealed text would not fit (forget still
 * finds it; it cannot be read back). */
int homing_seal_text_refs(const struct homing_seal *k, const char *in, size_t n, char **out,
                          size_t *out_len);
/* Opens every sealed value in text (n bytes). A sealed-looking run that does
 * not authenticate is -EBADMSG (strict) or left as it is (not strict). */
int homing_seal_open_text(const struct homing_seal *k, const char *in, size_t n, int strict,
                          char **out, size_t *out_len);
/* 1 when text (n bytes) holds something homing_seal_text would seal. */
int homing_seal_text_pending(const char *in, size_t n);

#endif
