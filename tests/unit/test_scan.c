/*
 * test_scan.c: unit tests of the tracker knowledge file, URL judgement, CSS
 * walking, HTML scanning and splicing (lib/scan/trackers.c, lib/scan/scan*.c,
 * lib/scan/strip.c). Whole messages are covered by tests/integration/test_scan.py.
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

#include "lib/scan/scan_int.h"
#include "homing/scan.h"
#include "homing/trackers.h"
#include "homing_build.h"

static const char kb[] =
    "# comment\n"
    "Mailchimp\tlist-manage.com\t/track/open.php\tpixel\tmixed\t-\tdocs\tCC0-1.0\n"
    "SendGrid\tct.sendgrid.net\t*\tboth\tlinks\t-\tdocs\tCC0-1.0\n"
    "Litmus\temltrk.com\t*\tpixel\tonly\t-\tdocs\tCC0-1.0\n"
    "Google\tgoogle.com\t/url\tclick\tmixed\tq\tdocs\tCC0-1.0\n"
    "Vendor\texample-esp.com\t*\tboth\tmixed\t-\tdocs\tCC0-1.0\n"
    "phpList\t*\t*/ut.php\tpixel\tmixed\t-\tdocs\tCC0-1.0\n";

static struct homing_trackers *load_kb(void)
{
    struct homing_trackers *t = NULL;
    char err[256];
    assert_int_equal(homing_trackers_parse(kb, strlen(kb), &t, err, sizeof err), 0);
    return t;
}

static void test_trackers_parse_and_match(void **state)
{
    (void)state;
    struct homing_trackers *t = load_kb();
    assert_int_equal(homing_trackers_count(t), 6);
    assert_int_equal(homing_trackers_vendor_count(t), 6);
    const struct homing_tracker_rule *r =
        homing_trackers_match(t, "us1.list-manage.com", "/track/open.php", HOMING_TRACKER_PIXEL);
    assert_non_null(r);
    assert_string_equal(r->vendor, "Mailchimp");
    assert_null(
        homing_trackers_match(t, "us1.list-manage.com", "/subscribe", HOMING_TRACKER_PIXEL));
    assert_non_null(
        homing_trackers_match(t, "u1.ct.sendgrid.net", "/ls/click", HOMING_TRACKER_CLICK));
    assert_null(homing_trackers_match(t, "notct.sendgrid.net", "/", HOMING_TRACKER_CLICK));
    /* mixed with path * names the vendor only */
    assert_null(homing_trackers_match(t, "img.example-esp.com", "/a.png", HOMING_TRACKER_PIXEL));
    assert_string_equal(homing_trackers_vendor(t, "img.example-esp.com")->vendor, "Vendor");
    r = homing_trackers_match(t, "news.shop.example", "/lists/ut.php", HOMING_TRACKER_PIXEL);
    assert_non_null(r);
    assert_string_equal(r->vendor, "phpList");
    homing_trackers_free(t);
}

static void test_trackers_errors(void **state)
{
    (void)state;
    struct homing_trackers *t = NULL;
    char err[256];
    const char *bad[] = {
        "V\thost.com\t*\tpixel\tonly\t-\ts\n",       /* 7 fields */
        "V\tHOST.com\t*\tpixel\tonly\t-\ts\tl\n",    /* upper case */
        "V\thost.com\t*\tjump\tonly\t-\ts\tl\n",     /* role */
        "V\thost.com\t*\tboth\tonly\t-\ts\tl\n",     /* only + click */
        "V\t*\t*\tpixel\tmixed\t-\ts\tl\n",          /* any host any path */
        "V\thost.com\tx\tpixel\tmixed\t-\ts\tl\n",   /* path */
        "V\thost.com\t*\tpixel\tmixed\tb@d\ts\tl\n", /* param */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[256];
        snprintf(text, sizeof text, "# c\n%s", bad[i]);
        assert_int_equal(homing_trackers_parse(text, strlen(text), &t, err, sizeof err), -EINVAL);
        assert_null(t);
        assert_memory_equal(err, "line 2: ", 8);
    }
}

