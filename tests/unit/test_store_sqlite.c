/*
 * test_store_sqlite.c: what only the SQLite backend has, below the public API
 * that test_store.c, test_privacy.c and test_who.c check on every backend:
 * store URLs and paths, the registry's SQLite entry and its capabilities,
 * migrations recorded once and a newer schema refused, WAL, header fields
 * stored as NULL, the triggers that keep events append-only outside the
 * privacy guard, the file backup and inspect, and the campaign counters that
 * enrichment batches add (migration 0017) equal a count of the enrichments
 * from scratch. These read the database file
 * with sqlite3 directly. Each test works in its own temporary directory.
 * Also the capability gate of store.c, with a backend that has none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "homing/store.h"
#include "homing/store_engine.h"
#include "homing/util.h"
#include "lib/store/store_int.h"
#include "seal_scenario.h"

#include "batch_feed.h"

struct fixture {
    char dir[64];
    char db[128];
    struct homing_store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/homing-test-store-sqlite-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->db, sizeof f->db, "%s/homing.db", f->dir);
    char err[256];
    if (homing_store_open(f->db, NULL, "normal", &f->s, err, sizeof err) < 0) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    homing_store_close(f->s);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

/* Runs one SQL statement on a separate raw connection; returns the SQLite code
 * and, for a query, the first column of the first row in *val. */
static int raw_sql(const char *db, const char *sql, long long *val, char *err, size_t errcap)
{
    sqlite3 *h;
    if (sqlite3_open(db, &h) != SQLITE_OK) return SQLITE_CANTOPEN;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && val) *val = sqlite3_column_int64(st, 0);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE && err)
            snprintf(err, errcap, "%s", sqlite3_errmsg(h));
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return rc;
}

static void add_event(struct homing_store *s, uint64_t msg, uint32_t rcpt, const char *client,
                      const char *via)
{
    struct homing_event e = {.time_us = homing_now_us(),
                             .kind = HOMING_EV_OPEN,
                             .method = HOMING_METHOD_GET,
                             .message = msg,
                             .recipient = rcpt};
    homing_strlcpy(e.client, client, sizeof e.client);
    homing_strlcpy(e.via, via, sizeof e.via);
    assert_int_equal(homing_store_events_append(s, &e, 1), 0);
}

/* The rows of a query that the other does not have (both ways), counted. */
static long long differ(const char *db, const char *a, const char *b)
{
    char sql[4096];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM (%s EXCEPT %s)) + (SELECT count(*) FROM (%s EXCEPT %s))",
             a, b, b, a);
    long long n = -1;
    char err[256] = "";
    int rc = raw_sql(db, sql, &n, err, sizeof err);
    if (rc != SQLITE_ROW) fprintf(stderr, "%s: %s\n", sql, err);
    assert_int_equal(rc, SQLITE_ROW);
    return n;
}

/* Enrichments stored in batches of every size, with many recipients, links,
 * hours, kinds and verdicts mixed in each (and some rewritten by a
 * reclassify): every counter table equals a count of the enrichments from
 * scratch. The counters are summed per batch by store.c and added by one
 * upsert per group (migration 0017); before, a trigger added each hit. */
