/*
 * sqlite_int.h (private to lib/store): what sqlite.c gives the SQLite
 * backend's other files (sqlite_stats.c), so that a section of the backend
 * can live in a file of its own.
 */
#ifndef HOMING_LIB_STORE_SQLITE_INT_H
#define HOMING_LIB_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "homing/store.h"

sqlite3 *sqlite_db(struct homing_store *s);
/* Records SQLite's message for homing_store_errmsg; the negative errno. */
int sqlite_fail(struct homing_store *s, int rc, const char *what);
/* A read transaction (one snapshot for several queries), and its end. */
int sqlite_begin(struct homing_store *s);
int sqlite_commit(struct homing_store *s);
void sqlite_rollback(struct homing_store *s);
/* The columns id, message_id, subject, sender, mode, created_us, campaign. */
int sqlite_read_message_row(sqlite3_stmt *st, struct homing_message *m);

/* The columns of an event, in the order sqlite_read_event_row reads them. */
#define EVENT_COLUMNS                                                                              \
    "id, time_us, kind, method, message, recipient, item, client, user_agent, "                    \
    "accept_language, via, from_hdr, detail"
/* The columns 0-11 of EVENT_COLUMNS into e; detail (12) is not read. */
void sqlite_read_event_row(sqlite3_stmt *st, struct homing_event *e);
/* sqlite_recipient.c: the operation of store_int.h of the same name. */
int sqlite_recipient_events(struct homing_store *s, uint64_t message, uint32_t recipient,
                            int64_t after, size_t limit, struct homing_event **out, size_t *n);

/* sqlite_stats.c: the operations of store_int.h of the same names. */
int sqlite_message_query(struct homing_store *s, const struct homing_message_query *q,
                         struct homing_message **out, size_t *n);
int sqlite_campaigns_list(struct homing_store *s, struct homing_campaign **out, size_t *n);
int sqlite_stats(struct homing_store *s, const struct homing_message_query *q,
                 struct homing_stats *out);
int sqlite_stats_series(struct homing_store *s, const struct homing_message_query *q,
                        int64_t bucket_us, struct homing_stats_point **out, size_t *n);

/* sqlite_suppress.c: the suppression list (migration 0014). */
int sqlite_suppress_add(struct homing_store *s, const struct homing_suppression *e, int *added);
int sqlite_suppress_remove(struct homing_store *s, const char *sender, const char *address,
                           size_t *removed);
int sqlite_suppress_find(struct homing_store *s, const char *sender, const char *address,
                         struct homing_suppression *out);
int sqlite_suppress_list(struct homing_store *s, const char *sender,
                         struct homing_suppression **out, size_t *n);

#endif
