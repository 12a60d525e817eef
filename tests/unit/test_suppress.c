/*
 * test_suppress.c: the suppression list (migration 0015, lib/store/suppress.c,
 * lib/store/sqlite_suppress.c, lib/service/suppress.c) and the one-click
 * unsubscribe pieces of the library (the token kind, its URL, the copy's
 * List-Unsubscribe fields in lib/track/unsubscribe.c): address normalisation,
 * a sender's own entry against the one for every sender, idempotent adds,
 * removal, the automatic listing of a recipient with its one event, and the
 * check `homing send` and `homing relay` make. On every store backend
 * (store_backends.h).
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
#include <sys/stat.h>
#include <unistd.h>

#include "homing/service.h"
#include "homing/store.h"
#include "homing/token.h"
#include "homing/track.h"
#include "homing/util.h"
#include "store_backends.h"

struct fixture {
    char dir[64];
    char db[STORE_TEST_URL_MAX];
    struct homing_store *s;
    uint64_t msg, anon;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/homing-test-suppress-XXXXXX");
    if (store_test_make(f->dir, "homing", f->db, sizeof f->db, &f->s) < 0) return -1;
    const char *rcpts[] = {"Bob@Example.NET", "carol@example.com"};
    struct homing_message_spec m = {
        .subject = "t", .sender = "Alice@Example.ORG", .recipients = rcpts, .n_recipients = 2};
    if (homing_store_message_add(f->s, &m, &f->msg) < 0) return -1;
    m.sender = NULL;
    if (homing_store_message_add(f->s, &m, &f->anon) < 0) return -1;
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

static void test_normalize(void **state)
{
    (void)state;
    char out[HOMING_SUPPRESS_ADDR_MAX + 1];
    static const struct {
        const char *in, *want; /* want NULL: -EINVAL */
    } cases[] = {
        {"bob@example.net", "bob@example.net"},
        {"Bob@Example.NET", "bob@example.net"},
        {"  <BOB@example.net>\t", "bob@example.net"},
        {"\"a@b\"@example.net", "\"a@b\"@example.net"},
        {"b\xc3\xa9@EXAMPLE.net", "b\xc3\xa9@example.net"}, /* only ASCII folds */
        {"", NULL},
        {"bob", NULL},
        {"@example.net", NULL},
        {"bob@", NULL},
        {"bob @example.net", NULL},
        {"bob@exa\nmple.net", NULL},
        {"bob@example.net,eve@example.net", NULL},
        {"<bob@example.net", NULL},
        {"bob@example.net\x7f", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int r = homing_suppress_normalize(cases[i].in, out, sizeof out);
        if (cases[i].want) {
            assert_int_equal(r, 0);
            assert_string_equal(out, cases[i].want);
        } else {
            assert_int_equal(r, -EINVAL);
        }
    }
    /* the named limit, and a destination too small */
    char big[HOMING_SUPPRESS_ADDR_MAX + 8];
    memset(big, 'a', sizeof big);
    memcpy(big + HOMING_SUPPRESS_ADDR_MAX - 12, "@example.net", 12);
    big[HOMING_SUPPRESS_ADDR_MAX] = '\0';
    assert_int_equal(homing_suppress_normalize(big, out, sizeof out), 0);
    big[HOMING_SUPPRESS_ADDR_MAX - 13] = 'a';
    memcpy(big + HOMING_SUPPRESS_ADDR_MAX - 11, "@example.net", 12);
    big[HOMING_SUPPRESS_ADDR_MAX + 1] = '\0';
    assert_int_equal(homing_suppress_normalize(big, out, sizeof out), -EINVAL);
    char small[8];
    assert_int_equal(homing_suppress_normalize("bob@example.net", small, sizeof small), -ENOSPC);

    for (int r = HOMING_SUPPRESS_HARD_BOUNCE; r <= HOMING_SUPPRESS_MANUAL; r++)
        assert_int_equal(homing_suppress_reason_parse(homing_suppress_reason_name(r)), r);
    assert_null(homing_suppress_reason_name(0));
    assert_null(homing_suppress_reason_name(5));
    assert_int_equal(homing_suppress_reason_parse("bounce"), -EINVAL);
}

