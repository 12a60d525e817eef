/*
 * store_int.h: what lib/store/store.c and the backends share, not public.
 *
 * A backend is one `struct homing_store_backend` (its URL scheme, its
 * capabilities and its `struct store_ops`) listed in store.c's registry. Its
 * open allocates a struct that starts with `struct homing_store` (the ops and
 * the error-message buffer; store.c fills in the backend). store.c checks the
 * arguments every backend would check (NULLs, limits) and applies the policy
 * every backend shares, then dispatches, so a backend sees only well-formed
 * calls. docs/internals/store.md says how to add a backend.
 */
#ifndef HOMING_STORE_IMPL_H
#define HOMING_STORE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "homing/store.h"
#include "homing/store_engine.h"

/* SQL both engines run word for word; only the parameter placeholders
 * differ (SQLite's ?N, PostgreSQL's $N), so each takes them as arguments.
 * A query written once here cannot drift between the backends. */
/* The columns of an event, in the order the backends' event readers read
 * them. */
#define EVENT_COLUMNS                                                                              \
    "id, time_us, kind, method, message, recipient, item, client, user_agent, accept_language, "   \
    "via, from_hdr, detail"
/* The columns each backend binds for an event, in its binder's order. */
#define EVENT_INSERT_HEAD                                                                          \
    "INSERT INTO events (time_us, kind, method, message, recipient, item, client, user_agent, "    \
    "accept_language, via, from_hdr, detail) VALUES "
/* The columns of enrichments, in the order the backends' readers read them. */
#define ENRICH_COLUMNS                                                                             \
    "event, message, recipient, kind, item, time_us, verdict, confidence, reasons, "               \
    "rules_version, client_family, client_version, os, device, country, asn, as_org, machine, "    \
    "reader, new_reader, forward, json"
/* Events after id AFTER, LIMIT at most; of one message MSG. */
#define STORE_SQL_EVENTS_LIST_ALL(AFTER, LIMIT)                                                    \
    "SELECT " EVENT_COLUMNS " FROM events WHERE id > " AFTER " ORDER BY id LIMIT " LIMIT
#define STORE_SQL_EVENTS_LIST_MESSAGE(MSG, AFTER, LIMIT)                                           \
    "SELECT " EVENT_COLUMNS " FROM events WHERE message = " MSG " AND id > " AFTER                 \
    " ORDER BY id LIMIT " LIMIT
/* The per-recipient report of message MSG: one row per registered recipient,
 * plus recipient 0 (per-message tokens) only when it has events. */
#define STORE_SQL_REPORT(MSG)                                                                      \
    "WITH e AS (SELECT recipient,"                                                                 \
    " count(*) FILTER (WHERE kind = 'open' AND method = 'GET') AS opens,"                          \
    " min(time_us) FILTER (WHERE kind = 'open' AND method = 'GET') AS first_open,"                 \
    " max(time_us) FILTER (WHERE kind = 'open' AND method = 'GET') AS last_open,"                  \
    " count(*) FILTER (WHERE method = 'HEAD') AS probes,"                                          \
    " count(*) FILTER (WHERE kind = 'click' AND method = 'GET') AS clicks,"                        \
    " min(time_us) FILTER (WHERE kind = 'click' AND method = 'GET') AS first_click,"               \
    " max(time_us) FILTER (WHERE kind = 'click' AND method = 'GET') AS last_click"                 \
    " FROM events WHERE message = " MSG " GROUP BY recipient) "                                    \
    "SELECT 0, NULL, NULL, 0, opens, first_open, last_open, probes, clicks, first_click,"          \
    " last_click FROM e WHERE recipient = 0 "                                                      \
    "UNION ALL "                                                                                   \
    "SELECT r.idx, r.address, r.state, r.state_us, e.opens, e.first_open, e.last_open,"            \
    " e.probes, e.clicks, e.first_click, e.last_click"                                             \
    " FROM recipients r LEFT JOIN e ON e.recipient = r.idx WHERE r.message = " MSG " ORDER BY 1"

#define STORE_ERRMSG_MAX 512

/* A table whose rows retention deletes with the events of the same age:
 * those with time_column < the cutoff. */
struct store_aged {
    const char *table;
    const char *time_column;
};

