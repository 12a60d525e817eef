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
#include <stdio.h>

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

/* base64 as mail and URLs carry it (RFC 4648 sections 4 and 5), leniently:
 * '=' ends the data (padding), trailing bits are dropped. HOMING_B64_URLSAFE
 * takes '-' and '_' for 62 and 63 besides '+' and '/'; HOMING_B64_SKIP passes
 * over every byte outside the alphabet, '=' included (DKIM's folded tags, as
 * OpenDKIM reads them), where otherwise such a byte is -EINVAL. Writes at most
 * cap bytes (-E2BIG past them); returns the decoded length. */
#define HOMING_B64_URLSAFE 1u
#define HOMING_B64_SKIP    2u
int homing_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap, unsigned flags);

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
/* The reverse for what people and the API give: YYYY-MM-DD or
 * YYYY-MM-DDTHH:MM:SS[.ffffff]Z (UTC, 1970..9999) as microseconds; -EINVAL
 * otherwise. No time zone of the C library is involved. */
int homing_time_parse(const char *s, int64_t *out);

/* Public ids are random 63-bit numbers (they fit a signed SQL integer) and never
 * 0; their text form is 16 lower-case hex digits. */
#define HOMING_ID_STR_MAX 17
/* The message of `homing serve`'s example pixel: never handed out by
 * homing_id_random, never registered; a hit on it is answered and recorded
 * nowhere, so trying the example never counts as an open of anyone. */
#define HOMING_ID_DEMO 1ULL
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
/* From a socket address (sa of len bytes, a struct sockaddr_in or _in6): an
 * IPv4-mapped IPv6 address comes out as IPv4. -EAFNOSUPPORT for another
 * family or a short len; out is then all zero. */
struct sockaddr;
int homing_addr_from_sockaddr(const struct sockaddr *sa, size_t len, struct homing_addr *out);
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
/* Replaces control characters and non-ASCII bytes with '?': a normalised ASCII
 * copy of the same length, for the library's own data (names it parses, stored
 * identifiers). To show outside text to a person use homing_str_escape, which
 * keeps what was there visible; dst needs cap >= 1. */
void homing_str_sanitize(char *dst, size_t cap, const char *src, size_t n);

/* Click destinations. Every way a link gets into the store (the API, `homing
 * message add`, `homing track`) passes it through homing_url_check, the store
 * refuses a link that is not in the form it gives, and the daemon checks a
 * stored link again before it writes it into a Location header. The rules
 * (docs/tracking.md, "Valid link destinations"):
 *   - an absolute http or https URL with "//" and a host; the scheme comes out
 *     in lower case; the whole URL is at most HOMING_URL_DEST_MAX bytes, as
 *     given and as written out (-E2BIG past it);
 *   - the host is a DNS name (letters, digits, '-', '_', '.': labels of at
 *     most 63 bytes, no empty label but an optional final dot), a dotted-quad
 *     IPv4 address (a name ending in a number must be one: no 0x7f.1 or
 *     2130706433), or an IPv6 address in brackets (no zone); a non-ASCII name
 *     comes out percent-encoded as UTF-8 (RFC 3986 section 3.2.2), which a
 *     browser turns into its xn-- form; at most HOMING_URL_HOST_MAX bytes;
 *   - an optional port 1 to 65535 (leading zeros and an empty port dropped);
 *   - no user name or password ("https://bank.example@evil.example/" reads
 *     as the bank's address to a person), no backslash anywhere (browsers
 *     read it as '/', other software does not);
 *   - no control character: C0 (TAB, LF and CR too), DEL, or C1 (U+0080 to
 *     U+009F); the input must be UTF-8;
 *   - in the path, query and fragment, what RFC 3986 does not allow but can be
 *     encoded is percent-encoded (space, non-ASCII, " < > [ ] ^ ` { | } , a
 *     second '#', a '%' not followed by two hex digits); valid %XX are kept.
 * So what comes out is printable ASCII without spaces, safe in a header, and
 * checking it again gives it back unchanged. Appends to out and returns 0;
 * -EINVAL for a URL that breaks a rule, -E2BIG, -ENOMEM; out is unchanged
 * on failure. why (may be NULL) gets a short static reason on failure. */
#define HOMING_URL_DEST_MAX 2048
#define HOMING_URL_HOST_MAX 253
int homing_url_check(const char *in, size_t len, struct homing_buf *out, const char **why);
/* Whether s[0, n) could go into an HTTP header value as it is: non-empty,
 * every byte printable ASCII other than space (0x21 to 0x7e). What
 * homing_url_check writes always is. */
int homing_url_header_safe(const char *s, size_t n);
/* Output escaping (docs/hacking.md, "Output escaping"). Text from outside is
 * written with C0 controls, DEL, C1 controls (U+0080..U+009F), U+2028/U+2029
 * and the bidirectional overrides and isolates (U+202A..U+202E,
 * U+2066..U+2069) as escapes ("\x1b", "\t", "\r", "\n", "\u009b",
 * "\u202e"), bytes that are not UTF-8 as "\xHH" and '\\' doubled. With
 * HOMING_ESCAPE_UTF8 other non-ASCII code points pass as UTF-8 (a UTF-8
 * terminal); without it they are escaped as "\u00e9" or "\U0001f600", so the
 * output is printable ASCII. One input byte gives at most
 * HOMING_ESCAPE_GROWTH output bytes. */
