/*
 * test_flood.c: flood control's token buckets (src/serve/flood.c, compiled in
 * here): the burst then the rate, and a flooder whose pair shares its slot
 * with another client's keeping its bucket (a direct-mapped table reset it at
 * each of the other's hits). Counting suppressed hits and their `suppressed`
 * event are the journal's (tests/unit/test_journal.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "flood.h"

static struct homing_addr addr(uint8_t last)
{
    struct homing_addr a;
    memset(&a, 0, sizeof a);
    a.family = 4;
    a.bytes[0] = 192, a.bytes[1] = 0, a.bytes[2] = 2, a.bytes[3] = last;
    return a;
}

static void test_burst_then_rate(void **state)
{
    (void)state;
    struct flood f;
    assert_int_equal(flood_init(&f, 1024, 2, 5), 0);
    struct homing_addr a = addr(1);
    int64_t t = 1000000;
    int admitted = 0;
    for (int i = 0; i < 100; i++) admitted += flood_admit(&f, &a, t, HOMING_EV_OPEN, 7, 1, 0);
    assert_int_equal(admitted, 5);
    /* One second later: two more tokens. */
    admitted = 0;
    for (int i = 0; i < 100; i++)
        admitted += flood_admit(&f, &a, t + 1000000, HOMING_EV_OPEN, 7, 1, 0);
    assert_int_equal(admitted, 2);
    /* Another URL of the same client has its own bucket. */
    assert_true(flood_admit(&f, &a, t + 1000000, HOMING_EV_OPEN, 7, 2, 0));
    flood_free(&f);
}

static void test_shared_slot_keeps_flooder(void **state)
{
    (void)state;
    /* Two slots: every pair falls in the same set. */
    struct flood f;
    assert_int_equal(flood_init(&f, 2, 2, 5), 0);
    struct homing_addr flooder = addr(1);
    int64_t t = 1000000;
    int admitted = 0;
    /* Between its hits, other clients (about half of them hash to the
     * flooder's own slot) fetch their pixels. */
    for (int i = 0; i < 1000; i++, t += 100) {
        admitted += flood_admit(&f, &flooder, t, HOMING_EV_OPEN, 7, 1, 0);
        struct homing_addr other = addr((uint8_t)(2 + i % 40));
        (void)flood_admit(&f, &other, t, HOMING_EV_OPEN, 7, 2, 0);
    }
    /* 0.1 s of flood: the burst of 5 and no refill to speak of. */
    assert_int_equal(admitted, 5);
    flood_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_shared_slot_keeps_flooder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
