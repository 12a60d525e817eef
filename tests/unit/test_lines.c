/*
 * test_lines.c: lib/util/lines.c. Lines come out without their LF or CRLF,
 * numbered from 1 even when skipped; a line over the maximum is refused (not
 * split), a last line without a line end is still a line, comments and blank
 * lines are passed over only when asked; files are read whole up to their
 * maximum and a NUL byte is refused.
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

#include "homing/util.h"

static void test_split(void **state)
{
    (void)state;
    char text[] = "one\r\n# comment\n\ntwo\nthree";
    struct homing_lines l;
    homing_lines_init(&l, text, strlen(text), 16, HOMING_LINES_SKIP);
    char *line;
    size_t len;
    assert_int_equal(homing_lines_next(&l, &line, &len), 1);
    assert_string_equal(line, "one");
    assert_int_equal(len, 3);
    assert_int_equal(l.lineno, 1);
    assert_int_equal(homing_lines_next(&l, &line, &len), 1);
    assert_string_equal(line, "two");
    assert_int_equal(l.lineno, 4);
    assert_int_equal(homing_lines_next(&l, &line, &len), 1);
    assert_string_equal(line, "three");
    assert_int_equal(l.lineno, 5);
    assert_int_equal(homing_lines_next(&l, &line, &len), 0);
    assert_int_equal(homing_lines_next(&l, &line, &len), 0);
}

static void test_no_skip_and_limit(void **state)
{
    (void)state;
    char text[] = "#kept\n\n12345\n123456\nafter\n";
    struct homing_lines l;
    homing_lines_init(&l, text, strlen(text), 5, 0);
    char *line;
    assert_int_equal(homing_lines_next(&l, &line, NULL), 1);
    assert_string_equal(line, "#kept");
    assert_int_equal(homing_lines_next(&l, &line, NULL), 1);
    assert_string_equal(line, "");
    assert_int_equal(homing_lines_next(&l, &line, NULL), 1);
    assert_string_equal(line, "12345");
    /* Six bytes against a maximum of five: refused, and the number says where. */
    assert_int_equal(homing_lines_next(&l, &line, NULL), -E2BIG);
    assert_int_equal(l.lineno, 4);
    /* The limit counts the line without its CRLF. */
    char crlf[] = "12345\r\n";
    homing_lines_init(&l, crlf, strlen(crlf), 5, 0);
    assert_int_equal(homing_lines_next(&l, &line, NULL), 1);
    assert_string_equal(line, "12345");
    assert_int_equal(homing_lines_next(&l, &line, NULL), 0);
    /* Nothing at all. */
    homing_lines_init(&l, NULL, 0, 5, 0);
    assert_int_equal(homing_lines_next(&l, &line, NULL), 0);
}

static void test_file_read(void **state)
{
    (void)state;
    char path[] = "/tmp/homing-test-lines-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "a\nb\n", 4), 4);
    struct homing_buf b;
    assert_int_equal(homing_file_read(path, 4, &b), 0);
    assert_int_equal(b.len, 4);
    assert_string_equal(b.data, "a\nb\n");
    homing_buf_free(&b);
    assert_int_equal(homing_file_read(path, 3, &b), -E2BIG);
    assert_int_equal(write(fd, "\0", 1), 1);
    assert_int_equal(homing_file_read(path, 100, &b), -EINVAL);
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(homing_file_read(path, 100, &b), 0);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    homing_buf_free(&b);
    close(fd);
    unlink(path);
    assert_int_equal(homing_file_read(path, 100, &b), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_no_skip_and_limit),
        cmocka_unit_test(test_file_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
