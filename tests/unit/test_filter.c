/*
 * test_filter.c: unit tests of the milter's body handling (lib/scan/filter.c)
 * and of strip's keep_signed and notice options (lib/scan/scan_walk.c): the
 * policy table, what each policy returns, signed content left byte for byte,
 * the DKIM note, and every message of tests/data/scan/msgs through strip with
 * edits that only touch the headers strip changes. The real Postfix path is
 * tests/integration/test_milter.py.
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
#include <strings.h>

#include <cmocka.h>

#include "homing/filter.h"
#include "homing/scan.h"
#include "homing/trackers.h"
#include "homing/util.h"

static const char kb[] =
    "Mailchimp\tlist-manage.com\t/track/open.php\tpixel\tmixed\t-\tdocs\tCC0-1.0\n"
    "SendGrid\tct.sendgrid.net\t*\tboth\tlinks\t-\tdocs\tCC0-1.0\n";

static struct homing_trackers *load_kb(void)
{
    struct homing_trackers *t = NULL;
    char err[256];
    assert_int_equal(homing_trackers_parse(kb, strlen(kb), &t, err, sizeof err), 0);
    return t;
}

#define PIXEL                                                                                      \
    "<img src=\"http://us1.list-manage.com/track/open.php?u=1&amp;id=2\" width=1 height=1>"

static const char tracked[] =
    "Received: from a by b; Mon, 7 Dec 2026 00:00:00 +0000\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; d=news.example; s=s1; bh=x; b=y\r\n"
    "From: News <news@news.example>\r\n"
    "To: bob@dest.test\r\n"
    "Subject: hello\r\n"
    "Disposition-Notification-To: news@news.example\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "Hello Bob\r\n"
    "--b1\r\n"
    "Content-Type: text/html; charset=us-ascii\r\n"
    "\r\n"
    "<html><body class=\"x>y\"><p>Hello Bob</p>" PIXEL "</body></html>\r\n"
    "--b1--\r\n";

static const struct homing_filter_edit *edit(const struct homing_filter_result *r, int op,
                                             const char *name)
{
    for (size_t i = 0; i < r->n_edits; i++)
        if (r->edits[i].op == op && strcasecmp(r->edits[i].name, name) == 0) return &r->edits[i];
    return NULL;
}

static struct homing_filter_result *run(const char *msg, size_t len, int policy, unsigned hold)
{
    struct homing_trackers *t = load_kb();
    struct homing_filter_options o = {
        .trackers = t, .policy = policy, .hold_min = hold, .authserv = "mx.dest.test"};
    struct homing_filter_result *r = NULL;
    assert_int_equal(homing_filter_message(msg, len, &o, &r), 0);
    homing_trackers_free(t);
    return r;
}

static void test_table(void **state)
{
    (void)state;
    struct homing_filter_table *t = NULL;
    char err[256];
    assert_int_equal(homing_filter_table_parse("example.org=strip, boss@example.org=reject "
                                               "sales.example.org=off,*=notice",
                                               HOMING_FILTER_TAG, &t, err, sizeof err),
                     0);
    assert_int_equal(homing_filter_table_lookup(t, "<a@example.org>"), HOMING_FILTER_STRIP);
    assert_int_equal(homing_filter_table_lookup(t, "a@Mail.Example.ORG"), HOMING_FILTER_STRIP);
    assert_int_equal(homing_filter_table_lookup(t, "<Boss@example.org>"), HOMING_FILTER_REJECT);
    assert_int_equal(homing_filter_table_lookup(t, "x@eu.sales.example.org"), HOMING_FILTER_OFF);
    assert_int_equal(homing_filter_table_lookup(t, "x@notexample.org"), HOMING_FILTER_NOTICE);
    homing_filter_table_free(t);
    assert_int_equal(homing_filter_table_parse("", HOMING_FILTER_TAG, &t, err, sizeof err), 0);
    assert_int_equal(homing_filter_table_lookup(t, "x@y"), HOMING_FILTER_TAG);
    homing_filter_table_free(t);
    assert_int_equal(
        homing_filter_table_parse("example.org=burn", HOMING_FILTER_TAG, &t, err, sizeof err),
        -EINVAL);
    assert_non_null(strstr(err, "example.org=burn"));
    assert_int_equal(
        homing_filter_table_parse("example.org", HOMING_FILTER_TAG, &t, err, sizeof err), -EINVAL);
}

static void test_off_and_tag(void **state)
{
    (void)state;
    struct homing_filter_result *r = run(tracked, strlen(tracked), HOMING_FILTER_OFF, 0);
    assert_int_equal(r->n_edits, 0);
    assert_null(r->body);
    homing_filter_result_free(r);

    r = run(tracked, strlen(tracked), HOMING_FILTER_TAG, 0);
    assert_int_equal(r->verdict, HOMING_FILTER_ACCEPT);
    assert_null(r->body);
    assert_int_equal(r->n_edits, 2);
    const struct homing_filter_edit *e = edit(r, HOMING_FILTER_ADD, "X-Homing-Trackers");
    assert_non_null(e);
    assert_string_equal(e->value, "2; vendors=\"Mailchimp\"; policy=tag");
    e = edit(r, HOMING_FILTER_ADD, "X-Homing-Tracker-Results");
    assert_non_null(e);
    assert_true(strncmp(e->value, "mx.dest.test; tracking=found (2 devices)", 40) == 0);
    assert_string_equal(e->value, "mx.dest.test; tracking=found (2 devices);\n"
                                  "\tread-receipt=found part.path=header "
                                  "header.name=Disposition-Notification-To;\n"
                                  "\ttracker-image=found part.path=2 url.host=us1.list-manage.com "
                                  "vendor.name=Mailchimp html.img=src");
    assert_false(r->dkim_invalidated);
    homing_filter_result_free(r);
}

static void test_strip(void **state)
{
    (void)state;
    struct homing_filter_result *r = run(tracked, strlen(tracked), HOMING_FILTER_STRIP, 0);
    assert_int_equal(r->verdict, HOMING_FILTER_ACCEPT);
    assert_non_null(r->body);
    assert_non_null(strstr(r->body, "<img src=\"about:blank\" data-homing-blocked-src="));
    assert_null(strstr(r->body, "homing removed")); /* no notice in strip */
    assert_non_null(strstr(r->body, "--b1\r\nContent-Type: text/plain"));
    assert_int_equal(r->st.receipts, 1);
    assert_non_null(edit(r, HOMING_FILTER_DELETE, "Disposition-Notification-To"));
    assert_non_null(edit(r, HOMING_FILTER_ADD, "X-Homing-Stripped"));
    const struct homing_filter_edit *d = edit(r, HOMING_FILTER_ADD, "X-Homing-DKIM");
    assert_non_null(d);
    assert_non_null(strstr(d->value, "d=news.example"));
    assert_true(r->dkim_invalidated);
    /* nothing else was touched: the headers GMime kept are not "changed" */
    for (size_t i = 0; i < r->n_edits; i++)
        assert_int_not_equal(r->edits[i].op, HOMING_FILTER_CHANGE);
    homing_filter_result_free(r);
}