static void test_shipped_file(void **state)
{
    (void)state;
    struct homing_trackers *t = NULL;
    char err[512];
    assert_int_equal(homing_trackers_load(HOMING_SRC_DATADIR "/trackers.tsv", &t, err, sizeof err),
                     0);
    assert_true(homing_trackers_vendor_count(t) >= 300);
    homing_trackers_free(t);
}

static void test_unwrap(void **state)
{
    (void)state;
    struct homing_trackers *t = load_kb();
    char *dest = NULL, why[256];
    assert_int_equal(
        scan_url_unwrap(t,
                        "https://www.google.com/url?q=https%3A%2F%2Fexample.org%2Fa%3Fb%3D1&sa=D",
                        &dest, why, sizeof why),
        1);
    assert_string_equal(dest, "https://example.org/a?b=1");
    free(dest);
    assert_int_equal(
        scan_url_unwrap(
            t, "https://r.us-east-1.awstrack.me/L0/https:%2F%2Fshop.example%2Fsale/1/0100-abc",
            &dest, why, sizeof why),
        1);
    assert_string_equal(dest, "https://shop.example/sale");
    free(dest);
    /* a share link is not a wrapper */
    assert_int_equal(scan_url_unwrap(t, "https://www.facebook.com/sharer.php?u=https://a.example/",
                                     &dest, why, sizeof why),
                     0);
    homing_trackers_free(t);
}

static void test_leak(void **state)
{
    (void)state;
    struct scan_needles nd;
    char why[256];
    assert_int_equal(scan_needles_init(&nd, "Alice.Smith@Example.org"), 0);
    assert_true(scan_leak(&nd, "https://t.example/o?e=alice.smith%40example.org", why, sizeof why));
    assert_string_equal(why, "address percent-encoded in the query");
    /* base64 of alice.smith@example.org */
    assert_true(
        scan_leak(&nd, "https://t.example/o/YWxpY2Uuc21pdGhAZXhhbXBsZS5vcmc", why, sizeof why));
    assert_string_equal(why, "address base64-encoded in the path");
    /* md5("alice.smith@example.org") */
    assert_true(
        scan_leak(&nd, "https://t.example/p#h=3B662366607251ADA8FDD73EE423CCDF", why, sizeof why));
    assert_string_equal(why, "md5 of the lower-cased address in the fragment");
    assert_true(scan_leak(
        &nd,
        "https://t.example/2ece82500f534e458e60ac69f9738f80cc3178f23582f1d41ee9d53a044e6793/x.gif",
        why, sizeof why));
    assert_string_equal(why, "sha256 of the local part in the path");
    assert_false(scan_leak(&nd, "https://t.example/p?x=1", why, sizeof why));
    scan_needles_free(&nd);
}

static void test_style(void **state)
{
    (void)state;
    struct scan_style s;
    scan_style_parse("width: 1px; height:1px", &s);
    assert_int_equal(s.w, 1);
    assert_int_equal(s.h, 1);
    assert_false(s.hidden);
    scan_style_parse("DISPLAY : none !important", &s);
    assert_true(s.hidden);
    scan_style_parse("position:absolute;left:-9999px", &s);
    assert_true(s.hidden);
    scan_style_parse("opacity:0.0", &s);
    assert_true(s.hidden);
    /* Escapes are decoded and comments separate tokens, as in a browser. */
    scan_style_parse("d\\69splay:n\\6f ne", &s);
    assert_true(s.hidden);
    assert_string_equal(s.why, "display:none");
    scan_style_parse("visibility:/* x */hidden", &s);
    assert_true(s.hidden);
    scan_style_parse("\\77idth:1px;he\\ight:1\\70x", &s);
    assert_int_equal(s.w, 1);
    assert_int_equal(s.h, 1);
    scan_style_parse("dis/**/play:none", &s); /* two names, neither display */
    assert_false(s.hidden);
    scan_style_parse("color:red\\3b display:none", &s); /* an escaped ';' is no delimiter */
    assert_false(s.hidden);
    scan_style_parse("font-family:'a;display:none'", &s); /* nor one in a string */
    assert_false(s.hidden);
    scan_style_parse("font-family:\"a\\\";display:none", &s);
    assert_false(s.hidden);
}

