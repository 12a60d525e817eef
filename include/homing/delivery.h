/*
 * homing/delivery.h: what happened to a sent message on its way: reports read
 * back (homing ingest), mail-server logs (homing ingest-log) and the SMTP
 * submission itself (homing send).
 *
 * Contract:
 * - Every recorded fact is an event (homing/event.h) with a JSON detail, plus a
 *   recipient state change that never goes backwards (a late "delayed" never
 *   hides an earlier "delivered" or "bounced"); see homing_delivery_state_rank.
 * - Replaying a source (the same report, the same log line) records nothing
 *   new: each is recorded with homing_store_events_append_once.
 * - Functions return 0 or a negative errno; a store error is the only failure
 *   of ingestion (the input itself is never a failure: a report that cannot be
 *   read or tied to a message is kept in the store's unmatched list).
 */
#ifndef HOMING_DELIVERY_H
#define HOMING_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "homing/store.h"
#include "homing/token.h"

/* ---- recipient states ---- */

/* Rank of a recipient state: a new state replaces the current one only if its
 * rank is at least as high. Unknown states rank 0 (like "registered"). */
int homing_delivery_state_rank(const char *state);
/* Sets recipient index of message to state if it ranks at least as high as the
 * current one. 0 also when it was left unchanged; -ENOENT for no such recipient. */
int homing_delivery_state_apply(struct homing_store *s, uint64_t message, uint32_t index,
                                const char *state, int64_t at_us);

/* ---- VERP ---- */

#define HOMING_VERP_FORMAT_MAX 256 /* bytes of send.verp */
#define HOMING_VERP_ADDR_MAX   320

/* Writes the VERP address of a recipient: format with "{token}" replaced by a
 * fresh HOMING_TOKEN_VERP token. -EINVAL if format has no single "{token}" or
 * no '@' after it. */
int homing_verp_address(const char *format, const struct homing_keyring *k, uint64_t message,
                        uint32_t recipient, char *out, size_t cap);
/* Finds a verifying VERP token anywhere in text (a local part or address). */
int homing_verp_find(const struct homing_keyring *k, const char *text, struct homing_token *out);

/* ---- homing ingest ---- */

enum homing_ingest_outcome {
    HOMING_INGEST_MATCHED = 1,    /* events recorded */
    HOMING_INGEST_UNMATCHED = 2,  /* a report no message could be tied to: kept */
    HOMING_INGEST_UNPARSABLE = 3, /* not readable as a message: kept */
    HOMING_INGEST_DUPLICATE = 4,  /* this very report was recorded before */
};

#define HOMING_INGEST_REASON_MAX 160

struct homing_ingest_result {
    int outcome;      /* enum homing_ingest_outcome */
    int report_kind;  /* enum homing_report_kind */
    uint64_t message; /* matched message, 0 if none */
    size_t n_events;
    const char *matched_by;                /* static: "verp", "envid", "original-message-id", ... */
    char reason[HOMING_INGEST_REASON_MAX]; /* why unmatched / unparsable */
};

/* Reads one report (raw message of len bytes), ties it to a message and
 * recipients, records events and state changes, or keeps it as unmatched with
 * its reason. source names where it came from ("stdin", "maildir:...").
 * keys may be NULL (then VERP tokens are not tried). Returns 0 with *res
 * filled, or a negative errno for a store failure (nothing is recorded then:
 * try again later). */
int homing_ingest_report(struct homing_store *s, const struct homing_keyring *keys,
                         const char *source, const char *data, size_t len,
                         struct homing_ingest_result *res);

/* ---- homing ingest-log: the pure line parser ---- */

#define HOMING_MAILLOG_LINE_MAX  8192 /* longest log line read */
#define HOMING_MAILLOG_QID_MAX   40   /* queue id bytes + NUL */
#define HOMING_MAILLOG_ADDR_MAX  320  /* address bytes + NUL */
#define HOMING_MAILLOG_MSGID_MAX 512  /* Message-ID bytes + NUL */
#define HOMING_MAILLOG_RELAY_MAX 256
#define HOMING_MAILLOG_TEXT_MAX  1024 /* reply text kept */

enum homing_maillog_flavour {
    HOMING_MAILLOG_POSTFIX = 1,
    HOMING_MAILLOG_EXIM = 2,
};

enum homing_maillog_kind {
    HOMING_MAILLOG_OTHER = 0,  /* nothing homing needs */
    HOMING_MAILLOG_MSGID = 1,  /* queue id -> Message-ID */
    HOMING_MAILLOG_RESULT = 2, /* a delivery attempt's result for one recipient */
};

