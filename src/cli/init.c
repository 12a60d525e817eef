/*
 * init.c: `homing init [DIR]`: a configuration file listing every option with its
 * default, a fresh token key file (0600) and a migrated store. When run as root
 * the state directory is handed to the daemon's user, which must write the
 * store. `--keep-config` (a package's postinst) creates only the key file and
 * store of an existing configuration, never replacing a key; `--print` writes
 * the configuration file to stdout, which the build turns into the example
 * /etc/homing/homing.conf and homing.conf(5).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "homing_build.h"

static const char init_usage[] =
    "usage: homing init [--keep-config] [--self-signed HOST] [DIR]\n"
    "       homing init --print\n\n"
    "Creates DIR (default: the directory of the configuration file) with:\n"
    "  homing.conf  every option with its default (see homing.conf(5))\n"
    "  token.keys   the token signing key, mode 0600\n"
    "  data.key     the key that seals addresses in the store, mode 0600\n"
    "  homing.db    the SQLite store\n"
    "Refuses to touch a directory that already has a homing.conf.\n"
    "The key file and store go to the state directory: DIR itself, or\n"
    "  " HOMING_STATEDIR " for the system configuration in " HOMING_SYSCONFDIR ".\n\n"
    "Options:\n"
    "  --keep-config  use the homing.conf that is there (a package's) and create\n"
    "                 only what is missing: the key file and the store\n"
    "  --self-signed HOST\n"
    "                 also make relay.key (ECDSA, 0600) and relay.crt, a\n"
    "                 certificate for HOST signed by itself, for homing relay's\n"
    "                 STARTTLS, and name them in relay.tls_cert / tls_key\n"
    "  --print        write the configuration file to stdout and nothing else\n";

/* The configuration file: every option with its help and its default, or
 * the value over[i][1] for an option named over[i][0] (a NULL-ended list,
 * may be NULL). */
static void write_config(FILE *f, const char *const (*over)[2])
{
    fprintf(f, "# homing configuration. Every option is listed with its default;\n"
               "# see homing.conf(5). Relative paths are relative to the state directory:\n"
               "# this file's directory, or " HOMING_STATEDIR " for " HOMING_SYSCONFDIR
               "/homing.conf.\n");
    const char *section = "";
    size_t section_len = 0;
    for (const struct homing_config_option *o = homing_config_options; o->name; o++) {
        const char *dot = strchr(o->name, '.');
        size_t slen = (size_t)(dot - o->name);
        if (section_len != slen || strncmp(section, o->name, slen) != 0) {
            fprintf(f, "\n[%.*s]\n", (int)slen, o->name);
            section = o->name;
            section_len = slen;
        }
        const char *v = o->def;
        for (size_t k = 0; over && over[k][0]; k++)
            if (strcmp(over[k][0], o->name) == 0) v = over[k][1];
        fprintf(f, "# %s\n%s = %s\n", o->help, dot + 1, v);
    }
}

static int create_config(const char *path, const char *const (*over)[2])
{
    FILE *f = fopen(path, "wx");
    if (!f) return -errno;
    write_config(f, over);
    return fclose(f) == 0 ? 0 : -EIO;
}

/* Hands the state directory and what init made in it to the daemon's user;
 * the configuration too when it lives there (not the system one in /etc). */
