/*
 * test_reader_ua.c: the User-Agent parser. uap-core's regexes load and compile
 * (with the JIT), the parser agrees with uap-core's own conformance cases
 * (tests/test_ua.yaml and test_os.yaml of the uap-core package), homing's rules
 * name mail clients, proxies and tools, the cache hits and evicts, bad input and
 * bad files are refused cleanly. Prints the parse rate, cold and cached.
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
#include <yaml.h>

#include "homing/reader.h"

#define RULES     "data/useragents.tsv"
#define UAP_TESTS "/usr/share/uap-core/tests/"
#define CASES_MAX 4096

struct uap_case {
    char *ua;
    char *fields[4]; /* family/os, major, minor, patch; NULL when empty */
};

static struct uap_case cases[CASES_MAX];
static size_t ncases;

static void cases_free(void)
{
    for (size_t i = 0; i < ncases; i++) {
        free(cases[i].ua);
        for (int j = 0; j < 4; j++) free(cases[i].fields[j]);
    }
    ncases = 0;
}

/* Reads test_cases of a uap-core test file: keys[0] is the family key. */
static void cases_load(const char *path, const char *const keys[4])
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    yaml_parser_t ps;
    yaml_document_t d;
    assert_true(yaml_parser_initialize(&ps));
    yaml_parser_set_input_file(&ps, f);
    assert_true(yaml_parser_load(&ps, &d));
    yaml_node_t *root = yaml_document_get_root_node(&d);
    assert_non_null(root);
    yaml_node_t *seq = yaml_document_get_node(&d, root->data.mapping.pairs.start->value);
    assert_int_equal(seq->type, YAML_SEQUENCE_NODE);
    for (yaml_node_item_t *it = seq->data.sequence.items.start;
         it < seq->data.sequence.items.top && ncases < CASES_MAX; it++) {
        yaml_node_t *m = yaml_document_get_node(&d, *it);
        struct uap_case c = {0};
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(&d, p->key);
            yaml_node_t *v = yaml_document_get_node(&d, p->value);
            const char *ks = (const char *)k->data.scalar.value;
            char *vs = v->type == YAML_SCALAR_NODE && v->data.scalar.length
                           ? strndup((const char *)v->data.scalar.value, v->data.scalar.length)
                           : NULL;
            if (strcmp(ks, "user_agent_string") == 0) {
                c.ua = vs;
                continue;
            }
            int used = 0;
            for (int j = 0; j < 4; j++)
                if (keys[j] && strcmp(ks, keys[j]) == 0 && !c.fields[j]) c.fields[j] = vs, used = 1;
            if (!used) free(vs);
        }
        if (c.ua)
            cases[ncases++] = c;
        else
            for (int j = 0; j < 4; j++) free(c.fields[j]);
    }
    yaml_document_delete(&d);
    yaml_parser_delete(&ps);
    fclose(f);
}

static int same(const char *want, const char *got)
{
    return strcmp(want ? want : "", got) == 0;
}

