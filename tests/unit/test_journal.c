/*
 * test_journal.c: the hit journal (homing/journal.h) against a real SQLite
 * store: events round trip with every field, segments rotate, a journal left
 * by a "crash" (closed without ingesting) is recovered exactly once, a partly
 * ingested one only for the rest, a damaged record ends its segment, oversized
 * events are refused; suppressed hits are counted per flood exactly once
 * across a crash and closed into one `suppressed` event each; a segment
 * reserves disk blocks as it fills, not 16 MB at once; a retry after a
 * store call that failed once it had committed stores nothing twice; nodes
 * sharing a store keep cursors of their own (and a node without an id the
 * names of old). Each test works in its own temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "homing/journal.h"
#include "homing/store.h"

struct fixture {
    char dir[64];
    char db[128];
    char jdir[128];
    struct homing_store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/homing-test-journal-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->db, sizeof f->db, "%s/homing.db", f->dir);
    snprintf(f->jdir, sizeof f->jdir, "%s/journal", f->dir);
    char err[256];
    if (homing_store_open(f->db, NULL, "normal", &f->s, err, sizeof err) < 0) return -1;
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

static struct homing_journal *open_journal(struct fixture *f, unsigned writers, size_t *recovered)
{
    struct homing_journal *j = NULL;
    char err[256];
    int r = homing_journal_open(f->jdir, NULL, writers, 0, f->s, &j, recovered, err, sizeof err);
    if (r < 0) fprintf(stderr, "journal: %s\n", err);
    assert_int_equal(r, 0);
    return j;
}

/* Event i of a run: every field derived from i, so a reader can check it. */
static void make_event(struct homing_event *e, unsigned i, size_t ua_len)
{
    memset(e, 0, sizeof *e);
    e->time_us = 1700000000000000LL + i;
    e->kind = i % 3 == 0 ? HOMING_EV_CLICK : HOMING_EV_OPEN;
    e->method = i % 2 ? HOMING_METHOD_HEAD : HOMING_METHOD_GET;
    e->message = 0x1122334455667788ULL;
    e->recipient = i;
    e->item = i % 3 == 0 ? 1 : 0;
    snprintf(e->client, sizeof e->client, "192.0.2.%u", i % 250);
    size_t n = ua_len < sizeof e->user_agent - 1 ? ua_len : sizeof e->user_agent - 1;
    memset(e->user_agent, 'a' + (char)(i % 26), n);
    snprintf(e->accept_language, sizeof e->accept_language, "en-GB;q=0.%u", i % 10);
    if (i % 5 == 0) snprintf(e->via, sizeof e->via, "1.1 proxy-%u", i);
    if (i % 7 == 0) snprintf(e->from, sizeof e->from, "bot%u@example.org", i);
}

static struct homing_journal *open_node(const char *jdir, const char *node, struct homing_store *s,
                                        size_t *recovered)
{
    struct homing_journal *j = NULL;
    char err[256];
    int r = homing_journal_open(jdir, node, 1, 0, s, &j, recovered, err, sizeof err);
    if (r < 0) fprintf(stderr, "journal: %s\n", err);
    assert_int_equal(r, 0);
    return j;
}

static size_t ingest_all(struct homing_journal *j, struct homing_store *s)
{
    size_t total = 0, moved;
    do {
        assert_int_equal(homing_journal_ingest(j, s, 100000, &moved, NULL), 0);
        total += moved;
    } while (moved);
    return total;
}

static int64_t count_events(struct homing_store *s)
{
    int64_t total = 0, after = 0;
    for (;;) {
        struct homing_event *ev = NULL;
        size_t n = 0;
        assert_int_equal(homing_store_events_list(s, 0, after, HOMING_STORE_LIST_MAX, &ev, &n), 0);
        if (n) after = ev[n - 1].id;
        total += (int64_t)n;
        homing_events_free(ev, n);
        if (n == 0) return total;
    }
}

static size_t segment_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".hj")) n++;
    closedir(d);
    return n;
}

/* Events the journal told its stored_fn were stored, minus none: the count
 * the daemon keeps of document downloads relies on it. */
static size_t told_stored;

static void count_stored(void *arg, const struct homing_event *evs, size_t n,
                         enum homing_journal_phase phase)
{
    (void)arg;
    (void)evs;
    if (phase == HOMING_JOURNAL_STORED) told_stored += n;
}

