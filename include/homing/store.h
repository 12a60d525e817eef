/*
 * homing/store.h: the store, behind one interface for every backend
 * (lib/store/sqlite.c now; lib/store/pgsql.c for several nodes).
 *
 * Contract:
 * - A handle is one database connection: use it from one thread at a time; each
 *   thread that needs the store opens its own handle.
 * - Functions return 0 on success or a negative errno: -ENOENT for a missing row,
 *   -EEXIST for a duplicate, -EIO for a database error (homing_store_errmsg then
 *   says what). Outputs are written only on success; anything returned through
 *   an out-pointer is owned by the caller and freed with the matching _free.
 * - Opening migrates the schema to the newest numbered migration in one
 *   transaction per migration; events are append-only (the schema refuses
 *   UPDATE and DELETE on them).
 */
#ifndef HOMING_STORE_H
#define HOMING_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "homing/event.h"

#define HOMING_STORE_RECIPIENTS_MAX 100000 /* per message */
#define HOMING_STORE_LINKS_MAX      10000  /* per message */
#define HOMING_STORE_LIST_MAX       10000  /* rows per events_list call */

struct homing_store;

enum homing_message_mode {
    HOMING_MODE_PER_RECIPIENT = 0, /* one tracked copy per recipient */
    HOMING_MODE_PER_MESSAGE = 1,   /* one copy for all: recipient index 0 */
};

/* Opens (creating if needed) the store named by url: "SCHEME:..." picks the
 * backend registered for SCHEME ("sqlite:PATH"; a bare path is SQLite's, and
 * relative paths are taken from base_dir, which may be NULL;
 * "postgresql://..." or "postgres://..." is PostgreSQL's). A scheme no
 * backend of this build has is refused: -EINVAL for any other "scheme://".
 * sync is "normal" or "full" (store.sync): "full" needs a
 * backend with HOMING_STORE_CAP_SYNC (-ENOTSUP otherwise). err gets a
 * one-line reason on failure. */
int homing_store_open(const char *url, const char *base_dir, const char *sync,
                      struct homing_store **out, char *err, size_t errcap);
void homing_store_close(struct homing_store *s);

/* Encryption at rest (homing/seal.h, docs/privacy.md): every handle opened
 * after this call seals recipient and client addresses with k (NULL: none),
 * which the caller keeps alive until those handles are closed. Opening then
 * records k's id in the store and seals, in place, the rows written before.
 * A store sealed with a key is refused without it (-ENOKEY) or with another
 * (-EKEYREJECTED). Set once at start, before any thread opens a handle. */
struct homing_seal;
void homing_store_seal_use(const struct homing_seal *k);

/* What a backend can do beyond the operations every backend has. The
 * operations behind a capability return -ENOTSUP without it: callers check
 * homing_store_caps first. The engine-specific ones are in
 * homing/store_engine.h. */
#define HOMING_STORE_CAP_CHECKPOINT (1u << 0) /* a write-ahead log the caller checkpoints */
#define HOMING_STORE_CAP_BUSY_HOOK  (1u << 1) /* waits for write locks in this process */
#define HOMING_STORE_CAP_SYNC       (1u << 2) /* store.sync "full": a commit survives power loss */
#define HOMING_STORE_CAP_BACKUP     (1u << 3) /* homing_store_backup: the store is one file */
/* Not a feature but a warning: some operations of this header return -ENOTSUP
 * (a backend still being written). homing_store_open and
 * homing_store_inspect refuse such a backend unless the process called
 * homing_store_partial_allow (homing/store_engine.h): only the backend test
 * suite does, so no program runs on a store that cannot do its work. */
#define HOMING_STORE_CAP_PARTIAL (1u << 4)
/* Several nodes share the store (homing/store_engine.h): a leader lock
 * (homing_store_leader) and wake-ups when others store events or
 * notifications (homing_store_listen_wait). */
#define HOMING_STORE_CAP_LEADER (1u << 5)
#define HOMING_STORE_CAP_LISTEN (1u << 6)
/* The capabilities of s's backend (0 for NULL). */
unsigned homing_store_caps(const struct homing_store *s);
/* The scheme of s's backend ("sqlite"), or "" for NULL. */
const char *homing_store_scheme(const struct homing_store *s);
/* The i-th backend of this build (0, 1, ...): its scheme and capabilities;
 * -ENOENT past the last. For tests that run on every backend. */
int homing_store_backend_get(size_t i, const char **scheme, unsigned *caps);
/* The last database error message of this handle, for the programs to show. */
const char *homing_store_errmsg(struct homing_store *s);
/* Looks at the store url names without creating or migrating it (for
 * `homing doctor`): its schema version (0: a database homing never opened)
 * and the newest this build knows. -ENOENT when the database does not
 * exist; err says why on failure. */
int homing_store_inspect(const char *url, const char *base_dir, int *version, int *latest,
                         char *err, size_t errcap);
/* The schema version after migrations. */
int homing_store_schema_version(struct homing_store *s, int *version);

/* A message to register. Recipients get indexes 1..n, links 1..n, in order. */
struct homing_message_spec {
    const char *message_id; /* RFC 5322 Message-ID, may be NULL */
    const char *subject;    /* may be NULL */
    const char *sender;     /* may be NULL */
    int mode;               /* enum homing_message_mode */
    const char *const *recipients;
    size_t n_recipients;
    /* destinations in the form homing_url_check gives (homing/util.h), or a
     * document placeholder {{doc:NAME}} of homing track */
    const char *const *links;
    size_t n_links;
    const char *campaign; /* NULL: none; else homing_campaign_ok */
    /* enum homing_tracking of the message (0: individual), stored with it in
     * the same transaction: it never exists in another mode, even briefly */
    int tracking;
};

/* Registers a message with a fresh random public id. -EINVAL (reason in
 * homing_store_errmsg) when a link is neither of the two forms above: every
 * front end checks its links with homing_url_check first. */
