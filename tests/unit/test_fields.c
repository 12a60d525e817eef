/*
 * test_fields.c: lib/mime/fields.c, the one reader of raw header fields:
 * LF and CRLF, folding, where the section ends, lines that are not fields
 * (reported and skipped over, never taken as fields), strict names, and
 * input that ends inside a field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/mime/mime_int.h"

static void expect_field(const char *m, size_t *pos, const char *name, const char *value)
{
    struct homing_mime_field f;
    assert_int_equal(homing_mime_field_next(m, strlen(m), pos, &f), 1);
    assert_int_equal(f.name.len, strlen(name));
    assert_memory_equal(f.name.p, name, f.name.len);
    assert_int_equal(f.value.len, strlen(value));
    assert_memory_equal(f.value.p, value, f.value.len);
    assert_int_equal(f.end, *pos);
    assert_ptr_equal(m + f.colon, f.value.p - 1);
}

static void test_lf_and_crlf(void **state)
{
    (void)state;
    const char *m = "From: a@b\nSubject: hi\n there\n\nbody\n";
    size_t pos = 0;
    struct homing_mime_field f;
    expect_field(m, &pos, "From", " a@b\n");
    expect_field(m, &pos, "Subject", " hi\n there\n");
    assert_int_equal(homing_mime_field_next(m, strlen(m), &pos, &f), 0);
    assert_string_equal(m + pos, "body\n");

    const char *c = "To: x\r\n\tfolded\r\nX-A:1\r\n\r\nb";
    pos = 0;
    expect_field(c, &pos, "To", " x\r\n\tfolded\r\n");
    expect_field(c, &pos, "X-A", "1\r\n");
    assert_int_equal(homing_mime_field_next(c, strlen(c), &pos, &f), 0);
    assert_string_equal(c + pos, "b");
}

static void test_no_body_and_unterminated(void **state)
{
    (void)state;
    const char *m = "A: 1\nB: 2";
    size_t pos = 0, len = strlen(m);
    struct homing_mime_field f;
    expect_field(m, &pos, "A", " 1\n");
    expect_field(m, &pos, "B", " 2");
    assert_int_equal(homing_mime_field_next(m, len, &pos, &f), 0);
    assert_int_equal(pos, len);
    /* Empty input: no fields, nothing read. */
    pos = 0;
    assert_int_equal(homing_mime_field_next("", 0, &pos, &f), 0);
    assert_int_equal(pos, 0);
}

static void test_not_fields(void **state)
{
    (void)state;
    /* A continuation with no field open, no colon on the first line (the
     * one on the continuation does not count), an empty name (its
     * continuation goes with it). */
    const char *m = " lead: y\njunk line\n more: x\n: empty\n z: w\nOk: 1\n\n";
    size_t pos = 0, len = strlen(m);
    struct homing_mime_field f;
    assert_int_equal(homing_mime_field_next(m, len, &pos, &f), -EBADMSG);
    assert_int_equal(f.start, 0);
    assert_int_equal(pos, strlen(" lead: y\n"));
    assert_int_equal(homing_mime_field_next(m, len, &pos, &f), -EBADMSG);
    assert_int_equal(pos, strlen(" lead: y\njunk line\n more: x\n"));
    assert_int_equal(homing_mime_field_next(m, len, &pos, &f), -EBADMSG);
    expect_field(m, &pos, "Ok", " 1\n");
    assert_int_equal(homing_mime_field_next(m, len, &pos, &f), 0);
    assert_int_equal(pos, len);
}

static void test_strict_names(void **state)
{
    (void)state;
    struct homing_mime_field f;
    size_t pos = 0;
    const char *a = "Subject : x\n";
    assert_int_equal(homing_mime_field_next(a, strlen(a), &pos, &f), 1);
    assert_int_equal(f.name.len, 7); /* blanks before the colon dropped */
    assert_false(homing_mime_field_name_strict(&f));
    assert_true(homing_mime_field_is(&f, "SUBJECT"));
    assert_false(homing_mime_field_is(&f, "Subj"));

    pos = 0;
    const char *b = "From sender Mon Jan  1 10:00:00 2024\n";
    assert_int_equal(homing_mime_field_next(b, strlen(b), &pos, &f), 1);
    assert_false(homing_mime_field_name_strict(&f));

    pos = 0;
    const char *c = "X-\x80: y\n";
    assert_int_equal(homing_mime_field_next(c, strlen(c), &pos, &f), 1);
    assert_false(homing_mime_field_name_strict(&f));

    pos = 0;
    const char *d = "X-Ok_1.2: y\n";
    assert_int_equal(homing_mime_field_next(d, strlen(d), &pos, &f), 1);
    assert_true(homing_mime_field_name_strict(&f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lf_and_crlf),
        cmocka_unit_test(test_no_body_and_unterminated),
        cmocka_unit_test(test_not_fields),
        cmocka_unit_test(test_strict_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
