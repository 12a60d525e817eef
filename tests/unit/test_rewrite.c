/*
 * test_rewrite.c: lib/track/rewrite.c and rewrite_text.c: the sites found in
 * HTML and plain text, byte-for-byte preservation outside them, entity
 * decoding of destinations, the skip rules and where the pixel goes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/track/rewrite_int.h"

#define BASE "https://t.example.com"

/* Splices the sites into the input with a fixed click URL "C" and pixel URL
 * "P", the way lib/track/track.c does with real tokens. */
static char *apply(const char *in, const struct rewrite_list *l)
{
    struct homing_buf b;
    homing_buf_init(&b, 1 << 20);
    size_t pos = 0;
    int top = 0; /* a top pixel: the end site adds nothing (no document links here) */
    for (size_t i = 0; i < l->n; i++) top |= l->v[i].kind == REWRITE_PIXEL_TOP;
    for (size_t i = 0; i < l->n; i++) {
        const struct rewrite_site *s = &l->v[i];
        assert_true(s->start >= pos);
        assert_int_equal(homing_buf_append(&b, in + pos, s->start - pos), 0);
        if (s->kind == REWRITE_PIXEL_TOP || (s->kind == REWRITE_PIXEL && !top))
            assert_int_equal(rewrite_put_pixel(&b, "P"), 0);
        else if (s->kind == REWRITE_PIXEL)
            ;
        else if (s->kind == REWRITE_REFUSED) /* left as written */
            assert_int_equal(homing_buf_append(&b, in + s->start, s->end - s->start), 0);
        else
            assert_int_equal(rewrite_put_link(&b, s, "C"), 0);
        pos = s->end;
    }
    assert_int_equal(homing_buf_append(&b, in + pos, strlen(in) - pos), 0);
    return homing_buf_steal(&b);
}

static char *html_out(const char *in, int pixel, struct rewrite_list *l)
{
    memset(l, 0, sizeof *l);
    assert_int_equal(rewrite_html(in, strlen(in), BASE, pixel, l), 0);
    return apply(in, l);
}

#define PIXEL "<img src=\"P\" " REWRITE_PIXEL_ATTRS " />"

static void test_preserves_bytes(void **state)
{
    (void)state;
    const char *in = "<!DOCTYPE html>\n<HTML><Body BGCOLOR=#fff>\n"
                     "<!-- a comment with <a href=\"https://in.comment/\"> -->\n"
                     "<table  width=600><tr><td><A  HREF = \"https://x.example/a\" class=b>x</A>\n"
                     "<a href='https://x.example/b'>y</a> <a href=https://x.example/c>z</a>"
                     "&nbsp;&copy; <p>unclosed\n</BODY>\n</HTML>\n";
    const char *want = "<!DOCTYPE html>\n<HTML><Body BGCOLOR=#fff>\n"
                       "<!-- a comment with <a href=\"https://in.comment/\"> -->\n"
                       "<table  width=600><tr><td><A  HREF = \"C\" class=b>x</A>\n"
                       "<a href='C'>y</a> <a href=C>z</a>"
                       "&nbsp;&copy; <p>unclosed\n" PIXEL "</BODY>\n</HTML>\n";
    struct rewrite_list l;
    char *out = html_out(in, 1, &l);
    assert_string_equal(out, want);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0].url, "https://x.example/a");
    assert_int_equal(l.v[0].quote, '"');
    assert_int_equal(l.v[1].quote, '\'');
    assert_int_equal(l.v[2].quote, 0);
    assert_string_equal(l.v[2].url, "https://x.example/c");
    free(out);
    rewrite_list_free(&l);
}

static void test_entities_and_trimming(void **state)
{
    (void)state;
    const char *in = "<a href=\"https://x.example/?a=1&amp;b=2&lt;\">1</a>"
                     "<a href=\"https&#58;//y.example/&#x41;\">2</a>"
                     "<a href=\" \n https://z.example/p\tq\n \">3</a>"
                     "<a href=\"https://w.example/?q=&quot;x&quot;\">4</a>";
    struct rewrite_list l;
    char *out = html_out(in, 0, &l);
    assert_int_equal(l.n, 4);
    /* in the form homing_url_check writes (as a browser sends it too) */
    assert_string_equal(l.v[0].url, "https://x.example/?a=1&b=2%3C");
    assert_string_equal(l.v[1].url, "https://y.example/A");
    assert_string_equal(l.v[2].url, "https://z.example/pq");
    assert_string_equal(l.v[3].url, "https://w.example/?q=%22x%22");
    assert_string_equal(out, "<a href=\"C\">1</a><a href=\"C\">2</a><a href=\"C\">3</a>"
                             "<a href=\"C\">4</a>");
    free(out);
    rewrite_list_free(&l);
}