static void test_batch_counters(void **state)
{
    struct fixture *f = *state;
    struct batch_feed feed;
    batch_feed(f->s, 1500, 300, 97, &feed);
    /* the first human open and click (before the reclassify, which does not
     * move them back: migration 0012) */
    assert_int_equal(differ(f->db,
                            "SELECT message, recipient, first_human_open_us, first_human_click_us "
                            "FROM recipient_stats",
                            "SELECT message, recipient, "
                            "min(CASE WHEN kind = 'open' AND " SQL_HUMAN " THEN time_us END), "
                            "min(CASE WHEN kind = 'click' AND " SQL_HUMAN " THEN time_us END) "
                            "FROM enrichments GROUP BY message, recipient"),
                     0);
    /* a reclassify moves some hits to another class */
    batch_feed_reclassify(f->s, &feed);

    assert_int_equal(
        differ(f->db,
               "SELECT message, recipient, opens_human, opens_machine, opens_unknown, "
               "clicks_human, clicks_machine, clicks_unknown, docs_human, docs_machine, "
               "docs_unknown FROM recipient_stats",
               "SELECT message, recipient, "
               "sum(kind = 'open' AND " SQL_HUMAN "), sum(kind = 'open' AND " SQL_MACHINE "), "
               "sum(kind = 'open' AND " SQL_UNKNOWN "), sum(kind = 'click' AND " SQL_HUMAN "), "
               "sum(kind = 'click' AND " SQL_MACHINE "), sum(kind = 'click' AND " SQL_UNKNOWN "), "
               "sum(kind = 'document-open' AND " SQL_HUMAN "), "
               "sum(kind = 'document-open' AND " SQL_MACHINE "), "
               "sum(kind = 'document-open' AND " SQL_UNKNOWN ") "
               "FROM enrichments GROUP BY message, recipient"),
        0);
    assert_int_equal(differ(f->db,
                            "SELECT message, link, recipient, human, machine, unknown "
                            "FROM link_stats",
                            "SELECT message, item, recipient, sum(" SQL_HUMAN "), "
                            "sum(" SQL_MACHINE "), sum(" SQL_UNKNOWN ") FROM enrichments "
                            "WHERE kind = 'click' GROUP BY message, item, recipient"),
                     0);
    assert_int_equal(differ(f->db,
                            "SELECT message, hour, kind, class, count FROM hourly_stats "
                            "WHERE count != 0",
                            "SELECT message, time_us / 3600000000, kind, " SQL_CLASS
                            ", count(*) FROM enrichments GROUP BY 1, 2, 3, 4"),
                     0);
    assert_int_equal(differ(f->db,
                            "SELECT message, opens_human, opens_machine, opens_unknown, "
                            "clicks_human, clicks_machine, clicks_unknown, openers_human, "
                            "openers_machine, openers_unknown, openers_all, clickers_human, "
                            "clickers_all FROM message_stats",
                            "SELECT message, sum(opens_human), sum(opens_machine), "
                            "sum(opens_unknown), sum(clicks_human), sum(clicks_machine), "
                            "sum(clicks_unknown), sum(opens_human > 0), sum(opens_machine > 0), "
                            "sum(opens_unknown > 0), "
                            "sum(opens_human + opens_machine + opens_unknown > 0), "
                            "sum(clicks_human > 0), "
                            "sum(clicks_human + clicks_machine + clicks_unknown > 0) "
                            "FROM recipient_stats GROUP BY message"),
                     0);
    assert_int_equal(differ(f->db,
                            "SELECT message, link, human, machine, unknown, clickers_human, "
                            "clickers_all FROM link_totals",
                            "SELECT message, link, sum(human), sum(machine), sum(unknown), "
                            "sum(human > 0), sum(human + machine + unknown > 0) "
                            "FROM link_stats GROUP BY message, link"),
                     0);
    long long groups = 0;
    assert_int_equal(raw_sql(f->db, "SELECT count(*) FROM hourly_stats", &groups, NULL, 0),
                     SQLITE_ROW);
    assert_true(groups >= 60); /* 2 messages x 5 hours x 3 kinds x 3 classes, most seen */
}

/* Empty header fields are stored as NULL (and read back as "", which
 * test_store.c checks on every backend). */
static void test_header_nulls(void **state)
{
    struct fixture *f = *state;
    add_event(f->s, 7, 1, "192.0.2.1", "");
    add_event(f->s, 7, 2, "", "1.1 proxy");
    add_event(f->s, 7, 3, "192.0.2.3", "");
    long long nulls = 0;
    assert_int_equal(
        raw_sql(f->db, "SELECT count(*) FROM events WHERE via IS NULL", &nulls, NULL, 0),
        SQLITE_ROW);
    assert_int_equal(nulls, 2);
    assert_int_equal(
        raw_sql(f->db, "SELECT count(*) FROM events WHERE client IS NULL", &nulls, NULL, 0),
        SQLITE_ROW);
    assert_int_equal(nulls, 1);
}

/* Migration 0006's triggers: outside the privacy guard, events stay
 * append-only, and a guard set by hand admits only a shorter client. After the
 * privacy operations the guard is empty again. */
