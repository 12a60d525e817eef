/*
 * test_dns_budget.c: lib/trace/dns_budget.c and dnsbl.c: one message's DNS
 * under one deadline. A resolver whose lookup_until waits until the deadline
 * (a server that never answers) makes 20 prefetched questions cost one budget,
 * not 20, because they are asked in parallel and each gives up at the
 * deadline; a lookup after it is -EAGAIN without asking; an answer is asked
 * for once. Also the DNSBL query names (RFC 5782, IPv4 and IPv6) and the
 * defanging of indicators.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lib/trace/trace_int.h"

struct fake {
    pthread_mutex_t mu;
    int calls;
    int answer; /* 1: answer at once with one TXT record; 0: wait for the deadline */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fake_until(void *ctx, const char *name, enum homing_rr type, int64_t deadline_ms,
                      struct homing_dns_answer *out)
{
    (void)name;
    (void)type;
    struct fake *f = ctx;
    pthread_mutex_lock(&f->mu);
    f->calls++;
    pthread_mutex_unlock(&f->mu);
    if (f->answer) {
        out->n = 1;
        out->rr[0] = strdup("v=spf1 -all");
        return out->rr[0] ? 0 : -ENOMEM;
    }
    int64_t left = deadline_ms - now_ms();
    if (left > 0) {
        struct timespec ts = {left / 1000, (left % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    return -EAGAIN;
}

static int fake_lookup(void *ctx, const char *name, enum homing_rr type,
                       struct homing_dns_answer *out)
{
    return fake_until(ctx, name, type, now_ms() + 5000, out);
}

static void test_parallel_within_budget(void **state)
{
    (void)state;
    struct fake f = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct homing_resolver inner = {.ctx = &f, .lookup = fake_lookup, .lookup_until = fake_until};
    struct trace_dns *d = NULL;
    assert_int_equal(trace_dns_new(&inner, 300, &d), 0);
    struct trace_dns_query q[20];
    for (int i = 0; i < 20; i++) {
        snprintf(q[i].name, sizeof q[i].name, "s%d._domainkey.example.org", i);
        q[i].type = HOMING_RR_TXT;
    }
    int64_t t0 = now_ms();
    assert_int_equal(trace_dns_prefetch(d, q, 20), 0);
    int64_t took = now_ms() - t0;
    /* 20 queries of up to 300 ms each, 8 at a time: one budget, not 20 */
    assert_true(took >= 200 && took < 1500);
    /* at most one question per thread reached the resolver: the rest found
     * the deadline passed (fewer when a thread started late on a busy host) */
    int calls = f.calls;
    assert_true(calls >= 1 && calls <= 8);
    struct homing_dns_answer a = {0};
    struct homing_resolver *r = trace_dns_resolver(d);
    assert_int_equal(r->lookup(r->ctx, "late.example.org", HOMING_RR_TXT, &a), -EAGAIN);
    assert_int_equal(f.calls, calls); /* not asked at all */
    json_t *j = trace_dns_json(d);
    assert_true(json_is_true(json_object_get(j, "exhausted")));
    assert_int_equal(json_integer_value(json_object_get(j, "budget_ms")), 300);
    json_decref(j);
    trace_dns_free(d);
}

static void test_answers_kept(void **state)
{
    (void)state;
    struct fake f = {.mu = PTHREAD_MUTEX_INITIALIZER, .answer = 1};
    struct homing_resolver inner = {.ctx = &f, .lookup = fake_lookup, .lookup_until = fake_until};
    struct trace_dns *d = NULL;
    assert_int_equal(trace_dns_new(&inner, 0, &d), 0);
    struct homing_resolver *r = trace_dns_resolver(d);
    for (int i = 0; i < 3; i++) {
        struct homing_dns_answer a = {0};
        assert_int_equal(r->lookup(r->ctx, "Example.ORG", HOMING_RR_TXT, &a), 0);
        assert_int_equal(a.n, 1);
        assert_string_equal(a.rr[0], "v=spf1 -all");
        homing_dns_answer_clear(&a);
    }
    assert_int_equal(f.calls, 1);
    json_t *j = trace_dns_json(d);
    assert_int_equal(json_integer_value(json_object_get(j, "budget_ms")),
                     HOMING_TRACE_DNS_BUDGET_DEFAULT_MS);
    assert_true(json_is_false(json_object_get(j, "exhausted")));
    json_decref(j);
    trace_dns_free(d);
}

static void test_dnsbl_names(void **state)
{
    (void)state;
    char n[300];
    assert_int_equal(trace_dnsbl_name("192.0.2.10", "bl.example", n, sizeof n), 0);
    assert_string_equal(n, "10.2.0.192.bl.example");
    /* RFC 5782 2.4: 2001:db8:1:2:3:4:567:89ab, nibbles reversed */
    assert_int_equal(trace_dnsbl_name("2001:db8:1:2:3:4:567:89ab", "bl.example", n, sizeof n), 0);
    assert_string_equal(
        n, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example");
    assert_int_equal(trace_dnsbl_name("not an address", "bl.example", n, sizeof n), -EINVAL);
    assert_int_equal(trace_dnsbl_name("192.0.2.10", "bl.example", n, 10), -E2BIG);
}

static void test_defang(void **state)
{
    (void)state;
    char d[HOMING_IOCS_DEFANG_MAX];
    homing_iocs_defang("https://www.example.com/a.b?c.d", d, sizeof d);
    assert_string_equal(d, "hxxps://www.example[.]com/a.b?c.d");
    homing_iocs_defang("http://192.0.2.1:8080/", d, sizeof d);
    assert_string_equal(d, "hxxp://192.0.2[.]1:8080/");
    homing_iocs_defang("ftp://files.example.org/x", d, sizeof d);
    assert_string_equal(d, "fxp://files.example[.]org/x");
    homing_iocs_defang("user@mail.example.net", d, sizeof d);
    assert_string_equal(d, "user@mail.example[.]net");
    homing_iocs_defang("198.51.100.7", d, sizeof d);
    assert_string_equal(d, "198.51.100[.]7");
    homing_iocs_defang("example.com", d, 5);
    assert_true(strlen(d) < 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_within_budget),
        cmocka_unit_test(test_answers_kept),
        cmocka_unit_test(test_dnsbl_names),
        cmocka_unit_test(test_defang),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
