/*
 * test_notify.c: lib/notify: the policy (which events notify, and their text),
 * the webhook signature (a vector computed independently with Python's hmac),
 * webhook filters, the SSE parser (splits, line ends, limits), and the outbox
 * in the store (deliveries created with the notification, per-message order,
 * retries, idempotence per event, disabling a webhook, the fair read per
 * webhook), and the SSRF guard (address classes, URL parsing, the admin listener).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "homing/config.h"
#include "homing/notify.h"
#include "homing/reader.h"
#include "homing/store.h"
#include "store_backends.h"

/* ---- policy ---- */

static struct homing_event mk_event(unsigned kind, unsigned method)
{
    struct homing_event e = {
        .id = 7, .kind = (uint16_t)kind, .method = (uint8_t)method, .message = 42, .recipient = 1};
    return e;
}

static struct homing_enrichment mk_enrich(unsigned verdict)
{
    struct homing_enrichment en = {0};
    strcpy(en.ua.family, "Thunderbird");
    strcpy(en.ua.major, "115");
    strcpy(en.ua.os, "Windows");
    strcpy(en.ua.device, "Other");
    en.ua.type = HOMING_DEVICE_DESKTOP;
    strcpy(en.country, "DE");
    en.verdict.verdict = (uint8_t)verdict;
    en.fingerprint = 0x1234;
    return en;
}

static void test_policy_first_open(void **state)
{
    (void)state;
    struct homing_event e = mk_event(HOMING_EV_OPEN, HOMING_METHOD_GET);
    struct homing_enrichment en = mk_enrich(HOMING_VERDICT_HUMAN);
    struct homing_notify_facts f = {
        .event = &e, .subject = "Q3 offer", .address = "bob@example.net", .enrich = &en};
    struct homing_notify_decision d[HOMING_NOTIFY_POLICY_MAX];
    assert_int_equal(homing_notify_policy(&f, d), 1);
    assert_string_equal(d[0].kind, "open");
    assert_string_equal(d[0].text,
                        "bob@example.net opened 'Q3 offer' on Thunderbird 115 (Windows), DE");
    /* The same reader again: nothing. */
    f.already_notified = 1;
    f.message_opened = 1;
    assert_int_equal(homing_notify_policy(&f, d), 0);
    /* A new reader on an opened message: a possible forward. */
    f.reader_new = 1;
    assert_int_equal(homing_notify_policy(&f, d), 1);
    assert_string_equal(d[0].kind, "new-reader");
    assert_non_null(strstr(d[0].text, "possibly forwarded"));
}

static void test_policy_machines_silent(void **state)
{
    (void)state;
    struct homing_event e = mk_event(HOMING_EV_OPEN, HOMING_METHOD_GET);
    struct homing_notify_decision d[HOMING_NOTIFY_POLICY_MAX];
    const unsigned machines[] = {HOMING_VERDICT_PREFETCH, HOMING_VERDICT_SCANNER,
                                 HOMING_VERDICT_PROBE};
    for (size_t i = 0; i < 3; i++) {
        struct homing_enrichment en = mk_enrich(machines[i]);
        struct homing_notify_facts f = {
            .event = &e, .subject = "s", .address = "a@b", .enrich = &en};
        assert_int_equal(homing_notify_policy(&f, d), 0);
        f.notify_machine = 1; /* notify.machine = yes */
        assert_int_equal(homing_notify_policy(&f, d), 1);
        assert_non_null(strstr(d[0].text, homing_verdict_name(machines[i])));
    }
    /* HEAD is a probe whatever the enrichment says, or without one. */
    e.method = HOMING_METHOD_HEAD;
    struct homing_notify_facts f = {.event = &e, .subject = "s", .address = "a@b"};
    assert_int_equal(homing_notify_policy(&f, d), 0);
    /* A proxy open is a real open with the client hidden. */
    e.method = HOMING_METHOD_GET;
    struct homing_enrichment px = mk_enrich(HOMING_VERDICT_PROXY_OPEN);
    strcpy(px.ua.family, "Gmail Image Proxy");
    f.enrich = &px;
    assert_int_equal(homing_notify_policy(&f, d), 1);
    assert_string_equal(d[0].text, "a@b opened 's' via Gmail Image Proxy (client hidden)");
}

