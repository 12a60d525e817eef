/*
 * pg_int.h: what the PostgreSQL backend's files (lib/store/pg*.c) share.
 *
 * Contract: a handle is one libpq connection used by one thread at a time.
 * Every statement a call runs more than once is prepared once per connection
 * (pg_run: PQprepare on first use, PQexecPrepared after). Text parameters are
 * sent with their length (binary format, so fixed-size event fields need no
 * terminator), integers as decimal text, results come back as text. Errors
 * map SQLSTATEs to negative errnos (pg_fail) and record the server's message
 * for homing_store_errmsg. docs/internals/store.md, "The PostgreSQL backend".
 */
#ifndef HOMING_LIB_STORE_PG_INT_H
#define HOMING_LIB_STORE_PG_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/store_int.h"

#define PG_EVENT_ROWS      32 /* events per execution of the multi-row INSERT */
#define PG_EVENT_PARAMS    12 /* parameters per event row */
#define PG_ARGS_MAX        (PG_EVENT_ROWS * PG_EVENT_PARAMS)
#define PG_ID_ATTEMPTS     8    /* fresh random message ids tried on a (rare) collision */
#define PG_ARRAY_FIRST     64   /* first allocation of a growing result array */
#define PG_CONNECT_TIMEOUT "10" /* seconds libpq waits for a connection unless the URL says */
/* bytes of a schema name: PostgreSQL's NAMEDATALEN - 1 less the key silo's
 * suffix, so the silo's name is never cut (and two stores never share one) */
#define PG_SILO_SUFFIX  "_keys"
#define PG_SCHEMA_MAX   (63 - (int)(sizeof PG_SILO_SUFFIX - 1))
#define PG_URL_MAX      4096 /* bytes of a store URL */
#define PG_ERR_LINE_MAX 512  /* bytes of a connection error kept for the one-line reason */
#define PG_FK_DEPTH     8    /* foreign keys followed by a privacy delete */
#define PG_SQL_MAX      4096 /* bytes of a privacy statement built from the schema */

/* Statements prepared once per connection, by name "hN". */
enum pg_st {
    PG_SCHEMA_VERSION,
    PG_MESSAGE_INSERT,
    PG_RECIPIENTS_INSERT,
    PG_LINKS_INSERT,
    PG_MESSAGE_GET,
    PG_RECIPIENTS_GET,
    PG_LINKS_GET,
    PG_MESSAGE_FIND,
    PG_MESSAGE_LIST,
    PG_MESSAGE_EXISTS,
    PG_LINK_URL,
    PG_SET_STATE,
    PG_PARTITIONS,
    PG_EVENT_INSERT,
    PG_EVENT_INSERT_MANY,
    PG_EVENTS_LIST_ALL,
    PG_EVENTS_LIST_MESSAGE,
    PG_EVENTS_COUNT_ALL,
    PG_EVENTS_COUNT_MESSAGE,
    PG_REPORT,
    PG_CURSOR_GET,
    PG_CURSOR_SET,
    PG_API_KEY_ADD,
    PG_API_KEY_CHECK,
    PG_API_KEY_LIST,
    PG_API_KEY_REVOKE,
    PG_RECIPIENT_EVENTS,
    PG_EVENTS_STAMP,
    PG_TRACKING_SET_MESSAGE,
    PG_TRACKING_SET_RECIPIENT,
    PG_TRACKING_GET_MESSAGE,
    PG_TRACKING_GET_RECIPIENTS,
    PG_FLOOD_ADD,
    PG_INGEST_CLAIM,
    PG_UNMATCHED_ADD,
    PG_SYNC_GET,
    PG_SYNC_SET,
    PG_ENRICH_INSERT,
    PG_READER_UPSERT,
    PG_ENRICH_CURSOR,
    PG_STATS_RECIPIENT_ADD,
    PG_STATS_LINK_ADD,
    PG_STATS_HOUR_ADD,
    PG_ENRICHMENT_GET,
    PG_ENRICHMENTS_MESSAGE,
    PG_ENRICHMENTS_ALL,
    PG_ENRICH_REWRITE,
    PG_READERS_LIST,
    PG_READER_LOOKUP,
    PG_ENRICHMENT_FLAGS,
    PG_SUPPRESS_ADD,
    PG_SUPPRESS_REMOVE,
    PG_SUPPRESS_FIND,
    PG_SUPPRESS_LIST,
    PG_RELAY_USER_SET,
    PG_RELAY_USER_GET,
    PG_RELAY_USER_LIST,
    PG_RELAY_USER_REMOVE,
    PG_WEBHOOK_ADD,
    PG_WEBHOOK_LIST,
    PG_WEBHOOK_DISABLE,
    PG_DELIVERIES_FAIL_WEBHOOK,
    PG_NOTIFICATION_ADD,
    PG_DELIVERIES_ADD,
    PG_NOTIFICATIONS_LIST,
    PG_NOTIFICATIONS_LAST,
    PG_NOTIFICATION_EXISTS,
    PG_DELIVERIES_DUE,
    PG_DELIVERY_RESULT,
    PG_DELIVERY_COUNTS,
    PG_DOCUMENT_ADD,
    PG_DOCUMENT_GET,
    PG_DOCUMENT_LIST,
    PG_DOCUMENT_SET_DIGEST,
    PG_GRANT_ADD,
    PG_GRANT_LIST,
    PG_GRANT_REVOKE,
    PG_GRANT_CHECK,
    PG_LEADER_PING,
    PG_LEADER_TRY,
    PG_DELIVERY_CLAIM,
    PG_ST_COUNT
};