int homing_store_message_add(struct homing_store *s, const struct homing_message_spec *m,
                             uint64_t *id_out);

struct homing_recipient {
    uint32_t index;
    char *address;
    char *state;      /* "registered", later "sent", "delivered", "bounced", ... */
    int64_t state_us; /* when the state last changed */
};

struct homing_link {
    uint32_t index;
    char *url;
};

struct homing_message {
    uint64_t id;
    char *message_id;
    char *subject;
    char *sender;
    int mode;
    int64_t created_us;
    char *campaign;         /* NULL: none */
    size_t recipient_count; /* homing_store_message_query only (recipients is NULL there) */
    struct homing_recipient *recipients;
    size_t n_recipients;
    struct homing_link *links;
    size_t n_links;
};

int homing_store_message_get(struct homing_store *s, uint64_t id, struct homing_message **out);
/* Finds a message by its RFC 5322 Message-ID (with or without angle brackets).
 * -ENOENT when none has it, -ENOTUNIQ when more than one does (registered with
 * homing track --keep-message-id --retrack): never a guess. */
int homing_store_message_find(struct homing_store *s, const char *message_id, uint64_t *id_out);
/* The most recent messages, newest first, without recipients or links. */
int homing_store_message_list(struct homing_store *s, size_t limit, struct homing_message **out,
                              size_t *n);
void homing_message_free(struct homing_message *m);
void homing_messages_free(struct homing_message *m, size_t n);

/* ---- Campaigns and their figures (migrations 0012, 0013; docs/reports.md) ----
 * A campaign is a name messages share. The figures come from counters that
 * triggers keep as the daemon stores enrichments, events and states, never
 * from a scan of the events, so they cost the same for 100,000 recipients as
 * for ten (bench/dashboard). */
#define HOMING_CAMPAIGN_MAX     200    /* bytes of a campaign name */
#define HOMING_MESSAGE_PAGE_MAX 1000   /* messages per page of homing_store_message_query */
#define HOMING_STATS_LINKS_MAX  1000   /* links in one homing_stats */
#define HOMING_STATS_POINTS_MAX 100000 /* points in one series */

/* Whether s can name a campaign: 1 to HOMING_CAMPAIGN_MAX bytes of UTF-8
 * without controls (it is shown in the dashboard and terminals). */
int homing_campaign_ok(const char *s);

/* Which messages: every field is a filter, 0 / NULL for none. campaign ""
 * means messages without a campaign. Created in [since_us, until_us).
 * state: messages with at least one recipient in that state. Pages go
 * newest first; the next page starts after (after_us, after_id), the last
 * message of the page before (both 0 for the first). */
struct homing_message_query {
    const char *campaign;
    uint64_t message;
    int64_t since_us, until_us;
    const char *state;
    int64_t after_us;
    uint64_t after_id;
    size_t limit; /* 1..HOMING_MESSAGE_PAGE_MAX */
};
/* Messages without recipients or links, each with recipient_count set. */
int homing_store_message_query(struct homing_store *s, const struct homing_message_query *q,
                               struct homing_message **out, size_t *n);

struct homing_campaign {
    char name[HOMING_CAMPAIGN_MAX + 1];
    int64_t messages, recipients;
    int64_t first_us, last_us; /* creation of its first and last message */
};
/* Every campaign, newest activity first. */
int homing_store_campaigns_list(struct homing_store *s, struct homing_campaign **out, size_t *n);

/* A count in the three classes of docs/reports.md; "all" is their sum for
 * hits, and its own count for unique recipients (a recipient with a human
 * and a machine open is one opener in all). */
struct homing_stats_count {
    int64_t human, machine, unknown, all;
};
struct homing_stats_reason {
    char reason[32]; /* the taxonomy of docs/delivery.md, "" when none was given */
    int64_t hard, soft;
};
struct homing_stats_link {
    uint64_t message;
    uint32_t link;
    char *url;
    struct homing_stats_count clicks, clickers;
};
struct homing_stats {
    int64_t messages, recipients;
    /* recipients by current state (docs/delivery.md) */
    int64_t registered, sent, delayed, delivered, read, rejected, bounced, complained;
    /* hits (totals), and recipients with at least one (unique) */
    struct homing_stats_count opens, clicks, documents, openers, clickers;
    int64_t readers, possible_forwards;
    int64_t complaints, autoreplies, read_receipts; /* reports received */
    struct homing_stats_reason *reasons;            /* bounced recipients by reason */
    size_t n_reasons;
    struct homing_stats_link *links; /* per link, at most HOMING_STATS_LINKS_MAX */
    size_t n_links;
};
/* The figures of the messages q's filters pick (its paging fields are
 * ignored). Clear out with homing_stats_clear. */
int homing_store_stats(struct homing_store *s, const struct homing_message_query *q,
                       struct homing_stats *out);
void homing_stats_clear(struct homing_stats *st);

/* One point of a time series: hits of one kind and class in the bucket that
 * starts at t_us (class "" for delivery kinds). */
struct homing_stats_point {
    int64_t t_us;
    char kind[16];
    char cls[8];
    int64_t count;
};
/* The series in buckets of bucket_us (an hour or a day), oldest first. */
int homing_store_stats_series(struct homing_store *s, const struct homing_message_query *q,
                              int64_t bucket_us, struct homing_stats_point **out, size_t *n);

/* The destination of link `index` of message `message`; *url_out is malloc'd. */
int homing_store_link_url(struct homing_store *s, uint64_t message, uint32_t index, char **url_out);

/* Sets a recipient's delivery state (and its time), e.g. "delivered". */
int homing_store_recipient_set_state(struct homing_store *s, uint64_t message, uint32_t index,
                                     const char *state, int64_t at_us);

/* Appends n events in one transaction and writes each one's new id into it.
 * All or nothing: on error no event of the batch is stored and every id is 0.
 * -EINVAL for an unknown kind or a detail that is not JSON. */