static void sql(const char *db, const char *text)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(h, text, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "sqlite: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(h);
    assert_int_equal(rc, SQLITE_OK);
}

#define LOST_EVENTS 10

/* A store call that fails after its transaction committed (PostgreSQL: the
 * connection lost while COMMIT's answer was on its way) must not make the
 * retry store the batch again. Played on SQLite: a trigger fails the first
 * attempt, then the batch and its cursor are committed as that attempt would
 * have (the position taken from a twin journal given the same events); the
 * retry must find the cursor past its records and add nothing. */
static void test_retry_after_lost_commit(void **state)
{
    struct fixture *f = *state;
    struct homing_event evs[LOST_EVENTS];
    for (unsigned i = 0; i < LOST_EVENTS; i++) make_event(&evs[i], i + 1, 60);

    /* The twin: where the cursor ends after these events. */
    char tdb[192], tdir[192];
    snprintf(tdb, sizeof tdb, "%s/twin.db", f->dir);
    snprintf(tdir, sizeof tdir, "%s/twin", f->dir);
    struct homing_store *ts = NULL;
    char err[256];
    assert_int_equal(homing_store_open(tdb, NULL, "normal", &ts, err, sizeof err), 0);
    struct homing_journal *tj = open_node(tdir, NULL, ts, NULL);
    for (unsigned i = 0; i < LOST_EVENTS; i++)
        assert_int_equal(homing_journal_append(tj, 0, &evs[i]), 0);
    assert_int_equal(ingest_all(tj, ts), LOST_EVENTS);
    int64_t pos = 0;
    assert_int_equal(homing_store_cursor_get(ts, "journal.0", &pos), 0);
    homing_journal_close(tj);
    homing_store_close(ts);

    struct homing_journal *j = open_journal(f, 1, NULL);
    told_stored = 0;
    homing_journal_set_stored(j, count_stored, NULL);
    for (unsigned i = 0; i < LOST_EVENTS; i++)
        assert_int_equal(homing_journal_append(j, 0, &evs[i]), 0);
    sql(f->db,
        "CREATE TRIGGER lost_i BEFORE INSERT ON cursors BEGIN SELECT RAISE(ABORT, 'lost'); END;"
        "CREATE TRIGGER lost_u BEFORE UPDATE ON cursors BEGIN SELECT RAISE(ABORT, 'lost'); END;");
    size_t moved = 0;
    assert_true(homing_journal_ingest(j, f->s, 100000, &moved, NULL) < 0);
    assert_int_equal(count_events(f->s), 0);
    sql(f->db, "DROP TRIGGER lost_i; DROP TRIGGER lost_u;");
    /* What the failed attempt "had" committed. */
    struct homing_event copy[LOST_EVENTS];
    memcpy(copy, evs, sizeof copy);
    assert_int_equal(homing_store_events_append_cursor(f->s, copy, LOST_EVENTS, "journal.0", pos),
                     0);

    assert_int_equal(ingest_all(j, f->s), LOST_EVENTS);
    assert_int_equal(count_events(f->s), LOST_EVENTS);
    assert_int_equal(homing_journal_backlog(j), 0);
    assert_int_equal(told_stored, LOST_EVENTS);
    /* And it goes on from there. */
    struct homing_event e;
    make_event(&e, 99, 60);
    assert_int_equal(homing_journal_append(j, 0, &e), 0);
    assert_int_equal(ingest_all(j, f->s), 1);
    assert_int_equal(count_events(f->s), LOST_EVENTS + 1);
    homing_journal_close(j);
}

/* Two nodes on one store: cursors of their own, each recovering only its own
 * journal after a crash; a node without an id keeps "journal.W". */
