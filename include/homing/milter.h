/*
 * homing/milter.h: the Sendmail milter protocol (version 6, as Postfix and
 * Sendmail speak it), as a codec with no I/O: it frames packets out of bytes
 * read from the MTA, decodes their payloads, and encodes the filter's
 * replies. `homing milter` (src/cli/milter.c) drives it over its sockets;
 * fuzz/fuzz_milter_proto.c and tests/unit/test_milter_proto.c drive it
 * directly. See docs/milter.md ("How it is built").
 *
 * Wire format: every packet is a 4-byte length in network byte order, then
 * that many bytes: one command (or reply) letter and its data. Strings in the
 * data are NUL-terminated; 32-bit numbers are in network byte order.
 *
 * Contract: every decoder checks each length against the bytes it was given
 * and answers -EBADMSG for a payload that is short, long or unterminated,
 * never reading past len; outputs are written only on success and point into
 * the caller's bytes (nothing is allocated). A packet whose length is 0 or
 * larger than HOMING_MILTER_PACKET_MAX is -EMSGSIZE: the connection cannot be
 * resynchronised and must be closed. Encoders append one whole packet to a
 * homing_buf or nothing (-E2BIG past the buffer's max or the packet max,
 * -EINVAL for a string the protocol cannot carry).
 */
#ifndef HOMING_MILTER_H
#define HOMING_MILTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "homing/util.h"

/* Bytes of one packet's command letter and data. The MTA sends body chunks
 * of at most 65535 bytes unless a larger size is negotiated (we never ask),
 * but Postfix passes a header up to its header_size_limit (102400) in one
 * packet: 1 MiB covers both with room, and bounds what one packet costs. */
#define HOMING_MILTER_PACKET_MAX (1u << 20)
#define HOMING_MILTER_LEN_BYTES  4     /* the length prefix */
#define HOMING_MILTER_VERSION    6     /* the protocol version we speak */
#define HOMING_MILTER_CHUNK_MAX  65535 /* bytes of one REPLBODY packet we send */
#define HOMING_MILTER_ARGS_MAX   64    /* strings decoded from one MAIL/RCPT/MACRO packet */

/* Commands, MTA to filter. */
enum {
    HOMING_MILTER_ABORT = 'A',
    HOMING_MILTER_BODY = 'B',
    HOMING_MILTER_CONNECT = 'C',
    HOMING_MILTER_MACRO = 'D',
    HOMING_MILTER_BODYEOB = 'E',
    HOMING_MILTER_HELO = 'H',
    HOMING_MILTER_QUIT_NC = 'K',
    HOMING_MILTER_HEADER = 'L',
    HOMING_MILTER_MAIL = 'M',
    HOMING_MILTER_EOH = 'N',
    HOMING_MILTER_OPTNEG = 'O',
    HOMING_MILTER_QUIT = 'Q',
    HOMING_MILTER_RCPT = 'R',
    HOMING_MILTER_DATA = 'T',
    HOMING_MILTER_UNKNOWN = 'U',
};

/* Replies, filter to MTA. */
enum {
    HOMING_MILTER_R_ACCEPT = 'a',
    HOMING_MILTER_R_REPLBODY = 'b',
    HOMING_MILTER_R_CONTINUE = 'c',
    HOMING_MILTER_R_DISCARD = 'd',
    HOMING_MILTER_R_ADDHEADER = 'h',
    HOMING_MILTER_R_INSHEADER = 'i',
    HOMING_MILTER_R_CHGHEADER = 'm',
    HOMING_MILTER_R_PROGRESS = 'p',
    HOMING_MILTER_R_QUARANTINE = 'q',
    HOMING_MILTER_R_REJECT = 'r',
    HOMING_MILTER_R_TEMPFAIL = 't',
    HOMING_MILTER_R_REPLYCODE = 'y',
};

/* Actions the filter may take (OPTNEG's second word). */
#define HOMING_MILTER_F_ADDHDRS    0x01u
#define HOMING_MILTER_F_CHGBODY    0x02u
#define HOMING_MILTER_F_CHGHDRS    0x10u
#define HOMING_MILTER_F_QUARANTINE 0x20u