/* Parameters of one execution. fmt 1 (binary) for text and bytea, with len;
 * integers as text in num. */
struct pg_args {
    int n;
    const char *v[PG_ARGS_MAX];
    int len[PG_ARGS_MAX];
    int fmt[PG_ARGS_MAX];
    char num[PG_ARGS_MAX][24];
};

struct pg {
    struct homing_store base;
    PGconn *conn;
    unsigned char prepared[PG_ST_COUNT]; /* 1: statement i is prepared on conn (a bit mask
                                          * of 64 overflowed once there were more) */
    int in_tx;                           /* between pg_begin* and pg_commit/pg_rollback */
    int broken;                          /* the last error said the connection is gone */
    char schema[PG_SCHEMA_MAX + 1];      /* schema= of the URL, "" for none */
    /* pg_leader.c: the session holds the leader lock / LISTENs; both end with
     * the session, so a reconnect (pg_alive) clears them. */
    int leader, listening;
    char listen_schema[PG_SCHEMA_MAX + 1]; /* the store's schema, as NOTIFY names it */
    int64_t claimer;                       /* this handle's id in deliveries.claimed_by */
    struct pg_args args;                   /* the events' parameters: too big for the stack */
    /* copies of the events of one INSERT whose header fields had to be made
     * UTF-8 (pg_events.c) */
    struct homing_event fixed[PG_EVENT_ROWS];
};

/* pg.c */
void pg_args_reset(struct pg_args *a);
void pg_arg_int(struct pg_args *a, int64_t x);
/* s as text; NULL as SQL NULL. len < 0: strlen. */
void pg_arg_text(struct pg_args *a, const char *s, int len);
/* NULL or "" as SQL NULL; cap > 0: s is a fixed field of cap bytes. */
void pg_arg_opt(struct pg_args *a, const char *s, size_t cap);
void pg_arg_bytes(struct pg_args *a, const void *p, int len);
/* s (NUL-terminated) in PostgreSQL's text form of the parameter's type, e.g.
 * an array literal from pg_array_text. */
void pg_arg_literal(struct pg_args *a, const char *s);
/* Runs statement st with a; *res set when r is 0 (the caller PQclears it).
 * what names the operation in the error message. */