static void test_privacy_guard(void **state)
{
    struct fixture *f = *state;
    add_event(f->s, 7, 1, "203.0.113.77", "");
    assert_int_equal(homing_store_privacy_truncate(f->s, -1, 24, 48, NULL), 0);
    char err[256] = "";
    assert_int_equal(
        raw_sql(f->db, "UPDATE events SET client = '1.2.3.0' WHERE id = 1", NULL, err, sizeof err),
        SQLITE_CONSTRAINT);
    assert_int_equal(
        raw_sql(f->db, "UPDATE events SET kind = 'click' WHERE id = 1", NULL, err, sizeof err),
        SQLITE_CONSTRAINT);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db,
                                  "BEGIN; INSERT INTO privacy_guard (id, op) VALUES (1, "
                                  "'truncate'); UPDATE events SET kind = 'click' WHERE id = 1; "
                                  "COMMIT",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    sqlite3_close(db);
    long long n = -1;
    assert_int_equal(raw_sql(f->db, "SELECT count(*) FROM privacy_guard", &n, NULL, 0), SQLITE_ROW);
    assert_int_equal(n, 0);
    int64_t rolled, deleted;
    assert_int_equal(homing_store_privacy_retention(f->s, INT64_MAX / 2, &rolled, &deleted), 0);
    assert_int_equal(deleted, 1);
    assert_int_equal(raw_sql(f->db, "SELECT count(*) FROM privacy_guard", &n, NULL, 0), SQLITE_ROW);
    assert_int_equal(n, 0);
}

