/*
 * test_addr_check.c: lib/mime/addr_check.c, the pre-scan that keeps address
 * headers GMime would recurse on too deeply away from GMime: depth of groups
 * and comments with quotes respected, the colon backstop, which fields and
 * lines are looked at, folded values, and a real message at the limit going
 * through homing_scan_message while one past it is refused.
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

#include "homing/scan.h"
#include "lib/mime/addr_check_int.h"

static unsigned depth(const char *v, size_t *colons)
{
    size_t c;
    unsigned d = mime_addr_value_depth(v, strlen(v), &c);
    if (colons) *colons = c;
    return d;
}

/* n nested groups (or comments) around one mailbox */
static char *nested(const char *field, unsigned n, int comments)
{
    size_t cap = strlen(field) + 3 * (size_t)n + 64;
    char *s = malloc(cap), *p = s;
    assert_non_null(s);
    p += sprintf(p, "%s: ", field);
    for (unsigned i = 0; i < n; i++) p += sprintf(p, comments ? "(" : "g:");
    p += sprintf(p, "b@example.org");
    for (unsigned i = 0; i < n; i++) *p++ = comments ? ')' : ';';
    *p = '\0';
    return s;
}

static void test_value_depth(void **state)
{
    (void)state;
    size_t c;
    assert_int_equal(depth("a@b, c@d", &c), 0);
    assert_int_equal(c, 0);
    assert_int_equal(depth("undisclosed-recipients:;", &c), 1);
    assert_int_equal(depth("g1: a@b; g2: c@d;", NULL), 1);
    assert_int_equal(depth("a:b:c:d@e;;;", &c), 3);
    assert_int_equal(c, 3);
    /* quoted colons and parentheses open nothing, but count as colons */
    assert_int_equal(depth("\"x:y:z(\" <a@b>", &c), 0);
    assert_int_equal(c, 2);
    assert_int_equal(depth("\"a\\\"b:\" <a@b>", NULL), 0);
    /* comments nest; a ';' inside a comment closes no group */
    assert_int_equal(depth("a@b (x (y (z)))", NULL), 3);
    assert_int_equal(depth("g: (;;;) h: (;) a@b", NULL), 2);
    /* an unbalanced ';' cannot hide depth that follows */
    assert_int_equal(depth(";;;;a:b:c@d", NULL), 2);
    /* a route's colon counts (conservative: it is not a group) */
    assert_int_equal(depth("<@r1,@r2:a@b>", &c), 1);
}

static void test_message(void **state)
{
    (void)state;
    char *at = nested("To", HOMING_MIME_ADDR_DEPTH_MAX, 0);
    char *past = nested("tO", HOMING_MIME_ADDR_DEPTH_MAX + 1, 0);
    char *cpast = nested("From", HOMING_MIME_ADDR_DEPTH_MAX + 1, 1);
    char buf[8192];
    snprintf(buf, sizeof buf, "From: a@example.org\n%s\n\nbody\n", at);
    assert_int_equal(mime_addr_check(buf, strlen(buf)), 0);
    snprintf(buf, sizeof buf, "From: a@example.org\n%s\n\nbody\n", past);
    assert_int_equal(mime_addr_check(buf, strlen(buf)), -ELOOP);
    snprintf(buf, sizeof buf, "%s\r\nTo: b@example.org\r\n\r\n", cpast);
    assert_int_equal(mime_addr_check(buf, strlen(buf)), -ELOOP);
    /* blanks before the colon, a folded value, a message/rfc822 part's header */
    snprintf(buf, sizeof buf, "Subject: x\nCc \t: a@b,\n %s\n\n", past + 4);
    assert_int_equal(mime_addr_check(buf, strlen(buf)), -ELOOP);
    snprintf(buf, sizeof buf,
             "From: a@b\nContent-Type: message/rfc822\n\nDelivered-To: x@y\nReply-To:%s\n\n",
             past + 4);
    assert_int_equal(mime_addr_check(buf, strlen(buf)), -ELOOP);
    /* other fields and look-alike names are not address lists */
    snprintf(buf, sizeof buf, "Subject:%s\nX-To:%s\nTox:%s\n\n", past + 4, past + 4, past + 4);
    assert_int_equal(mime_addr_check(buf, strlen(buf)), 0);
    /* the last line may lack its newline; a NUL byte does not end the scan */
    snprintf(buf, sizeof buf, "From: a@b\nBcc:%s", past + 4);
    assert_int_equal(mime_addr_check(buf, strlen(buf)), -ELOOP);
    memcpy(buf, "X\0: a@b\n", 8);
    snprintf(buf + 8, sizeof buf - 8, "To:%s\n", past + 4);
    assert_int_equal(mime_addr_check(buf, 8 + strlen(buf + 8)), -ELOOP);
    free(at);
    free(past);
    free(cpast);
}

static void test_colons(void **state)
{
    (void)state;
    /* quoted colons are harmless to GMime, but past the backstop the field
     * is refused whatever its grammar */
    size_t n = HOMING_MIME_ADDR_COLONS_MAX + 1;
    char *s = malloc(n + 64);
    assert_non_null(s);
    strcpy(s, "To: \"");
    memset(s + 5, ':', n);
    strcpy(s + 5 + n, "\" <a@b>\n\n");
    assert_int_equal(mime_addr_check(s, strlen(s)), -ELOOP);
    s[5] = 'x'; /* one fewer */
    assert_int_equal(mime_addr_check(s, strlen(s)), 0);
    free(s);
}

static void test_scan_message(void **state)
{
    (void)state;
    char *past = nested("To", 100000, 0); /* overflowed GMime's stack before */
    size_t cap = strlen(past) + 256;
    char *m = malloc(cap);
    assert_non_null(m);
    snprintf(m, cap, "From: a@example.org\n%s\nContent-Type: text/plain\n\nhi\n", past);
    struct homing_scan_options o = {0};
    struct homing_scan_result *r = NULL;
    assert_int_equal(homing_scan_message(m, strlen(m), &o, &r), -ELOOP);
    assert_null(r);
    char *out = NULL;
    size_t outlen = 0;
    assert_int_equal(homing_strip_message(m, strlen(m), &o, &out, &outlen, NULL), -ELOOP);
    assert_null(out);
    free(past);
    past = nested("To", HOMING_MIME_ADDR_DEPTH_MAX, 0);
    snprintf(m, cap, "From: a@example.org\n%s\nContent-Type: text/plain\n\nhi\n", past);
    assert_int_equal(homing_scan_message(m, strlen(m), &o, &r), 0);
    assert_int_equal(r->n, 0); /* parsed: the groups hold the only mailbox */
    homing_scan_result_free(r);
    free(past);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_depth),
        cmocka_unit_test(test_colons),
        cmocka_unit_test(test_message),
        cmocka_unit_test(test_scan_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
