/*
 * test_dkim_sign.c: DKIM signing of sent copies (homing_dkim_sign,
 * lib/delivery/dkim_sign.c). A key made by homing_dkim_key_create signs
 * messages found by their From domain in a keys directory; each signed copy is
 * checked by both of the project's verifiers (auth_dkim_verify, ours on
 * libcrypto, and auth_dkim_verify_opendkim) against the TXT record that
 * homing_dkim_key_record gives, through an in-memory resolver: pass as signed
 * (LF and CRLF copies alike, as send.c puts them on the wire), fail after the
 * body or a signed field changed or a From was added. Also: which fields h=
 * names, the selector chosen per domain, the cases sent unsigned (-ENOENT,
 * -EBADMSG) and refused (-EPERM, -EINVAL, -E2BIG), that a key is never
 * replaced, and the zone line's 255-byte strings.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "homing/dkim.h"
#include "lib/trace/trace_int.h"

static char dir[64];
static char *record; /* TXT record of example.org's "homing" key */
static char *record_s2;

/* ---- the resolver: the records of this test's keys ---- */

static int zone_lookup(void *ctx, const char *name, enum homing_rr type,
                       struct homing_dns_answer *out)
{
    (void)ctx;
    if (type != HOMING_RR_TXT) return -ENOENT;
    const char *txt = !strcasecmp(name, "homing._domainkey.example.org") ? record
                      : !strcasecmp(name, "s2._domainkey.example.net")   ? record_s2
                                                                         : NULL;
    if (!txt) return -ENOENT;
    struct homing_dns_answer a = {0};
    a.rr[a.n++] = strdup(txt);
    *out = a;
    return 0;
}

static struct homing_resolver resolver = {.lookup = zone_lookup};

static struct homing_settings settings(void)
{
    struct homing_settings s;
    memset(&s, 0, sizeof s);
    s.dkim.keys_dir = dir;
    s.dkim.selector = "homing";
    s.dkim.selectors = " example.net = S2 , other.example=x";
    return s;
}

static char *path_of(const char *name)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/homing-dkim-sign.XXXXXX");
    assert_non_null(mkdtemp(dir));
    /* 1024 bits: the smallest allowed, and quick to make */
    char *p = path_of("example.org.homing.key");
    assert_int_equal(homing_dkim_key_create(p, 1024), 0);
    int bits = 0;
    assert_int_equal(homing_dkim_key_record(p, &record, &bits), 0);
    assert_int_equal(bits, 1024);
    free(p);
    p = path_of("example.net.s2.key");
    assert_int_equal(homing_dkim_key_create(p, 1024), 0);
    assert_int_equal(homing_dkim_key_record(p, &record_s2, NULL), 0);
    free(p);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(record);
    free(record_s2);
    return 0;
}

/* ---- helpers ---- */

static const char MSG[] = "From: Alice <alice@Example.ORG>\r\n"
                          "To: bob@example.com\r\n"
                          "Cc: carol@example.com\r\n"
                          "Subject: the report\r\n"
                          "Date: Mon, 07 Dec 2026 03:00:00 +0000\r\n"
                          "Message-ID: <1@example.org>\r\n"
                          "MIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "List-Unsubscribe: <https://t.example.org/u/abc>\r\n"
                          "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                          "X-Mailer: not signed\r\n"
                          "\r\n"
                          "Hello Bob,\r\n"
                          "\r\n"
                          "the report is attached.\r\n";

/* header + msg, malloc'd */
static char *cat(const char *a, const char *b)
{
    char *o = NULL;
    assert_true(asprintf(&o, "%s%s", a, b) > 0);
    return o;
}

/* s with the first a replaced by b (a must occur) */
static char *replace(const char *s, const char *a, const char *b)
{
    const char *p = strstr(s, a);
    assert_non_null(p);
    char *o = NULL;
    assert_true(asprintf(&o, "%.*s%s%s", (int)(p - s), s, b, p + strlen(a)) > 0);
    return o;
}

/* LF to CRLF, as send.c does before DATA */
static char *crlf(const char *s)
{
    char *o = malloc(2 * strlen(s) + 1), *w = o;
    assert_non_null(o);
    for (const char *p = s; *p; p++) {
        if (*p == '\n' && (p == s || p[-1] != '\r')) *w++ = '\r';
        *w++ = *p;
    }
    *w = '\0';
    return o;
}

