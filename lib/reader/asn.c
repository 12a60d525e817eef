/*
 * asn.c: autonomous system of an address, from a compact range file.
 *
 * ip-location-db publishes the ASN ranges as CSV (~500,000 lines, 65 MB);
 * parsing that at every daemon start would take seconds, so setup converts it
 * once (homing_asn_build) into a file that is mapped and used in place:
 *
 *   offset 0   header, 32 bytes: magic "HMASN01\0", u32 n4, u32 n6,
 *              u32 names_len, u32 reserved (0), u64 reserved (0)
 *   32         n4 IPv4 ranges, 16 bytes each: u32 start, u32 end, u32 asn,
 *              u32 name offset; sorted by start, not overlapping
 *   ...        n6 IPv6 ranges, 40 bytes each: start[16], end[16] (network
 *              order), u32 asn, u32 name offset; sorted, not overlapping
 *   ...        names_len bytes of NUL-terminated organisation names; offset 0
 *              is the empty name; names are stored once
 *
 * Integers are little-endian, ranges inclusive. The loader checks sizes, order
 * and every name offset once, so a lookup (a binary search) trusts the file.
 * The builder depends on libc alone: scripts/setup.sh compiles it with the small
 * main in geo_import.c before the rest of homing is built.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "homing/reader.h"

#define ASN_MAGIC     "HMASN01"
#define ASN_HEADER    32
#define ASN_V4_REC    16
#define ASN_V6_REC    40
#define ASN_NAMES_MAX (64u << 20) /* bytes of organisation names */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* ---- building ----------------------------------------------------------- */

struct range {
    uint8_t start[16], end[16]; /* network order; IPv4 in the first 4 bytes */
    uint32_t asn, name;
};

struct vec {
    struct range *v;
    size_t n, cap;
};

struct names {
    char *buf;
    size_t len, cap;
    uint32_t *slots; /* open addressing: offset + 1, 0 = empty */
    size_t nslots, used;
};

static int vec_push(struct vec *v, const struct range *r)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 4096;
        struct range *p = realloc(v->v, nc * sizeof *p);
        if (!p) return -ENOMEM;
        v->v = p;
        v->cap = nc;
    }
    v->v[v->n++] = *r;
    return 0;
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int names_grow(struct names *nm)
{
    size_t ns = nm->nslots ? nm->nslots * 2 : 65536;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s) return -ENOMEM;
    for (size_t i = 0; i < nm->nslots; i++) {
        if (!nm->slots[i]) continue;
        size_t j = fnv(nm->buf + nm->slots[i] - 1) & (ns - 1);
        while (s[j]) j = (j + 1) & (ns - 1);
        s[j] = nm->slots[i];
    }
    free(nm->slots);
    nm->slots = s;
    nm->nslots = ns;
    return 0;
}

/* Offset of name in the table, adding it once. */
static int names_add(struct names *nm, const char *name, uint32_t *off)
{
    if (!name[0]) {
        *off = 0;
        return 0;
    }
    if (nm->used * 2 >= nm->nslots && names_grow(nm) < 0) return -ENOMEM;
    size_t j = fnv(name) & (nm->nslots - 1);
    while (nm->slots[j]) {
        if (strcmp(nm->buf + nm->slots[j] - 1, name) == 0) {
            *off = nm->slots[j] - 1;
            return 0;
        }
        j = (j + 1) & (nm->nslots - 1);
    }
    size_t n = strlen(name) + 1;
    if (nm->len + n > ASN_NAMES_MAX) return -E2BIG;
    if (nm->len + n > nm->cap) {
        size_t nc = nm->cap ? nm->cap * 2 : 1 << 20;
        while (nc < nm->len + n) nc *= 2;
        char *b = realloc(nm->buf, nc);
        if (!b) return -ENOMEM;
        nm->buf = b;
        nm->cap = nc;
    }
    memcpy(nm->buf + nm->len, name, n);
    *off = (uint32_t)nm->len;
    nm->slots[j] = (uint32_t)nm->len + 1;
    nm->len += n;
    nm->used++;
    return 0;
}

/* Splits a CSV line into at most 4 fields, in place; "..." with "" escapes. */
static int csv_fields(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *out = p;
        f[n++] = p;
        if (*p == '"') {
            char *r = p + 1;
            for (;;) {
                if (!*r) return -EINVAL;
                if (r[0] == '"' && r[1] == '"') {
                    *out++ = '"';
                    r += 2;
                } else if (r[0] == '"') {
                    r++;
                    break;
                } else {
                    *out++ = *r++;
                }
            }
            if (*r && *r != ',') return -EINVAL;
            char *next = *r ? r + 1 : NULL;
            *out = '\0';
            if (!next) break;
            p = next;
        } else {
            char *c = strchr(p, ',');
            if (!c) break;
            *c = '\0';
            p = c + 1;
        }
    }
    return n;
}

