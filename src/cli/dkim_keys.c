/*
 * dkim_keys.c: `homing dkim-keys create|list|show`: the RSA keys homing send
 * (and homing relay) DKIM-sign with, one per sender domain and selector in
 * dkim.keys_dir (homing/dkim.h, lib/delivery/dkim_sign.c), and the DNS TXT
 * record each needs.
 *
 * Contract: the zone line goes to stdout (so it can be redirected into a zone
 * file), explanations to stderr; exit 0, 1 when list finds no key or show
 * finds none for the domain, 2 on an error. A key is never replaced.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "homing/dkim.h"

#define DKIM_KEYS_LIST_MAX 10000 /* key files listed */

static const char dkim_keys_usage[] =
    "usage: homing dkim-keys create DOMAIN [--selector S] [--bits N]\n"
    "       homing dkim-keys show DOMAIN [--selector S]\n"
    "       homing dkim-keys list\n\n"
    "DKIM keys homing send and homing relay sign with: one RSA key per sender\n"
    "domain and selector, in dkim.keys_dir as DOMAIN.SELECTOR.key (mode 0600).\n"
    "A copy is signed (d= its From domain, rsa-sha256, relaxed/relaxed) when the\n"
    "key of its From domain's selector exists; otherwise it is sent unsigned.\n\n"
    "  create DOMAIN   make a new key and print its DNS TXT record; an existing key\n"
    "                  file is never replaced\n"
    "  show DOMAIN     print the DNS TXT record of the domain's key\n"
    "  list            the keys in dkim.keys_dir: domain, selector, bits, whether\n"
    "                  it signs now\n"
    "  --selector S    the selector (one DNS label); default: the one that signs\n"
    "                  for DOMAIN (dkim.selectors, else dkim.selector)\n"
    "  --bits N        RSA key size, 1024..4096 (default 2048)\n\n"
    "Publish the record (NAME IN TXT \"...\" strings of at most 255 bytes) before the\n"
    "key signs: to rotate, create a key under a new selector, publish it, then name\n"
    "it in dkim.selectors (DOMAIN=SELECTOR).\n\n"
    "Exit status: 0 done, 1 no key found (list, show), 2 an error.\n";

/* Run as root, the key goes to the owner of keys.file: homing relay, which
 * signs with it, reads it after dropping to serve.user (homing init gives the
 * key file to that user), as homing doc does with documents. */
static void dkim_keys_give(const struct homing_settings *set, const char *path)
{
    struct stat st;
    if (geteuid() != 0 || stat(set->keys.file, &st) < 0) return;
    if (chown(path, st.st_uid, st.st_gid) < 0)
        fprintf(stderr, "homing dkim-keys: warning: chown %s: %s\n", path, strerror(errno));
}

/* Prints the zone line of (domain, selector)'s key; CLI_NEGATIVE if it has none. */
static int dkim_keys_print(const char *path, const char *domain, const char *sel)
{
    char *rec = NULL, *line = NULL;
    int bits = 0;
    int r = homing_dkim_key_record(path, &rec, &bits);
    if (r == -ENOENT) {
        fprintf(stderr, "homing dkim-keys: no key for %s with selector %s (%s)\n", domain, sel,
                path);
        return CLI_NEGATIVE;
    }
    if (r == -EPERM)
        return cli_fail("%s: key file must not be readable by others (chmod 600)", path);
    if (r < 0)
        return cli_fail("%s: %s", path, r == -EINVAL ? "not a usable RSA key" : strerror(-r));
    r = homing_dkim_zone_line(domain, sel, rec, &line);
    free(rec);
    if (r < 0) return cli_fail("%s", strerror(-r));
    printf("%s\n", line);
    free(line);
    return CLI_OK;
}

static int dkim_keys_list(const struct homing_settings *set)
{
    const char *dir = set->dkim.keys_dir;
    DIR *d = dir && *dir ? opendir(dir) : NULL;
    if (!d) {
        if (dir && *dir && errno != ENOENT)
            return cli_fail("cannot open %s: %s", dir, strerror(errno));
        fprintf(stderr, "homing dkim-keys: no keys (dkim.keys_dir %s does not exist)\n",
                dir && *dir ? dir : "is empty");
        return CLI_NEGATIVE;
    }
    printf("%-40s %-16s %-5s %s\n", "DOMAIN", "SELECTOR", "BITS", "SIGNS");
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < DKIM_KEYS_LIST_MAX) {
        /* DOMAIN.SELECTOR.key: the selector is one label, the last before .key */
        char name[256];
        size_t l = strlen(de->d_name);
        if (l < 5 || l >= sizeof name || strcmp(de->d_name + l - 4, ".key") != 0) continue;
        memcpy(name, de->d_name, l - 4);
        name[l - 4] = '\0';
        char *dot = strrchr(name, '.');
        if (!dot) continue;
        *dot = '\0';
        const char *domain = name, *sel = dot + 1;
        if (!homing_dkim_name_ok(domain, 0) || !homing_dkim_name_ok(sel, 1)) continue;
        char path[HOMING_DKIM_PATH_MAX], signing[HOMING_DKIM_SELECTOR_MAX], *rec = NULL;
        int bits = 0;
        if (homing_dkim_key_path(set, domain, sel, path, sizeof path) < 0) continue;
        int r = homing_dkim_key_record(path, &rec, &bits);
        free(rec);
        int signs = homing_dkim_selector(set, domain, signing, sizeof signing) == 0 &&
                    strcmp(signing, sel) == 0;
        char bits_s[16];
        snprintf(bits_s, sizeof bits_s, "%d", bits);
        printf("%-40s %-16s %-5s %s\n", domain, sel, r == 0 ? bits_s : "-",
               r == -EPERM ? "no: readable by others (chmod 600)"
               : r < 0     ? "no: not a usable RSA key"
               : signs     ? "yes"
                           : "no: not this domain's selector");
        n++;
    }
    closedir(d);
    return n ? CLI_OK : CLI_NEGATIVE;
}