/* The result both verifiers give the first signature of msg (they must agree). */
static const char *verify(const char *msg, char *d_out, size_t cap)
{
    static char res[32];
    json_t *a = json_array(), *b = json_array();
    assert_int_equal(auth_dkim_verify(&resolver, msg, strlen(msg), a), 0);
    assert_int_equal(auth_dkim_verify_opendkim(&resolver, msg, strlen(msg), b), 0);
    assert_true(json_array_size(a) >= 1);
    assert_int_equal(json_array_size(a), json_array_size(b));
    const char *ra = json_string_value(json_object_get(json_array_get(a, 0), "result"));
    const char *rb = json_string_value(json_object_get(json_array_get(b, 0), "result"));
    assert_non_null(ra);
    assert_non_null(rb);
    assert_string_equal(ra, rb);
    snprintf(res, sizeof res, "%s", ra);
    if (d_out) {
        const char *d = json_string_value(json_object_get(json_array_get(a, 0), "d"));
        snprintf(d_out, cap, "%s", d ? d : "");
    }
    json_decref(a);
    json_decref(b);
    return res;
}

/* The value of tag t= of the field (unfolded, blanks dropped), malloc'd. */
static char *tag(const char *hdr, const char *t)
{
    char *u = malloc(strlen(hdr) + 1), *w = u;
    assert_non_null(u);
    for (const char *p = hdr + strlen("DKIM-Signature:"); *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') *w++ = *p;
    *w = '\0';
    char key[16];
    snprintf(key, sizeof key, "%s=", t);
    char *p = u;
    while (p && strncmp(p, key, strlen(key)) != 0) {
        p = strchr(p, ';');
        if (p) p++;
    }
    assert_non_null(p);
    p += strlen(key);
    size_t n = strcspn(p, ";");
    char *o = strndup(p, n);
    free(u);
    return o;
}

/* ---- cases ---- */

#define THREADS    4
#define PER_THREAD 10

/* homing relay signs from several threads at once (one libopendkim handle) */
static void *sign_many(void *arg)
{
    char **out = arg;
    struct homing_settings s = settings();
    for (int i = 0; i < PER_THREAD; i++)
        if (homing_dkim_sign(&s, MSG, strlen(MSG), &out[i]) != 0) out[i] = NULL;
    return NULL;
}

static void test_sign_verifies(void **state)
{
    (void)state;
    struct homing_settings s = settings();
    char *h = NULL;
    assert_int_equal(homing_dkim_sign(&s, MSG, strlen(MSG), &h), 0);
    assert_non_null(h);
    assert_true(strncmp(h, "DKIM-Signature: ", 16) == 0);
    size_t hl = strlen(h);
    assert_true(hl > 2 && h[hl - 2] == '\r' && h[hl - 1] == '\n');
    for (size_t i = 0; i < hl; i++) /* folded with CRLF only */
        if (h[i] == '\n') assert_true(i > 0 && h[i - 1] == '\r');
    char *v;
    assert_string_equal(v = tag(h, "d"), "example.org");
    free(v);
    assert_string_equal(v = tag(h, "s"), "homing");
    free(v);
    assert_string_equal(v = tag(h, "a"), "rsa-sha256");
    free(v);
    assert_string_equal(v = tag(h, "c"), "relaxed/relaxed");
    free(v);
    /* the fields present, in order, From once more (over-signed), no X-Mailer */
    v = tag(h, "h");
    for (char *c = v; *c; c++) *c = (char)tolower((unsigned char)*c);
    assert_string_equal(v, "from:to:cc:subject:date:message-id:mime-version:content-type:"
                           "list-unsubscribe:list-unsubscribe-post:from");
    free(v);

    char *m = cat(h, MSG), d[64];
    assert_string_equal(verify(m, d, sizeof d), "pass");
    assert_string_equal(d, "example.org");

    /* a changed body, a changed signed field, an added From: fail */
    char *x = replace(m, "attached", "atached");
    assert_string_equal(verify(x, NULL, 0), "fail");
    free(x);
    x = replace(m, "Subject: the report", "Subject: the invoice");
    assert_string_equal(verify(x, NULL, 0), "fail");
    free(x);
    x = replace(m, "To: bob", "From: mallory@example.com\r\nTo: bob");
    assert_string_equal(verify(x, NULL, 0), "fail");
    free(x);
    /* a field that is not signed may change */
    x = replace(m, "X-Mailer: not signed", "X-Mailer: changed");
    assert_string_equal(verify(x, NULL, 0), "pass");
    free(x);
    free(m);
    free(h);
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    char *hdr[THREADS][PER_THREAD];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, sign_many, hdr[t]), 0);
    for (int t = 0; t < THREADS; t++) assert_int_equal(pthread_join(th[t], NULL), 0);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < PER_THREAD; i++) {
            assert_non_null(hdr[t][i]);
            char *m = cat(hdr[t][i], MSG);
            assert_string_equal(verify(m, NULL, 0), "pass");
            free(m);
            free(hdr[t][i]);
        }
}

