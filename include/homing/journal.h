/*
 * homing/journal.h: the hit journal, a write-ahead log in front of the store.
 *
 * Why: the daemon may answer a hit only once its event is committed, and a
 * database transaction per round of the event loop cost more than answering
 * the hit itself (docs/internals/serve.md has the figures). A hit is instead
 * appended to a memory-mapped segment file with disk space reserved ahead: a
 * copy of about 200 bytes into the kernel's page cache, which keeps it when the
 * daemon crashes or is killed (the guarantee of SQLite's synchronous=normal; with sync=full
 * homing_journal_sync also flushes it to disk). One ingester moves journaled
 * events into the store in large transactions and records how far it got in
 * the same transaction, so replaying a journal never stores an event twice.
 *
 * Files: DIR/W-S.hj, W the writer (a loop thread), S its segment number, which
 * counts up and is never reused. A segment is HOMING_JOURNAL_SEGMENT bytes of
 * 8-byte aligned records. A record is a u64 head (the record's size in the low
 * 32 bits, a checksum of the body in the high 32) and the body (the event). A
 * zero head is the end of what was written; a head of size JOURNAL_CLOSED says
 * the writer went on in segment S+1. The head is stored last, with release
 * ordering: whoever sees a head sees its whole body. A checksum that does not
 * match (a torn page after a power loss) ends the segment.
 *
 * A segment file has its full size from the start but disk blocks only for
 * its first part: the writer reserves them (posix_fallocate) 256 KB at
 * a time, or only the pages the next record needs when that does not fit, and
 * never stores a record past them. A store into a mapped hole on a full disk
 * would be a SIGBUS; this way a full disk is an error of the append (-ENOSPC),
 * and a hit is journaled as long as a few kilobytes are free.
 *
 * Suppressed hits (flood control: answered, not recorded as events) are
 * journaled too, as short records that only name their flood (client, URL,
 * kind of hit), so "answered means recorded" holds for them as well. The
 * ingester adds each batch's suppressed hits to their flood's pending count
 * in the store (homing_store_events_append_floods) in the same transaction as
 * the events and the cursor; homing_journal_floods_close turns floods gone
 * quiet into one `suppressed` event each. homing_journal_open closes every
 * pending flood after recovery: the buckets of the run that counted them are
 * gone.
 *
 * Nodes: several daemons (each with its own journal directory) may share one
 * store. Each then has a node id, and its cursors are "journal.ID.W" instead
 * of "journal.W", so no two nodes move the same cursor. A store call that
 * fails may still have committed (PostgreSQL: the connection lost while the
 * COMMIT's answer was on its way): before storing the same records again the
 * ingester reads its cursor back and skips what the store already has, so a
 * retry never stores a hit twice.
 *
 * Threads: writer w is used by one thread at a time; ingestion by one other
 * thread. Recovery happens in homing_journal_open, before any writer runs.
 */
#ifndef HOMING_JOURNAL_H
#define HOMING_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "homing/event.h"
#include "homing/store.h"

#define HOMING_JOURNAL_SEGMENT     (16u << 20) /* bytes per segment file (a sparse file) */
#define HOMING_JOURNAL_RECORD_MAX  8192        /* one event; larger ones are refused */
#define HOMING_JOURNAL_WRITERS_MAX 64          /* writers (loop threads) per journal */
#define HOMING_JOURNAL_BATCH       4096        /* events per store transaction */
#define HOMING_JOURNAL_NODE_MAX    32          /* bytes of a node id */

struct homing_journal;

/* 0 if node is a valid node id: "" (a node alone on its store, the cursors'
 * names of old), or up to HOMING_JOURNAL_NODE_MAX letters, digits, '-' and
 * '_' (no '.', so "journal.ID.W" names one node's writer only); else -EINVAL. */
int homing_journal_node_check(const char *node);
/* Opens the journal in dir (created, mode 0700, if missing) for nwriters
 * writers, whose cursors in st are named for node (NULL or "": the names of a
 * single node). First moves every event left by an earlier run (a crash) into
 * st, deleting the segments it has emptied; *recovered gets how many (may be
 * NULL). sync_full: homing_journal_sync and segment changes flush to disk. err
 * gets a one-line reason on failure. */
