/*
 * homing/notify.h: notifications ("who opened it"): what the sender hears about,
 * the moment it happens, through signed webhooks and the live stream.
 *
 * Layers:
 *   homing_notify_add     the producer API: adds one notification to the store's
 *                         outbox; its webhook deliveries are created with it in
 *                         the same transaction (homing_store_notification_add).
 *   homing_notify_policy  which notifications a committed event deserves: a pure
 *                         function of the event and of facts the caller looked up
 *                         (first open of the recipient? new reader? verdict?).
 *   homing_notify_sign    the webhook signature: HMAC-SHA-256 over
 *                         "TIMESTAMP.BODY" with the webhook's secret.
 *   homing_notify_post    one signed webhook POST (libcurl, with timeouts).
 *   homing_sse_*          a bounded parser of a text/event-stream (homing watch).
 *
 * Contract: functions return 0 (or a length) on success and a negative errno on
 * failure, writing outputs only on success; nothing logs or exits. Notification
 * ids come from the store and never repeat: receivers dedupe by id.
 */
#ifndef HOMING_NOTIFY_H
#define HOMING_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "homing/event.h"
#include "homing/store.h"
#include "homing/util.h"

struct homing_config;
struct homing_webhook_guard;
struct homing_enrichment;
struct homing_message;

/* The notification kinds (HOMING_NOTIFY_KINDS, comma-separated, for help texts). */
#define HOMING_NOTIFY_KINDS                                                                        \
    "open,new-reader,click,document-open,delivered,bounced,delayed,read,complaint"
/* 1 if s names a notification kind. */
int homing_notify_kind_valid(const char *s);
/* Checks a webhook filter: "*" or comma-separated kinds (blanks allowed around
 * commas). Writes the normalised filter (no blanks) into out; -EINVAL naming
 * nothing for an unknown kind, -E2BIG if it does not fit. */
int homing_notify_filter_normalise(const char *filter, char *out, size_t cap);

/* ---- Producer API ------------------------------------------------------------ */

#define HOMING_NOTIFY_TEXT_MAX 512 /* bytes of the human-readable line, NUL included */

/* Adds a notification of kind (see HOMING_NOTIFY_KINDS) about message /
 * recipient (item: link index of a click, else 0) coming from event
 * source_event (0: none). text is the one-line summary a person reads; payload
 * (a jansson json_t * object, or NULL) carries the facts, and gets "text" added.
 * The payload is not consumed. reader is a fingerprint (16 hex) or NULL.
 * -EEXIST when source_event already gave a notification of this kind (so the
 * caller may re-run the policy over events after a crash), -EINVAL for an
 * unknown kind. *id_out (may be NULL) gets the stable notification id. */
int homing_notify_add(struct homing_store *s, const char *kind, uint64_t message,
                      uint32_t recipient, uint32_t item, int64_t source_event, const char *reader,
                      const char *text, const void *payload, int64_t *id_out);

/* The notification as the JSON object webhooks receive, the stream sends and
 * `homing watch --json` prints: {"id", "kind", "time" (RFC 3339), "time_us",
 * "message" (16 hex), "recipient", "item", "event", "text", "payload"}. A
 * jansson json_t * the caller owns; NULL on allocation failure. */
void *homing_notification_json(const struct homing_notification *n);

/* ---- Policy ------------------------------------------------------------------ */

#define HOMING_NOTIFY_POLICY_MAX 2 /* notifications one event can give */

/* What the caller knows about a committed event. Every pointer but event may be
 * NULL (unknown); the store lookups are the caller's, so this stays pure. */
struct homing_notify_facts {
    const struct homing_event *event;
    const char *subject;  /* of the message */
    const char *address;  /* of the recipient ("" or NULL: per-message token) */
    const char *link_url; /* of a click */
    /* Enrichment of an open or click (client, country, verdict, fingerprint).
     * NULL: not enriched; the hit is then taken for a person, since nothing
     * says it is a machine, and the text says the client is unknown. */
    const struct homing_enrichment *enrich;
    int notify_machine; /* 1: machine verdicts notify too (notify.machine) */
    /* Was the same kind already notified for (message, recipient) and, for
     * clicks and documents, the same item? */
    int already_notified;
    /* Has the message been opened before (any recipient, notified) and is this
     * hit's reader (enrich->fingerprint) new to it? Either may be 0. */
    int message_opened;
    int reader_new;
    /* Of a delivery event: was a notification of its kind, or of a kind whose
     * state ranks at least as high (homing_notify_state_rank), made for the
     * recipient already? */
    int state_notified;
    /* Of a delivery report (the event's detail): "5.1.1" and "user-unknown". */
    const char *status;
    const char *reason;
};

struct homing_notify_decision {
    const char *kind; /* static string */
    char text[HOMING_NOTIFY_TEXT_MAX];
};

