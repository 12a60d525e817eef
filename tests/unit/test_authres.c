/*
 * test_authres.c: unit tests of lib/trace/authres.c (RFC 8601): the
 * authserv-id, version, results with reasons and properties, comments and
 * quoting, provider forms (Gmail, Microsoft), "none", limits and garbage.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "homing/trace.h"

static struct homing_authres *parse(const char *s)
{
    struct homing_authres *a = NULL;
    assert_int_equal(homing_authres_parse(s, strlen(s), &a), 0);
    assert_non_null(a);
    return a;
}

static void test_rfc8601_examples(void **state)
{
    (void)state;
    /* RFC 8601 Appendix B.2 and B.4 style fields. */
    struct homing_authres *a = parse("example.org 1; none");
    assert_string_equal(a->authserv_id, "example.org");
    assert_int_equal(a->version, 1);
    assert_int_equal(a->none, 1);
    assert_int_equal(a->n_results, 0);
    homing_authres_free(a);

    a = parse("example.com;\r\n"
              "          spf=pass smtp.mailfrom=example.net");
    assert_int_equal(a->version, 1);
    assert_int_equal(a->n_results, 1);
    assert_string_equal(a->results[0].method, "spf");
    assert_string_equal(a->results[0].result, "pass");
    assert_string_equal(homing_authres_prop(&a->results[0], "smtp", "mailfrom"), "example.net");
    homing_authres_free(a);

    a = parse("example.com;\r\n"
              "          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n"
              "          spf=pass smtp.mailfrom=example.net;\r\n"
              "          sender-id=pass header.from=example.net");
    assert_int_equal(a->n_results, 3);
    assert_string_equal(a->results[0].method, "auth");
    assert_string_equal(homing_authres_prop(&a->results[0], "smtp", "auth"), "sender@example.net");
    assert_string_equal(a->results[2].method, "sender-id");
    homing_authres_free(a);
}

static void test_gmail_and_microsoft(void **state)
{
    (void)state;
    struct homing_authres *a =
        parse(" mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=s1 "
              "header.b=\"Ab+/9x\";\r\n       spf=pass (google.com: domain of a@example.com "
              "designates 192.0.2.1 as permitted sender) smtp.mailfrom=a@example.com;\r\n"
              "       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com");
    assert_string_equal(a->authserv_id, "mx.google.com");
    assert_int_equal(a->n_results, 3);
    assert_string_equal(homing_authres_prop(&a->results[0], "header", "i"), "@example.com");
    assert_string_equal(homing_authres_prop(&a->results[0], "header", "b"), "Ab+/9x");
    assert_string_equal(a->results[2].result, "pass");
    homing_authres_free(a);

    a = parse("spf=pass (sender IP is 40.107.1.1) smtp.mailfrom=example.com; dkim=pass "
              "(signature was verified) header.d=example.com;dmarc=pass action=none "
              "header.from=example.com;compauth=pass reason=100");
    /* Microsoft writes no authserv-id: the first word is taken as one, and
     * the rest still parses; the caller will not trust "spf=pass". */
    assert_string_equal(a->authserv_id, "spf");
    homing_authres_free(a);

    a = parse("mx.microsoft.com 1; spf=pass (sender IP is 40.107.1.1) smtp.mailfrom=ex.com; "
              "dmarc=pass action=none header.from=ex.com;compauth=pass reason=100");
    assert_int_equal(a->n_results, 3);
    assert_string_equal(homing_authres_prop(&a->results[1], "", "action"), "none");
    assert_string_equal(a->results[2].reason, "100");
    homing_authres_free(a);
}

static void test_case_comments_quotes(void **state)
{
    (void)state;
    struct homing_authres *a =
        parse("\"MX.Example.ORG\" (our (nested) id) 1 ; DKIM = Pass reason=\"good; sig\" "
              "Header . D = example.net ; SPF/1=softfail");
    assert_string_equal(a->authserv_id, "mx.example.org");
    assert_int_equal(a->n_results, 2);
    assert_string_equal(a->results[0].method, "dkim");
    assert_string_equal(a->results[0].result, "pass");
    assert_string_equal(a->results[0].reason, "good; sig");
    assert_string_equal(homing_authres_prop(&a->results[0], "header", "d"), "example.net");
    assert_string_equal(a->results[1].method, "spf");
    assert_string_equal(a->results[1].result, "softfail");
    homing_authres_free(a);
}

static void test_garbage_and_limits(void **state)
{
    (void)state;
    struct homing_authres *a = NULL;
    assert_int_equal(homing_authres_parse("", 0, &a), -EBADMSG);
    assert_int_equal(homing_authres_parse(" ; spf=pass", 11, &a), -EBADMSG);
    assert_null(a);
    /* A broken resinfo is skipped, the next one is kept. */
    a = parse("mx.example.org; spf=; dkim=fail (x) header.d=a.example; ====; dmarc=none");
    assert_int_equal(a->n_results, 2);
    assert_string_equal(a->results[0].method, "dkim");
    assert_string_equal(a->results[1].method, "dmarc");
    homing_authres_free(a);
    /* Unclosed comment and quote do not read past the end. */
    a = parse("mx.example.org; spf=pass (unclosed");
    homing_authres_free(a);
    a = parse("mx.example.org; spf=pass reason=\"unclosed");
    homing_authres_free(a);
    assert_int_equal(homing_authres_parse("x (((((((((((((y", 16, &a), -E2BIG);
    /* More results than HOMING_AUTHRES_RESULTS_MAX. */
    char buf[4096] = "mx.example.org";
    for (int i = 0; i <= HOMING_AUTHRES_RESULTS_MAX; i++) strcat(buf, "; spf=pass");
    assert_int_equal(homing_authres_parse(buf, strlen(buf), &a), -E2BIG);
    /* More properties than HOMING_AUTHRES_PROPS_MAX. */
    strcpy(buf, "mx.example.org; spf=pass");
    for (int i = 0; i <= HOMING_AUTHRES_PROPS_MAX; i++) strcat(buf, " smtp.x=y");
    assert_int_equal(homing_authres_parse(buf, strlen(buf), &a), -E2BIG);
    assert_int_equal(homing_authres_parse("x", HOMING_TRACE_HEADER_MAX + 1, &a), -E2BIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8601_examples),
        cmocka_unit_test(test_gmail_and_microsoft),
        cmocka_unit_test(test_case_comments_quotes),
        cmocka_unit_test(test_garbage_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