int homing_store_events_append(struct homing_store *s, struct homing_event *evs, size_t n);
/* The same, and sets the named cursor (homing_store_cursor_get) to position in
 * the same transaction: the hit journal's ingester records how far it got so a
 * replay stores nothing twice. n may be 0 (only the cursor moves). */
int homing_store_events_append_cursor(struct homing_store *s, struct homing_event *evs, size_t n,
                                      const char *cursor, int64_t position);

/* Flood control's durable counts (migration 0008): hits that were answered but
 * not recorded as events, per client, tracking URL and kind of hit. */
struct homing_flood_count {
    int64_t first_us, last_us; /* the first and last hit counted */
    uint64_t message;
    uint32_t recipient;
    uint32_t item;
    uint16_t kind; /* of the hits: HOMING_EV_OPEN, _CLICK or _DOCUMENT_OPEN */
    uint64_t dropped;
    char client[HOMING_ADDR_STR_MAX];
};
/* homing_store_events_append_cursor, and in the same transaction each of the
 * nf counts added to its flood's pending total (created if none is pending).
 * -EINVAL for a count of another kind or of 0 hits. */
int homing_store_events_append_floods(struct homing_store *s, struct homing_event *evs, size_t n,
                                      const struct homing_flood_count *floods, size_t nf,
                                      const char *cursor, int64_t position);
/* Closes every pending flood whose last hit is older than before_us
 * (INT64_MAX: all): each becomes one `suppressed` event at its last hit's
 * time, detail {"dropped":N,"of":"KIND"}, and its total is removed, in one
 * transaction. *closed gets how many were closed, *left how many stay pending
 * (either may be NULL). */
int homing_store_floods_close(struct homing_store *s, int64_t before_us, size_t *closed,
                              size_t *left);

/* Events with id > after, oldest first, at most limit (<= HOMING_STORE_LIST_MAX),
 * of one message (message != 0) or of all. Free with homing_events_free. */
int homing_store_events_list(struct homing_store *s, uint64_t message, int64_t after, size_t limit,
                             struct homing_event **out, size_t *n);
/* The events of one recipient of a message (recipient 0: the per-message
 * hits) with id > after, oldest first, at most limit (<= HOMING_STORE_LIST_MAX):
 * the dashboard's timeline. One index range (migration 0014) however many
 * events the message has. Free with homing_events_free. */
int homing_store_recipient_events(struct homing_store *s, uint64_t message, uint32_t recipient,
                                  int64_t after, size_t limit, struct homing_event **out,
                                  size_t *n);
/* Number of events (of one message when message != 0). */
int homing_store_events_count(struct homing_store *s, uint64_t message, int64_t *n);

/* What may have changed in the events of a message that a caller keeps in
 * memory. Events are append-only (migration 0006's triggers) but for two
 * privacy operations: truncation rewrites clients and moves its cursor in the
 * same transaction, retention and forget delete. So events of message with
 * id <= upto read after one stamp are still what the store holds if a later
 * stamp is equal: same count (nothing deleted; ids only grow, so nothing was
 * added below upto) and same truncation cursor (nothing rewritten). Read in
 * one snapshot; read the stamp before the events it vouches for. */
struct homing_events_stamp {
    int64_t count;     /* events of the message with id <= upto */
    int64_t truncated; /* the truncation cursor, -1 if unset */
};
int homing_store_events_stamp(struct homing_store *s, uint64_t message, int64_t upto,
                              struct homing_events_stamp *out);

/* Per-recipient summary for `homing report` and the API. */
struct homing_report_row {
    uint32_t recipient;
    char *address; /* NULL for recipient 0 (per-message hits) */
    char *state;   /* "" for recipient 0 */
    int64_t state_us;
    int64_t opens, first_open_us, last_open_us; /* GET opens; 0 times if none */
    int64_t probes;                             /* HEAD requests on any URL */
    int64_t clicks, first_click_us, last_click_us;
    int tracking; /* enum homing_tracking; set by homing_store_report_visible */
};
int homing_store_report(struct homing_store *s, uint64_t message, struct homing_report_row **rows,
                        size_t *n);
void homing_report_free(struct homing_report_row *rows, size_t n);

/* API keys: only a 32-byte hash of each key is stored, with its scope (enum
 * homing_apikey_scope, migration 0008). */
struct homing_api_key_info {
    int64_t id;
    char *name;
    int scope; /* enum homing_apikey_scope */
    int64_t created_us;
    int64_t revoked_us; /* 0 while active */
};
/* -EINVAL for a scope outside enum homing_apikey_scope. */
int homing_store_api_key_add(struct homing_store *s, const char *name, const uint8_t hash[32],
                             int scope, int64_t *id_out);
/* The scope (> 0) of the active key with this hash, -EACCES if there is none. */
int homing_store_api_key_check(struct homing_store *s, const uint8_t hash[32]);
int homing_store_api_key_list(struct homing_store *s, struct homing_api_key_info **out, size_t *n);
void homing_api_keys_free(struct homing_api_key_info *k, size_t n);
/* Revokes the active key named name: -ENOENT if there is none. */
int homing_store_api_key_revoke(struct homing_store *s, const char *name);

/* A consistent copy of the whole database into a new file dest (which must
 * not exist), taken while other handles and processes go on reading and
 * writing: SQLite's online backup API in one step, so one read transaction
 * (with WAL, writers are not blocked and the copy is the database as it was
 * when the step began; copying in several steps would start over each time
 * the daemon committed). The copy is one file in rollback-journal mode.
 * -ENOTSUP for a backend without HOMING_STORE_CAP_BACKUP (PostgreSQL: use
 * pg_dump). On failure dest is removed. */
int homing_store_backup(struct homing_store *s, const char *dest);

