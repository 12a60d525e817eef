/*
 * test_service.c: lib/service/message.c, the one validation of a message to
 * register. Every field's rule, accepted and refused; links stored in the
 * form homing_url_check gives; the API's JSON (types, duplicates, modes); and
 * registration into a real SQLite store with its tracking mode.
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

#include "homing/service.h"

static const char *const one_rcpt[] = {"bob@example.net"};

static struct homing_message_request base(void)
{
    return (struct homing_message_request){.subject = "Q3 offer",
                                           .sender = "alice@example.org",
                                           .recipients = one_rcpt,
                                           .n_recipients = 1,
                                           .mode = HOMING_MODE_PER_RECIPIENT,
                                           .tracking = HOMING_TRACKING_INDIVIDUAL};
}

static int check(const struct homing_message_request *rq, char *err)
{
    struct homing_message_checked c;
    int r = homing_message_check(rq, &c, err, HOMING_MESSAGE_ERR_MAX);
    if (r == 0) homing_message_checked_free(&c);
    return r;
}

static void test_fields(void **state)
{
    (void)state;
    char err[HOMING_MESSAGE_ERR_MAX];
    struct homing_message_request rq = base();
    assert_int_equal(check(&rq, err), 0);
    /* Subjects: one line of UTF-8; other controls are kept (shown escaped). */
    static const struct {
        const char *subject;
        int ok;
    } subjects[] = {
        {"caf\xc3\xa9 \xe2\x82\xac", 1},
        {"tab\there", 1},
        {"esc \x1b[2J", 1},
        {"two\r\nlines", 0},
        {"bare\rcr", 0},
        {"not utf-8 \xff", 0},
        {"overlong \xc0\xaf", 0},
        {"surrogate \xed\xa0\x80", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
        rq = base();
        rq.subject = subjects[i].subject;
        int r = check(&rq, err);
        if ((r == 0) != subjects[i].ok) fail_msg("subject %zu: %d (%s)", i, r, err);
        if (r < 0) assert_non_null(strstr(err, "subject"));
    }
    char long_subject[HOMING_MESSAGE_TEXT_MAX + 2];
    memset(long_subject, 'a', sizeof long_subject - 1);
    long_subject[sizeof long_subject - 1] = '\0';
    rq = base();
    rq.subject = long_subject;
    assert_int_equal(check(&rq, err), -EINVAL);
    long_subject[HOMING_MESSAGE_TEXT_MAX] = '\0';
    assert_int_equal(check(&rq, err), 0);
    /* Addresses, the sender's and each recipient's. */
    static const struct {
        const char *addr;
        int ok;
    } addrs[] = {
        {"a@b", 1},         {"j\xc3\xb6rg@example.de", 1}, {"nobody", 0},      {"@example.org", 0},
        {"bob@", 0},        {"bob @example.org", 0},       {"b<o>b@x.org", 0}, {"a,b@x.org", 0},
        {"b\x1b@x.org", 0}, {"b\xc2\x9b@x.org", 0},        {"b\x7f@x.org", 0},
    };
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        const char *r1[] = {"bob@example.net", addrs[i].addr};
        rq = base();
        rq.recipients = r1;
        rq.n_recipients = 2;
        int r = check(&rq, err);
        if ((r == 0) != addrs[i].ok) fail_msg("recipient %zu: %d (%s)", i, r, err);
        if (r < 0) {
            assert_non_null(strstr(err, "recipient 2"));
            assert_null(strchr(err, 0x1b)); /* the value is shown escaped */
        }
        assert_int_equal(homing_message_address_ok(addrs[i].addr), addrs[i].ok);
        rq = base();
        rq.sender = addrs[i].addr;
        assert_int_equal(check(&rq, err) == 0, addrs[i].ok);
    }
    rq = base();
    rq.n_recipients = 0;
    assert_int_equal(check(&rq, err), -EINVAL);
    rq = base();
    rq.n_recipients = HOMING_STORE_RECIPIENTS_MAX + 1;
    assert_int_equal(check(&rq, err), -E2BIG);
    /* Message-ID, mode, tracking. */
    rq = base();
    rq.message_id = "a b@example.org";
    assert_int_equal(check(&rq, err), -EINVAL);
    rq.message_id = "abc.1@example.org";
    assert_int_equal(check(&rq, err), 0);
    rq.mode = 7;
    assert_int_equal(check(&rq, err), -EINVAL);
    rq = base();
    rq.tracking = HOMING_TRACKING_INHERIT;
    assert_int_equal(check(&rq, err), -EINVAL);
}