/* An LF copy is signed as its CRLF form, which is what goes on the wire. */
static void test_sign_lf_copy(void **state)
{
    (void)state;
    struct homing_settings s = settings();
    char *lf = malloc(sizeof MSG), *w = lf;
    assert_non_null(lf);
    for (const char *p = MSG; *p; p++)
        if (*p != '\r') *w++ = *p;
    *w = '\0';
    char *h = NULL;
    assert_int_equal(homing_dkim_sign(&s, lf, strlen(lf), &h), 0);
    char *m = cat(h, lf), *wire = crlf(m);
    assert_string_equal(verify(wire, NULL, 0), "pass");
    free(wire);
    free(m);
    free(h);
    free(lf);
}

/* dkim.selectors names the selector of a domain (case and blanks aside). */
static void test_selector_per_domain(void **state)
{
    (void)state;
    struct homing_settings s = settings();
    char sel[HOMING_DKIM_SELECTOR_MAX];
    assert_int_equal(homing_dkim_selector(&s, "example.net", sel, sizeof sel), 0);
    assert_string_equal(sel, "s2");
    assert_int_equal(homing_dkim_selector(&s, "example.org", sel, sizeof sel), 0);
    assert_string_equal(sel, "homing");
    char *msg = replace(MSG, "alice@Example.ORG", "alice@example.net");
    char *h = NULL;
    assert_int_equal(homing_dkim_sign(&s, msg, strlen(msg), &h), 0);
    char *v = tag(h, "s");
    assert_string_equal(v, "s2");
    free(v);
    char *m = cat(h, msg), d[64];
    assert_string_equal(verify(m, d, sizeof d), "pass");
    assert_string_equal(d, "example.net");
    free(m);
    free(h);
    free(msg);
    s.dkim.selectors = "example.net=not/one";
    assert_int_equal(homing_dkim_selector(&s, "example.net", sel, sizeof sel), -EINVAL);
}

