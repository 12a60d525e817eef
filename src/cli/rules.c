/*
 * rules.c: `homing rules --format FORMAT`: blocklists and filters generated
 * from the tracker knowledge file. DNS formats (rpz, hosts, dnsmasq, unbound)
 * hold only hosts whose scope is "only" (they serve nothing but beacons, so
 * sinkholing them loses no link and no image); every other tracking rule
 * (click redirects, tracking paths on hosts that also serve content, and
 * tracking paths on any host as regular expressions) goes into the Sieve
 * script, which tags (and optionally files) tracked mail instead. The rspamd
 * format is two multimap rules with static regular-expression maps: tracking
 * hosts, and tracking URLs (host and path, or path on any host).
 *
 * Output is deterministic (sorted, de-duplicated) so it can be diffed.
 * Exit: 0 written, 2 error.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "homing/trackers.h"
#include "homing_build.h"

static const char rules_usage[] =
    "usage: homing rules --format rpz|hosts|dnsmasq|unbound|sieve|rspamd [OPTIONS]\n\n"
    "DNS blocklists hold only hosts that serve nothing but tracking; the Sieve script\n"
    "tags mail that carries any other known tracking (and read-receipt requests);\n"
    "the rspamd multimap rules add a symbol for tracking hosts and tracking URLs.\n\n"
    "Options:\n"
    "  --format F         rpz (zone file), hosts, dnsmasq, unbound, sieve, rspamd\n"
    "  --flag FLAG        Sieve: IMAP flag to set (default: $HomingTracked)\n"
    "  --folder NAME      Sieve: also file tracked mail into this folder\n"
    "  --trackers FILE    tracker knowledge file (default: " HOMING_DATADIR "/trackers.tsv)\n"
    "  -o, --output FILE  write here instead of stdout\n"
    "  -h, --help         this help\n";

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted unique strings; the array and strings are owned. */
struct strset {
    char **v;
    size_t n, cap;
};

static int set_add(struct strset *s, const char *str)
{
    int e = homing_array_grow((void **)&s->v, &s->cap, s->n, sizeof *s->v, 64);
    if (e < 0) return e;
    if (!(s->v[s->n] = strdup(str))) return -ENOMEM;
    s->n++;
    return 0;
}

static void set_finish(struct strset *s)
{
    if (s->n > 1) qsort(s->v, s->n, sizeof *s->v, cmp_str); /* s->v is NULL when empty */
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (k && strcmp(s->v[k - 1], s->v[i]) == 0) {
            free(s->v[i]);
            continue;
        }
        s->v[k++] = s->v[i];
    }
    s->n = k;
}

static void set_free(struct strset *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
}

/* A host is dropped from the DNS list when a parent domain is on it already. */
static int covered(const struct strset *s, const char *h)
{
    for (const char *p = strchr(h, '.'); p; p = strchr(p + 1, '.'))
        if (bsearch(&(const char *){p + 1}, s->v, s->n, sizeof *s->v, cmp_str)) return 1;
    return 0;
}

/* The literal part of a path glob, up to its first wildcard. */
static void glob_prefix(const char *g, char *out, size_t cap)
{
    size_t n = strcspn(g, "*?[");
    if (n >= cap) n = cap - 1;
    memcpy(out, g, n);
    out[n] = '\0';
}

