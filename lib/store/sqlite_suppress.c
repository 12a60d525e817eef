/*
 * sqlite_suppress.c: the SQLite backend's suppression list (migration 0015).
 *
 * Contract: see homing/store.h, "The suppression list"; lib/store/suppress.c
 * has normalised and checked every argument. Each call is one statement in
 * autocommit (one row written or read), so it needs no transaction of its
 * own; statements are prepared per call: a check per recipient of a send,
 * not per hit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homing/util.h"
#include "lib/store/sqlite_int.h"

static sqlite3_stmt *sup_prepare(struct homing_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sqlite_db(s), sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite_fail(s, rc, "preparing a suppression statement");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static void sup_text(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    homing_strlcpy(dst, t ? t : "", cap);
}

/* The columns sender, address, reason, message, recipient, created_us, note. */
#define SUP_COLUMNS "sender, address, reason, message, recipient, created_us, note"

static void sup_read(sqlite3_stmt *st, struct homing_suppression *e)
{
    memset(e, 0, sizeof *e);
    sup_text(st, 0, e->sender, sizeof e->sender);
    sup_text(st, 1, e->address, sizeof e->address);
    const char *reason = (const char *)sqlite3_column_text(st, 2);
    int r = reason ? homing_suppress_reason_parse(reason) : -EINVAL;
    e->reason = r < 0 ? HOMING_SUPPRESS_MANUAL : r;
    e->message = (uint64_t)sqlite3_column_int64(st, 3);
    e->recipient = (uint32_t)sqlite3_column_int64(st, 4);
    e->created_us = sqlite3_column_int64(st, 5);
    sup_text(st, 6, e->note, sizeof e->note);
}

int sqlite_suppress_add(struct homing_store *s, const struct homing_suppression *e, int *added)
{
    sqlite3_stmt *st = sup_prepare(s, "INSERT INTO suppressions (" SUP_COLUMNS
                                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                                      "ON CONFLICT (sender, address) DO NOTHING");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, e->sender, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->address, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, homing_suppress_reason_name(e->reason), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)e->message);
    sqlite3_bind_int64(st, 5, e->recipient);
    sqlite3_bind_int64(st, 6, e->created_us);
    if (e->note[0])
        sqlite3_bind_text(st, 7, e->note, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? 0 : sqlite_fail(s, rc, "adding to the suppression list");
    if (r == 0 && added) *added = sqlite3_changes(sqlite_db(s)) > 0;
    sqlite3_finalize(st);
    return r;
}

int sqlite_suppress_remove(struct homing_store *s, const char *sender, const char *address,
                           size_t *removed)
{
    sqlite3_stmt *st = sup_prepare(
        s, "DELETE FROM suppressions WHERE address = ?2 AND (?1 IS NULL OR sender = ?1)");
    if (!st) return -EIO;
    if (sender)
        sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? 0 : sqlite_fail(s, rc, "removing from the suppression list");
    size_t n = r == 0 ? (size_t)sqlite3_changes(sqlite_db(s)) : 0;
    sqlite3_finalize(st);
    if (r < 0) return r;
    if (n == 0) return -ENOENT;
    if (removed) *removed = n;
    return 0;
}

int sqlite_suppress_find(struct homing_store *s, const char *sender, const char *address,
                         struct homing_suppression *out)
{
    /* The sender's own entry first (its reason is the more telling), then
     * the one for every sender. */
    sqlite3_stmt *st = sup_prepare(s, "SELECT " SUP_COLUMNS " FROM suppressions "
                                      "WHERE address = ?2 AND sender IN (?1, '') "
                                      "ORDER BY sender = '' LIMIT 1");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r;
    if (rc == SQLITE_ROW) {
        if (out) sup_read(st, out);
        r = 1;
    } else
        r = rc == SQLITE_DONE ? 0 : sqlite_fail(s, rc, "reading the suppression list");
    sqlite3_finalize(st);
    return r;
}

int sqlite_suppress_list(struct homing_store *s, const char *sender,
                         struct homing_suppression **out, size_t *n)
{
    sqlite3_stmt *st = sup_prepare(s, "SELECT " SUP_COLUMNS " FROM suppressions "
                                      "WHERE ?1 IS NULL OR sender = ?1 "
                                      "ORDER BY created_us DESC, sender, address LIMIT ?2");
    if (!st) return -EIO;
    if (sender)
        sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, HOMING_SUPPRESS_LIST_MAX);
    struct homing_suppression *arr = NULL;
    size_t used = 0, cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = homing_array_grow((void **)&arr, &cap, used, sizeof *arr, 16)) < 0) break;
        sup_read(st, &arr[used++]);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sqlite_fail(s, rc, "listing the suppression list");
    sqlite3_finalize(st);
    if (r < 0) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}
