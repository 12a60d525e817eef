/*
 * homing/relay.h: the SMTP server side of `homing relay` (docs/relay.md):
 * the command parser, the DATA decoder, AUTH PLAIN/LOGIN decoding, the
 * per-recipient copy (Bcc removed), the relay-user password hashes, and the
 * one use case that tracks a message per envelope recipient and hands each
 * copy to the smarthost.
 *
 * Contract: everything a client sends is untrusted. Every parser has named
 * limits below, returns 0 or a negative errno (-EINVAL bad syntax, -E2BIG over
 * a limit, -ENOSYS an unknown command or parameter) with a one-line reason
 * (an RFC 3463 enhanced status code, then text without the client's bytes) in
 * err, never allocates (except where it says so) and writes its outputs only
 * on success. The library never logs and never exits.
 */
#ifndef HOMING_RELAY_H
#define HOMING_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "homing/util.h"

/* RFC 5321 4.5.3.1.4: a command line is 512 octets with its CRLF. MAIL and
 * RCPT may grow by what their extensions add: RFC 3461 section 5 gives
 * ENVID 100 more, ORCPT 500 more; SIZE/BODY/RET/NOTIFY fit the rest. AUTH's
 * initial response may make the line 12288 octets (RFC 4954 section 4). */
#define HOMING_SMTP_LINE_MAX      512
#define HOMING_SMTP_MAIL_LINE_MAX (HOMING_SMTP_LINE_MAX + 100 + 64)
#define HOMING_SMTP_RCPT_LINE_MAX (HOMING_SMTP_LINE_MAX + 500 + 64)
#define HOMING_SMTP_AUTH_LINE_MAX 12288
/* The longest line the reader must hold before it can tell the verb. */
#define HOMING_SMTP_READ_LINE_MAX HOMING_SMTP_AUTH_LINE_MAX
/* RFC 5321 4.5.3.1: local part 64, domain 255, path 256 octets with <>. */
#define HOMING_SMTP_LOCAL_MAX  64
#define HOMING_SMTP_DOMAIN_MAX 255
#define HOMING_SMTP_PATH_MAX   256
#define HOMING_SMTP_ENVID_MAX  100                       /* RFC 3461 4.4: decoded ENVID */
#define HOMING_SMTP_ORCPT_MAX  500                       /* RFC 3461 4.2: addr-type ";" xtext */
#define HOMING_SMTP_PARAMS_MAX 8                         /* ESMTP parameters on one MAIL or RCPT */
#define HOMING_SMTP_ARG_MAX    HOMING_SMTP_AUTH_LINE_MAX /* HELO name, AUTH argument */
#define HOMING_SMTP_SIZE_MAX   (1ull << 40) /* a SIZE= beyond this is refused as absurd */

enum homing_smtp_verb {
    HOMING_SMTP_HELO = 1,
    HOMING_SMTP_EHLO,
    HOMING_SMTP_MAIL,
    HOMING_SMTP_RCPT,
    HOMING_SMTP_DATA,
    HOMING_SMTP_RSET,
    HOMING_SMTP_NOOP,
    HOMING_SMTP_QUIT,
    HOMING_SMTP_VRFY,
    HOMING_SMTP_HELP,
    HOMING_SMTP_STARTTLS,
    HOMING_SMTP_AUTH,
};

enum homing_smtp_body {
    HOMING_SMTP_BODY_NONE = 0,
    HOMING_SMTP_BODY_7BIT = 1,
    HOMING_SMTP_BODY_8BITMIME = 2,
};

enum homing_smtp_ret {
    HOMING_SMTP_RET_NONE = 0,
    HOMING_SMTP_RET_FULL = 1,
    HOMING_SMTP_RET_HDRS = 2,
};

/* NOTIFY= (RFC 3461 4.1): NEVER alone, or any of the other three. */
#define HOMING_SMTP_NOTIFY_NEVER   1u
#define HOMING_SMTP_NOTIFY_SUCCESS 2u
#define HOMING_SMTP_NOTIFY_FAILURE 4u
#define HOMING_SMTP_NOTIFY_DELAY   8u

/* One parsed command. path is the mailbox without its angle brackets and
 * source route ("" for MAIL's null path <>); arg is what follows HELO/EHLO
 * (a domain or address literal), VRFY/HELP/NOOP (unchecked text) or AUTH
 * (the mechanism, upper-cased, then one space and the initial response if
 * any). envid and orcpt are xtext-decoded. */
struct homing_smtp_cmd {
    int verb; /* enum homing_smtp_verb */
    char path[HOMING_SMTP_PATH_MAX + 1];
    char arg[HOMING_SMTP_ARG_MAX + 1];
    unsigned long long size; /* SIZE=, 0 when not given */
    int has_size;
    int body;        /* enum homing_smtp_body */
    int ret;         /* enum homing_smtp_ret */
    unsigned notify; /* HOMING_SMTP_NOTIFY_*, 0 when not given */
    char envid[HOMING_SMTP_ENVID_MAX + 1];
    char orcpt[HOMING_SMTP_ORCPT_MAX + 1]; /* "rfc822;bob@example.org", decoded */
};