static void test_notice(void **state)
{
    (void)state;
    struct homing_filter_result *r = run(tracked, strlen(tracked), HOMING_FILTER_NOTICE, 0);
    assert_non_null(r->body);
    const char *t = strstr(r->body, "\r\n\r\n[homing removed 2 trackers (Mailchimp) from this");
    assert_non_null(t);
    assert_non_null(strstr(t, "destination.]\r\n\r\nHello Bob"));
    const char *h = strstr(r->body, "<body class=\"x>y\"><div style=");
    assert_non_null(h);
    assert_non_null(strstr(h, "destination.</div><p>Hello Bob"));
    assert_int_equal(r->st.notices, 2);
    homing_filter_result_free(r);

    /* a message without trackers gets no notice and keeps its body */
    static const char clean[] = "From: a@b.test\r\nTo: c@d.test\r\nSubject: x\r\n"
                                "Content-Type: text/plain\r\n\r\nHello\r\n";
    r = run(clean, strlen(clean), HOMING_FILTER_NOTICE, 0);
    assert_null(r->body);
    assert_string_equal(edit(r, HOMING_FILTER_ADD, "X-Homing-Trackers")->value, "0; policy=notice");
    assert_int_equal(r->n_edits, 2);
    homing_filter_result_free(r);
}

static void test_hold_and_refuse(void **state)
{
    (void)state;
    struct homing_filter_result *r = run(tracked, strlen(tracked), HOMING_FILTER_REJECT, 0);
    assert_int_equal(r->verdict, HOMING_FILTER_REFUSE);
    assert_string_equal(r->reason, "the message carries 2 trackers (Mailchimp)");
    homing_filter_result_free(r);
    r = run(tracked, strlen(tracked), HOMING_FILTER_REJECT, 3);
    assert_int_equal(r->verdict, HOMING_FILTER_ACCEPT);
    assert_non_null(edit(r, HOMING_FILTER_ADD, "X-Homing-Trackers"));
    homing_filter_result_free(r);
    r = run(tracked, strlen(tracked), HOMING_FILTER_QUARANTINE, 2);
    assert_int_equal(r->verdict, HOMING_FILTER_HOLD);
    assert_null(r->body);
    assert_non_null(edit(r, HOMING_FILTER_ADD, "X-Homing-Trackers"));
    homing_filter_result_free(r);
}

static const char signed_part[] =
    "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n"
    " micalg=sha-256; boundary=\"s1\"\r\n"
    "\r\n"
    "This is an S/MIME signed message\r\n"
    "--s1\r\n"
    "Content-Type: text/html; charset=us-ascii\r\n"
    "\r\n"
    "<p>signed</p>" PIXEL "\r\n"
    "--s1\r\n"
    "Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAKCAMIIC\r\n"
    "--s1--\r\n";