/* The reader row an enrichments_put batch leaves for one reader: created from
 * first (its first row in the batch) or, if the reader exists, its last time
 * moved to last_us and opens added. */
struct store_reader_put {
    const struct homing_store_enrichment *first;
    int64_t last_us;
    int64_t opens;
};

/* The counters one enrichments_put batch adds to migration 0012's tables
 * (recipient_stats, link_stats, hourly_stats), summed by store.c per group so
 * that a backend runs one upsert per recipient, clicked link and hour of the
 * batch instead of the per-hit trigger migration 0017 dropped. Classes are
 * reports' (docs/reports.md): human (human, proxy-open), machine (prefetch,
 * scanner, probe), unknown (any other verdict). */
enum store_class { STORE_CLASS_HUMAN, STORE_CLASS_MACHINE, STORE_CLASS_UNKNOWN, STORE_CLASSES };
extern const char *const store_class_names[STORE_CLASSES];

struct store_recipient_add {
    uint64_t message;
    uint32_t recipient;
    int64_t opens[STORE_CLASSES], clicks[STORE_CLASSES], docs[STORE_CLASSES];
    int has_open, has_click;                           /* a human open / click in the batch */
    int64_t first_human_open_us, first_human_click_us; /* their earliest times, if so */
};

struct store_link_add {
    uint64_t message;
    uint32_t link, recipient;
    int64_t clicks[STORE_CLASSES];
};

struct store_hour_add {
    uint64_t message;
    int64_t hour; /* time_us / 3,600,000,000 */
    uint16_t kind;
    enum store_class cls;
    int64_t count;
};

/* A stats query's four sums (human, machine, unknown, all) into c: how every
 * backend's stats operation reads its counter rows. */
static inline void store_stats_count_set(struct homing_stats_count *c, const int64_t *v)
{
    c->human = v[0];
    c->machine = v[1];
    c->unknown = v[2];
    c->all = v[3];
}

/* The three summing queries of a stats operation, in the order each backend
 * runs them into one array: 20 values over message_stats (opens, clicks,
 * documents, openers, clickers, each as store_stats_count_set reads them),
 * 2 over readers (all, possible forwards), 3 over hourly_stats (complaints,
 * autoreplies, read receipts). */
enum {
    STORE_STATS_TOTALS = 0,
    STORE_STATS_READERS = 20,
    STORE_STATS_REPORTS = 22,
    STORE_STATS_N = 25
};

/* Copies those values into o. */
static inline void store_stats_totals_set(struct homing_stats *o, const int64_t *v)
{
    store_stats_count_set(&o->opens, v);
    store_stats_count_set(&o->clicks, v + 4);
    store_stats_count_set(&o->documents, v + 8);
    store_stats_count_set(&o->openers, v + 12);
    store_stats_count_set(&o->clickers, v + 16);
    o->readers = v[STORE_STATS_READERS];
    o->possible_forwards = v[STORE_STATS_READERS + 1];
    o->complaints = v[STORE_STATS_REPORTS];
    o->autoreplies = v[STORE_STATS_REPORTS + 1];
    o->read_receipts = v[STORE_STATS_REPORTS + 2];
}

/* A backend's part of a stats operation, which store_stats_run (store_stats.c)
 * runs in this order: begin (a read snapshot), row of sql_messages (1 value),
 * states, row of sql_totals, sql_readers and sql_reports (the values of the
 * enum above), reasons, links, commit; rollback after a failure. Every query
 * takes the filter q as its first five parameters. */
struct store_stats_steps {
    int (*begin)(struct homing_store *s);
    int (*commit)(struct homing_store *s);
    void (*rollback)(struct homing_store *s);
    /* The k integer columns of sql's one row (0 without a row) into v. */
    int (*row)(struct homing_store *s, const char *sql, const struct homing_message_query *q,
               int64_t *v, int k, const char *what);
    /* Each state's count through store_stats_state_add. */
    int (*states)(struct homing_store *s, const struct homing_message_query *q,
                  struct homing_stats *o);
    int (*reasons)(struct homing_store *s, const struct homing_message_query *q,
                   struct homing_stats *o);
    int (*links)(struct homing_store *s, const struct homing_message_query *q,
                 struct homing_stats *o);
    const char *sql_messages, *sql_totals, *sql_readers, *sql_reports;
};
/* A stats operation by st's steps (store_stats.c); o cleared on failure. */
int store_stats_run(struct homing_store *s, const struct store_stats_steps *st,
                    const struct homing_message_query *q, struct homing_stats *o);
