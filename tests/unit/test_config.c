/*
 * test_config.c: defaults, loading, unknown options refused (with the nearest
 * name), every value checked against its option's type, typed getters,
 * relative paths, and every option with its default in docs/configuration.md.
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
    assert_int_equal(homing_config_settings(c)->serve.threads, 3);
    char want[160];
    snprintf(want, sizeof want, "%s/k.keys", dir);
    assert_string_equal(homing_config_get(c, "keys.file"), want);
    assert_null(homing_config_get(c, "no.such"));
    assert_int_equal(homing_config_set(c, "serve.threads", "2"), 0);
    assert_int_equal(homing_config_set(c, "serve.thread", "2"), -ENOENT);

    /* The typed values follow the file and the flags, paths resolved. */
    const struct homing_settings *v = homing_config_settings(c);
    assert_int_equal(v->serve.threads, 2);
    assert_int_equal(homing_config_set(c, "serve.threads", "65"), -EINVAL);
    assert_int_equal(v->serve.threads, 2);
    assert_string_equal(v->public.listen, "127.0.0.5:9000");
    assert_string_equal(v->keys.file, want);
    assert_string_equal(v->admin.listen, "127.0.0.1:8081");
    assert_int_equal(v->privacy.truncate, 1);
    assert_int_equal(homing_config_set(c, "privacy.truncate", "off"), 0);
    assert_int_equal(v->privacy.truncate, 0);

    f = fopen(path, "w");
    fputs("[public]\nlisen = 1\n", f);
    fclose(f);
    assert_int_equal(homing_config_load(c, path, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "unknown option public.lisen"));
    homing_config_free(c);
    unlink(path);
    rmdir(dir);
}

/* The tracking base URL per sending domain: [domain NAME] sections and
 * public.domain_base_urls, one map; an exact domain match only. */
static void test_domain_base_urls(void **state)
{
    (void)state;
    char dir[] = "/tmp/homing-test-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/homing.conf", dir);
    FILE *f = fopen(path, "w");
    fputs("[public]\nbase_url = https://t.default.example\n"
          "[domain example.org]\npublic_base_url = https://t.example.org\n"
          "[domain Other.NET]\npublic_base_url = http://t.other.net:8080/p\n",
          f);
    fclose(f);
    struct homing_config *c;
    char err[256], url[HOMING_DOMAIN_URL_MAX + 1];
    assert_int_equal(homing_config_new(dir, &c), 0);
    assert_int_equal(homing_config_load(c, path, err, sizeof err), 0);
    const struct homing_settings *v = homing_config_settings(c);
    assert_string_equal(v->public.domain_base_urls,
                        "example.org=https://t.example.org Other.NET=http://t.other.net:8080/p");
    const char *map = v->public.domain_base_urls, *def = v->public.base_url;
    assert_int_equal(homing_domain_base_url(map, "alice@EXAMPLE.org", def, url, sizeof url), 1);
    assert_string_equal(url, "https://t.example.org");
    assert_int_equal(homing_domain_base_url(map, "<bob@other.net>", def, url, sizeof url), 1);
    assert_string_equal(url, "http://t.other.net:8080/p");
    /* a subdomain, another domain, no sender: the default */
    assert_int_equal(homing_domain_base_url(map, "c@mail.example.org", def, url, sizeof url), 0);
    assert_string_equal(url, "https://t.default.example");
    assert_int_equal(homing_domain_base_url(map, "c@example.com", def, url, sizeof url), 0);
    assert_int_equal(homing_domain_base_url(map, NULL, def, url, sizeof url), 0);
    assert_string_equal(url, "https://t.default.example");
    assert_int_equal(homing_domain_base_url(map, "a@example.org", def, url, 5), -ENAMETOOLONG);

    /* the option itself, comma-separated; bad entries refused with a reason */
    assert_int_equal(homing_config_set(c, "public.domain_base_urls",
                                       "a.example=https://a.t, b.example=https://b.t"),
                     0);
    assert_int_equal(
        homing_domain_base_url(v->public.domain_base_urls, "x@b.example", def, url, sizeof url), 1);
    assert_string_equal(url, "https://b.t");
    static const char *const bad[] = {"example.org",         "example.org=ftp://x",
                                      "=https://x",          "exa mple.org=https://x",
                                      "e_x.org=https://x",   "example.org=https://x\"y",
                                      "example.org=https://"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(homing_config_check("public.domain_base_urls", bad[i], err, sizeof err),
                         -EINVAL);
        assert_non_null(strstr(err, "DOMAIN=URL"));
    }
    f = fopen(path, "w");
    fputs("[domain example.org]\nbase_url = https://t.example.org\n", f);
    fclose(f);
    assert_int_equal(homing_config_load(c, path, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "takes only public_base_url"));
    f = fopen(path, "w");
    fputs("[domain example.org]\npublic_base_url = t.example.org\n", f);
    fclose(f);
    assert_int_equal(homing_config_load(c, path, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "[domain example.org]"));
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
        /* Its row: "| `name` | `default` | ..." or "| `name` | (none...) | ...". */
        char needle[160];
        snprintf(needle, sizeof needle, "\n| `%s` | ", o->name);
        const char *row = strstr(doc, needle);
        if (!row) fail_msg("option %s has no row in docs/configuration.md", o->name);
        const char *cell = row + strlen(needle);
        if (o->def[0]) {
            char want[512];
            snprintf(want, sizeof want, "`%s` |", o->def);
            if (strncmp(cell, want, strlen(want)) != 0)
                fail_msg("docs/configuration.md gives %s another default than `%s`", o->name,
                         o->def);
        } else if (strncmp(cell, "(none", 5) != 0 && strncmp(cell, "|", 1) != 0) {
            fail_msg("docs/configuration.md gives %s a default; it has none", o->name);
        }
    }
}

