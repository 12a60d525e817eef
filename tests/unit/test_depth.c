/*
 * test_depth.c: lib/html/depth.c, the model of the tree builder that bounds
 * nesting and work before gumbo parses: sloppy but flat mail stays flat
 * (implied end tags), the limit is exact, misnested and reopened elements are
 * counted as the builder nests them, foreign content is not text, the work
 * limit stops a shallow-enough saw-tooth, and scan and strip act on -EMLINK.
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
#include "lib/html/depth_int.h"

static long depth_of(const char *html)
{
    struct html_depth d;
    int r = html_depth_check(html, strlen(html), &d);
    return r < 0 ? r : (long)d.max_depth;
}

static char *repeat(const char *pre, const char *unit, size_t n, const char *post)
{
    size_t ul = strlen(unit);
    char *s = malloc(strlen(pre) + ul * n + strlen(post) + 1), *p = s;
    assert_non_null(s);
    p = stpcpy(p, pre);
    for (size_t i = 0; i < n; i++) p = stpcpy(p, unit);
    strcpy(p, post);
    return s;
}

static long depth_rep(const char *pre, const char *unit, size_t n, const char *post)
{
    char *s = repeat(pre, unit, n, post);
    long d = depth_of(s);
    free(s);
    return d;
}

static void test_flat(void **state)
{
    (void)state;
    assert_int_equal(depth_of(""), 0);
    assert_int_equal(depth_of("<html><head><title>x</title></head><body><p>x</body></html>"), 1);
    assert_int_equal(depth_rep("", "<p>x", 5000, ""), 1);
    assert_int_equal(depth_rep("<ul>", "<li>x", 5000, "</ul>"), 2);
    assert_int_equal(depth_rep("<dl>", "<dt>x<dd>y", 3000, ""), 2);
    assert_int_equal(depth_rep("<select>", "<option>x", 5000, ""), 2);
    assert_int_equal(depth_rep("<table>", "<tr><td>x<td>y", 3000, "</table>"), 4);
    assert_int_equal(depth_rep("<table>", "<tbody><tr><th>x", 3000, ""), 4);
    assert_int_equal(depth_rep("", "<table><tr><td>x</table>", 3000, ""), 4);
    assert_int_equal(depth_rep("", "<h1>x<h2>y", 3000, ""), 1);
    assert_int_equal(depth_rep("", "<div><p>x</div>", 3000, ""), 2);
    /* unclosed formatting in each paragraph: at most three identical reopen */
    assert_true(depth_rep("", "<p><font face=a>x", 3000, "") <= 6);
    assert_true(depth_rep("", "<a href=x>y", 3000, "") <= 2);
    assert_int_equal(depth_rep("<svg>", "<path d=\"1\"/>", 3000, "</svg>"), 1);
    /* void elements and text modes */
    assert_int_equal(depth_rep("", "<br><img src=x><input>", 3000, ""), 0);
    assert_int_equal(depth_rep("<style>", "<div>", 3000, "</style>"), 1);
    assert_int_equal(depth_rep("<textarea>", "<div>", 3000, ""), 1);
}

static void test_limit(void **state)
{
    (void)state;
    assert_int_equal(depth_rep("", "<div>", HOMING_SCAN_HTML_NEST_MAX, ""),
                     HOMING_SCAN_HTML_NEST_MAX);
    assert_int_equal(depth_rep("", "<div>", HOMING_SCAN_HTML_NEST_MAX + 1, ""), -EMLINK);
    assert_int_equal(depth_rep("", "<table><tr><td>", HOMING_SCAN_HTML_NEST_MAX / 3, ""), -EMLINK);
    assert_int_equal(depth_rep("", "<b><i>", HOMING_SCAN_HTML_NEST_MAX / 2 + 1, ""), -EMLINK);
    assert_int_equal(depth_rep("", "<custom-el>", HOMING_SCAN_HTML_NEST_MAX + 1, ""), -EMLINK);
    /* closed again, the same elements are shallow */
    char *s = repeat("", "<div>", HOMING_SCAN_HTML_NEST_MAX, "");
    char *t = repeat(s, "</div>", HOMING_SCAN_HTML_NEST_MAX, "<div>x</div>");
    assert_int_equal(depth_of(t), HOMING_SCAN_HTML_NEST_MAX);
    free(s);
    free(t);
}