static int count_cb(void *ctx, const struct scan_css_ref *r)
{
    int *c = ctx;
    c[r->type]++;
    return 0;
}

static void test_css(void **state)
{
    (void)state;
    const char *css = "@import url(http://a.example/x.css); /* url(http://no) */"
                      "@font-face{font-family:F;src:url('http://f.example/f.woff')}"
                      "p{background:url( \"http://b.example/b.png\" ) no-repeat}"
                      "q{background-image:image-set('http://c.example/c.png' 1x)}"
                      "r{background-image:src(\"http://d.example/d.png\")}";
    int c[4] = {0};
    assert_int_equal(scan_css_walk(css, strlen(css), count_cb, c), 0);
    assert_int_equal(c[SCAN_CSS_IMPORT], 1);
    assert_int_equal(c[SCAN_CSS_FONT], 1);
    assert_int_equal(c[SCAN_CSS_URL], 1);
    assert_int_equal(c[SCAN_CSS_IMAGESET], 2);
}

/* Collects "TYPE URL [START,END)" lines of what the walker reports. */
static int list_cb(void *ctx, const struct scan_css_ref *r)
{
    char line[300];
    snprintf(line, sizeof line, "%d %s [%zu,%zu)\n", r->type, r->url, r->start, r->end);
    return homing_buf_puts(ctx, line);
}

static const char *css_list(struct homing_buf *b, const char *css, size_t len)
{
    homing_buf_reset(b);
    assert_int_equal(scan_css_walk(css, len, list_cb, b), 0);
    return b->data ? b->data : "";
}

/* src() (CSS Values 4) goes whole, like image-set; src: in @font-face is
 * a descriptor, not the function. */
static void test_css_src(void **state)
{
    (void)state;
    struct homing_buf b;
    homing_buf_init(&b, 1 << 16);
    const char *s = "x{background:src( 'http://d.example/d.png' )}";
    assert_string_equal(css_list(&b, s, strlen(s)), "3 http://d.example/d.png [13,44)\n");
    s = "@font-face{src :url(http://f.example/f.woff)}";
    assert_string_equal(css_list(&b, s, strlen(s)), "2 http://f.example/f.woff [16,44)\n");
    homing_buf_free(&b);
}

/* CSS Syntax Level 3 section 4.3.7: escapes are decoded before names are
 * compared, strings end at LF, CR and FF, and escaped syntax is not syntax. */
static void test_css_escapes(void **state)
{
    (void)state;
    struct homing_buf b;
    homing_buf_init(&b, 1 << 16);
    const char *c = "a{background:u\\72l(http://t.example/1.gif)}";
    assert_string_equal(css_list(&b, c, strlen(c)), "0 http://t.example/1.gif [13,42)\n");
    /* a hex escape eats one whitespace after it (CRLF counts as one) */
    c = "a{b:url(\\68 ttp://t.example/2.gif) c:\\75\r\nrl(x) d:\\000075rl(y)}";
    assert_string_equal(css_list(&b, c, strlen(c)),
                        "0 http://t.example/2.gif [4,34)\n0 x [37,47)\n0 y [50,62)\n");
    /* six hex digits at most: \0000075 is U+0007 then "5" */
    c = "a{b:\\0000075rl(x)}";
    assert_string_equal(css_list(&b, c, strlen(c)), "");
    /* any other escaped character is itself, also in the URL and after @ */
    c = "@\\69mport '\\68ttp://t.example/3.css';a{b:\\url(http://t.example/4\\).gif);"
        "c:ur\\l(\"http://t.example/\\e9 \\\n.gif\")}";
    assert_string_equal(css_list(&b, c, strlen(c)),
                        "1 http://t.example/3.css [0,37)\n0 http://t.example/4).gif [41,71)\n"
                        "0 http://t.example/\xc3\xa9.gif [74,109)\n");
    /* escaped quotes, braces and parentheses are not syntax */
    c = "a{font-family:x\\\"y;background:url(http://t.example/5.gif)}\\{}"
        "b{c:url\\28 http://no.example/)}";
    assert_string_equal(css_list(&b, c, strlen(c)), "0 http://t.example/5.gif [30,57)\n");
    /* CR and FF end a string as LF does; an escaped newline continues it */
    c = "a{f:\"x\rb;background:url(http://t.example/6.gif)}\"";
    assert_string_equal(css_list(&b, c, strlen(c)), "0 http://t.example/6.gif [20,47)\n");
    c = "a{f:\"x\fb;background:url(http://t.example/7.gif)}\"";
    assert_string_equal(css_list(&b, c, strlen(c)), "0 http://t.example/7.gif [20,47)\n");
    c = "a{f:\"x\\\r\nb;background:url(http://no.example/)}\"";
    assert_string_equal(css_list(&b, c, strlen(c)), "");
    /* escaped function names and strings in image-set; a backslash at the end */
    c = "a{b:-webkit-image-s\\65t(\"\\68ttp://t.example/8.gif\" 1x)}\\";
    assert_string_equal(css_list(&b, c, strlen(c)), "3 http://t.example/8.gif [4,54)\n");
    c = "a{b:image-set(u\\72l(http://t.example/9.gif) 1x)}x:url(\\";
    assert_string_equal(css_list(&b, c, strlen(c)),
                        "3 http://t.example/9.gif [4,47)\n0 \xef\xbf\xbd [50,55)\n");
    /* what a charset decides (a lead byte may swallow the backslash) is ambiguous */
    assert_false(scan_css_ambiguous("a\\72l(", 7));
    assert_true(scan_css_ambiguous("\x83\\\"", 3));
    assert_false(scan_css_ambiguous("\\x", 2));
    homing_buf_free(&b);
}

