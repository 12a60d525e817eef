/*
 * machines.c: the knowledge file of machines that fetch mail content (provider
 * image proxies, prefetchers, security scanners, hosting networks), by network
 * prefix or by autonomous system number. Format (data/machines.tsv, documented
 * in docs/verdicts.md), tab-separated, '#' comments:
 *
 *   kind   value           class     name          source
 *   asn    30031           scanner   Mimecast      where the fact comes from
 *   cidr   17.0.0.0/8      prefetch  Apple         ...
 *   rdns   google.com      proxy     Google        ... (used with enrich.rdns)
 *
 * Every entry must name its source: the file is evidence a verdict rests on.
 * Contract: see homing/reader.h; loaded once, read-only after.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homing/config.h"
#include "homing/reader.h"
#include "reader_int.h"

struct machine_entry {
    struct homing_cidr cidr; /* kind cidr */
    uint32_t asn;            /* kind asn; 0 for cidr and rdns entries */
    char *domain;            /* kind rdns, lower case; NULL otherwise */
    struct homing_machine m;
};

struct homing_machines {
    struct machine_entry *v;
    size_t n;
};

int reader_split_tabs(char *line, char **col, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        col[n++] = p;
        if (n == max) break;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = '\0';
        p = t + 1;
        /* Several tabs align columns: skip the empty ones between. */
        while (*p == '\t') p++;
    }
    return n;
}

int reader_data_path(const char *name, char *out, size_t cap)
{
    return homing_data_path(name, out, cap);
}

static int mclass_parse(const char *s)
{
    static const char *names[] = {"", "proxy", "prefetch", "scanner", "cloud", "gateway"};
    for (int i = 1; i <= HOMING_MACHINE_GATEWAY; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -EINVAL;
}

int homing_machines_load(const char *path, struct homing_machines **out, char *err, size_t errcap)
{
    char def[4096];
    if (!path) {
        if (reader_data_path("machines.tsv", def, sizeof def) < 0) return -ENAMETOOLONG;
        path = def;
    }
    struct homing_buf text;
    int rc = homing_file_read(path, HOMING_MACHINES_FILE_MAX, &text);
    if (rc < 0) {
        if (err)
            snprintf(err, errcap, "%s: %s", path,
                     rc == -E2BIG    ? "file too large"
                     : rc == -EINVAL ? "NUL byte in file"
                                     : strerror(-rc));
        return rc;
    }
    struct homing_machines *m = calloc(1, sizeof *m);
    size_t cap = 0;
    if (!m) rc = -ENOMEM;
    struct homing_lines lines;
    homing_lines_init(&lines, text.data, text.len, HOMING_MACHINES_LINE_MAX, HOMING_LINES_SKIP);
    char *line;
    while (rc == 0 && (rc = homing_lines_next(&lines, &line, NULL)) > 0) {
        rc = 0;
        char *col[5];
        if (reader_split_tabs(line, col, 5) != 5 || !col[4][0] || !col[3][0] ||
            strlen(col[3]) >= HOMING_MACHINE_NAME_MAX) {
            rc = -EINVAL;
            break;
        }
        struct machine_entry e = {0};
        int cl = mclass_parse(col[2]);
        if (cl < 0) {
            rc = -EINVAL;
            break;
        }
        e.m.mclass = (uint8_t)cl;
        homing_strlcpy(e.m.name, col[3], sizeof e.m.name);
        if (strcmp(col[0], "asn") == 0) {
            char *end;
            unsigned long a = strtoul(col[1], &end, 10);
            if (*end || end == col[1] || a == 0 || a > UINT32_MAX) rc = -EINVAL;
            e.asn = (uint32_t)a;
        } else if (strcmp(col[0], "cidr") == 0) {
            rc = homing_cidr_parse(col[1], strlen(col[1]), &e.cidr);
        } else if (strcmp(col[0], "rdns") == 0) {
            for (char *c = col[1]; *c; c++) *c = (char)tolower((unsigned char)*c);
            if (!col[1][0] || col[1][0] == '.' || strlen(col[1]) >= HOMING_RDNS_MAX)
                rc = -EINVAL;
            else if (!(e.domain = strdup(col[1])))
                rc = -ENOMEM;
        } else {
            rc = -EINVAL;
        }
        if (rc == 0 && m->n >= HOMING_MACHINES_MAX) rc = -E2BIG;
        if (rc == 0 && m->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct machine_entry *v = realloc(m->v, nc * sizeof *v);
            if (!v)
                rc = -ENOMEM;
            else
                m->v = v, cap = nc;
        }
        if (rc == 0)
            m->v[m->n++] = e;
        else
            free(e.domain);
    }
    homing_buf_free(&text);
    if (rc < 0) {
        if (err)
            snprintf(err, errcap, "%s:%ld: %s", path, lines.lineno,
                     rc == -E2BIG ? "too long or too many entries" : "malformed entry");
        homing_machines_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void homing_machines_free(struct homing_machines *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) free(m->v[i].domain);
    free(m->v);
    free(m);
}

size_t homing_machines_count(const struct homing_machines *m)
{
    return m ? m->n : 0;
}

int homing_machines_match(const struct homing_machines *m, const struct homing_addr *a,
                          uint32_t asn, struct homing_machine *out)
{
    if (!m) return -ENOENT;
    const struct machine_entry *best = NULL;
    for (size_t i = 0; a && a->family && i < m->n; i++) {
        const struct machine_entry *e = &m->v[i];
        if (e->asn || e->domain || !homing_cidr_contains(&e->cidr, a)) continue;
        if (!best || e->cidr.bits > best->cidr.bits) best = e;
    }
    for (size_t i = 0; !best && asn && i < m->n; i++)
        if (m->v[i].asn == asn) best = &m->v[i];
    if (!best) return -ENOENT;
    if (out) *out = best->m;
    return 0;
}

int homing_machines_match_host(const struct homing_machines *m, const char *host,
                               struct homing_machine *out)
{
    if (!m || !host) return -ENOENT;
    char h[HOMING_RDNS_MAX];
    size_t n = strlen(host);
    if (n == 0 || n >= sizeof h) return -ENOENT;
    for (size_t i = 0; i <= n; i++) h[i] = (char)tolower((unsigned char)host[i]);
    if (h[n - 1] == '.') h[--n] = '\0'; /* a fully qualified name's root dot */
    const struct machine_entry *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < m->n; i++) {
        const char *d = m->v[i].domain;
        if (!d) continue;
        size_t dl = strlen(d);
        /* host is the domain or ends with ".domain" */
        if (dl > n || strcmp(h + n - dl, d) != 0 || (dl < n && h[n - dl - 1] != '.')) continue;
        if (dl > best_len) best = &m->v[i], best_len = dl;
    }
    if (!best) return -ENOENT;
    if (out) *out = best->m;
    return 0;
}
