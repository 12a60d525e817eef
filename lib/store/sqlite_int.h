/*
 * sqlite_int.h (private to lib/store): what the files of the SQLite backend
 * share. sqlite.c holds the handle, the statement cache and the helpers below;
 * each other file one section of the operations (sqlite_open.c opening,
 * migrations and engine maintenance; sqlite_messages.c; sqlite_events.c;
 * sqlite_keys.c; sqlite_delivery.c; sqlite_notify.c; sqlite_privacy.c;
 * sqlite_documents.c; sqlite_readers.c; sqlite_stats.c; sqlite_recipient.c;
 * sqlite_suppress.c), and sqlite.c puts
 * their functions in the backend's ops table.
 *
 * Contract: every helper returns 0 or a negative errno with the message
 * recorded for homing_store_errmsg (sq_fail); a statement is always reset or
 * finalized after use, so no read snapshot stays open.
 */
#ifndef HOMING_LIB_STORE_SQLITE_INT_H
#define HOMING_LIB_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "homing/store.h"
#include "lib/store/store_int.h"

#define SQ_BUSY_TIMEOUT_MS 5000 /* how long a handle waits for another's write lock */
#define SQ_BUSY_HOOK_MS    20   /* the wait hook again after this many 1 ms waits */
#define SQ_WAL_RETRY_MS    10   /* pause between attempts to switch a new file to WAL */
#define SQ_ID_ATTEMPTS     8    /* fresh random ids tried on a (rare) collision */
#define SQ_ARRAY_FIRST     64   /* first allocation of a growing result array */
#define SQ_PATH_MAX        4096 /* bytes of a database file's resolved path */
/* Events per multi-row INSERT on the append path: one statement execution per
 * SQ_EVENT_ROWS events costs far less VM setup and AUTOINCREMENT bookkeeping
 * than one per event (measured: about 1.5x the events/s). 32 rows x 12
 * parameters stays far below SQLite's parameter limit. */
#define SQ_EVENT_ROWS   32
#define SQ_EVENT_PARAMS 12

/* The statements prepared once per handle and cached (sqlite.c's sq_sql):
 * the hot ones, and those run per hit or per page by the daemon's threads. */
enum sq_stmt {
    ST_BEGIN,
    ST_BEGIN_IMMEDIATE,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SCHEMA_VERSION,
    ST_EVENT_INSERT,
    ST_EVENT_INSERT_MANY, /* SQ_EVENT_ROWS rows; its SQL is built by sq_stmt */
    ST_LINK_URL,
    ST_API_KEY_CHECK,
    ST_MESSAGE_INSERT,
    ST_RECIPIENT_INSERT,
    ST_LINK_INSERT,
    ST_MESSAGE_GET,
    ST_RECIPIENTS_GET,
    ST_LINKS_GET,
    ST_MESSAGE_FIND,
    ST_MESSAGE_LIST,
    ST_MESSAGE_EXISTS,
    ST_SET_STATE,
    ST_EVENTS_LIST_ALL,
    ST_EVENTS_LIST_MESSAGE,
    ST_EVENTS_COUNT_ALL,
    ST_EVENTS_COUNT_MESSAGE,
    ST_REPORT,
    ST_API_KEY_ADD,
    ST_API_KEY_LIST,
    ST_API_KEY_REVOKE,
    ST_CURSOR_SET,    /* per batch of the journal's ingester: cached (migration 0003's table) */
    ST_FLOOD_ADD,     /* per batch of the ingester holding flood counts (0010) */
    ST_READER_LOOKUP, /* per hit of the enrichment thread (0004's tables, 0007's index) */
    /* Per hit of the enrichment and notifier threads: cached, not prepared per
     * call (preparing was 44% and 58% of those threads under load). */
    ST_ENRICH_INSERT,
    ST_READER_UPSERT,
    ST_ENRICH_CURSOR,
    /* Per group of an enrichment batch: the counters (migration 0017). */
    ST_STATS_RECIPIENT_ADD,
    ST_STATS_LINK_ADD,
    ST_STATS_HOUR_ADD,
    ST_ENRICHMENT_GET,
    ST_NOTIFICATION_EXISTS,
    /* Per page of the enrichment and notifier threads (their caches). */
    ST_EVENTS_STAMP,
    ST_ENRICHMENT_FLAGS,
    ST_COUNT
};