static void test_signed(void **state)
{
    (void)state;
    /* the whole message signed: nothing in it changes, the tag still goes on */
    char whole[4096];
    snprintf(whole, sizeof whole,
             "From: a@b.test\r\nTo: c@d.test\r\nSubject: s\r\nMIME-Version: 1.0\r\n%s",
             signed_part);
    struct homing_filter_result *r = run(whole, strlen(whole), HOMING_FILTER_NOTICE, 0);
    assert_null(r->body);
    assert_int_equal(r->st.signed_kept, 1);
    assert_int_equal(r->st.notices, 0);
    assert_non_null(edit(r, HOMING_FILTER_ADD, "X-Homing-Trackers"));
    assert_int_equal(r->n_edits, 2);
    homing_filter_result_free(r);

    /* a signed part next to a tracked one: that one is stripped, the signed
     * one is written back byte for byte */
    char mixed[8192];
    snprintf(mixed, sizeof mixed,
             "From: a@b.test\r\nTo: c@d.test\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
             "Content-Type: multipart/mixed; boundary=\"m1\"\r\n\r\n"
             "--m1\r\nContent-Type: text/html\r\n\r\n<p>x</p>" PIXEL "\r\n"
             "--m1\r\n%s\r\n--m1--\r\n",
             signed_part);
    r = run(mixed, strlen(mixed), HOMING_FILTER_STRIP, 0);
    assert_non_null(r->body);
    assert_int_equal(r->st.signed_kept, 1);
    assert_non_null(strstr(r->body, signed_part));
    assert_non_null(strstr(r->body, "about:blank"));
    homing_filter_result_free(r);

    /* inline PGP: the text part is left as it is, notice and all */
    static const char pgp[] =
        "From: a@b.test\r\nTo: c@d.test\r\nSubject: p\r\nContent-Type: text/plain\r\n\r\n"
        "-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\n"
        "see https://ct.sendgrid.net/ls/click?upn=abc\r\n"
        "-----BEGIN PGP SIGNATURE-----\r\nxyz\r\n-----END PGP SIGNATURE-----\r\n";
    r = run(pgp, strlen(pgp), HOMING_FILTER_NOTICE, 0);
    assert_null(r->body);
    assert_int_equal(r->st.signed_kept, 1);
    homing_filter_result_free(r);
}

static void test_errors(void **state)
{
    (void)state;
    char deep[2048] = "From: ";
    for (int i = 0; i < 200; i++) strcat(deep, "(");
    strcat(deep, "\r\nTo: c@d.test\r\n\r\nbody\r\n");
    struct homing_trackers *t = load_kb();
    struct homing_filter_options o = {.trackers = t, .policy = HOMING_FILTER_STRIP};
    struct homing_filter_result *r = NULL;
    assert_int_equal(homing_filter_message(deep, strlen(deep), &o, &r), -ELOOP);
    assert_null(r);
    homing_trackers_free(t);
}

/* Every corpus message through strip: the edits touch only the headers strip
 * changes, and the new body is what `homing strip` writes after its headers. */
static void test_corpus(void **state)
{
    (void)state;
    const char *src = getenv("HOMING_SRC");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/scan/msgs", src ? src : ".");
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct homing_trackers *t = load_kb();
    struct dirent *e;
    unsigned n = 0, bodies = 0;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".eml")) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct homing_buf b;
        homing_buf_init(&b, HOMING_SCAN_MESSAGE_MAX);
        assert_int_equal(homing_file_read(path, HOMING_SCAN_MESSAGE_MAX, &b), 0);
        struct homing_filter_options o = {.trackers = t, .policy = HOMING_FILTER_STRIP};
        struct homing_filter_result *r = NULL;
        assert_int_equal(homing_filter_message(b.data, b.len, &o, &r), 0);
        for (size_t i = 0; i < r->n_edits; i++) {
            const char *nm = r->edits[i].name;
            int ok = strncasecmp(nm, "X-Homing-", 9) == 0 ||
                     (r->edits[i].op == HOMING_FILTER_DELETE &&
                      (strcasecmp(nm, "Disposition-Notification-To") == 0 ||
                       strcasecmp(nm, "Return-Receipt-To") == 0 ||
                       strcasecmp(nm, "X-Confirm-Reading-To") == 0));
            if (!ok) fprintf(stderr, "%s: edit of %s\n", e->d_name, nm);
            assert_true(ok);
        }
        if (r->body) {
            bodies++;
            struct homing_scan_options so = {.trackers = t, .keep_signed = 1};
            char *sm = NULL;
            size_t smlen = 0;
            assert_int_equal(homing_strip_message(b.data, b.len, &so, &sm, &smlen, NULL), 0);
            assert_true(smlen >= r->body_len);
            assert_memory_equal(sm + smlen - r->body_len, r->body, r->body_len);
            free(sm);
        }
        homing_filter_result_free(r);
        homing_buf_free(&b);
        n++;
    }
    closedir(d);
    homing_trackers_free(t);
    assert_true(n >= 10);
    assert_true(bodies >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),           cmocka_unit_test(test_off_and_tag),
        cmocka_unit_test(test_strip),           cmocka_unit_test(test_notice),
        cmocka_unit_test(test_hold_and_refuse), cmocka_unit_test(test_signed),
        cmocka_unit_test(test_errors),          cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
