/*
 * homing/document.h: documents encrypted at rest, served through per-recipient
 * links (HOMING_TOKEN_DOCUMENT tokens; the store keeps the rows, see
 * homing/store.h "Documents").
 *
 * File format (one file per document in the documents directory, docs.dir):
 *
 *   magic "HOMINGD1" (8) | secretstream header (24) | chunks
 *
 * Each chunk is HOMING_DOC_CHUNK plaintext bytes (the last one fewer, or none
 * for an empty file) sealed with crypto_secretstream_xchacha20poly1305; the last carries the
 * FINAL tag, so a truncated file is detected. The stream key is BLAKE2b-256
 * keyed with the document key (homing_keyring_doc_key) over the file's name:
 * a file renamed or swapped for another document's does not decrypt.
 *
 * Digest (stored in the documents table): BLAKE2b-256 of the plaintext keyed
 * with the digest key (homing_keyring_digest_key), so a copy of the database
 * without the key file cannot confirm a guess of a document's content. The
 * plain BLAKE2b-256 (what b2sum -l 256 prints) is given to the uploader once
 * and never stored; homing_doc_digest_fd checks a file against a stored one.
 *
 * Contract: negative errno on failure, outputs only on success; nothing here
 * logs. -EBADMSG for a file that does not authenticate.
 */
#ifndef HOMING_DOCUMENT_H
#define HOMING_DOCUMENT_H

#include <stddef.h>
#include <stdint.h>

#define HOMING_DOC_CHUNK        (64u * 1024) /* plaintext bytes per sealed chunk */
#define HOMING_DOC_KEY_LEN      32
#define HOMING_DOC_DIGEST_LEN   32                      /* BLAKE2b-256, keyed or plain */
#define HOMING_DOC_FILE_MAX     40                      /* "d-" + 32 hex + ".enc" + NUL */
#define HOMING_DOC_NAME_MAX     255                     /* a document's name, bytes */
#define HOMING_DOC_TYPE_MAX     127                     /* a media type, bytes */
#define HOMING_DOC_SIZE_MAX     (1ull << 34)            /* 16 GiB: the largest document */
#define HOMING_DOC_HEADER_LEN   (8 + 24)                /* magic + secretstream header */
#define HOMING_DOC_SEALED_CHUNK (HOMING_DOC_CHUNK + 17) /* + secretstream ABYTES */

/* A fresh random file name ("d-<32 hex>.enc") into out (HOMING_DOC_FILE_MAX). */
void homing_doc_file_name(char out[HOMING_DOC_FILE_MAX]);

/* Encrypts everything readable from in_fd into out_fd (which should be a new,
 * empty file) under key for the file named file_name; writes the plaintext's
 * size, its BLAKE2b-256 keyed with digest_key (digest: what the store keeps)
 * and, when plain is not NULL, its unkeyed BLAKE2b-256 (to show the uploader,
 * never to store). -EFBIG past HOMING_DOC_SIZE_MAX, -EIO. */
int homing_doc_encrypt(const uint8_t key[HOMING_DOC_KEY_LEN],
                       const uint8_t digest_key[HOMING_DOC_KEY_LEN], const char *file_name,
                       int in_fd, int out_fd, uint64_t *size_out,
                       uint8_t digest[HOMING_DOC_DIGEST_LEN], uint8_t plain[HOMING_DOC_DIGEST_LEN]);

/* The keyed digest (as homing_doc_encrypt's digest) of everything readable
 * from fd, a plaintext file: to check a downloaded copy against the store.
 * -EFBIG past HOMING_DOC_SIZE_MAX, -EIO. */
int homing_doc_digest_fd(const uint8_t digest_key[HOMING_DOC_KEY_LEN], int fd,
                         uint8_t digest[HOMING_DOC_DIGEST_LEN]);

/* The keyed digest of the plaintext sealed in fd (an encrypted document file
 * named file_name, read from its start), decrypting it with key: how the
 * digests of documents stored before they were keyed are recomputed.
 * -EBADMSG if the file does not authenticate. */
int homing_doc_digest_sealed(const uint8_t key[HOMING_DOC_KEY_LEN],
                             const uint8_t digest_key[HOMING_DOC_KEY_LEN], const char *file_name,
                             int fd, uint8_t digest[HOMING_DOC_DIGEST_LEN]);

struct homing_store;
/* Rewrites, with the keyed digest, every document row of s still holding the
 * unkeyed digest of before migration 0009, decrypting its file in dir. A file
 * that cannot be read or does not authenticate leaves its row as it was and is
 * counted in *failed; *upgraded counts the rows rewritten (both may be NULL).
 * Errors of the store itself are returned. (lib/document/digest.c) */
int homing_doc_digests_upgrade(struct homing_store *s, const uint8_t key[HOMING_DOC_KEY_LEN],
                               const uint8_t digest_key[HOMING_DOC_KEY_LEN], const char *dir,
                               size_t *upgraded, size_t *failed);

/* Streaming decryption, one chunk per call, so a server can send a chunk and
 * come back for the next one without blocking on a whole file. */
struct homing_doc_reader;
/* Opens fd (read from its current position: the file's start) and checks the
 * header. The reader does not own fd. -EBADMSG for a bad magic or header. */
int homing_doc_reader_open(const uint8_t key[HOMING_DOC_KEY_LEN], const char *file_name, int fd,
                           struct homing_doc_reader **out);
/* Decrypts the next chunk into out (HOMING_DOC_CHUNK bytes of room), setting
 * *n and *final (1: that was the last chunk). -EBADMSG if the chunk does not
 * authenticate or the file ends before the final chunk, -EIO on a read error,
 * -EINVAL when called again after the final chunk. */
int homing_doc_reader_next(struct homing_doc_reader *r, uint8_t *out, size_t *n, int *final);
void homing_doc_reader_free(struct homing_doc_reader *r);

/* A Content-Disposition value for name: attachment; filename="..." with
 * quotes and backslashes escaped and bytes outside printable ASCII as '_',
 * plus filename*=UTF-8''... (RFC 6266 / 8187) when name has other bytes.
 * -ENOSPC if out (cap bytes) is too small; out is always terminated. */
int homing_doc_disposition(const char *name, char *out, size_t cap);

/* Whether s is an acceptable media type: type "/" subtype of RFC 6838
 * restricted-name characters, no parameters. */
int homing_doc_media_type_ok(const char *s);

#endif
