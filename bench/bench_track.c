/*
 * bench_track.c: throughput of `homing track` (prepare + one rendered copy,
 * and each further copy) over a corpus of messages, next to its floor: a plain
 * GMime parse and re-serialisation of the same messages, in the same run.
 *
 *   bench_track [-n ROUNDS] [-p floor|track] FILE|DIR...    (the *.eml files of a DIR)
 *
 * Prints messages/s and MB/s (input bytes) for each, and the ratio. With -p,
 * runs only that side (track: prepare + 1 copy) for ROUNDS rounds and prints
 * nothing: a profiler's run (perf record), one side at a time. GMime is
 * included here only because the floor is GMime itself; the library side goes
 * through homing/track.h like any program.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "homing/token.h"
#include "homing/track.h"
#include "homing/util.h"

#define BENCH_FILES_MAX 4096

struct msg {
    char *data;
    size_t len;
};

static struct msg msgs[BENCH_FILES_MAX];
static size_t n_msgs, total_bytes;

static void load(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        perror(path);
        exit(2);
    }
    if (S_ISDIR(st.st_mode)) {
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            if (names[i]->d_name[0] != '.') {
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", path, names[i]->d_name);
                /* in a directory, messages only (a corpus has its README) */
                size_t nl = strlen(p);
                struct stat s2;
                if (nl > 4 && strcmp(p + nl - 4, ".eml") == 0 && stat(p, &s2) == 0 &&
                    S_ISREG(s2.st_mode))
                    load(p);
            }
            free(names[i]);
        }
        free(names);
        return;
    }
    if (n_msgs >= BENCH_FILES_MAX) return;
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    char *d = malloc((size_t)st.st_size + 1);
    size_t n = fread(d, 1, (size_t)st.st_size, f);
    fclose(f);
    msgs[n_msgs++] = (struct msg){d, n};
    total_bytes += n;
}

/* CPU time of this thread: on a shared machine, wall time counts other
 * processes' turns too; both sides are measured the same way. */
static int64_t cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double floor_round(void)
{
    int64_t t0 = cpu_us();
    for (size_t i = 0; i < n_msgs; i++) {
        GMimeStream *in = g_mime_stream_mem_new_with_buffer(msgs[i].data, msgs[i].len);
        GMimeParser *p = g_mime_parser_new_with_stream(in);
        GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
        if (m) {
            GMimeStream *out = g_mime_stream_mem_new();
            g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, out);
            g_object_unref(out);
            g_object_unref(m);
        }
        g_object_unref(p);
        g_object_unref(in);
    }
    return (double)(cpu_us() - t0) / 1e6;
}

static double track_round(const struct homing_keyring *k, struct homing_buf *out, int extra,
                          size_t *tracked)
{
    struct homing_track_options o = {
        .base_url = "https://t.example.com", .rewrite_text = 1, .pixel = 1};
    int64_t t0 = cpu_us();
    char err[256];
    for (size_t i = 0; i < n_msgs; i++) {
        struct homing_track *t;
        if (homing_track_prepare(msgs[i].data, msgs[i].len, &o, &t, err, sizeof err) < 0) continue;
        for (int r = 1; r <= 1 + extra && extra >= 0; r++) {
            homing_buf_reset(out);
            if (homing_track_render(t, k, 0x1234567890abcdefULL & 0x7fffffffffffffffULL,
                                    (uint32_t)r, out) < 0)
                abort();
        }
        (*tracked)++;
        homing_track_free(t);
    }
    return (double)(cpu_us() - t0) / 1e6;
}

int main(int argc, char **argv)
{
    int rounds = 200, i = 1;
    const char *only = NULL;
    for (; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-n") == 0)
            rounds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "-p") == 0)
            only = argv[i + 1];
        else
            break;
    }
    if (i >= argc || rounds <= 0 ||
        (only && strcmp(only, "floor") != 0 && strcmp(only, "track") != 0)) {
        fprintf(stderr, "usage: bench_track [-n ROUNDS] [-p floor|track] FILE|DIR...\n");
        return 2;
    }
    for (; i < argc; i++) load(argv[i]);
    if (n_msgs == 0) {
        fprintf(stderr, "bench_track: no messages\n");
        return 2;
    }
    g_mime_init();
    char dir[] = "/tmp/homing-bench-track-XXXXXX", path[64], err[256];
    if (!mkdtemp(dir)) return 2;
    snprintf(path, sizeof path, "%s/token.keys", dir);
    struct homing_keyring *k;
    if (homing_keyring_create(path) < 0 || homing_keyring_load(path, &k, err, sizeof err) < 0)
        return 2;
    unlink(path);
    rmdir(dir);
    struct homing_buf out;
    homing_buf_init(&out, 1u << 30);

    /* interleaved rounds, so both sides see the same machine state */
    double tf = 0, tt = 0, tc = 0, tp = 0;
    size_t tracked = 0, dummy = 0;
    if (only) {
        /* the same warm-up as below: the tracker's cached charset converters
         * keep glibc's gconv modules loaded, which the floor's GMime would
         * otherwise load and unload on every message */
        floor_round();
        track_round(k, &out, 0, &dummy);
        for (int r = 0; r < rounds; r++)
            if (strcmp(only, "floor") == 0)
                floor_round();
            else
                track_round(k, &out, 0, &dummy);
        homing_buf_free(&out);
        homing_keyring_free(k);
        return 0;
    }
    floor_round();
    track_round(k, &out, 0, &dummy);
    for (int r = 0; r < rounds; r++) {
        tf += floor_round();
        tt += track_round(k, &out, 0, &tracked);
        tc += track_round(k, &out, 9, &dummy);
        tp += track_round(k, &out, -1, &dummy);
    }
    double mb = (double)total_bytes * rounds / 1e6, nm = (double)n_msgs * rounds;
    printf("corpus: %zu messages, %zu bytes, %d rounds (%zu tracked per round)\n", n_msgs,
           total_bytes, rounds, tracked / (size_t)rounds);
    printf("floor  gmime parse+write : %9.0f msg/s %8.1f MB/s\n", nm / tf, mb / tf);
    printf("track  prepare+1 copy    : %9.0f msg/s %8.1f MB/s  %.2fx the floor\n", nm / tt, mb / tt,
           tt / tf);
    printf("track  prepare only      : %9.0f msg/s %8.1f MB/s  %.2fx the floor\n", nm / tp, mb / tp,
           tp / tf);
    printf("track  prepare+10 copies : %9.0f msg/s %8.1f MB/s  (%.1f us per extra copy)\n", nm / tc,
           mb / tc, (tc - tt) / (nm * 9) * 1e6);
    homing_buf_free(&out);
    homing_keyring_free(k);
    return 0;
}
