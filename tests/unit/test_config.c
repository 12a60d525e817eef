/*
 * test_config.c: defaults, loading, unknown options refused, typed getters,
 * relative paths, and every option documented in docs/configuration.md.
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

#include "homing/config.h"

static void test_defaults_and_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/homing-test-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/homing.conf", dir);
    FILE *f = fopen(path, "w");
    fputs("[public]\nlisten = 127.0.0.5:9000\n[serve]\nthreads = 3\n[keys]\nfile = k.keys\n", f);
    fclose(f);

    struct homing_config *c;
    assert_int_equal(homing_config_new(dir, &c), 0);
    assert_string_equal(homing_config_get(c, "admin.listen"), "127.0.0.1:8081");
    char err[256];
    assert_int_equal(homing_config_load(c, path, err, sizeof err), 0);
    assert_string_equal(homing_config_get(c, "public.listen"), "127.0.0.5:9000");
    long long n;
    assert_int_equal(homing_config_get_int(c, "serve.threads", 1, 64, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(homing_config_get_int(c, "serve.threads", 4, 64, &n), -EINVAL);
    char want[160];
    snprintf(want, sizeof want, "%s/k.keys", dir);
    assert_string_equal(homing_config_get(c, "keys.file"), want);
    assert_null(homing_config_get(c, "no.such"));
    assert_int_equal(homing_config_set(c, "serve.threads", "2"), 0);
    assert_int_equal(homing_config_set(c, "serve.thread", "2"), -ENOENT);

    f = fopen(path, "w");
    fputs("[public]\nlisen = 1\n", f);
    fclose(f);
    assert_int_equal(homing_config_load(c, path, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "unknown option public.lisen"));
    homing_config_free(c);
    unlink(path);
    rmdir(dir);
}

static void test_every_option_documented(void **state)
{
    (void)state;
    /* The tests run from the source root. */
    FILE *f = fopen("docs/configuration.md", "r");
    assert_non_null(f);
    static char doc[1 << 20];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    for (const struct homing_config_option *o = homing_config_options; o->name; o++) {
        char needle[160];
        snprintf(needle, sizeof needle, "`%s`", o->name);
        if (!strstr(doc, needle)) fail_msg("option %s is not in docs/configuration.md", o->name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_load),
        cmocka_unit_test(test_every_option_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
