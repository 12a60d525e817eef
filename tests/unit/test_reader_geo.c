/*
 * test_reader_geo.c: network facts. The ASN range file: built from a small CSV
 * (IPv4, IPv6, quoted names, overlaps), looked up at range edges, and refused
 * when damaged. The country lookup: against a tiny MaxMind-format database that
 * this file writes itself (so the test does not depend on a download), in both
 * record layouts. The machine knowledge file and reader fingerprints.
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

#include "homing/reader.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static struct homing_addr addr(const char *s)
{
    struct homing_addr a;
    assert_int_equal(homing_addr_parse(s, strlen(s), &a), 0);
    return a;
}

/* The data files scripts/setup.sh installs under var/ of the source tree
 * ($HOMING_SRC, set by meson; the working directory otherwise). A missing file
 * is a failure, not a skip: `make test` runs setup first, so absence means
 * setup is broken. */
static void setup_file(const char *rel, char *out, size_t cap)
{
    const char *src = getenv("HOMING_SRC");
    int n = snprintf(out, cap, "%s/%s", src && *src ? src : ".", rel);
    assert_true(n > 0 && (size_t)n < cap);
    if (access(out, R_OK) != 0) {
        print_error("%s is missing: run scripts/setup.sh (make setup)\n", out);
        fail();
    }
}

/* ---- ASN ---------------------------------------------------------------- */

static void test_asn(void **state)
{
    (void)state;
    char csv[] = "/tmp/homing-test-asn-csv-XXXXXX", out[] = "/tmp/homing-test-asn-XXXXXX";
    close(mkstemp(csv));
    close(mkstemp(out));
    write_file(csv, "# comment\n"
                    "10.0.0.0,10.0.0.255,64500,\"Example, Inc.\"\n"
                    "10.0.2.0,10.0.3.255,64501,Second Net\n"
                    "10.0.3.0,10.0.3.10,64999,Overlaps and is dropped\n"
                    "2001:db8::,2001:db8:0:ffff:ffff:ffff:ffff:ffff,64502,\"Six \"\"quoted\"\"\"\n"
                    "192.0.2.0,192.0.2.255,64500,\"Example, Inc.\"\n");
    const char *in[] = {csv};
    char err[256];
    assert_int_equal(homing_asn_build(in, 1, out, err, sizeof err), 4);
    struct homing_asn_db *db;
    assert_int_equal(homing_asn_open(out, &db), 0);
    assert_int_equal(homing_asn_count(db), 4);
    uint32_t asn;
    const char *org;
    struct homing_addr a = addr("10.0.0.0");
    assert_int_equal(homing_asn_lookup(db, &a, &asn, &org), 0);
    assert_int_equal(asn, 64500);
    assert_string_equal(org, "Example, Inc.");
    a = addr("10.0.0.255");
    assert_int_equal(homing_asn_lookup(db, &a, &asn, NULL), 0);
    a = addr("10.0.1.0");
    assert_int_equal(homing_asn_lookup(db, &a, &asn, &org), -ENOENT);
    a = addr("9.255.255.255");
    assert_int_equal(homing_asn_lookup(db, &a, &asn, &org), -ENOENT);
    a = addr("10.0.3.5");
    assert_int_equal(homing_asn_lookup(db, &a, &asn, &org), 0);
    assert_int_equal(asn, 64501); /* the overlapping range was dropped */
    a = addr("192.0.2.77");
    assert_int_equal(homing_asn_lookup(db, &a, &asn, &org), 0);
    assert_string_equal(org, "Example, Inc.");
    a = addr("2001:db8::1");
    assert_int_equal(homing_asn_lookup(db, &a, &asn, &org), 0);
    assert_int_equal(asn, 64502);
    assert_string_equal(org, "Six \"quoted\"");
    a = addr("2001:db8:1::");
    assert_int_equal(homing_asn_lookup(db, &a, &asn, &org), -ENOENT);
    a = addr("255.255.255.255");
    assert_int_equal(homing_asn_lookup(db, &a, &asn, &org), -ENOENT);
    homing_asn_close(db);

    /* A damaged file is refused, never half-used: cut it, then corrupt it. */
    FILE *f = fopen(out, "r+");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    assert_int_equal(truncate(out, size - 1), 0);
    assert_int_equal(homing_asn_open(out, &db), -EINVAL);
    assert_int_equal(homing_asn_build(in, 1, out, err, sizeof err), 4);
    f = fopen(out, "r+");
    fseek(f, 32 + 16 + 12, SEEK_SET); /* name offset of the second range */
    fputc(0x7f, f);
    fputc(0x7f, f);
    fclose(f);
    assert_int_equal(homing_asn_open(out, &db), -EINVAL);
    write_file(out, "not a range file at all, but long enough for a header");
    assert_int_equal(homing_asn_open(out, &db), -EINVAL);
    assert_int_equal(homing_asn_open("/nonexistent/asn.hmasn", &db), -ENOENT);

    /* Bad CSV: the error names the line. */
    write_file(csv, "10.0.0.0,10.0.0.255,64500,ok\n10.0.1.0,10.0.0.1,1,end before start\n");
    assert_int_equal(homing_asn_build(in, 1, out, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, ":2:"));
    write_file(csv, "10.0.0.0,2001:db8::,1,mixed\n");
    assert_int_equal(homing_asn_build(in, 1, out, err, sizeof err), -EINVAL);
    write_file(csv, "10.0.0.0,10.0.0.1,\"unterminated\n");
    assert_int_equal(homing_asn_build(in, 1, out, err, sizeof err), -EINVAL);
    unlink(csv);
    unlink(out);
}