/* Adds the count of recipients in state (its member of o, if it has one,
 * and recipients). */
void store_stats_state_add(struct homing_stats *o, const char *state, int64_t count);

struct store_stats_put {
    struct store_recipient_add *recipients;
    size_t nrecipients;
    struct store_link_add *links;
    size_t nlinks;
    struct store_hour_add *hours;
    size_t nhours;
};

/* A column sealed in place by store_seal_legacy (table and column are names
 * from store_seal_legacy.c's list, never from input). */
/* WHOLE, CLIENT: whole values, by distinct value; TEXT: addresses in text,
 * by id; TEXT_VALUE: addresses in text, by distinct value (a table without
 * an id: the suppressions' notes). */
enum store_seal_kind {
    STORE_SEAL_WHOLE,
    STORE_SEAL_CLIENT,
    STORE_SEAL_TEXT,
    STORE_SEAL_TEXT_VALUE
};
struct store_seal_col {
    const char *table, *column;
    enum store_seal_kind kind;
};

/* An event's client, as stored, for the privacy truncation's chunks. */
struct store_client {
    int64_t id;
    char client[HOMING_ADDR_STR_MAX];
};

/* The cursor (homing_store_cursor_get) at the last event whose client
 * homing_store_privacy_truncate has truncated. */
#define STORE_TRUNCATE_CURSOR "privacy-truncate"

/* A foreign key of child pointing at another table: its column and the
 * column it references, each as the backend's SQL writes it (quoted). */
#define STORE_NAME_MAX 132 /* bytes of a table or quoted column name */
struct store_fk {
    char child[STORE_NAME_MAX], column[STORE_NAME_MAX], parent[STORE_NAME_MAX];
};

/* The four parameters every privacy delete may use: 1 an address (text),
 * 2 a message, 3 a recipient, 4 a time (the backend's placeholders). */
struct store_del {
    const char *addr;
    int64_t message, recipient, time_us;
};