struct sq {
    struct homing_store base; /* first: the public handle points here */
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT];
};

/* ---- sqlite.c: the helpers ---- */

/* Maps an SQLite result code to a negative errno and records the message. */
int sq_fail(struct sq *q, int rc, const char *what);
/* The cached statement id, prepared on first use; NULL (error recorded) if
 * preparing fails. Callers reset it when done so no read lock is held. */
sqlite3_stmt *sq_stmt(struct sq *q, enum sq_stmt id);
/* A statement prepared for one call (finalize it); NULL, error recorded. */
sqlite3_stmt *sq_prepare(struct sq *q, const char *sql);
/* Runs a cached statement (bound by the caller) that returns no rows, and
 * resets it for its next use. */
int sq_run_cached(struct sq *q, sqlite3_stmt *st, const char *what);
/* Runs a statement of sq_prepare that returns no rows, and finalizes it. */
int sq_run_final(struct sq *q, sqlite3_stmt *st, const char *what);
/* Runs a statement (bound by the caller) that returns one row, an aggregate
 * such as count(*), and sets *out to its first column; then lets it go, reset
 * when cached, finalized when not. *out is left alone on error. */
int sq_one_int64(struct sq *q, sqlite3_stmt *st, bool cached, const char *what, int64_t *out);
/* A transaction: write takes the write lock at once (BEGIN IMMEDIATE). */
int sq_begin(struct sq *q, int write);
int sq_commit(struct sq *q);
/* Rolls back if a transaction is still open (SQLite ends some by itself). */
void sq_rollback(struct sq *q);

/* Binds parameters first, first + 1, ... from the arguments, one per letter of
 * fmt: 'I' int64_t, 'i' int, 't' text (const char *: SQL NULL for NULL),
 * 'o' optional text (NULL or "" become SQL NULL), 'z' int64_t that is SQL NULL
 * when 0, 'b' blob (const void *, then int bytes; NULL: SQL NULL), 'n' SQL
 * NULL (no argument). Text and blobs are bound in place (SQLITE_STATIC): they
 * must stay valid until the statement is reset. Checks every bind. */
int sq_bindv(struct sq *q, sqlite3_stmt *st, int first, const char *fmt, va_list ap);
int sq_bind(struct sq *q, sqlite3_stmt *st, const char *fmt, ...);
/* Prepares sql for this call, binds fmt's arguments, runs it to the end (a
 * statement that returns no rows) and finalizes it: sqlite3_changes and
 * sqlite3_last_insert_rowid then tell what it did. what names it in errors. */
int sq_exec(struct sq *q, const char *what, const char *sql, const char *fmt, ...);
/* The same with the cached statement id, reset instead of finalized. */
int sq_exec_cached(struct sq *q, enum sq_stmt id, const char *what, const char *fmt, ...);
/* Prepares sql for this call and binds fmt's arguments: the caller steps it
 * and finalizes it. NULL (error recorded) on failure. */
sqlite3_stmt *sq_query(struct sq *q, const char *sql, const char *fmt, ...);
/* The cached statement id, bound: the caller steps it and resets it. */
sqlite3_stmt *sq_query_cached(struct sq *q, enum sq_stmt id, const char *fmt, ...);

/* Binds an optional string: NULL or "" becomes SQL NULL; cap bounds a fixed
 * field (0: a NUL-terminated string of any length). The bytes must stay
 * valid until the statement is reset (SQLITE_STATIC: no copy on the hot path). */