static void test_builder_nests(void **state)
{
    (void)state;
    /* an end tag does not close past a special element */
    assert_int_equal(depth_rep("", "<span><div></span>", 600, ""), -EMLINK);
    /* formatting elements closed by </p> are reopened at the next text */
    char unit[4096] = "<p>", *p = unit + 3;
    for (int i = 0; i < 40; i++) p += sprintf(p, "<b id=%d>", i);
    strcpy(p, "</p>x");
    assert_int_equal(depth_rep("", unit, 30, ""), -EMLINK);
    /* ... and the adoption agency never makes the stack shallower */
    assert_int_equal(depth_rep("", "<b><div></b>", 1100, ""), -EMLINK);
    /* foreign content: no text modes, and self-closing is HTML again past an
     * integration point or a tag that breaks out */
    assert_int_equal(depth_rep("<svg><style>", "<div>", HOMING_SCAN_HTML_NEST_MAX + 1, ""),
                     -EMLINK);
    assert_int_equal(depth_rep("<svg><foreignObject>", "<x/>", HOMING_SCAN_HTML_NEST_MAX + 1, ""),
                     -EMLINK);
    assert_int_equal(depth_rep("", "<svg><div/>", HOMING_SCAN_HTML_NEST_MAX + 1, ""), -EMLINK);
    assert_int_equal(depth_rep("<math><annotation-xml encoding=\"text/html\">", "<x/>",
                               HOMING_SCAN_HTML_NEST_MAX + 1, ""),
                     -EMLINK);
    /* a frameset is refused outright, wherever it is */
    assert_int_equal(depth_of("t<frameset><frame>"), -EMLINK);
    assert_int_equal(depth_of("<svg><frameset></frameset></svg>"), 2); /* an SVG element */
    /* names past the tokenizer's length are unknown tags to gumbo, and every
     * unknown end tag closes the topmost unknown element: <y> by </x> */
    char x[71], lng[200];
    memset(x, 'x', 70);
    x[70] = '\0';
    snprintf(lng, sizeof lng, "<%sa></%sb>", x, x);
    assert_int_equal(depth_rep("", lng, 100, ""), 1);
    assert_int_equal(depth_rep("", "<x><y></x>", HOMING_SCAN_HTML_NEST_MAX + 1, ""), -EMLINK);
}

static void test_work(void **state)
{
    (void)state;
    /* 1000 deep, well under the nesting limit, but the work adds up */
    char *saw = repeat("", "<div>", 1000, "");
    char *u = repeat(saw, "</div>", 1000, "");
    struct html_depth d;
    assert_int_equal(html_depth_check(u, strlen(u), &d), 0);
    assert_int_equal(d.max_depth, 1000);
    size_t n = HOMING_SCAN_HTML_WORK_MAX / d.work + 2;
    char *all = repeat("", u, n, "");
    assert_int_equal(html_depth_check(all, strlen(all), &d), -EMLINK);
    free(saw);
    free(u);
    free(all);
    /* an end tag searched for through a deep stack is work too */
    char *deep = repeat("", "<div>", 1000, "");
    char *tail = repeat(deep, "</p>", HOMING_SCAN_HTML_WORK_MAX / 1000, "");
    assert_int_equal(html_depth_check(tail, strlen(tail), &d), -EMLINK);
    free(deep);
    free(tail);
}

static void test_scan_strip(void **state)
{
    (void)state;
    char *s = repeat("", "<div>", 100000, "<img src=http://t.example/p.gif width=1 height=1>");
    struct homing_scan_options o = {0};
    struct homing_scan_result *res = calloc(1, sizeof *res);
    assert_non_null(res);
    assert_int_equal(homing_scan_html(s, strlen(s), &o, NULL, "1", res), 0);
    assert_true(res->truncated);
    assert_int_equal(res->n, 0);
    homing_scan_result_free(res);
    struct homing_buf out;
    homing_buf_init(&out, HOMING_SCAN_HTML_MAX * 2);
    struct homing_strip_stats st = {0};
    assert_int_equal(homing_strip_html(s, strlen(s), &o, &out, &st), -EMLINK);
    assert_int_equal(out.len, 0);
    homing_buf_free(&out);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat),          cmocka_unit_test(test_limit),
        cmocka_unit_test(test_builder_nests), cmocka_unit_test(test_work),
        cmocka_unit_test(test_scan_strip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
