/*
 * trace_bench.c: messages per second of `homing trace` (homing_trace_run,
 * the whole analysis the command does) against the floor of a plain GMime
 * parse of the same messages in the same run, with and without
 * re-verification (SPF, DKIM, DMARC answered by the zone-file resolver, so
 * the figure is CPU work, not network latency). Rates are per second of the
 * thread's CPU time.
 *
 * Usage: trace_bench ZONE_FILE SECONDS FILE.eml... ; prints one line per
 * measurement and the ratios. Built and run by bench/trace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "homing/trace.h"

struct msg {
    char *data;
    size_t len;
};

/* Thread CPU time: other work on a loaded machine does not skew one side. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int load(const char *path, struct msg *m)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -errno;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    m->data = malloc((size_t)n + 1);
    m->len = fread(m->data, 1, (size_t)n, f);
    fclose(f);
    return 0;
}

static void gmime_parse(const struct msg *m)
{
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(m->data, m->len);
    GMimeParser *p = g_mime_parser_new_with_stream(s);
    GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);
    if (msg) g_object_unref(msg);
    g_object_unref(p);
    g_object_unref(s);
}

static const char *const trusted[] = {"mx.example.org", ".int.example.org"};
static const char *const ids[] = {"mx.example.org"};

static void trace(const struct msg *m, struct homing_resolver *res)
{
    struct homing_trace_options o = {.trusted_hosts = trusted,
                                     .n_trusted_hosts = 2,
                                     .authserv_ids = ids,
                                     .n_authserv_ids = 1,
                                     .offline = res == NULL,
                                     .resolver = res};
    json_t *j = NULL;
    if (homing_trace_run(m->data, m->len, &o, &j) == 0) json_decref(j);
}

/* Runs fn over the corpus until at least secs have passed; returns msgs/s. */
static double rate(const char *name, struct msg *ms, int n, double secs, int kind,
                   struct homing_resolver *res)
{
    long count = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < n; i++) {
            if (kind == 0)
                gmime_parse(&ms[i]);
            else
                trace(&ms[i], res);
        }
        count += n;
    } while ((t = now() - t0) < secs);
    double r = count / t;
    printf("%-34s %10.0f msgs/s  (%ld messages in %.2f s of CPU)\n", name, r, count, t);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: trace_bench ZONE SECONDS FILE.eml...\n");
        return 2;
    }
    double secs = atof(argv[2]);
    int n = argc - 3;
    struct msg *ms = calloc((size_t)n, sizeof *ms);
    for (int i = 0; i < n; i++)
        if (load(argv[3 + i], &ms[i]) < 0) {
            fprintf(stderr, "cannot read %s\n", argv[3 + i]);
            return 2;
        }
    struct homing_resolver *res;
    if (homing_resolver_zone_new(argv[1], &res) < 0) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    g_mime_init();
    printf("corpus: %d messages\n", n);
    double g = rate("GMime parse (floor)", ms, n, secs, 0, NULL);
    double off = rate("homing trace --offline", ms, n, secs, 1, NULL);
    double ver = rate("homing trace (verify, zone DNS)", ms, n, secs, 1, res);
    printf("ratio offline/floor: %.2fx the time of a GMime parse\n", g / off);
    printf("ratio verify/floor:  %.2fx the time of a GMime parse\n", g / ver);
    homing_resolver_free(res);
    for (int i = 0; i < n; i++) free(ms[i].data);
    free(ms);
    g_mime_shutdown();
    return 0;
}