int sq_bind_opt(sqlite3_stmt *st, int i, const char *s, size_t cap);
/* Copies a text column into a fixed field ("" for NULL), cut at the field. */
void sq_col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap);
/* A malloc'd copy of a text column, or NULL for SQL NULL; -ENOMEM. */
int sq_col_dup(sqlite3_stmt *st, int i, char **out);
/* Makes room for one more element of size el in *arr (capacity *cap). */
int sq_grow(void **arr, size_t *cap, size_t used, size_t el);

/* What the backend's other files (sqlite_stats.c, and the files of features
 * added beside the store) use through the public handle. */
sqlite3 *sqlite_db(struct homing_store *s);
/* Records SQLite's message for homing_store_errmsg; the negative errno. */
int sqlite_fail(struct homing_store *s, int rc, const char *what);
/* A read transaction (one snapshot for several queries), and its end. */
int sqlite_begin(struct homing_store *s);
int sqlite_commit(struct homing_store *s);
void sqlite_rollback(struct homing_store *s);
/* The columns id, message_id, subject, sender, mode, created_us, campaign. */
int sqlite_read_message_row(sqlite3_stmt *st, struct homing_message *m);

/* ---- the operations of store_int.h, by file ---- */

/* sqlite_open.c */
int sq_open(const char *target, const char *base_dir, const char *sync, struct homing_store **out,
            char *err, size_t errcap);
int sq_inspect(const char *target, const char *base_dir, int *version, int *latest, char *err,
               size_t errcap);
void sq_close(struct homing_store *s);
int sq_schema_version(struct homing_store *s, int *version);
int sq_set_autocheckpoint(struct homing_store *s, int pages);
int sq_checkpoint(struct homing_store *s);
void sq_set_wait_hook(void (*hook)(void));
int sq_backup(struct homing_store *s, const char *dest);

/* sqlite_messages.c */
int sq_message_add(struct homing_store *s, const struct homing_message_spec *m, uint64_t *id_out);
int sq_message_get(struct homing_store *s, uint64_t id, struct homing_message **out);
int sq_message_find(struct homing_store *s, const char *bare_id, size_t len, uint64_t *id_out);
int sq_message_list(struct homing_store *s, size_t limit, struct homing_message **out, size_t *n);
int sq_link_url(struct homing_store *s, uint64_t message, uint32_t index, char **url_out);
int sq_recipient_set_state(struct homing_store *s, uint64_t message, uint32_t index,
                           const char *state, int64_t at_us);

/* sqlite_events.c */
/* Binds event e to parameters base+1 .. base+SQ_EVENT_PARAMS. */
void sq_bind_event(sqlite3_stmt *st, int base, const struct homing_event *e);
/* Inserts evs (SQ_EVENT_ROWS to a statement where there are that many) in
 * the caller's write transaction and sets their ids; *done counts the events
 * given ids so far, which the caller takes back when it rolls back. A CHECK
 * failure (bad detail JSON) is -EINVAL. */
int sq_events_insert(struct sq *q, struct homing_event *evs, size_t n, size_t *done);
/* Rolls back the transaction of sq_events_insert and takes back the ids it
 * handed out to the first done events; returns r. */
int sq_events_abort(struct sq *q, struct homing_event *evs, size_t done, int r);
int sq_events_append(struct homing_store *s, struct homing_event *evs, size_t n, const char *cursor,
                     int64_t position);
int sq_events_append_all(struct homing_store *s, struct homing_event *evs, size_t n,
                         const struct homing_flood_count *floods, size_t nf, const char *cursor,
                         int64_t position);
int sq_floods_close(struct homing_store *s, int64_t before_us, size_t *closed, size_t *left);
int sq_events_list(struct homing_store *s, uint64_t message, int64_t after, size_t limit,
                   struct homing_event **out, size_t *n);
int sq_events_count(struct homing_store *s, uint64_t message, int64_t *n);
int sq_report(struct homing_store *s, uint64_t message, struct homing_report_row **rows, size_t *n);