/* The order of the delivery notification kinds, as the recipient states they
 * report (homing/delivery.h): delayed 1 < delivered 2 < read 3 < bounced 4 <
 * complaint 5; 0 for any other kind. A state never goes back, so neither does
 * its notification. */
int homing_notify_state_rank(const char *kind);
/* The delivery notification kinds, lowest rank first, NULL-terminated. */
extern const char *const homing_notify_state_kinds[];

/* Decides the notifications of one event, writing up to HOMING_NOTIFY_POLICY_MAX
 * into out; returns their number (0: nothing to say). The rules, in order:
 *  1. open, click, document-open with a machine verdict (prefetch, scanner,
 *     probe) or a HEAD request: nothing, unless notify_machine.
 *  2. open: "open" the first time for the recipient; later, "new-reader"
 *     (possible forward) when the message was opened and the reader is new;
 *     otherwise nothing (a second open by the same client is not news).
 *  3. click and document-open: the first time per recipient and item.
 *  4. delivered, bounced, delayed, read, complaint: once per step of the
 *     recipient's state: nothing when state_notified (a notification of this
 *     kind or of a later state was made for the recipient), so a delivery
 *     reported by a DSN and by the mail log, or a deferral logged at every
 *     retry, notifies once.
 *  5. anything else (sent, rejected, autoreply): nothing.
 * Texts hold only sanitised bytes (safe for a terminal). */
int homing_notify_policy(const struct homing_notify_facts *f,
                         struct homing_notify_decision out[HOMING_NOTIFY_POLICY_MAX]);

/* ---- Webhook signature --------------------------------------------------------- */

/* "t=1700000000,v1=" + 64 hex digits + NUL fits. */
#define HOMING_NOTIFY_SIG_MAX    96
#define HOMING_NOTIFY_SIG_HEADER "Homing-Signature"

/* Writes "t=TIMESTAMP,v1=HEX" where HEX = HMAC-SHA-256(secret, "TIMESTAMP." +
 * body). Returns the length. */
int homing_notify_sign(const char *secret, int64_t timestamp, const char *body, size_t len,
                       char out[HOMING_NOTIFY_SIG_MAX]);
/* 0 if header is a valid signature of body with secret made within tolerance_s
 * of now_s (0: any age); -EINVAL malformed, -EACCES wrong, -ETIMEDOUT too old. */
int homing_notify_verify(const char *secret, const char *header, const char *body, size_t len,
                         int64_t now_s, int64_t tolerance_s);
/* A fresh secret "whsec_" + 43 base64url characters (256 bits). */
#define HOMING_NOTIFY_SECRET_LEN 49
int homing_notify_secret_new(char out[HOMING_NOTIFY_SECRET_LEN + 1]);

/* ---- Webhook POST ------------------------------------------------------------ */

#define HOMING_NOTIFY_ERROR_MAX 256

/* POSTs body (JSON) to url signed with secret, headers Homing-Signature,
 * Homing-Notification-Id (id) and Homing-Event (kind). Returns 0 when the
 * receiver answered 2xx; -EPROTO for another status (*status says which),
 * -ETIMEDOUT, -ECONNREFUSED or -EIO for transport failures, -EPERM when guard
 * (NULL: none) refused the address the name resolved to; err gets a one-line
 * reason. Only http and https URLs; redirects are not followed. */
int homing_notify_post(const struct homing_webhook_guard *guard, const char *url,
                       const char *secret, int64_t id, const char *kind, const char *body,
                       size_t len, long timeout_ms, long *status, char *err, size_t errcap);

/* Many POSTs at once (one libcurl multi handle, one thread): the daemon's
 * notifier runs every webhook's transfers side by side, so a receiver that
 * hangs holds only its own. Not thread-safe: one thread drives a sender. */
struct homing_notify_sender;
/* guard (copied; NULL: no guard) is applied to every connection. */
int homing_notify_sender_new(const struct homing_webhook_guard *guard,
                             struct homing_notify_sender **out);
/* Abandons the transfers still running. NULL-safe. */
void homing_notify_sender_free(struct homing_notify_sender *s);
/* Starts a POST as homing_notify_post would send it (body is copied); tag
 * comes back with its result. -EINVAL (not http(s)), -ENOMEM. */
int homing_notify_sender_start(struct homing_notify_sender *s, const char *url, const char *secret,
                               int64_t id, const char *kind, const char *body, size_t len,
                               long timeout_ms, void *tag);
/* Transfers started and not yet handed back by homing_notify_sender_done. */
size_t homing_notify_sender_active(const struct homing_notify_sender *s);
/* Moves the transfers on, waiting at most wait_ms for network activity. */
int homing_notify_sender_run(struct homing_notify_sender *s, int wait_ms);
struct homing_notify_result {
    void *tag;
    int r;       /* as homing_notify_post returns */
    long status; /* HTTP status, 0 if none */
    char err[HOMING_NOTIFY_ERROR_MAX];
};
/* 1 and *out for a finished transfer, 0 when none has finished. */
int homing_notify_sender_done(struct homing_notify_sender *s, struct homing_notify_result *out);