/* ---- delivery: reports kept unmatched, source positions (migration 0002) ---- */

#define HOMING_STORE_SYNC_NAME_MAX  1024 /* bytes of a sync_state name */
#define HOMING_STORE_SYNC_VALUE_MAX 4096 /* bytes of a sync_state value */

/* A report homing ingest could not tie to a message, or could not read. */
struct homing_unmatched {
    int64_t id;
    int64_t time_us;
    char *source; /* "stdin", "maildir:PATH", "imap:URL" ... */
    char *kind;   /* report kind name, or "unparsable" */
    char *reason; /* why it is unmatched */
    char *raw;    /* the whole message (raw_len bytes, NUL added), or NULL */
    size_t raw_len;
};
/* Keeps a report. raw may be NULL (raw_len 0). */
int homing_store_unmatched_add(struct homing_store *s, const char *source, const char *kind,
                               const char *reason, const char *raw, size_t raw_len,
                               int64_t *id_out);
/* Kept reports with id > after, oldest first, at most limit (<= HOMING_STORE_LIST_MAX);
 * with_raw = 0 leaves raw NULL. Free with homing_unmatched_free. */
int homing_store_unmatched_list(struct homing_store *s, int64_t after, size_t limit, int with_raw,
                                struct homing_unmatched **out, size_t *n);
void homing_unmatched_free(struct homing_unmatched *u, size_t n);
/* Keeps a report and records key (see homing_store_events_append_once) in one
 * transaction: -EALREADY, with nothing kept, if key was recorded before. A
 * report is then never lost between the two, nor kept twice. */
int homing_store_unmatched_add_once(struct homing_store *s, const char *key, const char *source,
                                    const char *kind, const char *reason, const char *raw,
                                    size_t raw_len, int64_t *id_out);

/* ---- relay users (migration 0016): homing relay's AUTH accounts ---- */

#define HOMING_STORE_RELAY_HASH_MAX 256 /* crypto_pwhash_STRBYTES is 128 */
/* Adds or replaces user name with hash (an argon2id string from
 * crypto_pwhash_str; the store never sees a password). */
int homing_store_relay_user_set(struct homing_store *s, const char *name, const char *hash);
/* *hash_out is malloc'd; -ENOENT for no such user. */
int homing_store_relay_user_get(struct homing_store *s, const char *name, char **hash_out);
/* The names, sorted; free each and the array. */
int homing_store_relay_user_list(struct homing_store *s, char ***names, size_t *n);
/* -ENOENT for no such user. */
int homing_store_relay_user_remove(struct homing_store *s, const char *name);

/* A named position of a source (IMAP UIDVALIDITY and UID, a log offset, a queue
 * id's message): *value_out is malloc'd; -ENOENT when never set. */
int homing_store_sync_get(struct homing_store *s, const char *name, char **value_out);
int homing_store_sync_set(struct homing_store *s, const char *name, const char *value);

/* Appends n events like homing_store_events_append, and records key (a source
 * record: a log line, a report) in the same transaction. -EALREADY, with
 * nothing appended, if key was recorded before: replaying a source is harmless.
 * n may be 0 (only the key is recorded). */
int homing_store_events_append_once(struct homing_store *s, const char *key,
                                    struct homing_event *evs, size_t n);

/* ---- Notifications (migration 0003; the producer API is homing/notify.h) ---- */

#define HOMING_NOTIFY_KIND_MAX      24  /* "document-open" and the NUL */
#define HOMING_WEBHOOK_EVENTS_MAX   256 /* the comma-separated kinds filter */
#define HOMING_WEBHOOK_URL_MAX      2048
#define HOMING_WEBHOOK_SECRET_MAX   256
#define HOMING_STORE_DELIVERIES_MAX 1000 /* rows per deliveries_due call */

struct homing_webhook {
    int64_t id;
    char *url;
    char *events; /* "open,click" or "*" */
    char *secret;
    int64_t created_us;
    int64_t disabled_us; /* 0 while enabled */
};
/* events: comma-separated notification kinds or "*" (NULL: "*"). */
int homing_store_webhook_add(struct homing_store *s, const char *url, const char *events,
                             const char *secret, int64_t *id_out);
/* Every webhook, the disabled ones too, by id. */
int homing_store_webhook_list(struct homing_store *s, struct homing_webhook **out, size_t *n);
int homing_store_webhook_get(struct homing_store *s, int64_t id, struct homing_webhook **out);
/* Disables an enabled webhook and marks its pending deliveries failed: -ENOENT
 * if there is no such enabled webhook. */
int homing_store_webhook_disable(struct homing_store *s, int64_t id);
void homing_webhooks_free(struct homing_webhook *w, size_t n);

/* A notification to add. event (the source event id) may be 0; a second
 * notification of the same kind for the same non-zero event is -EEXIST. */
struct homing_notification_spec {
    int64_t time_us;
    const char *kind; /* "open", "new-reader", "click", ... (homing/notify.h) */
    uint64_t message;
    uint32_t recipient;
    uint32_t item; /* link index of a click, grant of a document, else 0 */
    int64_t event;
    const char *reader;  /* reader fingerprint (16 hex) or NULL */
    const char *text;    /* the human-readable line */
    const char *payload; /* a JSON object */
};
/* Adds the notification and, in the same transaction, one pending delivery for
 * each enabled webhook whose filter takes its kind. */
int homing_store_notification_add(struct homing_store *s, const struct homing_notification_spec *n,
                                  int64_t *id_out);

struct homing_notification {
    int64_t id;
    int64_t time_us;
    char kind[HOMING_NOTIFY_KIND_MAX];
    uint64_t message;
    uint32_t recipient;
    uint32_t item;
    int64_t event;
    char *reader; /* NULL if none */
    char *text;
    char *payload;
};
/* Notifications with id > after, oldest first, at most limit
 * (<= HOMING_STORE_LIST_MAX). */