static void test_scan_html(void **state)
{
    (void)state;
    struct homing_trackers *t = load_kb();
    struct homing_scan_options o = {.trackers = t, .recipient = "bob@example.net"};
    const char *html = "<html><body><img src=\"https://news.example/o/8f3a9c2e7b1d4f60a5e3\">"
                       "<img src=\"https://cdn.example/logo.png\" width=\"200\" height=\"50\">"
                       "<img src=\"cid:logo@x\">"
                       "<img src=\"https://cdn.example/s.gif\" width=1 height=1>"
                       "<img src=\"https://cdn.example/s.gif\" width=1 height=1>"
                       "<img src=\"https://cdn.example/s.gif\" width=1 height=1>"
                       "<div style=\"display:none\"><img src=\"https://x.example/a.gif\"></div>"
                       "<a href=\"https://www.google.com/url?q=https://dest.example/\">x</a>"
                       "<a href=\"https://u1.ct.sendgrid.net/ls/click?upn=abc\">y</a>"
                       "<img src=\"https://t.example/p?e=bob@example.net\" width=600 height=100>"
                       "</body></html>";
    struct homing_scan_result *res = calloc(1, sizeof *res);
    assert_int_equal(homing_scan_html(html, strlen(html), &o, NULL, "1", res), 0);
    int kinds[HOMING_SCAN_KIND_COUNT] = {0};
    for (size_t i = 0; i < res->n; i++) kinds[res->f[i].kind]++;
    /* the id alone is no evidence: kept as a suspect for --copies */
    assert_int_equal(kinds[HOMING_SCAN_ID_IMAGE], 0);
    assert_int_equal(res->ns, 1);
    assert_string_equal(res->s[0].tok, "8f3a9c2e7b1d4f60a5e3");
    assert_int_equal(kinds[HOMING_SCAN_PIXEL], 1);
    assert_int_equal(kinds[HOMING_SCAN_WRAPPED_LINK], 1);
    assert_int_equal(kinds[HOMING_SCAN_TRACKED_LINK], 1);
    assert_int_equal(kinds[HOMING_SCAN_RECIPIENT_LEAK], 1);
    assert_int_equal(res->n, 4);
    homing_scan_result_free(res);
    homing_trackers_free(t);
}