int pg_run(struct pg *p, enum pg_st st, const struct pg_args *a, const char *what, PGresult **res);
/* pg_run without rows: *changed (may be NULL) gets the rows affected. */
int pg_do(struct pg *p, enum pg_st st, const struct pg_args *a, const char *what, int64_t *changed);
/* A command without parameters (BEGIN, COMMIT...), not prepared. */
int pg_cmd(struct pg *p, const char *sql, const char *what);
int pg_begin(struct pg *p);
int pg_begin_read(struct pg *p); /* one snapshot for several queries */
int pg_commit(struct pg *p);
void pg_rollback(struct pg *p);
/* pg_commit and pg_rollback through the public handle (store_ops, steps). */
int pg_store_commit(struct homing_store *s);
void pg_store_rollback(struct homing_store *s);
/* Maps a failed result (or a connection failure when res is NULL) to a
 * negative errno and records the message. */
int pg_fail(struct pg *p, const PGresult *res, const char *what);
int64_t pg_int(const PGresult *res, int row, int col); /* NULL reads as 0 */
/* One query's single integer (no row or NULL: 0) into *v; on a failure, the
 * reason in the handle's errmsg (pg_fail). */
int pg_query_int(struct pg *p, const char *sql, const char *what, int64_t *v);
/* malloc'd copy, NULL for SQL NULL; -ENOMEM. */
int pg_dup(const PGresult *res, int row, int col, char **out);
/* into a fixed field: "" for NULL, cut to cap - 1 bytes. */
void pg_copy(const PGresult *res, int row, int col, char *buf, size_t cap);
int pg_grow(void **arr, size_t *cap, size_t used, size_t el);
/* Writes strings as a PostgreSQL array literal {"a","b"} into buf, with a
 * terminating NUL (buf->data is then a C string for pg_arg_literal). */
int pg_array_text(struct homing_buf *buf, const char *const *v, size_t n);

/* pg_open.c */
int pg_open(const char *target, const char *base_dir, const char *sync, struct homing_store **out,
            char *err, size_t errcap);
int pg_inspect(const char *target, const char *base_dir, int *version, int *latest, char *err,
               size_t errcap);
void pg_close(struct homing_store *s);
/* Points the session's search_path at p->schema (if any): after connecting,
 * and again after a reconnect (a new session forgets it). */
int pg_use_schema(struct pg *p);
/* Connects p to target (the URL after "postgresql:"), search_path set;
 * err gets the reason on failure (the caller PQfinishes p->conn). */
int pg_connect(const char *target, struct pg *p, char *err, size_t errcap);
/* Applies the missing migrations inside the caller's transaction, under the
 * migrations' advisory lock; -EPROTO for a newer schema. */
int pg_migrate_locked(struct pg *p, const char *schema);
/* pg_silo.c: homing_store_provision. */
int pg_provision(const char *target, unsigned flags, struct homing_store_node *out, char *err,
                 size_t errcap);
int pg_schema_version(struct homing_store *s, int *version);

/* pg_messages.c */
int pg_message_add(struct homing_store *s, const struct homing_message_spec *m, uint64_t *id_out);
int pg_message_get(struct homing_store *s, uint64_t id, struct homing_message **out);
int pg_message_find(struct homing_store *s, const char *bare_id, size_t len, uint64_t *id_out);
int pg_message_list(struct homing_store *s, size_t limit, struct homing_message **out, size_t *n);
/* Columns id, message_id, subject, sender, mode, created_us, campaign of row i
 * into m (without recipients and links); -ENOMEM. */
int pg_read_message_row(const PGresult *res, int i, struct homing_message *m);
int pg_link_url(struct homing_store *s, uint64_t message, uint32_t index, char **url_out);
int pg_recipient_set_state(struct homing_store *s, uint64_t message, uint32_t index,
                           const char *state, int64_t at_us);

/* pg_events.c */
int pg_events_append(struct homing_store *s, struct homing_event *evs, size_t n, const char *cursor,
                     int64_t position);
int pg_events_list(struct homing_store *s, uint64_t message, int64_t after, size_t limit,
                   struct homing_event **out, size_t *n);
int pg_events_count(struct homing_store *s, uint64_t message, int64_t *n);
int pg_report(struct homing_store *s, uint64_t message, struct homing_report_row **rows, size_t *n);
int pg_events_append_floods(struct homing_store *s, struct homing_event *evs, size_t n,
                            const struct homing_flood_count *floods, size_t nf, const char *cursor,
                            int64_t position);