static void test_nodes_keep_their_cursors(void **state)
{
    struct fixture *f = *state;
    char adir[192], bdir[192];
    snprintf(adir, sizeof adir, "%s/a", f->dir);
    snprintf(bdir, sizeof bdir, "%s/b", f->dir);
    struct homing_journal *a = open_node(adir, "node-a", f->s, NULL);
    struct homing_journal *b = open_node(bdir, "node_b", f->s, NULL);
    struct homing_event e;
    for (unsigned i = 1; i <= 300; i++) {
        make_event(&e, i, 80);
        assert_int_equal(homing_journal_append(i % 2 ? a : b, 0, &e), 0);
    }
    assert_int_equal(ingest_all(a, f->s), 150);
    size_t moved;
    assert_int_equal(homing_journal_ingest(b, f->s, 100, &moved, NULL), 0);
    assert_int_equal(moved, 100);
    int64_t at = 0;
    assert_int_equal(homing_store_cursor_get(f->s, "journal.node-a.0", &at), 0);
    assert_true(at > 0);
    assert_int_equal(homing_store_cursor_get(f->s, "journal.node_b.0", &at), 0);
    assert_int_equal(homing_store_cursor_get(f->s, "journal.0", &at), -ENOENT);
    /* b "crashes" with 50 left; a goes on. Each restart recovers only its own. */
    homing_journal_close(b);
    size_t recovered = 0;
    b = open_node(bdir, "node_b", f->s, &recovered);
    assert_int_equal(recovered, 50);
    homing_journal_close(a);
    a = open_node(adir, "node-a", f->s, &recovered);
    assert_int_equal(recovered, 0);
    assert_int_equal(count_events(f->s), 300);
    homing_journal_close(a);
    homing_journal_close(b);

    /* No id: the single node's names of old. */
    struct homing_journal *j = open_journal(f, 1, NULL);
    make_event(&e, 1, 80);
    assert_int_equal(homing_journal_append(j, 0, &e), 0);
    assert_int_equal(ingest_all(j, f->s), 1);
    assert_int_equal(homing_store_cursor_get(f->s, "journal.0", &at), 0);
    homing_journal_close(j);

    /* Ids that could be confused with another node's cursor, or too long. */
    assert_int_equal(homing_journal_node_check(""), 0);
    assert_int_equal(homing_journal_node_check("eu-1_b"), 0);
    assert_int_equal(homing_journal_node_check("a.0"), -EINVAL);
    assert_int_equal(homing_journal_node_check("a b"), -EINVAL);
    assert_int_equal(homing_journal_node_check("n\xc3\xa9"), -EINVAL);
    assert_int_equal(homing_journal_node_check("abcdefghijklmnopqrstuvwxyz0123456"), -EINVAL);
    assert_int_equal(homing_journal_node_check("abcdefghijklmnopqrstuvwxyz012345"), 0);
    struct homing_journal *bad = NULL;
    char err[256];
    assert_int_equal(homing_journal_open(adir, "a.0", 1, 0, f->s, &bad, NULL, err, sizeof err),
                     -EINVAL);
    assert_null(bad);
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    struct homing_journal *j = open_journal(f, 1, NULL);
    struct homing_event e;
    for (unsigned i = 1; i <= 300; i++) {
        make_event(&e, i, 40 + i % 100);
        if (i == 42) e.detail = "{\"why\":\"a detail survives\"}";
        assert_int_equal(homing_journal_append(j, 0, &e), 0);
    }
    assert_int_equal(homing_journal_backlog(j), 300);
    assert_int_equal(ingest_all(j, f->s), 300);
    assert_int_equal(homing_journal_backlog(j), 0);

    struct homing_event *ev = NULL;
    size_t n = 0;
    assert_int_equal(homing_store_events_list(f->s, 0, 0, 1000, &ev, &n), 0);
    assert_int_equal(n, 300);
    for (unsigned i = 1; i <= 300; i++) {
        make_event(&e, i, 40 + i % 100);
        const struct homing_event *g = &ev[i - 1];
        assert_int_equal(g->time_us, e.time_us);
        assert_int_equal(g->kind, e.kind);
        assert_int_equal(g->method, e.method);
        assert_int_equal(g->message, e.message);
        assert_int_equal(g->recipient, e.recipient);
        assert_int_equal(g->item, e.item);
        assert_string_equal(g->client, e.client);
        assert_string_equal(g->user_agent, e.user_agent);
        assert_string_equal(g->accept_language, e.accept_language);
        assert_string_equal(g->via, e.via);
        assert_string_equal(g->from, e.from);
        if (i == 42)
            assert_string_equal(g->detail, "{\"why\":\"a detail survives\"}");
        else
            assert_null(g->detail);
    }
    homing_events_free(ev, n);
    homing_journal_close(j);
}