static void test_skip_rules(void **state)
{
    (void)state;
    const char *in = "<a href=\"mailto:a@b.example\">m</a>"
                     "<a href=\"tel:+15555550100\">t</a>"
                     "<a href=\"#top\">f</a>"
                     "<a href=\"cid:img1@x\">c</a>"
                     "<a href=\"/relative\">r</a>"
                     "<a href=\"javascript:alert(1)\">j</a>"
                     "<a href=\"ftp://files.example/\">ftp</a>"
                     "<a href=\"\">e</a><a>none</a>"
                     "<a href=\"https://t.example.com/c/abc\">ours</a>"
                     "<a href=\"HTTPS://T.EXAMPLE.COM\">ours too</a>"
                     "<a href=\"https://t.example.com.evil.example/\">not ours</a>"
                     "<a href=\"https://k.example/\" data-homing=\"notrack\">n</a>"
                     "<a href=\"https://k.example/2\" DATA-HOMING=' NoTrack '>n</a>"
                     "<a href=\"https://k.example/3\" data-homing=\"other\">tracked</a>"
                     "<a href=\"http:\">bare</a>";
    struct rewrite_list l;
    char *out = html_out(in, 0, &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].url, "https://t.example.com.evil.example/");
    assert_string_equal(l.v[1].url, "https://k.example/3");
    free(out);
    rewrite_list_free(&l);

    char *u = NULL;
    assert_int_equal(rewrite_url_trackable("https://t.example.com/", 22, BASE "/", &u, NULL), 0);
    assert_int_equal(rewrite_url_trackable("http://a.example", 16, BASE, &u, NULL), 1);
    assert_string_equal(u, "http://a.example");
    free(u);
}

/* Issue 11: what a browser strips (C0 and space at the ends, TAB, LF and CR
 * inside) is stripped; a link with any other control character left inside,
 * or another thing homing_url_check refuses, is a REFUSED site: left as
 * written, with the reason. What is tracked is in homing_url_check's form. */
static void test_refused_links(void **state)
{
    (void)state;
    const char *in =
        "<a href=\"https://a.example/&#13;&#10;Set-Cookie: x=1\">crlf, as a browser</a>"
        "<a href=\"&#12; https://b.example/ &#12;\">ends</a>"
        "<a href=\"https://c.example/&#11;x\">vt</a>"
        "<a href=\"https://d.example/&#12;x\">ff</a>"
        "<a href=\"https://e.example/&#27;[31m\">esc</a>" /* &#x81;: U+0081, one of the C1
                                                             references the standard keeps */
        "<a href=\"https://f.example/&#x81;x\">nel</a>"
        "<a href=\"https://g.example\\@evil.example/\">backslash</a>"
        "<a href=\"https://bank.example@evil.example/\">userinfo</a>"
        "<a href=\"https://exa mple.example/\">space in host</a>"
        "<a href=\"https://h.example/caf&eacute; x\">encoded</a>";
    struct rewrite_list l;
    char *out = html_out(in, 0, &l);
    assert_int_equal(l.n, 10);
    assert_int_equal(l.v[0].kind, REWRITE_LINK);
    assert_string_equal(l.v[0].url, "https://a.example/Set-Cookie:%20x=1");
    assert_int_equal(l.v[1].kind, REWRITE_LINK);
    assert_string_equal(l.v[1].url, "https://b.example/");
    static const char *const why[] = {
        "a control character", "a control character", "a control character",
        "a control character", "a backslash",         "a user name or password before the host",
        "a bad host name"};
    for (size_t i = 2; i < 9; i++) {
        assert_int_equal(l.v[i].kind, REWRITE_REFUSED);
        assert_string_equal(l.v[i].why, why[i - 2]);
    }
    assert_string_equal(l.v[2].url, "https://c.example/\x0bx");
    assert_int_equal(l.v[9].kind, REWRITE_LINK);
    assert_string_equal(l.v[9].url, "https://h.example/caf%C3%A9%20x");
    /* the refused ones are as they were, byte for byte */
    const char *want = "<a href=\"C\">crlf, as a browser</a><a href=\"C\">ends</a>"
                       "<a href=\"https://c.example/&#11;x\">vt</a>"
                       "<a href=\"https://d.example/&#12;x\">ff</a>"
                       "<a href=\"https://e.example/&#27;[31m\">esc</a>"
                       "<a href=\"https://f.example/&#x81;x\">nel</a>"
                       "<a href=\"https://g.example\\@evil.example/\">backslash</a>"
                       "<a href=\"https://bank.example@evil.example/\">userinfo</a>"
                       "<a href=\"https://exa mple.example/\">space in host</a>"
                       "<a href=\"C\">encoded</a>";
    assert_string_equal(out, want);
    free(out);
    rewrite_list_free(&l);

    /* plain text: the same check */
    const char *txt = "see https://a.example/x\\y and http://u@b.example/ and https://c.example/ok";
    memset(&l, 0, sizeof l);
    assert_int_equal(rewrite_text(txt, strlen(txt), BASE, &l), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.v[0].kind, REWRITE_REFUSED);
    assert_int_equal(l.v[1].kind, REWRITE_REFUSED);
    assert_int_equal(l.v[2].kind, REWRITE_LINK);
    rewrite_list_free(&l);

    /* a refused link is reported cut to REWRITE_REFUSED_SHOWN_MAX bytes */
    char big[4096];
    memset(big, 'a', sizeof big);
    memcpy(big, "https://x.example/", 18);
    char *u = NULL;
    const char *w = NULL;
    assert_int_equal(rewrite_url_trackable(big, sizeof big, BASE, &u, &w), REWRITE_URL_REFUSED);
    assert_int_equal(strlen(u), REWRITE_REFUSED_SHOWN_MAX);
    assert_non_null(strstr(w, "longer than"));
    free(u);
}