/* ---- Where a webhook may point: the SSRF guard (lib/notify/guard.c) ------------- */

/* What kind of network an address is in. Everything but PUBLIC is refused as a
 * webhook destination unless webhooks.allow_private = yes. IPv4-mapped
 * (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are judged by the
 * IPv4 address they carry. */
enum homing_addr_class {
    HOMING_ADDR_PUBLIC = 0,
    HOMING_ADDR_LOOPBACK,    /* 127/8, ::1 */
    HOMING_ADDR_LINK_LOCAL,  /* 169.254/16 (cloud metadata), fe80::/10 */
    HOMING_ADDR_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 */
    HOMING_ADDR_UNSPECIFIED, /* 0/8, :: */
    HOMING_ADDR_MULTICAST,   /* 224/4, ff00::/8 */
    HOMING_ADDR_SHARED,      /* 100.64/10 (carrier-grade NAT) */
    HOMING_ADDR_RESERVED,    /* 240/4, 192.0.0/24, 198.18/15, ::/96, 100::/64 */
};
/* The class of a (HOMING_ADDR_*), -EINVAL for no address. */
int homing_addr_class(const struct homing_addr *a);
/* "loopback", "private", ... (static). */
const char *homing_addr_class_name(int c);

#define HOMING_WEBHOOK_HOST_MAX 253 /* bytes of a DNS name */

/* A webhook URL taken apart. The host is a DNS name (lower case, as written
 * but for case) or an IP literal (addr.family 4 or 6, host without brackets). */
struct homing_webhook_url {
    int https;
    char host[HOMING_WEBHOOK_HOST_MAX + 1];
    struct homing_addr addr; /* family 0: host is a name */
    uint16_t port;           /* 80 or 443 when not written */
};
/* Parses an http(s) URL strictly: the host must be a canonical DNS name
 * (letters, digits, hyphens; a last label with a letter; nothing inet_aton
 * would read as an address, such as 0x7f.1 or 2130706433), a canonical dotted
 * quad, or a bracketed IPv6 literal without zone id. No blanks, controls,
 * non-ASCII, backslashes, percent-encoding in the host, or second '@'.
 * -EINVAL for anything else. */
int homing_webhook_url_parse(const char *url, size_t len, struct homing_webhook_url *out);

/* The guard's settings: webhooks.allow_private, and the admin listener (never
 * a webhook destination: its API is not for outside callers to reach through
 * us). admin.family 0 with admin_port set: a wildcard listener, which answers
 * on loopback and on every address of the host. */
struct homing_webhook_guard {
    int allow_private;
    struct homing_addr admin;
    uint16_t admin_port; /* 0: unknown */
};
/* From webhooks.allow_private and admin.listen; -EINVAL if either is bad. */
int homing_webhook_guard_from_config(const struct homing_config *c,
                                     struct homing_webhook_guard *out);
/* 0 if a POST may go to address a, port; -EPERM otherwise, why (may be NULL)
 * gets a one-line reason naming the address and the option. */
int homing_webhook_addr_check(const struct homing_webhook_guard *g, const struct homing_addr *a,
                              uint16_t port, char *why, size_t cap);
/* The check at registration: -EINVAL for a URL homing_webhook_url_parse
 * refuses, -EPERM for an IP literal the address check refuses or a
 * "localhost" name; 0 otherwise (a name is checked once resolved, on each
 * connection: homing_notify_post). why gets the reason. */
int homing_webhook_url_check(const struct homing_webhook_guard *g, const char *url, char *why,
                             size_t cap);

/* ---- Server-Sent Events parser (for clients of /api/v1/stream) ------------------ */

#define HOMING_SSE_LINE_MAX  65536     /* bytes of one line; longer lines are cut */
#define HOMING_SSE_DATA_MAX  (1 << 20) /* bytes of one event's data */
#define HOMING_SSE_FIELD_MAX 256       /* id and event values */

struct homing_sse_event {
    char id[HOMING_SSE_FIELD_MAX]; /* "" if the event had none */
    char event[HOMING_SSE_FIELD_MAX];
    const char *data; /* data lines joined by "\n"; valid during the callback */
    size_t data_len;
};
/* Return non-zero to stop feeding (homing_sse_feed then returns it). */
typedef int (*homing_sse_cb)(const struct homing_sse_event *ev, void *arg);

struct homing_sse;
int homing_sse_new(homing_sse_cb cb, void *arg, struct homing_sse **out);
void homing_sse_free(struct homing_sse *p);
/* Feeds n bytes (any split). Calls cb for each complete event. Returns 0, the
 * callback's non-zero value, or -E2BIG when an event's data passes the limit
 * (the event is dropped and parsing continues at the next blank line). */
int homing_sse_feed(struct homing_sse *p, const char *buf, size_t n);
/* Forgets a partial event (after a reconnect). */
void homing_sse_reset(struct homing_sse *p);

#endif