static void give_to_user(const char *state, const char *conf, const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        fprintf(stderr,
                "homing init: warning: user '%s' does not exist; the daemon will "
                "keep running as root\n",
                user);
        return;
    }
    const char *names[] = {"",           "/token.keys",    "/data.key",
                           "/homing.db", "/homing.db-wal", "/homing.db-shm",
                           "/relay.key", "/relay.crt"};
    for (size_t i = 0; i <= sizeof names / sizeof *names; i++) {
        char p[4096];
        if (i < sizeof names / sizeof *names)
            snprintf(p, sizeof p, "%s%s", state, names[i]);
        else if (conf)
            homing_strlcpy(p, conf, sizeof p);
        else
            break;
        if (chown(p, pw->pw_uid, pw->pw_gid) < 0 && errno != ENOENT)
            fprintf(stderr, "homing init: warning: chown %s: %s\n", p, strerror(errno));
    }
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, init_usage)) return CLI_OK;
    int keep = 0, i = 1;
    const char *self_signed = NULL;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--print") == 0) {
            if (argc != 2) return cli_usage_error("init", "--print takes no other argument");
            write_config(stdout, NULL);
            return fflush(stdout) == 0 ? CLI_OK : cli_fail("cannot write the configuration");
        } else if (strcmp(argv[i], "--keep-config") == 0) {
            keep = 1;
        } else if (strcmp(argv[i], "--self-signed") == 0 && i + 1 < argc) {
            self_signed = argv[++i];
        } else {
            return cli_usage_error("init", "unknown option '%s'", argv[i]);
        }
    }
    if (argc - i > 1) return cli_usage_error("init", "too many arguments");
    if (self_signed && cli_self_signed(self_signed, NULL, NULL) < 0)
        return cli_usage_error("init", "--self-signed: '%s' is not a host name", self_signed);
    char dir[4096];
    if (i < argc) {
        homing_strlcpy(dir, argv[i], sizeof dir);
    } else {
        homing_strlcpy(dir, cli->config_path, sizeof dir);
        cli_dirname(dir, sizeof dir);
    }
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return cli_fail("cannot create %s: %s", dir, strerror(errno));

    char conf[4200];
    snprintf(conf, sizeof conf, "%s/homing.conf", dir);
    /* relative paths: the state directory's (relay.crt next to token.keys) */
    static const char *const tls_over[][2] = {
        {"relay.tls_cert", "relay.crt"}, {"relay.tls_key", "relay.key"}, {NULL, NULL}};
    if (self_signed && keep)
        return cli_usage_error("init", "--self-signed makes a new configuration: not with "
                                       "--keep-config");
    int r = keep ? (access(conf, R_OK) == 0 ? 0 : -errno)
                 : create_config(conf, self_signed ? tls_over : NULL);
    if (r == -EEXIST) return cli_fail("%s already exists: this directory is initialised", conf);
    if (r < 0) return cli_fail("cannot %s %s: %s", keep ? "read" : "write", conf, strerror(-r));

    cli->config_path = conf;
    homing_config_free(cli->config);
    cli->config = NULL;
    if (cli_config(cli) < 0) return CLI_ERROR;
    const char *state = homing_config_base_dir(cli->config);
    if (mkdir(state, 0750) < 0 && errno != EEXIST)
        return cli_fail("cannot create %s: %s", state, strerror(errno));
    const char *keys = homing_config_settings(cli->config)->keys.file;
    r = homing_keyring_create(keys);
    if (r < 0 && r != -EEXIST) return cli_fail("cannot create %s: %s", keys, strerror(-r));
    if (!cli_store(cli)) return CLI_ERROR;
    homing_store_close(cli->store);
    cli->store = NULL;
    char crt[4200], key[4200];
    if (self_signed) {
        snprintf(crt, sizeof crt, "%s/relay.crt", state);
        snprintf(key, sizeof key, "%s/relay.key", state);
        int sr = cli_self_signed(self_signed, crt, key);
        if (sr == -EINVAL)
            return cli_fail("--self-signed: '%s' is not a host name (letters, digits, '-', '.')",
                            self_signed);
        if (sr < 0)
            return cli_fail("cannot write %s and %s: %s", crt, key,
                            sr == -EIO ? "OpenSSL failed" : strerror(-sr));
    }

    if (geteuid() == 0)
        give_to_user(state, strcmp(state, dir) == 0 ? conf : NULL,
                     homing_config_settings(cli->config)->serve.user);
    if (self_signed) printf("relay TLS: %s (for %s) and %s\n", crt, self_signed, key);
    printf("initialised %s\n  config: %s\n  keys:   %s%s\n  store:  %s\n"
           "next: homing -c %s api-keys create admin\n      homing -c %s serve\n",
           dir, conf, keys, r == -EEXIST ? " (kept)" : "",
           homing_config_settings(cli->config)->store.url, conf, conf);
    return CLI_OK;
}