/* Count of findings of one kind in the scan of html for bob@example.net. */
static size_t id_images(const char *html, size_t *suspects)
{
    struct homing_trackers *t = load_kb();
    struct homing_scan_options o = {.trackers = t, .recipient = "Bob@Example.net"};
    struct homing_scan_result *res = NULL;
    assert_int_equal(homing_scan_html_file(html, strlen(html), &o, &res), 0);
    size_t n = 0;
    for (size_t i = 0; i < res->n; i++)
        n += res->f[i].kind == HOMING_SCAN_ID_IMAGE || res->f[i].kind == HOMING_SCAN_CSS_BEACON;
    if (suspects) *suspects = res->ns;
    homing_scan_result_free(res);
    homing_trackers_free(t);
    return n;
}

static void test_id_evidence(void **state)
{
    (void)state;
    size_t ns;
    /* a builder's CDN image: an account id and a GUID, the same for every reader */
    assert_int_equal(id_images("<img src=\"https://cdn.example/0885a03ded3d480dca9287f12/images/"
                               "8020c1dc-518e-3bdf-6e7b-e6d1bdf1597b.jpg\">",
                               &ns),
                     0);
    assert_int_equal(ns, 1);
    assert_int_equal(id_images("<td background=\"https://cdn.example/bg/7f3e9b2a1c8d4e6f0a5b.png\">"
                               "<img src=\"https://cdn.example/7f3e9b2a1c8d4e6f0a5b/h.png\">",
                               NULL),
                     0);
    /* the address in the image's own URL: base64url, hex, SHA-256 of the lower case */
    assert_int_equal(id_images("<img src=\"https://t.example/i/01HF8Z3KQ7RM5X2N9B4VDT6YWC/"
                               "Ym9iQGV4YW1wbGUubmV0\">",
                               NULL),
                     1);
    assert_int_equal(id_images("<img src=\"https://t.example/v/626f62406578616d706c652e6e6574/"
                               "a8f3e9b2a1c8d4e6f0a5b.png\">",
                               NULL),
                     1);
    assert_int_equal(id_images("<img src=\"https://t.example/b.png?h=e7b3b708168e80fd10abb34296e98"
                               "63d4cc0c191c84b4fe934c92fce9bcfdd18\">",
                               NULL),
                     1);
    assert_int_equal(
        id_images("<img src=\"https://t.example/b.png?h=b1f4d7d7a2c5b1a4d3bbf3d45a8dd0d2e"
                  "&id=8f3a9c2e7b1d4f60a5e3\">",
                  NULL),
        0); /* a hex run that is no digest of the address */
    /* the id written next to the address in a link of the same message */
    assert_int_equal(id_images("<a href=\"https://l.example/l/01HF8Z3KQ7RM5X2N9B4VDT6YWC_"
                               "Ym9iQGV4YW1wbGUubmV0\">x</a>"
                               "<img src=\"https://t.example/open/01HF8Z3KQ7RM5X2N9B4VDT6YWC\">",
                               NULL),
                     1);
    /* ... but not when the id and the address are in different parts of the link */
    assert_int_equal(id_images("<a href=\"https://l.example/l/01HF8Z3KQ7RM5X2N9B4VDT6YWC/x?e="
                               "bob%40example.net\">x</a>"
                               "<img src=\"https://t.example/open/01HF8Z3KQ7RM5X2N9B4VDT6YWC\">",
                               NULL),
                     0);
    /* a known tracker's pattern needs no id evidence */
    assert_int_equal(id_images("<img src=\"https://us1.list-manage.com/track/open.php?u=1&id="
                               "8f3a9c2e7b1d4f60a5e3\">",
                               NULL),
                     0); /* it is a tracker-image, not an id-image */
}

/* The recipient of a message is Delivered-To, else X-Original-To, else To. */
static void test_recipient_headers(void **state)
{
    (void)state;
    struct homing_trackers *t = load_kb();
    struct homing_scan_options o = {.trackers = t};
    const char *msg = "X-Original-To: carol@example.com\nTo: list@example.org\n"
                      "From: news@example.org\nSubject: x\nMIME-Version: 1.0\n"
                      "Content-Type: text/html\n\n"
                      "<img src=\"https://t.example/i/8f3a9c2e7b1d4f60a5e3/"
                      "6361726f6c406578616d706c652e636f6d\">";
    struct homing_scan_result *res = NULL;
    assert_int_equal(homing_scan_message(msg, strlen(msg), &o, &res), 0);
    assert_string_equal(res->recipient, "carol@example.com");
    size_t ids = 0;
    for (size_t i = 0; i < res->n; i++) ids += res->f[i].kind == HOMING_SCAN_ID_IMAGE;
    assert_int_equal(ids, 1); /* the address hex-encoded names her */
    homing_scan_result_free(res);
    homing_trackers_free(t);
}