static void sieve_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* A path glob (fnmatch(3): '*' any run, '?' one character; other bytes, '['
 * included, are taken literally) as a regular expression for a URL's path
 * as it stands in text: the wildcards stop where the URL does. ere: POSIX
 * extended syntax for Sieve's :regex (special characters in brackets, so no
 * backslash needs Sieve quoting), else PCRE for rspamd (every byte that is
 * not alphanumeric escaped; a quote as \x27, for UCL's single quotes). */
#define RULES_RE_MAX 2048
static int glob_re(const char *g, int ere, char *out, size_t cap)
{
    const char *any = ere ? "[^?#\"'<>[:space:]]" : "[^?#]";
    size_t n = 0;
    for (; *g; g++) {
        char piece[32];
        unsigned char c = (unsigned char)*g;
        if (c == '*' || c == '?')
            snprintf(piece, sizeof piece, "%s%s", any, c == '*' ? "*" : "");
        else if (isalnum(c) || (ere && strchr("/_~%=&,;:@!-", c)))
            snprintf(piece, sizeof piece, "%c", c);
        else if (!ere)
            snprintf(piece, sizeof piece, c == '\'' ? "\\x27" : "\\%c", c);
        else if (c == '^' || c == '\\')
            snprintf(piece, sizeof piece, "\\%c", c);
        else if (c < ' ' || c == 0x7f)
            return -EINVAL;
        else
            snprintf(piece, sizeof piece, "[%c]", c);
        size_t k = strlen(piece);
        if (n + k >= cap) return -E2BIG;
        memcpy(out + n, piece, k);
        n += k;
    }
    out[n] = '\0';
    return 0;
}

/* The Sieve :regex for an any-host rule: a URL in the text whose path the
 * rule's glob matches, followed by a byte that cannot go on a path (a quote,
 * '?', white space, the end). The default comparator, i;ascii-casemap, makes
 * the match case-insensitive. */
static int sieve_any_host_re(const char *path, char *out, size_t cap)
{
    char p[RULES_RE_MAX];
    int r = glob_re(path, 1, p, sizeof p);
    if (r < 0) return r;
    int k = snprintf(out, cap, "https?://[^/?#\"'<>[:space:]]+%s([^a-z0-9_.~%%/+-]|$)", p);
    return k < 0 || (size_t)k >= cap ? -E2BIG : 0;
}

/* rspamd: the host as a regular expression matching it and its subdomains
 * (the multimap's default URL filter hands it the host), or a full URL whose
 * host (any host for "*") and path match the rule. */
static int rspamd_host_re(const char *host, char *out, size_t cap)
{
    char h[RULES_RE_MAX];
    int r = glob_re(host, 0, h, sizeof h);
    if (r < 0) return r;
    int k = snprintf(out, cap, "/(^|\\.)%s$/i", h);
    return k < 0 || (size_t)k >= cap ? -E2BIG : 0;
}

static int rspamd_url_re(const char *host, const char *path, char *out, size_t cap)
{
    char h[RULES_RE_MAX], p[RULES_RE_MAX];
    int r = glob_re(path, 0, p, sizeof p);
    if (r == 0 && strcmp(host, "*") != 0) r = glob_re(host, 0, h, sizeof h);
    if (r < 0) return r;
    int k = strcmp(host, "*") == 0
                ? snprintf(out, cap, "/^[a-z][a-z0-9+.-]*:\\/\\/[^\\/?#]*%s([?#]|$)/i", p)
                : snprintf(out, cap,
                           "/^[a-z][a-z0-9+.-]*:\\/\\/([^\\/?#@]*@)?([^\\/?#]*\\.)?%s"
                           "(:[0-9]+)?%s([?#]|$)/i",
                           h, p);
    return k < 0 || (size_t)k >= cap ? -E2BIG : 0;
}

/* An rspamd multimap rule whose map is the list itself (static regexp data). */
static void rspamd_rule(FILE *f, const char *sym, const char *filter, const char *desc,
                        const struct strset *s)
{
    fprintf(f, "%s {\n  type = \"url\";\n", sym);
    if (filter) fprintf(f, "  filter = \"%s\";\n", filter);
    fprintf(f,
            "  regexp = true;\n  score = 0.0;\n  one_shot = true;\n"
            "  description = \"%s\";\n  map = [",
            desc);
    for (size_t i = 0; i < s->n; i++) fprintf(f, "%s\n    '%s'", i ? "," : "", s->v[i]);
    fprintf(f, "\n  ];\n}\n");
}

static void sieve_list(FILE *f, const struct strset *s, const char *indent)
{
    fputs("[", f);
    for (size_t i = 0; i < s->n; i++) {
        fputs(i ? ",\n" : "\n", f);
        fputs(indent, f);
        sieve_string(f, s->v[i]);
    }
    fputs("]", f);
}

int cmd_rules(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    if (cli_wants_help(argc, argv, rules_usage)) return CLI_OK;
    const char *format = NULL, *trackers_path = NULL, *out_path = NULL;
    const char *flag = "$HomingTracked", *folder = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--format") == 0)
            dst = &format;
        else if (strcmp(a, "--trackers") == 0)
            dst = &trackers_path;
        else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
            dst = &out_path;
        else if (strcmp(a, "--flag") == 0)
            dst = &flag;
        else if (strcmp(a, "--folder") == 0)
            dst = &folder;
        else if (strncmp(a, "--format=", 9) == 0) {
            format = a + 9;
            continue;
        } else {
            char safe[64];
            cli_escape(safe, sizeof safe, a, strlen(a));
            return cli_usage_error("rules", "unknown argument '%s'", safe);
        }
        if (++i >= argc) return cli_usage_error("rules", "%s needs a value", a);
        *dst = argv[i];
    }
    if (!format) return cli_usage_error("rules", "--format is required");
    static const char *const formats[] = {"rpz",   "hosts",  "dnsmasq", "unbound",
                                          "sieve", "rspamd", NULL};
    int fmt = -1;
    for (int k = 0; formats[k]; k++)
        if (strcmp(format, formats[k]) == 0) fmt = k;
    if (fmt < 0) return cli_usage_error("rules", "unknown format '%.40s'", format);
    for (const char *p = flag; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '\\' || *p > '~')
            return cli_usage_error("rules", "--flag must be one printable word");
    if (folder)
        for (const char *p = folder; *p; p++)
            if ((unsigned char)*p < ' ' || *p == '"' || *p == '\\')
                return cli_usage_error("rules", "--folder has a quote or control character");

    struct homing_trackers *t = NULL;
    if (cli_trackers_load(trackers_path, &t) < 0) return CLI_ERROR;
    struct strset dns = {0}, body = {0}, anyre = {0}, rhosts = {0}, rurls = {0};
    int rc = 0;
    size_t n = homing_trackers_count(t);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct homing_tracker_rule *r = homing_trackers_rule(t, i);
        char re[2 * RULES_RE_MAX + 200];
        int any = strcmp(r->host, "*") == 0, allpath = strcmp(r->path, "*") == 0;
        /* rspamd: hosts that are tracking whatever the path, and URL patterns */
        if (!allpath)
            rc = rspamd_url_re(r->host, r->path, re, sizeof re);
        else if (!any && r->scope != HOMING_TRACKER_MIXED)
            rc = rspamd_host_re(r->host, re, sizeof re);
        else
            re[0] = '\0'; /* a mixed host with path "*" only names a vendor */
        if (rc == 0 && re[0]) rc = set_add(allpath ? &rhosts : &rurls, re);
        if (rc < 0) {
            cli_fail("rule line %u: host or path not usable in a rule (%s)", r->line,
                     rc == -E2BIG ? "too long" : "control character");
            break;
        }
        if (any) {
            /* a tracking path on any host (homing's /o/ and /c/, listmonk,
             * phpList ...): Sieve finds it with a regular expression */
            rc = sieve_any_host_re(r->path, re, sizeof re);
            if (rc == 0)
                rc = set_add(&anyre, re);
            else
                cli_fail("rule line %u: path not usable in a Sieve rule", r->line);
            continue;
        }
        if (r->scope == HOMING_TRACKER_ONLY) {
            rc = set_add(&dns, r->host);
        } else if (r->scope == HOMING_TRACKER_LINKS || strcmp(r->path, "*") != 0) {
            char pre[300], s[600];
            glob_prefix(strcmp(r->path, "*") == 0 ? "/" : r->path, pre, sizeof pre);
            snprintf(s, sizeof s, "//%s%s", r->host, pre);
            rc = set_add(&body, s);
            snprintf(s, sizeof s, ".%s%s", r->host, pre);
            if (rc == 0) rc = set_add(&body, s);
        }
    }
    set_finish(&dns);
    set_finish(&body);
    set_finish(&anyre);
    set_finish(&rhosts);
    set_finish(&rurls);
    FILE *f = stdout;
    if (rc == 0 && out_path && !(f = fopen(out_path, "w"))) {
        rc = -errno;
        cli_fail("cannot write %s: %s", out_path, strerror(errno));
        rc = CLI_ERROR;
        f = NULL;
    }
    if (rc == 0) {
        const char *src = "data/trackers.tsv";
        switch (fmt) {
        case 0: /* rpz */
            fprintf(f,
                    "; homing rules --format rpz: hosts serving nothing but tracking\n"
                    "; generated from %s; each host and its subdomains answer NXDOMAIN\n"
                    "$TTL 3600\n"
                    "@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 3600\n"
                    "@ IN NS localhost.\n",
                    src);
            for (size_t i = 0; i < dns.n; i++)
                if (!covered(&dns, dns.v[i]))
                    fprintf(f, "%s CNAME .\n*.%s CNAME .\n", dns.v[i], dns.v[i]);
            break;
        case 1: /* hosts */
            fprintf(f,
                    "# homing rules --format hosts: hosts serving nothing but tracking\n"
                    "# generated from %s; a hosts file cannot cover subdomains\n",
                    src);
            for (size_t i = 0; i < dns.n; i++) fprintf(f, "0.0.0.0 %s\n", dns.v[i]);
            break;
        case 2: /* dnsmasq */
            fprintf(f,
                    "# homing rules --format dnsmasq: hosts serving nothing but tracking\n"
                    "# generated from %s; each entry covers the host and its subdomains\n",
                    src);
            for (size_t i = 0; i < dns.n; i++)
                if (!covered(&dns, dns.v[i]))
                    fprintf(f, "address=/%s/0.0.0.0\naddress=/%s/::\n", dns.v[i], dns.v[i]);
            break;
        case 3: /* unbound */
            fprintf(f,
                    "# homing rules --format unbound: hosts serving nothing but tracking\n"
                    "# generated from %s; include from unbound.conf\n"
                    "server:\n",
                    src);
            for (size_t i = 0; i < dns.n; i++)
                if (!covered(&dns, dns.v[i]))
                    fprintf(f, "    local-zone: \"%s.\" always_nxdomain\n", dns.v[i]);
            break;
        case 5: /* rspamd */
            fprintf(f,
                    "# homing rules --format rspamd: multimap rules for rspamd, generated\n"
                    "# from %s. HOMING_TRACKER_HOST: a URL of the message is on a host\n"
                    "# that serves nothing but tracking and click redirects;\n"
                    "# HOMING_TRACKER_URL: a URL matches a known tracking path (on its\n"
                    "# vendor's host, or on any host for self-hosted tools). The maps are\n"
                    "# static regular expressions; the score is 0 (tag only): set your own.\n"
                    "# Install as /etc/rspamd/local.d/multimap.conf (or .include it there)\n"
                    "# and check with rspamadm configtest.\n",
                    src);
            rspamd_rule(f, "HOMING_TRACKER_HOST", NULL, "homing: known tracking host", &rhosts);
            rspamd_rule(f, "HOMING_TRACKER_URL", "full", "homing: known tracking URL", &rurls);
            break;
        default: /* sieve */
            fprintf(f,
                    "# homing rules --format sieve: tags mail that carries known tracking\n"
                    "# (click redirects and tracking paths on hosts that also serve real\n"
                    "# content, which a DNS blocklist must not hold; tracking paths on any\n"
                    "# host, by regular expression), and read-receipt requests.\n"
                    "# Generated from %s.\n"
                    "require [\"body\", \"imap4flags\"%s%s];\n\n"
                    "if anyof (exists [\"Disposition-Notification-To\", \"Return-Receipt-To\",\n"
                    "                  \"X-Confirm-Reading-To\"],\n"
                    "          body :content \"text\" :contains ",
                    src, anyre.n ? ", \"regex\"" : "", folder ? ", \"fileinto\"" : "");
            sieve_list(f, &body, "            ");
            if (anyre.n) {
                fprintf(f, ",\n          body :content \"text\" :regex ");
                sieve_list(f, &anyre, "            ");
            }
            fprintf(f, ")\n{\n    addflag ");
            sieve_string(f, flag);
            fprintf(f, ";\n");
            if (folder) {
                fprintf(f, "    fileinto ");
                sieve_string(f, folder);
                fprintf(f, ";\n");
            }
            fprintf(f, "}\n");
        }
        if (f != stdout ? fclose(f) != 0 : fflush(stdout) != 0)
            rc = cli_fail("cannot write the output");
    }
    set_free(&dns);
    set_free(&body);
    set_free(&anyre);
    set_free(&rhosts);
    set_free(&rurls);
    homing_trackers_free(t);
    return rc == 0 ? CLI_OK : CLI_ERROR;
}
