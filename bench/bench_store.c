/*
 * bench_store.c: the daemon's group-commit path, homing_store_events_append,
 * next to its anchor: the same events committed one per transaction (what a
 * writer without group commit would do). Both go through the public store API
 * on a fresh database in a temporary directory, in the same run.
 *
 *   bench_store [-n EVENTS] [-b BATCH] [-s normal|full] [-d DIR]
 *
 * Prints events/s for each and the ratio. Defaults: 100000 events, batches of
 * 256, synchronous=normal; the anchor runs on EVENTS/10 events (it is slow).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "homing/store.h"
#include "homing/util.h"

#define BENCH_BATCH_MAX 65536

static void fill(struct homing_event *e, size_t i)
{
    memset(e, 0, sizeof *e);
    e->time_us = homing_now_us();
    e->kind = HOMING_EV_OPEN;
    e->method = HOMING_METHOD_GET;
    e->message = 0x1234567890abcdefULL;
    e->recipient = (uint32_t)(i % 50 + 1);
    strcpy(e->client, "192.0.2.0");
    strcpy(e->user_agent, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                          "(KHTML, like Gecko) Chrome/120.0 Safari/537.36");
    strcpy(e->accept_language, "en-GB,en;q=0.9");
}

/* Appends total events in batches of batch to a new database; events/s. */
static double run(const char *dir, const char *name, const char *sync, size_t total, size_t batch)
{
    char db[4096];
    snprintf(db, sizeof db, "%s/%s.db", dir, name);
    struct homing_store *s;
    char err[512];
    if (homing_store_open(db, NULL, sync, &s, err, sizeof err) < 0) {
        fprintf(stderr, "bench_store: %s\n", err);
        exit(1);
    }
    struct homing_event *ev = calloc(batch, sizeof *ev);
    if (!ev) exit(1);
    for (size_t i = 0; i < batch; i++) fill(&ev[i], i);
    int64_t t0 = homing_mono_us();
    for (size_t done = 0; done < total; done += batch) {
        size_t n = total - done < batch ? total - done : batch;
        for (size_t i = 0; i < n; i++) ev[i].time_us = homing_now_us();
        if (homing_store_events_append(s, ev, n) < 0) {
            fprintf(stderr, "bench_store: %s\n", homing_store_errmsg(s));
            exit(1);
        }
    }
    int64_t dt = homing_mono_us() - t0;
    free(ev);
    homing_store_close(s);
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s%s", db, suffix[i]);
        unlink(p);
    }
    return (double)total * 1e6 / (double)(dt > 0 ? dt : 1);
}

int main(int argc, char **argv)
{
    long total = 100000, batch = 256;
    const char *sync = "normal", *base = "/tmp";
    int c;
    while ((c = getopt(argc, argv, "n:b:s:d:")) != -1) {
        switch (c) {
        case 'n': total = atol(optarg); break;
        case 'b': batch = atol(optarg); break;
        case 's': sync = optarg; break;
        case 'd': base = optarg; break;
        default:
            fprintf(stderr,
                    "usage: bench_store [-n EVENTS] [-b BATCH] [-s normal|full] [-d DIR]\n");
            return 2;
        }
    }
    if (total < 10 || batch < 1 || batch > BENCH_BATCH_MAX) {
        fprintf(stderr, "bench_store: need EVENTS >= 10 and 1 <= BATCH <= %d\n", BENCH_BATCH_MAX);
        return 2;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/homing-bench-store-XXXXXX", base);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench_store: mkdtemp in %s: %s\n", base, strerror(errno));
        return 2;
    }
    double group = run(dir, "group", sync, (size_t)total, (size_t)batch);
    double single = run(dir, "single", sync, (size_t)total / 10, 1);
    rmdir(dir);
    printf("synchronous=%s\n", sync);
    printf("group commit, batches of %ld: %10.0f events/s (%ld events)\n", batch, group, total);
    printf("one transaction per event:   %10.0f events/s (%ld events)\n", single, total / 10);
    printf("ratio: %.1fx\n", group / single);
    return 0;
}