int homing_journal_open(const char *dir, const char *node, unsigned nwriters, int sync_full,
                        struct homing_store *st, struct homing_journal **out, size_t *recovered,
                        char *err, size_t errcap);
/* After every writer and the ingester have stopped. NULL is a no-op. */
void homing_journal_close(struct homing_journal *j);

/* Writer side. Appends ev (detail included) as writer w. 0 once the event is
 * in the page cache; -E2BIG for an event over HOMING_JOURNAL_RECORD_MAX; a
 * negative errno when a new segment cannot be made (-ENOSPC: disk full). */
int homing_journal_append(struct homing_journal *j, unsigned w, const struct homing_event *ev);
/* Appends a suppressed hit of ev's kind (open, click, document open; else
 * -EINVAL) by ev's client on ev's URL (message, recipient, item) as writer w:
 * counted into its flood, not stored as an event. Returns as
 * homing_journal_append. */
int homing_journal_append_suppressed(struct homing_journal *j, unsigned w,
                                     const struct homing_event *ev);
/* Flushes writer w's segment to disk (fdatasync): for sync_full. */
int homing_journal_sync(struct homing_journal *j, unsigned w);

/* Ingester side. fn (NULL: none) is told of every store transaction that
 * carries events, from the ingester's thread: HOMING_JOURNAL_BEFORE with the
 * events just before the transaction, then exactly one of
 * HOMING_JOURNAL_STORED (committed), HOMING_JOURNAL_FAILED (not stored, will
 * be tried again) or HOMING_JOURNAL_SKIPPED (refused by the store on its own,
 * never stored). Details are freed by then. The daemon uses it to keep its
 * count of document downloads answered but not yet stored exact: it holds
 * that count's lock from BEFORE to the end, so nothing reads the store's use
 * count and its own count on two sides of one commit. Set before ingesting. */
enum homing_journal_phase {
    HOMING_JOURNAL_BEFORE,
    HOMING_JOURNAL_STORED,
    HOMING_JOURNAL_FAILED,
    HOMING_JOURNAL_SKIPPED,
};
typedef void (*homing_journal_stored_fn)(void *arg, const struct homing_event *evs, size_t n,
                                         enum homing_journal_phase phase);
void homing_journal_set_stored(struct homing_journal *j, homing_journal_stored_fn fn, void *arg);
/* Ingester side. Moves up to max records (events and suppressed hits, <=
 * HOMING_JOURNAL_BATCH per transaction) from the journal into st; *moved gets
 * how many. A record the store refuses on its own (a bad detail) is skipped
 * and counted in *refused (may be NULL) rather than blocking all that follow;
 * any other store error returns its negative errno with the journal's
 * position unchanged. */
int homing_journal_ingest(struct homing_journal *j, struct homing_store *st, size_t max,
                          size_t *moved, size_t *refused);
/* Ingester side. Closes the floods whose last suppressed hit stored is older
 * than before_us (INT64_MAX: all) into `suppressed` events
 * (homing_store_floods_close); *closed gets how many (may be NULL). Asks the
 * store only while floods this journal stored may be pending. */
int homing_journal_floods_close(struct homing_journal *j, struct homing_store *st,
                                int64_t before_us, size_t *closed);
/* Waits until a writer may have appended something or timeout_ms pass. */
void homing_journal_wait(struct homing_journal *j, int timeout_ms);
/* Wakes a homing_journal_wait at once (to stop the ingester). */
void homing_journal_wake(struct homing_journal *j);
/* Records appended and not yet ingested (approximate while writers run). */
uint64_t homing_journal_backlog(const struct homing_journal *j);
/* Read-your-writes: waits until every event appended before the call is in
 * the store, at most timeout_ms; 0, or -ETIMEDOUT. For readers that must see
 * the hits already answered (the admin API). */
int homing_journal_barrier(const struct homing_journal *j, int timeout_ms);

#endif