static void test_add_find_remove(void **state)
{
    struct fixture *f = *state;
    struct homing_suppression e;
    int added = -1;
    /* nothing listed: every check says "send" */
    assert_int_equal(homing_store_suppress_find(f->s, "alice@example.org", "bob@example.net", &e),
                     0);
    /* for every sender */
    assert_int_equal(homing_store_suppress_add(f->s, NULL, "BOB@example.net",
                                               HOMING_SUPPRESS_MANUAL, 0, 0, "by phone", &added),
                     0);
    assert_int_equal(added, 1);
    assert_int_equal(homing_store_suppress_add(f->s, "", "bob@EXAMPLE.net",
                                               HOMING_SUPPRESS_COMPLAINT, 0, 0, NULL, &added),
                     0);
    assert_int_equal(added, 0); /* listed already: the first entry stays */
    assert_int_equal(homing_store_suppress_find(f->s, "anyone@example.com", "Bob@Example.Net", &e),
                     1);
    assert_string_equal(e.address, "bob@example.net");
    assert_string_equal(e.sender, "");
    assert_int_equal(e.reason, HOMING_SUPPRESS_MANUAL);
    assert_string_equal(e.note, "by phone");
    assert_int_equal(homing_store_suppress_find(f->s, NULL, "bob@example.net", NULL), 1);

    /* a sender's own entry wins over the one for every sender */
    assert_int_equal(homing_store_suppress_add(f->s, "Alice@example.org", "bob@example.net",
                                               HOMING_SUPPRESS_UNSUBSCRIBE, f->msg, 1, NULL,
                                               &added),
                     0);
    assert_int_equal(added, 1);
    assert_int_equal(homing_store_suppress_find(f->s, "alice@example.org", "bob@example.net", &e),
                     1);
    assert_int_equal(e.reason, HOMING_SUPPRESS_UNSUBSCRIBE);
    assert_string_equal(e.sender, "alice@example.org");
    assert_true(e.message == f->msg && e.recipient == 1);

    /* a sender's entry holds for that sender only */
    assert_int_equal(homing_store_suppress_add(f->s, "alice@example.org", "carol@example.com",
                                               HOMING_SUPPRESS_HARD_BOUNCE, 0, 0, NULL, NULL),
                     0);
    assert_int_equal(
        homing_store_suppress_find(f->s, "alice@example.org", "carol@example.com", NULL), 1);
    assert_int_equal(homing_store_suppress_find(f->s, "zed@example.org", "carol@example.com", NULL),
                     0);
    assert_int_equal(homing_store_suppress_find(f->s, NULL, "carol@example.com", NULL), 0);

    struct homing_suppression *list = NULL;
    size_t n = 0;
    assert_int_equal(homing_store_suppress_list(f->s, NULL, &list, &n), 0);
    assert_int_equal(n, 3);
    free(list);
    assert_int_equal(homing_store_suppress_list(f->s, "", &list, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].address, "bob@example.net");
    free(list);
    assert_int_equal(homing_store_suppress_list(f->s, "ALICE@example.org", &list, &n), 0);
    assert_int_equal(n, 2);
    free(list);

    /* removal: one sender's entry, then every sender's */
    size_t removed = 0;
    assert_int_equal(
        homing_store_suppress_remove(f->s, "alice@example.org", "bob@example.net", &removed), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(homing_store_suppress_find(f->s, "alice@example.org", "bob@example.net", &e),
                     1);
    assert_int_equal(e.reason, HOMING_SUPPRESS_MANUAL); /* the entry for every sender is left */
    assert_int_equal(homing_store_suppress_add(f->s, "zed@example.org", "bob@example.net",
                                               HOMING_SUPPRESS_MANUAL, 0, 0, NULL, NULL),
                     0);
    assert_int_equal(homing_store_suppress_remove(f->s, NULL, "Bob@example.net", &removed), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(homing_store_suppress_remove(f->s, NULL, "bob@example.net", &removed),
                     -ENOENT);

    /* bad input */
    assert_int_equal(homing_store_suppress_add(f->s, NULL, "not an address", HOMING_SUPPRESS_MANUAL,
                                               0, 0, NULL, NULL),
                     -EINVAL);
    assert_int_equal(homing_store_suppress_add(f->s, "x", "bob@example.net", HOMING_SUPPRESS_MANUAL,
                                               0, 0, NULL, NULL),
                     -EINVAL);
    assert_int_equal(homing_store_suppress_add(f->s, NULL, "bob@example.net", 9, 0, 0, NULL, NULL),
                     -EINVAL);
    char note[HOMING_SUPPRESS_NOTE_MAX + 2];
    memset(note, 'n', sizeof note - 1);
    note[sizeof note - 1] = '\0';
    assert_int_equal(homing_store_suppress_add(f->s, NULL, "bob@example.net",
                                               HOMING_SUPPRESS_MANUAL, 0, 0, note, NULL),
                     -EINVAL);
}

static int count_suppression_events(struct fixture *f, uint64_t msg, const char *action,
                                    uint32_t *recipient)
{
    struct homing_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(homing_store_events_list(f->s, msg, 0, 100, &evs, &n), 0);
    int k = 0;
    char want[64];
    snprintf(want, sizeof want, "\"action\":\"%s\"", action);
    for (size_t i = 0; i < n; i++)
        if (evs[i].kind == HOMING_EV_SUPPRESSION && evs[i].detail && strstr(evs[i].detail, want)) {
            k++;
            if (recipient) *recipient = evs[i].recipient;
        }
    homing_events_free(evs, n);
    return k;
}

static void test_recipient_and_check(void **state)
{
    struct fixture *f = *state;
    int added = -1;
    /* listed under the message's From, normalised, with one event */
    assert_int_equal(homing_store_suppress_recipient(f->s, f->msg, 1, HOMING_SUPPRESS_HARD_BOUNCE,
                                                     "5.1.1", &added),
                     0);
    assert_int_equal(added, 1);
    assert_int_equal(
        homing_store_suppress_recipient(f->s, f->msg, 1, HOMING_SUPPRESS_COMPLAINT, NULL, &added),
        0);
    assert_int_equal(added, 0);
    uint32_t rc = 0;
    assert_int_equal(count_suppression_events(f, f->msg, "listed", &rc), 1);
    assert_int_equal(rc, 1);

    struct homing_suppression hit;
    char err[HOMING_SUPPRESS_ADDR_MAX * 4 + 128];
    assert_int_equal(
        homing_suppressed(f->s, "alice@example.org", "BOB@example.net", &hit, err, sizeof err), 1);
    assert_int_equal(hit.reason, HOMING_SUPPRESS_HARD_BOUNCE);
    assert_string_equal(hit.note, "5.1.1");
    assert_non_null(strstr(err, "bob@example.net is on the suppression list (hard_bounce since "));
    assert_null(strstr(err, "every sender"));
    /* another sender may still write to bob; carol was never listed */
    assert_int_equal(homing_suppressed(f->s, "other@example.org", "bob@example.net", NULL, NULL, 0),
                     0);
    assert_int_equal(
        homing_suppressed(f->s, "alice@example.org", "carol@example.com", NULL, NULL, 0), 0);
    assert_int_equal(homing_suppressed(f->s, "alice@example.org", "no address", NULL, NULL, 0),
                     -EINVAL);

    /* the refusal's event */
    assert_int_equal(homing_suppress_refused(f->s, f->msg, 1, &hit, "relay"), 0);
    assert_int_equal(count_suppression_events(f, f->msg, "refused", &rc), 1);

    /* a message without a From lists for every sender */
    assert_int_equal(homing_store_suppress_recipient(f->s, f->anon, 2, HOMING_SUPPRESS_UNSUBSCRIBE,
                                                     NULL, &added),
                     0);
    assert_int_equal(added, 1);
    assert_int_equal(
        homing_suppressed(f->s, "zed@example.org", "carol@example.com", &hit, err, sizeof err), 1);
    assert_non_null(strstr(err, ", for every sender)"));

    /* unknown message or recipient */
    assert_int_equal(
        homing_store_suppress_recipient(f->s, f->msg, 9, HOMING_SUPPRESS_HARD_BOUNCE, NULL, NULL),
        -ENOENT);
    assert_int_equal(homing_store_suppress_recipient(f->s, f->msg ^ 1, 1,
                                                     HOMING_SUPPRESS_HARD_BOUNCE, NULL, NULL),
                     -ENOENT);
    assert_int_equal(count_suppression_events(f, f->msg, "listed", NULL), 1);

    /* `homing forget` leaves no row naming the address: its entries go too */
    struct homing_forget_result fr;
    assert_int_equal(homing_store_privacy_forget(f->s, "BOB@example.net", &fr), 0);
    assert_int_equal(homing_store_suppress_find(f->s, "alice@example.org", "bob@example.net", NULL),
                     0);
    assert_int_equal(homing_store_suppress_find(f->s, NULL, "carol@example.com", NULL), 1);
}

static struct homing_keyring *test_keys(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/token.keys", dir);
    struct homing_keyring *k = NULL;
    assert_int_equal(homing_keyring_create(path), 0);
    assert_int_equal(homing_keyring_load(path, &k, NULL, 0), 0);
    unlink(path);
    return k;
}

static void test_unsubscribe_token_and_fields(void **state)
{
    struct fixture *f = *state;
    struct homing_keyring *k = test_keys(f->dir);
    /* the token names a recipient, never 0 */
    struct homing_token t = {.kind = HOMING_TOKEN_UNSUBSCRIBE, .message = 42, .recipient = 0};
    char tok[HOMING_TOKEN_LEN + 1];
    assert_int_equal(homing_token_encode(k, &t, tok), -EINVAL);
    t.recipient = 3;
    t.item = 1;
    assert_int_equal(homing_token_encode(k, &t, tok), -EINVAL);
    t.item = 0;
    assert_int_equal(homing_token_encode(k, &t, tok), 0);
    struct homing_token back;
    assert_int_equal(homing_token_verify(k, tok, strlen(tok), &back), 0);
    assert_true(back.kind == HOMING_TOKEN_UNSUBSCRIBE && back.recipient == 3);

    struct homing_buf url;
    homing_buf_init(&url, 1024);
    assert_int_equal(
        homing_token_url("https://t.example/", k, HOMING_TOKEN_UNSUBSCRIBE, 42, 3, 0, &url), 0);
    assert_int_equal(strncmp(url.data, "https://t.example/u/", 20), 0);
    assert_int_equal(url.len, 20 + HOMING_TOKEN_LEN);
    assert_int_equal(homing_token_verify(k, url.data + 20, HOMING_TOKEN_LEN, &back), 0);
    homing_buf_free(&url);

    /* the fields: the message's own pair replaced, CRLF kept, body untouched */
    static const char msg[] = "From: a@example.org\r\n"
                              "List-Unsubscribe: <mailto:x@example.org>\r\n"
                              "Subject: s\r\n"
                              "list-unsubscribe-post: List-Unsubscribe=One-Click\r\n"
                              "\r\n"
                              "List-Unsubscribe: body text\r\n";
    struct homing_buf out;
    homing_buf_init(&out, 1 << 20);
    assert_int_equal(
        homing_list_unsubscribe_add("http://127.0.0.1:8080", k, 42, 3, msg, sizeof msg - 1, &out),
        0);
    const char *p = out.data;
    assert_int_equal(strncmp(p,
                             "From: a@example.org\r\nSubject: s\r\nList-Unsubscribe: "
                             "<http://127.0.0.1:8080/u/",
                             76),
                     0);
    const char *tail = strstr(p, ">\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                                 "\r\nList-Unsubscribe: body text\r\n");
    assert_non_null(tail);
    assert_int_equal(tail - p, 76 + HOMING_TOKEN_LEN);
    assert_int_equal(homing_token_verify(k, p + 76, HOMING_TOKEN_LEN, &back), 0);
    assert_true(back.kind == HOMING_TOKEN_UNSUBSCRIBE && back.message == 42 && back.recipient == 3);
    /* recipient 0 (a copy for everyone): refused, out unchanged */
    size_t before = out.len;
    assert_int_equal(
        homing_list_unsubscribe_add("http://127.0.0.1:8080", k, 42, 0, msg, sizeof msg - 1, &out),
        -EINVAL);
    assert_int_equal(out.len, before);
    homing_buf_free(&out);
    homing_keyring_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test_setup_teardown(test_add_find_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recipient_and_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribe_token_and_fields, setup, teardown),
    };
    return STORE_RUN_ON_EVERY_BACKEND("suppress", tests);
}