struct store_ops {
    const char *name;
    /* target: the URL without "scheme:" (a bare path for the default backend),
     * base_dir as given to homing_store_open; sync is "normal" or "full" and
     * is "normal" unless the backend has HOMING_STORE_CAP_SYNC. Writes a reason
     * into err (errcap >= 1) on failure. */
    int (*open)(const char *target, const char *base_dir, const char *sync,
                struct homing_store **out, char *err, size_t errcap);
    /* homing_store_inspect for this backend's targets. */
    int (*inspect)(const char *target, const char *base_dir, int *version, int *latest, char *err,
                   size_t errcap);
    /* homing_store_provision; NULL for a backend with nothing to prepare. */
    int (*provision)(const char *target, unsigned flags, struct homing_store_node *out, char *err,
                     size_t errcap);
    void (*close)(struct homing_store *s);
    int (*schema_version)(struct homing_store *s, int *version);
    int (*message_add)(struct homing_store *s, const struct homing_message_spec *m,
                       uint64_t *id_out);
    int (*message_get)(struct homing_store *s, uint64_t id, struct homing_message **out);
    int (*message_find)(struct homing_store *s, const char *bare_id, size_t len, uint64_t *id_out);
    int (*message_query)(struct homing_store *s, const struct homing_message_query *q,
                         struct homing_message **out, size_t *n);
    int (*campaigns_list)(struct homing_store *s, struct homing_campaign **out, size_t *n);
    int (*stats)(struct homing_store *s, const struct homing_message_query *q,
                 struct homing_stats *out);
    int (*stats_series)(struct homing_store *s, const struct homing_message_query *q,
                        int64_t bucket_us, struct homing_stats_point **out, size_t *n);
    int (*message_list)(struct homing_store *s, size_t limit, struct homing_message **out,
                        size_t *n);
    int (*link_url)(struct homing_store *s, uint64_t message, uint32_t index, char **url_out);
    int (*recipient_set_state)(struct homing_store *s, uint64_t message, uint32_t index,
                               const char *state, int64_t at_us);
    /* cursor: NULL, or a named cursor set to position in the same transaction. */
    int (*events_append)(struct homing_store *s, struct homing_event *evs, size_t n,
                         const char *cursor, int64_t position);
    /* events_append plus flood counts (migration 0008); cursor may be NULL. */
    int (*events_append_floods)(struct homing_store *s, struct homing_event *evs, size_t n,
                                const struct homing_flood_count *floods, size_t nf,
                                const char *cursor, int64_t position);
    int (*floods_close)(struct homing_store *s, int64_t before_us, size_t *closed, size_t *left);
    int (*events_list)(struct homing_store *s, uint64_t message, int64_t after, size_t limit,
                       struct homing_event **out, size_t *n);
    int (*events_count)(struct homing_store *s, uint64_t message, int64_t *n);
    int (*recipient_events)(struct homing_store *s, uint64_t message, uint32_t recipient,
                            int64_t after, size_t limit, struct homing_event **out, size_t *n);
    int (*report)(struct homing_store *s, uint64_t message, struct homing_report_row **rows,
                  size_t *n);
    int (*api_key_add)(struct homing_store *s, const char *name, const uint8_t hash[32], int scope,
                       int64_t *id_out);
    int (*api_key_check)(struct homing_store *s, const uint8_t hash[32]);
    int (*api_key_list)(struct homing_store *s, struct homing_api_key_info **out, size_t *n);
    int (*api_key_revoke)(struct homing_store *s, const char *name);
    /* notifications (migration 0003) */
    int (*webhook_add)(struct homing_store *s, const char *url, const char *events,
                       const char *secret, int64_t *id_out);
    int (*webhook_list)(struct homing_store *s, int64_t only_id, struct homing_webhook **out,
                        size_t *n);
    int (*webhook_disable)(struct homing_store *s, int64_t id);
    int (*notification_add)(struct homing_store *s, const struct homing_notification_spec *n,
                            int64_t *id_out);
    int (*notifications_list)(struct homing_store *s, int64_t after, size_t limit,
                              struct homing_notification **out, size_t *n);
    int (*notification_exists)(struct homing_store *s, const struct homing_notification_query *q,
                               int *exists);
    int (*deliveries_due_fair)(struct homing_store *s, int64_t now_us, size_t per_webhook,
                               size_t limit, struct homing_delivery **out, size_t *n);
    int (*delivery_result)(struct homing_store *s, int64_t notification, int64_t webhook, int ok,
                           int64_t next_us, const char *error);
    int (*delivery_counts)(struct homing_store *s, int64_t *pending, int64_t *delivered,
                           int64_t *failed);
    int (*cursor_get)(struct homing_store *s, const char *name, int64_t *event);
    int (*cursor_set)(struct homing_store *s, const char *name, int64_t event);
    int (*notifications_last)(struct homing_store *s, int64_t *id);
    /* delivery (migration 0002) */
    int (*unmatched_add)(struct homing_store *s, const char *source, const char *kind,
                         const char *reason, const char *raw, size_t raw_len, int64_t *id_out);
    int (*unmatched_list)(struct homing_store *s, int64_t after, size_t limit, int with_raw,
                          struct homing_unmatched **out, size_t *n);
    int (*sync_get)(struct homing_store *s, const char *name, char **value_out);
    /* relay users (migration 0014) */
    int (*relay_user_set)(struct homing_store *s, const char *name, const char *hash);
    int (*relay_user_get)(struct homing_store *s, const char *name, char **hash_out);
    int (*relay_user_list)(struct homing_store *s, char ***names, size_t *n);
    int (*relay_user_remove)(struct homing_store *s, const char *name);
    int (*sync_set)(struct homing_store *s, const char *name, const char *value);
    int (*events_append_once)(struct homing_store *s, const char *key, struct homing_event *evs,
                              size_t n);
    int (*unmatched_add_once)(struct homing_store *s, const char *key, const char *source,
                              const char *kind, const char *reason, const char *raw, size_t raw_len,
                              int64_t *id_out);
    /* Engine maintenance, each behind a capability (homing/store_engine.h):
     * set only by a backend that declares it. */
    int (*set_autocheckpoint)(struct homing_store *s, int pages);               /* CAP_CHECKPOINT */
    int (*checkpoint)(struct homing_store *s);                                  /* CAP_CHECKPOINT */
    void (*set_wait_hook)(void (*hook)(void));                                  /* CAP_BUSY_HOOK */
    int (*backup)(struct homing_store *s, const char *dest);                    /* CAP_BACKUP */
    int (*leader)(struct homing_store *s, int *leader);                         /* CAP_LEADER */
    int (*listen_wait)(struct homing_store *s, int timeout_ms, unsigned *woke); /* CAP_LISTEN */
    /* NULL: one deliverer per store, every claim succeeds (store.c) */
    int (*delivery_claim)(struct homing_store *s, int64_t notification, int64_t webhook,
                          int64_t lease_us);
    /* privacy (migration 0006) */
    int (*tracking_set)(struct homing_store *s, uint64_t message, uint32_t recipient, int mode);
    int (*tracking_get)(struct homing_store *s, uint64_t message, int *message_mode, int **modes,
                        size_t *n);
    /* A write transaction around one step of store.c's policy that spans
     * several operations (a chunk of homing_store_privacy_truncate). */
    int (*write_begin)(struct homing_store *s);
    int (*write_commit)(struct homing_store *s);
    void (*write_rollback)(struct homing_store *s); /* a no-op when none is open */
    /* In a write transaction: up to cap events with from < id <= upto, by
     * id, with their clients as stored. */
    int (*privacy_clients)(struct homing_store *s, int64_t from, int64_t upto,
                           struct store_client *rows, size_t cap, size_t *n);
    /* In a write transaction, under the truncate guard: each row's client set
     * (store.c's truncation); *changed: rows rewritten. */
    int (*privacy_clients_set)(struct homing_store *s, const struct store_client *rows, size_t n,
                               int64_t *changed);
    /* The foreign keys of other tables pointing at table (their first
     * column): malloc'd, for store_delete_cascade. */
    int (*privacy_fks)(struct homing_store *s, const char *table, struct store_fk **out, size_t *n);
    /* Runs a DELETE built by store_delete_cascade with a's four parameters
     * (those it names); *n: rows deleted. */
    int (*privacy_delete)(struct homing_store *s, const char *sql, const struct store_del *a,
                          int64_t *n);
    /* aged: the other tables whose rows older than before_us go with the
     * events (store.c's policy), ended by {NULL, NULL}; a table the schema
     * does not have is passed over. */
    int (*privacy_retention)(struct homing_store *s, int64_t before_us,
                             const struct store_aged *aged, int64_t *rolled, int64_t *deleted);
    int (*rollups_list)(struct homing_store *s, uint64_t message, struct homing_rollup **out,
                        size_t *n);
    /* address: lower case (store.c); lookup: its sealed lookup prefix
     * (homing_seal_lookup) when the store is sealed, else NULL: rows are then
     * found by it (a prefix of whole values, inside text), and address only
     * names it in the messages' sender and subject; keep: the tables forget
     * leaves to their own rule or alone (store.c's policy), NULL-terminated. */
    int (*privacy_forget)(struct homing_store *s, const char *address, const char *lookup,
                          const char *const *keep, struct homing_forget_result *out);
    /* enrichment (migration 0004) */
    /* readers: one per reader of the batch; stats: the batch's counters,
     * both computed by store.c. */
    int (*enrichments_put)(struct homing_store *s, const struct homing_store_enrichment *rows,
                           size_t n, const struct store_reader_put *readers, size_t nr,
                           const struct store_stats_put *stats, int64_t cursor);
    int (*enrichments_list)(struct homing_store *s, uint64_t message, int64_t only_event,
                            int64_t after, size_t limit, struct homing_store_enrichment **out,
                            size_t *n);
    int (*enrichments_rewrite)(struct homing_store *s, const struct homing_store_enrichment *rows,
                               size_t n);
    int (*readers_list)(struct homing_store *s, uint64_t message, struct homing_store_reader **out,
                        size_t *n);
    int (*reader_lookup)(struct homing_store *s, uint64_t message, uint32_t recipient,
                         const char *fingerprint, int *known, int64_t *others);
    int (*events_stamp)(struct homing_store *s, uint64_t message, int64_t upto,
                        struct homing_events_stamp *out);
    int (*enrichment_flags)(struct homing_store *s, int64_t after, int64_t upto, size_t limit,
                            struct homing_store_enrichment_flags **out, size_t *n);
    /* documents (migration 0005) */
    int (*document_add)(struct homing_store *s, const struct homing_document *d, int64_t *id_out);
    int (*document_get)(struct homing_store *s, const char *name, struct homing_document **out);
    int (*document_list)(struct homing_store *s, struct homing_document **out, size_t *n);
    int (*document_set_digest)(struct homing_store *s, int64_t id, const char *digest);
    int (*grant_add)(struct homing_store *s, const struct homing_grant_spec *g, int64_t *id_out);
    int (*grant_list)(struct homing_store *s, int64_t document, struct homing_grant **out,
                      size_t *n);
    /* *revoked: grants revoked, 0 when none was (store.c says -ENOENT) */
    int (*grant_revoke)(struct homing_store *s, int64_t grant, int64_t document, int64_t *revoked);
    int (*grant_check)(struct homing_store *s, int64_t grant, uint64_t message, uint32_t recipient,
                       int64_t now_us, int64_t pending, struct homing_document **doc);
    /* suppression list (migration 0014): normalised addresses only */
    int (*suppress_add)(struct homing_store *s, const struct homing_suppression *e, int *added);
    int (*suppress_remove)(struct homing_store *s, const char *sender, const char *address,
                           size_t *removed);
    int (*suppress_find)(struct homing_store *s, const char *sender, const char *address,
                         struct homing_suppression *out);
    int (*suppress_list)(struct homing_store *s, const char *sender,
                         struct homing_suppression **out, size_t *n);
    /* sealing rows written before the store was sealed (store_seal_legacy.c):
     * one write transaction each. seal_batch: up to limit values of
     * c->column still in clear (whole values: not starting with the prefix,
     * every distinct one replaced where it occurs, *after counting those
     * replaced; text: the rows with id >
     * *after, by id, *after moved) replaced by store_seal_legacy_value's
     * form; seal_events: the events with id > *after, by id, under the
     * guard 'seal' (migration 0018), each through store_seal_legacy_event.
     * *n: rows read (fewer than limit: done). */
    int (*seal_batch)(struct homing_store *s, const struct store_seal_col *c, int64_t *after,
                      size_t limit, size_t *n);
    int (*seal_events)(struct homing_store *s, int64_t *after, size_t limit, size_t *n);
};