/* Records of ~560 bytes: a 16 MiB segment holds about 30,000. */
#define ROTATE_EVENTS 70000

static void test_segments_rotate_and_are_deleted(void **state)
{
    struct fixture *f = *state;
    struct homing_journal *j = open_journal(f, 2, NULL);
    struct homing_event e;
    size_t moved_midway = 0;
    for (unsigned i = 1; i <= ROTATE_EVENTS; i++) {
        make_event(&e, i, 500);
        assert_int_equal(homing_journal_append(j, i % 2, &e), 0);
        if (i == ROTATE_EVENTS / 2) moved_midway = ingest_all(j, f->s);
    }
    assert_true(segment_files(f->jdir) >= 2);
    size_t rest = ingest_all(j, f->s);
    assert_int_equal(moved_midway + rest, ROTATE_EVENTS);
    assert_int_equal(count_events(f->s), ROTATE_EVENTS);
    /* Emptied segments are gone: each writer keeps only its current one. */
    assert_int_equal(segment_files(f->jdir), 2);
    homing_journal_close(j);
}

static void test_crash_recovery_exactly_once(void **state)
{
    struct fixture *f = *state;
    struct homing_journal *j = open_journal(f, 1, NULL);
    struct homing_event e;
    for (unsigned i = 1; i <= 1000; i++) {
        make_event(&e, i, 100);
        assert_int_equal(homing_journal_append(j, 0, &e), 0);
    }
    /* 400 reach the store, then the daemon "dies" (no more ingestion). */
    size_t moved;
    assert_int_equal(homing_journal_ingest(j, f->s, 400, &moved, NULL), 0);
    assert_int_equal(moved, 400);
    homing_journal_close(j);
    assert_int_equal(count_events(f->s), 400);

    size_t recovered = 0;
    j = open_journal(f, 1, &recovered);
    assert_int_equal(recovered, 600);
    assert_int_equal(count_events(f->s), 1000);
    assert_int_equal(segment_files(f->jdir), 0);
    /* The next run goes on after the recovered segment, never reusing it. */
    make_event(&e, 1001, 100);
    assert_int_equal(homing_journal_append(j, 0, &e), 0);
    assert_int_equal(ingest_all(j, f->s), 1);
    homing_journal_close(j);

    j = open_journal(f, 1, &recovered);
    assert_int_equal(recovered, 0);
    assert_int_equal(count_events(f->s), 1001);
    homing_journal_close(j);
}

static void test_damaged_record_ends_segment(void **state)
{
    struct fixture *f = *state;
    struct homing_journal *j = open_journal(f, 1, NULL);
    struct homing_event e;
    for (unsigned i = 1; i <= 10; i++) {
        make_event(&e, i, 60);
        assert_int_equal(homing_journal_append(j, 0, &e), 0);
    }
    homing_journal_close(j);
    /* Flip a byte in the body of the 6th record: records 1-5 survive. */
    DIR *d = opendir(f->jdir);
    struct dirent *de;
    char path[512] = "";
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".hj")) snprintf(path, sizeof path, "%s/%s", f->jdir, de->d_name);
    closedir(d);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    off_t off = 0;
    for (int i = 0; i < 5; i++) {
        uint32_t size;
        assert_int_equal(pread(fd, &size, 4, off), 4);
        off += size;
    }
    char c;
    assert_int_equal(pread(fd, &c, 1, off + 20), 1);
    c ^= 0x40;
    assert_int_equal(pwrite(fd, &c, 1, off + 20), 1);
    close(fd);

    size_t recovered = 0;
    j = open_journal(f, 1, &recovered);
    assert_int_equal(recovered, 5);
    assert_int_equal(count_events(f->s), 5);
    homing_journal_close(j);
}

static void test_oversized_event_refused(void **state)
{
    struct fixture *f = *state;
    struct homing_journal *j = open_journal(f, 1, NULL);
    struct homing_event e;
    make_event(&e, 1, 100);
    char *big = malloc(HOMING_JOURNAL_RECORD_MAX + 16);
    assert_non_null(big);
    memset(big, 'x', HOMING_JOURNAL_RECORD_MAX + 15);
    big[0] = '"';
    big[HOMING_JOURNAL_RECORD_MAX + 14] = '"';
    big[HOMING_JOURNAL_RECORD_MAX + 15] = '\0';
    e.detail = big;
    assert_int_equal(homing_journal_append(j, 0, &e), -E2BIG);
    assert_int_equal(homing_journal_append(j, 1, &e), -EINVAL); /* no such writer */
    free(big);
    assert_int_equal(homing_journal_backlog(j), 0);
    homing_journal_close(j);
}