static void test_uap_conformance(void **state)
{
    (void)state;
    struct homing_ua_parser *p;
    /* No homing rules: pure uap-core behaviour. */
    assert_int_equal(homing_ua_parser_new(NULL, "", 0, &p), 0);
    struct homing_ua_stats st;
    homing_ua_parser_stats(p, &st);
    printf("uap-core: %zu ua, %zu os, %zu device regexes; %zu JIT-compiled\n", st.ua_regexes,
           st.os_regexes, st.device_regexes, st.jit);
    assert_true(st.ua_regexes > 300 && st.os_regexes > 100 && st.device_regexes > 500);
    assert_int_equal(st.rules, 0);
    /* PCRE2's JIT takes every uap-core regex on this platform. */
    assert_int_equal(st.jit, st.ua_regexes + st.os_regexes + st.device_regexes);

    static const char *const ua_keys[4] = {"family", "major", "minor", "patch"};
    cases_load(UAP_TESTS "test_ua.yaml", ua_keys);
    size_t total = ncases, ok = 0, skipped = 0;
    for (size_t i = 0; i < ncases; i++) {
        struct homing_ua u;
        size_t len = strlen(cases[i].ua);
        /* Our fields are bounded: skip the few cases with longer values. */
        int long_field = len >= HOMING_UA_MAX ||
                         (cases[i].fields[0] && strlen(cases[i].fields[0]) >= HOMING_UA_FIELD_MAX);
        for (int j = 1; j < 4; j++)
            if (cases[i].fields[j] && strlen(cases[i].fields[j]) >= HOMING_UA_VERSION_MAX)
                long_field = 1;
        if (long_field) {
            skipped++;
            continue;
        }
        assert_int_equal(homing_ua_parse(p, cases[i].ua, len, &u), 0);
        if (same(cases[i].fields[0], u.family) && same(cases[i].fields[1], u.major) &&
            same(cases[i].fields[2], u.minor) && same(cases[i].fields[3], u.patch))
            ok++;
        else if (ok + skipped + 10 > i)
            printf("ua mismatch: %s -> %s %s.%s.%s\n", cases[i].ua, u.family, u.major, u.minor,
                   u.patch);
    }
    printf("uap-core test_ua.yaml: %zu of %zu agree (%zu skipped: longer than our fields)\n", ok,
           total, skipped);
    assert_int_equal(ok + skipped, total);
    assert_true(skipped * 100 < total); /* the bounds fit nearly all */
    cases_free();

    static const char *const os_keys[4] = {"family", "major", NULL, NULL};
    cases_load(UAP_TESTS "test_os.yaml", os_keys);
    total = ncases, ok = 0, skipped = 0;
    for (size_t i = 0; i < ncases; i++) {
        struct homing_ua u;
        size_t len = strlen(cases[i].ua);
        if (len >= HOMING_UA_MAX ||
            (cases[i].fields[0] && strlen(cases[i].fields[0]) >= HOMING_UA_FIELD_MAX) ||
            (cases[i].fields[1] && strlen(cases[i].fields[1]) >= HOMING_UA_VERSION_MAX)) {
            skipped++;
            continue;
        }
        assert_int_equal(homing_ua_parse(p, cases[i].ua, len, &u), 0);
        if (same(cases[i].fields[0], u.os) && same(cases[i].fields[1], u.os_major))
            ok++;
        else
            printf("os mismatch: %s -> %s %s\n", cases[i].ua, u.os, u.os_major);
    }
    printf("uap-core test_os.yaml: %zu of %zu agree (%zu skipped)\n", ok, total, skipped);
    assert_int_equal(ok + skipped, total);
    cases_free();
    homing_ua_parser_free(p);
}

struct expect {
    const char *ua;
    const char *family, *major;
    unsigned type, ua_class;
};

