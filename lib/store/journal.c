/*
 * journal.c: the hit journal (see homing/journal.h for the format and why).
 *
 * Ownership: the journal owns its writers' and the ingester's mappings and
 * descriptors; events read back for ingestion live in j->evs (details
 * malloc'd, freed after each batch).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "homing/journal.h"
#include "homing/util.h"

#define JOURNAL_CLOSED   0xffffffffu /* head size: the writer went on in the next segment */
#define JOURNAL_HEAD     8           /* bytes of a record's head */
#define JOURNAL_FIXED    40          /* bytes of the body before its strings */
#define JOURNAL_STRINGS  6           /* client, user agent, language, via, from, detail */
#define JOURNAL_NAME_MAX 64          /* "W-S.hj" and cursor names */
#define JOURNAL_POLL_US  250         /* homing_journal_barrier's polling step */
/* A record whose kind has this bit is a suppressed hit (flood control) of the
 * kind in the other bits: counted, not stored as an event. */
#define JOURNAL_KIND_COUNT 0x8000u
/* Bytes of a segment reserved on disk at a time (posix_fallocate): a full
 * segment no longer has to fit the free space for a hit to be journaled. */
#define JOURNAL_GROW (256u << 10)
#define JOURNAL_PAGE 4096u
/* Slots of the table folding one batch's suppressed hits by flood (a power
 * of two, at least twice HOMING_JOURNAL_BATCH so a probe run stays short). */
#define JOURNAL_FOLD_SLOTS (2 * HOMING_JOURNAL_BATCH)

struct jwriter {
    int fd;           /* current segment, or -1 */
    uint8_t *map;     /* its mapping, HOMING_JOURNAL_SEGMENT bytes */
    uint32_t off;     /* where the next record goes */
    uint32_t alloc;   /* bytes from the start reserved on disk: nothing is stored past them */
    uint64_t segment; /* its number */
    _Atomic uint64_t appended;
};

struct jreader {
    int fd;
    const uint8_t *map; /* NULL: not following a segment yet */
    uint32_t off;
    uint64_t segment;
    uint64_t next; /* the segment to open when map is NULL (live ingestion) */
    /* A store call failed since the position was last known to match the
     * store's cursor: the failure may have come after the commit (a
     * connection lost while COMMIT's answer was on its way), so the cursor is
     * read again before the same records are stored (resync). */
    int verify;
};

struct homing_journal {
    char *dir;
    char node[HOMING_JOURNAL_NODE_MAX + 1]; /* "" for the cursors of a single node */
    int dirfd;
    unsigned nwriters;
    int sync_full;
    int efd;             /* eventfd: wakes the ingester */
    atomic_int sleeping; /* the ingester is (about to be) waiting */
    _Atomic uint64_t ingested;
    struct jwriter w[HOMING_JOURNAL_WRITERS_MAX];
    struct jreader r[HOMING_JOURNAL_WRITERS_MAX];
    struct homing_event *evs;          /* HOMING_JOURNAL_BATCH slots for ingestion */
    struct homing_flood_count *floods; /* a batch's suppressed hits, one per flood */
    uint16_t *fold;                    /* JOURNAL_FOLD_SLOTS: index + 1 into floods, or 0 */
    int floods_pending; /* counts were stored that no homing_journal_floods_close closed yet */
    homing_journal_stored_fn stored_fn; /* told of each committed batch (may be NULL) */
    void *stored_arg;
};

