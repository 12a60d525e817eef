/*
 * test_send_attr.c: the pieces that tie what `homing send` sends to one
 * recipient (issue 17): the copy's mark (lib/track/mark.c), the relay's queue
 * id (homing_send_queue_id), queue-id ties in ingest-log
 * (lib/delivery/maillog_store.c) with a Message-ID two messages share, the
 * quoted-printable line map (lib/track/track_qp.c) and the notification
 * policy's one-per-state-step rule.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "homing/delivery.h"
#include "homing/notify.h"
#include "homing/store.h"
#include "homing/token.h"
#include "homing/track.h"
#include "homing/util.h"
#include "lib/track/track_int.h"

struct fixture {
    char dir[64], db[128], keys[128];
    struct homing_store *s;
    struct homing_keyring *k;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/homing-test-send-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->db, sizeof f->db, "%s/homing.db", f->dir);
    snprintf(f->keys, sizeof f->keys, "%s/keys", f->dir);
    char err[256];
    if (homing_store_open(f->db, NULL, "normal", &f->s, err, sizeof err) < 0) return -1;
    if (homing_keyring_create(f->keys) < 0 ||
        homing_keyring_load(f->keys, &f->k, err, sizeof err) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    homing_store_close(f->s);
    homing_keyring_free(f->k);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", f->db, suffix[i]);
        unlink(p);
    }
    unlink(f->keys);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_queue_id(void **state)
{
    (void)state;
    char q[HOMING_MAILLOG_QID_MAX];
    assert_int_equal(homing_send_queue_id("2.0.0 Ok: queued as 4Fz3Yk1Wb2z9sQ", q, sizeof q),
                     HOMING_MAILLOG_POSTFIX);
    assert_string_equal(q, "4Fz3Yk1Wb2z9sQ");
    assert_int_equal(homing_send_queue_id("Ok: 570 bytes queued as A435EA8809A", q, sizeof q),
                     HOMING_MAILLOG_POSTFIX);
    assert_string_equal(q, "A435EA8809A");
    assert_int_equal(homing_send_queue_id("OK id=1rAbCd-000Ab1-2x", q, sizeof q),
                     HOMING_MAILLOG_EXIM);
    assert_string_equal(q, "1rAbCd-000Ab1-2x");
    assert_int_equal(homing_send_queue_id("2.0.0 Ok", q, sizeof q), 0);
    assert_string_equal(q, "");
    assert_int_equal(homing_send_queue_id("Ok: queued as ", q, sizeof q), 0);
    assert_int_equal(homing_send_queue_id("grid=5", q, sizeof q), 0); /* not " id=" */
}

static void test_mark_round_trip(void **state)
{
    struct fixture *f = *state;
    const char *msgs[] = {
        "From: a@x\r\nTo: b@y\r\n\r\nbody\r\n", "From: a@x\nTo: b@y\n\nbody\n",
        "From: a@x\nTo: b@y", /* headers only, no final line break */
    };
    for (size_t i = 0; i < 3; i++) {
        struct homing_buf b, b2;
        homing_buf_init(&b, 1 << 20);
        homing_buf_init(&b2, 1 << 20);
        assert_int_equal(homing_copy_mark(f->k, 77, 2, msgs[i], strlen(msgs[i]), &b), 0);
        struct homing_copy_mark m;
        assert_int_equal(homing_copy_find(f->k, b.data, b.len, &m), 0);
        assert_int_equal(m.message, 77);
        assert_int_equal(m.recipient, 2);
        /* taken out again: the message as it was (but a final line break) */
        memmove(b.data + m.start, b.data + m.end, b.len - m.end);
        b.len -= m.end - m.start;
        size_t n = strlen(msgs[i]);
        assert_true(b.len >= n);
        assert_memory_equal(b.data, msgs[i], n);
        assert_int_equal(b.len - n, i == 2 ? 1 : 0);
        /* re-marked: one mark, the new one */
        homing_buf_reset(&b);
        assert_int_equal(homing_copy_mark(f->k, 77, 2, msgs[i], strlen(msgs[i]), &b), 0);
        assert_int_equal(homing_copy_mark(f->k, 78, 0, b.data, b.len, &b2), 0);
        assert_int_equal(homing_copy_find(f->k, b2.data, b2.len, &m), 0);
        assert_int_equal(m.message, 78);
        assert_int_equal(m.recipient, 0);
        homing_buf_free(&b);
        homing_buf_free(&b2);
    }
}

