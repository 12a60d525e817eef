/*
 * sqlite_open.c: the SQLite backend's opening a SQLite store: the path of its URL, the connection
 * settings (WAL, synchronous, busy handler, foreign keys), the numbered migrations, and inspecting
 * a file without changing it; and the engine maintenance behind capabilities
 * (homing/store_engine.h): WAL checkpoints, the busy wait hook, the online backup.
 *
 * Contract: homing/store.h for each operation; the helpers of sqlite_int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/sqlite_int.h"

/* homing_store_set_wait_hook: process-wide, read at each wait. */
static void (*_Atomic wait_hook)(void);

void sq_set_wait_hook(void (*hook)(void))
{
    wait_hook = hook;
}

/* Waiting for another handle's write lock. No loop thread writes to the
 * store (hits go through the journal, document grants through the ingester),
 * so the waiters are the background threads, the admin thread and the CLI:
 * 1 ms sleeps, SQ_BUSY_TIMEOUT_MS in all, and the hook at the first wait and
 * every SQ_BUSY_HOOK_MS after, so that a holder parked in SCHED_IDLE by a
 * flood gets the CPU (thread.h): the daemon's watch puts the background
 * threads back in SCHED_IDLE a few times a second while the flood lasts, and
 * a raise at the first wait only was undone before a slow holder finished (an
 * API registration waited the whole 5 s under ASan on a loaded machine). */
static int sq_busy_wait(void *arg, int count)
{
    (void)arg;
    void (*hook)(void) = wait_hook;
    if (hook && count % SQ_BUSY_HOOK_MS == 0) hook();
    if (count >= SQ_BUSY_TIMEOUT_MS) return 0;
    usleep(1000);
    return 1;
}

/* ---- opening and migrations ---- */

static int exec_err(sqlite3 *db, const char *sql, char *err, size_t errcap, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return 0;
    if (err && errcap) snprintf(err, errcap, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
}

static int read_version(struct sq *q, int *version)
{
    sqlite3_stmt *st = sq_stmt(q, ST_SCHEMA_VERSION);
    if (!st) return -EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *version = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : sq_fail(q, rc, "schema version");
}

/* Applies each missing migration in its own transaction. Several processes may
 * open a new database at once: the version is read again under the write lock,
 * so each migration runs exactly once. */
static int sq_migrate(struct sq *q, char *err, size_t errcap)
{
    int r = exec_err(q->db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY, applied_us INTEGER NOT NULL)",
                     err, errcap, "creating schema_migrations");
    if (r < 0) return r;
    int have = 0;
    if ((r = read_version(q, &have)) < 0) goto fail;
    const int known = (int)store_migrations_sqlite_count;
    if (have > known) {
        snprintf(err, errcap,
                 "database schema version %d is newer than this homing knows (%d): "
                 "upgrade homing",
                 have, known);
        return -EPROTO;
    }
    for (int v = have + 1; v <= known; v++) {
        const struct store_migration *m = &store_migrations_sqlite[v - 1];
        if ((r = sq_begin(q, 1)) < 0) goto fail;
        int now;
        if ((r = read_version(q, &now)) < 0) goto fail_tx;
        if (now >= v) {
            if ((r = sq_commit(q)) < 0) goto fail_tx;
            continue;
        }
        char what[128];
        snprintf(what, sizeof what, "migration %s", m->name);
        if ((r = exec_err(q->db, m->sql, err, errcap, what)) < 0) {
            sq_rollback(q);
            return r;
        }
        char ins[128];
        snprintf(ins, sizeof ins,
                 "INSERT INTO schema_migrations (version, applied_us) VALUES (%d, %lld)", v,
                 (long long)homing_now_us());
        if ((r = exec_err(q->db, ins, err, errcap, what)) < 0) {
            sq_rollback(q);
            return r;
        }
        if ((r = sq_commit(q)) < 0) goto fail_tx;
    }
    return 0;
fail_tx:
    sq_rollback(q);
fail:
    snprintf(err, errcap, "migrating: %s", q->base.errmsg);
    return r;
}

/* Switches the journal to WAL. On a brand-new database several processes race
 * to do it, and SQLite does not call the busy handler for this pragma: the
 * losers get SQLITE_BUSY at once, so we wait and retry within the same budget
 * as the busy timeout. Once the file is in WAL mode the pragma takes no lock. */
