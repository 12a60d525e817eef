/*
 * test_received.c: unit tests of lib/trace/received.c and received_date.c: the
 * Received forms of the common MTAs, TLS notes, address literals, and RFC 5322
 * dates with their obsolete forms; limits and malformed input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "homing/trace.h"

static struct homing_received *parse(const char *s)
{
    struct homing_received *r = NULL;
    assert_int_equal(homing_received_parse(s, strlen(s), &r), 0);
    assert_non_null(r);
    return r;
}

static void test_postfix_tls(void **state)
{
    (void)state;
    struct homing_received *r =
        parse("from mail.sender.example (mail.sender.example [192.0.2.10])\r\n"
              "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n"
              "\tby mx.example.org (Postfix) with ESMTPS id 4Zabc0\r\n"
              "\tfor <bob@example.org>; Fri, 31 Dec 2021 23:59:58 +0000 (UTC)");
    assert_string_equal(r->from_helo, "mail.sender.example");
    assert_string_equal(r->from_rdns, "mail.sender.example");
    assert_string_equal(r->from_ip, "192.0.2.10");
    assert_string_equal(r->by_host, "mx.example.org");
    assert_string_equal(r->protocol, "ESMTPS");
    assert_string_equal(r->id, "4Zabc0");
    assert_string_equal(r->for_addr, "bob@example.org");
    assert_int_equal(r->tls, 1);
    assert_string_equal(r->tls_version, "TLSv1.3");
    assert_string_equal(r->tls_cipher, "TLS_AES_256_GCM_SHA384");
    assert_int_equal(r->has_date, 1);
    assert_int_equal(r->date, 1640995198);
    homing_received_free(r);
}

static void test_exim(void **state)
{
    (void)state;
    struct homing_received *r =
        parse("from [198.51.100.7] (helo=relay2.sender.example) by mail.sender.example with esmtps "
              "(TLS1.2) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from "
              "<a@sender.example>) id 1mXyZ-0001Qx-2b; Fri, 31 Dec 2021 19:00:30 EST");
    assert_string_equal(r->from_ip, "198.51.100.7");
    assert_string_equal(r->from_helo, "relay2.sender.example");
    assert_null(r->from_rdns);
    assert_string_equal(r->protocol, "esmtps");
    assert_string_equal(r->tls_version, "TLS1.2");
    assert_string_equal(r->tls_cipher, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    assert_int_equal(r->date, 1640995230); /* 2022-01-01 00:00:30 UTC */
    homing_received_free(r);

    /* Exim with a verified reverse name: the main name is the rdns. */
    r = parse("from mail.example.net ([192.0.2.9] helo=foo.example) by mx.example.org with esmtp "
              "id 1; Mon, 3 Jan 2022 10:00:00 +0000");
    assert_string_equal(r->from_rdns, "mail.example.net");
    assert_string_equal(r->from_helo, "foo.example");
    assert_string_equal(r->from_ip, "192.0.2.9");
    homing_received_free(r);
}

static void test_ipv6_and_unknown(void **state)
{
    (void)state;
    struct homing_received *r = parse("from laptop.local ([IPv6:2001:DB8:0:0::42]) by relay "
                                      "with ESMTPSA id 0AB1; Thu, 30 Dec 21 23:50:00 -0800");
    assert_string_equal(r->from_ip, "2001:db8::42");
    assert_int_equal(r->tls, 1);
    homing_received_free(r);
    r = parse("from helo.example (unknown [203.0.113.9]) by mx.example.org (Postfix) with "
              "ESMTP id 4; Wed, 16 Mar 2022 12:00:10 +0000");
    assert_null(r->from_rdns);
    assert_string_equal(r->from_ip, "203.0.113.9");
    assert_int_equal(r->tls, 0);
    homing_received_free(r);
    /* RFC 6376 A.2: a bare literal after the name. */
    r = parse("from client1.football.example.com  [192.0.2.1]\r\n      by "
              "submitserver.example.com with SUBMISSION;\r\n      Fri, 11 Jul 2003 21:01:54 "
              "-0700 (PDT)");
    assert_string_equal(r->from_ip, "192.0.2.1");
    assert_string_equal(r->protocol, "SUBMISSION");
    homing_received_free(r);
}

