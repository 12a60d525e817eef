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
 * The published range lists (data/published/, homing_machines_load_published)
 * add cidr entries whose source is their list's line in lists.tsv.
 *
 * Prefix lookups run per hit on the daemon's enrichment thread, and the
 * published lists hold tens of thousands of prefixes: the cidr entries are
 * kept sorted by (family, prefix length descending, network), and a lookup
 * truncates the address to each length present and binary-searches that
 * group, longest first: O(lengths * log n), never a scan.
 * Contract: see homing/reader.h; loaded once, read-only after.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
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

/* A prefix entry of the sorted index: kind is an index into kinds. */
struct cidr_entry {
    struct homing_cidr cidr;
    uint32_t kind;
    uint32_t order; /* load order: machines.tsv before the lists, for equal prefixes */
};

/* One run of the index with one family and prefix length. */
struct cidr_group {
    uint8_t family, bits;
    size_t start, end;
};

struct homing_machines {
    struct machine_entry *v; /* asn and rdns entries (and cidr, until indexed) */
    size_t n;
    struct cidr_entry *cidrs;
    size_t ncidrs, cidrs_cap;
    struct homing_machine *kinds; /* the distinct (class, name) of cidr entries */
    size_t nkinds, kinds_cap;
    struct cidr_group groups[2 * 129];
    size_t ngroups;
};

static int kind_index(struct homing_machines *m, const struct homing_machine *k, uint32_t *out)
{
    for (size_t i = m->nkinds; i-- > 0;)
        if (m->kinds[i].mclass == k->mclass && strcmp(m->kinds[i].name, k->name) == 0) {
            *out = (uint32_t)i;
            return 0;
        }
    if (m->nkinds == m->kinds_cap) {
        size_t nc = m->kinds_cap ? m->kinds_cap * 2 : 16;
        struct homing_machine *v = realloc(m->kinds, nc * sizeof *v);
        if (!v) return -ENOMEM;
        m->kinds = v, m->kinds_cap = nc;
    }
    m->kinds[m->nkinds] = *k;
    *out = (uint32_t)m->nkinds++;
    return 0;
}

static int cidr_add(struct homing_machines *m, const struct homing_cidr *c,
                    const struct homing_machine *k)
{
    uint32_t kind;
    int rc = kind_index(m, k, &kind);
    if (rc < 0) return rc;
    if (m->ncidrs == m->cidrs_cap) {
        size_t nc = m->cidrs_cap ? m->cidrs_cap * 2 : 256;
        struct cidr_entry *v = realloc(m->cidrs, nc * sizeof *v);
        if (!v) return -ENOMEM;
        m->cidrs = v, m->cidrs_cap = nc;
    }
    m->cidrs[m->ncidrs] = (struct cidr_entry){*c, kind, (uint32_t)m->ncidrs};
    m->ncidrs++;
    return 0;
}

static int cidr_cmp(const void *pa, const void *pb)
{
    const struct cidr_entry *a = pa, *b = pb;
    if (a->cidr.addr.family != b->cidr.addr.family)
        return a->cidr.addr.family < b->cidr.addr.family ? -1 : 1;
    if (a->cidr.bits != b->cidr.bits) return a->cidr.bits > b->cidr.bits ? -1 : 1;
    int c = memcmp(a->cidr.addr.bytes, b->cidr.addr.bytes, 16);
    if (c) return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Sorts the prefix entries and records the groups of one family and length. */
static void index_build(struct homing_machines *m)
{
    if (m->ncidrs) qsort(m->cidrs, m->ncidrs, sizeof *m->cidrs, cidr_cmp);
    m->ngroups = 0;
    for (size_t i = 0; i < m->ncidrs;) {
        size_t j = i;
        while (j < m->ncidrs && m->cidrs[j].cidr.addr.family == m->cidrs[i].cidr.addr.family &&
               m->cidrs[j].cidr.bits == m->cidrs[i].cidr.bits)
            j++;
        m->groups[m->ngroups++] =
            (struct cidr_group){m->cidrs[i].cidr.addr.family, m->cidrs[i].cidr.bits, i, j};
        i = j;
    }
}

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
    static const char *names[] = {"",      "proxy",   "prefetch", "scanner",
                                  "cloud", "gateway", "relay",    "crawler"};
    for (int i = 1; i <= HOMING_MACHINE_CRAWLER; i++)
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
        if (rc == 0 && !e.asn && !e.domain) {
            rc = cidr_add(m, &e.cidr, &e.m);
            continue;
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
    index_build(m);
    *out = m;
    return 0;
}

void homing_machines_free(struct homing_machines *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) free(m->v[i].domain);
    free(m->v);
    free(m->cidrs);
    free(m->kinds);
    free(m);
}

