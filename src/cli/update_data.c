/*
 * update_data.c: `homing update-data`: refreshes the published range lists
 * (data/published/, or enrich.published) from a directory or an installed npm
 * package, since homing never downloads anything itself. Every list that
 * lists.tsv names is looked for in the source under its own name or under the
 * name of its upstream file (the last path segment of the URL in its source
 * column: egress-ip-ranges.csv, googlebot.json...).
 *
 * Contract: every new file is parsed (homing_published_read) before anything
 * is written, and a list with no prefix or a malformed one fails the whole
 * update, so a truncated download never replaces a good list. Each file is
 * then written to a temporary file in the target directory, synced, and
 * renamed over the old one: readers see the old list or the new one, never a
 * part. Prints, per list, the prefixes added and removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "homing/reader.h"
#include "homing_build.h"

#define UPDATE_PATH_MAX 4096
/* A list that would lose more than this share of its prefixes is refused
 * without --force: more likely a truncated or wrong download than a provider
 * retiring half its network. */
#define UPDATE_SHRINK_MAX_PCT 50

static const char update_usage[] =
    "usage: homing update-data (--from DIR | --npm PKG) [--to DIR] [--dry-run] [--force]\n\n"
    "Refreshes the published lists (iCloud Private Relay egress, Exchange Online\n"
    "Protection, Google's and Bing's crawlers, crawler User-Agent patterns...) that\n"
    "lists.tsv names, from\n"
    "files downloaded into DIR or installed as the npm package PKG (looked up in\n"
    "$HOMING_NPM_ROOT, else var/npm/node_modules). A list is found under its own\n"
    "name or its upstream file's name (egress-ip-ranges.csv, googlebot.json...;\n"
    "Microsoft's endpoint data saved as worldwide for Exchange Online Protection).\n"
    "--to DIR updates that directory (default: enrich.published, else\n"
    "the data directory's published/). --dry-run prints the changes and writes nothing.\n"
    "A list that would lose more than half its prefixes is refused unless --force.\n"
    "Restart the daemon and run `homing reclassify` afterwards.\n";

struct update_list {
    char file[256];
    int ua; /* a User-Agent pattern list (class ua-bot), not prefixes */
    char **pats;
    size_t npats;
    char src_path[UPDATE_PATH_MAX];
    char *data;
    size_t len;
    struct homing_cidr *v;
    size_t n;
    int changed;
};

static int cidr_cmp(const void *pa, const void *pb)
{
    const struct homing_cidr *a = pa, *b = pb;
    if (a->addr.family != b->addr.family) return a->addr.family < b->addr.family ? -1 : 1;
    int c = memcmp(a->addr.bytes, b->addr.bytes, 16);
    if (c) return c;
    return a->bits < b->bits ? -1 : a->bits > b->bits;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Elements (of size el, ordered by cmp) in b and not in a, and in a and not
 * in b; both sorted, unique. One merge walk for the prefixes and the
 * User-Agent patterns alike. */
static void diff(const void *a, size_t na, const void *b, size_t nb, size_t el,
                 int (*cmp)(const void *, const void *), size_t *added, size_t *removed)
{
    const char *pa = a, *pb = b;
    size_t i = 0, j = 0;
    *added = *removed = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : cmp(pa + i * el, pb + j * el);
        if (c < 0)
            (*removed)++, i++;
        else if (c > 0)
            (*added)++, j++;
        else
            i++, j++;
    }
}

/* dir "/" name into out; -ENAMETOOLONG when it does not fit. */
static int path_join(char *out, size_t cap, const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    if (a + 1 + b + 1 > cap) return -ENAMETOOLONG;
    memmove(out, dir, a);
    out[a] = '/';
    memcpy(out + a + 1, name, b + 1);
    return 0;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The last path segment of the first word of a source column, if it looks
 * like a URL ("https://x/y/googlebot.json (...)" -> "googlebot.json"). */
static void upstream_name(const char *source, char *out, size_t cap)
{
    out[0] = '\0';
    if (strncmp(source, "http", 4) != 0) return;
    size_t n = strcspn(source, " \t");
    const char *end = source + n;
    const char *slash = NULL;
    for (const char *p = source; p < end; p++)
        if (*p == '/') slash = p;
    if (!slash || end - slash - 1 <= 0 || (size_t)(end - slash) > cap) return;
    memcpy(out, slash + 1, (size_t)(end - slash - 1));
    out[end - slash - 1] = '\0';
    /* a query string is not part of a file name */
    out[strcspn(out, "?")] = '\0';
}

static int write_atomic(const char *dir, const char *file, const char *data, size_t len)
{
    char tmp[UPDATE_PATH_MAX + 300], dst[UPDATE_PATH_MAX + 300], name[300];
    if (strlen(file) + 6 > sizeof name) return -ENAMETOOLONG;
    snprintf(name, sizeof name, ".%s.tmp", file);
    if (path_join(tmp, sizeof tmp, dir, name) < 0 || path_join(dst, sizeof dst, dir, file) < 0)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            rc = -errno;
            break;
        }
        off += (size_t)w;
    }
    if (rc == 0 && fsync(fd) < 0) rc = -errno;
    if (close(fd) < 0 && rc == 0) rc = -errno;
    if (rc == 0 && rename(tmp, dst) < 0) rc = -errno;
    if (rc < 0) unlink(tmp);
    return rc;
}