int homing_store_notifications_list(struct homing_store *s, int64_t after, size_t limit,
                                    struct homing_notification **out, size_t *n);
void homing_notifications_free(struct homing_notification *v, size_t n);
/* The newest notification id (0 when there is none). */
int homing_store_notifications_last(struct homing_store *s, int64_t *id);

/* Is there a notification of message with this kind (NULL: any), recipient
 * (< 0: any), item (< 0: any) and reader (NULL: any)? *exists = 0 or 1. */
struct homing_notification_query {
    const char *kind;
    uint64_t message;
    int64_t recipient;
    int64_t item;
    const char *reader;
};
int homing_store_notification_exists(struct homing_store *s,
                                     const struct homing_notification_query *q, int *exists);

/* A delivery that is due, with what sending it needs. */
struct homing_delivery {
    int64_t notification, webhook;
    int attempts;            /* made so far */
    int64_t notification_us; /* when the notification was made: retries stop after a while */
    char *url, *secret;
    struct homing_notification n;
};
/* Pending deliveries with next_attempt_us <= now_us, at most per_webhook of
 * each webhook and limit in all; a delivery is held back while an earlier
 * notification of the same message to the same webhook is still pending
 * (order per message). Within a webhook the longest due come first
 * (next_attempt_us, then notification): a
 * webhook with a backlog cannot crowd the others out of a page. The rows come
 * rank by rank (every webhook's first, then every second...), so a limit cuts
 * the deepest queues; limit <= HOMING_STORE_DELIVERIES_MAX. */
int homing_store_deliveries_due_fair(struct homing_store *s, int64_t now_us, size_t per_webhook,
                                     size_t limit, struct homing_delivery **out, size_t *n);
void homing_deliveries_free(struct homing_delivery *d, size_t n);
/* Records the outcome of an attempt (attempts + 1): delivered (ok = 1);
 * otherwise retried at next_us, or failed for good when next_us is 0. */
int homing_store_delivery_result(struct homing_store *s, int64_t notification, int64_t webhook,
                                 int ok, int64_t next_us, const char *error);
/* Claims a due delivery for this handle before its POST, for lease_us (on
 * the store's clock): 1 claimed (or claimed by this handle already), 0 taken
 * by another handle whose lease has not run out, or finished meanwhile.
 * A backend whose store has one deliverer (SQLite: one daemon per store)
 * claims nothing and answers 1. homing_store_delivery_result ends the claim;
 * a claim abandoned (a crash, a stop mid-transfer) ends with its lease. */
int homing_store_delivery_claim(struct homing_store *s, int64_t notification, int64_t webhook,
                                int64_t lease_us);
/* Counts of pending, delivered and failed deliveries (any may be NULL). */
int homing_store_delivery_counts(struct homing_store *s, int64_t *pending, int64_t *delivered,
                                 int64_t *failed);

/* Named cursors over events (the notifier's is "notify"); -ENOENT if unset. */
int homing_store_cursor_get(struct homing_store *s, const char *name, int64_t *event);
int homing_store_cursor_set(struct homing_store *s, const char *name, int64_t event);

/* ---- Privacy (migration 0006; docs/privacy.md) ---- */

/* Tracking mode of a message or recipient, from least to most recorded. */
enum homing_tracking {
    HOMING_TRACKING_INDIVIDUAL = 0, /* everything, per recipient (the default) */
    HOMING_TRACKING_ANONYMOUS = 1,  /* opens and clicks counted without the recipient */
    HOMING_TRACKING_DELIVERY = 2,   /* delivery reports only: no pixel, no click links */
    HOMING_TRACKING_OFF = 3,        /* nothing: the copy goes out untouched */
};
#define HOMING_TRACKING_INHERIT (-1) /* a recipient without a mode of its own */
/* "individual", "anonymous", "delivery", "off"; NULL for anything else. */
const char *homing_tracking_name(int mode);
/* The mode named s, or -EINVAL. */
int homing_tracking_parse(const char *s);

/* Sets the mode of a message (recipient 0) or of one recipient (1..n; mode
 * HOMING_TRACKING_INHERIT goes back to the message's). -ENOENT if absent. */
int homing_store_tracking_set(struct homing_store *s, uint64_t message, uint32_t recipient,
                              int mode);
/* The message's mode, and the effective mode of each recipient: (*modes)[i]
 * is recipient i + 1's (malloc'd, *n entries). -ENOENT if there is no message. */
int homing_store_tracking_get(struct homing_store *s, uint64_t message, int *message_mode,
                              int **modes, size_t *n);

#define HOMING_PRIVACY_CHUNK 1000 /* events changed per transaction by the sweeps */

/* Truncates the client address of events with an id above the store's
 * truncation cursor and at most upto (the enrichment cursor: enrichment needs
 * the whole address first; upto < 0: every event) to v4_bits / v6_bits, in
 * transactions of HOMING_PRIVACY_CHUNK events, and moves the cursor. The only
 * UPDATE the schema lets through on events. *changed (may be NULL): addresses
 * rewritten. */
int homing_store_privacy_truncate(struct homing_store *s, int64_t upto, unsigned v4_bits,
                                  unsigned v6_bits, int64_t *changed);

/* Retention: adds the events older than before_us to the daily rollups
 * (message, UTC day, kind, method, verdict: counts), then deletes them and the
 * rows of tables whose foreign keys point at them, in one transaction. */
int homing_store_privacy_retention(struct homing_store *s, int64_t before_us, int64_t *rolled,
                                   int64_t *deleted);

struct homing_rollup {
    uint64_t message;
    char day[11]; /* YYYY-MM-DD, UTC */
    char kind[24];
    char method[8];
    char verdict[24];
    int64_t count;
};
/* Rollups of one message (message != 0) or all, by message, day, kind. */
int homing_store_rollups_list(struct homing_store *s, uint64_t message, struct homing_rollup **out,
                              size_t *n);
