/*
 * bounce_rules: parses bounce files with the report parser and says, per
 * file, which recipients it found (address, reason, hard) and which entries
 * of the reason phrase table decided (rule index and phrase), optionally
 * with some entries switched off. bench/bounces-cv drives it for the
 * family-grouped cross-validation of docs/delivery.md ("Accuracy").
 *
 * usage: bounce_rules [--off FILE] MAIL...
 *   --off FILE  lines "INDEX<TAB>PHRASE": phrase table entries to skip
 * Output: one JSON object per MAIL on its own line:
 *   {"file": "...", "recipients": [{"address": "...", "reason": "...",
 *    "hard": true}], "hits": [[INDEX, "PHRASE", SOURCED], ...]}
 * SOURCED is true for table entries that name their documentation.
 * Exit 0, or 2 when a file cannot be read (its line has "error").
 *
 * Contract: a measuring tool, not part of homing; it uses the parser's
 * internal trace hook (report_int.h, rp_rule_trace).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/report/report_int.h"
#include "homing/report.h"

#define BOUNCE_RULES_OFF_MAX  4096
#define BOUNCE_RULES_LINE_MAX 1024
#define BOUNCE_RULES_FILE_MAX (16u << 20)

static void put_str(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = malloc(BOUNCE_RULES_FILE_MAX);
    size_t n = b ? fread(b, 1, BOUNCE_RULES_FILE_MAX, f) : 0;
    fclose(f);
    if (!b) return NULL;
    *len = n;
    return b;
}

/* Points the table entries of the --off file at their own copies of the
 * phrases; returns the count or -errno. */
static int read_off(const char *path, struct rp_rule_ref *off, char **keep)
{
    FILE *f = fopen(path, "r");
    if (!f) return -errno;
    char line[BOUNCE_RULES_LINE_MAX];
    int n = 0;
    while (n < BOUNCE_RULES_OFF_MAX && fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = '\0';
        char *ph = tab + 1;
        ph[strcspn(ph, "\n")] = '\0';
        keep[n] = strdup(ph);
        if (!keep[n]) break;
        off[n].rule = (size_t)strtoul(line, NULL, 10);
        off[n].phrase = keep[n];
        n++;
    }
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    static struct rp_rule_ref off[BOUNCE_RULES_OFF_MAX];
    static char *keep[BOUNCE_RULES_OFF_MAX];
    struct rp_rule_trace tr = {0};
    int first = 1, n_off = 0, rc = 0;
    if (argc > 2 && strcmp(argv[1], "--off") == 0) {
        n_off = read_off(argv[2], off, keep);
        if (n_off < 0) {
            fprintf(stderr, "bounce_rules: %s: %s\n", argv[2], strerror(-n_off));
            return 2;
        }
        first = 3;
    }
    tr.off = off;
    tr.n_off = (size_t)n_off;
    rp_rule_trace = &tr;
    for (int i = first; i < argc; i++) {
        size_t len = 0;
        char *data = read_file(argv[i], &len);
        struct homing_report *r = NULL;
        printf("{\"file\": ");
        put_str(argv[i]);
        tr.n_hit = 0;
        if (!data || homing_report_parse(data, len, &r) != 0) {
            printf(", \"error\": \"unreadable\"}\n");
            free(data);
            rc = 2;
            continue;
        }
        printf(", \"recipients\": [");
        for (size_t k = 0; k < r->n_rcpts; k++) {
            printf("%s{\"address\": ", k ? ", " : "");
            put_str(r->rcpts[k].address);
            printf(", \"reason\": ");
            put_str(r->rcpts[k].reason);
            printf(", \"hard\": %s}", r->rcpts[k].hard ? "true" : "false");
        }
        printf("], \"hits\": [");
        for (size_t k = 0; k < tr.n_hit; k++) {
            printf("%s[%zu, ", k ? ", " : "", tr.hit[k].rule);
            put_str(tr.hit[k].phrase);
            printf(", %s]", rp_rule_source(tr.hit[k].rule) ? "true" : "false");
        }
        printf("]}\n");
        homing_report_parsed_free(r);
        free(data);
    }
    rp_rule_trace = NULL;
    for (int k = 0; k < n_off; k++) free(keep[k]);
    return rc;
}