/* One backend of the registry in store.c (as curl's TLS backends or
 * OpenSMTPD's queue backends): URLs "scheme:..." open with it, and caps
 * (HOMING_STORE_CAP_*) says which optional operations of ops it has. */
struct homing_store_backend {
    const char *scheme;
    unsigned caps;
    const struct store_ops *ops;
};

/* The backends this build has. */
extern const struct homing_store_backend store_backend_sqlite;     /* sqlite.c */
extern const struct homing_store_backend store_backend_postgresql; /* pg.c */

/* The common head of every backend's handle. */
struct homing_seal;
struct homing_store {
    const struct store_ops *ops;
    const struct homing_store_backend *backend; /* set by store.c after open */
    const struct homing_seal *seal;             /* the data key, NULL: values not sealed */
    char errmsg[STORE_ERRMSG_MAX];
};

/* One numbered migration, embedded by scripts/embed.py (version 1, 2, ...). */
struct store_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct store_migration store_migrations_sqlite[];
extern const size_t store_migrations_sqlite_count;
extern const struct store_migration store_migrations_postgresql[];
extern const size_t store_migrations_postgresql_count;

/* Sealing (store_seal.c): what store.c seals before a backend sees it and
 * opens after; with s->seal NULL each leaves its values as they are. */
struct store_ev_saved;
/* Seals the events' client, From and detail in place; *saved keeps the
 * caller's values for store_events_restore (always called after). */