static void test_copies(void **state)
{
    (void)state;
    struct homing_scan_options o = {0};
    const char *a = "<img src=\"https://t.example/p/8f3a9c2e7b1d4f60a5e3/h.png\">"
                    "<img src=\"https://cdn.example/c/0885a03ded3d480dca9287f12/logo.png\">";
    const char *b = "<img src=\"https://t.example/p/77aa9c2e7b1d4f60a5e4/h.png\">"
                    "<img src=\"https://cdn.example/c/0885a03ded3d480dca9287f12/logo.png\">";
    struct homing_scan_result *v[3] = {NULL, NULL, NULL};
    assert_int_equal(homing_scan_html_file(a, strlen(a), &o, &v[0]), 0);
    assert_int_equal(homing_scan_html_file(b, strlen(b), &o, &v[1]), 0);
    assert_int_equal(homing_scan_html_file(a, strlen(a), &o, &v[2]), 0);
    assert_int_equal(v[0]->n + v[1]->n, 0);
    assert_int_equal(homing_scan_copies(v, 3), 3); /* the CDN logo is the same in each */
    assert_int_equal(v[0]->n, 1);
    assert_int_equal(v[0]->f[0].kind, HOMING_SCAN_ID_IMAGE);
    assert_string_equal(v[0]->f[0].url, "https://t.example/p/8f3a9c2e7b1d4f60a5e3/h.png");
    for (int i = 0; i < 3; i++) homing_scan_result_free(v[i]);
    /* two copies to one address are not compared */
    struct homing_scan_options oa = {.recipient = "a@example.org"};
    assert_int_equal(homing_scan_html_file(a, strlen(a), &oa, &v[0]), 0);
    assert_int_equal(homing_scan_html_file(b, strlen(b), &oa, &v[1]), 0);
    assert_int_equal(homing_scan_copies(v, 2), 0);
    homing_scan_result_free(v[0]);
    homing_scan_result_free(v[1]);
    /* the number of copies compared is bounded */
    struct homing_scan_result **many = calloc(HOMING_SCAN_COPIES_MAX + 1, sizeof *many);
    assert_non_null(many);
    assert_int_equal(homing_scan_copies(many, HOMING_SCAN_COPIES_MAX), 0);
    assert_int_equal(homing_scan_copies(many, HOMING_SCAN_COPIES_MAX + 1), -E2BIG);
    free(many);
}

static void test_looks_html(void **state)
{
    (void)state;
    assert_true(homing_scan_looks_html("<!doctype html><p>", 18));
    assert_true(homing_scan_looks_html("\xef\xbb\xbf \r\n<html>", 10));
    assert_false(homing_scan_looks_html("From: a@b\n\n<html>", 17));
    assert_false(homing_scan_looks_html("From a@b Mon\n", 13));
    assert_false(homing_scan_looks_html("", 0));
}

static void test_scan_text(void **state)
{
    (void)state;
    struct homing_trackers *t = load_kb();
    struct homing_scan_options o = {.trackers = t, .recipient = "bob@example.net"};
    const char *text = "See https://www.google.com/url?q=https://dest.example/a. Or\n"
                       "(https://u1.ct.sendgrid.net/ls/click?upn=x) and https://plain.example/ "
                       "and https://t.example/u?m=bob%40example.net\n";
    struct homing_scan_result *res = calloc(1, sizeof *res);
    assert_int_equal(homing_scan_text(text, strlen(text), &o, NULL, "1", res), 0);
    assert_int_equal(res->n, 3);
    assert_int_equal(res->f[0].kind, HOMING_SCAN_WRAPPED_LINK);
    assert_string_equal(res->f[0].destination, "https://dest.example/a");
    assert_int_equal(res->f[1].kind, HOMING_SCAN_TRACKED_LINK);
    assert_string_equal(res->f[1].url, "https://u1.ct.sendgrid.net/ls/click?upn=x");
    assert_int_equal(res->f[2].kind, HOMING_SCAN_RECIPIENT_LEAK);
    homing_scan_result_free(res);
    homing_trackers_free(t);
}