static void test_homing_rules(void **state)
{
    (void)state;
    static const struct expect ex[] = {
        {"Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com "
         "GoogleImageProxy)",
         "Gmail Image Proxy", "", HOMING_DEVICE_PROXY, HOMING_UA_CLASS_PROXY},
        {"YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
         "Yahoo Mail Proxy", "", HOMING_DEVICE_PROXY, HOMING_UA_CLASS_PROXY},
        {"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5266; Pro)", "Outlook",
         "16", HOMING_DEVICE_DESKTOP, HOMING_UA_CLASS_MAIL},
        {"Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; ms-office; "
         "MSOffice 16)",
         "Outlook", "16", HOMING_DEVICE_DESKTOP, HOMING_UA_CLASS_MAIL},
        {"Outlook-iOS/709.2189947.prod.iphone (3.24.1)", "Outlook for iOS", "3",
         HOMING_DEVICE_MOBILE, HOMING_UA_CLASS_MAIL},
        {"Outlook-Android/2.0", "Outlook for Android", "2", HOMING_DEVICE_MOBILE,
         HOMING_UA_CLASS_MAIL},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:102.0) Gecko/20100101 "
         "Thunderbird/102.11.0",
         "Thunderbird", "102", HOMING_DEVICE_DESKTOP, HOMING_UA_CLASS_MAIL},
        {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
         "Gecko)",
         "Apple Mail", "605", HOMING_DEVICE_DESKTOP, HOMING_UA_CLASS_MAIL},
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Mobile/15E148",
         "Apple Mail", "605", HOMING_DEVICE_MOBILE, HOMING_UA_CLASS_MAIL},
        {"Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
         "Gecko) Mobile/15E148",
         "Apple Mail", "605", HOMING_DEVICE_TABLET, HOMING_UA_CLASS_MAIL},
        /* Safari (the browser) keeps its Safari token: not Apple Mail */
        {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
         "Gecko) Version/16.5 Safari/605.1.15",
         "Safari", "16", HOMING_DEVICE_DESKTOP, HOMING_UA_CLASS_BROWSER},
        {"Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/116.0.0.0 Mobile Safari/537.36",
         "Chrome Mobile", "116", HOMING_DEVICE_MOBILE, HOMING_UA_CLASS_BROWSER},
        {"curl/7.88.1", "curl", "7", HOMING_DEVICE_BOT, HOMING_UA_CLASS_TOOL},
        {"python-requests/2.31.0", "python-requests", "2", HOMING_DEVICE_BOT, HOMING_UA_CLASS_TOOL},
        {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot",
         "2", HOMING_DEVICE_BOT, HOMING_UA_CLASS_BOT},
        {"Mozilla/5.0 (compatible; Mimecast URL Protect)", "Mimecast", "", HOMING_DEVICE_BOT,
         HOMING_UA_CLASS_SCANNER},
        {"Mozilla/5.0", "Other", "", HOMING_DEVICE_UNKNOWN, HOMING_UA_CLASS_NONE},
        {"", "Other", "", HOMING_DEVICE_UNKNOWN, HOMING_UA_CLASS_NONE},
    };
    struct homing_ua_parser *p;
    assert_int_equal(homing_ua_parser_new(NULL, RULES, 0, &p), 0);
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        struct homing_ua u;
        assert_int_equal(homing_ua_parse(p, ex[i].ua, strlen(ex[i].ua), &u), 0);
        if (strcmp(u.family, ex[i].family) != 0 || strcmp(u.major, ex[i].major) != 0 ||
            u.type != ex[i].type || u.ua_class != ex[i].ua_class)
            printf("%s -> %s %s %s %s\n", ex[i].ua, u.family, u.major,
                   homing_device_type_name(u.type), homing_ua_class_name(u.ua_class));
        assert_string_equal(u.family, ex[i].family);
        assert_string_equal(u.major, ex[i].major);
        assert_int_equal(u.type, ex[i].type);
        assert_int_equal(u.ua_class, ex[i].ua_class);
    }
    homing_ua_parser_free(p);
}

/* Rules version 8: useragents.tsv's class "proxy-view" (a proxy documented to
 * fetch only when its user views the message) is a proxy with view_only set;
 * other proxies keep it clear; Google-Safety (Google's special-case crawlers
 * page: malware discovery for links) is a scanner, not a Google-<Name> bot. */
static void test_view_only_proxy(void **state)
{
    (void)state;
    struct homing_ua_parser *p;
    assert_int_equal(homing_ua_parser_new(NULL, RULES, 0, &p), 0);
    struct homing_ua u;
    const char *hey = "hey.com/imageproxy Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
                      "(KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36";
    assert_int_equal(homing_ua_parse(p, hey, strlen(hey), &u), 0);
    assert_string_equal(u.family, "HEY Image Proxy");
    assert_int_equal(u.ua_class, HOMING_UA_CLASS_PROXY);
    assert_int_equal(u.view_only, 1);
    const char *gmail =
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
    assert_int_equal(homing_ua_parse(p, gmail, strlen(gmail), &u), 0);
    assert_int_equal(u.ua_class, HOMING_UA_CLASS_PROXY);
    assert_int_equal(u.view_only, 0);
    assert_int_equal(homing_ua_parse(p, "Google-Safety", 13, &u), 0);
    assert_int_equal(u.ua_class, HOMING_UA_CLASS_SCANNER);
    homing_ua_parser_free(p);

    /* The class is parsed whole: "proxy-viewer" is no class. */
    char path[] = "/tmp/homing-test-rules-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *bad = "proxy-viewer\tX\tproxy\tx\tsource\n";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    struct homing_ua_parser *q = NULL;
    assert_int_equal(homing_ua_parser_new(NULL, path, 0, &q), -EINVAL);
    assert_null(q);
    unlink(path);
}