/* sqlite_keys.c */
int sq_api_key_add(struct homing_store *s, const char *name, const uint8_t hash[32], int scope,
                   int64_t *id_out);
int sq_api_key_check(struct homing_store *s, const uint8_t hash[32]);
int sq_api_key_list(struct homing_store *s, struct homing_api_key_info **out, size_t *n);
int sq_api_key_revoke(struct homing_store *s, const char *name);

/* sqlite_delivery.c */
int sq_unmatched_add(struct homing_store *s, const char *source, const char *kind,
                     const char *reason, const char *raw, size_t raw_len, int64_t *id_out);
int sq_unmatched_list(struct homing_store *s, int64_t after, size_t limit, int with_raw,
                      struct homing_unmatched **out, size_t *n);
int sq_sync_get(struct homing_store *s, const char *name, char **value_out);
int sq_sync_set(struct homing_store *s, const char *name, const char *value);
int sq_events_append_once(struct homing_store *s, const char *key, struct homing_event *evs,
                          size_t n);
int sq_unmatched_add_once(struct homing_store *s, const char *key, const char *source,
                          const char *kind, const char *reason, const char *raw, size_t raw_len,
                          int64_t *id_out);

/* sqlite_notify.c */
int sq_webhook_add(struct homing_store *s, const char *url, const char *events, const char *secret,
                   int64_t *id_out);
int sq_webhook_list(struct homing_store *s, int64_t only_id, struct homing_webhook **out,
                    size_t *n);
int sq_webhook_disable(struct homing_store *s, int64_t id);
int sq_notification_add(struct homing_store *s, const struct homing_notification_spec *n,
                        int64_t *id_out);
int sq_notifications_list(struct homing_store *s, int64_t after, size_t limit,
                          struct homing_notification **out, size_t *n);
int sq_notifications_last(struct homing_store *s, int64_t *id);
int sq_notification_exists(struct homing_store *s, const struct homing_notification_query *qr,
                           int *exists);
int sq_deliveries_due_fair(struct homing_store *s, int64_t now_us, size_t per_webhook, size_t limit,
                           struct homing_delivery **out, size_t *n);
int sq_delivery_result(struct homing_store *s, int64_t notification, int64_t webhook, int ok,
                       int64_t next_us, const char *error);
int sq_delivery_counts(struct homing_store *s, int64_t *pending, int64_t *delivered,
                       int64_t *failed);
int sq_cursor_get(struct homing_store *s, const char *name, int64_t *event);
int sq_cursor_set(struct homing_store *s, const char *name, int64_t event);

/* sqlite_privacy.c */
int sq_tracking_set(struct homing_store *s, uint64_t message, uint32_t recipient, int mode);
int sq_tracking_get(struct homing_store *s, uint64_t message, int *message_mode, int **modes,
                    size_t *n);
int sq_privacy_clients(struct homing_store *s, int64_t from, int64_t upto,
                       struct store_client *rows, size_t cap, size_t *n);
int sq_privacy_clients_set(struct homing_store *s, const struct store_client *rows, size_t n,
                           int64_t *changed);
int sq_privacy_fks(struct homing_store *s, const char *table, struct store_fk **out, size_t *n);
int sq_privacy_delete(struct homing_store *s, const char *sql, const struct store_del *a,
                      int64_t *n);
int sq_privacy_retention(struct homing_store *s, int64_t before_us, const struct store_aged *aged,
                         int64_t *rolled, int64_t *deleted);
int sq_rollups_list(struct homing_store *s, uint64_t message, struct homing_rollup **out,
                    size_t *n);
int sq_seal_batch(struct homing_store *s, const struct store_seal_col *c, int64_t *after,
                  size_t limit, size_t *n);
int sq_seal_events(struct homing_store *s, int64_t *after, size_t limit, size_t *n);
int sq_privacy_forget(struct homing_store *s, const char *addr, const char *lookup,
                      const char *const *keep, struct homing_forget_result *out);