void homing_rollups_free(struct homing_rollup *r, size_t n);

/* What homing_store_privacy_forget removed or blanked, per table. */
#define HOMING_FORGET_TABLES_MAX 48
#define HOMING_FORGET_ADDR_MAX   320
struct homing_forget_result {
    size_t n;
    struct {
        char table[64];
        int64_t rows;
    } t[HOMING_FORGET_TABLES_MAX];
};
/* Removes everything about one address (compared without case), in one
 * transaction: its recipient rows become tombstones ("forgotten"), its events
 * and every row of another table tied to its (message, recipient) or whose text
 * names it are deleted; a sender or subject naming it is blanked. Idempotent:
 * a second call removes nothing. -EINVAL for an address without '@'. */
int homing_store_privacy_forget(struct homing_store *s, const char *address,
                                struct homing_forget_result *out);

/* homing_store_report as the tracking modes allow it to be shown (what the
 * report and the API use): the opens, clicks and probes of a recipient whose
 * mode is not individual are moved into recipient 0's row (added when needed:
 * counts without a recipient) and its row keeps only address and delivery
 * state (none for mode off); each row's tracking says which mode applied. */
int homing_store_report_visible(struct homing_store *s, uint64_t message,
                                struct homing_report_row **rows, size_t *n);
/* Events as the modes allow them to be shown: an event of a recipient whose
 * mode is not individual loses its recipient and its client, User-Agent,
 * Accept-Language, Via and From. */
int homing_store_events_visible(struct homing_store *s, struct homing_event *evs, size_t n);
/* ---- Enrichment (migration 0004; written by the daemon's enrichment thread,
 * src/serve/enrich.c; read by the notifier, reports and homing reclassify) ---- */

/* The enrichment thread's cursor (homing_store_cursor_get): every event with an
 * id up to it has been looked at, and its enrichment (if it is an open, click
 * or document open) is stored. A consumer that needs verdicts or readers (the
 * notifier; IP truncation, which must not destroy what enrichment reads) only
 * handles events up to this cursor. */
#define HOMING_ENRICH_CURSOR "enrich"

#define HOMING_STORE_VERDICT_MAX 16  /* "proxy-open" and the NUL */
#define HOMING_STORE_REASONS_MAX 512 /* comma-separated reason names */
#define HOMING_STORE_FACT_MAX    64  /* client family, version, os, device, machine */
#define HOMING_STORE_ORG_MAX     128 /* AS organisation */
#define HOMING_STORE_READER_MAX  17  /* fingerprint: 16 hex digits and the NUL */

/* One stored enrichment. Text fields are "" when unknown. */
struct homing_store_enrichment {
    int64_t event;
    uint64_t message;
    uint32_t recipient;
    uint16_t kind; /* enum homing_event_kind of the event */
    uint32_t item;
    int64_t time_us;                        /* of the event */
    char verdict[HOMING_STORE_VERDICT_MAX]; /* homing_verdict_name */
    int confidence;
    char reasons[HOMING_STORE_REASONS_MAX];
    int rules_version;
    char client_family[HOMING_STORE_FACT_MAX];
    char client_version[HOMING_STORE_FACT_MAX];
    char os[HOMING_STORE_FACT_MAX];
    char device[HOMING_STORE_FACT_MAX];
    char country[3];
    uint32_t asn;
    char as_org[HOMING_STORE_ORG_MAX];
    char machine[HOMING_STORE_FACT_MAX];
    char reader[HOMING_STORE_READER_MAX]; /* "" for a machine or proxy hit */
    int new_reader;                       /* 1: the first hit of this reader on the message */
    int forward; /* 1: a new reader after another reader opened: a possible forward */
    char *json;  /* the enrichment as JSON (homing_enrichment_json + reader flags) */
};

/* Stores the enrichment of one event (e may be NULL: nothing to store) and
 * moves the enrichment cursor to `cursor`, in one transaction. With a reader,
 * the reader row of (message, reader) is created (recipient, client, device,
 * country and forward from e) or its last time and opens are updated.
 * -EEXIST if the event was enriched before (nothing is changed then). */
int homing_store_enrichment_put(struct homing_store *s, const struct homing_store_enrichment *e,
                                int64_t cursor);
/* The same for n enrichments (ascending events, each <= cursor) in one
 * transaction, all or nothing: -EEXIST, with nothing stored, if any of them
 * was enriched before. n may be 0 (only the cursor moves). */
int homing_store_enrichments_put(struct homing_store *s, const struct homing_store_enrichment *rows,
                                 size_t n, int64_t cursor);
/* The enrichment of one event: -ENOENT if it has none (not an open, click or
 * document open, or not enriched yet: compare with the cursor). */
int homing_store_enrichment_get(struct homing_store *s, int64_t event,
                                struct homing_store_enrichment **out);
/* Enrichments with event > after, oldest first, at most limit
 * (<= HOMING_STORE_LIST_MAX), of one message (message != 0) or of all. */
int homing_store_enrichments_list(struct homing_store *s, uint64_t message, int64_t after,
                                  size_t limit, struct homing_store_enrichment **out, size_t *n);
/* Rewrites verdict, confidence, reasons, rules_version and json of n stored
 * enrichments (homing reclassify), in one transaction; every other field of
 * the rows is ignored. Events are never touched. */
int homing_store_enrichments_rewrite(struct homing_store *s,
                                     const struct homing_store_enrichment *rows, size_t n);
void homing_store_enrichments_free(struct homing_store_enrichment *e, size_t n);
/* What the notifier needs of an enrichment to pass over a hit without reading
 * the whole row: the verdict and the reader flags. */
struct homing_store_enrichment_flags {
    int64_t event;
    char verdict[HOMING_STORE_VERDICT_MAX];
    int new_reader;
    int forward;
};
/* The flags of enrichments with after < event <= upto, oldest first, at most
 * limit (<= HOMING_STORE_LIST_MAX). Free with free(). */
