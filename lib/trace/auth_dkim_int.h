/*
 * auth_dkim_int.h: what DKIM verification (auth_dkim.c) shares with ARC
 * verification (arc.c) inside lib/trace: the header split, tag-lists, the
 * signature record and the checks, so RFC 8617's ARC-Message-Signature and
 * ARC-Seal are verified by the same canonicalisation, key lookup (through the
 * resolver interface) and signature code as DKIM, not a copy.
 *
 * Contract: as auth_dkim.c's: bounded by the limits below, negative errno only
 * for resource failures, no logging.
 */
#ifndef HOMING_TRACE_AUTH_DKIM_INT_H
#define HOMING_TRACE_AUTH_DKIM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "trace_int.h"

/* Named limits. A signature or key past one of them is reported malformed. */
#define DKIM_TAGS_MAX      32                      /* tags in one tag-list (RFC 6376 defines 14) */
#define DKIM_TAGLIST_MAX   HOMING_TRACE_HEADER_MAX /* bytes of one tag-list */
#define DKIM_H_NAMES_MAX   128                     /* names in h= (over-signing repeats them) */
#define DKIM_SIG_BYTES_MAX 1024                    /* decoded b=: an RSA-8192 signature */
#define DKIM_KEY_BYTES_MAX 1100 /* decoded p=: an RSA-8192 SubjectPublicKeyInfo */
#define DKIM_RSA_BITS_MIN  1024 /* OpenDKIM's default DKIM_OPTS_MINKEYBITS */
#define DKIM_RSA_BITS_MAX  8192 /* bounds the work one hostile key can cause */
#define DKIM_CLOCK_DRIFT   300  /* seconds t= may lie ahead, OpenDKIM's default */
#define DKIM_CANON_BUF     4096 /* canonical bytes batched per digest update */

/* Reasons, numbered and worded as OpenDKIM's DKIM_SIGERROR_* so that the
 * "error" strings and the result mapping stay what they were. */
enum dkim_err {
    E_OK = 0,
    E_VERSION = 1,
    E_DOMAIN = 2,
    E_EXPIRED = 3,
    E_FUTURE = 4,
    E_TIMESTAMPS = 5,
    E_INVALID_HC = 7,
    E_INVALID_BC = 8,
    E_MISSING_A = 9,
    E_INVALID_A = 10,
    E_MISSING_H = 11,
    E_INVALID_L = 12,
    E_INVALID_Q = 13,
    E_INVALID_QO = 14,
    E_MISSING_D = 15,
    E_EMPTY_D = 16,
    E_MISSING_S = 17,
    E_EMPTY_S = 18,
    E_MISSING_B = 19,
    E_EMPTY_B = 20,
    E_CORRUPT_B = 21,
    E_NOKEY = 22,
    E_DNSSYNTAX = 23,
    E_KEYFAIL = 24,
    E_MISSING_BH = 25,
    E_EMPTY_BH = 26,
    E_CORRUPT_BH = 27,
    E_BADSIG = 28,
    E_SUBDOMAIN = 29,
    E_MULTIREPLY = 30,
    E_EMPTY_H = 31,
    E_INVALID_H = 32,
    E_TOOLARGE_L = 33,
    E_KEYVERSION = 35,
    E_KEYUNKNOWNHASH = 36,
    E_KEYHASHMISMATCH = 37,
    E_NOTEMAILKEY = 38,
    E_KEYTYPEMISSING = 40,
    E_KEYTYPEUNKNOWN = 41,
    E_KEYREVOKED = 42,
    E_KEYDECODE = 43,
    E_MISSING_V = 44,
    E_EMPTY_V = 45,
    E_KEYTOOSMALL = 46,
    /* ours: OpenDKIM has no word for these (it verifies such a signature
     * anyway, or drops it; RFC 6376 3.2 and 3.5 make them permanent errors) */
    E_TAGSYNTAX,
    E_TAGDUP,
    E_TIMESYNTAX,
    E_COUNT
};

enum dkim_alg { ALG_NONE, ALG_RSA_SHA1, ALG_RSA_SHA256, ALG_ED25519_SHA256 };
enum dkim_canon { CANON_SIMPLE, CANON_RELAXED };

/* One header field: raw bytes [start, end) of the message, end past its line
 * end; name is [start, start + name_len) without blanks before the colon. */
struct dkim_field {
    size_t start, end, colon, name_len;
};

/* One tag of a tag-list: name and value are slices of the list, the value
 * without surrounding blanks (inner folding is kept; base64 readers skip it). */
struct dkim_tag {
    struct homing_slice name, value;
    size_t value_off, next_off; /* value start, and where the tag-spec ends */
};

struct dkim_taglist {
    size_t n;
    bool dup; /* a tag name came twice: only the first is kept */
    struct dkim_tag t[DKIM_TAGS_MAX];
};

/* What one signature says and what became of it. */
struct dkim_sig {
    size_t field; /* index into the field table */
    struct homing_slice d, s, i, h;
    const char *alg_name;
    enum dkim_alg alg;
    enum dkim_canon hc, bc;
    bool has_l;
    uint64_t l;
    const struct dkim_tag *b, *bh;
    enum dkim_err err;
    bool processed; /* got as far as checking the signature with a key */
    bool passed;
    unsigned char bh_digest[EVP_MAX_MD_SIZE]; /* computed body hash */
    unsigned int bh_len;
};

struct dkim_key {
    EVP_PKEY *pkey; /* Ed25519 */
    RSA *rsa;       /* RSA */
};

/* The header fields of msg as OpenDKIM reads them (-EBADMSG for a line that
 * is not a field, -E2BIG past HOMING_TRACE_FIELDS_MAX, -ENOMEM); *fv is the
 * caller's to free. */
int auth_dkim_fields(const char *msg, size_t len, struct dkim_field **fv, size_t *nf,
                     size_t *body_off);
/* RFC 6376 3.2 tag-list; -EBADMSG when malformed or past DKIM_TAGS_MAX. */
int auth_dkim_taglist(const char *p, size_t len, struct dkim_taglist *out);
const struct dkim_tag *auth_dkim_tag(const struct dkim_taglist *tl, const char *name);
/* Verifies sigs[k] as a DKIM signature over h= and the body (its tags already
 * read into it without error: field, d, s, h, alg, hc, bc, b, bh). */
int auth_dkim_sig_verify(struct homing_resolver *res, struct dkim_sig *sigs, size_t k,
                         const char *msg, const struct dkim_field *f, size_t nf, size_t body_off,
                         size_t len, EVP_MD_CTX *md);
/* Verifies sig (field, d, s, alg, b) as an ARC-Seal (RFC 8617 5.1.1): the
 * fields idx[0..n) in that order, relaxed, then sig's own field without its
 * b= value and line end. Sets sig->passed or sig->err. */
int auth_dkim_seal_verify(struct homing_resolver *res, struct dkim_sig *sig, const char *msg,
                          const struct dkim_field *f, const size_t *idx, size_t n, EVP_MD_CTX *md);
/* The result word (pass, fail, neutral, permerror, temperror) and the reason. */
const char *auth_dkim_result(const struct dkim_sig *s);
const char *auth_dkim_error(const struct dkim_sig *s);

#endif