#define HOMING_ESCAPE_UTF8 1u
/* For text escaped once already (a notification's text): '\\' not doubled. */
#define HOMING_ESCAPE_KEEP_BACKSLASH 2u
#define HOMING_ESCAPE_GROWTH         4
/* For a colour terminal (homing trace on a tty): each escape is also shown in
 * reverse red (SGR 1;7;31 ... 0), so a look-alike letter escaped as "\u0430"
 * stands out. One input byte then gives at most HOMING_ESCAPE_MARK_GROWTH
 * output bytes. */
#define HOMING_ESCAPE_MARK        4u
#define HOMING_ESCAPE_MARK_GROWTH 18
/* Into dst (cap >= 1, always terminated), cut at a whole unit when it does not
 * fit; returns the length written. */
size_t homing_str_escape(char *dst, size_t cap, const char *src, size_t n, unsigned flags);
/* Appended to b; 0, or -E2BIG / -ENOMEM from the buffer. */
int homing_buf_escape(struct homing_buf *b, const char *src, size_t n, unsigned flags);
/* For HTML text and attribute values (quoted with "): first as
 * homing_buf_escape with HOMING_ESCAPE_UTF8 (controls, bidirectional
 * overrides and broken UTF-8 shown as escapes), then & < > " ' as character
 * references. NULL writes nothing. 0, or -E2BIG / -ENOMEM. */
int homing_buf_html(struct homing_buf *b, const char *s);
/* Percent-decoding of a URL query or form value (application/
 * x-www-form-urlencoded: '+' is a space) into out (cap bytes with the NUL).
 * -EINVAL for a '%' not followed by two hex digits or a decoded NUL, -E2BIG
 * past cap. */
int homing_pct_decode(const char *s, size_t n, char *out, size_t cap);
/* The value of key in a query string or form body (the first one), decoded
 * into out: its length, -ENOENT when absent, or homing_pct_decode's error. */
int homing_form_get(const char *s, size_t n, const char *key, char *out, size_t cap);
/* One CSV cell (RFC 4180) of s (NULL = ""), escaped as above so it holds no CR
 * or LF, quoted when it holds ',' or '"' ('"' doubled), and a cell starting
 * with = + - @ TAB or CR prefixed with "'" (and quoted) so a spreadsheet shows
 * it as text instead of running it as a formula. Appends nothing on error. */
int homing_csv_cell(struct homing_buf *b, const char *s, unsigned flags);
/* 1 if code point cp is always escaped in output (C0, DEL, C1, U+2028..U+202E,
 * U+2066..U+2069). */
int homing_escape_codepoint(uint32_t cp);
/* The length (1..4) of the valid UTF-8 sequence at s[0..n) and its code point
 * in *cp; 0 when it is not one (overlong, surrogate, past U+10FFFF, cut). */
size_t homing_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Makes room for one more element in a growable array *arr of *cap elements of
 * size el, `used` of them in use: doubles the capacity (first: `first`), zeroes
 * the new slots, refuses sizes that would overflow (-E2BIG). Writes *arr and
 * *cap only on success. One implementation for every such array of libhoming. */
int homing_array_grow(void **arr, size_t *cap, size_t used, size_t el, size_t first);

/* A JSON string (jansson json_t *, owned by the caller) for text from outside:
 * NULL gives JSON null; text that is not UTF-8 comes out in its escaped form
 * (homing_str_escape with HOMING_ESCAPE_UTF8) instead of being refused. */
void *homing_json_text(const char *s);
/* Appends to b the JSON text homing_json_dumps (without JSON_ENSURE_ASCII or
 * JSON_ESCAPE_SLASH) writes for homing_json_text(s), byte for byte: "null", or
 * the string quoted with '"', '\\', control characters, DEL, C1 controls,
 * U+2028..U+202E and U+2066..U+2069 escaped. 0 or -E2BIG or -ENOMEM. */
int homing_json_buf_text(struct homing_buf *b, const char *s);
/* json_dumps of a jansson json_t * with DEL, the C1 controls, U+2028..U+202E
 * and U+2066..U+2069 written as "\u009b" instead of raw UTF-8 (json_dumps
 * leaves them raw): the only way homing writes a JSON document. NULL on error;
 * free() the result. */
char *homing_json_dumps(const void *json, size_t flags);
/* The same written to f; 0, -ENOMEM or -EIO. */
int homing_json_dumpf(const void *json, FILE *f, size_t flags);
/* Escapes, as above, the output of json_dumps (which it takes: it returns text
 * or a new copy and frees text, or NULL). */
char *homing_json_escape_dump(char *text);

#endif