int homing_store_enrichment_flags(struct homing_store *s, int64_t after, int64_t upto, size_t limit,
                                  struct homing_store_enrichment_flags **out, size_t *n);

/* A reader of a message (a fingerprint of non-proxy hits, see homing/reader.h). */
struct homing_store_reader {
    uint64_t message;
    char fingerprint[HOMING_STORE_READER_MAX];
    uint32_t recipient; /* whose copy it read first */
    int64_t first_us, last_us;
    char client[HOMING_STORE_FACT_MAX]; /* "Thunderbird 115" */
    char device[HOMING_STORE_FACT_MAX];
    char country[3];
    int64_t opens;
    int64_t first_event;
    int forward; /* appeared after another reader had opened the message */
};
/* The readers of a message, first seen first. */
int homing_store_readers_list(struct homing_store *s, uint64_t message,
                              struct homing_store_reader **out, size_t *n);
void homing_store_readers_free(struct homing_store_reader *r, size_t n);
/* For forward detection: is fingerprint already a reader of message (*known 0
 * or 1), and was any enriched open of the recipient's copy a person reading
 * (verdict human or proxy-open) other than this reader (*others 0 or 1)? A
 * proxy open counts: the copy was read even though the proxy hides the reader.
 * A new reader with *others set is a possible forward. Costs a few index
 * seeks however many opens the copy has had. */
int homing_store_reader_lookup(struct homing_store *s, uint64_t message, uint32_t recipient,
                               const char *fingerprint, int *known, int64_t *others);

/* Fills out from x, the enrichment of event ev (homing/reader.h), with the
 * reader flags given, and out->json (malloc'd: free with
 * homing_store_enrichments_free or free()) from homing_enrichment_json plus
 * "new_reader" and "possible_forward". -ENOMEM. (lib/reader/who.c) */
struct homing_enrichment;
int homing_store_enrichment_from(const struct homing_enrichment *x, const struct homing_event *ev,
                                 int new_reader, int forward, struct homing_store_enrichment *out);
/* Decides a stored row again: x is the fresh enrichment of its event ev (the
 * context known now: homing reclassify, or the daemon after the later hits a
 * burst, loop or hand-off looks at). When x's verdict, confidence, reasons or
 * rules version differ from row's, takes them and x's JSON into row (its
 * identity and reader flags kept; row->json replaced) and returns 1; 0 when
 * nothing differs (row untouched); -ENOMEM. (lib/reader/who.c) */
int homing_store_enrichment_redo(struct homing_store_enrichment *row,
                                 const struct homing_enrichment *x, const struct homing_event *ev);

/* "Who opened it": the per-recipient report of a message from its events and
 * their enrichments, as a jansson json_t * object (void * as in
 * homing_event_json) the caller owns:
 *   {"totals": {...}, "recipients": [{"recipient": N, ...}, ...]}
 * Fields and the meaning of unique and total are in docs/reports.md. -ENOENT
 * for an unknown message. (lib/reader/who.c) */
int homing_store_who_json(struct homing_store *s, uint64_t message, void **out);

/* ---- Documents (migration 0005; docs/internals/documents.md) ---- */

#define HOMING_STORE_DOCUMENTS_MAX 10000 /* rows per document_list call */

struct homing_document {
    int64_t id;
    char *name;
    char *media_type;
    int64_t size;
    char digest[65];  /* keyed BLAKE2b-256 of the plaintext, hex (homing/document.h) */
    int digest_keyed; /* 0: a row from before migration 0009, digest unkeyed */
    char *file;       /* the encrypted file's name in the documents directory */
    int64_t created_us;
    int64_t grants, uses; /* grant rows, downloads served (document_list only) */
};
/* Registers a document (fields name, media_type, size, digest, file, with
 * created_us 0 = now); -EEXIST if the name is taken. */
int homing_store_document_add(struct homing_store *s, const struct homing_document *d,
                              int64_t *id_out);
/* The document named name: -ENOENT if none. */
int homing_store_document_get(struct homing_store *s, const char *name,
                              struct homing_document **out);
/* Every document, oldest first, with its grant and use counts. */
int homing_store_document_list(struct homing_store *s, struct homing_document **out, size_t *n);
/* Replaces the unkeyed digest of document id (digest_keyed 0) with digest (64
 * hex) and marks it keyed; -ENOENT if there is no such row still unkeyed. */
int homing_store_document_set_digest(struct homing_store *s, int64_t id, const char *digest);
void homing_documents_free(struct homing_document *d, size_t n);

/* A grant: recipient `recipient` of message `message` may fetch document. */
struct homing_grant_spec {
    int64_t document;
    uint64_t message;
    uint32_t recipient;
    int64_t expires_us; /* 0: never */
    int64_t max_uses;   /* 0: unlimited */
};
/* Adds a grant; *id_out is the item of its document token (fits 32 bits).
 * -ENOENT if the document or message does not exist. */
int homing_store_grant_add(struct homing_store *s, const struct homing_grant_spec *g,
                           int64_t *id_out);

struct homing_grant {
    int64_t id, document;
    char *document_name;
    uint64_t message;
    uint32_t recipient;
    char *address;                                              /* the recipient's, NULL if none */
    int64_t created_us, expires_us, max_uses, uses, revoked_us; /* 0: none */
};
/* The grants of one document (document != 0) or of all, by id. */
int homing_store_grant_list(struct homing_store *s, int64_t document, struct homing_grant **out,
                            size_t *n);
void homing_grants_free(struct homing_grant *g, size_t n);
/* Revokes one grant (grant != 0) or every grant of a document (document != 0);
 * *revoked (may be NULL) says how many were revoked now. -ENOENT if there was
 * nothing to revoke. */
int homing_store_grant_revoke(struct homing_store *s, int64_t grant, int64_t document,
                              int64_t *revoked);

