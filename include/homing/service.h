/*
 * homing/service.h: the use cases every front end calls, so that the admin
 * API, the CLI, `homing track` and the relay to come behave alike: one
 * validation of a message to register, in one place.
 *
 * Contract: functions return 0 or a negative errno; on failure err (if not
 * NULL) gets a one-line reason naming the field, with any outside text in it
 * escaped (homing_str_escape), ready for an HTTP answer or a terminal.
 */
#ifndef HOMING_SERVICE_H
#define HOMING_SERVICE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "homing/store.h"

#define HOMING_MESSAGE_TEXT_MAX 998 /* subject and Message-ID: one RFC 5322 line */
#define HOMING_MESSAGE_ADDR_MAX 320 /* an address: RFC 5321's path, with room to spare */
#define HOMING_MESSAGE_ERR_MAX  512 /* room for any reason the checks give */

/* A message to register, as a front end received it. Nothing here is trusted. */
struct homing_message_request {
    const char *message_id; /* NULL: none */
    const char *subject;    /* NULL: none */
    const char *sender;     /* NULL: none */
    const char *const *recipients;
    size_t n_recipients;
    const char *const *links; /* click destinations as given, or {{doc:NAME}} placeholders */
    size_t n_links;
    int mode;             /* enum homing_message_mode */
    int tracking;         /* enum homing_tracking (not INHERIT) */
    const char *campaign; /* NULL: none (homing_campaign_ok) */
};

/* The rules (docs/api.md, "Registering a message"): a subject is well-formed
 * UTF-8 of 1 to HOMING_MESSAGE_TEXT_MAX bytes on one line (no CR, LF or NUL;
 * other controls are kept and escaped wherever they are shown); a Message-ID
 * is the same without spaces; the sender and each recipient are addresses
 * (local@domain, at most HOMING_MESSAGE_ADDR_MAX bytes, no space, C0 or C1
 * control, DEL, '<', '>' or ','); 1 to HOMING_STORE_RECIPIENTS_MAX recipients and at most
 * HOMING_STORE_LINKS_MAX links; each link passes homing_url_check (and is
 * registered in the form it gives) or is a {{doc:NAME}} placeholder of
 * `homing track`. -EINVAL or -E2BIG (too many) with err; -ENOMEM. */
/* Whether s is an address by the rules above: for front ends that check an
 * address before they have a whole request (`homing track --to`). */
int homing_message_address_ok(const char *s);
int homing_message_subject_ok(const char *s);

struct homing_message_checked {
    char **links; /* the destinations as they will be stored */
    size_t n_links;
};
int homing_message_check(const struct homing_message_request *rq,
                         struct homing_message_checked *out, char *err, size_t errcap);
void homing_message_checked_free(struct homing_message_checked *c);

/* Checks rq, registers it (homing_store_message_add) and sets its tracking
 * mode, so a message is never left registered with the wrong one: the mode is
 * set in a second transaction, and a failure there removes nothing but is
 * reported (err). *id_out is its public id. */
int homing_message_register(struct homing_store *st, const struct homing_message_request *rq,
                            uint64_t *id_out, char *err, size_t errcap);

/* The admin API's body of POST /api/v1/messages: a JSON object with
 * "recipients" (array of strings, required), "links" (array of strings),
 * "subject", "from", "message_id", "campaign", "mode" ("per-recipient" or
 * "per-message") and "tracking" ("off", "delivery", "anonymous" or "individual"). Fills rq
 * with pointers into *hold, which the caller frees with
 * homing_message_json_free once done with rq. At most HOMING_MESSAGE_JSON_MAX
 * bytes (the admin listener's body limit is smaller). -EINVAL with err. */
#define HOMING_MESSAGE_JSON_MAX (16u << 20)
int homing_message_request_json(const char *body, size_t len, struct homing_message_request *rq,
                                void **hold, char *err, size_t errcap);
void homing_message_json_free(void *hold);

/* The privacy sweep (docs/privacy.md), one use case for the daemon's
 * background thread and `homing privacy sweep`: client addresses truncated up
 * to the enrichment cursor (privacy.truncate, privacy.truncate_v4,
 * privacy.truncate_v6), then, when `retention` is set and
 * privacy.retention_days > 0, events past it rolled up and deleted. */
