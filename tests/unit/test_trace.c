/*
 * test_trace.c: homing_trace_run called many times in one process gives the
 * goldens of tests/data/trace byte for byte. The integration test runs the
 * command once per message; here the library handles kept between calls
 * (OpenDKIM's, libspf2's per thread, OpenDMARC's settings) are reused across
 * every golden, in file order, in reverse order, and from two threads at once,
 * so no state may leak from one message into the next.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "homing/trace.h"

#define CASES_MAX 64
#define ARGS_MAX  16

struct tcase {
    char name[512];
    char *eml, *golden;
    size_t eml_len;
    const char *trusted[ARGS_MAX], *ids[ARGS_MAX], *dnsbl[ARGS_MAX];
    size_t n_trusted, n_ids, n_dnsbl;
    int offline;
    char *args; /* the .args file's text, which trusted/ids point into */
};

static struct tcase cases[CASES_MAX];
static size_t n_cases;
static struct homing_resolver *zone;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s) {
        size_t got = fread(s, 1, (size_t)n, f);
        s[got] = '\0';
        if (len) *len = got;
    }
    fclose(f);
    return s;
}

/* The arguments of test_trace.py: NAME.args (one a line) or its defaults. The
 * zone of every case is tests/data/trace/zone.txt. */
static void case_args(struct tcase *c, const char *base)
{
    char p[600];
    snprintf(p, sizeof p, "%s.args", base);
    c->args = slurp(p, NULL);
    if (!c->args) {
        c->trusted[c->n_trusted++] = "mx.example.org";
        c->trusted[c->n_trusted++] = ".int.example.org";
        c->ids[c->n_ids++] = "mx.example.org";
        return;
    }
    char *save = NULL, *prev = NULL;
    for (char *a = strtok_r(c->args, "\n", &save); a; a = strtok_r(NULL, "\n", &save)) {
        if (strcmp(a, "--offline") == 0) c->offline = 1;
        if (prev && strcmp(prev, "--trusted-host") == 0) c->trusted[c->n_trusted++] = a;
        if (prev && strcmp(prev, "--authserv-id") == 0) c->ids[c->n_ids++] = a;
        if (prev && strcmp(prev, "--dnsbl-zone") == 0) c->dnsbl[c->n_dnsbl++] = a;
        prev = a;
        assert_true(c->n_trusted < ARGS_MAX && c->n_ids < ARGS_MAX && c->n_dnsbl < ARGS_MAX);
    }
}

static void load_dir(const char *dir)
{
    struct dirent **names;
    int k = scandir(dir, &names, NULL, alphasort);
    assert_true(k >= 0);
    for (int i = 0; i < k; i++) {
        size_t l = strlen(names[i]->d_name);
        if (l > 4 && strcmp(names[i]->d_name + l - 4, ".eml") == 0) {
            assert_true(n_cases < CASES_MAX);
            struct tcase *c = &cases[n_cases++];
            char base[512], p[600];
            snprintf(base, sizeof base, "%s/%.*s", dir, (int)(l - 4), names[i]->d_name);
            snprintf(c->name, sizeof c->name, "%s", base);
            snprintf(p, sizeof p, "%s.eml", base);
            assert_non_null(c->eml = slurp(p, &c->eml_len));
            snprintf(p, sizeof p, "%s.json", base);
            assert_non_null(c->golden = slurp(p, NULL));
            case_args(c, base);
        }
        free(names[i]);
    }
    free(names);
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("HOMING_SRC");
    char d[400], z[400];
    snprintf(d, sizeof d, "%s/tests/data/trace", src && *src ? src : ".");
    load_dir(d);
    snprintf(d, sizeof d, "%s/tests/data/trace/dkim", src && *src ? src : ".");
    load_dir(d);
    snprintf(d, sizeof d, "%s/tests/data/trace/arc", src && *src ? src : ".");
    load_dir(d);
    snprintf(z, sizeof z, "%s/tests/data/trace/zone.txt", src && *src ? src : ".");
    return homing_resolver_zone_new(z, &zone) == 0 && n_cases >= 20 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < n_cases; i++) {
        free(cases[i].eml);
        free(cases[i].golden);
        free(cases[i].args);
    }
    homing_resolver_free(zone);
    return 0;
}

/* 0 if case c comes out as its golden (as `homing trace --json` prints it). */
static int run_case(const struct tcase *c)
{
    struct homing_trace_options o = {.trusted_hosts = c->trusted,
                                     .n_trusted_hosts = c->n_trusted,
                                     .authserv_ids = c->ids,
                                     .n_authserv_ids = c->n_ids,
                                     .offline = c->offline,
                                     .dnsbl_zones = c->dnsbl,
                                     .n_dnsbl_zones = c->n_dnsbl,
                                     .resolver = c->offline ? NULL : zone};
    json_t *j = NULL;
    if (homing_trace_run(c->eml, c->eml_len, &o, &j) < 0) return -EIO;
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(j);
    if (!s) return -ENOMEM;
    size_t n = strlen(s);
    int same = strncmp(s, c->golden, n) == 0 && strcmp(c->golden + n, "\n") == 0;
    free(s);
    return same ? 0 : -EBADMSG;
}

static void test_in_order_and_reverse(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++)
        for (size_t k = 0; k < n_cases; k++) {
            const struct tcase *c = &cases[round ? n_cases - 1 - k : k];
            if (run_case(c) != 0) fail_msg("%s differs from its golden (round %d)", c->name, round);
        }
}

#define THREAD_PASSES 5

static void *thread_main(void *arg)
{
    size_t start = (size_t)(uintptr_t)arg;
    for (int pass = 0; pass < THREAD_PASSES; pass++)
        for (size_t k = 0; k < n_cases; k++)
            if (run_case(&cases[(start + k) % n_cases]) != 0) return (void *)(uintptr_t)1;
    return NULL;
}

static void test_two_threads(void **state)
{
    (void)state;
    pthread_t t[2];
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_main, (void *)(uintptr_t)(i * 7)), 0);
    for (size_t i = 0; i < 2; i++) {
        void *r;
        assert_int_equal(pthread_join(t[i], &r), 0);
        assert_null(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_and_reverse),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