int pg_events_append_once(struct homing_store *s, const char *key, struct homing_event *evs,
                          size_t n);
int pg_floods_close(struct homing_store *s, int64_t before_us, size_t *closed, size_t *left);
int pg_recipient_events(struct homing_store *s, uint64_t message, uint32_t recipient, int64_t after,
                        size_t limit, struct homing_event **out, size_t *n);
int pg_events_stamp(struct homing_store *s, uint64_t message, int64_t upto,
                    struct homing_events_stamp *out);
int pg_cursor_get(struct homing_store *s, const char *name, int64_t *event);
int pg_cursor_set(struct homing_store *s, const char *name, int64_t event);

/* pg_delivery.c */
/* Records an ingested record's key in the transaction: -EALREADY if it was. */
int pg_ingest_claim(struct pg *p, const char *key);
int pg_unmatched_add(struct homing_store *s, const char *source, const char *kind,
                     const char *reason, const char *raw, size_t raw_len, int64_t *id_out);
int pg_unmatched_add_once(struct homing_store *s, const char *key, const char *source,
                          const char *kind, const char *reason, const char *raw, size_t raw_len,
                          int64_t *id_out);
int pg_unmatched_list(struct homing_store *s, int64_t after, size_t limit, int with_raw,
                      struct homing_unmatched **out, size_t *n);
int pg_sync_get(struct homing_store *s, const char *name, char **value_out);
int pg_sync_set(struct homing_store *s, const char *name, const char *value);

/* pg_privacy.c */
int pg_tracking_set(struct homing_store *s, uint64_t message, uint32_t recipient, int mode);
int pg_tracking_get(struct homing_store *s, uint64_t message, int *message_mode, int **modes,
                    size_t *n);
int pg_privacy_clients(struct homing_store *s, int64_t from, int64_t upto,
                       struct store_client *rows, size_t cap, size_t *n);
int pg_privacy_clients_set(struct homing_store *s, const struct store_client *rows, size_t n,
                           int64_t *changed);
int pg_privacy_fks(struct homing_store *s, const char *table, struct store_fk **out, size_t *n);
int pg_privacy_delete(struct homing_store *s, const char *sql, const struct store_del *a,
                      int64_t *n);
int pg_privacy_retention(struct homing_store *s, int64_t before_us, const struct store_aged *aged,
                         int64_t *rolled, int64_t *deleted);
int pg_rollups_list(struct homing_store *s, uint64_t message, struct homing_rollup **out,
                    size_t *n);
int pg_seal_batch(struct homing_store *s, const struct store_seal_col *c, int64_t *after,
                  size_t limit, size_t *n);
int pg_seal_events(struct homing_store *s, int64_t *after, size_t limit, size_t *n);
int pg_privacy_forget(struct homing_store *s, const char *address, const char *lookup,
                      const char *const *keep, struct homing_forget_result *out);

/* pg_readers.c */
int pg_enrichments_put(struct homing_store *s, const struct homing_store_enrichment *rows, size_t n,
                       const struct store_reader_put *readers, size_t nr,
                       const struct store_stats_put *stats, int64_t cursor);
int pg_enrichments_list(struct homing_store *s, uint64_t message, int64_t only_event, int64_t after,
                        size_t limit, struct homing_store_enrichment **out, size_t *n);
int pg_enrichments_rewrite(struct homing_store *s, const struct homing_store_enrichment *rows,
                           size_t n);
int pg_readers_list(struct homing_store *s, uint64_t message, struct homing_store_reader **out,
                    size_t *n);
int pg_reader_lookup(struct homing_store *s, uint64_t message, uint32_t recipient,
                     const char *fingerprint, int *known, int64_t *others);
int pg_enrichment_flags(struct homing_store *s, int64_t after, int64_t upto, size_t limit,
                        struct homing_store_enrichment_flags **out, size_t *n);