#define HOMING_PRIVACY_RETENTION_MAX 36500 /* days: a hundred years */
struct homing_config;
struct homing_privacy_settings {
    int truncate;
    unsigned v4_bits, v6_bits;
    long long retention_days;
};
struct homing_privacy_sweep_result {
    int64_t truncated, rolled, deleted;
};
/* -EINVAL with err naming the option. */
int homing_privacy_settings_read(const struct homing_config *c, struct homing_privacy_settings *p,
                                 char *err, size_t errcap);
int homing_privacy_sweep(struct homing_store *s, const struct homing_privacy_settings *p,
                         int retention, struct homing_privacy_sweep_result *out);

/* The figures of homing_store_stats as the API, `homing stats --json` and
 * the dashboard show them (docs/reports.md, "Campaigns and rates"): counts in
 * human, machine, unknown and all forms, bounces by reason, clicks per link,
 * and rates each with its definition (null where the base is 0). NULL when
 * out of memory. */
json_t *homing_stats_json(const struct homing_stats *st);
/* Recipients known delivered: delivered, read and complained states. */
int64_t homing_stats_delivered(const struct homing_stats *st);
/* {"bucket": "hour"|"day", "points": [{"t", "kind", "class", "count"}]},
 * class "delivery" for the delivery kinds. */
json_t *homing_stats_series_json(const struct homing_stats_point *p, size_t n, int64_t bucket_us);

/* The query string of the admin API's GET /api/v1/messages, /campaigns and
 * /stats (docs/api.md): campaign (percent-encoded; empty: messages without
 * one), message (public id), since and until (YYYY-MM-DD or RFC 3339 UTC),
 * state, limit (1..HOMING_MESSAGE_PAGE_MAX), cursor (a page's "next") and
 * bucket (hour or day, into text->bucket_us). Fills q, with text holding
 * what q points to. An unknown parameter, a bad value or more than
 * HOMING_QUERY_MAX bytes: -EINVAL / -E2BIG with a one-line reason in err. */
#define HOMING_QUERY_MAX           2048
#define HOMING_QUERY_LIMIT_DEFAULT 50
struct homing_query_text {
    char campaign[HOMING_CAMPAIGN_MAX + 1];
    int64_t bucket_us; /* 0 when not given */
};
int homing_message_query_parse(const char *qs, size_t n, struct homing_message_query *q,
                               struct homing_query_text *text, char *err, size_t errcap);

/* One-time sign-in links for the dashboard (lib/service/ui_link.c): create
 * stores the hash of a new random token (HOMING_UI_LINK_MAX bytes with the
 * NUL) valid ttl_s seconds, replacing any earlier one; redeem is 0 for the
 * outstanding token before its expiry, and clears it either way; -EACCES for
 * any other text. */
#define HOMING_UI_LINK_MAX       44 /* 43 base64url characters and the NUL */
#define HOMING_UI_LINK_TTL_S     900
#define HOMING_UI_LINK_TTL_MAX_S 86400
#define HOMING_UI_LINK_SYNC      "ui-link" /* its row in the store's sync table */
int homing_ui_link_create(struct homing_store *s, int ttl_s, char token_out[HOMING_UI_LINK_MAX]);
int homing_ui_link_redeem(struct homing_store *s, const char *token);
/* The suppression list at sending time (docs/suppression.md), for `homing
 * send` and `homing relay`. sender is the message's From address (the one
 * messages are registered with: the first mailbox of the From header, what
 * `homing track` stores), not the envelope sender nor an account name; NULL
 * or "" when there is none, then only entries for every sender count.
 * Returns 1 when mail from sender to rcpt must not go (the entry in *hit,
 * which may be NULL), 0 when it may, or a negative errno (-EINVAL for an
 * rcpt that is not an address): a caller that cannot check must not send.
 * A one-line reason for a refusal, with the address escaped, goes in err
 * (may be NULL): "ADDR is on the suppression list (REASON since DATE)". */
struct homing_suppression;
int homing_suppressed(struct homing_store *st, const char *sender, const char *rcpt,
                      struct homing_suppression *hit, char *err, size_t errcap);
/* Records the refusal of one recipient of a registered message: a
 * `suppression` event {"action": "refused", "reason", "address", "sender",
 * "by"} for (message, recipient); `by` names the front end ("send",
 * "relay"). */
int homing_suppress_refused(struct homing_store *st, uint64_t message, uint32_t recipient,
                            const struct homing_suppression *hit, const char *by);

#endif