static void test_refused_event_skipped(void **state)
{
    struct fixture *f = *state;
    struct homing_journal *j = open_journal(f, 1, NULL);
    struct homing_event e;
    for (unsigned i = 1; i <= 5; i++) {
        make_event(&e, i, 30);
        /* The store's schema refuses a detail that is not JSON. */
        if (i == 3) e.detail = "not json";
        assert_int_equal(homing_journal_append(j, 0, &e), 0);
    }
    size_t moved = 0, refused = 0;
    assert_int_equal(homing_journal_ingest(j, f->s, 100, &moved, &refused), 0);
    assert_int_equal(refused, 1);
    assert_int_equal(count_events(f->s), 4);
    homing_journal_close(j);
    /* Nothing is replayed: the cursor moved past the refused event too. */
    size_t recovered = 9;
    j = open_journal(f, 1, &recovered);
    assert_int_equal(recovered, 0);
    assert_int_equal(count_events(f->s), 4);
    homing_journal_close(j);
}

/* A suppressed hit i of client `who` (flood control): the URL of make_event's
 * recipient 1. */
static void make_suppressed(struct homing_event *e, unsigned i, const char *who)
{
    make_event(e, 1, 40);
    e->kind = HOMING_EV_OPEN;
    e->time_us = 1700000000000000LL + 1000 + i;
    snprintf(e->client, sizeof e->client, "%s", who);
}

/* The store's `suppressed` events: how many, and each one's detail in out. */
static size_t suppressed_events(struct homing_store *s, char out[][64], size_t cap)
{
    struct homing_event *ev = NULL;
    size_t n = 0, found = 0;
    assert_int_equal(homing_store_events_list(s, 0, 0, HOMING_STORE_LIST_MAX, &ev, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind != HOMING_EV_SUPPRESSED) continue;
        assert_true(found < cap);
        assert_non_null(ev[i].detail);
        snprintf(out[found], 64, "%s %s", ev[i].client, ev[i].detail);
        found++;
    }
    homing_events_free(ev, n);
    return found;
}

static void test_suppressed_counts_survive_a_crash(void **state)
{
    struct fixture *f = *state;
    struct homing_journal *j = open_journal(f, 1, NULL);
    struct homing_event e;
    unsigned opens = 0;
    for (unsigned i = 1; i <= 1500; i++) {
        if (i % 100 == 0) {
            make_event(&e, i, 30);
            if (i == 500) e.detail = "not json"; /* refused: the batch goes in one by one */
            assert_int_equal(homing_journal_append(j, 0, &e), 0);
            opens += i != 500;
        }
        make_suppressed(&e, i, i % 3 ? "192.0.2.1" : "192.0.2.2");
        assert_int_equal(homing_journal_append_suppressed(j, 0, &e), 0);
    }
    /* A count of a kind flood control does not count is refused. */
    e.kind = HOMING_EV_BOUNCED;
    assert_int_equal(homing_journal_append_suppressed(j, 0, &e), -EINVAL);
    e.kind = HOMING_EV_OPEN | 0x8000;
    assert_int_equal(homing_journal_append(j, 0, &e), -EINVAL);
    /* 700 records reach the store (their counts pending), then a "crash". */
    size_t moved = 0, refused = 0;
    assert_int_equal(homing_journal_ingest(j, f->s, 700, &moved, &refused), 0);
    assert_int_equal(moved, 700);
    assert_int_equal(refused, 1);
    char got[8][64];
    assert_int_equal(suppressed_events(f->s, got, 8), 0); /* the floods go on */
    homing_journal_close(j);

    size_t recovered = 0;
    j = open_journal(f, 1, &recovered);
    assert_int_equal(recovered, 1500 + 15 - 700);
    /* Recovery closed both floods, each into one event with its whole count. */
    assert_int_equal(suppressed_events(f->s, got, 8), 2);
    assert_string_equal(got[0], "192.0.2.1 {\"dropped\":1000,\"of\":\"open\"}");
    assert_string_equal(got[1], "192.0.2.2 {\"dropped\":500,\"of\":\"open\"}");
    assert_int_equal(count_events(f->s), opens + 2);
    size_t closed = 9, left = 9;
    assert_int_equal(homing_store_floods_close(f->s, INT64_MAX, &closed, &left), 0);
    assert_int_equal(closed, 0);
    assert_int_equal(left, 0);
    homing_journal_close(j);
    j = open_journal(f, 1, &recovered);
    assert_int_equal(recovered, 0);
    assert_int_equal(count_events(f->s), opens + 2);
    homing_journal_close(j);
}