/* Parses one command line (without its CRLF; len bytes, no NUL needed).
 * -E2BIG: the line is longer than its verb allows; -ENOSYS: an unknown
 * command (err "5.5.1 ...") or an unknown ESMTP parameter ("5.5.4 ...");
 * -EINVAL: bad syntax ("5.5.2"/"5.5.4"/"5.1.3"/"5.1.7" ...). A NUL, CR or LF
 * in the line, or a byte above 0x7e in a path, is -EINVAL. */
int homing_smtp_parse(const char *line, size_t len, struct homing_smtp_cmd *out, char *err,
                      size_t errcap);

/* The DATA stream decoder: the bytes after "354" up to and including
 * CRLF "." CRLF, with RFC 5321 4.5.2 dot-unstuffing. The message (with CRLF
 * line ends, as received) goes to out, at most max bytes: past it the decoder
 * keeps reading, drops what it reads and reports -E2BIG at the end, so the
 * session stays in step. A bare LF or bare CR (SMTP smuggling, RFC 5321
 * 2.3.8) is remembered and reported as -EBADMSG at the end: only CRLF "."
 * CRLF ends the data. */
struct homing_smtp_data {
    struct homing_buf *out;
    size_t max;
    int state; /* private */
    int over, bare;
};
void homing_smtp_data_init(struct homing_smtp_data *d, struct homing_buf *out, size_t max);
/* Feeds n bytes; *used is how many were consumed. Returns 1 when the end of
 * data was consumed (the bytes after it belong to the next command), 0 when
 * more is needed, or at the end -E2BIG (over max), -EBADMSG (bare CR or LF),
 * -ENOMEM. */
int homing_smtp_data_feed(struct homing_smtp_data *d, const char *in, size_t n, size_t *used);

/* AUTH (RFC 4954): PLAIN's response (RFC 4616, base64 of
 * [authzid] NUL authcid NUL passwd) and LOGIN's two base64 lines. The
 * decoded user and password go to user/pass (caps include the NUL); an
 * authzid other than empty or the user is refused (-EPERM). "*" (the client
 * cancels) is -ECANCELED. */
#define HOMING_RELAY_USER_MAX 128
#define HOMING_RELAY_PASS_MAX 256
int homing_smtp_auth_plain(const char *b64, size_t len, char *user, size_t ucap, char *pass,
                           size_t pcap);
int homing_smtp_auth_b64(const char *b64, size_t len, char *out, size_t cap);

/* Whether a relay user name is acceptable: 1..HOMING_RELAY_USER_MAX-1 bytes
 * of printable ASCII without space or ':'. */
int homing_relay_user_ok(const char *name);

/* The campaign a message is counted in, named by the sending client (#13):
 * read by the relay, removed from every copy. */
#define HOMING_RELAY_CAMPAIGN_FIELD "X-Homing-Campaign"
/* The value of the first header field called name (case-insensitive) in the
 * message's header block, unfolded and trimmed, into out (cap bytes with the
 * NUL): its length, -ENOENT when there is none, -E2BIG past cap, -EINVAL for
 * a NUL byte in it. */
int homing_relay_header(const char *msg, size_t len, const char *name, char *out, size_t cap);

/* The tracking a message gets (docs/relay.md, "What is tracked"): none (sent
 * as it came), one copy for everyone (per-message tokens) or a copy per
 * recipient. The client asks with X-Homing-Track; relay.track_senders and
 * relay.track give the default per sender. */
enum homing_relay_track {
    HOMING_RELAY_TRACK_NO = 0,
    HOMING_RELAY_TRACK_MESSAGE = 1,
    HOMING_RELAY_TRACK_RECIPIENT = 2,
};
#define HOMING_RELAY_TRACK_FIELD "X-Homing-Track"
#define HOMING_RELAY_SENDERS_MAX 1000 /* entries of relay.track_senders */
/* "no", "message" or "recipient" (any case), or -EINVAL. */
int homing_relay_track_parse(const char *s);
/* relay.track_senders: "ADDRESS=MODE" or "DOMAIN=MODE" entries separated by
 * commas or blanks; 0, or -EINVAL for a malformed map. */
int homing_relay_senders_check(const char *map);
/* The mode for an envelope sender: its address's entry in map, else its
 * domain's, else dflt; -EINVAL for a malformed map. */
int homing_relay_track_for(const char *map, int dflt, const char *sender);
/* Why a message must pass untouched whatever tracking was asked for (a
 * static one-line reason), or NULL: signed or encrypted (top-level
 * multipart/signed, multipart/encrypted, application/(x-)pkcs7-mime, or an
 * inline PGP armour line), or a copy homing already tracked (X-Homing-Copy). */
const char *homing_relay_untouchable(const char *msg, size_t len);

/* The message every envelope recipient's copy is made from, appended to out:
 * the header fields Bcc, Resent-Bcc and the relay's control fields
 * (X-Homing-Campaign, X-Homing-Track, X-Homing-Copy) are removed; with message_id (without
 * angle brackets) not NULL, every Message-ID field too, and
 * "Message-ID: <message_id>" CRLF is put first. Every other byte is kept; a
 * message without a blank line is all header. -ENOMEM / -E2BIG (out's max). */
int homing_relay_strip_bcc(const char *msg, size_t len, const char *message_id,
                           struct homing_buf *out);

#endif