/* The check of a document download, a read only (the public loop thread calls
 * it, and must never wait for a writer): the grant must exist for exactly
 * (message, recipient) (else -ENOENT), not be revoked (-EKEYREVOKED), expired
 * at now_us (-EKEYEXPIRED) or used up (-EDQUOT) counting `pending` downloads
 * answered but not yet stored. A use is counted when the download's
 * `document-open` event with method GET is stored (migration 0011), in the
 * same transaction. On success *doc is the document it grants. */
int homing_store_grant_check(struct homing_store *s, int64_t grant, uint64_t message,
                             uint32_t recipient, int64_t now_us, int64_t pending,
                             struct homing_document **doc);

/* ---- The suppression list (migration 0015; docs/suppression.md) --------
 * Addresses a sender must not mail any more. An entry is keyed by (sender,
 * address), both normalised by homing_suppress_normalize; sender "" means
 * every sender. The functions below take addresses as given and normalise
 * them (-EINVAL for what is not an address). */
#define HOMING_SUPPRESS_ADDR_MAX 320 /* bytes of a normalised address */
/* ... sealed (homing/seal.h: HOMING_SEAL_LEN(HOMING_SUPPRESS_ADDR_MAX)) */
#define HOMING_SUPPRESS_STORED_MAX (19 + ((3 + 1 + HOMING_SUPPRESS_ADDR_MAX) * 4 + 2) / 3)
#define HOMING_SUPPRESS_NOTE_MAX   512    /* bytes of an entry's note */
#define HOMING_SUPPRESS_LIST_MAX   100000 /* entries one list call returns (the newest) */

enum homing_suppress_reason {
    HOMING_SUPPRESS_HARD_BOUNCE = 1,
    HOMING_SUPPRESS_COMPLAINT = 2,
    HOMING_SUPPRESS_UNSUBSCRIBE = 3,
    HOMING_SUPPRESS_MANUAL = 4,
};
/* "hard_bounce", "complaint", "unsubscribe", "manual"; NULL for another. */
const char *homing_suppress_reason_name(int reason);
/* The reason named s, or -EINVAL. */
int homing_suppress_reason_parse(const char *s);

/* The form an address is listed and looked up in: surrounding space and one
 * pair of angle brackets dropped, ASCII letters folded to lower case in the
 * domain and in the local part (RFC 5321 lets a local part be case-sensitive,
 * but no provider of note treats it so: listing Bob@ when bob@ unsubscribed
 * errs on the side of not sending). Other bytes are kept as they are.
 * -EINVAL for what is not local@domain of at most HOMING_SUPPRESS_ADDR_MAX
 * bytes without space, controls, '<', '>' or ','; -ENOSPC if cap is small. */
int homing_suppress_normalize(const char *addr, char *out, size_t cap);

struct homing_suppression {
    char sender[HOMING_SUPPRESS_ADDR_MAX + 1]; /* "" every sender */
    /* HOMING_SUPPRESS_ADDR_MAX bytes, and room for the store's sealed form */
    char address[HOMING_SUPPRESS_STORED_MAX + 1];
    int reason;         /* enum homing_suppress_reason */
    uint64_t message;   /* 0: added by hand */
    uint32_t recipient; /* its index in message, 0 if none */
    int64_t created_us;
    char note[HOMING_SUPPRESS_NOTE_MAX + 1]; /* "" none: a bounce's status, a note given */
};

/* Lists address for sender (NULL or "": every sender). *added (may be NULL)
 * is 1 when listed now, 0 when (sender, address) was listed already: the
 * first entry is kept, with its reason. */
int homing_store_suppress_add(struct homing_store *s, const char *sender, const char *address,
                              int reason, uint64_t message, uint32_t recipient, const char *note,
                              int *added);
/* Removes the entry of (sender, address); sender NULL removes the address's
 * entries under every sender. *removed (may be NULL) counts them; -ENOENT if
 * there was none. */
int homing_store_suppress_remove(struct homing_store *s, const char *sender, const char *address,
                                 size_t *removed);
/* The entry that stops mail from sender to address: the sender's own, else
 * the one for every sender. 1 and *out filled (out may be NULL) when listed,
 * 0 when not. sender NULL or "": only an entry for every sender counts. */
int homing_store_suppress_find(struct homing_store *s, const char *sender, const char *address,
                               struct homing_suppression *out);
/* Entries, newest first, at most HOMING_SUPPRESS_LIST_MAX (about 1.2 KB
 * each); sender NULL: all, "" only those for every sender,
 * else that sender's. Free with free(). */
int homing_store_suppress_list(struct homing_store *s, const char *sender,
                               struct homing_suppression **out, size_t *n);

/* What the automatic ways in (a hard bounce, a complaint, an unsubscribe)
 * call: lists recipient `recipient` of message `message` under the
 * message's sender (its From address; "" when it has none) and, when listed
 * now, records a `suppression` event for that recipient with detail
 * {"action": "listed", "reason", "address", "sender", "note"}. The list entry and the
 * event are two transactions: a crash between them leaves the entry without
 * its event, never an event without an entry. *added as above (may be
 * NULL). -ENOENT when the message or recipient is unknown. */
int homing_store_suppress_recipient(struct homing_store *s, uint64_t message, uint32_t recipient,
                                    int reason, const char *note, int *added);

/* Records a `suppression` event for recipient `recipient` of message
 * `message`, now, with `detail` as its detail: a jansson json_t * object
 * (void * as elsewhere here) that this call consumes, on error too. The one
 * writer of those events: an entry listed (homing_store_suppress_recipient,
 * "listed"), mail refused (homing_suppress_refused, "refused"), an
 * unsubscribe a scanner made (the daemon's enrichment, "ignored"). */
int homing_store_suppression_event(struct homing_store *s, uint64_t message, uint32_t recipient,
                                   void *detail);

#endif