/* Protocol steps (OPTNEG's third word): events the MTA leaves out (NO*) and
 * events it expects no reply to (NR_*). */
#define HOMING_MILTER_P_NOHELO    0x00000002u
#define HOMING_MILTER_P_NR_HDR    0x00000080u
#define HOMING_MILTER_P_NOUNKNOWN 0x00000100u
#define HOMING_MILTER_P_NODATA    0x00000200u
#define HOMING_MILTER_P_NR_MAIL   0x00004000u
#define HOMING_MILTER_P_NR_RCPT   0x00008000u
#define HOMING_MILTER_P_NR_EOH    0x00040000u
#define HOMING_MILTER_P_NR_BODY   0x00080000u

/* One framed packet: data points into the caller's bytes. */
struct homing_milter_packet {
    int cmd;
    const char *data;
    size_t len;
};

/* Frames the first packet of buf[0..len): the bytes it took (> 0), 0 when
 * buf holds only part of it, -EMSGSIZE for a length of 0 or over
 * HOMING_MILTER_PACKET_MAX (known from the 4-byte prefix alone, so a
 * reader never buffers more than one maximal packet). */
ssize_t homing_milter_frame(const void *buf, size_t len, struct homing_milter_packet *out);

/* OPTNEG: the MTA's version, actions and protocol steps (3 words; more bytes
 * are allowed and ignored, as later versions may append). */
int homing_milter_optneg_parse(const char *data, size_t len, uint32_t *version, uint32_t *actions,
                               uint32_t *steps);

/* A run of NUL-terminated strings filling data exactly (MAIL, RCPT: the
 * address and its ESMTP arguments): up to max pointers into data, *n set;
 * -EBADMSG when the last is unterminated or data is empty, -E2BIG past max. */
int homing_milter_strings(const char *data, size_t len, const char **argv, size_t max, size_t *n);

/* HEADER: exactly "name\0value\0"; -EBADMSG for an empty name or other
 * shapes. */
int homing_milter_header_parse(const char *data, size_t len, const char **name, const char **value);

/* MACRO: the command letter the macros belong to, then name\0value\0 pairs.
 * The value of macro `name` (its name with or without braces: "i" finds
 * "{i}" too) in *value, or -ENOENT; -EBADMSG for a malformed packet. */
int homing_milter_macro_find(const char *data, size_t len, const char *name, const char **value);

/* CONNECT: "host\0" family ('4', '6', 'L' unix, 'U' unknown), then for the
 * first three a port (2 bytes) and "address\0". Only checked and the host
 * given: nothing here needs the address. */
int homing_milter_connect_parse(const char *data, size_t len, const char **host, int *family);

/* Encoders: one packet appended to out. */
int homing_milter_put(struct homing_buf *out, int cmd, const void *data, size_t len);
int homing_milter_put_optneg(struct homing_buf *out, uint32_t version, uint32_t actions,
                             uint32_t steps);
/* ADDHEADER (cmd 'h', index ignored), CHGHEADER ('m': the index-th header of
 * that name, 1-based; value NULL deletes it) or INSHEADER ('i'); -EINVAL for
 * a name that is empty, or a name or value holding a NUL's place (they are C
 * strings) or CR/LF outside a fold (the MTA would take it as a new header). */
int homing_milter_put_header(struct homing_buf *out, int cmd, uint32_t index, const char *name,
                             const char *value);
/* REPLYCODE: "CODE X.Y.Z text" (code 4xx or 5xx); control characters in text
 * are sent as spaces so the reply stays one line. */
int homing_milter_put_reply(struct homing_buf *out, const char *code, const char *xcode,
                            const char *text);
/* QUARANTINE with its reason (control characters as spaces). */
int homing_milter_put_quarantine(struct homing_buf *out, const char *reason);

/* The name of a command or reply letter for logs ("HEADER", "?" unknown). */
const char *homing_milter_cmd_name(int cmd);

#endif
