/*
 * test_relay_smtp.c: lib/relay/smtp.c and copy.c, the relay's SMTP command
 * parser (paths, ESMTP parameters, line limits), the DATA decoder
 * (dot-unstuffing, the size limit, bare line ends), AUTH PLAIN/LOGIN
 * decoding and the Bcc-free copy.
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

#include "homing/relay.h"

static int parse(const char *line, struct homing_smtp_cmd *c, char *err)
{
    return homing_smtp_parse(line, strlen(line), c, err, 128);
}

static void test_verbs(void **state)
{
    (void)state;
    struct homing_smtp_cmd c;
    char err[128];
    assert_int_equal(parse("EHLO client.example.org", &c, err), 0);
    assert_int_equal(c.verb, HOMING_SMTP_EHLO);
    assert_string_equal(c.arg, "client.example.org");
    assert_int_equal(parse("ehlo [127.0.0.1]", &c, err), 0);
    assert_string_equal(c.arg, "[127.0.0.1]");
    assert_int_equal(parse("HELO", &c, err), -EINVAL);
    assert_int_equal(parse("EHLO bad..name", &c, err), -EINVAL);
    assert_int_equal(parse("EHLO -bad.example", &c, err), -EINVAL);
    assert_int_equal(parse("DATA", &c, err), 0);
    assert_int_equal(c.verb, HOMING_SMTP_DATA);
    assert_int_equal(parse("DATA now", &c, err), -EINVAL);
    assert_int_equal(parse("quit", &c, err), 0);
    assert_int_equal(c.verb, HOMING_SMTP_QUIT);
    assert_int_equal(parse("NOOP anything", &c, err), 0);
    assert_int_equal(parse("STARTTLS", &c, err), 0);
    assert_int_equal(parse("BDAT 100 LAST", &c, err), -ENOSYS);
    assert_memory_equal(err, "5.5.1", 5);
    assert_int_equal(parse("", &c, err), -ENOSYS);
    assert_int_equal(homing_smtp_parse("NOOP\0x", 6, &c, err, sizeof err), -EINVAL);
    assert_int_equal(parse("NOOP \x1b[2J", &c, err), -EINVAL);
}

static void test_limits(void **state)
{
    (void)state;
    struct homing_smtp_cmd c;
    char err[128];
    char line[HOMING_SMTP_READ_LINE_MAX + 16];
    /* 510 bytes + CRLF = 512: the longest plain command */
    memset(line, 'a', sizeof line);
    memcpy(line, "NOOP ", 5);
    assert_int_equal(homing_smtp_parse(line, HOMING_SMTP_LINE_MAX - 2, &c, err, sizeof err), 0);
    assert_int_equal(homing_smtp_parse(line, HOMING_SMTP_LINE_MAX - 1, &c, err, sizeof err),
                     -E2BIG);
    assert_memory_equal(err, "5.5.2", 5);
    /* RCPT may be longer (ORCPT), up to its own limit */
    char rcpt[HOMING_SMTP_RCPT_LINE_MAX + 8];
    int n = snprintf(rcpt, sizeof rcpt, "RCPT TO:<a@b.example> ORCPT=rfc822;");
    memset(rcpt + n, 'x', sizeof rcpt - (size_t)n);
    assert_int_equal(homing_smtp_parse(rcpt, 600, &c, err, sizeof err), -EINVAL); /* > ORCPT max */
    assert_int_equal(homing_smtp_parse(rcpt, HOMING_SMTP_RCPT_LINE_MAX - 1, &c, err, sizeof err),
                     -E2BIG);
    /* AUTH: up to 12288 */
    memset(line, 'A', sizeof line);
    memcpy(line, "AUTH PLAIN ", 11);
    assert_int_equal(homing_smtp_parse(line, HOMING_SMTP_AUTH_LINE_MAX - 2, &c, err, sizeof err),
                     0);
    assert_int_equal(homing_smtp_parse(line, HOMING_SMTP_AUTH_LINE_MAX - 1, &c, err, sizeof err),
                     -E2BIG);
    /* parameters: at most HOMING_SMTP_PARAMS_MAX */
    assert_int_equal(parse("MAIL FROM:<a@b.example> BODY=7BIT SIZE=1 RET=HDRS ENVID=x AUTH=<> "
                           "SIZE=2 SIZE=3 SIZE=4 SIZE=5",
                           &c, err),
                     -EINVAL); /* twice */
}