/* The real file that setup makes: a measure of load and lookup time. */
static void test_asn_real(void **state)
{
    (void)state;
    char path[4096];
    setup_file("var/geo/asn.hmasn", path, sizeof path);
    int64_t t0 = homing_mono_us();
    struct homing_asn_db *db;
    assert_int_equal(homing_asn_open(path, &db), 0);
    int64_t t1 = homing_mono_us();
    uint32_t x = 0x01000000, asn, found = 0;
    int n = 1000000;
    for (int i = 0; i < n; i++) {
        struct homing_addr a = {.family = 4};
        x = x * 1103515245u + 12345u;
        a.bytes[0] = (uint8_t)(x >> 24);
        a.bytes[1] = (uint8_t)(x >> 16);
        a.bytes[2] = (uint8_t)(x >> 8);
        a.bytes[3] = (uint8_t)x;
        if (homing_asn_lookup(db, &a, &asn, NULL) == 0) found++;
    }
    int64_t t2 = homing_mono_us();
    printf("measure: %s: %zu ranges, open+check %.1f ms, %.1f M lookups/s (%u%% found)\n", path,
           homing_asn_count(db), (double)(t1 - t0) / 1e3, n / ((double)(t2 - t1)),
           (unsigned)(found * 100ull / (unsigned)n));
    homing_asn_close(db);
}

/* ---- a tiny MaxMind DB writer ------------------------------------------- */
/* Just enough of the MaxMind DB format 2.0 (https://maxmind.github.io/MaxMind-DB/)
 * for an IPv4 tree with 24-bit records, maps, UTF-8 strings and unsigned ints. */

struct mm {
    uint8_t data[4096];
    size_t dlen;
    uint32_t nodes[512][2]; /* child node or data reference; UINT32_MAX = empty */
    uint32_t nnodes;
};

static void mm_ctrl(uint8_t *out, size_t *o, unsigned type, size_t size)
{
    assert_true(size < 29);
    if (type <= 7) {
        out[(*o)++] = (uint8_t)(type << 5 | size);
    } else {
        out[(*o)++] = (uint8_t)size;
        out[(*o)++] = (uint8_t)(type - 7);
    }
}

static void mm_str(uint8_t *out, size_t *o, const char *s)
{
    mm_ctrl(out, o, 2, strlen(s));
    memcpy(out + *o, s, strlen(s));
    *o += strlen(s);
}

static void mm_uint(uint8_t *out, size_t *o, unsigned type, uint64_t v)
{
    uint8_t b[8];
    size_t n = 0;
    for (uint64_t t = v; t; t >>= 8) n++;
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    mm_ctrl(out, o, type, n);
    memcpy(out + *o, b, n);
    *o += n;
}

/* Adds {key: cc} or {key: {iso_code: cc}}; returns its data offset. */
static uint32_t mm_record(struct mm *m, const char *cc, int nested)
{
    uint32_t at = (uint32_t)m->dlen;
    mm_ctrl(m->data, &m->dlen, 7, 1);
    if (nested) {
        mm_str(m->data, &m->dlen, "country");
        mm_ctrl(m->data, &m->dlen, 7, 1);
        mm_str(m->data, &m->dlen, "iso_code");
    } else {
        mm_str(m->data, &m->dlen, "country_code");
    }
    mm_str(m->data, &m->dlen, cc);
    return at;
}

