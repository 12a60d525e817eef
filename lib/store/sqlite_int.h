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

/* sqlite_relay.c: the relay users of store_int.h */
int sqlite_relay_user_set(struct homing_store *s, const char *name, const char *hash);
int sqlite_relay_user_get(struct homing_store *s, const char *name, char **hash_out);
int sqlite_relay_user_list(struct homing_store *s, char ***names, size_t *n);
int sqlite_relay_user_remove(struct homing_store *s, const char *name);

/* sqlite_stats.c: the operations of store_int.h of the same names. */
int sqlite_message_query(struct homing_store *s, const struct homing_message_query *q,
                         struct homing_message **out, size_t *n);
int sqlite_campaigns_list(struct homing_store *s, struct homing_campaign **out, size_t *n);
int sqlite_stats(struct homing_store *s, const struct homing_message_query *q,
                 struct homing_stats *out);
int sqlite_stats_series(struct homing_store *s, const struct homing_message_query *q,
                        int64_t bucket_us, struct homing_stats_point **out, size_t *n);

#endif