static void test_open_options(void **state)
{
    (void)state;
    char dir[] = "/tmp/homing-test-store-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char err[256];
    struct homing_store *s = NULL;
    assert_int_equal(homing_store_open("sqlite:x.db", dir, "fast", &s, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "store.sync"));
    assert_null(s);
    /* Both PostgreSQL schemes reach the backend, which says why it cannot
     * connect (a socket directory that does not exist: no traffic leaves the
     * machine). */
    assert_int_equal(homing_store_open("postgresql:///homing?host=/nonexistent-homing-test", dir,
                                       "normal", &s, err, sizeof err),
                     -EIO);
    assert_non_null(strstr(err, "nonexistent-homing-test"));
    assert_int_equal(homing_store_open("postgres:///homing?host=/nonexistent-homing-test", dir,
                                       "normal", &s, err, sizeof err),
                     -EIO);
    assert_null(s);
    assert_int_equal(homing_store_open("mysql://db/homing", dir, "normal", &s, err, sizeof err),
                     -EINVAL);
    assert_int_equal(homing_store_open("sqlite:", dir, "normal", &s, err, sizeof err), -EINVAL);

    /* A relative path is taken from base_dir; "full" is accepted. */
    assert_int_equal(homing_store_open("sqlite:rel.db", dir, "full", &s, err, sizeof err), 0);
    /* The registry: SQLite is backend 0 (the default for a bare path), with
     * the engine maintenance its capabilities promise. */
    const char *scheme = NULL;
    unsigned caps = 0;
    assert_int_equal(homing_store_backend_get(0, &scheme, &caps), 0);
    assert_string_equal(scheme, "sqlite");
    assert_string_equal(homing_store_scheme(s), "sqlite");
    assert_int_equal(homing_store_caps(s), caps);
    assert_true(caps & HOMING_STORE_CAP_CHECKPOINT);
    assert_true(caps & HOMING_STORE_CAP_SYNC);
    assert_int_equal(homing_store_set_autocheckpoint(s, 0), 0);
    assert_int_equal(homing_store_checkpoint(s), 0);
    assert_int_equal(homing_store_set_wait_hook(s, NULL), 0);
    assert_int_equal(homing_store_caps(NULL), 0);
    assert_int_equal(homing_store_checkpoint(NULL), -EINVAL);
    homing_store_close(s);
    char p[128];
    struct stat sb;
    snprintf(p, sizeof p, "%s/rel.db", dir);
    assert_int_equal(stat(p, &sb), 0);
    long long v = 0;
    assert_int_equal(raw_sql(p, "PRAGMA journal_mode", NULL, NULL, 0), SQLITE_ROW);
    unlink(p);
    snprintf(p, sizeof p, "%s/rel.db-wal", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/rel.db-shm", dir);
    unlink(p);
    (void)v;

    /* A directory is not a database; err may be NULL. */
    assert_true(homing_store_open(dir, NULL, "normal", &s, err, sizeof err) < 0);
    assert_true(homing_store_open(dir, NULL, "normal", &s, NULL, 0) < 0);
    assert_int_equal(homing_store_open("sqlite:", dir, "normal", &s, NULL, 0), -EINVAL);
    assert_int_equal(
        homing_store_open("/nonexistent-dir/x.db", NULL, "normal", &s, err, sizeof err), -ENOENT);
    rmdir(dir);

    /* NULL is safe everywhere it is freed. */
    homing_store_close(NULL);
    homing_message_free(NULL);
    homing_messages_free(NULL, 3);
    homing_report_free(NULL, 3);
    homing_api_keys_free(NULL, 3);
    homing_events_free(NULL, 3);
    assert_string_equal(homing_store_errmsg(NULL), "no store");
}

static void test_migrations(void **state)
{
    struct fixture *f = *state;
    int v = -1;
    assert_int_equal(homing_store_schema_version(f->s, &v), 0);
    assert_int_equal(v, (int)store_migrations_sqlite_count);
    assert_true(v >= 1);
    long long rows = 0;
    assert_int_equal(raw_sql(f->db, "SELECT count(*) FROM schema_migrations", &rows, NULL, 0),
                     SQLITE_ROW);
    assert_int_equal(rows, v);
    long long wal = 0;
    assert_int_equal(
        raw_sql(f->db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode", &wal, NULL, 0),
        SQLITE_ROW);
    assert_int_equal(wal, 1);

    /* Reopening applies nothing. */
    char err[256];
    struct homing_store *s2;
    assert_int_equal(homing_store_open(f->db, NULL, "normal", &s2, err, sizeof err), 0);
    assert_int_equal(homing_store_schema_version(s2, &v), 0);
    assert_int_equal(v, (int)store_migrations_sqlite_count);
    homing_store_close(s2);
    assert_int_equal(raw_sql(f->db, "SELECT count(*) FROM schema_migrations", &rows, NULL, 0),
                     SQLITE_ROW);
    assert_int_equal(rows, v);

    /* A database from a newer homing is refused with a reason. */
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO schema_migrations VALUES (%d, 0)", v + 1);
    assert_int_equal(raw_sql(f->db, sql, NULL, NULL, 0), SQLITE_DONE);
    s2 = NULL;
    assert_int_equal(homing_store_open(f->db, NULL, "normal", &s2, err, sizeof err), -EPROTO);
    assert_null(s2);
    assert_non_null(strstr(err, "newer"));
}

static void test_events_append_only(void **state)
{
    struct fixture *f = *state;
    add_event(f->s, 42, 1, "192.0.2.0", "");
    char err[256] = "";
    assert_int_equal(raw_sql(f->db, "UPDATE events SET kind = 'click'", NULL, err, sizeof err),
                     SQLITE_CONSTRAINT);
    assert_non_null(strstr(err, "append-only"));
    err[0] = '\0';
    assert_int_equal(raw_sql(f->db, "DELETE FROM events", NULL, err, sizeof err),
                     SQLITE_CONSTRAINT);
    assert_non_null(strstr(err, "append-only"));
    int64_t n;
    assert_int_equal(homing_store_events_count(f->s, 0, &n), 0);
    assert_int_equal(n, 1);
}

/* homing_store_backup: a copy taken while another handle has a write
 * transaction open and commits after it; the copy opens as a store of its
 * own with the committed messages, in one file (no -wal). An existing
 * destination is refused. homing_store_inspect reads the version without
 * migrating: 0 for an empty file, the newest for a store, -ENOENT for none. */
static void test_backup_and_inspect(void **state)
{
    struct fixture *f = *state;
    const char *to[] = {"bob@example.net"};
    struct homing_message_spec m = {.subject = "kept", .recipients = to, .n_recipients = 1};
    uint64_t id, id2;
    assert_int_equal(homing_store_message_add(f->s, &m, &id), 0);
    char copy[160], err[256];
    snprintf(copy, sizeof copy, "%s/copy.db", f->dir);
    assert_int_equal(homing_store_backup(f->s, copy), 0);
    assert_int_equal(homing_store_backup(f->s, copy), -EEXIST);
    char wal[170];
    snprintf(wal, sizeof wal, "%s-wal", copy);
    assert_int_not_equal(access(wal, F_OK), 0);
    int version, latest;
    assert_int_equal(homing_store_inspect(copy, NULL, &version, &latest, err, sizeof err), 0);
    assert_true(latest > 0);
    assert_int_equal(version, latest);
    struct homing_store *c;
    assert_int_equal(homing_store_open(copy, NULL, "normal", &c, err, sizeof err), 0);
    struct homing_message *got;
    assert_int_equal(homing_store_message_get(c, id, &got), 0);
    assert_string_equal(got->subject, "kept");
    homing_message_free(got);
    homing_store_close(c);
    unlink(copy);
    /* A second handle writing while the copy is taken: what it committed
     * before the backup is in the copy. */
    struct homing_store *w;
    assert_int_equal(homing_store_open(f->db, NULL, "normal", &w, err, sizeof err), 0);
    assert_int_equal(homing_store_message_add(w, &m, &id2), 0);
    assert_int_equal(homing_store_backup(f->s, copy), 0);
    assert_int_equal(homing_store_open(copy, NULL, "normal", &c, err, sizeof err), 0);
    assert_int_equal(homing_store_message_get(c, id2, &got), 0);
    homing_message_free(got);
    homing_store_close(c);
    homing_store_close(w);
    unlink(copy);
    /* inspect changes nothing */
    char empty[160];
    snprintf(empty, sizeof empty, "%s/empty.db", f->dir);
    FILE *e = fopen(empty, "w");
    assert_non_null(e);
    fclose(e);
    assert_int_equal(homing_store_inspect(empty, NULL, &version, &latest, err, sizeof err), 0);
    assert_int_equal(version, 0);
    struct stat sb;
    assert_int_equal(stat(empty, &sb), 0);
    assert_int_equal(sb.st_size, 0);
    unlink(empty);
    assert_int_equal(homing_store_inspect(empty, NULL, &version, &latest, err, sizeof err),
                     -ENOENT);
}

/* An operation behind a capability is refused (-ENOTSUP) on a backend that
 * does not declare it, without calling into the backend (whose ops here are
 * all NULL: a call would crash); callers check homing_store_caps first. */
static void test_capability_gate(void **state)
{
    (void)state;
    static const struct store_ops none_ops = {.name = "none"};
    static const struct homing_store_backend none = {"none", 0, &none_ops};
    struct homing_store fake = {.ops = &none_ops, .backend = &none};
    assert_int_equal(homing_store_caps(&fake), 0);
    assert_string_equal(homing_store_scheme(&fake), "none");
    assert_int_equal(homing_store_checkpoint(&fake), -ENOTSUP);
    assert_int_equal(homing_store_set_autocheckpoint(&fake, 0), -ENOTSUP);
    assert_int_equal(homing_store_set_wait_hook(&fake, NULL), -ENOTSUP);
    assert_int_equal(homing_store_backup(&fake, "/nonexistent/copy.db"), -ENOTSUP);
    assert_non_null(strstr(homing_store_errmsg(&fake), "none backend"));
}

/* A store written before it was sealed: opened with the key, `sqlite3 .dump`
 * of it names neither the address nor the clients in clear (the rows were
 * sealed in place, migration 0018's guard let the events through). */
static void test_seal_dump(void **state)
{
    struct fixture *f = *state;
    char url[160], dumpf[160], cmd[512];
    snprintf(url, sizeof url, "sqlite:%s/legacy.db", f->dir);
    snprintf(dumpf, sizeof dumpf, "%s/legacy.sql", f->dir);
    uint64_t msg;
    seal_scenario_fill(url, &msg);
    snprintf(cmd, sizeof cmd, "sqlite3 '%s/legacy.db' .dump > '%s'", f->dir, dumpf);
    assert_int_equal(system(cmd), 0);
    assert_true(seal_scenario_grep(dumpf, SEAL_ADDR) > 0); /* the test can fail */
    seal_scenario_open(url, msg);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(seal_scenario_grep(dumpf, SEAL_ADDR), 0);
    assert_int_equal(seal_scenario_grep(dumpf, SEAL_CLIENT), 0);
    assert_int_equal(seal_scenario_grep(dumpf, SEAL_CLIENT6), 0);
    assert_true(seal_scenario_grep(dumpf, HOMING_SEAL_PREFIX) > 0);
    /* nor the file's bytes: the old values were overwritten, not left in free
     * space (the last handle closed: the WAL is in the file) */
    char path[160];
    snprintf(path, sizeof path, "%s/legacy.db", f->dir);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char bytes[8 << 20];
    size_t len = fread(bytes, 1, sizeof bytes, fp);
    fclose(fp);
    assert_true(len > 0 && len < sizeof bytes);
    assert_null(memmem(bytes, len, SEAL_ADDR, strlen(SEAL_ADDR)));
    assert_null(memmem(bytes, len, "other@seal.example", 18));
    assert_null(memmem(bytes, len, SEAL_CLIENT, strlen(SEAL_CLIENT)));
    homing_store_seal_use(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_options),
        cmocka_unit_test(test_capability_gate),
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_privacy_guard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup_and_inspect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_dump, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