/* Without homing's rules, uap-core's own mail and proxy families still count. */
static void test_uap_mail_families(void **state)
{
    (void)state;
    struct homing_ua_parser *p;
    assert_int_equal(homing_ua_parser_new(NULL, "", 0, &p), 0);
    struct homing_ua u;
    const char *gp = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com "
                     "GoogleImageProxy)";
    assert_int_equal(homing_ua_parse(p, gp, strlen(gp), &u), 0);
    assert_string_equal(u.family, "GmailImageProxy");
    assert_int_equal(u.ua_class, HOMING_UA_CLASS_PROXY);
    assert_int_equal(u.type, HOMING_DEVICE_PROXY);
    const char *ol = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5266; Pro)";
    assert_int_equal(homing_ua_parse(p, ol, strlen(ol), &u), 0);
    assert_string_equal(u.family, "Outlook");
    assert_int_equal(u.ua_class, HOMING_UA_CLASS_MAIL);
    assert_int_equal(u.type, HOMING_DEVICE_DESKTOP);
    const char *am = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, "
                     "like Gecko)";
    assert_int_equal(homing_ua_parse(p, am, strlen(am), &u), 0);
    assert_string_equal(u.family, "Apple Mail");
    assert_int_equal(u.ua_class, HOMING_UA_CLASS_MAIL);
    homing_ua_parser_free(p);
}

/* uap-core's automation families are bots even when its device is not
 * "Spider" (issue #16: HeadlessChrome counted as a browser), and a device
 * name holding "BOT" in capitals (a CUBOT phone) is not one; with homing's
 * rules, link-preview bots, monitors and Applebot are bots and Seznam's image
 * proxy is a proxy. */
/* Rules version 4's generic rules (lib/reader/ua.c, UA_GEN_*): they work
 * without homing's rules file, on what uap-core calls a browser or does not
 * know; a mail client named by uap-core keeps its class. */
static void test_generic_rules(void **state)
{
    (void)state;
    static const struct {
        const char *ua;
        unsigned ua_class, no_browser;
    } ex[] = {
        /* an HTTP library's product token with a version */
        {"grpc-java-netty/1.60.0", HOMING_UA_CLASS_TOOL, 0},
        {"Go-http-client/1.1", HOMING_UA_CLASS_TOOL, 0},
        /* J2ME's "(Java; ...)" comment is no Java/1.8 client: a phone browser */
        {"ExamplePhone/2.0 Profile/MIDP-2.1 Configuration/CLDC-1.1 (Java; U; MIDP-2.0; en-us)",
         HOMING_UA_CLASS_BROWSER, 0},
        /* automation words, a CamelCase ending, a contact URL */
        {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Safari/537.36 ExampleLinkChecker/2.0",
         HOMING_UA_CLASS_BOT, 0},
        {"Mozilla/5.0 (compatible; ExampleIndex/3.2; +https://example.org/robot.html)",
         HOMING_UA_CLASS_BOT, 0},
        {"ExampleSpider 1.0", HOMING_UA_CLASS_BOT, 0},
        /* a phone brand ending in BOT is no bot */
        {"Mozilla/5.0 (Linux; Android 9; CUBOT KING KONG 3) AppleWebKit/537.36 (KHTML, like "
         "Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
         HOMING_UA_CLASS_BROWSER, 0},
        /* an engine on a platform uap-core has no family for */
        {"Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
         "ExampleTVShell/5.1",
         HOMING_UA_CLASS_BROWSER, 0},
        /* neither engine nor platform */
        {"LinkAuditor/4.0", HOMING_UA_CLASS_NONE, 1},
        {"Mozilla/5.0 (compatible; ExampleResearch/1.0)", HOMING_UA_CLASS_NONE, 1},
        /* the bare MPP User-Agent, an app's own stack with a platform: not flagged;
         * since rules version 6 "Mac OS" (Office for Mac's form) is a person's
         * computer, so the app is decided as a browser (ua-app) */
        {"Mozilla/5.0", HOMING_UA_CLASS_NONE, 0},
        {"ExampleApp/3.1 (Mac OS/14.4; Desktop; en-US)", HOMING_UA_CLASS_BROWSER, 0},
        {"ExampleDaemon/3.1 (SunOS 5.11; sparc)", HOMING_UA_CLASS_NONE, 0},
        {"", HOMING_UA_CLASS_NONE, 0},
        /* uap-core's mail family keeps its class */
        {"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.3.1",
         HOMING_UA_CLASS_MAIL, 0},
    };
    struct homing_ua_parser *p;
    assert_int_equal(homing_ua_parser_new(NULL, "", 0, &p), 0);
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        struct homing_ua u;
        assert_int_equal(homing_ua_parse(p, ex[i].ua, strlen(ex[i].ua), &u), 0);
        if (u.ua_class != ex[i].ua_class || u.no_browser != ex[i].no_browser)
            printf("generic: \"%s\": class %u no_browser %u (family %s)\n", ex[i].ua, u.ua_class,
                   u.no_browser, u.family);
        assert_int_equal(u.ua_class, ex[i].ua_class);
        assert_int_equal(u.no_browser, ex[i].no_browser);
    }
    homing_ua_parser_free(p);
}