static void test_policy_clicks_and_reports(void **state)
{
    (void)state;
    struct homing_event e = mk_event(HOMING_EV_CLICK, HOMING_METHOD_GET);
    struct homing_notify_facts f = {.event = &e,
                                    .subject = "Q3",
                                    .address = "bob@example.net",
                                    .link_url = "https://example.com/x"};
    struct homing_notify_decision d[HOMING_NOTIFY_POLICY_MAX];
    assert_int_equal(homing_notify_policy(&f, d), 1);
    assert_string_equal(d[0].kind, "click");
    assert_string_equal(
        d[0].text, "bob@example.net clicked https://example.com/x in 'Q3' on an unknown client");
    f.already_notified = 1;
    assert_int_equal(homing_notify_policy(&f, d), 0);

    static const struct {
        unsigned kind;
        const char *name;
    } reports[] = {{HOMING_EV_DELIVERED, "delivered"},
                   {HOMING_EV_BOUNCED, "bounced"},
                   {HOMING_EV_DELAYED, "delayed"},
                   {HOMING_EV_READ, "read"},
                   {HOMING_EV_COMPLAINT, "complaint"}};
    for (size_t i = 0; i < sizeof reports / sizeof reports[0]; i++) {
        e = mk_event(reports[i].kind, HOMING_METHOD_OTHER);
        struct homing_notify_facts r = {.event = &e, .subject = "Q3", .address = "b@x"};
        assert_int_equal(homing_notify_policy(&r, d), 1);
        assert_string_equal(d[0].kind, reports[i].name);
        assert_non_null(strstr(d[0].text, "b@x"));
    }
    e = mk_event(HOMING_EV_BOUNCED, HOMING_METHOD_OTHER);
    struct homing_notify_facts b = {.event = &e,
                                    .subject = "Q3",
                                    .address = "b@x",
                                    .status = "5.1.1",
                                    .reason = "user-unknown"};
    assert_int_equal(homing_notify_policy(&b, d), 1);
    assert_string_equal(d[0].text, "'Q3' bounced for b@x: 5.1.1 user-unknown");
    e = mk_event(HOMING_EV_SENT, HOMING_METHOD_OTHER);
    struct homing_notify_facts s = {.event = &e};
    assert_int_equal(homing_notify_policy(&s, d), 0);
}

static void test_policy_sanitises(void **state)
{
    (void)state;
    struct homing_event e = mk_event(HOMING_EV_OPEN, HOMING_METHOD_GET);
    struct homing_notify_facts f = {
        .event = &e, .subject = "evil\033[2J\ntext", .address = "b\r@x"};
    struct homing_notify_decision d[HOMING_NOTIFY_POLICY_MAX];
    assert_int_equal(homing_notify_policy(&f, d), 1);
    for (const char *p = d[0].text; *p; p++) assert_true(*p >= 0x20 && *p < 0x7f);
    assert_int_equal(homing_notify_policy(NULL, d), -EINVAL);
}

/* ---- signature ---- */

static void test_sign_vector(void **state)
{
    (void)state;
    const char body[] = "{\"id\":1}";
    char sig[HOMING_NOTIFY_SIG_MAX];
    /* python3: hmac.new(b'whsec_test', b'1700000000.{"id":1}', sha256).hexdigest() */
    assert_int_equal(homing_notify_sign("whsec_test", 1700000000, body, strlen(body), sig),
                     (int)strlen("t=1700000000,v1=") + 64);
    assert_string_equal(
        sig, "t=1700000000,v1=2f441ba4b3b2d50d28a9ab9d9fd8880376ecd1eb5d0435401553f5d8d0a5dcf8");
    assert_int_equal(homing_notify_verify("whsec_test", sig, body, strlen(body), 1700000010, 300),
                     0);
    assert_int_equal(homing_notify_verify("whsec_other", sig, body, strlen(body), 0, 0), -EACCES);
    assert_int_equal(homing_notify_verify("whsec_test", sig, "{\"id\":2}", 8, 0, 0), -EACCES);
    assert_int_equal(homing_notify_verify("whsec_test", sig, body, strlen(body), 1800000000, 300),
                     -ETIMEDOUT);
    assert_int_equal(homing_notify_verify("whsec_test", "v1=00", body, strlen(body), 0, 0),
                     -EINVAL);
    assert_int_equal(homing_notify_verify("whsec_test", "t=1,v1=zz", body, strlen(body), 0, 0),
                     -EINVAL);
    char a[HOMING_NOTIFY_SECRET_LEN + 1], b[HOMING_NOTIFY_SECRET_LEN + 1];
    assert_int_equal(homing_notify_secret_new(a), 0);
    assert_int_equal(homing_notify_secret_new(b), 0);
    assert_int_equal(strlen(a), HOMING_NOTIFY_SECRET_LEN);
    assert_memory_equal(a, "whsec_", 6);
    assert_string_not_equal(a, b);
}