static void test_area_and_conditional(void **state)
{
    (void)state;
    const char *in = "<body><map><area shape=rect href=\"https://a.example/area\"></map>"
                     "<!--[if mso]><v:roundrect href=\"https://b.example/btn?x=1&amp;y=2\" "
                     "arcsize=\"10%\"><center>Go</center></v:roundrect><![endif]-->"
                     "<!--[if !mso]><!-- --><a href=\"https://b.example/btn?x=1&amp;y=2\">Go</a>"
                     "<!--<![endif]--><!-- plain <a href=\"https://c.example/\"> --></body>";
    struct rewrite_list l;
    char *out = html_out(in, 1, &l);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0].url, "https://a.example/area");
    assert_string_equal(l.v[1].url, "https://b.example/btn?x=1&y=2");
    assert_string_equal(l.v[2].url, "https://b.example/btn?x=1&y=2");
    assert_int_equal(l.v[3].kind, REWRITE_PIXEL);
    assert_string_equal(out, "<body><map><area shape=rect href=\"C\"></map>"
                             "<!--[if mso]><v:roundrect href=\"C\" "
                             "arcsize=\"10%\"><center>Go</center></v:roundrect><![endif]-->"
                             "<!--[if !mso]><!-- --><a href=\"C\">Go</a>"
                             "<!--<![endif]--><!-- plain <a href=\"https://c.example/\"> -->" PIXEL
                             "</body>");
    free(out);
    rewrite_list_free(&l);
}

/* track.pixel_placement = top: right after the body's own start tag, when
 * nothing before it opened the body; else at the end, as with bottom. */
static void test_pixel_at_top(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"<!DOCTYPE html>\n<html><head><title>a<body>b</title>"
         "<style>body{}</style><script>var b='<body>'</script></head>\n"
         "<!-- c --><BODY class=x>\n<p>y</p></body></html>",
         "<!DOCTYPE html>\n<html><head><title>a<body>b</title>"
         "<style>body{}</style><script>var b='<body>'</script></head>\n"
         "<!-- c --><BODY class=x>" PIXEL "\n<p>y</p></body></html>"},
        {"\xef\xbb\xbf<body><p>y</p>", "\xef\xbb\xbf<body>" PIXEL "<p>y</p>"},
        /* text, or an element that is no head's, opened the body before its tag */
        {"x<body><p>y</p></body>", "x<body><p>y</p>" PIXEL "</body>"},
        {"<head><p>y</p><body>z</body>", "<head><p>y</p><body>z" PIXEL "</body>"},
        {"<html></br><body>z</body>", "<html></br><body>z" PIXEL "</body>"},
        {"<noscript></noscript><body>z</body>", "<noscript></noscript><body>z" PIXEL "</body>"},
        /* no body tag at all: at the end */
        {"<p>fragment", "<p>fragment" PIXEL},
        /* an empty body: one pixel, at the one place */
        {"<body></body>", "<body>" PIXEL "</body>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct rewrite_list l, g = {0};
        char *out = html_out(cases[i].in, REWRITE_PIXEL_AT_TOP, &l);
        assert_string_equal(out, cases[i].want);
        /* the gumbo finder agrees */
        assert_int_equal(
            rewrite_html_gumbo(cases[i].in, strlen(cases[i].in), BASE, REWRITE_PIXEL_AT_TOP, &g),
            0);
        assert_true(rewrite_list_same(&l, &g));
        free(out);
        rewrite_list_free(&l);
        rewrite_list_free(&g);
    }
}

