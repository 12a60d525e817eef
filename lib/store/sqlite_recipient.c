/*
 * sqlite_recipient.c: the SQLite backend's per-recipient reads for the
 * dashboard's recipient page: the events of one recipient of a message, by the
 * (message, recipient, id) index of migration 0014, so the page and its live
 * feed cost the same on a message of ten events as on one of a million.
 *
 * Contract: see homing/store.h (homing_store_recipient_events). The statement
 * is prepared per call: a page view or a live poll, not a hit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homing/event.h"
#include "homing/util.h"
#include "lib/store/sqlite_int.h"

#define RECIPIENT_ARRAY_FIRST 16 /* events allocated at the first row */

int sqlite_recipient_events(struct homing_store *s, uint64_t message, uint32_t recipient,
                            int64_t after, size_t limit, struct homing_event **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sqlite_db(s),
                                "SELECT " EVENT_COLUMNS " FROM events WHERE message = ?1 AND "
                                "recipient = ?2 AND id > ?3 ORDER BY id LIMIT ?4",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return sqlite_fail(s, rc, "preparing a recipient's events");
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message);
    sqlite3_bind_int64(st, 2, recipient);
    sqlite3_bind_int64(st, 3, after);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
    struct homing_event *arr = NULL;
    size_t cap = 0, used = 0;
    int r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* homing_array_grow zeroes new slots: a partly read array frees cleanly */
        if ((r = homing_array_grow((void **)&arr, &cap, used, sizeof *arr, RECIPIENT_ARRAY_FIRST)) <
            0)
            break;
        struct homing_event *e = &arr[used++];
        sqlite_read_event_row(st, e);
        const char *d = (const char *)sqlite3_column_text(st, 12);
        if (d && !(e->detail = strdup(d))) {
            r = -ENOMEM;
            break;
        }
    }
    if (r == 0 && rc != SQLITE_DONE) r = sqlite_fail(s, rc, "listing a recipient's events");
    sqlite3_finalize(st);
    if (r < 0) {
        homing_events_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}