/* Rules version 5's generic rules: Japanese carriers' feature-phone browsers
 * (UA_GEN_CARRIER_RE), programs naming themselves mail clients
 * (UA_GEN_MAIL_RE; after the automation words), apps' own HTTP stacks on a
 * person's device (UA_GEN_DEVICE_RE: class browser with the app flag; not on a
 * server platform, nor a platform word outside a comment), and a contact
 * e-mail address, "unfurl" and Google's "Google-<Name>" fetchers as bots. */
static void test_generic_rules_v5(void **state)
{
    (void)state;
    static const struct {
        const char *ua;
        unsigned ua_class, no_browser, app;
    } ex[] = {
        {"DoCoMo/2.0 P906i(c100;TB;W24H15)", HOMING_UA_CLASS_BROWSER, 0, 0},
        {"DoCoMo/1.0/P503i/c10", HOMING_UA_CLASS_BROWSER, 0, 0},
        {"SoftBank/1.0/930SH/SHJ001/SN000000000000000", HOMING_UA_CLASS_BROWSER, 0, 0},
        {"Vodafone/1.0/V705SH/SHJ001/SN000000000000000", HOMING_UA_CLASS_BROWSER, 0, 0},
        {"KDDI-SA31 UP.Browser/6.2.0.7.3.129 (GUI) MMP/2.0", HOMING_UA_CLASS_BROWSER, 0, 0},
        {"Mozilla/3.0(WILLCOM;KYOCERA/WX320K/2;1.2.3.4.000000/0.1/C100)", HOMING_UA_CLASS_BROWSER,
         0, 0},
        {"ExampleMail/3.1.4", HOMING_UA_CLASS_MAIL, 0, 0},
        {"ExampleSoft E-mail Client 2.0", HOMING_UA_CLASS_MAIL, 0, 0},
        {"Mailexample/1.2", HOMING_UA_CLASS_MAIL, 0, 0},
        /* automation first: a bot named after a mail service stays a bot */
        {"Mail.RU_Bot/2.0", HOMING_UA_CLASS_BOT, 0, 0},
        /* uap-core names iOS and Android apps' stacks itself (web view and
         * Android families): no app flag */
        {"ExampleNews/5.2.1 (iPhone; iOS 17.1; Scale/3.00)", HOMING_UA_CLASS_BROWSER, 0, 0},
        {"ExampleNews/5.2.1 (Windows NT 10.0; Win64; x64)", HOMING_UA_CLASS_BROWSER, 0, 1},
        {"ExampleShop/7.0 (Android 14; Pixel 8)", HOMING_UA_CLASS_BROWSER, 0, 0},
        {"ExampleSync/3.0 (Tizen 6.0; SMART-TV)", HOMING_UA_CLASS_BROWSER, 0, 1},
        /* a server platform, a platform word outside a comment: unknown */
        {"ExampleAgent/1.0 (Linux x86_64)", HOMING_UA_CLASS_NONE, 0, 0},
        /* a browser's string cut short after its platform names no app */
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64)", HOMING_UA_CLASS_NONE, 0, 0},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) ExampleApp/2.0", HOMING_UA_CLASS_BROWSER, 0, 1},
        {"Windows-Example-Agent/10.0 Client-Protocol/1.40", HOMING_UA_CLASS_NONE, 0, 0},
        {"ExampleArchive/2.0 (contact archive-team@example.org)", HOMING_UA_CLASS_BOT, 0, 0},
        {"Mozilla/5.0 (compatible; Google-ExampleFetcher/1.0)", HOMING_UA_CLASS_BOT, 0, 0},
        {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Safari/537.36 ExampleChat-Unfurl/1.0",
         HOMING_UA_CLASS_BOT, 0, 0},
    };
    struct homing_ua_parser *p;
    assert_int_equal(homing_ua_parser_new(NULL, "", 0, &p), 0);
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        struct homing_ua u;
        assert_int_equal(homing_ua_parse(p, ex[i].ua, strlen(ex[i].ua), &u), 0);
        if (u.ua_class != ex[i].ua_class || u.no_browser != ex[i].no_browser || u.app != ex[i].app)
            printf("generic v5: \"%s\": class %u no_browser %u app %u (family %s)\n", ex[i].ua,
                   u.ua_class, u.no_browser, u.app, u.family);
        assert_int_equal(u.ua_class, ex[i].ua_class);
        assert_int_equal(u.no_browser, ex[i].no_browser);
        assert_int_equal(u.app, ex[i].app);
    }
    homing_ua_parser_free(p);
}