static void test_pixel_placement(void **state)
{
    (void)state;
    struct rewrite_list l;
    char *out = html_out("<html><body><p>x</p></html>", 1, &l);
    assert_string_equal(out, "<html><body><p>x</p>" PIXEL "</html>");
    free(out);
    rewrite_list_free(&l);

    out = html_out("<p>fragment", 1, &l);
    assert_string_equal(out, "<p>fragment" PIXEL);
    free(out);
    rewrite_list_free(&l);

    /* </body> in a comment or a script is not the end of the body */
    out =
        html_out("<body><!-- </body> --><script>var s='</body>';</script>\n<p>y\n</body>\n", 1, &l);
    assert_string_equal(out, "<body><!-- </body> --><script>var s='</body>';</script>\n<p>y\n" PIXEL
                             "</body>\n");
    free(out);
    rewrite_list_free(&l);

    /* text after a first </body> is still rendered in the body: the last one
     * is where the body ends */
    out = html_out("<body>a</body>b</body>", 1, &l);
    assert_string_equal(out, "<body>a</body>b" PIXEL "</body>");
    free(out);
    rewrite_list_free(&l);

    /* no visible effect: out of the flow and of zero size (1x1 where CSS is
     * ignored), no border, no margin, no alt text to show when images are
     * blocked; browser/pixel_layout measures it */
    assert_non_null(strstr(PIXEL, "width=\"1\" height=\"1\""));
    assert_non_null(strstr(PIXEL, "alt=\"\""));
    assert_non_null(strstr(PIXEL, "position:absolute;float:left"));
    assert_non_null(strstr(PIXEL, "width:0;height:0"));
    assert_non_null(strstr(PIXEL, "border:0"));
}