static void test_strip_html(void **state)
{
    (void)state;
    const char *html =
        "<p style=\"color:red\">Hi</p><img SRC='http://a.example/p.gif' alt=x>"
        "<style>@import "
        "'http://b.example/s.css';\nb{background:url(http://c.example/c.png)}</style>"
        "<a href=\"https://www.google.com/url?q=https://d.example/?a=1%26b=2\">l</a>"
        "<table><tr><td style=\"background:url(&quot;http://e.example/e.png&quot;)\">";
    struct homing_buf out;
    homing_buf_init(&out, 1 << 20);
    struct homing_strip_stats st = {0};
    assert_int_equal(homing_strip_html(html, strlen(html), NULL, &out, &st), 0);
    assert_string_equal(out.data, "<p style=\"color:red\">Hi</p><img SRC=\"about:blank\" "
                                  "data-homing-blocked-src=\"http://a.example/p.gif\" alt=x>"
                                  "<style>\nb{background:none}</style>"
                                  "<a href=\"https://d.example/?a=1&amp;b=2\">l</a>"
                                  "<table><tr><td style=\"background:none\">");
    assert_int_equal(st.unwrapped, 1);
    assert_int_equal(st.pixels + st.loads, 4);
    homing_buf_reset(&out);
    /* the tokenizer keeps the first of duplicate attributes: it must be the one neutralised */
    const char *dup = "<img src=\"http://a.example/1.gif\" src=\"http://a.example/2.gif\">";
    assert_int_equal(homing_strip_html(dup, strlen(dup), NULL, &out, &st), 0);
    assert_string_equal(out.data, "<img src=\"about:blank\" "
                                  "data-homing-blocked-src=\"http://a.example/1.gif\" "
                                  "src=\"http://a.example/2.gif\">");
    homing_buf_reset(&out);
    /* CSS escapes spelling url( are decoded: only the load goes, the rest stays */
    const char *esc = "<style>p{color:red;background:u\\72l(http://a.example/x.png)}</style>"
                      "<p style=\"color:\\72 ed;background:\\75 rl(http://a.example/y.png)\">t</p>";
    assert_int_equal(homing_strip_html(esc, strlen(esc), NULL, &out, &st), 0);
    assert_string_equal(out.data, "<style>p{color:red;background:none}</style>"
                                  "<p style=\"color:\\72 ed;background:none\">t</p>");
    homing_buf_reset(&out);
    /* a backslash after a non-ASCII byte depends on the charset: the CSS goes whole */
    const char *amb = "<style>p{font-family:\"\x95\\\";b:url(http://a.example/z.png)}</style>"
                      "<p style=\"font-family:\x95\\;b:url(http://a.example/z.png)\">t</p>";
    assert_int_equal(homing_strip_html(amb, strlen(amb), NULL, &out, &st), 0);
    assert_string_equal(out.data, "<style></style><p style=\"\">t</p>");
    homing_buf_reset(&out);
    /* SVG <style> is not RAWTEXT: references, CDATA and elements join its CSS */
    const char *svg = "<svg><style>p{background:&#117;rl(http://a.example/1.png)}</style>"
                      "<style>p{background:u<x></x>rl(http://a.example/2.png)}</style>"
                      "<style><![CDATA[p{background:url(http://a.example/3.png)}]]></style>"
                      "<style>circle{fill:red}</style></svg>";
    assert_int_equal(homing_strip_html(svg, strlen(svg), NULL, &out, &st), 0);
    assert_string_equal(out.data, "<svg><style></style><style><x></x></style><style></style>"
                                  "<style>circle{fill:red}</style></svg>");
    homing_buf_reset(&out);
    /* deeper than the walk goes: refused, since a browser still loads what is there */
    struct homing_buf deep;
    homing_buf_init(&deep, 1 << 20);
    for (int i = 0; i <= HOMING_SCAN_HTML_DEPTH_MAX; i++) homing_buf_puts(&deep, "<div>");
    homing_buf_puts(&deep, "<img src=\"http://a.example/deep.gif\">");
    assert_int_equal(homing_strip_html(deep.data, deep.len, NULL, &out, &st), -E2BIG);
    homing_buf_free(&deep);
    homing_buf_free(&out);
}