static void test_mark_refused(void **state)
{
    struct fixture *f = *state;
    struct homing_copy_mark m;
    const char *plain = "From: a@x\nTo: b@y\n\nX-Homing-Copy: in the body\n";
    assert_int_equal(homing_copy_find(f->k, plain, strlen(plain), &m), -ENOENT);
    struct homing_buf b;
    homing_buf_init(&b, 1 << 20);
    const char *msg = "From: a@x\nTo: b@y\n\nbody\n";
    assert_int_equal(homing_copy_mark(f->k, 5, 1, msg, strlen(msg), &b), 0);
    /* a token edited by hand */
    char *t = strstr(b.data, "X-Homing-Copy: ") + 15;
    t[3] = t[3] == 'A' ? 'B' : 'A';
    assert_int_equal(homing_copy_find(f->k, b.data, b.len, &m), -EBADMSG);
    t[3] = t[3] == 'A' ? 'B' : 'A';
    assert_int_equal(homing_copy_find(f->k, b.data, b.len, &m), 0);
    /* two marks: refused, never one of them */
    char two[1024];
    snprintf(two, sizeof two, "X-Homing-Copy: %.48s\n%s", t, b.data);
    assert_int_equal(homing_copy_find(f->k, two, strlen(two), &m), -EBADMSG);
    /* a token of another kind (the pixel's) is no mark */
    struct homing_token ot = {.kind = HOMING_TOKEN_OPEN, .message = 5, .recipient = 1};
    char tok[HOMING_TOKEN_LEN + 1], other[256];
    assert_int_equal(homing_token_encode(f->k, &ot, tok), 0);
    snprintf(other, sizeof other, "From: a@x\nX-Homing-Copy: %s\n\nbody\n", tok);
    assert_int_equal(homing_copy_find(f->k, other, strlen(other), &m), -EBADMSG);
    homing_buf_free(&b);
}

static uint64_t add_message(struct homing_store *s, const char *mid)
{
    const char *rcpt[] = {"ok@dest.test", "gone@dest.test"};
    struct homing_message_spec spec = {.message_id = mid,
                                       .mode = HOMING_MODE_PER_RECIPIENT,
                                       .recipients = rcpt,
                                       .n_recipients = 2};
    uint64_t id;
    assert_int_equal(homing_store_message_add(s, &spec, &id), 0);
    return id;
}

static const char *state_of(struct homing_store *s, uint64_t id, uint32_t idx, char *out)
{
    struct homing_message *m;
    assert_int_equal(homing_store_message_get(s, id, &m), 0);
    strcpy(out, m->recipients[idx - 1].state);
    homing_message_free(m);
    return out;
}

static void apply(struct homing_store *s, const char *line, const char *key)
{
    struct homing_maillog_line l;
    assert_int_equal(homing_maillog_parse(HOMING_MAILLOG_POSTFIX, line, strlen(line),
                                          INT64_C(1795370000000000), &l),
                     0);
    int rec;
    assert_int_equal(homing_maillog_apply(s, HOMING_MAILLOG_POSTFIX, &l, key, &rec), 0);
}