static void test_misnested_links_spliced_once(void **state)
{
    (void)state;
    /* the tree builder clones <a> (adoption agency, reconstruction): the
     * clones point at the same source text and must not be spliced twice */
    const char *in = "<a href=\"https://x.example/\"><p>one<b>two</a>three</b><div>four</p>";
    struct rewrite_list l;
    char *out = html_out(in, 0, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(out, "<a href=\"C\"><p>one<b>two</a>three</b><div>four</p>");
    free(out);
    rewrite_list_free(&l);
}

/* Depth costs nothing: a link hundreds or thousands of levels down is found
 * (the gumbo reference stopped at REWRITE_HTML_DEPTH). */
static void test_deep_nesting(void **state)
{
    (void)state;
    for (size_t levels = 300; levels <= REWRITE_HTML_DEPTH + 100;
         levels += REWRITE_HTML_DEPTH - 200) {
        struct homing_buf b;
        homing_buf_init(&b, 1 << 20);
        for (size_t i = 0; i < levels; i++) assert_int_equal(homing_buf_puts(&b, "<div>"), 0);
        assert_int_equal(homing_buf_puts(&b, "<a href=\"https://x.example/deep\">x</a>"), 0);
        char *in = homing_buf_steal(&b);
        struct rewrite_list l;
        char *out = html_out(in, 0, &l);
        /* no tree, no depth: a link below REWRITE_HTML_DEPTH (where gumbo's
         * walk stopped) is found too, as a browser still follows it */
        assert_int_equal(l.n, 1);
        assert_string_equal(l.v[0].url, "https://x.example/deep");
        free(out);
        free(in);
        rewrite_list_free(&l);
    }
}

static void test_escaping_in_replacement(void **state)
{
    (void)state;
    struct rewrite_site s = {REWRITE_LINK, 0, 0, 0, 1, NULL};
    struct homing_buf b;
    homing_buf_init(&b, 1024);
    assert_int_equal(rewrite_put_link(&b, &s, "https://t/c/a&b"), 0);
    assert_string_equal(b.data, "\"https://t/c/a&amp;b\"");
    homing_buf_reset(&b);
    s.quote = '"';
    assert_int_equal(rewrite_put_link(&b, &s, "https://t/c/x\"y"), 0);
    assert_string_equal(b.data, "https://t/c/x&quot;y");
    homing_buf_reset(&b);
    s.html = 0;
    assert_int_equal(rewrite_put_link(&b, &s, "https://t/c/a&b"), 0);
    assert_string_equal(b.data, "https://t/c/a&b");
    homing_buf_free(&b);
}

static void test_text(void **state)
{
    (void)state;
    const char *in = "See https://a.example/x. Or (https://b.example/y) and "
                     "<https://c.example/z?q=1&r=2> or https://d.example/w_(v).\n"
                     "HTTP://E.EXAMPLE/UP, xhttps://no.example ftp://no.example "
                     "https://t.example.com/c/tok http://f.example/é https://\n";
    struct rewrite_list l = {0};
    assert_int_equal(rewrite_text(in, strlen(in), BASE, &l), 0);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.v[0].url, "https://a.example/x");
    assert_string_equal(l.v[1].url, "https://b.example/y");
    assert_string_equal(l.v[2].url, "https://c.example/z?q=1&r=2");
    assert_string_equal(l.v[3].url, "https://d.example/w_(v)");
    assert_string_equal(l.v[4].url, "http://E.EXAMPLE/UP");
    assert_string_equal(l.v[5].url, "http://f.example/");
    char *out = apply(in, &l);
    assert_string_equal(out, "See C. Or (C) and <C> or C.\nC, xhttps://no.example "
                             "ftp://no.example https://t.example.com/c/tok Cé https://\n");
    free(out);
    rewrite_list_free(&l);
}

/* Document placeholders (homing/track.h): a link in HTML and in text, exactly
 * {{doc:NAME}}, with nothing a name may not hold. */
static void test_doc_placeholder(void **state)
{
    (void)state;
    assert_int_equal(rewrite_doc_placeholder("{{doc:Court order.pdf}} x", 25), 23);
    assert_int_equal(rewrite_doc_placeholder("{{doc:}}", 8), 0);
    assert_int_equal(rewrite_doc_placeholder("{{doc:a}", 8), 0);
    assert_int_equal(rewrite_doc_placeholder("{{doc:a\n}}", 10), 0);
    assert_int_equal(rewrite_doc_placeholder("{{doc:a\"b}}", 11), 0);
    assert_int_equal(rewrite_doc_placeholder("{{DOC:a}}", 9), 0);
    char *u = NULL;
    assert_int_equal(rewrite_url_trackable(" {{doc:a b}} ", 13, BASE, &u, NULL), 1);
    assert_string_equal(u, "{{doc:a b}}");
    free(u);
    struct rewrite_list l;
    char *out = html_out("<a href=\"{{doc:Notice}}\">n</a><a href=\"{{doc:}}\">x</a>", 0, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].url, "{{doc:Notice}}");
    assert_string_equal(out, "<a href=\"C\">n</a><a href=\"{{doc:}}\">x</a>");
    free(out);
    rewrite_list_free(&l);
    const char *in = "Papers: {{doc:Notice A}}, and {{doc:bad\n}} https://a.example/x {";
    memset(&l, 0, sizeof l);
    assert_int_equal(rewrite_text(in, strlen(in), BASE, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].url, "{{doc:Notice A}}");
    assert_string_equal(l.v[1].url, "https://a.example/x");
    out = apply(in, &l);
    assert_string_equal(out, "Papers: C, and {{doc:bad\n}} C {");
    free(out);
    rewrite_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preserves_bytes),
        cmocka_unit_test(test_entities_and_trimming),
        cmocka_unit_test(test_skip_rules),
        cmocka_unit_test(test_refused_links),
        cmocka_unit_test(test_area_and_conditional),
        cmocka_unit_test(test_pixel_placement),
        cmocka_unit_test(test_misnested_links_spliced_once),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_escaping_in_replacement),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_pixel_at_top),
        cmocka_unit_test(test_doc_placeholder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