/* Copies sent unsigned: no key for the domain, no keys_dir, no From domain. */
static void test_unsigned(void **state)
{
    (void)state;
    struct homing_settings s = settings();
    char *h = (char *)"untouched";
    char *m = replace(MSG, "alice@Example.ORG", "alice@example.com");
    assert_int_equal(homing_dkim_sign(&s, m, strlen(m), &h), -ENOENT);
    free(m);
    s.dkim.keys_dir = "";
    assert_int_equal(homing_dkim_sign(&s, MSG, strlen(MSG), &h), -ENOENT);
    s = settings();
    static const char *const bad[] = {
        "To: bob@example.com\r\n\r\nno From\r\n",
        "From: a@example.org\r\nFrom: b@example.org\r\n\r\ntwo\r\n",
        "From: a@example.org, b@example.org\r\n\r\ntwo mailboxes\r\n",
        "From: a@../../etc/passwd\r\n\r\na path\r\n",
        "From: a@example.org/x\r\n\r\na path\r\n",
        "From: undisclosed:;\r\n\r\na group\r\n",
        "From: a@localhost\r\n\r\nno dot\r\n",
        "From: <>\r\n\r\nempty\r\n",
        "From: a@[192.0.2.1]\r\n\r\na literal\r\n",
        "From: a@b\xc3\xa9.example\r\n\r\nUTF-8\r\n",
        "From: (x, y) a@example.org, (z) b@example.org\r\n\r\ntwo after comments\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(homing_dkim_sign(&s, bad[i], strlen(bad[i]), &h), -EBADMSG);
    assert_string_equal(h, "untouched"); /* outputs only on success */
    /* a folded From is read whole */
    char dom[HOMING_DKIM_DOMAIN_MAX];
    const char *folded =
        "From: \"A, long\r\n name: (x)\" (a, comment:) <a@Sub.Example.ORG>\r\n\r\nx\r\n";
    assert_int_equal(homing_dkim_from_domain(folded, strlen(folded), dom, sizeof dom), 0);
    assert_string_equal(dom, "sub.example.org");
}

/* Keys that are refused rather than used or skipped. */
static void test_refused(void **state)
{
    (void)state;
    struct homing_settings s = settings();
    char *h = NULL;
    char *p = path_of("example.org.homing.key");
    assert_int_equal(chmod(p, 0640), 0);
    assert_int_equal(homing_dkim_sign(&s, MSG, strlen(MSG), &h), -EPERM);
    assert_int_equal(chmod(p, 0600), 0);
    free(p);
    /* not a key */
    p = path_of("example.com.homing.key");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", f);
    fclose(f);
    assert_int_equal(chmod(p, 0600), 0);
    char *m = replace(MSG, "alice@Example.ORG", "alice@example.com");
    assert_int_equal(homing_dkim_sign(&s, m, strlen(m), &h), -EINVAL);
    unlink(p);
    free(p);
    free(m);
    /* over the named limit: refused before a byte is read */
    assert_int_equal(homing_dkim_sign(&s, MSG, HOMING_DKIM_MESSAGE_MAX + 1u, &h), -E2BIG);
    assert_null(h);
    /* bad sizes and names */
    assert_int_equal(homing_dkim_key_create("/nonexistent/x.key", 512), -EINVAL);
    assert_int_equal(homing_dkim_key_create("/nonexistent/x.key", 8192), -EINVAL);
    char path[256];
    assert_int_equal(homing_dkim_key_path(&s, "../etc", "homing", path, sizeof path), -EINVAL);
    assert_int_equal(homing_dkim_key_path(&s, "example.org", "a.b", path, sizeof path), -EINVAL);
    assert_int_equal(homing_dkim_key_path(&s, "Example.org", "Homing", path, sizeof path), 0);
    char *want = path_of("example.org.homing.key");
    assert_string_equal(path, want);
    free(want);
}

/* A key is never replaced, and is made readable by its owner only. */
static void test_create(void **state)
{
    (void)state;
    char *p = path_of("example.org.homing.key");
    struct stat before, after;
    assert_int_equal(stat(p, &before), 0);
    assert_int_equal(homing_dkim_key_create(p, 1024), -EEXIST);
    assert_int_equal(stat(p, &after), 0);
    assert_int_equal(before.st_size, after.st_size);
    assert_int_equal(before.st_mtime, after.st_mtime);
    assert_int_equal(after.st_mode & 0777, 0600);
    free(p);
}

/* The zone line: strings of at most 255 bytes that join to the record. */
static void test_zone_line(void **state)
{
    (void)state;
    char *p = path_of("zone.example.x.key"), *rec = NULL, *line = NULL;
    int bits = 0;
    assert_int_equal(homing_dkim_key_create(p, 2048), 0);
    assert_int_equal(homing_dkim_key_record(p, &rec, &bits), 0);
    assert_int_equal(bits, 2048);
    assert_true(strlen(rec) > 255);
    assert_int_equal(homing_dkim_zone_line("zone.example", "x", rec, &line), 0);
    const char *want = "x._domainkey.zone.example. IN TXT (";
    assert_true(strncmp(line, want, strlen(want)) == 0);
    char joined[2048] = "";
    size_t parts = 0;
    for (const char *q = strchr(line, '"'); q; q = strchr(q + 1, '"')) {
        const char *e = strchr(q + 1, '"');
        assert_non_null(e);
        assert_true(e - q - 1 <= 255);
        strncat(joined, q + 1, (size_t)(e - q - 1));
        parts++;
        q = e;
    }
    assert_int_equal(parts, (strlen(rec) + 254) / 255);
    assert_string_equal(joined, rec);
    free(line);
    free(rec);
    unlink(p);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verifies),
        cmocka_unit_test(test_sign_lf_copy),
        cmocka_unit_test(test_selector_per_domain),
        cmocka_unit_test(test_unsigned),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_zone_line),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