static int parse_addr(const char *s, uint8_t out[16], int *family)
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, s, out) == 1) {
        *family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        *family = 6;
        return 0;
    }
    return -EINVAL;
}

/* The one data reader that does not use homing_lines (homing/util.h): setup.sh
 * builds the converter from this file alone, with libc, before meson runs, and
 * the CSV files are tens of megabytes, so they are streamed line by line. */
static int read_csv(const char *path, struct vec *v4, struct vec *v6, struct names *nm, char *err,
                    size_t errcap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        if (err) snprintf(err, errcap, "%s: %s", path, strerror(e));
        return -e;
    }
    char line[HOMING_ASN_LINE_MAX];
    long lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] != '\n' && !feof(f)) {
            rc = -E2BIG;
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0 || line[0] == '#') continue;
        char *fl[4];
        if (csv_fields(line, fl, 4) != 4) {
            rc = -EINVAL;
            break;
        }
        struct range r = {0};
        int fa, fb;
        char *end;
        unsigned long asn = strtoul(fl[2], &end, 10);
        if (parse_addr(fl[0], r.start, &fa) < 0 || parse_addr(fl[1], r.end, &fb) < 0 || fa != fb ||
            memcmp(r.start, r.end, 16) > 0 || *end || end == fl[2] || asn > UINT32_MAX) {
            rc = -EINVAL;
            break;
        }
        r.asn = (uint32_t)asn;
        char org[HOMING_ASN_ORG_MAX];
        snprintf(org, sizeof org, "%s", fl[3]);
        rc = names_add(nm, org, &r.name);
        struct vec *v = fa == 4 ? v4 : v6;
        if (rc == 0 && v4->n + v6->n >= HOMING_ASN_RANGES_MAX) rc = -E2BIG;
        if (rc == 0) rc = vec_push(v, &r);
    }
    if (rc < 0 && err)
        snprintf(err, errcap, "%s:%ld: %s", path, lineno,
                 rc == -E2BIG ? "too long or too many" : "malformed range");
    fclose(f);
    return rc;
}

static int range_cmp(const void *a, const void *b)
{
    return memcmp(((const struct range *)a)->start, ((const struct range *)b)->start, 16);
}

/* Sorts and drops ranges that overlap an earlier one (the sources are meant
 * not to overlap; the first range read wins, so the order of files decides). */
static void sort_ranges(struct vec *v)
{
    if (v->n > 1) qsort(v->v, v->n, sizeof *v->v, range_cmp); /* v->v is NULL when empty */
    size_t o = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (o && memcmp(v->v[i].start, v->v[o - 1].end, 16) <= 0) continue;
        v->v[o++] = v->v[i];
    }
    v->n = o;
}