int store_events_seal(struct homing_store *s, struct homing_event *evs, size_t n,
                      struct store_ev_saved **saved);
void store_events_restore(struct homing_event *evs, size_t n, struct store_ev_saved *saved);
int store_events_open(struct homing_store *s, struct homing_event *evs, size_t n);
/* A sealed copy of each string (*out NULL when not sealing); store_list_free. */
int store_seal_list(struct homing_store *s, const char *const *in, size_t n, char ***out);
void store_list_free(char **v, size_t n);
int store_seal_whole(struct homing_store *s, const char *v, char *out, size_t cap);
/* A client address in its field (cap bytes), sealed in place. */
int store_seal_client(struct homing_store *s, char *client, size_t cap);
/* A whole value in a field of cap bytes / on the heap, opened in place. */
int store_open_fixed(struct homing_store *s, char *field, size_t cap, const char *what);
int store_open_whole(struct homing_store *s, char **p, const char *what);
/* Text with addresses: *owned a sealed copy, or NULL when nothing changes. */
int store_seal_text(struct homing_store *s, const char *in, size_t n, char **owned,
                    size_t *owned_len);
int store_seal_fixed_text(struct homing_store *s, char *field, size_t cap);
/* Opens the sealed addresses of heap text (len: its length, may be NULL). */
int store_open_text(struct homing_store *s, char **p, size_t *len);
int store_open_fixed_text(struct homing_store *s, char *field, size_t cap);
/* The truncation of a stored client (sealed or not) to v4/v6 bits, in the
 * stored form, into out: 1 when it changes, 0 when not (nothing stored, not
 * an address, already short), or a negative errno (it does not open). The
 * C half of homing_store_privacy_truncate, for every backend: a sealed value
 * cannot be cut in SQL. */