/* pg_stats.c */
int pg_message_query(struct homing_store *s, const struct homing_message_query *q,
                     struct homing_message **out, size_t *n);
int pg_campaigns_list(struct homing_store *s, struct homing_campaign **out, size_t *n);
int pg_stats(struct homing_store *s, const struct homing_message_query *q,
             struct homing_stats *out);
int pg_stats_series(struct homing_store *s, const struct homing_message_query *q, int64_t bucket_us,
                    struct homing_stats_point **out, size_t *n);

/* pg_suppress.c */
int pg_suppress_add(struct homing_store *s, const struct homing_suppression *e, int *added);
int pg_suppress_remove(struct homing_store *s, const char *sender, const char *address,
                       size_t *removed);
int pg_suppress_find(struct homing_store *s, const char *sender, const char *address,
                     struct homing_suppression *out);
int pg_suppress_list(struct homing_store *s, const char *sender, struct homing_suppression **out,
                     size_t *n);
int pg_relay_user_set(struct homing_store *s, const char *name, const char *hash);
int pg_relay_user_get(struct homing_store *s, const char *name, char **hash_out);
int pg_relay_user_list(struct homing_store *s, char ***names, size_t *n);
int pg_relay_user_remove(struct homing_store *s, const char *name);

/* pg_notify.c */
int pg_webhook_add(struct homing_store *s, const char *url, const char *events, const char *secret,
                   int64_t *id_out);
int pg_webhook_list(struct homing_store *s, int64_t only_id, struct homing_webhook **out,
                    size_t *n);
int pg_webhook_disable(struct homing_store *s, int64_t id);
int pg_notification_add(struct homing_store *s, const struct homing_notification_spec *n,
                        int64_t *id_out);
int pg_notifications_list(struct homing_store *s, int64_t after, size_t limit,
                          struct homing_notification **out, size_t *n);
int pg_notifications_last(struct homing_store *s, int64_t *id);
int pg_notification_exists(struct homing_store *s, const struct homing_notification_query *q,
                           int *exists);
int pg_deliveries_due_fair(struct homing_store *s, int64_t now_us, size_t per_webhook, size_t limit,
                           struct homing_delivery **out, size_t *n);
int pg_delivery_result(struct homing_store *s, int64_t notification, int64_t webhook, int ok,
                       int64_t next_us, const char *error);
int pg_delivery_counts(struct homing_store *s, int64_t *pending, int64_t *delivered,
                       int64_t *failed);

/* pg_leader.c: issue #14 item 4 (several nodes on one store) */
int pg_leader(struct homing_store *s, int *leader);
int pg_listen_wait(struct homing_store *s, int timeout_ms, unsigned *woke);
int pg_delivery_claim(struct homing_store *s, int64_t notification, int64_t webhook,
                      int64_t lease_us);

/* pg_documents.c */
int pg_document_add(struct homing_store *s, const struct homing_document *d, int64_t *id_out);
int pg_document_get(struct homing_store *s, const char *name, struct homing_document **out);
int pg_document_list(struct homing_store *s, struct homing_document **out, size_t *n);
int pg_document_set_digest(struct homing_store *s, int64_t id, const char *digest);
int pg_grant_add(struct homing_store *s, const struct homing_grant_spec *g, int64_t *id_out);
int pg_grant_list(struct homing_store *s, int64_t document, struct homing_grant **out, size_t *n);
int pg_grant_revoke(struct homing_store *s, int64_t grant, int64_t document, int64_t *revoked);
int pg_grant_check(struct homing_store *s, int64_t grant, uint64_t message, uint32_t recipient,
                   int64_t now_us, int64_t pending, struct homing_document **doc);

/* pg_keys.c */
int pg_api_key_add(struct homing_store *s, const char *name, const uint8_t hash[32], int scope,
                   int64_t *id_out);
int pg_api_key_check(struct homing_store *s, const uint8_t hash[32]);
int pg_api_key_list(struct homing_store *s, struct homing_api_key_info **out, size_t *n);
int pg_api_key_revoke(struct homing_store *s, const char *name);

#endif