/* sqlite_documents.c */
int sq_document_add(struct homing_store *s, const struct homing_document *d, int64_t *id_out);
int sq_document_get(struct homing_store *s, const char *name, struct homing_document **out);
int sq_document_list(struct homing_store *s, struct homing_document **out, size_t *n);
int sq_document_set_digest(struct homing_store *s, int64_t id, const char *digest);
int sq_grant_add(struct homing_store *s, const struct homing_grant_spec *g, int64_t *id_out);
int sq_grant_list(struct homing_store *s, int64_t document, struct homing_grant **out, size_t *n);
int sq_grant_revoke(struct homing_store *s, int64_t grant, int64_t document, int64_t *revoked);
int sq_grant_check(struct homing_store *s, int64_t grant, uint64_t message, uint32_t recipient,
                   int64_t now_us, int64_t pending, struct homing_document **doc);

/* sqlite_readers.c: enrichments and readers */
int sq_enrichments_put(struct homing_store *s, const struct homing_store_enrichment *rows, size_t n,
                       const struct store_reader_put *readers, size_t nr,
                       const struct store_stats_put *stats, int64_t cursor);
int sq_enrichments_list(struct homing_store *s, uint64_t message, int64_t only_event, int64_t after,
                        size_t limit, struct homing_store_enrichment **out, size_t *n);
int sq_enrichments_rewrite(struct homing_store *s, const struct homing_store_enrichment *rows,
                           size_t n);
int sq_readers_list(struct homing_store *s, uint64_t message, struct homing_store_reader **out,
                    size_t *n);
int sq_reader_lookup(struct homing_store *s, uint64_t message, uint32_t recipient,
                     const char *fingerprint, int *known, int64_t *others);
int sq_events_stamp(struct homing_store *s, uint64_t message, int64_t upto,
                    struct homing_events_stamp *out);
int sq_enrichment_flags(struct homing_store *s, int64_t after, int64_t upto, size_t limit,
                        struct homing_store_enrichment_flags **out, size_t *n);

/* sqlite_stats.c: the operations of store_int.h of the same names. */
int sqlite_message_query(struct homing_store *s, const struct homing_message_query *q,
                         struct homing_message **out, size_t *n);
int sqlite_campaigns_list(struct homing_store *s, struct homing_campaign **out, size_t *n);
int sqlite_stats(struct homing_store *s, const struct homing_message_query *q,
                 struct homing_stats *out);
int sqlite_stats_series(struct homing_store *s, const struct homing_message_query *q,
                        int64_t bucket_us, struct homing_stats_point **out, size_t *n);

/* sqlite_events.c: the columns 0-11 of EVENT_COLUMNS into e; detail (12) is
 * not read. */
void sqlite_read_event_row(sqlite3_stmt *st, struct homing_event *e);
/* sqlite_recipient.c: the operation of store_int.h of the same name. */
int sqlite_recipient_events(struct homing_store *s, uint64_t message, uint32_t recipient,
                            int64_t after, size_t limit, struct homing_event **out, size_t *n);

/* sqlite_suppress.c: the suppression list (migration 0015). */
int sqlite_suppress_add(struct homing_store *s, const struct homing_suppression *e, int *added);
int sqlite_suppress_remove(struct homing_store *s, const char *sender, const char *address,
                           size_t *removed);
int sqlite_suppress_find(struct homing_store *s, const char *sender, const char *address,
                         struct homing_suppression *out);
int sqlite_suppress_list(struct homing_store *s, const char *sender,
                         struct homing_suppression **out, size_t *n);

/* sqlite_relay.c: the relay users of store_int.h (migration 0016) */
int sqlite_relay_user_set(struct homing_store *s, const char *name, const char *hash);
int sqlite_relay_user_get(struct homing_store *s, const char *name, char **hash_out);
int sqlite_relay_user_list(struct homing_store *s, char ***names, size_t *n);
int sqlite_relay_user_remove(struct homing_store *s, const char *name);

#endif
