/*
 * test_maillog.c: the mail log line parser (lib/delivery/maillog.c): Postfix in
 * syslog and RFC 3339 form, Exim's main log, and lines that must be ignored or
 * refused; plus the delivery state order (lib/delivery/delivery.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "homing/delivery.h"

#define NOW INT64_C(1795370000000000) /* 2026-11-22, anchors the year-less stamps */

static struct homing_maillog_line parse(int flavour, const char *s, int want_rc)
{
    struct homing_maillog_line l;
    assert_int_equal(homing_maillog_parse(flavour, s, strlen(s), NOW, &l), want_rc);
    return l;
}

static void test_postfix_cleanup(void **state)
{
    (void)state;
    struct homing_maillog_line l = parse(HOMING_MAILLOG_POSTFIX,
                                         "Nov 22 20:41:36 mx postfix/cleanup[123]: 4F2A91C0D3: "
                                         "message-id=<abc.1@homing.example>",
                                         0);
    assert_int_equal(l.kind, HOMING_MAILLOG_MSGID);
    assert_string_equal(l.qid, "4F2A91C0D3");
    assert_string_equal(l.message_id, "abc.1@homing.example");
    assert_true(l.time_us > 0);
}

static void test_postfix_results(void **state)
{
    (void)state;
    struct homing_maillog_line l =
        parse(HOMING_MAILLOG_POSTFIX,
              "Nov 22 20:41:37 mx postfix/smtp[124]: 4F2A91C0D3: to=<bob@dest.example>, "
              "relay=127.0.0.1[127.0.0.1]:2525, delay=0.1, delays=0.02/0.01/0.03/0.04, dsn=2.0.0, "
              "status=sent (250 2.0.0 Ok: queued as 99)",
              0);
    assert_int_equal(l.kind, HOMING_MAILLOG_RESULT);
    assert_int_equal(l.status, HOMING_MAILLOG_DELIVERED);
    assert_string_equal(l.to, "bob@dest.example");
    assert_string_equal(l.dsn, "2.0.0");
    assert_string_equal(l.relay, "127.0.0.1[127.0.0.1]:2525");
    assert_string_equal(l.text, "250 2.0.0 Ok: queued as 99");

    l = parse(HOMING_MAILLOG_POSTFIX,
              "Nov  2 08:01:02 mx postfix/smtp[124]: 4F2A91C0D3: to=<gone@dest.example>, "
              "orig_to=<Gone@Dest.example>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.2, "
              "delays=0/0/0/0.1, dsn=5.1.1, status=bounced (host 127.0.0.1[127.0.0.1] said: "
              "550 5.1.1 <gone@dest.example>: user unknown (in reply to RCPT TO command))",
              0);
    assert_int_equal(l.status, HOMING_MAILLOG_BOUNCED);
    assert_string_equal(l.orig_to, "Gone@Dest.example");
    assert_string_equal(l.dsn, "5.1.1");
    assert_non_null(strstr(l.text, "(in reply to RCPT TO command)"));

    l = parse(HOMING_MAILLOG_POSTFIX,
              "2026-11-22T20:41:38.123456+01:00 mx postfix/smtp[125]: 4F2A91C0D3: "
              "to=<slow@dest.example>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.3, "
              "delays=0/0/0/0.2, dsn=4.0.0, status=deferred (450 4.0.0 try later)",
              0);
    assert_int_equal(l.status, HOMING_MAILLOG_DEFERRED);
    /* 20:41:38 at +01:00 is 19:41:38 UTC */
    assert_int_equal(l.time_us / 1000000 % 86400, 19 * 3600 + 41 * 60 + 38);
}

static void test_postfix_ignored(void **state)
{
    (void)state;
    const char *lines[] = {
        "Nov 22 20:41:40 mx postfix/qmgr[12]: 4F2A91C0D3: from=<b@x.example>, size=1, nrcpt=1",
        "Nov 22 20:41:40 mx postfix/smtpd[12]: connect from localhost[127.0.0.1]",
        "Nov 22 20:41:40 mx sshd[12]: 4F2A91C0D3: to=<a@b>, status=sent (x)",
        "not a log line",
        "",
        ("Nov 22 20:41:40 mx postfix/smtp[12]: 4F2A91C0D3: to=<a@b.example>, status=deliverable "
         "(probe)"),
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        assert_int_equal(parse(HOMING_MAILLOG_POSTFIX, lines[i], 0).kind, HOMING_MAILLOG_OTHER);
    char big[HOMING_MAILLOG_LINE_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    parse(HOMING_MAILLOG_POSTFIX, big, -E2BIG);
}

static void test_exim(void **state)
{
    (void)state;
    struct homing_maillog_line l =
        parse(HOMING_MAILLOG_EXIM,
              "2026-11-22 20:41:36 1tABCd-000123-AB <= alice@homing.example H=(c) [127.0.0.1] "
              "P=esmtp S=1234 id=abc.1@homing.example",
              0);
    assert_int_equal(l.kind, HOMING_MAILLOG_MSGID);
    assert_string_equal(l.qid, "1tABCd-000123-AB");
    assert_string_equal(l.message_id, "abc.1@homing.example");

    l = parse(HOMING_MAILLOG_EXIM,
              "2026-11-22 20:41:37 1tABCd-000123-AB => bob@dest.example R=dnslookup "
              "T=remote_smtp H=mx.dest.example [192.0.2.10] C=\"250 2.0.0 OK id=1\"",
              0);
    assert_int_equal(l.status, HOMING_MAILLOG_DELIVERED);
    assert_string_equal(l.to, "bob@dest.example");
    assert_string_equal(l.relay, "mx.dest.example");
    assert_string_equal(l.text, "250 2.0.0 OK id=1");
    assert_string_equal(l.dsn, "2.0.0");

    l = parse(HOMING_MAILLOG_EXIM,
              "2026-11-22 20:41:37 +0100 [4242] 1tABCd-00000000123-ABCD ** gone@dest.example "
              "<Gone@dest.example> R=dnslookup T=remote_smtp H=mx.dest.example [192.0.2.10]: "
              "SMTP error from remote mail server after RCPT TO:<gone@dest.example>: 550 5.1.1 "
              "User unknown",
              0);
    assert_int_equal(l.status, HOMING_MAILLOG_BOUNCED);
    assert_string_equal(l.qid, "1tABCd-00000000123-ABCD");
    assert_string_equal(l.orig_to, "Gone@dest.example");
    assert_string_equal(l.dsn, "5.1.1");

    l = parse(HOMING_MAILLOG_EXIM,
              "2026-11-22 20:41:38 1tABCd-000123-AB == slow@dest.example R=dnslookup "
              "T=remote_smtp defer (-44) H=mx.dest.example [192.0.2.10]: SMTP error: 451 4.7.1 "
              "Try later",
              0);
    assert_int_equal(l.status, HOMING_MAILLOG_DEFERRED);
    assert_string_equal(l.dsn, "4.7.1");
}

static void test_state_rank(void **state)
{
    (void)state;
    assert_true(homing_delivery_state_rank("delivered") > homing_delivery_state_rank("delayed"));
    assert_true(homing_delivery_state_rank("bounced") > homing_delivery_state_rank("sent"));
    assert_true(homing_delivery_state_rank("delayed") > homing_delivery_state_rank("registered"));
    assert_int_equal(homing_delivery_state_rank("nonsense"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postfix_cleanup), cmocka_unit_test(test_postfix_results),
        cmocka_unit_test(test_postfix_ignored), cmocka_unit_test(test_exim),
        cmocka_unit_test(test_state_rank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