static void test_links(void **state)
{
    (void)state;
    char err[HOMING_MESSAGE_ERR_MAX];
    const char *links[] = {"HTTPS://Example.com/caf\xc3\xa9 x", "{{doc:report.pdf}}",
                           "http://a.example:8080/?q=1#f"};
    struct homing_message_request rq = base();
    rq.links = links;
    rq.n_links = 3;
    struct homing_message_checked c;
    assert_int_equal(homing_message_check(&rq, &c, err, sizeof err), 0);
    assert_int_equal(c.n_links, 3);
    assert_string_equal(c.links[0], "https://Example.com/caf%C3%A9%20x");
    assert_string_equal(c.links[1], "{{doc:report.pdf}}");
    assert_string_equal(c.links[2], "http://a.example:8080/?q=1#f");
    homing_message_checked_free(&c);
    static const char *const bad[] = {"https://example.com/\r\nSet-Cookie: x=1",
                                      "javascript:alert(1)", "https://exa mple.com/",
                                      "https://example.com/\x0b", "https://bank@evil.example/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *l2[] = {"https://ok.example/", bad[i]};
        rq.links = l2;
        rq.n_links = 2;
        assert_int_equal(check(&rq, err), -EINVAL);
        assert_non_null(strstr(err, "link 2"));
        assert_non_null(strstr(err, "not a valid http or https destination"));
        for (const char *p = err; *p; p++) assert_true((unsigned char)*p >= 0x20);
    }
}

static void test_json(void **state)
{
    (void)state;
    char err[HOMING_MESSAGE_ERR_MAX];
    struct homing_message_request rq;
    void *hold;
    const char *good = "{\"subject\":\"S\",\"from\":\"a@x.org\",\"recipients\":[\"b@y.org\","
                       "\"c@z.org\"],\"links\":[\"https://e.example/\"],\"mode\":\"per-message\","
                       "\"tracking\":\"anonymous\",\"message_id\":\"m@x\"}";
    assert_int_equal(homing_message_request_json(good, strlen(good), &rq, &hold, err, sizeof err),
                     0);
    assert_string_equal(rq.subject, "S");
    assert_int_equal(rq.n_recipients, 2);
    assert_string_equal(rq.recipients[1], "c@z.org");
    assert_int_equal(rq.n_links, 1);
    assert_int_equal(rq.mode, HOMING_MODE_PER_MESSAGE);
    assert_int_equal(rq.tracking, HOMING_TRACKING_ANONYMOUS);
    homing_message_json_free(hold);
    static const struct {
        const char *body, *says;
    } bad[] = {
        {"", "body"},
        {"[1]", "not a JSON object"},
        {"{\"recipients\":\"b@y.org\"}", "arrays of strings"},
        {"{\"recipients\":[1]}", "arrays of strings"},
        {"{\"recipients\":[\"b@y.org\"],\"subject\":5}", "subject"},
        {"{\"recipients\":[\"b@y.org\"],\"mode\":\"weekly\"}", "mode"},
        {"{\"recipients\":[\"b@y.org\"],\"tracking\":\"some\"}", "tracking"},
        {"{\"recipients\":[\"b@y.org\"],\"subject\":\"a\",\"subject\":\"b\"}", "not a JSON"},
        {"{\"recipients\":[\"b\\u0000@y.org\"]}", "not a JSON"}, /* jansson refuses \\u0000 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hold = NULL;
        int r = homing_message_request_json(bad[i].body, strlen(bad[i].body), &rq, &hold, err,
                                            sizeof err);
        if (r == 0) fail_msg("body %zu accepted", i);
        assert_null(hold);
        if (!strstr(err, bad[i].says)) fail_msg("body %zu: \"%s\"", i, err);
    }
}

static void test_register(void **state)
{
    (void)state;
    char dir[] = "/tmp/homing-test-service-XXXXXX", db[96], err[HOMING_MESSAGE_ERR_MAX];
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/homing.db", dir);
    struct homing_store *st;
    assert_int_equal(homing_store_open(db, NULL, "normal", &st, err, sizeof err), 0);
    const char *links[] = {"https://example.com/a b"};
    struct homing_message_request rq = base();
    rq.links = links;
    rq.n_links = 1;
    rq.tracking = HOMING_TRACKING_DELIVERY;
    uint64_t id = 0;
    assert_int_equal(homing_message_register(st, &rq, &id, err, sizeof err), 0);
    struct homing_message *m;
    assert_int_equal(homing_store_message_get(st, id, &m), 0);
    assert_string_equal(m->links[0].url, "https://example.com/a%20b");
    homing_message_free(m);
    int tracking = -9, *modes = NULL;
    size_t n = 0;
    assert_int_equal(homing_store_tracking_get(st, id, &tracking, &modes, &n), 0);
    assert_int_equal(tracking, HOMING_TRACKING_DELIVERY);
    free(modes);
    /* A refused request leaves nothing in the store. */
    rq.subject = "two\nlines";
    uint64_t id2 = 0;
    assert_int_equal(homing_message_register(st, &rq, &id2, err, sizeof err), -EINVAL);
    assert_int_equal(id2, 0);
    struct homing_message *list;
    size_t nm = 0;
    assert_int_equal(homing_store_message_list(st, 10, &list, &nm), 0);
    assert_int_equal(nm, 1);
    homing_messages_free(list, nm);
    homing_store_close(st);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_register),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
