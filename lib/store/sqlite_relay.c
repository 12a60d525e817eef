/*
 * sqlite_relay.c: the SQLite backend's relay users (migration 0016): the
 * AUTH accounts of `homing relay`, name and argon2id hash only.
 *
 * Contract: see homing/store.h, "relay users". Statements are prepared per
 * call: these run once per AUTH and per `homing relay-users` command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homing/util.h"
#include "lib/store/sqlite_int.h"

static sqlite3_stmt *relay_prepare(struct homing_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sqlite_db(s), sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite_fail(s, rc, "preparing a relay user query");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

int sqlite_relay_user_set(struct homing_store *s, const char *name, const char *hash)
{
    sqlite3_stmt *st = relay_prepare(s, "INSERT INTO relay_users (name, hash, created_us) "
                                        "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE "
                                        "SET hash = excluded.hash");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, homing_now_us());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sqlite_fail(s, rc, "writing a relay user");
}

int sqlite_relay_user_get(struct homing_store *s, const char *name, char **hash_out)
{
    sqlite3_stmt *st = relay_prepare(s, "SELECT hash FROM relay_users WHERE name = ?1");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = 0;
    char *h = NULL;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (!v || !(h = strdup(v))) r = v ? -ENOMEM : -ENOENT;
    } else {
        r = rc == SQLITE_DONE ? -ENOENT : sqlite_fail(s, rc, "reading a relay user");
    }
    sqlite3_finalize(st);
    if (r == 0) *hash_out = h;
    return r;
}

int sqlite_relay_user_list(struct homing_store *s, char ***names, size_t *n)
{
    sqlite3_stmt *st = relay_prepare(s, "SELECT name FROM relay_users ORDER BY name");
    if (!st) return -EIO;
    char **arr = NULL;
    size_t used = 0, cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = homing_array_grow((void **)&arr, &cap, used, sizeof *arr, 8)) < 0) break;
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (!(arr[used] = strdup(v ? v : ""))) {
            r = -ENOMEM;
            break;
        }
        used++;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sqlite_fail(s, rc, "listing relay users");
    sqlite3_finalize(st);
    if (r < 0) {
        for (size_t i = 0; i < used; i++) free(arr[i]);
        free(arr);
        return r;
    }
    *names = arr;
    *n = used;
    return 0;
}

int sqlite_relay_user_remove(struct homing_store *s, const char *name)
{
    sqlite3_stmt *st = relay_prepare(s, "DELETE FROM relay_users WHERE name = ?1");
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return sqlite_fail(s, rc, "removing a relay user");
    return sqlite3_changes(sqlite_db(s)) ? 0 : -ENOENT;
}