#define MM_DATA_FLAG 0x80000000u

static void mm_insert(struct mm *m, const char *prefix, unsigned bits, uint32_t data_off)
{
    struct homing_addr a = addr(prefix);
    uint32_t node = 0;
    for (unsigned i = 0; i < bits; i++) {
        int bit = (a.bytes[i / 8] >> (7 - i % 8)) & 1;
        if (i == bits - 1) {
            m->nodes[node][bit] = MM_DATA_FLAG | data_off;
        } else {
            if (m->nodes[node][bit] == UINT32_MAX) {
                m->nodes[node][bit] = m->nnodes;
                m->nodes[m->nnodes][0] = m->nodes[m->nnodes][1] = UINT32_MAX;
                m->nnodes++;
            }
            node = m->nodes[node][bit];
        }
    }
}

static void mm_write(struct mm *m, const char *path)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (uint32_t i = 0; i < m->nnodes; i++) {
        for (int s = 0; s < 2; s++) {
            uint32_t v = m->nodes[i][s];
            if (v == UINT32_MAX)
                v = m->nnodes; /* no data */
            else if (v & MM_DATA_FLAG)
                v = m->nnodes + 16 + (v & ~MM_DATA_FLAG);
            uint8_t r[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
            fwrite(r, 1, 3, f);
        }
    }
    static const uint8_t zeros[16];
    fwrite(zeros, 1, 16, f);
    fwrite(m->data, 1, m->dlen, f);
    uint8_t meta[512];
    size_t o = 0;
    static const uint8_t marker[] = "\xAB\xCD\xEFMaxMind.com";
    fwrite(marker, 1, sizeof marker - 1, f);
    mm_ctrl(meta, &o, 7, 9);
    mm_str(meta, &o, "node_count");
    mm_uint(meta, &o, 6, m->nnodes);
    mm_str(meta, &o, "record_size");
    mm_uint(meta, &o, 5, 24);
    mm_str(meta, &o, "ip_version");
    mm_uint(meta, &o, 5, 4);
    mm_str(meta, &o, "database_type");
    mm_str(meta, &o, "homing-test-country");
    mm_str(meta, &o, "languages");
    mm_ctrl(meta, &o, 11, 0);
    mm_str(meta, &o, "binary_format_major_version");
    mm_uint(meta, &o, 5, 2);
    mm_str(meta, &o, "binary_format_minor_version");
    mm_uint(meta, &o, 5, 0);
    mm_str(meta, &o, "build_epoch");
    mm_uint(meta, &o, 9, 1700000000);
    mm_str(meta, &o, "description");
    mm_ctrl(meta, &o, 7, 0);
    fwrite(meta, 1, o, f);
    fclose(f);
}

static void test_geo(void **state)
{
    (void)state;
    struct mm *m = calloc(1, sizeof *m);
    m->nnodes = 1;
    m->nodes[0][0] = m->nodes[0][1] = UINT32_MAX;
    mm_insert(m, "192.0.2.0", 24, mm_record(m, "FR", 0));
    mm_insert(m, "198.51.100.0", 24, mm_record(m, "DE", 1)); /* MaxMind layout */
    mm_insert(m, "203.0.113.0", 25, mm_record(m, "zz", 0));  /* not a code */
    char path[] = "/tmp/homing-test-mmdb-XXXXXX";
    close(mkstemp(path));
    mm_write(m, path);
    free(m);

    struct homing_geo_db *db;
    assert_int_equal(homing_geo_open(path, &db), 0);
    char cc[3] = "";
    struct homing_addr a = addr("192.0.2.200");
    assert_int_equal(homing_geo_country(db, &a, cc), 0);
    assert_string_equal(cc, "FR");
    a = addr("198.51.100.1");
    assert_int_equal(homing_geo_country(db, &a, cc), 0);
    assert_string_equal(cc, "DE");
    a = addr("198.51.101.1");
    assert_int_equal(homing_geo_country(db, &a, cc), -ENOENT);
    a = addr("203.0.113.5");
    assert_int_equal(homing_geo_country(db, &a, cc), -ENOENT);
    a = addr("2001:db8::1"); /* IPv6 in an IPv4 database */
    assert_true(homing_geo_country(db, &a, cc) < 0);
    homing_geo_close(db);
    write_file(path, "garbage");
    assert_int_equal(homing_geo_open(path, &db), -EINVAL);
    unlink(path);
    assert_int_equal(homing_geo_open("/nonexistent.mmdb", &db), -ENOENT);
}

