/*
 * test_spoof.c: unit tests of lib/trace/spoof.c and trace_util.c: addresses
 * with RFC 2047 display names, organisational domains, the service table, and
 * each spoofing indicator on a minimal input (and none on a clean one).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/trace/trace_int.h"

static void test_addresses(void **state)
{
    (void)state;
    struct trace_addr a;
    assert_int_equal(trace_addr_parse("\"service@paypal.com\" <Service@PayPa1.COM.>", &a), 0);
    assert_string_equal(a.display, "service@paypal.com");
    assert_string_equal(a.addr, "Service@PayPa1.COM.");
    assert_string_equal(a.domain, "paypa1.com");
    trace_addr_clear(&a);
    assert_int_equal(
        trace_addr_parse("=?utf-8?B?UGF5UGFs?= =?utf-8?Q?_Support?= <a@b.example>", &a), 0);
    assert_string_equal(a.display, "PayPal Support");
    trace_addr_clear(&a);
    assert_int_equal(trace_addr_parse("=?iso-8859-1?q?Andr=E9?= <x@y.example>", &a), 0);
    assert_string_equal(a.display, "Andr\xc3\xa9");
    trace_addr_clear(&a);
    assert_int_equal(trace_addr_parse("bare@host.example (comment), other@x.example", &a), 0);
    assert_null(a.display);
    assert_string_equal(a.addr, "bare@host.example");
    trace_addr_clear(&a);
    assert_int_equal(trace_addr_parse("no address here", &a), 0);
    assert_null(a.domain);
    trace_addr_clear(&a);
}

static void test_org_domain_and_esp(void **state)
{
    (void)state;
    char o[256];
    trace_org_domain("mail.shop.example", o, sizeof o);
    assert_string_equal(o, "shop.example");
    trace_org_domain("a.b.example.co.uk", o, sizeof o);
    assert_string_equal(o, "example.co.uk");
    trace_org_domain("localhost", o, sizeof o);
    assert_string_equal(o, "localhost");
    assert_string_equal(trace_esp_lookup("o1.ptr2041.sendgrid.net"), "SendGrid");
    assert_string_equal(trace_esp_lookup("amazonses.com"), "Amazon SES");
    assert_null(trace_esp_lookup("evilsendgrid.net"));
    assert_null(trace_esp_lookup(NULL));
}

/* The detail of the first indicator of this kind, or "" (static). */
static const char *detail(const struct spoof_input *in, const char *kind)
{
    static char out[1024];
    json_t *arr = json_array();
    assert_int_equal(spoof_indicators(in, arr), 0);
    out[0] = '\0';
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (!out[0] && strcmp(json_string_value(json_object_get(v, "kind")), kind) == 0)
            snprintf(out, sizeof out, "%s", json_string_value(json_object_get(v, "detail")));
    }
    json_decref(arr);
    return out;
}

/* Runs the indicators and returns how many have this kind. */
static int count(const struct spoof_input *in, const char *kind)
{
    json_t *arr = json_array();
    assert_int_equal(spoof_indicators(in, arr), 0);
    int n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "kind")), kind) == 0) n++;
    }
    json_decref(arr);
    return n;
}