int homing_asn_build(const char *const *csv_paths, size_t n, const char *out_path, char *err,
                     size_t errcap)
{
    struct vec v4 = {0}, v6 = {0};
    struct names nm = {0};
    int rc = 0;
    rc = names_grow(&nm);
    if (rc == 0) {
        /* offset 0: the empty name */
        nm.buf = malloc(1 << 20);
        nm.cap = nm.buf ? 1 << 20 : 0;
        if (!nm.buf)
            rc = -ENOMEM;
        else
            nm.buf[nm.len++] = '\0';
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = read_csv(csv_paths[i], &v4, &v6, &nm, err, errcap);
    if (rc == 0) {
        sort_ranges(&v4);
        sort_ranges(&v6);
    }
    char tmp[4096];
    FILE *f = NULL;
    if (rc == 0) {
        if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", out_path, (long)getpid()) >= (int)sizeof tmp)
            rc = -ENAMETOOLONG;
        else if (!(f = fopen(tmp, "wb")))
            rc = -errno;
        if (rc < 0 && err) snprintf(err, errcap, "%s: %s", out_path, strerror(-rc));
    }
    if (rc == 0) {
        uint8_t h[ASN_HEADER] = {0};
        memcpy(h, ASN_MAGIC, 8);
        put32(h + 8, (uint32_t)v4.n);
        put32(h + 12, (uint32_t)v6.n);
        put32(h + 16, (uint32_t)nm.len);
        int ok = fwrite(h, 1, sizeof h, f) == sizeof h;
        for (size_t i = 0; ok && i < v4.n; i++) {
            uint8_t r[ASN_V4_REC];
            const struct range *x = &v4.v[i];
            put32(r,
                  (uint32_t)x->start[0] << 24 | x->start[1] << 16 | x->start[2] << 8 | x->start[3]);
            put32(r + 4, (uint32_t)x->end[0] << 24 | x->end[1] << 16 | x->end[2] << 8 | x->end[3]);
            put32(r + 8, x->asn);
            put32(r + 12, x->name);
            ok = fwrite(r, 1, sizeof r, f) == sizeof r;
        }
        for (size_t i = 0; ok && i < v6.n; i++) {
            uint8_t r[ASN_V6_REC];
            memcpy(r, v6.v[i].start, 16);
            memcpy(r + 16, v6.v[i].end, 16);
            put32(r + 32, v6.v[i].asn);
            put32(r + 36, v6.v[i].name);
            ok = fwrite(r, 1, sizeof r, f) == sizeof r;
        }
        if (ok) ok = fwrite(nm.buf, 1, nm.len, f) == nm.len;
        if (fclose(f) != 0) ok = 0;
        if (ok && rename(tmp, out_path) < 0) ok = 0;
        if (!ok) {
            rc = -EIO;
            unlink(tmp);
            if (err) snprintf(err, errcap, "%s: write failed", out_path);
        } else {
            rc = (int)(v4.n + v6.n);
        }
    }
    free(v4.v);
    free(v6.v);
    free(nm.buf);
    free(nm.slots);
    return rc;
}

/* ---- lookups ------------------------------------------------------------ */

struct homing_asn_db {
    const uint8_t *map;
    size_t size;
    const uint8_t *v4, *v6;
    const char *names;
    uint32_t n4, n6, names_len;
};

static int check(const struct homing_asn_db *db)
{
    if (db->names_len == 0 || db->names[db->names_len - 1] != '\0') return -EINVAL;
    for (uint32_t i = 0; i < db->n4; i++) {
        const uint8_t *r = db->v4 + (size_t)i * ASN_V4_REC;
        if (le32(r) > le32(r + 4) || le32(r + 12) >= db->names_len) return -EINVAL;
        if (i && le32(r) <= le32(r - ASN_V4_REC + 4)) return -EINVAL;
    }
    for (uint32_t i = 0; i < db->n6; i++) {
        const uint8_t *r = db->v6 + (size_t)i * ASN_V6_REC;
        if (memcmp(r, r + 16, 16) > 0 || le32(r + 36) >= db->names_len) return -EINVAL;
        if (i && memcmp(r, r - ASN_V6_REC + 16, 16) <= 0) return -EINVAL;
    }
    return 0;
}

int homing_asn_open(const char *path, struct homing_asn_db **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (st.st_size < ASN_HEADER) {
        close(fd);
        return -EINVAL;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return -errno;
    struct homing_asn_db *db = calloc(1, sizeof *db);
    if (!db) {
        munmap(m, (size_t)st.st_size);
        return -ENOMEM;
    }
    db->map = m;
    db->size = (size_t)st.st_size;
    int rc = memcmp(db->map, ASN_MAGIC, 8) == 0 ? 0 : -EINVAL;
    if (rc == 0) {
        db->n4 = le32(db->map + 8);
        db->n6 = le32(db->map + 12);
        db->names_len = le32(db->map + 16);
        uint64_t want = ASN_HEADER + (uint64_t)db->n4 * ASN_V4_REC + (uint64_t)db->n6 * ASN_V6_REC +
                        db->names_len;
        if (want != db->size) rc = -EINVAL;
    }
    if (rc == 0) {
        db->v4 = db->map + ASN_HEADER;
        db->v6 = db->v4 + (size_t)db->n4 * ASN_V4_REC;
        db->names = (const char *)(db->v6 + (size_t)db->n6 * ASN_V6_REC);
        rc = check(db);
    }
    if (rc < 0) {
        homing_asn_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

void homing_asn_close(struct homing_asn_db *db)
{
    if (!db) return;
    if (db->map) munmap((void *)db->map, db->size);
    free(db);
}

size_t homing_asn_count(const struct homing_asn_db *db)
{
    return db ? (size_t)db->n4 + db->n6 : 0;
}

int homing_asn_lookup(const struct homing_asn_db *db, const struct homing_addr *a, uint32_t *asn,
                      const char **org)
{
    if (!db || !a) return -EINVAL;
    const uint8_t *hit = NULL;
    uint32_t lo = 0, hi;
    if (a->family == 4) {
        uint32_t x =
            (uint32_t)a->bytes[0] << 24 | a->bytes[1] << 16 | a->bytes[2] << 8 | a->bytes[3];
        hi = db->n4;
        /* last range with start <= x */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (le32(db->v4 + (size_t)mid * ASN_V4_REC) <= x)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == 0) return -ENOENT;
        const uint8_t *r = db->v4 + (size_t)(lo - 1) * ASN_V4_REC;
        if (x > le32(r + 4)) return -ENOENT;
        hit = r + 8;
    } else if (a->family == 6) {
        hi = db->n6;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (memcmp(db->v6 + (size_t)mid * ASN_V6_REC, a->bytes, 16) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == 0) return -ENOENT;
        const uint8_t *r = db->v6 + (size_t)(lo - 1) * ASN_V6_REC;
        if (memcmp(a->bytes, r + 16, 16) > 0) return -ENOENT;
        hit = r + 32;
    } else {
        return -EINVAL;
    }
    if (asn) *asn = le32(hit);
    if (org) *org = db->names + le32(hit + 4);
    return 0;
}