static void test_floods_close_when_quiet(void **state)
{
    struct fixture *f = *state;
    struct homing_journal *j = open_journal(f, 1, NULL);
    struct homing_event e;
    for (unsigned i = 0; i < 100; i++) {
        make_suppressed(&e, i, "192.0.2.9");
        assert_int_equal(homing_journal_append_suppressed(j, 0, &e), 0);
        if (i == 49) ingest_all(j, f->s); /* two batches add up */
    }
    ingest_all(j, f->s);
    int64_t last = 1700000000000000LL + 1000 + 99;
    size_t closed = 9;
    assert_int_equal(homing_journal_floods_close(j, f->s, last, &closed), 0);
    assert_int_equal(closed, 0); /* its last hit is not older than that */
    assert_int_equal(homing_journal_floods_close(j, f->s, last + 1, &closed), 0);
    assert_int_equal(closed, 1);
    char got[4][64];
    assert_int_equal(suppressed_events(f->s, got, 4), 1);
    assert_string_equal(got[0], "192.0.2.9 {\"dropped\":100,\"of\":\"open\"}");
    struct homing_event *ev = NULL;
    size_t n = 0;
    assert_int_equal(homing_store_events_list(f->s, 0, 0, 10, &ev, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].time_us, last); /* at its last hit */
    assert_int_equal(ev[0].recipient, 1);
    homing_events_free(ev, n);
    assert_int_equal(homing_journal_floods_close(j, f->s, INT64_MAX, &closed), 0);
    assert_int_equal(closed, 0);
    homing_journal_close(j);
}

/* The segment's current file in f->jdir (the only one). */
static void segment_stat(struct fixture *f, struct stat *sb)
{
    DIR *d = opendir(f->jdir);
    assert_non_null(d);
    struct dirent *de;
    char path[512] = "";
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".hj")) snprintf(path, sizeof path, "%s/%s", f->jdir, de->d_name);
    closedir(d);
    assert_int_equal(stat(path, sb), 0);
}

static void test_segment_reserves_disk_as_it_fills(void **state)
{
    struct fixture *f = *state;
    struct homing_journal *j = open_journal(f, 1, NULL);
    struct homing_event e;
    make_event(&e, 1, 100);
    assert_int_equal(homing_journal_append(j, 0, &e), 0);
    struct stat sb;
    segment_stat(f, &sb);
    /* Its whole size, but blocks for a first step only: a hit no longer needs
     * 16 MB free. */
    assert_int_equal(sb.st_size, HOMING_JOURNAL_SEGMENT);
    long long first = (long long)sb.st_blocks * 512;
    assert_true(first > 0 && first <= 512 * 1024);
    /* 2,000 records of ~560 bytes pass several steps; all read back. */
    for (unsigned i = 2; i <= 2000; i++) {
        make_event(&e, i, 500);
        assert_int_equal(homing_journal_append(j, 0, &e), 0);
    }
    segment_stat(f, &sb);
    assert_true((long long)sb.st_blocks * 512 > first);
    assert_true((long long)sb.st_blocks * 512 < HOMING_JOURNAL_SEGMENT / 4);
    assert_int_equal(ingest_all(j, f->s), 2000);
    assert_int_equal(count_events(f->s), 2000);
    homing_journal_close(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segments_rotate_and_are_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_recovery_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_record_ends_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_event_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_event_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suppressed_counts_survive_a_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_floods_close_when_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_reserves_disk_as_it_fills, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_lost_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodes_keep_their_cursors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
