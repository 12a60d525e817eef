/*
 * test_rewrite_diff.c: rewrite_html (our tokenizer) against rewrite_html_gumbo
 * (gumbo's tree, what it replaced) on every file of the repository's corpora
 * (tests/data, fuzz/corpus): each file read as HTML, and each text/html part
 * of it read as a message, as `homing track` reads it. The two must find the
 * same sites: the same ranges, quotes, destinations and pixel place. Also a
 * few hand-made documents for the corners the corpus does not reach.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lib/mime/addr_check_int.h"
#include "lib/track/rewrite_int.h"
#include "lib/track/track_int.h"

#define BASE "https://t.example.com"

static size_t n_docs, n_sites, n_tops;
static const char *current;

static void dump(const char *what, const struct rewrite_list *l)
{
    fprintf(stderr, "  %s: %zu sites\n", what, l->n);
    for (size_t i = 0; i < l->n; i++)
        fprintf(stderr, "    kind %d [%zu,%zu) quote %d url %s\n", l->v[i].kind, l->v[i].start,
                l->v[i].end, l->v[i].quote, l->v[i].url ? l->v[i].url : "-");
}

/* Both finders over one document, with and without the pixel. */
static int check_doc(void *ctx, const char *html, size_t len)
{
    (void)ctx;
    for (int pixel = 0; pixel < 2; pixel++) {
        struct rewrite_list a = {0}, b = {0};
        int ra = rewrite_html(html, len, BASE, pixel, &a);
        int rb = rewrite_html_gumbo(html, len, BASE, pixel, &b);
        if (ra != rb || !rewrite_list_same(&a, &b)) {
            fprintf(stderr, "%s: %zu bytes, pixel %d: tokenizer %d, gumbo %d\n", current, len,
                    pixel, ra, rb);
            dump("tokenizer", &a);
            dump("gumbo", &b);
            fail();
        }
        n_sites += a.n;
        rewrite_list_free(&a);
        rewrite_list_free(&b);
    }
    /* the top pixel's place, when the tokenizer finds one, is gumbo's */
    size_t top = rewrite_body_start(html, len), gtop = rewrite_gumbo_body_start(html, len);
    int bom = len >= 3 && memcmp(html, "\xef\xbb\xbf", 3) == 0; /* gumbo: text; a browser: none */
    if (top != SIZE_MAX && !bom && top != gtop) {
        fprintf(stderr, "%s: %zu bytes: body starts at %zu, gumbo %zu\n", current, len, top, gtop);
        fail();
    }
    n_tops += top != SIZE_MAX;
    n_docs++;
    return 0;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *b2 = realloc(buf, cap *= 2);
            if (!b2) free(buf);
            buf = b2;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void walk(const char *dir, size_t *files)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n >= 0);
    for (int i = 0; i < n; i++) {
        char path[4096];
        const char *nm = names[i]->d_name;
        if (nm[0] == '.') {
            free(names[i]);
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, nm);
        free(names[i]);
        struct stat st;
        if (stat(path, &st) < 0) continue;
        if (S_ISDIR(st.st_mode)) {
            walk(path, files);
            continue;
        }
        size_t len = 0;
        char *data = read_all(path, &len);
        assert_non_null(data);
        current = path;
        check_doc(NULL, data, len);
        /* a message GMime must not parse (addresses nested past the limit,
         * fuzz/corpus/track's depth seeds) is refused before any part */
        assert_int_equal(track_html_parts(data, len, check_doc, NULL),
                         mime_addr_check(data, len) < 0 ? -ELOOP : 0);
        free(data);
        (*files)++;
    }
    free(names);
}

static void test_corpus(void **state)
{
    (void)state;
    size_t files = 0;
    walk("tests/data", &files);
    walk("fuzz/corpus", &files);
    fprintf(stderr, "%zu files, %zu documents, %zu sites, %zu body starts: the same\n", files,
            n_docs, n_sites, n_tops);
    assert_true(files > 100);
    assert_true(n_tops > 50);
}

/* Corners: raw text, comments, script escapes, references, the pixel. */
static void test_corners(void **state)
{
    (void)state;
    static const char *docs[] = {
        "<a href=\"https://x.example/?a=1&amp;b=2&copy=3&copy;&#x41;&#65&#0;&#x80;&#xD800;\">x</a>",
        "<a href='https://x.example/&notit; &notin; &amp &ampx &amp= &#xZZ &#;'>x</a>",
        "<a href=https://x.example/a&lt>x</a><a href=\"\thttps://x.example/\n\">y</a>",
        "<a href=https://x.example/\xff\xfe\xc3\x28\xe2\x82\x28\xf0\x9f\x98>x</a>",
        "<a href=\"https://x.example/\0nul\">x</a><A HREF=\"https://x.example/B\" HREF=x>",
        "<a data-homing=\" NoTrack \" href=https://x.example/>x</a><area href=https://y/>",
        "<!-->\n<a href=https://x.example/1><!---><a href=https://x.example/2>"
        "<!-- --!> <a href=https://x.example/3> <!-- -- > --> <a href=https://x.example/4>",
        "<? <a href=https://x.example/1> > </3 <a href=https://x.example/2> >"
        "<!x <a href=https://x.example/3> > <![CDATA[ <a href=https://x.example/4> ]]>",
        "<script><!--<script></script><a href=https://x.example/1></script>--></script>"
        "<a href=https://x.example/2><script><!-- --></script><a href=https://x.example/3>",
        "<style></body><a href=https://x.example/1></style><title><a href=x></title>"
        "<textarea></TEXTAREA ><a href=https://x.example/2><xmp></xmp ><noscript>"
        "<a href=https://x.example/3></noscript>",
        "<html><body><table><tr><td>x</body></html>",
        "<html><body><p>x</body><p>after</body></html>",
        "<html><body><!-- </body> --><style></body></style></html>",
        "<body><select><a href=https://x.example/1></select><a href=https://x.example/2>",
        "<!--[if mso]><v:roundrect href=\"https://x.example/v\"><a "
        "href=https://x.example/a></a><![endif]--><a href=https://x.example/b>",
        "<!--[if !mso]><!--><a href=https://x.example/c><!--<![endif]-->",
        "<a href=https://x.example/cut",
        "<a href=\"https://x.example/unterminated>x</a>",
        "<plaintext><a href=https://x.example/1></body>",
        "<a href=\"{{doc:report.pdf}}\">r</a><a href=\"" BASE "/c/x\">t</a>",
        /* found by fuzz_rewrite_diff */
        "<table><select><td><a href=http://x>",
        "<table><tr><td><select></td><a href=http://a>",
        "M</></body>",
        "x</></><!--[if mso]><a href=https://x.example/m><![endif]-->",
    };
    current = "corners";
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        check_doc(NULL, docs[i], strlen(docs[i]));
    }
    static const char nul[] = "<a href=\"https://x.example/\0nul\">x</a>";
    check_doc(NULL, nul, sizeof nul - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corners),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
