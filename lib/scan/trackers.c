/*
 * trackers.c: reads the tracker knowledge file (docs/trackers-format.md) into an
 * immutable table and answers "which vendor's tracking is this host and path".
 *
 * Contract: see homing/trackers.h. The file is untrusted as far as shape goes
 * (a user may pass --trackers FILE): every field is checked, every limit named,
 * and an error names the 1-based line. Lookups binary-search the host suffixes
 * of the queried name in a host-sorted index, so a lookup costs O(labels * log n)
 * rather than a walk over every rule.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homing/trackers.h"
#include "homing/util.h"

struct homing_trackers {
    char *text; /* owned copy of the file; fields point into it */
    struct homing_tracker_rule *rules;
    size_t n;
    size_t *by_host; /* indices of specific-host rules, sorted by host then line */
    size_t n_by_host;
    size_t *any_host; /* indices of "*" rules, file order */
    size_t n_any_host;
    size_t vendors;
};

static int fail(char *err, size_t cap, unsigned line, const char *fmt, ...)
{
    if (err && cap) {
        int k = snprintf(err, cap, "line %u: ", line);
        if (k < 0) k = 0;
        if ((size_t)k < cap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + k, cap - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return -EINVAL;
}

static int valid_host(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > HOMING_TRACKERS_HOST_MAX) return 0;
    if (strcmp(h, "*") == 0) return 1;
    if (h[0] == '.' || h[0] == '-' || h[n - 1] == '.' || !strchr(h, '.')) return 0;
    for (const char *p = h; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return 0;
        if (*p == '.' && p[1] == '.') return 0;
    }
    return 1;
}

static int valid_param(const char *s)
{
    if (!*s) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return 0;
    return 1;
}

static int cmp_host(const void *a, const void *b, void *ctx)
{
    const struct homing_trackers *t = ctx;
    const struct homing_tracker_rule *x = &t->rules[*(const size_t *)a];
    const struct homing_tracker_rule *y = &t->rules[*(const size_t *)b];
    int c = strcmp(x->host, y->host);
    if (c) return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Splits one line into exactly 8 TAB-separated fields, in place. */
static int split_fields(char *line, char **f)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == 8) return -1;
        f[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    return n == 8 ? 0 : -1;
}

int homing_trackers_parse(const char *text, size_t len, struct homing_trackers **out, char *err,
                          size_t errcap)
{
    if (len > HOMING_TRACKERS_FILE_MAX) return fail(err, errcap, 0, "file too large");
    if (memchr(text, '\0', len)) return fail(err, errcap, 0, "NUL byte in file");
    struct homing_trackers *t = calloc(1, sizeof *t);
    if (!t) return -ENOMEM;
    t->text = malloc(len + 1);
    if (!t->text) {
        free(t);
        return -ENOMEM;
    }
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    size_t cap = 0;
    int r = 0;
    unsigned lineno = 0;
    struct homing_lines lines;
    homing_lines_init(&lines, t->text, len, HOMING_TRACKERS_LINE_MAX, HOMING_LINES_SKIP);
    char *p;
    while ((r = homing_lines_next(&lines, &p, NULL)) != 0) {
        lineno = (unsigned)lines.lineno;
        if (r < 0) {
            r = fail(err, errcap, lineno, "line longer than %d bytes", HOMING_TRACKERS_LINE_MAX);
            goto out;
        }
        r = 0;
        char *f[8];
        if (split_fields(p, f) < 0) {
            r = fail(err, errcap, lineno, "expected 8 TAB-separated fields");
            goto out;
        }
        for (int i = 0; i < 8; i++) {
            if (!*f[i]) {
                r = fail(err, errcap, lineno, "field %d is empty", i + 1);
                goto out;
            }
            if (strlen(f[i]) > HOMING_TRACKERS_FIELD_MAX) {
                r = fail(err, errcap, lineno, "field %d longer than %d bytes", i + 1,
                         HOMING_TRACKERS_FIELD_MAX);
                goto out;
            }
        }
        struct homing_tracker_rule rule = {.vendor = f[0],
                                           .host = f[1],
                                           .path = f[2],
                                           .source = f[6],
                                           .licence = f[7],
                                           .line = lineno};
        if (!valid_host(rule.host)) {
            r = fail(err, errcap, lineno, "bad host '%.80s'", rule.host);
            goto out;
        }
        if (rule.path[0] != '/' && rule.path[0] != '*') {
            r = fail(err, errcap, lineno, "path must start with / or *");
            goto out;
        }
        if (strcmp(rule.host, "*") == 0 && strcmp(rule.path, "*") == 0) {
            r = fail(err, errcap, lineno, "a rule for any host needs a specific path");
            goto out;
        }
        if (strcmp(f[3], "pixel") == 0)
            rule.role = HOMING_TRACKER_PIXEL;
        else if (strcmp(f[3], "click") == 0)
            rule.role = HOMING_TRACKER_CLICK;
        else if (strcmp(f[3], "both") == 0)
            rule.role = HOMING_TRACKER_BOTH;
        else {
            r = fail(err, errcap, lineno, "role must be pixel, click or both");
            goto out;
        }
        if (strcmp(f[4], "only") == 0)
            rule.scope = HOMING_TRACKER_ONLY;
        else if (strcmp(f[4], "links") == 0)
            rule.scope = HOMING_TRACKER_LINKS;
        else if (strcmp(f[4], "mixed") == 0)
            rule.scope = HOMING_TRACKER_MIXED;
        else {
            r = fail(err, errcap, lineno, "scope must be only, links or mixed");
            goto out;
        }
        if (rule.scope == HOMING_TRACKER_ONLY &&
            (strcmp(rule.host, "*") == 0 || (rule.role & HOMING_TRACKER_CLICK))) {
            /* A sinkholed host must not be one whose redirects carry real links. */
            r = fail(err, errcap, lineno, "scope 'only' needs a named host with role pixel");
            goto out;
        }
        if (strcmp(f[5], "-") != 0) {
            if (!valid_param(f[5])) {
                r = fail(err, errcap, lineno, "bad parameter name");
                goto out;
            }
            rule.param = f[5];
        }
        if (t->n == HOMING_TRACKERS_RULES_MAX) {
            r = fail(err, errcap, lineno, "more than %d rules", HOMING_TRACKERS_RULES_MAX);
            goto out;
        }
        if (t->n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            void *nr = realloc(t->rules, nc * sizeof *t->rules);
            if (!nr) {
                r = -ENOMEM;
                goto out;
            }
            t->rules = nr;
            cap = nc;
        }
        t->rules[t->n++] = rule;
    }
    t->by_host = malloc((t->n + 1) * sizeof *t->by_host);
    t->any_host = malloc((t->n + 1) * sizeof *t->any_host);
    const char **names = malloc((t->n + 1) * sizeof *names);
    if (!t->by_host || !t->any_host || !names) {
        free(names);
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < t->n; i++) {
        names[i] = t->rules[i].vendor;
        if (strcmp(t->rules[i].host, "*") == 0)
            t->any_host[t->n_any_host++] = i;
        else
            t->by_host[t->n_by_host++] = i;
    }
    qsort_r(t->by_host, t->n_by_host, sizeof *t->by_host, cmp_host, t);
    qsort(names, t->n, sizeof *names, cmp_str);
    for (size_t i = 0; i < t->n; i++)
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0) t->vendors++;
    free(names);
out:
    if (r < 0) {
        homing_trackers_free(t);
        return r;
    }
    *out = t;
    return 0;
}