int store_client_truncate(struct homing_store *s, const char *stored, unsigned v4, unsigned v6,
                          char out[HOMING_ADDR_STR_MAX]);
/* Seals the rows written before the store was sealed (store_seal_legacy.c),
 * in transactions of STORE_SEAL_BATCH rows; idempotent, and done once (the
 * sync_state row "seal-legacy"). */
int store_seal_legacy(struct homing_store *s);
/* The sealed form of one stored value (n bytes) of a column of kind: *out
 * (allocated, *out_n bytes) or NULL when it stays as it is (sealed already,
 * nothing to seal, a tombstone's "forgotten"). */
int store_seal_legacy_value(struct homing_store *s, enum store_seal_kind kind, const char *in,
                            size_t n, char **out, size_t *out_n);
/* One event's client, From and detail (heap, replaced) sealed in place: 1
 * when any changed, 0 when not, or a negative errno. */
int store_seal_legacy_event(struct homing_store *s, char *client, size_t client_cap, char *from,
                            size_t from_cap, char **detail);

/* Whether a grant's row lets one more download through (homing_store_grant_check's
 * rule for every backend): 0, -EKEYREVOKED, -EKEYEXPIRED, or -EDQUOT when its
 * uses and the caller's pending ones reach max_uses (0: no limit). */
int store_grant_usable(int64_t revoked_us, int64_t expires_us, int64_t max_uses, int64_t uses,
                       int64_t now_us, int64_t pending);

/* Adds rows changed in table to a forget result (out may be NULL; a table
 * past HOMING_FORGET_TABLES_MAX is not counted). */
void store_forget_count(struct homing_forget_result *out, const char *table, int64_t rows);

#define STORE_DELETE_SQL_MAX 4096 /* bytes of a statement store_delete_cascade builds */
/* Deletes from table the rows matching where (parameters of a), after the
 * rows of other tables whose foreign keys point at them, following up to
 * depth levels of keys (-ELOOP beyond): the one order of a privacy delete
 * for every backend, so that enforced foreign keys never refuse it. Counts
 * into out (may be NULL) and adds table's rows to *deleted (may be NULL). */
int store_delete_cascade(struct homing_store *s, const char *table, const char *where,
                         const struct store_del *a, int depth, struct homing_forget_result *out,
                         int64_t *deleted);

/* Records a one-line error for homing_store_errmsg. */
void store_set_error(struct homing_store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes the one-line reason of a failed open (or other call that reports
 * into a caller's buffer) into err (when err and errcap), and returns r. */
int store_open_fail(char *err, size_t errcap, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