static void test_exchange_and_gmail(void **state)
{
    (void)state;
    struct homing_received *r =
        parse("from EUR05-DB8-obe.outbound.protection.outlook.com (mail-db8eur05on2100."
              "outbound.protection.outlook.com [40.107.20.100]) by mx.example.org with Microsoft "
              "SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id "
              "15.20.1; Tue, 1 Feb 2022 10:00:00 +0000");
    assert_string_equal(r->protocol, "Microsoft SMTP Server");
    assert_string_equal(r->tls_version, "TLS1_2");
    assert_string_equal(r->tls_cipher, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    assert_string_equal(r->from_rdns, "mail-db8eur05on2100.outbound.protection.outlook.com");
    homing_received_free(r);
    r = parse("from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by "
              "mx.google.com with SMTPS id x for <bob@example.org> (Google Transport Security); "
              "Tue, 1 Feb 2022 10:00:00 -0800 (PST)");
    assert_string_equal(r->from_rdns, "mail-sor-f41.google.com");
    assert_int_equal(r->tls, 1);
    homing_received_free(r);
}

static void test_malformed(void **state)
{
    (void)state;
    struct homing_received *r = NULL;
    assert_int_equal(homing_received_parse("", 0, &r), -EBADMSG);
    assert_int_equal(homing_received_parse("((((((((((x", 11, &r), -E2BIG);
    assert_int_equal(homing_received_parse("; not a date", 12, &r), -EBADMSG);
    assert_null(r);
    /* More tokens than RECEIVED_TOKENS_MAX. */
    size_t n = 4000;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i += 2) big[i] = 'x', big[i + 1] = ' ';
    big[n] = '\0';
    assert_int_equal(homing_received_parse(big, n, &r), -E2BIG);
    free(big);
    /* Over HOMING_TRACE_HEADER_MAX. */
    assert_int_equal(homing_received_parse("x", HOMING_TRACE_HEADER_MAX + 1, &r), -E2BIG);
}

static void test_dates(void **state)
{
    (void)state;
    int64_t t;
    int tz;
    struct {
        const char *s;
        int64_t want;
        int tz;
    } ok[] = {
        {"Tue, 1 Jul 2003 10:52:37 +0200", 1057049557, 120},
        {"1 Jul 2003 10:52:37 +0200", 1057049557, 120},
        {"Tue, 1 Jul 03 10:52:37 +0200", 1057049557, 120},  /* 2-digit year */
        {"Tue, 1 Jul 103 10:52:37 +0200", 1057049557, 120}, /* 3-digit year */
        {"Tue, 1 Jul 2003 08:52:37 GMT", 1057049557, 0},
        {"Tue, 1 Jul 2003 04:52:37 EDT", 1057049557, -240},
        {"Tue, 1 Jul 2003 01:52:37 PDT", 1057049557, -420},
        {"Tue, 1 Jul 2003 08:52 UT", 1057049520, 0},                 /* no seconds */
        {"Tue , 1 (c (nested)) Jul 2003 08:52:37 Z", 1057049557, 0}, /* comments */
        {"Tue, 1 Jul 2003 08:52:37 A", 1057049557, 0},               /* military: -0000 */
        {"Thu, 29 Feb 2024 23:59:59 -0000", 1709251199, 0},          /* leap day */
        {"Fri, 31 Dec 1999 23:59:60 +0000", 946684800, 0},           /* leap second */
        {"Sat, 1 Jan 2050 00:00:00 +1400", 2524557600, 840},
        {"Thu, 1 Jan 1970 00:00:00 +0100", -3600, 60},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(homing_date_parse(ok[i].s, strlen(ok[i].s), &t, &tz), 0);
        assert_int_equal(t, ok[i].want);
        assert_int_equal(tz, ok[i].tz);
    }
    const char *bad[] = {
        "",
        "Tue, 30 Feb 2003 10:00:00 +0000", /* no such day */
        "Tue, 1 Jul 2003 24:00:00 +0000",
        "Tue, 1 Jul 2003 10:60:00 +0000",
        "Tue, 1 Jul 2003 10:00:00 +0060",
        "Tue, 1 Jul 2003 10:00:00", /* no zone */
        "Tue, 1 Jux 2003 10:00:00 +0000",
        "Xyz, 1 Jul 2003 10:00:00 +0000",
        "Tue, 1 Jul 2003 10:00:00 +0000 trailing",
        "Tue, 1 Jul 2003 10:00:00 J", /* J is not a zone */
        "Tue, 1 Jul 1899 10:00:00 +0000",
        "Tue, 1 Jul 2003 10:00:00 +0000 (unclosed",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(homing_date_parse(bad[i], strlen(bad[i]), &t, &tz), -EBADMSG);
}

static void test_date_across_days(void **state)
{
    (void)state;
    /* A delay across midnight and a year end keeps every day. */
    int64_t a, b;
    int tz;
    const char *s1 = "Wed, 29 Dec 2021 12:00:00 PST", *s2 = "Sat, 1 Jan 2022 05:00:00 +0100";
    assert_int_equal(homing_date_parse(s1, strlen(s1), &a, &tz), 0);
    assert_int_equal(homing_date_parse(s2, strlen(s2), &b, &tz), 0);
    assert_int_equal(b - a, 2 * 86400 + 8 * 3600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postfix_tls),      cmocka_unit_test(test_exim),
        cmocka_unit_test(test_ipv6_and_unknown), cmocka_unit_test(test_exchange_and_gmail),
        cmocka_unit_test(test_malformed),        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_date_across_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
