#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include "homing/report.h"
static void test_einval(void **s)
{
    (void)s;
    struct homing_report *r = NULL;
    assert_int_equal(homing_report_parse("", 0, &r), -EINVAL);
}
int main(void)
{
    const struct CMUnitTest t[] = {cmocka_unit_test(test_einval)};
    return cmocka_run_group_tests(t, NULL, NULL);
}