/* The ip-location-db file that setup installs: CC0 data, checked on
 * allocations that do not move (RIR delegations to national networks). */
static void test_geo_real(void **state)
{
    (void)state;
    char path[4096];
    setup_file("var/npm/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/"
               "geo-whois-asn-country.mmdb",
               path, sizeof path);
    struct homing_geo_db *db;
    assert_int_equal(homing_geo_open(path, &db), 0);
    char cc[3];
    struct homing_addr a = addr("90.12.3.4"); /* Orange S.A., AS3215 */
    assert_int_equal(homing_geo_country(db, &a, cc), 0);
    assert_string_equal(cc, "FR");
    a = addr("2003:e5:1::1"); /* Deutsche Telekom, AS3320 */
    assert_int_equal(homing_geo_country(db, &a, cc), 0);
    assert_string_equal(cc, "DE");
    homing_geo_close(db);
}

/* ---- machines ----------------------------------------------------------- */

static void test_machines(void **state)
{
    (void)state;
    struct homing_machines *m;
    char err[256];
    assert_int_equal(homing_machines_load("data/machines.tsv", &m, err, sizeof err), 0);
    assert_true(homing_machines_count(m) > 20);
    struct homing_machine x;
    struct homing_addr a = addr("17.58.63.1");
    assert_int_equal(homing_machines_match(m, &a, 0, &x), 0); /* by prefix, no ASN */
    assert_int_equal(x.mclass, HOMING_MACHINE_PREFETCH);
    assert_string_equal(x.name, "Apple");
    a = addr("198.51.100.1");
    assert_int_equal(homing_machines_match(m, &a, 30031, &x), 0);
    assert_int_equal(x.mclass, HOMING_MACHINE_SCANNER);
    assert_string_equal(x.name, "Mimecast");
    assert_int_equal(homing_machines_match(m, &a, 3215, &x), -ENOENT);
    assert_int_equal(homing_machines_match(m, NULL, 0, &x), -ENOENT);
    homing_machines_free(m);

    char path[] = "/tmp/homing-test-machines-XXXXXX";
    close(mkstemp(path));
    write_file(path, "cidr\t10.0.0.0/8\tcloud\tWide\tsrc\n"
                     "cidr\t10.1.0.0/16\tscanner\tNarrow\tsrc\n");
    assert_int_equal(homing_machines_load(path, &m, err, sizeof err), 0);
    a = addr("10.1.2.3");
    assert_int_equal(homing_machines_match(m, &a, 0, &x), 0);
    assert_string_equal(x.name, "Narrow"); /* longest prefix wins */
    homing_machines_free(m);
    write_file(path, "rdns\tgoogle.com\tproxy\tGoogle\tsrc\n"
                     "rdns\tmail.google.com\tscanner\tDeeper\tsrc\n");
    assert_int_equal(homing_machines_load(path, &m, err, sizeof err), 0);
    assert_int_equal(homing_machines_match_host(m, "Google-Proxy-66-249-93-10.google.com.", &x), 0);
    assert_string_equal(x.name, "Google");
    assert_int_equal(homing_machines_match_host(m, "a.mail.google.com", &x), 0);
    assert_string_equal(x.name, "Deeper"); /* longest domain wins */
    assert_int_equal(homing_machines_match_host(m, "google.com", &x), 0);
    assert_int_equal(homing_machines_match_host(m, "notgoogle.com", &x), -ENOENT);
    assert_int_equal(homing_machines_match_host(m, "google.com.evil.example", &x), -ENOENT);
    a = addr("10.1.2.3");
    assert_int_equal(homing_machines_match(m, &a, 0, &x), -ENOENT); /* names need a host */
    homing_machines_free(m);
    /* Confirmed reverse DNS from /etc/hosts: no network needed. */
    char host[HOMING_RDNS_MAX];
    a = addr("127.0.0.1");
    assert_int_equal(homing_rdns_lookup(&a, host, sizeof host), 0);
    assert_true(host[0] != '\0');
    write_file(path, "asn\t123\tscanner\tNo source\n");
    assert_int_equal(homing_machines_load(path, &m, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, ":1:"));
    write_file(path, "asn\t123\tfriend\tX\tsrc\n");
    assert_int_equal(homing_machines_load(path, &m, err, sizeof err), -EINVAL);
    write_file(path, "cidr\t10.0.0.0/33\tcloud\tX\tsrc\n");
    assert_int_equal(homing_machines_load(path, &m, err, sizeof err), -EINVAL);
    unlink(path);
}