static void test_automation_never_browser(void **state)
{
    (void)state;
    static const struct {
        const char *rules, *ua;
        unsigned ua_class;
    } ex[] = {
        {"",
         "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "HeadlessChrome/119.0.0.0 Safari/537.36",
         HOMING_UA_CLASS_BOT},
        {"",
         "Mozilla/5.0 (Linux; Android 9; CUBOT KING KONG 3) AppleWebKit/537.36 (KHTML, like "
         "Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
         HOMING_UA_CLASS_BROWSER},
        {RULES,
         "Mozilla/5.0 (Linux; Android 9; CUBOT KING KONG 3) AppleWebKit/537.36 (KHTML, like "
         "Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
         HOMING_UA_CLASS_BROWSER},
        {RULES,
         "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "HeadlessChrome/119.0.0.0 Safari/537.36",
         HOMING_UA_CLASS_BOT},
        {RULES,
         "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like "
         "Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; "
         "+http://www.apple.com/go/applebot)",
         HOMING_UA_CLASS_BOT},
        {RULES, "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", HOMING_UA_CLASS_BOT},
        {RULES, "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
         HOMING_UA_CLASS_BOT},
        {RULES, "Mozilla/5.0 (compatible; SeznamEmailProxy/1.0)", HOMING_UA_CLASS_PROXY},
        {RULES,
         "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/124.0.0.0 Safari/537.36",
         HOMING_UA_CLASS_BROWSER},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        struct homing_ua_parser *p;
        assert_int_equal(homing_ua_parser_new(NULL, ex[i].rules, 0, &p), 0);
        struct homing_ua u;
        assert_int_equal(homing_ua_parse(p, ex[i].ua, strlen(ex[i].ua), &u), 0);
        if (u.ua_class != ex[i].ua_class) printf("%s -> %s\n", ex[i].ua, u.family);
        assert_int_equal(u.ua_class, ex[i].ua_class);
        homing_ua_parser_free(p);
    }
}

/* A published list of automation patterns (crawler-user-agents' JSON shape)
 * makes bots of what uap-core calls browsers or does not know, names an
 * unknown one by its token, and never overrides homing's own rules; a
 * pattern that does not compile, or another shape, is refused. */
