/*
 * trace_bench.c: messages per second of `homing trace` (homing_trace_run,
 * the whole analysis the command does) against the floor of issue #6, a plain
 * parse of the same messages in the same run: GMime for the MIME structure and
 * gumbo for each text/html part (bench/floor.c, which bench/scan_floor.c uses
 * too); with and without re-verification (SPF, DKIM, DMARC answered by the
 * zone-file resolver, so the figure is CPU work, not network latency).
 *
 * The three are interleaved: each round runs the whole corpus through the
 * floor, then trace --offline, then trace with verification, timed as thread
 * CPU time, so load that comes and goes on a shared machine falls on all three
 * alike. Rates are from the median round of each; the ratios are the medians
 * of the per-round ratios (each round's three runs are a fraction of a second
 * apart).
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

#include "floor.h"
#include "homing/trace.h"

#define BENCH_ROUNDS_MAX 10000

struct msg {
    char *data;
    size_t len;
};

enum kind { FLOOR, OFFLINE, VERIFY, KINDS };

static const char *const kind_name[KINDS] = {
    "floor: GMime + gumbo parse",
    "homing trace --offline",
    "homing trace (verify, zone DNS)",
};

static unsigned long html_parts;

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
    m->len = m->data ? fread(m->data, 1, (size_t)n, f) : 0;
    fclose(f);
    return m->data ? 0 : -ENOMEM;
}

static void floor_parse(const struct msg *m)
{
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(m->data, m->len);
    GMimeParser *p = g_mime_parser_new_with_stream(s);
    GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);
    if (msg) {
        if (g_mime_message_get_mime_part(msg))
            html_parts += bench_floor_walk(g_mime_message_get_mime_part(msg));
        g_object_unref(msg);
    }
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

/* Seconds of CPU for one pass of kind k over the corpus. */
static double pass(enum kind k, const struct msg *ms, int n, struct homing_resolver *res)
{
    double t0 = now();
    for (int i = 0; i < n; i++) {
        if (k == FLOOR)
            floor_parse(&ms[i]);
        else
            trace(&ms[i], k == VERIFY ? res : NULL);
    }
    return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: trace_bench ZONE SECONDS FILE.eml...\n");
        return 2;
    }
    double secs = atof(argv[2]);
    int n = argc - 3;
    static double t[KINDS][BENCH_ROUNDS_MAX], r_off[BENCH_ROUNDS_MAX], r_ver[BENCH_ROUNDS_MAX];
    struct msg *ms = calloc((size_t)n, sizeof *ms);
    if (!ms) return 2;
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
    /* One untimed pass of each: first-use set-up (GMime, OpenSSL, OpenDKIM)
     * belongs to no message. */
    for (int k = 0; k < KINDS; k++) pass((enum kind)k, ms, n, res);
    unsigned long parts_per_pass = html_parts; /* counted by the warm-up pass */
    int rounds = 0;
    double spent = 0;
    while (rounds < BENCH_ROUNDS_MAX && (spent < secs || rounds < 3)) {
        for (int k = 0; k < KINDS; k++) {
            t[k][rounds] = pass((enum kind)k, ms, n, res);
            spent += t[k][rounds];
        }
        r_off[rounds] = t[OFFLINE][rounds] / t[FLOOR][rounds];
        r_ver[rounds] = t[VERIFY][rounds] / t[FLOOR][rounds];
        rounds++;
    }
    printf("corpus: %d messages (%lu text/html parts), %d interleaved rounds\n", n, parts_per_pass,
           rounds);
    for (int k = 0; k < KINDS; k++) {
        double total = 0;
        for (int i = 0; i < rounds; i++) total += t[k][i];
        double med = median(t[k], rounds);
        printf("%-34s %8.0f msgs/s  (median round %.1f ms; %d messages in %.2f s of CPU)\n",
               kind_name[k], n / med, med * 1e3, n * rounds, total);
    }
    printf("ratio offline/floor: %.2fx the time of the floor (median of rounds)\n",
           median(r_off, rounds));
    printf("ratio verify/floor:  %.2fx the time of the floor (median of rounds; goal <= 2x)\n",
           median(r_ver, rounds));
    homing_resolver_free(res);
    for (int i = 0; i < n; i++) free(ms[i].data);
    free(ms);
    g_mime_shutdown();
    return 0;
}