static void test_paths(void **state)
{
    (void)state;
    struct homing_smtp_cmd c;
    char err[128];
    assert_int_equal(parse("MAIL FROM:<alice@example.org>", &c, err), 0);
    assert_int_equal(c.verb, HOMING_SMTP_MAIL);
    assert_string_equal(c.path, "alice@example.org");
    assert_int_equal(parse("mail from: <alice@example.org>", &c, err), 0);
    assert_int_equal(parse("MAIL FROM:<>", &c, err), 0);
    assert_string_equal(c.path, "");
    assert_int_equal(parse("RCPT TO:<>", &c, err), -EINVAL);
    assert_memory_equal(err, "5.1.3", 5);
    assert_int_equal(parse("RCPT TO:<Postmaster>", &c, err), 0);
    assert_int_equal(parse("RCPT TO:<@relay.example,@b.example:bob@example.com>", &c, err), 0);
    assert_string_equal(c.path, "bob@example.com");
    assert_int_equal(parse("RCPT TO:<\"bob smith\"@example.com>", &c, err), 0);
    assert_string_equal(c.path, "\"bob smith\"@example.com");
    assert_int_equal(parse("RCPT TO:<bob@[192.0.2.1]>", &c, err), 0);
    static const char *const bad[] = {
        "MAIL FROM:alice@example.org",
        "MAIL FROM:<alice@example.org",
        "MAIL FROM:<alice>",
        "MAIL FROM:<.alice@example.org>",
        "MAIL FROM:<al..ice@example.org>",
        "MAIL FROM:<alice@example.org.>",
        "MAIL FROM:<alice@-x.org>",
        "MAIL FROM:<ali ce@example.org>",
        "MAIL FROM:<alice@exa_mple.org>",
        "MAIL FROM:<a,b@example.org>",
        "MAIL FROM:<\xc3\xa9@example.org>",
        "MAIL TO:<alice@example.org>",
        "RCPT FROM:<bob@example.org>",
        "MAIL FROM:<alice@example.org>x",
        "RCPT TO:<bob@example.org>  NOTIFY=NEVER",
        "RCPT TO:<bob@[1.2.3.4>",
        "RCPT TO:<\"unterminated@example.org>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = parse(bad[i], &c, err);
        if (r != -EINVAL) fail_msg("accepted or wrong error %d: %s", r, bad[i]);
    }
    /* 64-byte local part: the limit; 65: refused */
    char line[400];
    snprintf(line, sizeof line, "RCPT TO:<%.*s@example.org>", 64,
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(parse(line, &c, err), 0);
    snprintf(line, sizeof line, "RCPT TO:<%.*s@example.org>", 65,
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(parse(line, &c, err), -EINVAL);
}

static void test_params(void **state)
{
    (void)state;
    struct homing_smtp_cmd c;
    char err[128];
    assert_int_equal(
        parse("MAIL FROM:<a@b.example> SIZE=12345 BODY=8BITMIME RET=HDRS ENVID=QQ+2B1", &c, err),
        0);
    assert_int_equal(c.has_size, 1);
    assert_int_equal(c.size, 12345);
    assert_int_equal(c.body, HOMING_SMTP_BODY_8BITMIME);
    assert_int_equal(c.ret, HOMING_SMTP_RET_HDRS);
    assert_string_equal(c.envid, "QQ+1");
    assert_int_equal(
        parse("RCPT TO:<b@c.example> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b+40c.example", &c, err), 0);
    assert_int_equal(c.notify, HOMING_SMTP_NOTIFY_SUCCESS | HOMING_SMTP_NOTIFY_DELAY);
    assert_string_equal(c.orcpt, "rfc822;b@c.example");
    assert_int_equal(parse("RCPT TO:<b@c.example> NOTIFY=NEVER", &c, err), 0);
    assert_int_equal(c.notify, HOMING_SMTP_NOTIFY_NEVER);
    static const struct {
        const char *line;
        int r;
    } bad[] = {
        {"MAIL FROM:<a@b.example> SIZE=x", -EINVAL},
        {"MAIL FROM:<a@b.example> SIZE=", -EINVAL},
        {"MAIL FROM:<a@b.example> SIZE", -EINVAL},
        {"MAIL FROM:<a@b.example> SIZE=99999999999999999999999", -EINVAL},
        {"MAIL FROM:<a@b.example> SIZE=1 SIZE=1", -EINVAL},
        {"MAIL FROM:<a@b.example> BODY=BINARYMIME", -EINVAL},
        {"MAIL FROM:<a@b.example> RET=ALL", -EINVAL},
        {"MAIL FROM:<a@b.example> ENVID=a+2", -EINVAL},
        {"MAIL FROM:<a@b.example> ENVID=a+zz", -EINVAL},
        {"MAIL FROM:<a@b.example> SMTPUTF8", -ENOSYS},
        {"MAIL FROM:<a@b.example> X-FOO=1", -ENOSYS},
        {"MAIL FROM:<a@b.example> NOTIFY=NEVER", -ENOSYS},
        {"RCPT TO:<a@b.example> SIZE=1", -ENOSYS},
        {"RCPT TO:<a@b.example> NOTIFY=NEVER,SUCCESS", -EINVAL},
        {"RCPT TO:<a@b.example> NOTIFY=SUCCESS,SUCCESS", -EINVAL},
        {"RCPT TO:<a@b.example> NOTIFY=SUCCESS,", -EINVAL},
        {"RCPT TO:<a@b.example> NOTIFY=SOMETIMES", -EINVAL},
        {"RCPT TO:<a@b.example> ORCPT=rfc822", -EINVAL},
        {"RCPT TO:<a@b.example> ORCPT=;a", -EINVAL},
        {"RCPT TO:<a@b.example> ORCPT=rfc822;a=b", -EINVAL},
        {"RCPT TO:<a@b.example> =1", -EINVAL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = parse(bad[i].line, &c, err);
        if (r != bad[i].r) fail_msg("%s: %d, expected %d", bad[i].line, r, bad[i].r);
    }
    char envid[200] = "MAIL FROM:<a@b.example> ENVID=";
    memset(envid + strlen(envid), 'e', 100);
    assert_int_equal(parse(envid, &c, err), 0);
    strcat(envid, "e");
    assert_int_equal(parse(envid, &c, err), -EINVAL);
}

/* feeds s one byte at a time or whole, and checks the outcome and message */
static void data_case(const char *in, size_t max, int want, const char *msg, size_t rest)
{
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        struct homing_buf out;
        homing_buf_init(&out, 1 << 20);
        struct homing_smtp_data d;
        homing_smtp_data_init(&d, &out, max);
        size_t n = strlen(in), pos = 0;
        int r = 0;
        while (pos < n && r == 0) {
            size_t used = 0, chunk = bytewise ? 1 : n - pos;
            r = homing_smtp_data_feed(&d, in + pos, chunk, &used);
            pos += used;
        }
        if (r != want) fail_msg("%s: %d, expected %d", in, r, want);
        if (msg) assert_string_equal(out.data ? out.data : "", msg);
        assert_int_equal(n - pos, rest);
        homing_buf_free(&out);
    }
}

static void test_data(void **state)
{
    (void)state;
    data_case("Subject: x\r\n\r\nhi\r\n.\r\n", 1000, 1, "Subject: x\r\n\r\nhi\r\n", 0);
    data_case("a\r\n..b\r\n...\r\n.\r\nQUIT\r\n", 1000, 1, "a\r\n.b\r\n..\r\n", 6);
    data_case(".\r\n", 1000, 1, "", 0);
    data_case("a\r\n.", 1000, 0, NULL, 0);
    /* only CRLF "." CRLF ends: bare LF forms are consumed and refused */
    data_case("a\n.\nb\r\n.\r\n", 1000, -EBADMSG, NULL, 0);
    data_case("a\r\n.\nb\r\n.\r\n", 1000, -EBADMSG, NULL, 0);
    data_case("a\rb\r\n.\r\n", 1000, -EBADMSG, NULL, 0);
    /* over max: read to the end, then refused */
    data_case("0123456789\r\n.\r\nNOOP\r\n", 12, 1, "0123456789\r\n", 6);
    data_case("0123456789\r\n.\r\nNOOP\r\n", 11, -E2BIG, NULL, 6);
}

static void test_auth(void **state)
{
    (void)state;
    char u[HOMING_RELAY_USER_MAX], p[HOMING_RELAY_PASS_MAX];
    /* "\0alice\0s3cret" */
    assert_int_equal(homing_smtp_auth_plain("AGFsaWNlAHMzY3JldA==", 20, u, sizeof u, p, sizeof p),
                     0);
    assert_string_equal(u, "alice");
    assert_string_equal(p, "s3cret");
    /* "alice\0alice\0pw" */
    assert_int_equal(homing_smtp_auth_plain("YWxpY2UAYWxpY2UAcHc=", 20, u, sizeof u, p, sizeof p),
                     0);
    /* "bob\0alice\0pw": authorizing as someone else */
    assert_int_equal(homing_smtp_auth_plain("Ym9iAGFsaWNlAHB3", 16, u, sizeof u, p, sizeof p),
                     -EPERM);
    /* "alice\0pw": one NUL */
    assert_int_equal(homing_smtp_auth_plain("YWxpY2UAcHc=", 12, u, sizeof u, p, sizeof p), -EINVAL);
    assert_int_equal(homing_smtp_auth_plain("*", 1, u, sizeof u, p, sizeof p), -ECANCELED);
    assert_int_equal(homing_smtp_auth_plain("!!!!", 4, u, sizeof u, p, sizeof p), -EINVAL);
    assert_int_equal(homing_smtp_auth_b64("YWxpY2U=", 8, u, sizeof u), 5);
    assert_string_equal(u, "alice");
    assert_int_equal(homing_smtp_auth_b64("YWxpY2U", 7, u, sizeof u), -EINVAL);
    assert_int_equal(homing_relay_user_ok("alice@example.org"), 1);
    assert_int_equal(homing_relay_user_ok("a b"), 0);
    assert_int_equal(homing_relay_user_ok(""), 0);
}

static void test_strip_bcc(void **state)
{
    (void)state;
    const char *in = "From: a@example.org\r\nTo: b@example.org\r\nBcc: c@example.org,\r\n "
                     "d@example.org\r\nbcc : e@example.org\r\nResent-Bcc: f@example.org\r\n"
                     "Bccx: kept\r\nSubject: hi\r\n\r\nBcc: in the body\r\n";
    struct homing_buf out;
    homing_buf_init(&out, 1 << 20);
    assert_int_equal(homing_relay_strip_bcc(in, strlen(in), NULL, &out), 0);
    assert_string_equal(out.data, "From: a@example.org\r\nTo: b@example.org\r\nBccx: kept\r\n"
                                  "Subject: hi\r\n\r\nBcc: in the body\r\n");
    homing_buf_reset(&out);
    const char *lf = "Bcc: x@example.org\nTo: y@example.org\n\nbody";
    assert_int_equal(homing_relay_strip_bcc(lf, strlen(lf), NULL, &out), 0);
    assert_string_equal(out.data, "To: y@example.org\n\nbody");
    homing_buf_reset(&out);
    const char *mid = "Message-Id: <old@x>\r\nTo: y@example.org\r\n\nMessage-ID: body\r\n";
    assert_int_equal(homing_relay_strip_bcc(mid, strlen(mid), "new@relay", &out), 0);
    assert_string_equal(out.data,
                        "Message-ID: <new@relay>\r\nTo: y@example.org\r\n\nMessage-ID: body\r\n");
    homing_buf_free(&out);
}

/* X-Homing-Campaign: read unfolded and trimmed, and never in a copy */
static void test_control_field(void **state)
{
    (void)state;
    const char *in = "From: a@example.org\r\nx-homing-campaign :  Winter\r\n\tsale \r\n"
                     "Subject: hi\r\n\r\nX-Homing-Campaign: body\r\n";
    char v[64];
    assert_int_equal(homing_relay_header(in, strlen(in), HOMING_RELAY_CAMPAIGN_FIELD, v, sizeof v),
                     11);
    assert_string_equal(v, "Winter\tsale");
    assert_int_equal(homing_relay_header(in, strlen(in), "Subject", v, sizeof v), 2);
    assert_int_equal(homing_relay_header(in, strlen(in), "Cc", v, sizeof v), -ENOENT);
    assert_int_equal(homing_relay_header(in, strlen(in), HOMING_RELAY_CAMPAIGN_FIELD, v, 5),
                     -E2BIG);
    const char nul[] = "X-Homing-Campaign: a\0b\r\n\r\n";
    assert_int_equal(
        homing_relay_header(nul, sizeof nul - 1, HOMING_RELAY_CAMPAIGN_FIELD, v, sizeof v),
        -EINVAL);
    struct homing_buf out;
    homing_buf_init(&out, 1 << 20);
    assert_int_equal(homing_relay_strip_bcc(in, strlen(in), NULL, &out), 0);
    assert_string_equal(out.data, "From: a@example.org\r\nSubject: hi\r\n\r\n"
                                  "X-Homing-Campaign: body\r\n");
    homing_buf_free(&out);
}

/* X-Homing-Track values, relay.track_senders, and what passes untouched */
static void test_track_control(void **state)
{
    (void)state;
    assert_int_equal(homing_relay_track_parse("No"), HOMING_RELAY_TRACK_NO);
    assert_int_equal(homing_relay_track_parse("message"), HOMING_RELAY_TRACK_MESSAGE);
    assert_int_equal(homing_relay_track_parse("RECIPIENT"), HOMING_RELAY_TRACK_RECIPIENT);
    assert_int_equal(homing_relay_track_parse("yes"), -EINVAL);
    const char *map = "example.org=no, boss@example.org=recipient\tnews.example=message";
    assert_int_equal(homing_relay_senders_check(map), 0);
    assert_int_equal(homing_relay_senders_check(""), 0);
    assert_int_equal(homing_relay_senders_check("example.org"), -EINVAL);
    assert_int_equal(homing_relay_senders_check("=no"), -EINVAL);
    assert_int_equal(homing_relay_senders_check("a=sometimes"), -EINVAL);
    /* the address's entry wins over its domain's, whichever comes first */
    assert_int_equal(homing_relay_track_for(map, 2, "Boss@Example.org"), 2);
    assert_int_equal(homing_relay_track_for(map, 2, "ann@example.org"), 0);
    assert_int_equal(homing_relay_track_for(map, 0, "x@news.example"), 1);
    assert_int_equal(homing_relay_track_for(map, 1, "x@other.example"), 1);
    assert_int_equal(homing_relay_track_for("bad", 1, "x@other.example"), -EINVAL);
    const char *smime = "From: a@x\r\nContent-Type: multipart/signed; protocol=\"a\"\r\n\r\nb";
    assert_non_null(homing_relay_untouchable(smime, strlen(smime)));
    const char *enc = "Content-Type: Application/PKCS7-MIME; smime-type=enveloped-data\r\n\r\nb";
    assert_non_null(homing_relay_untouchable(enc, strlen(enc)));
    const char *pgp = "Subject: x\n\nhello\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: x\n";
    assert_non_null(homing_relay_untouchable(pgp, strlen(pgp)));
    const char *quoted = "Subject: x\n\nsee > -----BEGIN PGP MESSAGE----- in a quote\n";
    assert_null(homing_relay_untouchable(quoted, strlen(quoted)));
    const char *copy = "X-Homing-Copy: abc\r\nSubject: x\r\n\r\nb";
    assert_non_null(homing_relay_untouchable(copy, strlen(copy)));
    const char *plain = "Content-Type: multipart/alternative; boundary=x\r\n\r\nb";
    assert_null(homing_relay_untouchable(plain, strlen(plain)));
    struct homing_buf out;
    homing_buf_init(&out, 1 << 20);
    const char *ctl = "X-Homing-Track: no\r\nX-Homing-Copy: t\r\nTo: a@x\r\n\r\nb";
    assert_int_equal(homing_relay_strip_bcc(ctl, strlen(ctl), NULL, &out), 0);
    assert_string_equal(out.data, "To: a@x\r\n\r\nb");
    homing_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbs),         cmocka_unit_test(test_limits),
        cmocka_unit_test(test_paths),         cmocka_unit_test(test_params),
        cmocka_unit_test(test_data),          cmocka_unit_test(test_auth),
        cmocka_unit_test(test_strip_bcc),     cmocka_unit_test(test_control_field),
        cmocka_unit_test(test_track_control),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