static void test_published_bots(void **state)
{
    (void)state;
    char path[] = "/tmp/homing-test-bots-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *json =
        "[{\"pattern\": \"ExampleAgent\\\\/\"}, {\"pattern\": \"[a-z]+fetcher\"},"
        " {\"pattern\": \"Thunderbird\"}, {\"pattern\": \"ExampleAgent\\\\/\"},"
        " {\"pattern\": \"BP1A\\\\.250305\\\\.019\"}, {\"pattern\": \"TQ3A.230901.001\"},"
        " {\"pattern\": \"TQ3A\\\\.230901\\\\.001x\"}]";
    assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    char **v;
    size_t n;
    assert_int_equal(homing_ua_bots_read(path, &v, &n), 0);
    /* the duplicate once, and not the two Android build IDs (rules version
     * 10): a build ID with a suffix is kept, it is no longer only a build */
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_null(strstr(v[i], "250305"));
        assert_string_not_equal(v[i], "TQ3A.230901.001");
    }
    homing_strv_free(v, n);
    struct homing_ua_parser *p;
    assert_int_equal(homing_ua_parser_new(NULL, RULES, 0, &p), 0);
    assert_int_equal(homing_ua_parser_load_bots(p, path), 0);
    struct homing_ua u;
    const char *a = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                    "Gecko) Chrome/120.0.0.0 Safari/537.36 ExampleAgent/1.0";
    assert_int_equal(homing_ua_parse(p, a, strlen(a), &u), 0);
    assert_int_equal(u.ua_class, HOMING_UA_CLASS_BOT);
    assert_string_equal(u.family, "Chrome"); /* uap-core's name kept */
    const char *b = "linkfetcher 2.0";
    assert_int_equal(homing_ua_parse(p, b, strlen(b), &u), 0);
    assert_int_equal(u.ua_class, HOMING_UA_CLASS_BOT);
    assert_string_equal(u.family, "linkfetcher");
    const char *c = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 "
                    "Thunderbird/115.3.1";
    assert_int_equal(homing_ua_parse(p, c, strlen(c), &u), 0);
    assert_int_equal(u.ua_class, HOMING_UA_CLASS_MAIL);
    const char *d = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                    "Gecko) Chrome/120.0.0.0 Safari/537.36";
    assert_int_equal(homing_ua_parse(p, d, strlen(d), &u), 0);
    assert_int_equal(u.ua_class, HOMING_UA_CLASS_BROWSER);
    /* A web view on a phone of that build is a person's, not the list's. */
    const char *w = "Mozilla/5.0 (Linux; Android 15; Pixel 9 Build/BP1A.250305.019; wv) "
                    "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/134.0.6998.39 "
                    "Mobile Safari/537.36";
    assert_int_equal(homing_ua_parse(p, w, strlen(w), &u), 0);
    assert_int_not_equal(u.ua_class, HOMING_UA_CLASS_BOT);
    homing_ua_parser_free(p);
    const char *bad[] = {"[{\"pattern\": \"Broken(Bot\"}]", "{\"prefixes\": []}",
                         "[{\"url\": \"x\"}]", "[{\"pattern\": \"\"}]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[i], f);
        fclose(f);
        assert_int_equal(homing_ua_bots_read(path, &v, &n), -EINVAL);
    }
    unlink(path);
}

static void test_cache(void **state)
{
    (void)state;
    struct homing_ua_parser *p;
    assert_int_equal(homing_ua_parser_new(NULL, RULES, 4, &p), 0);
    struct homing_ua a, b;
    const char *ua = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.3.1";
    assert_int_equal(homing_ua_parse(p, ua, strlen(ua), &a), 0);
    assert_int_equal(homing_ua_parse(p, ua, strlen(ua), &b), 0);
    assert_memory_equal(&a, &b, sizeof a);
    struct homing_ua_stats st;
    homing_ua_parser_stats(p, &st);
    assert_int_equal(st.lookups, 2);
    assert_int_equal(st.hits, 1);
    /* Bounded: 10 distinct strings leave 4 entries, the oldest evicted. */
    char buf[64];
    for (int i = 0; i < 10; i++) {
        int n = snprintf(buf, sizeof buf, "curl/7.%d.0", i);
        assert_int_equal(homing_ua_parse(p, buf, (size_t)n, &a), 0);
        assert_string_equal(a.family, "curl");
    }
    homing_ua_parser_stats(p, &st);
    assert_int_equal(st.cached, 4);
    assert_int_equal(homing_ua_parse(p, "curl/7.9.0", 10, &a), 0); /* newest: a hit */
    homing_ua_parser_stats(p, &st);
    assert_int_equal(st.hits, 2);
    assert_int_equal(homing_ua_parse(p, "curl/7.0.0", 10, &a), 0); /* evicted: a miss */
    homing_ua_parser_stats(p, &st);
    assert_int_equal(st.hits, 2);
    homing_ua_parser_free(p);
}