static void test_filters(void **state)
{
    (void)state;
    char out[HOMING_WEBHOOK_EVENTS_MAX];
    assert_int_equal(homing_notify_filter_normalise(" open, click ,new-reader", out, sizeof out),
                     21);
    assert_string_equal(out, "open,click,new-reader");
    assert_int_equal(homing_notify_filter_normalise("*", out, sizeof out), 1);
    assert_string_equal(out, "*");
    assert_int_equal(homing_notify_filter_normalise("open,*", out, sizeof out), -EINVAL);
    assert_int_equal(homing_notify_filter_normalise("opened", out, sizeof out), -EINVAL);
    assert_int_equal(homing_notify_filter_normalise("", out, sizeof out), -EINVAL);
    assert_true(homing_notify_kind_valid("document-open"));
    assert_false(homing_notify_kind_valid("sent"));
}

/* ---- SSE parser ---- */

struct got {
    int n;
    char id[8][HOMING_SSE_FIELD_MAX], event[8][HOMING_SSE_FIELD_MAX], data[8][64];
};

static int on_ev(const struct homing_sse_event *ev, void *arg)
{
    struct got *g = arg;
    if (g->n >= 8) return 1;
    strcpy(g->id[g->n], ev->id);
    strcpy(g->event[g->n], ev->event);
    snprintf(g->data[g->n], sizeof g->data[0], "%.*s", (int)ev->data_len, ev->data);
    g->n++;
    return 0;
}

static void test_sse_parse(void **state)
{
    (void)state;
    const char stream[] = ": comment\r\nid: 5\r\nevent: open\r\ndata: {\"a\":1}\r\n\r\n"
                          "id: 6\nevent: click\ndata: x\ndata: y\n\n"
                          "data:nospace\r\r"
                          "id: 9\n\n"; /* no data: not dispatched */
    /* Every split point gives the same events. */
    for (size_t cut = 0; cut <= sizeof stream - 1; cut++) {
        struct got g = {0};
        struct homing_sse *p;
        assert_int_equal(homing_sse_new(on_ev, &g, &p), 0);
        assert_int_equal(homing_sse_feed(p, stream, cut), 0);
        assert_int_equal(homing_sse_feed(p, stream + cut, sizeof stream - 1 - cut), 0);
        assert_int_equal(g.n, 3);
        assert_string_equal(g.id[0], "5");
        assert_string_equal(g.event[0], "open");
        assert_string_equal(g.data[0], "{\"a\":1}");
        assert_string_equal(g.id[1], "6");
        assert_string_equal(g.data[1], "x\ny");
        assert_string_equal(g.data[2], "nospace");
        assert_string_equal(g.id[2], "");
        homing_sse_free(p);
    }
}