/* text/plain: wrapped URLs become their destinations, every other byte stays */
static void test_strip_text(void **state)
{
    (void)state;
    struct homing_trackers *t = load_kb();
    struct homing_scan_options o = {.trackers = t};
    struct homing_buf out;
    homing_buf_init(&out, 1 << 20);
    struct homing_strip_stats st = {0};
    const char *text =
        "See https://www.google.com/url?q=https://dest.example/a&sa=D. Or\r\n"
        "(https://u1.ct.sendgrid.net/ls/click?upn=x) and <https://plain.example/>\r\n"
        "HTTPS://WWW.GOOGLE.COM/url?q=https%3A%2F%2Fd.example%2F%22q%3C%3E.\r\n"
        "end: https://www.google.com/url?q=https://dest.example/b%2E";
    assert_int_equal(homing_strip_text(text, strlen(text), &o, 0, &out, &st), 0);
    assert_string_equal(
        out.data, "See https://dest.example/a. Or\r\n"
                  "(https://u1.ct.sendgrid.net/ls/click?upn=x) and <https://plain.example/>\r\n"
                  "https://d.example/%22q%3C%3E.\r\n"
                  "end: https://dest.example/b%2E");
    assert_int_equal(st.unwrapped, 3);
    assert_int_equal(st.text_parts, 1);
    /* nothing to unwrap: the same bytes, no part counted */
    homing_buf_reset(&out);
    const char *plain = "Lunch? https://maps.example/place/42\n\x00\xff";
    assert_int_equal(homing_strip_text(plain, 39, &o, 0, &out, &st), 0);
    assert_int_equal(out.len, 39);
    assert_memory_equal(out.data, plain, 39);
    assert_int_equal(st.text_parts, 1);
    /* format=flowed, DelSp=yes: a URL before a soft line break may go on, so it stays */
    const char *flowed = "https://www.google.com/url?q=https://dest.example/lo \r\nng&sa=D\r\n";
    homing_buf_reset(&out);
    assert_int_equal(homing_strip_text(flowed, strlen(flowed), &o, 1, &out, &st), 0);
    assert_string_equal(out.data, flowed);
    homing_buf_reset(&out);
    assert_int_equal(homing_strip_text(flowed, strlen(flowed), &o, 0, &out, &st), 0);
    assert_string_equal(out.data, "https://dest.example/lo \r\nng&sa=D\r\n");
    /* a URL cut at the limit has no known end: left whole */
    struct homing_buf big;
    homing_buf_init(&big, 1 << 20);
    homing_buf_puts(&big, "https://www.google.com/url?q=https://dest.example/&pad=");
    for (int i = 0; i < HOMING_SCAN_URL_MAX; i++) homing_buf_puts(&big, "A");
    homing_buf_reset(&out);
    assert_int_equal(homing_strip_text(big.data, big.len, &o, 0, &out, &st), 0);
    assert_string_equal(out.data, big.data);
    homing_buf_free(&big);
    homing_buf_free(&out);
    homing_trackers_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trackers_parse_and_match),
        cmocka_unit_test(test_trackers_errors),
        cmocka_unit_test(test_shipped_file),
        cmocka_unit_test(test_unwrap),
        cmocka_unit_test(test_leak),
        cmocka_unit_test(test_style),
        cmocka_unit_test(test_css),
        cmocka_unit_test(test_css_escapes),
        cmocka_unit_test(test_css_src),
        cmocka_unit_test(test_scan_html),
        cmocka_unit_test(test_id_evidence),
        cmocka_unit_test(test_copies),
        cmocka_unit_test(test_recipient_headers),
        cmocka_unit_test(test_looks_html),
        cmocka_unit_test(test_scan_text),
        cmocka_unit_test(test_strip_html),
        cmocka_unit_test(test_strip_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