static void test_odd_input(void **state)
{
    (void)state;
    struct homing_ua_parser *p;
    assert_int_equal(homing_ua_parser_new(NULL, RULES, 16, &p), 0);
    struct homing_ua u;
    /* Longer than the limit: cut, never read past it. */
    char *big = malloc(100000);
    memset(big, 'A', 100000);
    memcpy(big, "Thunderbird/99.1", 16);
    assert_int_equal(homing_ua_parse(p, big, 100000, &u), 0);
    assert_string_equal(u.family, "Thunderbird");
    free(big);
    /* A NUL ends the string; bytes that are not UTF-8 are fine. */
    assert_int_equal(homing_ua_parse(p, "curl/8.0\0Thunderbird/1.0", 25, &u), 0);
    assert_string_equal(u.family, "curl");
    assert_int_equal(homing_ua_parse(p, "\xff\xfe\x80 Thunderbird/102.0", 21, &u), 0);
    assert_string_equal(u.family, "Thunderbird");
    assert_int_equal(homing_ua_parse(p, NULL, 0, &u), 0);
    assert_string_equal(u.family, "Other");
    assert_int_equal(homing_ua_parse(p, NULL, 3, &u), -EINVAL);
    homing_ua_parser_free(p);

    /* Bad files */
    struct homing_ua_parser *q = NULL;
    assert_int_equal(homing_ua_parser_new("/nonexistent/regexes.yaml", "", 0, &q), -ENOENT);
    assert_int_equal(homing_ua_parser_new(NULL, "/nonexistent/rules.tsv", 0, &q), -ENOENT);
    char path[] = "/tmp/homing-test-rules-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *bad = "mail\tBroken\t-\t(unclosed\tsource\n";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    assert_int_equal(homing_ua_parser_new(NULL, path, 0, &q), -EINVAL);
    FILE *f = fopen(path, "w");
    fputs("robot\tBroken\t-\tx\tsource\n", f); /* unknown class */
    fclose(f);
    assert_int_equal(homing_ua_parser_new(NULL, path, 0, &q), -EINVAL);
    f = fopen(path, "w");
    fputs("user_agent_parsers:\n  - regex: '(a'\nos_parsers: []\ndevice_parsers: []\n", f);
    fclose(f);
    assert_int_equal(homing_ua_parser_new(path, "", 0, &q), -EINVAL);
    f = fopen(path, "w");
    fputs("user_agent_parsers: []\n", f); /* os and device lists missing */
    fclose(f);
    assert_int_equal(homing_ua_parser_new(path, "", 0, &q), -EINVAL);
    assert_null(q);
    unlink(path);
    assert_int_equal(homing_ua_parser_new(NULL, "", HOMING_UA_CACHE_MAX + 1, &q), -EINVAL);
}

static double now_s(void)
{
    return (double)homing_mono_us() / 1e6;
}

/* Measure, not a pass/fail bound: the figures go to docs/internals/reader.md. */
static void test_measure(void **state)
{
    (void)state;
    static const char *const ua_keys[4] = {"family", "major", "minor", "patch"};
    cases_load(UAP_TESTS "test_ua.yaml", ua_keys);
    double t0 = now_s();
    struct homing_ua_parser *p;
    assert_int_equal(homing_ua_parser_new(NULL, RULES, CASES_MAX, &p), 0);
    double t1 = now_s();
    struct homing_ua u;
    for (size_t i = 0; i < ncases; i++)
        assert_int_equal(homing_ua_parse(p, cases[i].ua, strlen(cases[i].ua), &u), 0);
    double t2 = now_s();
    int rounds = 200;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < ncases; i++)
            assert_int_equal(homing_ua_parse(p, cases[i].ua, strlen(cases[i].ua), &u), 0);
    double t3 = now_s();
    printf("measure: load+compile %.0f ms; cold %.0f parses/s (%zu distinct UAs); cached %.0f "
           "parses/s\n",
           (t1 - t0) * 1e3, (double)ncases / (t2 - t1), ncases,
           (double)ncases * rounds / (t3 - t2));
    homing_ua_parser_free(p);
    cases_free();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uap_conformance),
        cmocka_unit_test(test_homing_rules),
        cmocka_unit_test(test_view_only_proxy),
        cmocka_unit_test(test_uap_mail_families),
        cmocka_unit_test(test_automation_never_browser),
        cmocka_unit_test(test_generic_rules),
        cmocka_unit_test(test_generic_rules_v5),
        cmocka_unit_test(test_published_bots),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_odd_input),
        cmocka_unit_test(test_measure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