static uint32_t checksum(const uint8_t *p, size_t n)
{
    /* FNV-1a, 64-bit, folded: it only has to notice a torn or stale page. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return (uint32_t)(h ^ (h >> 32));
}

static void segment_name(char *buf, unsigned w, uint64_t seg)
{
    snprintf(buf, JOURNAL_NAME_MAX, "%u-%012llu.hj", w, (unsigned long long)seg);
}

/* "journal.W" for a node without an id (every store before node ids: its
 * cursors keep their names, or an upgrade would store its journal again),
 * "journal.ID.W" for node ID: nodes sharing a store never share a cursor. */
static void cursor_name(const struct homing_journal *j, char *buf, unsigned w)
{
    if (j->node[0])
        snprintf(buf, JOURNAL_NAME_MAX, "journal.%s.%u", j->node, w);
    else
        snprintf(buf, JOURNAL_NAME_MAX, "journal.%u", w);
}

int homing_journal_node_check(const char *node)
{
    if (!node) return -EINVAL;
    size_t n = strlen(node);
    if (n > HOMING_JOURNAL_NODE_MAX) return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = node[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return -EINVAL;
    }
    return 0;
}

/* A cursor holds segment and offset in one int64. */
static int64_t position(uint64_t seg, uint32_t off)
{
    return (int64_t)(seg << 32 | off);
}

static void *map_segment(int fd, int prot)
{
    void *p = mmap(NULL, HOMING_JOURNAL_SEGMENT, prot, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* ---- the record ---- */

static void put_u16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static uint16_t get_u16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* Encodes ev's body at out (room for HOMING_JOURNAL_RECORD_MAX - JOURNAL_HEAD);
 * returns the body's length, or -E2BIG. A count (a suppressed hit) keeps only
 * what names its flood: client, URL and kind. */
static int encode(const struct homing_event *ev, uint8_t *out, int count)
{
    const char *s[JOURNAL_STRINGS] = {ev->client, ev->user_agent, ev->accept_language,
                                      ev->via,    ev->from,       ev->detail ? ev->detail : ""};
    if (count)
        for (int i = 1; i < JOURNAL_STRINGS; i++) s[i] = "";
    size_t len[JOURNAL_STRINGS], total = JOURNAL_FIXED;
    for (int i = 0; i < JOURNAL_STRINGS; i++) {
        len[i] = strlen(s[i]);
        total += len[i];
    }
    if (total > HOMING_JOURNAL_RECORD_MAX - JOURNAL_HEAD || len[5] > UINT16_MAX) return -E2BIG;
    memcpy(out, &ev->time_us, 8);
    memcpy(out + 8, &ev->message, 8);
    memcpy(out + 16, &ev->recipient, 4);
    memcpy(out + 20, &ev->item, 4);
    put_u16(out + 24, (uint16_t)(count ? ev->kind | JOURNAL_KIND_COUNT : ev->kind));
    out[26] = ev->method;
    out[27] = ev->detail != NULL && !count;
    uint8_t *p = out + JOURNAL_FIXED;
    for (int i = 0; i < JOURNAL_STRINGS; i++) {
        put_u16(out + 28 + 2 * i, (uint16_t)len[i]);
        memcpy(p, s[i], len[i]);
        p += len[i];
    }
    return (int)total;
}

static int copy_field(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    if (n >= cap) return -EINVAL;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* Decodes a body of n bytes into ev (zeroed first; detail malloc'd). */
static int decode(const uint8_t *in, size_t n, struct homing_event *ev)
{
    if (n < JOURNAL_FIXED) return -EINVAL;
    memset(ev, 0, sizeof *ev);
    memcpy(&ev->time_us, in, 8);
    memcpy(&ev->message, in + 8, 8);
    memcpy(&ev->recipient, in + 16, 4);
    memcpy(&ev->item, in + 20, 4);
    ev->kind = get_u16(in + 24);
    ev->method = in[26];
    size_t len[JOURNAL_STRINGS], total = JOURNAL_FIXED;
    for (int i = 0; i < JOURNAL_STRINGS; i++) total += len[i] = get_u16(in + 28 + 2 * i);
    if (total != n) return -EINVAL;
    const uint8_t *p = in + JOURNAL_FIXED;
    int r = copy_field(ev->client, sizeof ev->client, p, len[0]);
    p += len[0];
    r |= copy_field(ev->user_agent, sizeof ev->user_agent, p, len[1]);
    p += len[1];
    r |= copy_field(ev->accept_language, sizeof ev->accept_language, p, len[2]);
    p += len[2];
    r |= copy_field(ev->via, sizeof ev->via, p, len[3]);
    p += len[3];
    r |= copy_field(ev->from, sizeof ev->from, p, len[4]);
    p += len[4];
    if (r) return -EINVAL;
    if (in[27]) {
        if (!(ev->detail = malloc(len[5] + 1))) return -ENOMEM;
        memcpy(ev->detail, p, len[5]);
        ev->detail[len[5]] = '\0';
    }
    return 0;
}

static uint64_t load_head(const uint8_t *map, uint32_t off)
{
    return atomic_load_explicit((_Atomic uint64_t *)(map + off), memory_order_acquire);
}

static void store_head(uint8_t *map, uint32_t off, uint64_t head)
{
    atomic_store_explicit((_Atomic uint64_t *)(map + off), head, memory_order_release);
}

/* ---- writers ---- */

static uint32_t round_up(uint32_t v, uint32_t to)
{
    uint64_t r = ((uint64_t)v + to - 1) / to * to;
    return r > HOMING_JOURNAL_SEGMENT ? HOMING_JOURNAL_SEGMENT : (uint32_t)r;
}

/* Reserves disk blocks for bytes [*alloc, end) of a segment, and some more
 * while the disk has room: a store into a mapping over a hole that finds the
 * disk full is a SIGBUS, so records go only where blocks are reserved and a
 * full disk is an error here (the hit answered 503), never a crash. First
 * JOURNAL_GROW at a time; when that does not fit, only the pages needed. */
static int reserve(int fd, uint32_t *alloc, uint32_t end)
{
    if (end <= *alloc) return 0;
    uint32_t want =
        round_up(end > *alloc + JOURNAL_GROW ? end : *alloc + JOURNAL_GROW, JOURNAL_PAGE);
    int r = posix_fallocate(fd, *alloc, want - *alloc);
    if (r != 0) {
        want = round_up(end, JOURNAL_PAGE);
        r = posix_fallocate(fd, *alloc, want - *alloc);
    }
    if (r != 0) return -r;
    *alloc = want;
    return 0;
}

/* Creates segment seg of writer w, its first `need` bytes reserved on disk,
 * and maps it. The file has its whole size from the start (a hole past
 * *alloc_out): readers map it whole, and a hole reads as zeros, the end. */
static int segment_create(struct homing_journal *j, unsigned w, uint64_t seg, uint32_t need,
                          int *fd_out, uint8_t **map_out, uint32_t *alloc_out)
{
    char name[JOURNAL_NAME_MAX];
    segment_name(name, w, seg);
    int fd = openat(j->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -errno;
    uint32_t alloc = 0;
    int r = ftruncate(fd, HOMING_JOURNAL_SEGMENT) < 0 ? -errno : reserve(fd, &alloc, need);
    uint8_t *map = r == 0 ? map_segment(fd, PROT_READ | PROT_WRITE) : NULL;
    if (!map) {
        r = r ? r : -errno;
        close(fd);
        unlinkat(j->dirfd, name, 0);
        return r;
    }
    *fd_out = fd;
    *map_out = map;
    *alloc_out = alloc;
    return 0;
}

static void writer_release(struct jwriter *wr)
{
    if (wr->map) munmap(wr->map, HOMING_JOURNAL_SEGMENT);
    if (wr->fd >= 0) close(wr->fd);
    wr->map = NULL;
    wr->fd = -1;
    wr->alloc = 0;
}

/* Moves writer w to its next segment, with need bytes reserved: made (and
 * synced, with sync_full) before the old one is marked closed, so a reader
 * that sees the mark finds the file. */
static int writer_rotate(struct homing_journal *j, unsigned w, uint32_t need)
{
    struct jwriter *wr = &j->w[w];
    int fd = -1;
    uint8_t *map = NULL;
    uint32_t alloc = 0;
    int r = segment_create(j, w, wr->segment + 1, need, &fd, &map, &alloc);
    if (r < 0) return r;
    if (wr->map) {
        store_head(wr->map, wr->off, (uint64_t)JOURNAL_CLOSED);
        if (j->sync_full) fdatasync(wr->fd);
    }
    writer_release(wr);
    wr->fd = fd;
    wr->map = map;
    wr->alloc = alloc;
    wr->off = 0;
    wr->segment++;
    return 0;
}

static void wake_ingester(struct homing_journal *j)
{
    /* Pairs with the fence in homing_journal_wait: either the ingester sees
     * the record, or this sees it sleeping and wakes it. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&j->sleeping, memory_order_relaxed) &&
        atomic_exchange(&j->sleeping, 0)) {
        uint64_t one = 1;
        ssize_t n = write(j->efd, &one, sizeof one);
        (void)n; /* a full counter already wakes it */
    }
}

static int append(struct homing_journal *j, unsigned w, const struct homing_event *ev, int count)
{
    struct jwriter *wr = &j->w[w];
    uint8_t body[HOMING_JOURNAL_RECORD_MAX];
    int n = encode(ev, body, count);
    if (n < 0) return n;
    uint32_t size = (uint32_t)(JOURNAL_HEAD + n + 7) & ~7u;
    /* Room for this record and the closing mark after it, reserved on disk. */
    if (!wr->map || wr->off + size + JOURNAL_HEAD > HOMING_JOURNAL_SEGMENT) {
        int r = writer_rotate(j, w, size + JOURNAL_HEAD);
        if (r < 0) return r;
    } else {
        int r = reserve(wr->fd, &wr->alloc, wr->off + size + JOURNAL_HEAD);
        if (r < 0) return r;
    }
    memcpy(wr->map + wr->off + JOURNAL_HEAD, body, (size_t)n);
    store_head(wr->map, wr->off, (uint64_t)checksum(body, (size_t)n) << 32 | size);
    wr->off += size;
    atomic_fetch_add_explicit(&wr->appended, 1, memory_order_relaxed);
    wake_ingester(j);
    return 0;
}

int homing_journal_append(struct homing_journal *j, unsigned w, const struct homing_event *ev)
{
    if (!j || w >= j->nwriters || !ev || (ev->kind & JOURNAL_KIND_COUNT)) return -EINVAL;
    return append(j, w, ev, 0);
}

int homing_journal_append_suppressed(struct homing_journal *j, unsigned w,
                                     const struct homing_event *ev)
{
    if (!j || w >= j->nwriters || !ev ||
        (ev->kind != HOMING_EV_OPEN && ev->kind != HOMING_EV_CLICK &&
         ev->kind != HOMING_EV_DOCUMENT_OPEN))
        return -EINVAL;
    return append(j, w, ev, 1);
}

int homing_journal_sync(struct homing_journal *j, unsigned w)
{
    if (!j || w >= j->nwriters) return -EINVAL;
    if (j->w[w].fd >= 0 && fdatasync(j->w[w].fd) < 0) return -errno;
    return 0;
}

/* ---- the ingester ---- */

static void reader_release(struct jreader *rd)
{
    if (rd->map) munmap((void *)rd->map, HOMING_JOURNAL_SEGMENT);
    if (rd->fd >= 0) close(rd->fd);
    rd->map = NULL;
    rd->fd = -1;
}

static int reader_open(struct homing_journal *j, unsigned w, uint64_t seg, uint32_t off)
{
    struct jreader *rd = &j->r[w];
    reader_release(rd);
    char name[JOURNAL_NAME_MAX];
    segment_name(name, w, seg);
    int fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct stat sb;
    if (fstat(fd, &sb) < 0 || sb.st_size < HOMING_JOURNAL_SEGMENT) {
        /* A segment cut short (made by hand, or a crash inside segment_create)
         * holds nothing that was answered. */
        close(fd);
        return -ENODATA;
    }
    const uint8_t *map = map_segment(fd, PROT_READ);
    if (!map) {
        int e = -errno;
        close(fd);
        return e;
    }
    rd->fd = fd;
    rd->map = map;
    rd->segment = seg;
    rd->off = off;
    return 0;
}

/* Adds a suppressed hit (decoded into ev, kind with JOURNAL_KIND_COUNT) to
 * its flood's count in this batch. */
static void fold(struct homing_journal *j, const struct homing_event *ev, size_t *nf)
{
    uint16_t kind = (uint16_t)(ev->kind & ~JOURNAL_KIND_COUNT);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *c = ev->client; *c; c++) h = (h ^ (uint8_t)*c) * 0x100000001b3ULL;
    uint64_t k[3] = {ev->message, (uint64_t)ev->recipient << 32 | ev->item, kind};
    for (int i = 0; i < 3; i++) h = (h ^ k[i]) * 0x100000001b3ULL, h ^= h >> 29;
    for (size_t slot = h & (JOURNAL_FOLD_SLOTS - 1);;
         slot = (slot + 1) & (JOURNAL_FOLD_SLOTS - 1)) {
        uint16_t at = j->fold[slot];
        if (at == 0) {
            struct homing_flood_count *f = &j->floods[(*nf)++];
            memset(f, 0, sizeof *f);
            f->first_us = f->last_us = ev->time_us;
            f->message = ev->message;
            f->recipient = ev->recipient;
            f->item = ev->item;
            f->kind = kind;
            f->dropped = 1;
            memcpy(f->client, ev->client, sizeof f->client);
            j->fold[slot] = (uint16_t)*nf;
            return;
        }
        struct homing_flood_count *f = &j->floods[at - 1];
        if (f->message == ev->message && f->recipient == ev->recipient && f->item == ev->item &&
            f->kind == kind && strcmp(f->client, ev->client) == 0) {
            f->dropped++;
            if (ev->time_us < f->first_us) f->first_us = ev->time_us;
            if (ev->time_us > f->last_us) f->last_us = ev->time_us;
            return;
        }
    }
}

/* Reads at most max of writer w's records from offset from: events into
 * j->evs (*nev of them), suppressed hits folded into j->floods (*nfl floods).
 * Returns how many records; *next_off gets the position after them.
 * *closed: the segment ended with its closing mark; *torn: in a bad record. */
static size_t read_records(struct homing_journal *j, unsigned w, uint32_t from, size_t max,
                           uint32_t *next_off, size_t *nev, size_t *nfl, int *closed, int *torn)
{
    struct jreader *rd = &j->r[w];
    uint32_t off = from;
    size_t n = 0, nf = 0, records = 0;
    *closed = *torn = 0;
    memset(j->fold, 0, JOURNAL_FOLD_SLOTS * sizeof *j->fold);
    while (records < max && off + JOURNAL_HEAD <= HOMING_JOURNAL_SEGMENT) {
        uint64_t head = load_head(rd->map, off);
        uint32_t size = (uint32_t)head;
        if (head == 0) break;
        if (size == JOURNAL_CLOSED) {
            *closed = 1;
            break;
        }
        if (size < JOURNAL_HEAD + JOURNAL_FIXED || size % 8 || size > HOMING_JOURNAL_RECORD_MAX ||
            size > HOMING_JOURNAL_SEGMENT - off) {
            *torn = 1;
            break;
        }
        const uint8_t *body = rd->map + off + JOURNAL_HEAD;
        size_t blen = JOURNAL_FIXED;
        for (int i = 0; i < JOURNAL_STRINGS; i++) blen += get_u16(body + 28 + 2 * i);
        if (blen > size - JOURNAL_HEAD || checksum(body, blen) != (uint32_t)(head >> 32) ||
            decode(body, blen, &j->evs[n]) < 0) {
            *torn = 1;
            break;
        }
        if (j->evs[n].kind & JOURNAL_KIND_COUNT) {
            fold(j, &j->evs[n], &nf);
            free(j->evs[n].detail); /* none is written; a damaged one is not kept */
            j->evs[n].detail = NULL;
        } else {
            n++;
        }
        off += size;
        records++;
    }
    *next_off = off;
    *nev = n;
    *nfl = nf;
    return records;
}

static void free_details(struct homing_journal *j, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(j->evs[i].detail);
        j->evs[i].detail = NULL;
    }
}

/* Stores writer w's records from the reader's position to end one by one
 * (after the batch was refused as a whole), each with the cursor moved past
 * it; a record refused on its own is skipped (the cursor still moves past it,
 * so it does not block those that follow). */
static int append_singly(struct homing_journal *j, unsigned w, struct homing_store *st,
                         const char *cursor, uint32_t end, size_t *refused)
{
    struct jreader *rd = &j->r[w];
    for (uint32_t off = rd->off; off < end;) {
        uint32_t next;
        size_t n, nf;
        int closed, torn;
        if (read_records(j, w, off, 1, &next, &n, &nf, &closed, &torn) == 0) break;
        int64_t pos = position(rd->segment, next);
        if (n && j->stored_fn) j->stored_fn(j->stored_arg, j->evs, n, HOMING_JOURNAL_BEFORE);
        int r = homing_store_events_append_floods(st, j->evs, n, j->floods, nf, cursor, pos);
        free_details(j, n);
        if (n && j->stored_fn)
            j->stored_fn(j->stored_arg, j->evs, n,
                         r == 0         ? HOMING_JOURNAL_STORED
                         : r == -EINVAL ? HOMING_JOURNAL_SKIPPED
                                        : HOMING_JOURNAL_FAILED);
        if (r == -EINVAL) {
            if (refused) (*refused)++;
            r = homing_store_events_append_cursor(st, NULL, 0, cursor, pos);
        }
        if (r < 0) return r;
        if (nf) j->floods_pending = 1;
        off = next;
    }
    return 0;
}

/* Writer w's reader has stored its whole segment: deletes it and opens the
 * next. 1 (the segment was finished), or a negative errno. */
static int segment_done(struct homing_journal *j, unsigned w, int recovering)
{
    struct jreader *rd = &j->r[w];
    uint64_t seg = rd->segment;
    char name[JOURNAL_NAME_MAX];
    segment_name(name, w, seg);
    reader_release(rd);
    unlinkat(j->dirfd, name, 0);
    if (recovering) return 1;
    /* Where to go on, also if opening it fails now and is retried later. */
    rd->next = seg + 1;
    int r = reader_open(j, w, seg + 1, 0);
    return r < 0 ? r : 1;
}

/* After a failed store call: reads writer w's cursor, and if the store is
 * past the reader (the failed call had committed), moves the reader there,
 * telling stored_fn of those records as stored, so they are not stored a
 * second time. 0 when the reader is where the store is (or was moved within
 * its segment), 1 when the segment turned out finished (the next one is
 * open), negative on error (the check is made again next time). */
static int resync(struct homing_journal *j, unsigned w, struct homing_store *st, const char *cursor,
                  size_t *moved)
{
    struct jreader *rd = &j->r[w];
    int64_t at = 0;
    int r = homing_store_cursor_get(st, cursor, &at);
    if (r == -ENOENT) at = 0, r = 0;
    if (r < 0) return r;
    rd->verify = 0;
    uint64_t cseg = (uint64_t)at >> 32;
    uint32_t coff = (uint32_t)at;
    int finished = cseg == rd->segment + 1 && coff == 0;
    if (!finished && (cseg != rd->segment || coff <= rd->off)) return 0;
    /* Record by record up to the cursor (or the segment's end): this happens
     * once per lost answer to a COMMIT, not per batch. */
    size_t skipped = 0;
    uint32_t off = rd->off;
    int closed = 0, torn;
    while (finished || off < coff) {
        uint32_t next;
        size_t n, nf;
        if (read_records(j, w, off, 1, &next, &n, &nf, &closed, &torn) == 0) break;
        if (n && j->stored_fn) {
            j->stored_fn(j->stored_arg, j->evs, n, HOMING_JOURNAL_BEFORE);
            j->stored_fn(j->stored_arg, j->evs, n, HOMING_JOURNAL_STORED);
        }
        free_details(j, n);
        if (nf) j->floods_pending = 1;
        skipped++;
        off = next;
    }
    *moved += skipped;
    atomic_fetch_add_explicit(&j->ingested, skipped, memory_order_relaxed);
    /* Only over records that were read: a cursor past what this journal
     * wrote (not this node's, or its journal replaced) must not put the
     * reader where no record starts. */
    rd->off = off;
    if (!finished || !closed) return 0;
    return segment_done(j, w, 0);
}

/* One batch from writer w: read, store with the cursor, advance. *moved counts
 * the records; returns 1 if the segment was finished (and the next one opened),
 * 0 if it has nothing more now, negative on error. */
static int ingest_writer(struct homing_journal *j, unsigned w, struct homing_store *st, size_t max,
                         int recovering, size_t *moved, size_t *refused)
{
    struct jreader *rd = &j->r[w];
    char cursor[JOURNAL_NAME_MAX];
    cursor_name(j, cursor, w);
    if (rd->verify && !recovering) {
        int r = resync(j, w, st, cursor, moved);
        if (r != 0) return r;
    }
    uint32_t next_off;
    size_t n, nf;
    int closed, torn;
    size_t records = read_records(j, w, rd->off, max, &next_off, &n, &nf, &closed, &torn);
    /* A dead segment (recovery) ends where its records end; a live one only at
     * its closing mark. */
    int finished = closed || (recovering && records < max);
    if (torn && !recovering) {
        /* Cannot happen while the writer is alive in this process; stop here
         * rather than skip what might still come. */
        finished = 0;
    }
    uint64_t seg = rd->segment;
    int64_t pos = finished ? position(seg + 1, 0) : position(seg, next_off);
    if (records == 0 && !finished) return 0;
    if (n && j->stored_fn) j->stored_fn(j->stored_arg, j->evs, n, HOMING_JOURNAL_BEFORE);
    int r = homing_store_events_append_floods(st, j->evs, n, j->floods, nf, cursor, pos);
    free_details(j, n);
    /* Refused as a whole is not stored: the records go again one by one. */
    if (n && j->stored_fn)
        j->stored_fn(j->stored_arg, j->evs, n,
                     r == 0 ? HOMING_JOURNAL_STORED : HOMING_JOURNAL_FAILED);
    if (r == -EINVAL && records > 0) {
        /* A record the store refuses on its own: store the others singly. */
        r = append_singly(j, w, st, cursor, next_off, refused);
        if (r == 0) r = homing_store_events_append_cursor(st, NULL, 0, cursor, pos);
    } else if (r == 0 && nf) {
        j->floods_pending = 1;
    }
    if (r < 0) {
        rd->verify = 1;
        return r;
    }
    *moved += records;
    atomic_fetch_add_explicit(&j->ingested, records, memory_order_relaxed);
    rd->off = next_off;
    if (!finished) return 0;
    if (torn) {
        char name[JOURNAL_NAME_MAX];
        segment_name(name, w, seg);
        fprintf(stderr, "homing: journal %s/%s: ends in a damaged record at byte %u\n", j->dir,
                name, next_off);
    }
    return segment_done(j, w, recovering);
}

void homing_journal_set_stored(struct homing_journal *j, homing_journal_stored_fn fn, void *arg)
{
    j->stored_fn = fn;
    j->stored_arg = arg;
}

int homing_journal_ingest(struct homing_journal *j, struct homing_store *st, size_t max,
                          size_t *moved, size_t *refused)
{
    if (!j || !st || !moved) return -EINVAL;
    *moved = 0;
    if (refused) *refused = 0;
    for (unsigned w = 0; w < j->nwriters && *moved < max; w++) {
        if (!j->r[w].map) {
            /* Follow the writer from its first append on (its first segment
             * exists by then). */
            if (atomic_load(&j->w[w].appended) == 0) continue;
            int r = reader_open(j, w, j->r[w].next, 0);
            if (r < 0) return r;
        }
        for (;;) {
            size_t left = max - *moved;
            if (left > HOMING_JOURNAL_BATCH) left = HOMING_JOURNAL_BATCH;
            if (left == 0) break;
            size_t before = *moved;
            int r = ingest_writer(j, w, st, left, 0, moved, refused);
            if (r < 0) return r;
            if (r == 0 && *moved == before) break;
        }
    }
    return 0;
}

int homing_journal_floods_close(struct homing_journal *j, struct homing_store *st,
                                int64_t before_us, size_t *closed)
{
    if (!j || !st) return -EINVAL;
    size_t c = 0, left = 0;
    if (j->floods_pending) {
        int r = homing_store_floods_close(st, before_us, &c, &left);
        if (r < 0) return r;
        j->floods_pending = left > 0;
    }
    if (closed) *closed = c;
    return 0;
}

void homing_journal_wait(struct homing_journal *j, int timeout_ms)
{
    atomic_store(&j->sleeping, 1);
    atomic_thread_fence(memory_order_seq_cst);
    /* Anything appended before the flag was seen? Then do not sleep. */
    for (unsigned w = 0; w < j->nwriters; w++) {
        const struct jreader *rd = &j->r[w];
        if (rd->map ? load_head(rd->map, rd->off) != 0 : atomic_load(&j->w[w].appended) != 0) {
            atomic_store(&j->sleeping, 0);
            return;
        }
    }
    struct pollfd p = {.fd = j->efd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) > 0) {
        uint64_t v;
        ssize_t n = read(j->efd, &v, sizeof v);
        (void)n;
    }
    atomic_store(&j->sleeping, 0);
}

void homing_journal_wake(struct homing_journal *j)
{
    uint64_t one = 1;
    ssize_t n = write(j->efd, &one, sizeof one);
    (void)n;
}

uint64_t homing_journal_backlog(const struct homing_journal *j)
{
    uint64_t a = 0;
    for (unsigned w = 0; w < j->nwriters; w++) a += atomic_load(&j->w[w].appended);
    uint64_t i = atomic_load(&j->ingested);
    return a > i ? a - i : 0;
}

int homing_journal_barrier(const struct homing_journal *j, int timeout_ms)
{
    uint64_t target = 0;
    for (unsigned w = 0; w < j->nwriters; w++) target += atomic_load(&j->w[w].appended);
    /* The ingester batches for a couple of milliseconds under load: poll at
     * that scale. */
    for (int waited_us = 0; atomic_load(&j->ingested) < target; waited_us += JOURNAL_POLL_US) {
        if (waited_us >= timeout_ms * 1000) return -ETIMEDOUT;
        usleep(JOURNAL_POLL_US);
    }
    return 0;
}

/* ---- open and recovery ---- */

/* A file name "W-S.hj": 1 with its parts, else 0. */
static int parse_name(const char *name, unsigned *w, uint64_t *seg)
{
    unsigned long long s;
    unsigned ww;
    int end = 0;
    if (sscanf(name, "%u-%llu.hj%n", &ww, &s, &end) != 2 || name[end] != '\0' || s == 0) return 0;
    *w = ww;
    *seg = s;
    return 1;
}

struct seg_file {
    unsigned w;
    uint64_t seg;
};

static int seg_cmp(const void *a, const void *b)
{
    const struct seg_file *x = a, *y = b;
    if (x->w != y->w) return x->w < y->w ? -1 : 1;
    return x->seg < y->seg ? -1 : x->seg > y->seg;
}

/* Lists the segment files in j->dir, sorted by writer and segment. */
static int list_segments(struct homing_journal *j, struct seg_file **out, size_t *n)
{
    int fd = dup(j->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        return -errno;
    }
    struct seg_file *v = NULL;
    size_t used = 0, cap = 0;
    struct dirent *e;
    int r = 0;
    while ((e = readdir(d))) {
        struct seg_file f;
        if (!parse_name(e->d_name, &f.w, &f.seg)) continue;
        if (f.w >= HOMING_JOURNAL_WRITERS_MAX) continue;
        if ((r = homing_array_grow((void **)&v, &cap, used, sizeof *v, 16)) < 0) break;
        v[used++] = f;
    }
    closedir(d);
    if (r < 0) {
        free(v);
        return r;
    }
    if (used) qsort(v, used, sizeof *v, seg_cmp);
    *out = v;
    *n = used;
    return 0;
}

/* Moves every event of the segments found at open into st, deleting them. */
static int recover(struct homing_journal *j, struct homing_store *st, uint64_t *last_seg,
                   size_t *recovered, char *err, size_t errcap)
{
    struct seg_file *f = NULL;
    size_t n = 0;
    int r = list_segments(j, &f, &n);
    if (r < 0) {
        snprintf(err, errcap, "cannot list journal %s: %s", j->dir, strerror(-r));
        return r;
    }
    for (size_t i = 0; i < n && r >= 0; i++) {
        unsigned w = f[i].w;
        char cursor[JOURNAL_NAME_MAX], name[JOURNAL_NAME_MAX];
        cursor_name(j, cursor, w);
        segment_name(name, w, f[i].seg);
        if (f[i].seg > last_seg[w]) last_seg[w] = f[i].seg;
        int64_t at = 0;
        r = homing_store_cursor_get(st, cursor, &at);
        if (r == -ENOENT) at = 0, r = 0;
        if (r < 0) break;
        uint64_t cseg = (uint64_t)at >> 32;
        uint32_t coff = (uint32_t)at;
        if (f[i].seg < cseg) {
            unlinkat(j->dirfd, name, 0); /* emptied before the crash */
            continue;
        }
        r = reader_open(j, w, f[i].seg, f[i].seg == cseg ? coff : 0);
        if (r == -ENODATA) {
            unlinkat(j->dirfd, name, 0);
            r = 0;
            continue;
        }
        if (r < 0) break;
        size_t moved = 0;
        while ((r = ingest_writer(j, w, st, HOMING_JOURNAL_BATCH, 1, &moved, NULL)) == 0) {
        }
        if (r > 0) r = 0;
        *recovered += moved;
    }
    free(f);
    if (r < 0) snprintf(err, errcap, "cannot recover journal %s: %s", j->dir, strerror(-r));
    return r;
}

int homing_journal_open(const char *dir, const char *node, unsigned nwriters, int sync_full,
                        struct homing_store *st, struct homing_journal **out, size_t *recovered,
                        char *err, size_t errcap)
{
    if (!dir || !st || !out || nwriters == 0 || nwriters > HOMING_JOURNAL_WRITERS_MAX) {
        snprintf(err, errcap, "bad journal arguments");
        return -EINVAL;
    }
    if (node && homing_journal_node_check(node) < 0) {
        snprintf(err, errcap, "bad node id (at most %d letters, digits, '-' or '_')",
                 HOMING_JOURNAL_NODE_MAX);
        return -EINVAL;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        snprintf(err, errcap, "cannot create journal directory %s: %s", dir, strerror(e));
        return -e;
    }
    struct homing_journal *j = calloc(1, sizeof *j);
    if (!j || !(j->dir = strdup(dir)) || !(j->evs = calloc(HOMING_JOURNAL_BATCH, sizeof *j->evs)) ||
        !(j->floods = calloc(HOMING_JOURNAL_BATCH, sizeof *j->floods)) ||
        !(j->fold = calloc(JOURNAL_FOLD_SLOTS, sizeof *j->fold))) {
        homing_journal_close(j);
        snprintf(err, errcap, "out of memory");
        return -ENOMEM;
    }
    if (node) snprintf(j->node, sizeof j->node, "%s", node);
    j->nwriters = nwriters;
    j->sync_full = sync_full;
    j->efd = -1;
    for (unsigned i = 0; i < HOMING_JOURNAL_WRITERS_MAX; i++) j->w[i].fd = j->r[i].fd = -1;
    j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (j->dirfd < 0 || j->efd < 0) {
        int e = errno;
        snprintf(err, errcap, "cannot open journal %s: %s", dir, strerror(e));
        homing_journal_close(j);
        return -e;
    }
    uint64_t last[HOMING_JOURNAL_WRITERS_MAX] = {0};
    size_t got = 0;
    int r = recover(j, st, last, &got, err, errcap);
    /* The floods of an earlier run are over: the buckets counting them died
     * with it. Also those a crash left pending before this recovery. */
    j->floods_pending = 1;
    if (r == 0 && (r = homing_journal_floods_close(j, st, INT64_MAX, NULL)) < 0)
        snprintf(err, errcap, "cannot close the floods of the previous run in the store: %s",
                 strerror(-r));
    if (r < 0) {
        homing_journal_close(j);
        return r;
    }
    /* Writers start past every segment number used before, also ones whose
     * files are gone (their numbers live on in the cursors). */
    for (unsigned w = 0; w < nwriters; w++) {
        char cursor[JOURNAL_NAME_MAX];
        cursor_name(j, cursor, w);
        int64_t at = 0;
        if (homing_store_cursor_get(st, cursor, &at) == 0 && (uint64_t)at >> 32 > last[w])
            last[w] = (uint64_t)at >> 32;
        j->w[w].segment = last[w];
        j->r[w].next = last[w] + 1;
    }
    /* The backlog counts this run's appends: recovery's events are not among them. */
    atomic_store(&j->ingested, 0);
    if (recovered) *recovered = got;
    *out = j;
    return 0;
}

void homing_journal_close(struct homing_journal *j)
{
    if (!j) return;
    for (unsigned i = 0; i < HOMING_JOURNAL_WRITERS_MAX; i++) {
        writer_release(&j->w[i]);
        reader_release(&j->r[i]);
    }
    if (j->dirfd >= 0) close(j->dirfd);
    if (j->efd >= 0) close(j->efd);
    free(j->evs);
    free(j->floods);
    free(j->fold);
    free(j->dir);
    free(j);
}
