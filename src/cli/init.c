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
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "homing/journal.h"
#include "homing/store_engine.h"
#include "homing_build.h"

static const char init_usage[] =
    "usage: homing init [--keep-config] [--self-signed HOST] [DIR]\n"
    "       homing init [--self-signed HOST] --store postgresql://ADMIN@HOST/DB[?schema=S] DIR\n"
    "       homing init --store postgresql://ADMIN@HOST/DB[?schema=S]\n"
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
    "  --store postgresql://ADMIN@HOST/DB[?schema=S]\n"
    "                 a node of a store shared on PostgreSQL. ADMIN may create\n"
    "                 roles (a superuser, or CREATEROLE): the first run makes\n"
    "                 schema S (default homing), its key silo S_keys, the roles\n"
    "                 S_owner, S_keys_owner and S_node, and applies the\n"
    "                 migrations; every run makes a login of its own for this\n"
    "                 node (S_node_XXXXXXXX, random password) and writes its URL,\n"
    "                 never ADMIN's, as store.url in DIR/homing.conf (mode 0600),\n"
    "                 with node.id node-XXXXXXXX (the login's random part).\n"
    "                 Run it again with the same URL for each further node, then\n"
    "                 copy the first node's token.keys and data.key into DIR\n"
    "                 (docs/operations.md, \"A second node on PostgreSQL\").\n"
    "                 Without DIR: the database only, made or upgraded (the\n"
    "                 migrations of a new homing, which nodes may not apply)\n"
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

/* mode 0600 when the file holds a store password, else 0644 (less umask) */
static int create_config(const char *path, const char *const (*over)[2], mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = -errno;
        close(fd);
        return e;
    }
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

static int init_rest(struct cli *cli, const char *dir, const char *conf, const char *self_signed,
                     const struct homing_store_node *node);

int cmd_init(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, init_usage)) return CLI_OK;
    int keep = 0;
    const char *self_signed = NULL, *store_url = NULL, *dir_arg = NULL;
    /* options before or after DIR (homing init DIR --store URL) */
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            if (dir_arg) return cli_usage_error("init", "too many arguments");
            dir_arg = argv[i];
            continue;
        }
        if (strcmp(argv[i], "--print") == 0) {
            if (argc != 2) return cli_usage_error("init", "--print takes no other argument");
            write_config(stdout, NULL);
            return fflush(stdout) == 0 ? CLI_OK : cli_fail("cannot write the configuration");
        } else if (strcmp(argv[i], "--keep-config") == 0) {
            keep = 1;
        } else if (strcmp(argv[i], "--self-signed") == 0 && i + 1 < argc) {
            self_signed = argv[++i];
        } else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
            store_url = argv[++i];
        } else {
            return cli_usage_error("init", "unknown option '%s'", argv[i]);
        }
    }
    if (self_signed && cli_self_signed(self_signed, NULL, NULL) < 0)
        return cli_usage_error("init", "--self-signed: '%s' is not a host name", self_signed);
    char dir[4096];
    if (dir_arg) {
        homing_strlcpy(dir, dir_arg, sizeof dir);
    } else {
        homing_strlcpy(dir, cli->config_path, sizeof dir);
        cli_dirname(dir, sizeof dir);
    }
    if (store_url && keep)
        return cli_usage_error("init", "--store makes a new configuration: not with "
                                       "--keep-config");
    if (store_url && !dir_arg) {
        /* no DIR: the database only (made, or upgraded after a new homing) */
        if (self_signed) return cli_usage_error("init", "--self-signed needs a DIR");
        struct homing_store_node node = {0};
        char err[512];
        if (homing_store_provision(store_url, 0, &node, err, sizeof err) < 0)
            return cli_fail("--store: %s", err);
        printf("store: PostgreSQL, schema %s (key silo %s_keys) at migration %d: %s\n"
               "next: homing init DIR --store (this URL) for each node\n",
               node.schema, node.schema, node.version,
               node.created ? "schemas and roles made" : "schemas and roles found, up to date");
        homing_store_node_clear(&node);
        return CLI_OK;
    }
    int made_dir = mkdir(dir, 0750) == 0;
    if (!made_dir && errno != EEXIST) return cli_fail("cannot create %s: %s", dir, strerror(errno));

    char conf[4200];
    snprintf(conf, sizeof conf, "%s/homing.conf", dir);
    /* The shared store first: a bad URL, an unreachable server or a role
     * that may not create roles leaves no node directory behind (and the
     * store's side is one transaction). */
    struct homing_store_node node = {0};
    if (store_url) {
        if (access(conf, F_OK) == 0)
            return cli_fail("%s already exists: this directory is initialised", conf);
        char err[512];
        int pr =
            homing_store_provision(store_url, HOMING_STORE_PROVISION_LOGIN, &node, err, sizeof err);
        if (pr < 0) {
            if (made_dir) rmdir(dir);
            return cli_fail("--store: %s", err);
        }
    }
    /* relative paths: the state directory's (relay.crt next to token.keys) */
    static const char *const tls_over[][2] = {
        {"relay.tls_cert", "relay.crt"}, {"relay.tls_key", "relay.key"}, {NULL, NULL}};
    if (self_signed && keep)
        return cli_usage_error("init", "--self-signed makes a new configuration: not with "
                                       "--keep-config");
    /* A node of a shared store needs an id of its own (its journal's
     * positions in the store are named after it): its login's random part. */
    char node_id[HOMING_JOURNAL_NODE_MAX + 1] = "";
    if (node.role) {
        const char *tail = strrchr(node.role, '_');
        snprintf(node_id, sizeof node_id, "node-%.26s", tail ? tail + 1 : node.role);
    }
    const char *const store_over[][2] = {{"relay.tls_cert", self_signed ? "relay.crt" : NULL},
                                         {"relay.tls_key", "relay.key"},
                                         {"store.url", node.url},
                                         {"node.id", node_id},
                                         {NULL, NULL}};
    int r = keep        ? (access(conf, R_OK) == 0 ? 0 : -errno)
            : store_url ? create_config(conf, self_signed ? store_over : store_over + 2, 0600)
                        : create_config(conf, self_signed ? tls_over : NULL, 0644);
    if (r < 0) homing_store_node_clear(&node);
    if (r == -EEXIST) return cli_fail("%s already exists: this directory is initialised", conf);
    if (r < 0) return cli_fail("cannot %s %s: %s", keep ? "read" : "write", conf, strerror(-r));
    if (node.url) {
        /* the password stays in the configuration only */
        sodium_memzero(node.url, strlen(node.url));
        free(node.url);
        node.url = NULL;
    }
    int rc = init_rest(cli, dir, conf, self_signed, store_url ? &node : NULL);
    homing_store_node_clear(&node);
    return rc;
}

