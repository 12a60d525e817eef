/*
 * homing/punycode.h: Punycode (RFC 3492) decoding, to show an internationalised
 * domain name's A-labels ("xn--...") as the Unicode a reader is shown.
 *
 * Contract: decoding only. No IDNA mapping or validation (NFC, bidi and
 * context rules) is done, so a decoded name is for showing and comparing,
 * never trusted. Input is untrusted: input longer than HOMING_PUNYCODE_MAX or
 * a label longer than HOMING_PUNYCODE_LABEL_MAX is refused before any work
 * (-E2BIG), anything that
 * is not Punycode gives -EINVAL; homing_punycode_decode writes its outputs only
 * on success, homing_idna_to_unicode leaves "" in out after a failure;
 * nothing allocates.
 */
#ifndef HOMING_PUNYCODE_H
#define HOMING_PUNYCODE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of Punycode one call decodes. Every decoded code point takes at least
 * one input byte, so that is also the most code points out of one call. */
#define HOMING_PUNYCODE_MAX 256
/* Bytes of one label of a domain, "xn--" included (a DNS label, RFC 1035). */
#define HOMING_PUNYCODE_LABEL_MAX 63
/* Room callers give a decoded domain (NUL included); one that needs more is
 * -E2BIG and is shown as it is written. */
#define HOMING_PUNYCODE_DOMAIN_MAX 1024

/* Decodes the Punycode in[0, len) (a label without its "xn--") into code points:
 * *outlen of them in out (cap of room). Rejects a basic code point that is
 * encoded rather than written, surrogates, values past U+10FFFF, and any
 * arithmetic overflow (RFC 3492 section 6.4). */
int homing_punycode_decode(const char *in, size_t len, uint32_t *out, size_t cap, size_t *outlen);

/* The domain with each label that starts with "xn--" (any case) decoded to
 * UTF-8, other labels copied, into out (cap bytes, NUL-terminated). Returns
 * how many labels were decoded (0: none, out is a copy), -EINVAL when one is
 * not Punycode or decodes to ASCII only ("xn--abc-" would pass for "abc"),
 * -E2BIG when one is longer than HOMING_PUNYCODE_LABEL_MAX or the result does
 * not fit. */
int homing_idna_to_unicode(const char *domain, char *out, size_t cap);

#endif
