/*
 * init.c: `homing init [DIR]`: a configuration file listing every option with its
 * default, a fresh token key file (0600) and a migrated store. When run as root
 * the directory is handed to the daemon's user, which must write the store.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char init_usage[] =
    "usage: homing init [DIR]\n\n"
    "Creates DIR (default: the directory of the configuration file, ./var) with:\n"
    "  homing.conf  every option with its default (see docs/configuration.md)\n"
    "  token.keys   the token signing key, mode 0600\n"
    "  homing.db    the SQLite store\n"
    "Refuses to touch a directory that already has a homing.conf.\n";

static int write_config(const char *path)
{
    FILE *f = fopen(path, "wx");
    if (!f) return -errno;
    fprintf(f, "# homing configuration. Every option is listed with its default;\n"
               "# see docs/configuration.md. Relative paths are relative to this file.\n");
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
        fprintf(f, "# %s\n%s = %s\n", o->help, dot + 1, o->def);
    }
    return fclose(f) == 0 ? 0 : -EIO;
}

static void give_to_user(const char *dir, const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        fprintf(stderr,
                "homing init: warning: user '%s' does not exist; the daemon will "
                "keep running as root\n",
                user);
        return;
    }
    const char *names[] = {"",           "/homing.conf",   "/token.keys",
                           "/homing.db", "/homing.db-wal", "/homing.db-shm"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s%s", dir, names[i]);
        if (chown(p, pw->pw_uid, pw->pw_gid) < 0 && errno != ENOENT)
            fprintf(stderr, "homing init: warning: chown %s: %s\n", p, strerror(errno));
    }
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, init_usage)) return CLI_OK;
    if (argc > 2) return cli_usage_error("init", "too many arguments");
    char dir[4096];
    if (argc == 2) {
        homing_strlcpy(dir, argv[1], sizeof dir);
    } else {
        homing_strlcpy(dir, cli->config_path, sizeof dir);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            strcpy(dir, ".");
    }
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return cli_fail("cannot create %s: %s", dir, strerror(errno));

    char conf[4200];
    snprintf(conf, sizeof conf, "%s/homing.conf", dir);
    int r = write_config(conf);
    if (r == -EEXIST) return cli_fail("%s already exists: this directory is initialised", conf);
    if (r < 0) return cli_fail("cannot write %s: %s", conf, strerror(-r));

    cli->config_path = conf;
    homing_config_free(cli->config);
    cli->config = NULL;
    if (cli_config(cli) < 0) return CLI_ERROR;
    const char *keys = homing_config_settings(cli->config)->keys.file;
    r = homing_keyring_create(keys);
    if (r < 0 && r != -EEXIST) return cli_fail("cannot create %s: %s", keys, strerror(-r));
    if (!cli_store(cli)) return CLI_ERROR;
    homing_store_close(cli->store);
    cli->store = NULL;

    if (geteuid() == 0) give_to_user(dir, homing_config_settings(cli->config)->serve.user);
    printf("initialised %s\n  config: %s\n  keys:   %s%s\n  store:  %s\n"
           "next: homing -c %s api-keys create admin\n      homing -c %s serve\n",
           dir, conf, keys, r == -EEXIST ? " (kept)" : "",
           homing_config_settings(cli->config)->store.url, conf, conf);
    return CLI_OK;
}