int homing_trackers_load(const char *path, struct homing_trackers **out, char *err, size_t errcap)
{
    struct homing_buf b;
    int r = homing_file_read(path, HOMING_TRACKERS_FILE_MAX, &b);
    if (r < 0) {
        snprintf(err, errcap, "%s: %s", path,
                 r == -E2BIG    ? "file too large"
                 : r == -EINVAL ? "NUL byte in file"
                                : strerror(-r));
        return r;
    }
    char e2[256] = "";
    r = homing_trackers_parse(b.data, b.len, out, e2, sizeof e2);
    homing_buf_free(&b);
    if (r < 0) snprintf(err, errcap, "%s: %s", path, e2);
    return r;
}

void homing_trackers_free(struct homing_trackers *t)
{
    if (!t) return;
    free(t->text);
    free(t->rules);
    free(t->by_host);
    free(t->any_host);
    free(t);
}

size_t homing_trackers_count(const struct homing_trackers *t)
{
    return t->n;
}

size_t homing_trackers_vendor_count(const struct homing_trackers *t)
{
    return t->vendors;
}

const struct homing_tracker_rule *homing_trackers_rule(const struct homing_trackers *t, size_t i)
{
    return i < t->n ? &t->rules[i] : NULL;
}

/* First index in by_host whose host equals h, or n_by_host. */
static size_t lower_bound(const struct homing_trackers *t, const char *h)
{
    size_t lo = 0, hi = t->n_by_host;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(t->rules[t->by_host[mid]].host, h) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int path_matches(const char *glob, const char *path)
{
    if (strcmp(glob, "*") == 0) return 1;
    /* Cheap rejections before fnmatch, which is most of a lookup's cost: the
     * literal text before the first wildcard must start the path, and the
     * literal text after the last '*' must end it. */
    size_t pre = strcspn(glob, "*?[");
    if (strncmp(glob, path, pre) != 0) return 0;
    if (!glob[pre]) return path[pre] == '\0';
    const char *star = strrchr(glob, '*');
    if (star && !strpbrk(star, "?[")) {
        size_t sl = strlen(star + 1), pl = strlen(path);
        if (sl > pl || strcmp(path + pl - sl, star + 1) != 0) return 0;
    }
    return fnmatch(glob, path, 0) == 0;
}

const struct homing_tracker_rule *
homing_trackers_match(const struct homing_trackers *t, const char *host, const char *path, int role)
{
    if (!t || !host) return NULL;
    if (!path || !*path) path = "/";
    for (const char *h = host; h && *h; h = strchr(h, '.') ? strchr(h, '.') + 1 : NULL) {
        const struct homing_tracker_rule *wild = NULL;
        for (size_t i = lower_bound(t, h); i < t->n_by_host; i++) {
            const struct homing_tracker_rule *r = &t->rules[t->by_host[i]];
            if (strcmp(r->host, h) != 0) break;
            if (!(r->role & role)) continue;
            if (strcmp(r->path, "*") == 0) {
                if (r->scope != HOMING_TRACKER_MIXED && !wild) wild = r;
            } else if (path_matches(r->path, path)) {
                return r;
            }
        }
        if (wild) return wild;
    }
    for (size_t i = 0; i < t->n_any_host; i++) {
        const struct homing_tracker_rule *r = &t->rules[t->any_host[i]];
        if ((r->role & role) && path_matches(r->path, path)) return r;
    }
    return NULL;
}

const struct homing_tracker_rule *homing_trackers_vendor(const struct homing_trackers *t,
                                                         const char *host)
{
    if (!t || !host) return NULL;
    for (const char *h = host; h && *h; h = strchr(h, '.') ? strchr(h, '.') + 1 : NULL) {
        size_t i = lower_bound(t, h);
        if (i < t->n_by_host && strcmp(t->rules[t->by_host[i]].host, h) == 0)
            return &t->rules[t->by_host[i]];
    }
    return NULL;
}
