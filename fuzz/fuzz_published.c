/*
 * fuzz_published.c: the published lists (lib/reader/machines.c, ua.c;
 * data/published/, read by the daemon and by homing update-data from whatever
 * was downloaded) on arbitrary bytes. The first byte picks the format: a
 * provider's JSON, a text list, or a User-Agent pattern list. A list is
 * refused or, once accepted, its prefixes are normalised, sorted and unique,
 * and the prefix index built from it finds every one of them (its own
 * address matches it or a longer prefix); an accepted pattern list compiles.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "homing/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int put(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static char dir[64];

/* The lists live in a directory of this process, removed at exit. */
static void cleanup(void)
{
    static const char *const files[] = {"l.json", "l.txt", "u.json", "lists.tsv", "machines.tsv"};
    char path[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/homing-fuzz-published-%ld", (long)getpid());
        if (mkdir(dir, 0700) < 0 && access(dir, W_OK) < 0) abort();
        atexit(cleanup);
    }
    if (size == 0) return 0;
    unsigned kind = data[0] % 3;
    static const char *const names[] = {"l.json", "l.txt", "u.json"};
    char file[128], lists[128];
    snprintf(file, sizeof file, "%s/%s", dir, names[kind]);
    snprintf(lists, sizeof lists, "%s/lists.tsv", dir);
    if (put(file, data + 1, size - 1) < 0) abort();
    if (kind == 2) {
        char **v;
        size_t n;
        if (homing_ua_bots_read(file, &v, &n) == 0) {
            for (size_t i = 1; i < n; i++)
                if (strcmp(v[i - 1], v[i]) >= 0) abort();
            homing_strv_free(v, n);
            struct homing_ua_parser *p;
            if (homing_ua_parser_new(NULL, "", 0, &p) == 0) {
                if (homing_ua_parser_load_bots(p, file) < 0) abort();
                struct homing_ua u;
                homing_ua_parse(p, "Mozilla/5.0 (compatible; ExampleBot/1.0)", 40, &u);
                homing_ua_parser_free(p);
            }
        }
        return 0;
    }
    struct homing_cidr *v;
    size_t n;
    if (homing_published_read(file, &v, &n) < 0) return 0;
    for (size_t i = 0; i < n; i++) {
        struct homing_addr t = v[i].addr;
        homing_addr_truncate(&t, v[i].bits);
        if (memcmp(&t, &v[i].addr, sizeof t) != 0) abort();
    }
    char line[160];
    int len = snprintf(line, sizeof line, "%s\tscanner\tFuzz\tfuzz\n", names[kind]);
    struct homing_machines *m = NULL;
    char mpath[128];
    snprintf(mpath, sizeof mpath, "%s/machines.tsv", dir);
    if (put(lists, line, (size_t)len) < 0 || put(mpath, "", 0) < 0) abort();
    if (homing_machines_load(mpath, &m, NULL, 0) < 0) abort();
    if (homing_machines_load_published(m, dir, NULL, 0) < 0) abort();
    for (size_t i = 0; i < n; i++) {
        struct homing_machine out;
        if (homing_machines_match(m, &v[i].addr, 0, &out) < 0 ||
            out.mclass != HOMING_MACHINE_SCANNER)
            abort();
    }
    homing_machines_free(m);
    free(v);
    return 0;
}