/* The rest of init, once the configuration is there: the key file, the
 * store (opened, so migrated, as the configuration's role), the relay's
 * certificate, and what to do next. */
static int init_rest(struct cli *cli, const char *dir, const char *conf, const char *self_signed,
                     const struct homing_store_node *node)
{
    int r;

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
    /* A further node of a shared store: provision has migrated it, and its
     * addresses are sealed with the first node's data key, which the user
     * copies here with the token keys; a key made here would be refused. */
    if (!node || node->created) {
        if (!cli_store(cli)) return CLI_ERROR;
        homing_store_close(cli->store);
        cli->store = NULL;
    }
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
    if (!node) {
        printf("initialised %s\n  config: %s\n  keys:   %s%s\n  store:  %s\n"
               "next: homing -c %s api-keys create admin\n      homing -c %s serve\n",
               dir, conf, keys, r == -EEXIST ? " (kept)" : "",
               homing_config_settings(cli->config)->store.url, conf, conf);
        return CLI_OK;
    }
    printf("initialised %s\n  config: %s (mode 0600: store.url holds this node's password)\n"
           "  keys:   %s\n"
           "  store:  PostgreSQL, schema %s (key silo %s_keys) at migration %d: %s\n"
           "  login:  %s, a member of %s_node\n",
           dir, conf, keys, node->schema, node->schema, node->version,
           node->created ? "schemas and roles made" : "schemas and roles found", node->role,
           node->schema);
    if (node->created)
        printf("next: homing -c %s api-keys create admin\n      homing -c %s serve\n"
               "another node: homing init DIR2 --store (this URL), then copy %s and %s "
               "into DIR2\n",
               conf, conf, keys, homing_config_settings(cli->config)->keys.data);
    else
        printf("next: copy the first node's token.keys over %s and its data.key to %s "
               "(every node needs the same keys), then\n      homing -c %s serve\n"
               "API keys and relay users are the store's: those made on any node work here\n",
               keys, homing_config_settings(cli->config)->keys.data, conf);
    return CLI_OK;
}
