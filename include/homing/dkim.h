/*
 * homing/dkim.h: DKIM signing of the copies homing sends (homing send, homing
 * relay), with libopendkim's signer, and the key files it signs with
 * (homing dkim-keys). Verification is homing/trace.h's.
 *
 * Keys: one RSA private key (PEM) per sender domain and selector, in the file
 * dkim.keys_dir/DOMAIN.SELECTOR.key (domain in lower case, its ASCII form;
 * selector one DNS label), mode 0600 (a key readable by group or others is
 * refused, as keys.file is). The selector that signs for a domain is the one
 * dkim.selectors names for it ("example.org=s2027,..."), else dkim.selector:
 * a new key is published in DNS under a new selector before it signs.
 *
 * Signatures: d= the From domain, rsa-sha256, relaxed/relaxed, t= the signing
 * time, no l=, no x=; h= the fields of HOMING_DKIM_SIGNED_FIELDS that the copy
 * has, with From named once more than it occurs (over-signed: no From can be
 * added after signing). Ed25519 (RFC 8463) is not made: Debian 12's
 * libopendkim 2.11.0~beta2 writes Ed25519 signatures that do not verify, in
 * its own verifier or ours (tests/unit/test_dkim_diff.c).
 *
 * Contract: functions return 0 or a negative errno and write their outputs
 * only on success; nothing here logs or prints. Thread-safe (one libopendkim
 * handle for the process, made on first use and only read after that).
 */
#ifndef HOMING_DKIM_H
#define HOMING_DKIM_H

#include <stddef.h>

#include "homing/config.h"

#define HOMING_DKIM_MESSAGE_MAX  (64u * 1024 * 1024) /* bytes of one message signed */
#define HOMING_DKIM_KEY_FILE_MAX (16u * 1024)        /* bytes of a key file read */
#define HOMING_DKIM_BITS_MIN     1024                /* RFC 8301: signers must use at least 1024 */
#define HOMING_DKIM_BITS_MAX     4096 /* DNS TXT records of larger keys get unwieldy */
#define HOMING_DKIM_BITS_DEFAULT 2048
#define HOMING_DKIM_DOMAIN_MAX   254 /* bytes + NUL of a domain name */
#define HOMING_DKIM_SELECTOR_MAX 64  /* one DNS label + NUL */
#define HOMING_DKIM_PATH_MAX     4096

/* The fields signed when present, NULL-terminated (From is also over-signed). */
extern const char *const HOMING_DKIM_SIGNED_FIELDS[];

/* Signs one finished copy (msg: len bytes, CRLF or LF line ends, as it will be
 * sent apart from line ends; header then body) with the key of its From
 * domain. On success *header_out is a malloc'd NUL-terminated
 * "DKIM-Signature: ...\r\n" field (folded with CRLF) that the caller puts
 * before the first byte of msg and frees with free().
 * Returns:
 *   0        signed;
 *   -ENOENT  no key for the From domain's selector in dkim.keys_dir (or no
 *            keys_dir): send the copy unsigned;
 *   -EBADMSG no single From mailbox with a valid domain to sign for;
 *   -E2BIG   msg over HOMING_DKIM_MESSAGE_MAX;
 *   -EPERM   the key file is readable by group or others;
 *   -EINVAL  a key file libopendkim or libcrypto cannot use, or one of fewer
 *            than HOMING_DKIM_BITS_MIN bits; bad arguments;
 *   -ENOMEM, -EIO  out of memory, a read error, a libopendkim failure. */
int homing_dkim_sign(const struct homing_settings *s, const char *msg, size_t len,
                     char **header_out);

/* The same with the domain, selector and key (PEM text, keylen bytes) given:
 * what homing_dkim_sign does once it has found the key. -EINVAL for a bad
 * domain or selector or an unusable key. */
int homing_dkim_sign_with(const char *domain, const char *selector, const char *key_pem,
                          size_t keylen, const char *msg, size_t len, char **header_out);

/* The domain of the single mailbox of msg's From field, in lower case.
 * -EBADMSG when there is no From, two, a list or group, or not one mailbox with
 * a valid ASCII domain (a UTF-8 domain is not signed: its xn-- form would be
 * the d= but is not computed here). */
int homing_dkim_from_domain(const char *msg, size_t len, char *out, size_t cap);

/* Whether name is a domain homing signs for (LDH labels of 1..63 bytes, dots
 * between them, under HOMING_DKIM_DOMAIN_MAX) or, with selector set, a
 * selector (one LDH label): what may become part of a file name. */
int homing_dkim_name_ok(const char *name, int selector);

/* The selector that signs for domain (dkim.selectors, else dkim.selector).
 * -EINVAL when the configured one is not a valid selector. */
int homing_dkim_selector(const struct homing_settings *s, const char *domain, char *out,
                         size_t cap);

/* The key file of (domain, selector): dkim.keys_dir/DOMAIN.SELECTOR.key.
 * -EINVAL for a bad name, -ENOENT when dkim.keys_dir is empty. */
int homing_dkim_key_path(const struct homing_settings *s, const char *domain, const char *selector,
                         char *out, size_t cap);

/* Makes an RSA key of bits (HOMING_DKIM_BITS_MIN..MAX) and writes it as PKCS#8
 * PEM to path, mode 0600, creating the file (never replacing one: -EEXIST). */
int homing_dkim_key_create(const char *path, int bits);

/* Reads the private key at path (the checks of homing_dkim_sign) and gives
 * its DNS TXT record text "v=DKIM1; k=rsa; p=BASE64" (malloc'd) and its size
 * in bits. */
int homing_dkim_key_record(const char *path, char **record_out, int *bits_out);

/* The zone file line of a record: NAME IN TXT "..." "..." with the text cut
 * into strings of at most 255 bytes (RFC 1035 character-strings); malloc'd. */
int homing_dkim_zone_line(const char *domain, const char *selector, const char *record, char **out);

#endif