/* Each default passes its own option's check; types are what readers expect. */
/* Every option has a member of its own in struct homing_settings, and the
 * member holds what the text getter says. */
static void test_every_option_has_a_member(void **state)
{
    (void)state;
    struct homing_config *c;
    assert_int_equal(homing_config_new("/tmp", &c), 0);
    const char *base = (const char *)homing_config_settings(c);
    for (int i = 0; homing_config_options[i].name; i++) {
        const struct homing_config_option *o = &homing_config_options[i];
        if (o->field == 0) fail_msg("%s has no member in struct homing_settings", o->name);
        assert_true(o->field - 1 < sizeof(struct homing_settings));
        for (int j = 0; j < i; j++)
            if (homing_config_options[j].field == o->field)
                fail_msg("%s and %s share a member", o->name, homing_config_options[j].name);
        const char *text = homing_config_get(c, o->name);
        const char *m = base + o->field - 1;
        if (o->type == HOMING_OPT_INT) {
            long long x;
            memcpy(&x, m, sizeof x);
            assert_int_equal(x, strtoll(text, NULL, 10));
        } else if (o->type == HOMING_OPT_BOOL) {
            int b;
            memcpy(&b, m, sizeof b);
            assert_int_equal(b, strcmp(text, "yes") == 0 || strcmp(text, "true") == 0 ||
                                    strcmp(text, "on") == 0 || strcmp(text, "1") == 0);
        } else {
            const char *t;
            memcpy(&t, m, sizeof t);
            assert_string_equal(t, text);
        }
    }
    homing_config_free(c);
}

static void test_types(void **state)
{
    (void)state;
    char err[256];
    for (const struct homing_config_option *o = homing_config_options; o->name; o++) {
        if (homing_config_check(o->name, o->def, err, sizeof err) < 0)
            fail_msg("the default of %s fails its own check: %s", o->name, err);
        if (o->type == HOMING_OPT_INT && o->min > o->max) fail_msg("%s: min > max", o->name);
        if ((o->type == HOMING_OPT_ENUM) != (o->choices != NULL))
            fail_msg("%s: choices go with an enum", o->name);
    }
    assert_int_equal(homing_config_check("serve.threads", "0", err, sizeof err), -EINVAL);
    assert_string_equal(err, "serve.threads = 0: an integer from 1 to 64");
    assert_int_equal(homing_config_check("serve.threads", "2x", NULL, 0), -EINVAL);
    assert_int_equal(homing_config_check("serve.threads", "64", NULL, 0), 0);
    assert_int_equal(homing_config_check("store.sync", "fast", err, sizeof err), -EINVAL);
    assert_string_equal(err, "store.sync = fast: one of normal|full");
    assert_int_equal(homing_config_check("store.sync", "full", NULL, 0), 0);
    assert_int_equal(homing_config_check("store.sync", "ful", NULL, 0), -EINVAL);
    assert_int_equal(homing_config_check("notify.machine", "perhaps", err, sizeof err), -EINVAL);
    assert_string_equal(err, "notify.machine = perhaps: yes or no");
    assert_int_equal(homing_config_check("public.lisen", "x", err, sizeof err), -ENOENT);
    assert_string_equal(err, "unknown option public.lisen (did you mean public.listen?)");
    assert_int_equal(homing_config_check("zzz.qqq", "x", err, sizeof err), -ENOENT);
    assert_string_equal(err, "unknown option zzz.qqq");
    assert_string_equal(homing_config_nearest("serve.thread"), "serve.threads");
    assert_null(homing_config_nearest("x"));

    /* A bad value in a file: the error names the file, the option and the range,
     * and nothing of the file is half applied to that option. */
    char dir[] = "/tmp/homing-test-config-types-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/homing.conf", dir);
    FILE *f = fopen(path, "w");
    fputs("[serve]\nthreads = 100\n", f);
    fclose(f);
    struct homing_config *c;
    assert_int_equal(homing_config_new(dir, &c), 0);
    assert_int_equal(homing_config_load(c, path, err, sizeof err), -EINVAL);
    char want[256];
    snprintf(want, sizeof want, "%s: serve.threads = 100: an integer from 1 to 64", path);
    assert_string_equal(err, want);
    assert_string_equal(homing_config_get(c, "serve.threads"), "1");
    assert_int_equal(homing_config_set(c, "serve.threads", "100"), -EINVAL);
    assert_int_equal(homing_config_set(c, "serve.threads", "8"), 0);
    homing_config_free(c);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_load),         cmocka_unit_test(test_domain_base_urls),
        cmocka_unit_test(test_every_option_documented),   cmocka_unit_test(test_types),
        cmocka_unit_test(test_every_option_has_a_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