/* ---- fingerprints ------------------------------------------------------- */

static struct homing_event hit(const char *client, const char *lang)
{
    struct homing_event e;
    memset(&e, 0, sizeof e);
    e.kind = HOMING_EV_OPEN;
    e.method = HOMING_METHOD_GET;
    homing_strlcpy(e.client, client, sizeof e.client);
    homing_strlcpy(e.accept_language, lang, sizeof e.accept_language);
    return e;
}

static void test_fingerprint(void **state)
{
    (void)state;
    struct homing_ua tb = {.ua_class = HOMING_UA_CLASS_MAIL, .type = HOMING_DEVICE_DESKTOP};
    strcpy(tb.family, "Thunderbird");
    strcpy(tb.major, "115");
    struct homing_verdict_result human = {.verdict = HOMING_VERDICT_HUMAN};
    uint64_t a, b, c, d;
    struct homing_event e1 = hit("82.64.1.1", "fr-FR,fr;q=0.9,en;q=0.8");
    struct homing_event e2 = hit("82.64.1.200", "fr-FR, fr;q=0.8, en;q=0.5");
    assert_int_equal(homing_fingerprint_compute(&e1, &tb, &human, &a), 0);
    assert_int_equal(homing_fingerprint_compute(&e2, &tb, &human, &b), 0);
    assert_true(a != 0);
    assert_true(a == b); /* same /24, same client, same languages (q-values aside) */
    /* The value is fixed for all time: stored reader ids must keep matching. */
    char hex[HOMING_FINGERPRINT_STR_MAX];
    homing_fingerprint_format(a, hex);
    /* FNV-1a of "r1|82.64.1.0/24|Thunderbird|115|fr-fr,fr,en" */
    assert_string_equal(hex, "7d6d1dd42d9dff22");
    struct homing_event e3 = hit("82.64.2.1", "fr-FR,fr;q=0.9,en;q=0.8");
    assert_int_equal(homing_fingerprint_compute(&e3, &tb, &human, &c), 0);
    assert_true(c != a); /* another network */
    strcpy(tb.major, "102");
    assert_int_equal(homing_fingerprint_compute(&e1, &tb, &human, &d), 0);
    assert_true(d != a); /* another client version */
    strcpy(tb.major, "115");
    /* IPv6: the /48 */
    struct homing_event v6a = hit("2a01:e0a:1:2::1", "fr"), v6b = hit("2a01:e0a:1:ffff::9", "fr"),
                        v6c = hit("2a01:e0a:2::1", "fr");
    assert_int_equal(homing_fingerprint_compute(&v6a, &tb, &human, &a), 0);
    assert_int_equal(homing_fingerprint_compute(&v6b, &tb, &human, &b), 0);
    assert_int_equal(homing_fingerprint_compute(&v6c, &tb, &human, &c), 0);
    assert_true(a == b && a != c);

    /* Machines have no reader */
    struct homing_verdict_result proxy = {.verdict = HOMING_VERDICT_PROXY_OPEN};
    assert_int_equal(homing_fingerprint_compute(&e1, &tb, &proxy, &a), -EPERM);
    struct homing_ua gp = {.ua_class = HOMING_UA_CLASS_PROXY, .type = HOMING_DEVICE_PROXY};
    assert_int_equal(homing_fingerprint_compute(&e1, &gp, &human, &a), -EPERM);
    struct homing_event bad = hit("not-an-address", "");
    assert_int_equal(homing_fingerprint_compute(&bad, &tb, &human, &a), -EINVAL);

    /* New reader: a forward */
    uint64_t known[2];
    assert_int_equal(homing_fingerprint_compute(&e1, &tb, &human, &known[0]), 0);
    assert_int_equal(homing_fingerprint_compute(&v6a, &tb, &human, &known[1]), 0);
    assert_int_equal(homing_fingerprint_compute(&e2, &tb, &human, &a), 0);
    assert_int_equal(homing_fingerprint_is_new(a, known, 2), 0);
    assert_int_equal(homing_fingerprint_compute(&e3, &tb, &human, &c), 0);
    assert_int_equal(homing_fingerprint_is_new(c, known, 2), 1);
    assert_int_equal(homing_fingerprint_is_new(c, NULL, 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asn),      cmocka_unit_test(test_asn_real),
        cmocka_unit_test(test_geo),      cmocka_unit_test(test_geo_real),
        cmocka_unit_test(test_machines), cmocka_unit_test(test_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