enum homing_maillog_status {
    HOMING_MAILLOG_DELIVERED = 1, /* postfix status=sent, exim => and -> */
    HOMING_MAILLOG_DEFERRED = 2,
    HOMING_MAILLOG_BOUNCED = 3, /* postfix bounced / expired, exim ** */
};

struct homing_maillog_line {
    int kind;        /* enum homing_maillog_kind */
    int status;      /* enum homing_maillog_status, for RESULT */
    int64_t time_us; /* 0 when the line's time could not be read */
    char qid[HOMING_MAILLOG_QID_MAX];
    char message_id[HOMING_MAILLOG_MSGID_MAX]; /* without angle brackets */
    char to[HOMING_MAILLOG_ADDR_MAX];
    char orig_to[HOMING_MAILLOG_ADDR_MAX];
    char dsn[16];
    char relay[HOMING_MAILLOG_RELAY_MAX];
    char text[HOMING_MAILLOG_TEXT_MAX];
};

/* Parses one line (without its newline) of a Postfix log (syslog or Postfix
 * 3.4+ maillog_file format, BSD or RFC 3339 time stamps) or an Exim main log.
 * now_us anchors BSD time stamps, which have no year. Returns 0 (kind OTHER
 * for a line of no interest), -E2BIG over HOMING_MAILLOG_LINE_MAX, -EINVAL for
 * bad arguments. Never allocates; fields are cut at their limits. */
int homing_maillog_parse(int flavour, const char *line, size_t len, int64_t now_us,
                         struct homing_maillog_line *out);

/* Records what a parsed line says: a MSGID line remembers the queue id of a
 * message homing registered (store sync_state), a RESULT line of such a queue
 * id becomes an event and a state change. key identifies the line for
 * idempotence. *recorded is set to 1 when an event was recorded. */
int homing_maillog_apply(struct homing_store *s, int flavour, const struct homing_maillog_line *l,
                         const char *key, int *recorded);

/* ---- homing send ---- */

enum homing_send_tls {
    HOMING_SEND_TLS_OFF = 0,
    HOMING_SEND_TLS_OPPORTUNISTIC = 1,
    HOMING_SEND_TLS_REQUIRED = 2,
};

#define HOMING_SEND_TEXT_MAX 512 /* reply text kept per recipient */

struct homing_send_options {
    const char *server;          /* host:port */
    int tls;                     /* enum homing_send_tls */
    const char *user, *password; /* AUTH, or NULL */
    const char *helo;            /* NULL: the host name */
    int timeout_s;
};

/* One envelope: one message body, one recipient, its own VERP sender. */
struct homing_send_item {
    const char *data; /* the message, CRLF or LF line ends */
    size_t len;
    const char *envid; /* the message's public id */
    const char *mail_from;
    const char *rcpt;
    int no_dsn; /* tracking mode off (docs/privacy.md): NOTIFY=NEVER, no report asked */
    /* results */
    int done;     /* 1 when the server answered for the recipient */
    int accepted; /* the message was accepted for this recipient */
    int code;     /* SMTP reply code (RCPT, else DATA), 0 if none */
    char text[HOMING_SEND_TEXT_MAX];
    /* the relay's queue id from its reply to DATA ("" if it named none) and
     * its form (enum homing_maillog_flavour, 0 if none) */
    char queue_id[HOMING_MAILLOG_QID_MAX];
    int queue_flavour;
};

/* The queue id in a relay's reply to DATA: Postfix's "queued as ID" or Exim's
 * "id=ID". Returns HOMING_MAILLOG_POSTFIX or _EXIM with out set, 0 when the
 * text names none (out ""), -EINVAL for bad arguments. */
int homing_send_queue_id(const char *text, char *out, size_t cap);

/* Remembers that the relay queued the copy of (message, recipient) as queue_id
 * (store sync_state "postfix-qid:ID" -> "PUBLICID:INDEX"), so that
 * homing_maillog_apply ties that queue id's log lines to this copy alone. */
int homing_maillog_remember(struct homing_store *s, int flavour, const char *queue_id,
                            uint64_t message, uint32_t recipient);

/* Sends items in one SMTP session. Returns 0 when the session ran (each item
 * then has its own result), or a negative errno with a one-line reason in err
 * for a session failure: -ECONNREFUSED/-EHOSTUNREACH (relay unreachable),
 * -EPROTO (TLS), -EACCES (authentication), -ETIMEDOUT, -EIO. */
int homing_send_session(const struct homing_send_options *o, struct homing_send_item *items,
                        size_t n, char *err, size_t errcap);

#endif