size_t homing_machines_count(const struct homing_machines *m)
{
    return m ? m->n + m->ncidrs : 0;
}

int homing_machines_match(const struct homing_machines *m, const struct homing_addr *a,
                          uint32_t asn, struct homing_machine *out)
{
    if (!m) return -ENOENT;
    /* Groups run from the longest prefix down: the first hit is the best. */
    for (size_t g = 0; a && a->family && g < m->ngroups; g++) {
        const struct cidr_group *gr = &m->groups[g];
        if (gr->family != a->family) continue;
        struct homing_addr t = *a;
        homing_addr_truncate(&t, gr->bits);
        size_t lo = gr->start, hi = gr->end;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (memcmp(m->cidrs[mid].cidr.addr.bytes, t.bytes, 16) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < gr->end && memcmp(m->cidrs[lo].cidr.addr.bytes, t.bytes, 16) == 0) {
            if (out) *out = m->kinds[m->cidrs[lo].kind];
            return 0;
        }
    }
    const struct machine_entry *best = NULL;
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

/* ---- published range lists ---- */

static int cidr_plain_cmp(const void *pa, const void *pb)
{
    const struct homing_cidr *a = pa, *b = pb;
    if (a->addr.family != b->addr.family) return a->addr.family < b->addr.family ? -1 : 1;
    int c = memcmp(a->addr.bytes, b->addr.bytes, 16);
    if (c) return c;
    return a->bits < b->bits ? -1 : a->bits > b->bits;
}

struct cidr_vec {
    struct homing_cidr *v;
    size_t n, cap;
};

static int vec_push(struct cidr_vec *v, const char *s, size_t n)
{
    struct homing_cidr c;
    if (homing_cidr_parse(s, n, &c) < 0) return -EINVAL;
    if (v->n >= HOMING_PUBLISHED_RANGES_MAX) return -E2BIG;
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 1024;
        struct homing_cidr *p = realloc(v->v, nc * sizeof *p);
        if (!p) return -ENOMEM;
        v->v = p, v->cap = nc;
    }
    v->v[v->n++] = c;
    return 0;
}

/* Microsoft 365's endpoint sets (endpoints.office.com/endpoints/worldwide, the
 * data of "Microsoft 365 URLs and IP address ranges"): a JSON array of
 * {"id", "serviceArea", "urls": [...], "ips": [...]}. Exchange Online
 * Protection's sets are those of service area Exchange that serve a host under
 * this domain (*.mail.protection.outlook.com, *.protection.outlook.com: ids 9
 * and 10 in 2026); the other sets are Microsoft 365's own services, no
 * scanners, and are skipped. */
#define PUBLISHED_EOP_SERVICE_AREA "Exchange"
#define PUBLISHED_EOP_URL_SUFFIX   "protection.outlook.com"

static int m365_set_is_eop(json_t *set)
{
    json_t *area = json_object_get(set, "serviceArea");
    if (!json_is_string(area) || strcmp(json_string_value(area), PUBLISHED_EOP_SERVICE_AREA) != 0)
        return 0;
    size_t i;
    json_t *u;
    const size_t sl = strlen(PUBLISHED_EOP_URL_SUFFIX);
    json_array_foreach(json_object_get(set, "urls"), i, u)
    {
        const char *h = json_string_value(u);
        size_t hl = h ? strlen(h) : 0;
        if (hl >= sl && strcmp(h + hl - sl, PUBLISHED_EOP_URL_SUFFIX) == 0 &&
            (hl == sl || h[hl - sl - 1] == '.'))
            return 1;
    }
    return 0;
}