static void test_sse_limits(void **state)
{
    (void)state;
    struct got g = {0};
    struct homing_sse *p;
    assert_int_equal(homing_sse_new(on_ev, &g, &p), 0);
    /* An event with too much data is dropped whole; the next one is fine. */
    char *big = malloc(HOMING_SSE_DATA_MAX + 16);
    memset(big, 'a', HOMING_SSE_DATA_MAX + 16);
    size_t chunk = HOMING_SSE_LINE_MAX / 2;
    for (size_t off = 0; off < HOMING_SSE_DATA_MAX + 16; off += chunk) {
        size_t n = HOMING_SSE_DATA_MAX + 16 - off < chunk ? HOMING_SSE_DATA_MAX + 16 - off : chunk;
        assert_int_equal(homing_sse_feed(p, "data: ", 6), 0);
        assert_int_equal(homing_sse_feed(p, big, n), 0);
        assert_int_equal(homing_sse_feed(p, "\n", 1), 0);
    }
    assert_int_equal(homing_sse_feed(p, "\n", 1), -E2BIG);
    assert_int_equal(homing_sse_feed(p, "id: 1\ndata: ok\n\n", 16), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.data[0], "ok");
    /* A line longer than the line limit is cut, not grown. */
    assert_int_equal(homing_sse_feed(p, "event: ", 7), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(homing_sse_feed(p, big, HOMING_SSE_LINE_MAX), 0);
    assert_int_equal(homing_sse_feed(p, "\ndata: z\n\n", 10), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(strlen(g.event[1]), HOMING_SSE_FIELD_MAX - 1);
    free(big);
    homing_sse_free(p);
}

/* ---- the outbox in the store ---- */

struct fixture {
    char dir[64];
    char db[STORE_TEST_URL_MAX];
    struct homing_store *s;
};

/* The fair read: at most per_webhook of each webhook, longest due first, so
 * one webhook's backlog leaves room for the others. */
static void test_outbox_fair(void **state)
{
    struct fixture *f = *state;
    struct homing_store *s = f->s;
    int64_t busy, quiet;
    assert_int_equal(homing_store_webhook_add(s, "http://192.0.2.1/a", "open", "k1", &busy), 0);
    int64_t ids[12];
    for (int i = 0; i < 10; i++)
        assert_int_equal(homing_notify_add(s, "open", (uint64_t)(100 + i), 1, 0, 200 + i, NULL, "t",
                                           NULL, &ids[i]),
                         0);
    assert_int_equal(homing_store_webhook_add(s, "http://192.0.2.2/b", "open", "k2", &quiet), 0);
    assert_int_equal(homing_notify_add(s, "open", 300, 1, 0, 300, NULL, "t", NULL, &ids[10]), 0);
    int64_t now = homing_now_us() + 1000000;
    /* The oldest of the busy webhook failed: due again later than the rest. */
    assert_int_equal(homing_store_delivery_result(s, ids[0], busy, 0, now - 10, "500"), 0);
    struct homing_delivery *d;
    size_t n;
    assert_int_equal(homing_store_deliveries_due_fair(s, now, 3, 100, &d, &n), 0);
    assert_int_equal(n, 4); /* 3 of the busy one and the quiet one's, rank by rank */
    assert_int_equal(d[0].webhook, busy);
    assert_int_equal(d[0].notification, ids[1]); /* longest due first: the failed one later */
    assert_int_equal(d[1].webhook, quiet);
    assert_int_equal(d[1].notification, ids[10]);
    assert_string_equal(d[1].url, "http://192.0.2.2/b");
    assert_int_equal(d[2].notification, ids[2]);
    assert_int_equal(d[3].notification, ids[3]);
    homing_deliveries_free(d, n);
    /* A page too small for every queue still holds every webhook's head. */
    assert_int_equal(homing_store_deliveries_due_fair(s, now, 3, 2, &d, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(d[0].webhook, busy);
    assert_int_equal(d[1].webhook, quiet);
    homing_deliveries_free(d, n);
    assert_int_equal(homing_store_deliveries_due_fair(s, now, 0, 100, &d, &n), -EINVAL);
}

/* ---- the SSRF guard ---- */

static void test_guard_classes(void **state)
{
    (void)state;
    static const struct {
        const char *addr;
        int cls;
    } cases[] = {
        {"8.8.8.8", HOMING_ADDR_PUBLIC},
        {"93.184.216.34", HOMING_ADDR_PUBLIC},
        {"127.0.0.1", HOMING_ADDR_LOOPBACK},
        {"127.255.255.254", HOMING_ADDR_LOOPBACK},
        {"10.0.0.1", HOMING_ADDR_PRIVATE},
        {"172.16.0.1", HOMING_ADDR_PRIVATE},
        {"172.31.255.255", HOMING_ADDR_PRIVATE},
        {"172.32.0.1", HOMING_ADDR_PUBLIC},
        {"172.15.255.255", HOMING_ADDR_PUBLIC},
        {"192.168.1.1", HOMING_ADDR_PRIVATE},
        {"169.254.169.254", HOMING_ADDR_LINK_LOCAL},
        {"100.64.0.1", HOMING_ADDR_SHARED},
        {"100.127.255.255", HOMING_ADDR_SHARED},
        {"100.128.0.1", HOMING_ADDR_PUBLIC},
        {"0.0.0.0", HOMING_ADDR_UNSPECIFIED},
        {"0.1.2.3", HOMING_ADDR_UNSPECIFIED},
        {"224.0.0.1", HOMING_ADDR_MULTICAST},
        {"239.255.255.250", HOMING_ADDR_MULTICAST},
        {"255.255.255.255", HOMING_ADDR_RESERVED},
        {"240.0.0.1", HOMING_ADDR_RESERVED},
        {"192.0.0.8", HOMING_ADDR_RESERVED},
        {"198.18.0.1", HOMING_ADDR_RESERVED},
        {"2001:4860:4860::8888", HOMING_ADDR_PUBLIC},
        {"::1", HOMING_ADDR_LOOPBACK},
        {"::", HOMING_ADDR_UNSPECIFIED},
        {"fe80::1", HOMING_ADDR_LINK_LOCAL},
        {"febf::1", HOMING_ADDR_LINK_LOCAL},
        {"fec0::1", HOMING_ADDR_PRIVATE},
        {"fc00::1", HOMING_ADDR_PRIVATE},
        {"fd12:3456::1", HOMING_ADDR_PRIVATE},
        {"ff02::1", HOMING_ADDR_MULTICAST},
        {"::ffff:127.0.0.1", HOMING_ADDR_LOOPBACK}, /* homing_addr_parse maps it to v4 */
        {"::ffff:10.1.1.1", HOMING_ADDR_PRIVATE},
        {"::ffff:8.8.8.8", HOMING_ADDR_PUBLIC},
        {"64:ff9b::7f00:1", HOMING_ADDR_LOOPBACK}, /* NAT64 of 127.0.0.1 */
        {"64:ff9b::a9fe:a9fe", HOMING_ADDR_LINK_LOCAL},
        {"64:ff9b::808:808", HOMING_ADDR_PUBLIC},
        {"64:ff9b:1::1", HOMING_ADDR_PRIVATE},
        {"::127.0.0.1", HOMING_ADDR_RESERVED}, /* IPv4-compatible */
        {"100::1", HOMING_ADDR_RESERVED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct homing_addr a;
        assert_int_equal(homing_addr_parse(cases[i].addr, strlen(cases[i].addr), &a), 0);
        if (homing_addr_class(&a) != cases[i].cls)
            fail_msg("%s: class %d, want %d", cases[i].addr, homing_addr_class(&a), cases[i].cls);
    }
    /* A mapped address as a socket reports it (family 6) is judged the same. */
    struct homing_addr m = {.family = 6};
    m.bytes[10] = m.bytes[11] = 0xff;
    m.bytes[12] = 127;
    m.bytes[15] = 1;
    struct homing_webhook_guard g = {0};
    char why[HOMING_NOTIFY_ERROR_MAX];
    assert_int_equal(homing_webhook_addr_check(&g, &m, 80, why, sizeof why), -EPERM);
    assert_string_equal(why, "webhook URL points at a private address (127.0.0.1, loopback); set "
                             "webhooks.allow_private = yes to allow");
    g.allow_private = 1;
    assert_int_equal(homing_webhook_addr_check(&g, &m, 80, why, sizeof why), 0);
    struct homing_addr none = {0};
    assert_int_equal(homing_addr_class(&none), -EINVAL);
}

static void test_guard_urls(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int r;            /* of homing_webhook_url_check without allow_private */
        const char *host; /* as parsed, NULL when it does not parse */
        unsigned port;
    } cases[] = {
        {"https://hooks.example.org/homing", 0, "hooks.example.org", 443},
        {"http://Hooks.Example.ORG:8443/x?y#z", 0, "hooks.example.org", 8443},
        {"http://example.org", 0, "example.org", 80},
        {"http://example.org.", 0, "example.org.", 80},
        {"http://user:pw@example.org/", 0, "example.org", 80},
        {"http://8.8.8.8/", 0, "8.8.8.8", 80},
        {"http://[2001:db8::1]:81/", 0, "2001:db8::1", 81},
        {"http://127.0.0.1:9/hook", -EPERM, "127.0.0.1", 9},
        {"http://10.0.0.1/", -EPERM, "10.0.0.1", 80},
        {"http://169.254.169.254/latest", -EPERM, "169.254.169.254", 80},
        {"http://[::1]/", -EPERM, "::1", 80},
        {"http://[::ffff:127.0.0.1]/", -EPERM, "::ffff:127.0.0.1", 80},
        {"http://[::ffff:7f00:1]/", -EPERM, "::ffff:7f00:1", 80},
        {"http://[fe80::1]/", -EPERM, "fe80::1", 80},
        {"http://100.64.1.1/", -EPERM, "100.64.1.1", 80},
        {"http://0.0.0.0/", -EPERM, "0.0.0.0", 80},
        {"http://localhost/", -EPERM, "localhost", 80},
        {"http://LOCALHOST./", -EPERM, "localhost.", 80},
        {"http://api.localhost:1/", -EPERM, "api.localhost", 1},
        {"http://evil.com@127.0.0.1/", -EPERM, "127.0.0.1", 80},
        /* Not canonical: what a resolver might read as an address, or worse. */
        {"http://0x7f.1/", -EINVAL, NULL, 0},
        {"http://0x7f000001/", -EINVAL, NULL, 0},
        {"http://2130706433/", -EINVAL, NULL, 0},
        {"http://017700000001/", -EINVAL, NULL, 0},
        {"http://127.1/", -EINVAL, NULL, 0},
        {"http://0177.0.0.1/", -EINVAL, NULL, 0},
        {"http://127.000.000.001/", -EINVAL, NULL, 0},
        {"http://256.1.1.1/", -EINVAL, NULL, 0},
        {"http://1.2.3.4.5/", -EINVAL, NULL, 0},
        {"http://example.123/", -EINVAL, NULL, 0},
        {"http://[fe80::1%25eth0]/", -EINVAL, NULL, 0},
        {"http://[::1/", -EINVAL, NULL, 0},
        {"http://%31%32%37.0.0.1/", -EINVAL, NULL, 0},
        {"http://a@b@example.org/", -EINVAL, NULL, 0},
        {"http://example.org\\@127.0.0.1/", -EINVAL, NULL, 0},
        {"http://exa mple.org/", -EINVAL, NULL, 0},
        {"http://-bad.example/", -EINVAL, NULL, 0},
        {"http://bad-.example/", -EINVAL, NULL, 0},
        {"http://a..b/", -EINVAL, NULL, 0},
        {"http:///path", -EINVAL, NULL, 0},
        {"http://example.org:/", -EINVAL, NULL, 0},
        {"http://example.org:0/", -EINVAL, NULL, 0},
        {"http://example.org:65536/", -EINVAL, NULL, 0},
        {"http://example.org:+80/", -EINVAL, NULL, 0},
        {"ftp://example.org/", -EINVAL, NULL, 0},
        {"HTTP://example.org/", -EINVAL, NULL, 0},
        {"http://b\xc3\xbc"
         "cher.example/",
         -EINVAL, NULL, 0},
        {"", -EINVAL, NULL, 0},
    };
    struct homing_webhook_guard g = {0};
    char why[HOMING_NOTIFY_ERROR_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct homing_webhook_url u;
        int p = homing_webhook_url_parse(cases[i].url, strlen(cases[i].url), &u);
        if (cases[i].host) {
            if (p != 0) fail_msg("%s: does not parse (%d)", cases[i].url, p);
            assert_string_equal(u.host, cases[i].host);
            assert_int_equal(u.port, cases[i].port);
        } else if (p != -EINVAL) {
            fail_msg("%s: parses as %s", cases[i].url, u.host);
        }
        int r = homing_webhook_url_check(&g, cases[i].url, why, sizeof why);
        if (r != cases[i].r)
            fail_msg("%s: check %d, want %d (%s)", cases[i].url, r, cases[i].r, why);
    }
    /* The option lets private ones through, never the admin listener. */
    g.allow_private = 1;
    assert_int_equal(homing_webhook_url_check(&g, "http://127.0.0.1:9/hook", why, sizeof why), 0);
    assert_int_equal(homing_webhook_url_check(&g, "http://localhost/", why, sizeof why), 0);
    assert_int_equal(homing_addr_parse("127.0.0.1", 9, &g.admin), 0);
    g.admin_port = 8081;
    assert_int_equal(homing_webhook_url_check(&g, "http://127.0.0.1:8081/api", why, sizeof why),
                     -EPERM);
    assert_string_equal(why, "webhook URL points at homing's own admin listener (127.0.0.1:8081)");
    assert_int_equal(homing_webhook_url_check(&g, "http://127.0.0.1:8082/", why, sizeof why), 0);
    /* A wildcard admin listener answers on loopback and on the host's addresses. */
    memset(&g.admin, 0, sizeof g.admin);
    assert_int_equal(homing_webhook_url_check(&g, "http://127.0.0.2:8081/", why, sizeof why),
                     -EPERM);
    assert_int_equal(homing_webhook_url_check(&g, "http://[::1]:8081/", why, sizeof why), -EPERM);
    assert_string_equal(why, "webhook URL points at homing's own admin listener ([::1]:8081)");
    assert_int_equal(homing_webhook_url_check(&g, "http://8.8.8.8:8081/", why, sizeof why), 0);
}

static void test_guard_config(void **state)
{
    (void)state;
    struct homing_config *c;
    assert_int_equal(homing_config_new("/tmp", &c), 0);
    struct homing_webhook_guard g;
    assert_int_equal(homing_webhook_guard_from_config(c, &g), 0);
    assert_int_equal(g.allow_private, 0); /* the default: guarded */
    assert_int_equal(g.admin.family, 4);
    assert_int_equal(g.admin_port, 8081);
    assert_int_equal(homing_config_set(c, "webhooks.allow_private", "yes"), 0);
    assert_int_equal(homing_config_set(c, "admin.listen", "[::]:9000"), 0);
    assert_int_equal(homing_webhook_guard_from_config(c, &g), 0);
    assert_int_equal(g.allow_private, 1);
    assert_int_equal(g.admin.family, 0); /* a wildcard */
    assert_int_equal(g.admin_port, 9000);
    assert_int_equal(homing_config_set(c, "admin.listen", ":9001"), 0);
    assert_int_equal(homing_webhook_guard_from_config(c, &g), 0);
    assert_int_equal(g.admin.family, 0);
    /* Not a boolean: refused when set, the value stays as it was. */
    assert_int_equal(homing_config_set(c, "webhooks.allow_private", "perhaps"), -EINVAL);
    assert_int_equal(homing_webhook_guard_from_config(c, &g), 0);
    assert_int_equal(g.allow_private, 1);
    homing_config_free(c);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/homing-notify-XXXXXX");
    if (store_test_make(f->dir, "h", f->db, sizeof f->db, &f->s) < 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int r = store_test_drop(f->s, f->dir);
    free(f);
    return r;
}

static void test_outbox(void **state)
{
    struct fixture *f = *state;
    struct homing_store *s = f->s;
    int64_t cursor = -1;
    assert_int_equal(homing_store_cursor_get(s, "notify", &cursor), 0);
    assert_int_equal(cursor, 0); /* set by the migration: the newest event then */
    int64_t w1, w2;
    assert_int_equal(homing_store_webhook_add(s, "http://127.0.0.1:1/a", "open,click", "k1", &w1),
                     0);
    assert_int_equal(homing_store_webhook_add(s, "http://127.0.0.1:1/b", "*", "k2", &w2), 0);

    int64_t n1, n2, n3;
    assert_int_equal(homing_notify_add(s, "open", 42, 1, 0, 100, "abcd", "t1", NULL, &n1), 0);
    assert_int_equal(homing_notify_add(s, "open", 42, 1, 0, 100, "abcd", "t1", NULL, NULL),
                     -EEXIST); /* the same event again: nothing new */
    assert_int_equal(homing_notify_add(s, "bounced", 42, 1, 0, 101, NULL, "t2", NULL, &n2), 0);
    assert_int_equal(homing_notify_add(s, "click", 43, 1, 1, 102, NULL, "t3", NULL, &n3), 0);
    assert_int_equal(homing_notify_add(s, "sent", 42, 1, 0, 103, NULL, "x", NULL, NULL), -EINVAL);
    assert_true(n1 < n2 && n2 < n3);

    int ex = 0;
    struct homing_notification_query q = {
        .kind = "open", .message = 42, .recipient = 1, .item = -1};
    assert_int_equal(homing_store_notification_exists(s, &q, &ex), 0);
    assert_int_equal(ex, 1);
    q.reader = "ffff";
    assert_int_equal(homing_store_notification_exists(s, &q, &ex), 0);
    assert_int_equal(ex, 0);

    /* w1 takes open and click (n1, n3), w2 everything; n2 waits behind n1 on w2. */
    struct homing_delivery *d;
    size_t n;
    int64_t now = homing_now_us() + 1000000;
    assert_int_equal(homing_store_deliveries_due_fair(s, now, 100, 100, &d, &n), 0);
    assert_int_equal(n, 4); /* n1 x 2, n3 x 2; n2 held back */
    assert_int_equal(d[0].notification, n1);
    assert_string_equal(d[0].n.text, "t1");
    json_t *pl = json_loads(d[0].n.payload, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(pl, "text")), "t1");
    json_decref(pl);
    homing_deliveries_free(d, n);

    /* A failed attempt is retried later; the next of the message still waits. */
    assert_int_equal(homing_store_delivery_result(s, n1, w2, 0, now + 60000000, "refused"), 0);
    assert_int_equal(homing_store_deliveries_due_fair(s, now, 100, 100, &d, &n), 0);
    for (size_t i = 0; i < n; i++) assert_false(d[i].webhook == w2 && d[i].n.message == 42);
    homing_deliveries_free(d, n);
    /* Delivered: the next one of message 42 on w2 is due. */
    assert_int_equal(homing_store_delivery_result(s, n1, w2, 1, 0, NULL), 0);
    assert_int_equal(homing_store_delivery_result(s, n1, w2, 1, 0, NULL), -ENOENT);
    assert_int_equal(homing_store_deliveries_due_fair(s, now, 100, 100, &d, &n), 0);
    int seen = 0;
    for (size_t i = 0; i < n; i++) seen |= d[i].webhook == w2 && d[i].notification == n2;
    assert_true(seen);
    homing_deliveries_free(d, n);

    /* Removing w1 fails what was pending for it. */
    assert_int_equal(homing_store_webhook_disable(s, w1), 0);
    assert_int_equal(homing_store_webhook_disable(s, w1), -ENOENT);
    int64_t pending, delivered, failed;
    assert_int_equal(homing_store_delivery_counts(s, &pending, &delivered, &failed), 0);
    assert_int_equal(delivered, 1);
    assert_int_equal(failed, 2);
    assert_int_equal(pending, 2);
    /* A new notification gets no delivery for the removed webhook. */
    assert_int_equal(homing_notify_add(s, "open", 44, 1, 0, 0, NULL, "t4", NULL, NULL), 0);
    assert_int_equal(homing_store_delivery_counts(s, &pending, NULL, NULL), 0);
    assert_int_equal(pending, 3);

    struct homing_notification *v;
    assert_int_equal(homing_store_notifications_list(s, n1, 100, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].kind, "bounced");
    homing_notifications_free(v, n);
    int64_t last;
    assert_int_equal(homing_store_notifications_last(s, &last), 0);
    assert_int_equal(last, n3 + 1);

    assert_int_equal(homing_store_cursor_set(s, "notify", 55), 0);
    assert_int_equal(homing_store_cursor_get(s, "notify", &cursor), 0);
    assert_int_equal(cursor, 55);
    assert_int_equal(homing_store_cursor_get(s, "other", &cursor), -ENOENT);

    struct homing_webhook *w;
    assert_int_equal(homing_store_webhook_get(s, w1, &w), 0);
    assert_true(w->disabled_us > 0);
    assert_string_equal(w->events, "open,click");
    homing_webhooks_free(w, 1);
    assert_int_equal(homing_store_webhook_get(s, 999, &w), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_first_open),
        cmocka_unit_test(test_policy_machines_silent),
        cmocka_unit_test(test_policy_clicks_and_reports),
        cmocka_unit_test(test_policy_sanitises),
        cmocka_unit_test(test_sign_vector),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_sse_parse),
        cmocka_unit_test(test_sse_limits),
        cmocka_unit_test(test_guard_classes),
        cmocka_unit_test(test_guard_urls),
        cmocka_unit_test(test_guard_config),
    };
    /* the outbox through the store, on every store backend */
    const struct CMUnitTest store_tests[] = {
        cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_fair, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return failed + STORE_RUN_ON_EVERY_BACKEND("notify", store_tests);
}
