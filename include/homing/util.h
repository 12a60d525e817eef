/*
 * homing/util.h: small building blocks shared by every module of libhoming and by
 * the programs: bounded buffers, base64url, hex, time, random ids, IP addresses.
 *
 * Contract: functions return 0 (or a length) on success and a negative errno on
 * failure; outputs are written only on success. No function here allocates unless
 * its name says so (_new, _dup, buffers), and no function logs or exits.
 */
#ifndef HOMING_UTIL_H
#define HOMING_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer with a hard maximum: appending past max gives -E2BIG,
 * so no attacker-sized input can grow one without bound. data is always
 * NUL-terminated (the NUL is not counted in len). Owned by whoever inits it;
 * release with homing_buf_free. */
struct homing_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
};

void homing_buf_init(struct homing_buf *b, size_t max);
int homing_buf_append(struct homing_buf *b, const void *p, size_t n);
int homing_buf_puts(struct homing_buf *b, const char *s);
int homing_buf_printf(struct homing_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int homing_buf_vprintf(struct homing_buf *b, const char *fmt, va_list ap);
void homing_buf_reset(struct homing_buf *b);
/* Hands the data to the caller (free() it) and leaves b empty. */
char *homing_buf_steal(struct homing_buf *b);
void homing_buf_free(struct homing_buf *b);

/* A pointer+length view into someone else's bytes; never owns them. */
struct homing_slice {
    const char *p;
    size_t len;
};

/* base64url without padding (RFC 4648 section 5). encode writes
 * HOMING_B64URL_LEN(n) characters plus a NUL; decode rejects padding, stray
 * characters and non-canonical trailing bits, and returns the decoded length. */
#define HOMING_B64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))
size_t homing_b64url_encode(const uint8_t *in, size_t n, char *out);
int homing_b64url_decode(const char *in, size_t n, uint8_t *out, size_t outmax);

/* Lower-case hex; decode accepts either case and needs an even length. */
void homing_hex_encode(const uint8_t *in, size_t n, char *out);
int homing_hex_decode(const char *in, size_t n, uint8_t *out, size_t outmax);

/* UTF-8 of one code point (at most 0x10FFFF; a surrogate or anything larger
 * gives U+FFFD) into out, which needs 4 bytes; returns the bytes written. */
size_t homing_utf8_encode(uint32_t cp, char *out);

/* Wall-clock time in microseconds since the epoch, and a monotonic clock. */
int64_t homing_now_us(void);
int64_t homing_mono_us(void);
/* Formats t as RFC 3339 UTC with microseconds: out needs HOMING_TIME_STR_MAX. */
#define HOMING_TIME_STR_MAX 32
void homing_time_format(int64_t t_us, char *out);

/* Public ids are random 63-bit numbers (they fit a signed SQL integer) and never
 * 0; their text form is 16 lower-case hex digits. */
#define HOMING_ID_STR_MAX 17
uint64_t homing_id_random(void);
void homing_id_format(uint64_t id, char *out);
int homing_id_parse(const char *s, uint64_t *out);

/* An IPv4 or IPv6 address; IPv4 is kept as such, never as mapped IPv6. */
#define HOMING_ADDR_STR_MAX 46
struct homing_addr {
    uint8_t family; /* 4 or 6; 0 = none */
    uint8_t bytes[16];
};
int homing_addr_parse(const char *s, size_t n, struct homing_addr *out);
void homing_addr_format(const struct homing_addr *a, char *out);
/* Truncates to the first `bits` bits (privacy: /24 and /48 by default). */
void homing_addr_truncate(struct homing_addr *a, unsigned bits);

/* A network prefix such as 10.0.0.0/8 or ::1/128 (a bare address means a host). */
struct homing_cidr {
    struct homing_addr addr;
    uint8_t bits;
};
int homing_cidr_parse(const char *s, size_t n, struct homing_cidr *out);
int homing_cidr_contains(const struct homing_cidr *c, const struct homing_addr *a);

/* Reading a whole file into memory with a hard maximum (-E2BIG past it; -EINVAL
 * for a NUL byte, which no text file of ours may hold). On success *out holds
 * the bytes, NUL-terminated, and the caller frees it (homing_buf_free). */
int homing_file_read(const char *path, size_t max, struct homing_buf *out);

/* Lines of a text, split in place: each call hands out the next line with its
 * line end (LF, CRLF) cut off and a NUL written over it, so parsers may keep
 * pointers into the text and change it. The one line reader of libhoming: its
 * data files (trackers, allow-lists, machine knowledge, User-Agent rules, ASN
 * ranges, key files, test zones) all go through it. */
#define HOMING_LINES_SKIP 1u /* pass over empty lines and lines starting with '#' */
struct homing_lines {
    char *p, *end;   /* what is left of the text */
    size_t line_max; /* longest line accepted, in bytes without its line end */
    unsigned flags;
    long lineno; /* the number of the line last handed out, from 1 */
};
/* text[len] must be writable and may be '\0'; text is not owned. */
void homing_lines_init(struct homing_lines *l, char *text, size_t len, size_t line_max,
                       unsigned flags);
/* 1 with *line (and *len if not NULL) for the next line; 0 at the end;
 * -E2BIG for a line longer than line_max (l->lineno names it). */
int homing_lines_next(struct homing_lines *l, char **line, size_t *len);

/* strdup that returns NULL for NULL; string helpers over bounded lengths. */
char *homing_strdup0(const char *s);
char *homing_strndup0(const char *s, size_t n);
/* Copies at most cap-1 bytes and always terminates; returns the bytes copied. */
size_t homing_strlcpy(char *dst, const char *src, size_t cap);
/* Replaces control characters and non-ASCII bytes with '?' so attacker text can
 * be printed to a terminal or log safely; dst needs cap >= 1. */
void homing_str_sanitize(char *dst, size_t cap, const char *src, size_t n);

/* Makes room for one more element in a growable array *arr of *cap elements of
 * size el, `used` of them in use: doubles the capacity (first: `first`), zeroes
 * the new slots, refuses sizes that would overflow (-E2BIG). Writes *arr and
 * *cap only on success. One implementation for every such array of libhoming. */
int homing_array_grow(void **arr, size_t *cap, size_t used, size_t el, size_t first);

/* A JSON string (jansson json_t *, owned by the caller) for text from outside:
 * NULL gives JSON null; text that is not UTF-8 comes out with control and
 * non-ASCII bytes replaced by '?' instead of being refused. */
void *homing_json_text(const char *s);
/* Appends to b the JSON text json_dumps (without JSON_ENSURE_ASCII or
 * JSON_ESCAPE_SLASH) writes for homing_json_text(s), byte for byte: "null", or
 * the string quoted with '"', '\\' and control characters escaped. 0 or -E2BIG
 * or -ENOMEM from the buffer. */
int homing_json_buf_text(struct homing_buf *b, const char *s);

#endif