/* Two messages with one Message-ID: the first one's log lines stay its own. */
static void test_shared_message_id(void **state)
{
    struct fixture *f = *state;
    uint64_t a = add_message(f->s, "same@x"), b = add_message(f->s, "<same@x>");
    uint64_t found;
    assert_int_equal(homing_store_message_find(f->s, "same@x", &found), -ENOTUNIQ);
    /* send recorded A's copy for gone@ (recipient 2) as QA1 */
    assert_int_equal(homing_maillog_remember(f->s, HOMING_MAILLOG_POSTFIX, "4A0001", a, 2), 0);
    apply(f->s, "Nov 22 20:41:36 mx postfix/cleanup[1]: 4A0001: message-id=<same@x>", "k1");
    apply(f->s,
          "Nov 22 20:41:37 mx postfix/smtp[2]: 4A0001: to=<gone@dest.test>, relay=r[127.0.0.1]:25, "
          "delay=1, dsn=5.1.1, status=bounced (550 5.1.1 unknown)",
          "k2");
    /* a queue id send never saw, of a shared Message-ID: tied to nothing */
    apply(f->s, "Nov 22 20:41:38 mx postfix/cleanup[1]: 4B0009: message-id=<same@x>", "k3");
    apply(f->s,
          "Nov 22 20:41:39 mx postfix/smtp[2]: 4B0009: to=<ok@dest.test>, relay=r[127.0.0.1]:25, "
          "delay=1, dsn=5.1.1, status=bounced (550 5.1.1 unknown)",
          "k4");
    char st[64];
    assert_string_equal(state_of(f->s, a, 2, st), "bounced");
    assert_string_equal(state_of(f->s, a, 1, st), "registered");
    assert_string_equal(state_of(f->s, b, 1, st), "registered");
    assert_string_equal(state_of(f->s, b, 2, st), "registered");
}

static void test_qp_units(void **state)
{
    (void)state;
    const char raw[] = "line one=\r\n wrapped =C3=A9\nbare lf\r\nend=\r\n";
    const char dec[] = "line one wrapped \xc3\xa9\nbare lf\r\nend";
    struct track_qp_unit *u;
    size_t n;
    assert_int_equal(track_qp_units(raw, sizeof raw - 1, dec, sizeof dec - 1, &u, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(u[0].raw_start, 0);
    assert_int_equal(u[0].dec_end, strlen("line one wrapped \xc3\xa9"));
    assert_memory_equal(raw + u[2].raw_tail, "=\r\n", 3); /* a final soft break */
    assert_int_equal(u[2].dec_brk, sizeof dec - 1);
    free(u);
    /* a decoding that does not match: refused (the part is re-encoded whole) */
    assert_int_equal(track_qp_units(raw, sizeof raw - 1, "other", 5, &u, &n), -EINVAL);
}

static void test_notify_once_per_state(void **state)
{
    (void)state;
    struct homing_event ev = {.kind = HOMING_EV_DELAYED, .message = 9, .recipient = 1};
    struct homing_notify_facts fa = {.event = &ev, .subject = "s", .address = "a@b"};
    struct homing_notify_decision d[HOMING_NOTIFY_POLICY_MAX];
    assert_int_equal(homing_notify_policy(&fa, d), 1);
    fa.state_notified = 1;
    assert_int_equal(homing_notify_policy(&fa, d), 0);
    ev.kind = HOMING_EV_DELIVERED;
    assert_int_equal(homing_notify_policy(&fa, d), 0);
    fa.state_notified = 0;
    assert_int_equal(homing_notify_policy(&fa, d), 1);
    assert_string_equal(d[0].kind, "delivered");
    assert_true(homing_notify_state_rank("delayed") < homing_notify_state_rank("delivered"));
    assert_true(homing_notify_state_rank("delivered") < homing_notify_state_rank("bounced"));
    assert_int_equal(homing_notify_state_rank("open"), 0);
}

static void test_demo_id(void **state)
{
    (void)state;
    for (int i = 0; i < 1000; i++) assert_true(homing_id_random() != HOMING_ID_DEMO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_id),
        cmocka_unit_test_setup_teardown(test_mark_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mark_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_message_id, setup, teardown),
        cmocka_unit_test(test_qp_units),
        cmocka_unit_test(test_notify_once_per_state),
        cmocka_unit_test(test_demo_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