static void test_indicators(void **state)
{
    (void)state;
    struct trace_addr from, other;
    assert_int_equal(trace_addr_parse("Shop <news@shop.example>", &from), 0);
    assert_int_equal(trace_addr_parse("b@bounces.shop.example", &other), 0);
    struct spoof_input in = {.from = &from, .return_path = &other, .skew_max = 86400};
    json_t *arr = json_array();
    assert_int_equal(spoof_indicators(&in, arr), 0);
    assert_int_equal(json_array_size(arr), 0); /* same organisation: clean */
    json_decref(arr);
    trace_addr_clear(&other);

    assert_int_equal(trace_addr_parse("help@xn--pypal-4ve.com", &other), 0);
    in.return_path = NULL;
    in.reply_to = &other;
    assert_int_equal(count(&in, "punycode_domain"), 1);
    assert_int_equal(count(&in, "reply_to_mismatch"), 1);
    /* decoded (RFC 3492), it is p\u0430ypal.com: shown, and a look-alike of paypal */
    assert_string_equal(detail(&in, "punycode_domain"),
                        "Reply-To domain xn--pypal-4ve.com is p\xd0\xb0ypal.com in Unicode "
                        "(U+0430): its letters may imitate another");
    assert_string_equal(detail(&in, "lookalike_domain"),
                        "Reply-To domain xn--pypal-4ve.com (p\xd0\xb0ypal.com) imitates paypal");
    trace_addr_clear(&other);
    /* xn--80ak6aa92e is \u0430\u0440\u0440\u04cf\u0435, all Cyrillic (the palochka for l) */
    assert_int_equal(trace_addr_parse("id@xn--80ak6aa92e.com", &other), 0);
    assert_string_equal(detail(&in, "lookalike_domain"),
                        "Reply-To domain xn--80ak6aa92e.com (\xd0\xb0\xd1\x80\xd1\x80\xd3\x8f"
                        "\xd0\xb5.com) imitates apple");
    trace_addr_clear(&other);
    /* an A-label and its Unicode are one domain: no mismatch */
    struct trace_addr idn;
    assert_int_equal(trace_addr_parse("a@xn--bcher-kva.example", &idn), 0);
    assert_int_equal(trace_addr_parse("b@b\xc3\xbc"
                                      "cher.example",
                                      &other),
                     0);
    struct spoof_input same = {.from = &idn, .reply_to = &other, .skew_max = 86400};
    assert_int_equal(count(&same, "reply_to_mismatch"), 0);
    trace_addr_clear(&idn);
    trace_addr_clear(&other);
    /* xn-- that is not Punycode is said to be so */
    assert_int_equal(trace_addr_parse("help@xn--pay_pal.example", &other), 0);
    assert_string_equal(detail(&in, "punycode_domain"),
                        "Reply-To domain xn--pay_pal.example is internationalised (xn--) but not "
                        "valid Punycode");
    trace_addr_clear(&other);

    assert_int_equal(trace_addr_parse("x@sh0p.example", &other), 0);
    assert_int_equal(count(&in, "lookalike_domain"), 1);
    trace_addr_clear(&other);
    in.reply_to = NULL;

    in.have_date = in.have_first_hop = 1;
    in.date = 1000000;
    in.first_hop = in.date + 86401;
    assert_int_equal(count(&in, "date_far_from_first_hop"), 1);
    in.first_hop = in.date - 86400;
    assert_int_equal(count(&in, "date_far_from_first_hop"), 0);
    trace_addr_clear(&from);

    assert_int_equal(trace_addr_parse("\"billing@apple.com\" <x@evil.example>", &from), 0);
    assert_int_equal(count(&in, "display_name_address"), 1);
    trace_addr_clear(&from);
    assert_int_equal(trace_addr_parse("Netflix Billing <x@evil.example>", &from), 0);
    assert_int_equal(count(&in, "display_name_brand"), 1);
    trace_addr_clear(&from);
    /* "P\u0430ypal" with a Cyrillic a, RFC 2047 encoded: folded to the brand. */
    assert_int_equal(trace_addr_parse("=?utf-8?b?UNCweXBhbCBTdXBwb3J0?= <x@evil.example>", &from),
                     0);
    assert_int_equal(count(&in, "display_name_brand"), 1);
    trace_addr_clear(&from);
    assert_int_equal(trace_addr_parse("x@p\xd0\xb0ypal.example", &from), 0);
    assert_int_equal(count(&in, "non_ascii_domain"), 1);
    assert_int_equal(count(&in, "lookalike_domain"), 1);
    trace_addr_clear(&from);
    assert_int_equal(trace_addr_parse("x@rnicrosoft.example", &from), 0);
    assert_int_equal(count(&in, "lookalike_domain"), 1);
    trace_addr_clear(&from);
    in.from = NULL;
    assert_int_equal(count(&in, "from_missing"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_org_domain_and_esp),
        cmocka_unit_test(test_indicators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
