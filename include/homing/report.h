/*
 * homing/report.h: reads one delivery report -- a DSN (RFC 3464 / RFC 6533), a
 * non-standard bounce of a common MTA or provider, an MDN (RFC 8098), an ARF
 * complaint (RFC 5965) or an auto-reply (RFC 3834) -- and says what it reports.
 *
 * Contract: homing_report_parse never crashes on any input; it returns 0 and a
 * report (kind HOMING_REPORT_NONE when the message is none of the above), or
 * -EINVAL (NULL or empty input), -E2BIG (bigger than HOMING_REPORT_SIZE_MAX) or
 * -ENOMEM, writing *out only on success. Line ends LF, CRLF and CR are all
 * accepted. Parts past HOMING_REPORT_PARTS_MAX and recipient blocks past
 * HOMING_REPORT_RCPTS_MAX are not examined (the report says so in `truncated`);
 * header and text lines are read up to HOMING_REPORT_LINE_MAX bytes.
 *
 * Every string in the report is NUL-terminated, owned by the report, and NULL
 * when unknown; reason names are static strings from the taxonomy in
 * docs/delivery.md (Sisimai's names). The text is attacker-controlled: escape it
 * (homing_str_sanitize) before printing it to a terminal or log.
 */
#ifndef HOMING_REPORT_H
#define HOMING_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#define HOMING_REPORT_SIZE_MAX  (32u * 1024 * 1024) /* whole message, bytes */
#define HOMING_REPORT_PARTS_MAX 64                  /* MIME parts examined */
#define HOMING_REPORT_DEPTH_MAX 8                   /* multipart nesting */
#define HOMING_REPORT_RCPTS_MAX 256                 /* recipient blocks kept */
#define HOMING_REPORT_LINE_MAX  8192                /* bytes of one (unfolded) line */
#define HOMING_REPORT_TEXT_MAX  (256u * 1024)       /* bounce text examined */

enum homing_report_kind {
    HOMING_REPORT_NONE = 0,
    HOMING_REPORT_DSN,       /* multipart/report with (global-)delivery-status */
    HOMING_REPORT_BOUNCE,    /* a non-standard bounce read from its text */
    HOMING_REPORT_MDN,       /* message/disposition-notification */
    HOMING_REPORT_ARF,       /* message/feedback-report */
    HOMING_REPORT_AUTOREPLY, /* vacation / out of office: never a bounce */
};

struct homing_report_rcpt {
    char *address;            /* final recipient, lower-cased */
    char *original_recipient; /* ORCPT / Original-Recipient, lower-cased */
    char *action;             /* failed, delayed, delivered, relayed, expanded */
    char *status;             /* C.S.D */
    char *reply_code;         /* 3-digit SMTP reply code */
    const char *reason;       /* static taxonomy name, never NULL */
    bool hard;                /* follows the reason (see homing_report_reason_hard) */
    char *diagnostic;         /* diagnostic text, unfolded */
    char *remote_mta;
    char *last_attempt; /* Last-Attempt-Date as written */
};

struct homing_report {
    enum homing_report_kind kind;
    size_t n_rcpts;
    struct homing_report_rcpt *rcpts;
    bool truncated; /* a limit stopped the reading early */

    char *reporting_mta;
    char *feedback_type;       /* ARF */
    char *disposition;         /* MDN: displayed, deleted, dispatched, processed */
    char *disposition_mode;    /* MDN: e.g. "manual-action/MDN-sent-manually" */
    char *original_message_id; /* Original-Message-ID, else the returned one */
    char *subject;             /* of the report itself, decoded */

    /* Correlation keys, each NULL when absent. */
    char *verp;  /* local part of the bounce's envelope recipient, case kept */
    char *envid; /* Original-Envelope-Id */
    char *in_reply_to;
    char *references;
    char *returned_message_id; /* Message-ID in the returned headers */
};

const char *homing_report_kind_name(enum homing_report_kind kind);
int homing_report_parse(const char *data, size_t len, struct homing_report **out);
void homing_report_parsed_free(struct homing_report *r);

/* Sisimai's hard/soft semantics: userunknown, hostunknown and hasmoved are hard,
 * notaccept is hard unless the code is 4xx, everything else is soft or not a
 * bounce. code is the status or reply code, or NULL. */
bool homing_report_reason_hard(const char *reason, const char *code);

#endif