static int read_m365(json_t *root, struct cidr_vec *v)
{
    size_t i, k;
    json_t *set, *ip;
    json_array_foreach(root, i, set)
    {
        if (!json_is_object(set)) return -EINVAL;
        if (!m365_set_is_eop(set)) continue;
        json_t *ips = json_object_get(set, "ips");
        if (ips && !json_is_array(ips)) return -EINVAL;
        json_array_foreach(ips, k, ip)
        {
            if (!json_is_string(ip)) return -EINVAL;
            int rc = vec_push(v, json_string_value(ip), json_string_length(ip));
            if (rc < 0) return rc;
        }
    }
    return 0;
}

static int read_json(const char *text, size_t len, struct cidr_vec *v)
{
    json_t *root = json_loadb(text, len, 0, NULL);
    if (json_is_array(root)) {
        int rc = read_m365(root, v);
        json_decref(root);
        return rc;
    }
    json_t *prefixes = root ? json_object_get(root, "prefixes") : NULL;
    int rc = json_is_array(prefixes) ? 0 : -EINVAL;
    size_t i;
    json_t *p;
    json_array_foreach(prefixes, i, p)
    {
        if (rc < 0) break;
        json_t *s = json_object_get(p, "ipv4Prefix");
        if (!s) s = json_object_get(p, "ipv6Prefix");
        if (!json_is_string(s)) {
            rc = -EINVAL;
            break;
        }
        rc = vec_push(v, json_string_value(s), json_string_length(s));
    }
    json_decref(root);
    return rc;
}

static int read_text(char *text, size_t len, struct cidr_vec *v)
{
    struct homing_lines lines;
    homing_lines_init(&lines, text, len, HOMING_MACHINES_LINE_MAX, HOMING_LINES_SKIP);
    char *line;
    int rc;
    while ((rc = homing_lines_next(&lines, &line, NULL)) > 0) {
        size_t n = strcspn(line, ", \t");
        if ((rc = vec_push(v, line, n)) < 0) return rc;
    }
    return rc;
}

int homing_published_read(const char *path, struct homing_cidr **out, size_t *n)
{
    if (!path || !out || !n) return -EINVAL;
    struct homing_buf text;
    int rc = homing_file_read(path, HOMING_PUBLISHED_FILE_MAX, &text);
    if (rc < 0) return rc;
    struct cidr_vec v = {0};
    /* JSON by its content, whatever the file's name: Microsoft's endpoint
     * data is saved under any name (microsoft-eop.txt holds it after an
     * update), and no prefix line starts with a bracket. */
    size_t lead = 0;
    while (lead < text.len && isspace((unsigned char)text.data[lead])) lead++;
    size_t pl = strlen(path);
    if ((pl > 5 && strcmp(path + pl - 5, ".json") == 0) ||
        (lead < text.len && (text.data[lead] == '{' || text.data[lead] == '[')))
        rc = read_json(text.data, text.len, &v);
    else
        rc = read_text(text.data, text.len, &v);
    homing_buf_free(&text);
    if (rc < 0) {
        free(v.v);
        return rc;
    }
    if (v.n) qsort(v.v, v.n, sizeof *v.v, cidr_plain_cmp);
    size_t w = 0;
    for (size_t i = 0; i < v.n; i++)
        if (!w || cidr_plain_cmp(&v.v[w - 1], &v.v[i]) != 0) v.v[w++] = v.v[i];
    *out = v.v;
    *n = w;
    return 0;
}

/* The published lists' folder and its index, DIR/lists.tsv, where DIR
 * defaults to the installed data's "published" folder; both readers of the
 * lists (the machine ranges and the User-Agent bots) find them here and
 * resolve the index's file names against dir. */
#define MACHINES_PUBLISHED_PATH_MAX (4096 + 512)
struct published_index {
    char def[4096];
    const char *dir; /* the caller's DIR, or def */
    char path[MACHINES_PUBLISHED_PATH_MAX];
};