int cmd_update_data(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, update_usage)) return CLI_OK;
    const char *from = NULL, *npm = NULL, *to = NULL;
    int dry = 0, force = 0;
    char safe[64];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(argv[i], "--npm") == 0 && i + 1 < argc)
            npm = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else if (strcmp(argv[i], "--dry-run") == 0)
            dry = 1;
        else if (strcmp(argv[i], "--force") == 0)
            force = 1;
        else
            return cli_usage_error("update-data", "unexpected argument '%s'",
                                   cli_safe(argv[i], safe, sizeof safe));
    }
    if (!!from == !!npm)
        return cli_usage_error("update-data", "give one of --from DIR or --npm PKG");
    char src[UPDATE_PATH_MAX], dst[UPDATE_PATH_MAX];
    if (npm) {
        if (!npm[0] || strstr(npm, "..") || npm[0] == '/')
            return cli_usage_error("update-data", "bad package name '%s'",
                                   cli_safe(npm, safe, sizeof safe));
        const char *root = getenv("HOMING_NPM_ROOT");
        if (snprintf(src, sizeof src, "%s/%s", root && root[0] ? root : "var/npm/node_modules",
                     npm) >= (int)sizeof src)
            return cli_fail("package path too long");
    } else if (snprintf(src, sizeof src, "%s", from) >= (int)sizeof src) {
        return cli_fail("source path too long");
    }
    struct stat st;
    if (stat(src, &st) < 0 || !S_ISDIR(st.st_mode))
        return cli_fail("%s: not a directory", cli_safe(src, safe, sizeof safe));
    if (to) {
        if (snprintf(dst, sizeof dst, "%s", to) >= (int)sizeof dst)
            return cli_fail("target path too long");
    } else {
        const char *conf = NULL;
        /* The configuration is optional: without one, the data directory. */
        if (access(cli->config_path ? cli->config_path : "var/homing.conf", R_OK) == 0) {
            if (cli_config(cli) < 0) return CLI_ERROR;
            conf = homing_config_settings(cli->config)->enrich.published;
        }
        if (conf && strcmp(conf, "none") == 0)
            return cli_fail("enrich.published is none: no published lists to update");
        /* the lists the reader loads: data/ of the source tree when run from
         * the build tree, the installed data directory otherwise */
        if (conf && conf[0] ? snprintf(dst, sizeof dst, "%s", conf) >= (int)sizeof dst
                            : homing_data_path("published", dst, sizeof dst) < 0)
            return cli_fail("target path too long");
    }

    char manifest[UPDATE_PATH_MAX + 16];
    if (path_join(manifest, sizeof manifest, dst, "lists.tsv") < 0)
        return cli_fail("target path too long");
    FILE *mf = fopen(manifest, "r");
    if (!mf) return cli_fail("%s: %s", cli_safe(manifest, safe, sizeof safe), strerror(errno));
    struct update_list lists[HOMING_PUBLISHED_LISTS_MAX];
    size_t nl = 0;
    int rc = CLI_OK;
    char line[HOMING_MACHINES_LINE_MAX + 2];
    while (rc == CLI_OK && fgets(line, sizeof line, mf)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = '\0';
        int ua = strncmp(tab + 1 + strspn(tab + 1, "\t"), "ua-", 3) == 0;
        /* the source is the last column */
        char *source = strrchr(tab + 1, '\t');
        source = source ? source + 1 : tab + 1;
        if (nl >= HOMING_PUBLISHED_LISTS_MAX || strlen(line) >= sizeof lists[0].file ||
            strchr(line, '/')) {
            rc = cli_fail("%s: malformed list entry", cli_safe(manifest, safe, sizeof safe));
            break;
        }
        struct update_list *l = &lists[nl];
        memset(l, 0, sizeof *l);
        memcpy(l->file, line, strlen(line) + 1); /* fits: checked above */
        l->ua = ua;
        char up[256];
        upstream_name(source, up, sizeof up);
        if (path_join(l->src_path, sizeof l->src_path, src, l->file) < 0 ||
            (!exists(l->src_path) && up[0] &&
             path_join(l->src_path, sizeof l->src_path, src, up) < 0)) {
            rc = cli_fail("source path too long");
            break;
        }
        nl++;
    }
    fclose(mf);
    if (rc != CLI_OK) return rc;

    /* Parse every new list before writing any. */
    size_t found = 0;
    for (size_t i = 0; rc == CLI_OK && i < nl; i++) {
        struct update_list *l = &lists[i];
        if (!exists(l->src_path)) continue;
        int r = l->ua ? homing_ua_bots_read(l->src_path, &l->pats, &l->npats)
                      : homing_published_read(l->src_path, &l->v, &l->n);
        if (r == 0 && l->n == 0 && l->npats == 0) r = -ENODATA;
        if (r == 0) r = cli_read_file(l->src_path, HOMING_PUBLISHED_FILE_MAX, &l->data, &l->len);
        if (r < 0)
            rc =
                cli_fail("%s: %s; nothing updated", cli_safe(l->src_path, safe, sizeof safe),
                         r == -EINVAL ? (l->ua ? "malformed pattern list" : "malformed prefix list")
                         : r == -ENODATA ? "no prefixes"
                                         : strerror(-r));
        found++;
    }
    if (rc == CLI_OK && found == 0)
        rc = cli_fail("%s holds none of the lists of %s", cli_safe(src, safe, sizeof safe),
                      manifest);
    size_t changed = 0;
    for (size_t i = 0; rc == CLI_OK && i < nl; i++) {
        struct update_list *l = &lists[i];
        if (!l->data) {
            printf("%s: not in the source, kept\n", l->file);
            continue;
        }
        char old_path[UPDATE_PATH_MAX + 300];
        if (path_join(old_path, sizeof old_path, dst, l->file) < 0) {
            rc = cli_fail("target path too long");
            break;
        }
        size_t on = 0, added, removed;
        if (l->ua) {
            char **op = NULL;
            if (!exists(old_path) || homing_ua_bots_read(old_path, &op, &on) < 0) on = 0;
            diff(op, on, l->pats, l->npats, sizeof *op, str_cmp, &added, &removed);
            homing_strv_free(op, on);
        } else {
            struct homing_cidr *ov = NULL;
            if (exists(old_path) && homing_published_read(old_path, &ov, &on) < 0) on = 0;
            diff(ov, on, l->v, l->n, sizeof *ov, cidr_cmp, &added, &removed);
            free(ov);
        }
        printf("%s: %zu %s, %zu added, %zu removed%s\n", l->file, l->ua ? l->npats : l->n,
               l->ua ? "patterns" : "prefixes", added, removed,
               added || removed ? "" : " (unchanged)");
        if (!force && on && removed * 100 > on * UPDATE_SHRINK_MAX_PCT)
            rc = cli_fail("%s: would remove %zu of %zu prefixes; nothing updated (--force to "
                          "accept)",
                          l->file, removed, on);
        l->changed = added || removed;
        if (l->changed) changed++;
    }
    /* Every list checked: now write the changed ones. */
    for (size_t i = 0; rc == CLI_OK && !dry && i < nl; i++) {
        struct update_list *l = &lists[i];
        if (!l->data || !l->changed) continue;
        int r = write_atomic(dst, l->file, l->data, l->len);
        if (r < 0)
            rc = cli_fail("%s/%s: %s", cli_safe(dst, safe, sizeof safe), l->file, strerror(-r));
    }
    if (rc == CLI_OK)
        printf("update-data: %zu of %zu lists changed%s\n", changed, nl,
               dry ? " (dry run: nothing written)" : "");
    for (size_t i = 0; i < nl; i++) {
        free(lists[i].v);
        homing_strv_free(lists[i].pats, lists[i].npats);
        free(lists[i].data);
    }
    return rc;
}