int cmd_dkim_keys(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, dkim_keys_usage)) return CLI_OK;
    if (argc < 2) return cli_usage_error("dkim-keys", "expected 'create', 'show' or 'list'");
    const char *action = argv[1], *domain_arg = NULL, *sel_arg = NULL;
    long long bits = HOMING_DKIM_BITS_DEFAULT;
    int is_list = !strcmp(action, "list"), is_create = !strcmp(action, "create");
    if (!is_list && !is_create && strcmp(action, "show") != 0)
        return cli_usage_error("dkim-keys", "unknown action '%s'", action);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--selector") && has && !is_list)
            sel_arg = argv[++i];
        else if (!strcmp(a, "--bits") && has && is_create) {
            if (cli_parse_count("dkim-keys", "--bits", argv[++i], HOMING_DKIM_BITS_MIN,
                                HOMING_DKIM_BITS_MAX, &bits) < 0)
                return CLI_ERROR;
        } else if (a[0] == '-' && a[1])
            return cli_usage_error("dkim-keys", "unknown option or missing value: %s", a);
        else if (!domain_arg && !is_list)
            domain_arg = a;
        else
            return cli_usage_error("dkim-keys", "unexpected argument: %s", a);
    }
    if (!is_list && !domain_arg) return cli_usage_error("dkim-keys", "%s needs a DOMAIN", action);
    if (cli_config(cli) < 0) return CLI_ERROR;
    const struct homing_settings *set = homing_config_settings(cli->config);
    if (is_list) return dkim_keys_list(set);

    char safe[600], domain[HOMING_DKIM_DOMAIN_MAX], sel[HOMING_DKIM_SELECTOR_MAX];
    cli_safe(domain_arg, safe, sizeof safe);
    size_t dl = strlen(domain_arg);
    if (dl && domain_arg[dl - 1] == '.') dl--; /* "example.org." as in a zone file */
    if (dl >= sizeof domain) return cli_usage_error("dkim-keys", "not a domain name: %s", safe);
    memcpy(domain, domain_arg, dl);
    domain[dl] = '\0';
    for (char *p = domain; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    if (!homing_dkim_name_ok(domain, 0))
        return cli_usage_error("dkim-keys",
                               "not a domain name: %s (letters, digits, hyphens and dots; an "
                               "international domain in its xn-- form)",
                               safe);
    if (sel_arg) {
        cli_safe(sel_arg, safe, sizeof safe);
        if (!homing_dkim_name_ok(sel_arg, 1) || strlen(sel_arg) >= sizeof sel)
            return cli_usage_error(
                "dkim-keys", "not a selector: %s (one DNS label: letters, digits, hyphens)", safe);
        memcpy(sel, sel_arg, strlen(sel_arg) + 1);
        for (char *p = sel; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    } else if (homing_dkim_selector(set, domain, sel, sizeof sel) < 0) {
        return cli_fail("dkim.selector / dkim.selectors name a selector that is not one DNS label");
    }
    char path[HOMING_DKIM_PATH_MAX];
    int r = homing_dkim_key_path(set, domain, sel, path, sizeof path);
    if (r == -ENOENT) return cli_fail("dkim.keys_dir is empty: set it to the keys' directory");
    if (r < 0) return cli_fail("cannot name the key file: %s", strerror(-r));
    if (!is_create) return dkim_keys_print(path, domain, sel);

    if (mkdir(set->dkim.keys_dir, 0700) == 0)
        dkim_keys_give(set, set->dkim.keys_dir);
    else if (errno != EEXIST)
        return cli_fail("cannot create %s: %s", set->dkim.keys_dir, strerror(errno));
    r = homing_dkim_key_create(path, (int)bits);
    if (r == -EEXIST)
        return cli_fail("%s exists: a key is never replaced (create one under another --selector "
                        "to rotate)",
                        path);
    if (r < 0) return cli_fail("cannot create %s: %s", path, strerror(-r));
    dkim_keys_give(set, path);
    fprintf(stderr, "homing dkim-keys: wrote a %lld-bit RSA key to %s\n", bits, path);
    int status = dkim_keys_print(path, domain, sel);
    if (status != CLI_OK) return status;
    char signing[HOMING_DKIM_SELECTOR_MAX];
    int signs = homing_dkim_selector(set, domain, signing, sizeof signing) == 0 &&
                strcmp(signing, sel) == 0;
    fprintf(stderr,
            "homing dkim-keys: publish this TXT record in the DNS of %s before sending: %s\n",
            domain,
            signs ? "mail from it is signed with this key from now on"
                  : "the key signs once dkim.selectors names it (DOMAIN=SELECTOR)");
    return CLI_OK;
}