static int published_index(const char *dir, struct published_index *ix)
{
    if (!dir) {
        if (reader_data_path("published", ix->def, sizeof ix->def) < 0) return -ENAMETOOLONG;
        dir = ix->def;
    }
    ix->dir = dir;
    int n = snprintf(ix->path, sizeof ix->path, "%s/lists.tsv", dir);
    return n < 0 || (size_t)n >= sizeof ix->path ? -ENAMETOOLONG : 0;
}

int homing_machines_load_published(struct homing_machines *m, const char *dir, char *err,
                                   size_t errcap)
{
    if (!m) return -EINVAL;
    struct published_index ix;
    if (published_index(dir, &ix) < 0) return -ENAMETOOLONG;
    struct homing_buf text;
    int rc = homing_file_read(ix.path, HOMING_MACHINES_FILE_MAX, &text);
    if (rc == -ENOENT) return 0; /* no published lists installed */
    if (rc < 0) {
        if (err) snprintf(err, errcap, "%s: %s", ix.path, strerror(-rc));
        return rc;
    }
    struct homing_lines lines;
    homing_lines_init(&lines, text.data, text.len, HOMING_MACHINES_LINE_MAX, HOMING_LINES_SKIP);
    char *line;
    int lists = 0;
    while ((rc = homing_lines_next(&lines, &line, NULL)) > 0) {
        char *col[4];
        struct homing_machine k = {0};
        int cl;
        int ncol = reader_split_tabs(line, col, 4);
        if (ncol == 4 && strncmp(col[1], "ua-", 3) == 0) {
            /* User-Agent pattern lists: the UA parser's (homing_published_ua_bots) */
            rc = 0;
            continue;
        }
        if (ncol != 4 || !col[3][0] || strchr(col[0], '/') || col[0][0] == '.' ||
            strlen(col[2]) >= HOMING_MACHINE_NAME_MAX || (cl = mclass_parse(col[1])) < 0 ||
            ++lists > HOMING_PUBLISHED_LISTS_MAX) {
            if (err) snprintf(err, errcap, "%s:%ld: malformed list entry", ix.path, lines.lineno);
            rc = -EINVAL;
            break;
        }
        k.mclass = (uint8_t)cl;
        homing_strlcpy(k.name, col[2], sizeof k.name);
        char file[4096 + 512];
        if (snprintf(file, sizeof file, "%s/%s", ix.dir, col[0]) >= (int)sizeof file) {
            rc = -ENAMETOOLONG;
            break;
        }
        struct homing_cidr *v;
        size_t n;
        if ((rc = homing_published_read(file, &v, &n)) < 0) {
            if (err)
                snprintf(err, errcap, "%s: %s", file,
                         rc == -EINVAL ? "malformed prefix list" : strerror(-rc));
            break;
        }
        for (size_t i = 0; rc >= 0 && i < n; i++) rc = cidr_add(m, &v[i], &k);
        free(v);
        if (rc < 0) break;
    }
    homing_buf_free(&text);
    index_build(m);
    return rc < 0 ? rc : 0;
}

int homing_published_ua_bots(const char *dir, char *out, size_t cap)
{
    if (!out || !cap) return -EINVAL;
    struct published_index ix;
    if (published_index(dir, &ix) < 0) return -ENAMETOOLONG;
    struct homing_buf text;
    int rc = homing_file_read(ix.path, HOMING_MACHINES_FILE_MAX, &text);
    if (rc < 0) return rc;
    struct homing_lines lines;
    homing_lines_init(&lines, text.data, text.len, HOMING_MACHINES_LINE_MAX, HOMING_LINES_SKIP);
    char *line;
    int found = -ENOENT;
    while (found == -ENOENT && homing_lines_next(&lines, &line, NULL) > 0) {
        char *col[4];
        if (reader_split_tabs(line, col, 4) != 4 || strcmp(col[1], "ua-bot") != 0) continue;
        if (strchr(col[0], '/') || col[0][0] == '.')
            found = -EINVAL;
        else if (snprintf(out, cap, "%s/%s", ix.dir, col[0]) >= (int)cap)
            found = -ENAMETOOLONG;
        else
            found = 0;
    }
    homing_buf_free(&text);
    return found;
}