static int sq_set_wal(struct sq *q, const char *path, char *err, size_t errcap)
{
    for (int waited = 0;; waited += SQ_WAL_RETRY_MS) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(q->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK) rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(st, 0);
            int ok = mode && (strcmp(mode, "wal") == 0 ||
                              (strcmp(mode, "memory") == 0 && strcmp(path, ":memory:") == 0));
            sqlite3_finalize(st);
            if (ok) return 0;
            snprintf(err, errcap, "%s: cannot switch to WAL journal mode", path);
            return -EIO;
        }
        sqlite3_finalize(st);
        int busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
        if (!busy || waited >= SQ_BUSY_TIMEOUT_MS) {
            snprintf(err, errcap, "%s: cannot use WAL: %s", path, sqlite3_errmsg(q->db));
            return busy ? -EBUSY : (rc & 0xff) == SQLITE_NOTADB ? -EINVAL : -EIO;
        }
        struct timespec ts = {0, SQ_WAL_RETRY_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void sq_close(struct homing_store *s)
{
    struct sq *q = (struct sq *)s;
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(q->stmts[i]);
    sqlite3_close_v2(q->db);
    free(q);
}

/* The file a target names (relative to base_dir), in full; a failure's
 * reason in err. Shared by open and inspect. */
static int sq_path(const char *target, const char *base_dir, char full[SQ_PATH_MAX], char *err,
                   size_t errcap)
{
    if (!*target) {
        snprintf(err, errcap, "store URL 'sqlite:' names no file");
        return -EINVAL;
    }
    int len;
    if (target[0] != '/' && strcmp(target, ":memory:") != 0 && base_dir && *base_dir)
        len = snprintf(full, SQ_PATH_MAX, "%s/%s", base_dir, target);
    else
        len = snprintf(full, SQ_PATH_MAX, "%s", target);
    if (len < 0 || (size_t)len >= SQ_PATH_MAX) {
        snprintf(err, errcap, "store path too long");
        return -ENAMETOOLONG;
    }
    return 0;
}

int sq_open(const char *target, const char *base_dir, const char *sync, struct homing_store **out,
            char *err, size_t errcap)
{
    char path[SQ_PATH_MAX];
    int pr = sq_path(target, base_dir, path, err, errcap);
    if (pr < 0) return pr;
    struct sq *q = calloc(1, sizeof *q);
    if (!q) return -ENOMEM;
    q->base.ops = store_backend_sqlite.ops;
    int r = -EIO;
    /* NOMUTEX: a handle is used by one thread at a time (store.h contract). */
    int rc = sqlite3_open_v2(
        path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errcap, "%s: %s", path, q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
        r = rc == SQLITE_NOMEM ? -ENOMEM : (rc & 0xff) == SQLITE_CANTOPEN ? -ENOENT : -EIO;
        goto fail;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_handler(q->db, sq_busy_wait, NULL);
    if ((r = exec_err(q->db, "PRAGMA foreign_keys = ON", err, errcap, path)) < 0) goto fail;

    if ((r = sq_set_wal(q, path, err, errcap)) < 0) goto fail;
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous = %s",
             strcmp(sync, "full") == 0 ? "FULL" : "NORMAL");
    if ((r = exec_err(q->db, pragma, err, errcap, path)) < 0) goto fail;
    if ((r = sq_migrate(q, err, errcap)) < 0) goto fail;
    *out = &q->base;
    return 0;
fail:
    sq_close(&q->base);
    return r;
}

int sq_inspect(const char *target, const char *base_dir, int *version, int *latest, char *err,
               size_t errcap)
{
    char path[SQ_PATH_MAX];
    int pr = sq_path(target, base_dir, path, err, errcap);
    if (pr < 0) return pr;
    if (access(path, F_OK) < 0) {
        int e = errno;
        snprintf(err, errcap, "%s: %s", path, strerror(e));
        return -e;
    }
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *st = NULL;
    int have = 0, r = 0;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, SQ_BUSY_TIMEOUT_MS);
        /* No table yet: a database homing never migrated. */
        rc = sqlite3_prepare_v2(db,
                                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                "name = 'schema_migrations'",
                                -1, &st, NULL);
        if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0)) {
            sqlite3_finalize(st);
            rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                                    -1, &st, NULL);
            if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) have = sqlite3_column_int(st, 0);
        }
        if (rc == SQLITE_OK) rc = sqlite3_errcode(db);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errcap, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        r = -EIO;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (r < 0) return r;
    *version = have;
    *latest = (int)store_migrations_sqlite_count;
    return 0;
}

int sq_schema_version(struct homing_store *s, int *version)
{
    return read_version((struct sq *)s, version);
}

int sq_set_autocheckpoint(struct homing_store *s, int pages)
{
    struct sq *q = (struct sq *)s;
    sqlite3_wal_autocheckpoint(q->db, pages);
    return 0;
}

int sq_checkpoint(struct homing_store *s)
{
    struct sq *q = (struct sq *)s;
    int rc = sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    /* BUSY only means a writer held the lock this time; the next call goes on. */
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) return sq_fail(q, rc, "checkpoint");
    return 0;
}

/* One backup step for all pages: one read transaction, which in WAL mode
 * never blocks the daemon's writers (and is never restarted by them, as a
 * copy in several steps would be by every commit in between). BUSY only
 * happens when a writer holds the database in rollback mode: tried again. */
int sq_backup(struct homing_store *s, const char *dest)
{
    struct sq *q = (struct sq *)s;
    if (access(dest, F_OK) == 0) {
        store_set_error(s, "backup: %s exists", dest);
        return -EEXIST;
    }
    sqlite3 *out = NULL;
    int rc = sqlite3_open_v2(dest, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        store_set_error(s, "backup: cannot create %s: %s", dest,
                        out ? sqlite3_errmsg(out) : "out of memory");
        sqlite3_close(out);
        unlink(dest);
        return -EIO;
    }
    sqlite3_backup *b = sqlite3_backup_init(out, "main", q->db, "main");
    if (!b) {
        store_set_error(s, "backup: %s", sqlite3_errmsg(out));
        sqlite3_close(out);
        unlink(dest);
        return -EIO;
    }
    do {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) usleep(10000);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    int r = 0;
    if (rc != SQLITE_DONE) {
        store_set_error(s, "backup: %s", sqlite3_errstr(rc));
        r = -EIO;
    } else if (sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        /* one file, no -wal beside it: the copy moves as it is */
        store_set_error(s, "backup: %s", sqlite3_errmsg(out));
        r = -EIO;
    }
    if (sqlite3_close(out) != SQLITE_OK && r == 0) r = -EIO;
    if (r < 0) unlink(dest);
    return r;
}
