/*
 * main.c: `homing`, one binary with subcommands in the manner of git. This file
 * only dispatches; each subcommand lives in its own file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "homing_build.h"
#include "log.h"

static const struct cli_command commands[] = {
    {"init", "create a configuration, key file and store in a directory", cmd_init},
    {"bounce", "read bounces, DSNs, MDNs, complaints and auto-replies", cmd_bounce},
    {"serve", "run the tracking daemon (public and admin listeners)", cmd_serve},
    {"token-keys", "list and rotate token signing keys", cmd_token_keys},
    {"dkim-keys", "create, list and show the DKIM keys homing send signs with", cmd_dkim_keys},
    {"api-keys", "create, list and revoke keys for the admin API", cmd_api_keys},
    {"message", "register a message and print its tracking URLs; show, list", cmd_message},
    {"events", "list events, or follow new ones as they happen", cmd_events},
    {"report", "per-recipient opens, clicks and delivery state of a message", cmd_report},
    {"stats", "figures and rates of a campaign or message, human and machine apart", cmd_stats},
    {"reclassify", "recompute every stored verdict with the current rules", cmd_reclassify},
    {"update-data", "refresh the published range lists from a directory or npm package",
     cmd_update_data},
    {"geo-import", "convert ASN range CSV files into the file enrichment reads", cmd_geo_import},
    {"trace", "header forensics: hops, trusted origin, SPF/DKIM/DMARC, spoofing", cmd_trace},
    {"track", "register a message and write its tracked copies", cmd_track},
    {"scan", "list the tracking devices in messages, with evidence", cmd_scan},
    {"strip", "write a message with every remote load neutralised", cmd_strip},
    {"rules", "DNS blocklists and Sieve rules from the tracker knowledge", cmd_rules},
    {"webhooks", "add, list, remove and test receivers of signed notifications", cmd_webhooks},
    {"watch", "a live feed of notifications (opens, new readers, clicks, bounces)", cmd_watch},
    {"send", "send tracked messages over SMTP with DSN and VERP", cmd_send},
    {"suppress", "the suppression list: list, add and remove refused addresses", cmd_suppress},
    {"ingest", "record bounces, DSNs, read receipts and complaints (stdin, Maildir, IMAP)",
     cmd_ingest},
    {"ingest-log", "record deliveries from a Postfix or Exim log", cmd_ingest_log},
    {"privacy", "tracking modes per message and recipient; truncation and retention sweep",
     cmd_privacy},
    {"forget", "remove everything about one recipient address", cmd_forget},
    {"milter", "filter incoming mail for Postfix or Sendmail: tag, strip, notice", cmd_milter},
    {"relay", "SMTP server: track each message per recipient, hand copies to the smarthost",
     cmd_relay},
    {"relay-users", "add, list and remove the accounts homing relay accepts for AUTH",
     cmd_relay_users},
    {"doc", "share documents through per-recipient links: add, list, grant, revoke", cmd_doc},
    {"backup", "back up the store, the sealed keys, config and documents into a directory",
     cmd_backup},
    {"restore", "restore a backup into this instance (passphrase checked first)", cmd_restore},
    {"store", "the store as a whole: migrate copies a SQLite store into PostgreSQL", cmd_store},
    {"ui-link", "print the dashboard's address and a one-time sign-in link", cmd_ui_link},
    {"doctor", "check this setup (ports, key modes, store, clock, DNS, TLS) and say what to fix",
     cmd_doctor},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: homing [-c CONFIG] COMMAND [ARGS]\n\n"
               "Self-hosted email tracking, and the tools to detect and neutralise it.\n\n"
               "Commands:\n");
    for (const struct cli_command *c = commands; c->name; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->summary);
    fprintf(f, "\nOptions:\n"
               "  -c, --config FILE  configuration file (default: $HOMING_CONFIG, else\n"
               "                     " HOMING_SYSCONFDIR "/homing.conf)\n"
               "  -h, --help         this help; `homing COMMAND --help` for a command\n"
               "  -V, --version      print the version\n");
}

int cli_wants_help(int argc, char **argv, const char *usage_text)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return 1;
        }
    }
    return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "homing %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'homing %s --help')\n", cmd);
    return CLI_ERROR;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "homing: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_ERROR;
}

void cli_dirname(char *path, size_t cap)
{
    char *slash = strrchr(path, '/');
    if (slash == path)
        path[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        homing_strlcpy(path, ".", cap);
}

char *cli_state_dir(const char *config_path)
{
    char *dir = strdup(config_path);
    if (!dir) return NULL;
    cli_dirname(dir, strlen(config_path) + 1);
    /* /etc is read-only to the daemon (ProtectSystem=strict): the system
     * configuration keeps its state where the FHS puts it. */
    if (strcmp(dir, HOMING_SYSCONFDIR) == 0) {
        free(dir);
        dir = strdup(HOMING_STATEDIR);
    }
    return dir;
}

int cli_config(struct cli *cli)
{
    if (cli->config) return 0;
    const char *path = cli->config_path;
    char *dir = cli_state_dir(path);
    if (!dir) return -ENOMEM;
    int r = homing_config_new(dir, &cli->config);
    free(dir);
    if (r < 0) return r;
    char err[512];
    r = homing_config_load(cli->config, path, err, sizeof err);
    if (r == -ENOENT) {
        cli_fail("no configuration at %s: run 'homing init' first, or pass -c FILE", path);
        return r;
    }
    if (r < 0) {
        cli_fail("%s", err);
        return r;
    }
    return 0;
}

int cli_seal(struct cli *cli)
{
    if (cli->seal) return 0;
    if (cli_config(cli) < 0) return -EINVAL;
    const struct homing_settings *set = homing_config_settings(cli->config);
    char err[512];
    int r = homing_seal_load(set->keys.data, 0, &cli->seal, NULL, err, sizeof err);
    if (r == -ENOENT) {
        /* A new key only for a store that was never sealed: a store sealed
         * with a key (a second node's, a restored one) needs that key, and a
         * fresh one would only be refused. */
        struct homing_store *s = NULL;
        homing_store_seal_use(NULL);
        r = homing_store_open(set->store.url, homing_config_base_dir(cli->config), set->store.sync,
                              &s, err, sizeof err);
        homing_store_close(s);
        if (r == -ENOKEY) {
            cli_fail("%s is missing and %s; copy it from the node or backup that sealed the "
                     "store",
                     set->keys.data, err);
            return r;
        }
        /* other failures are reported by the open that follows */
        r = homing_seal_load(set->keys.data, 1, &cli->seal, NULL, err, sizeof err);
    }
    if (r < 0) {
        cli_fail("cannot load the data key: %s", err);
        return r;
    }
    homing_store_seal_use(cli->seal);
    return 0;
}

struct homing_store *cli_store(struct cli *cli)
{
    if (cli->store) return cli->store;
    if (cli_config(cli) < 0 || cli_seal(cli) < 0) return NULL;
    char err[512];
    if (homing_store_open(
            homing_config_settings(cli->config)->store.url, homing_config_base_dir(cli->config),
            homing_config_settings(cli->config)->store.sync, &cli->store, err, sizeof err) < 0) {
        cli_fail("cannot open store: %s", err);
        return NULL;
    }
    return cli->store;
}

struct homing_keyring *cli_keyring(struct cli *cli)
{
    if (cli->keyring) return cli->keyring;
    if (cli_config(cli) < 0) return NULL;
    char err[512];
    if (homing_keyring_load(homing_config_settings(cli->config)->keys.file, &cli->keyring, err,
                            sizeof err) < 0) {
        cli_fail("cannot load token keys: %s", err);
        return NULL;
    }
    return cli->keyring;
}

int cli_read_file(const char *path, size_t max, char **data, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return -errno;
    struct homing_buf b;
    homing_buf_init(&b, max);
    char chunk[65536];
    size_t n;
    int r = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((r = homing_buf_append(&b, chunk, n)) < 0) break;
    if (r == 0 && ferror(f)) r = -EIO;
    if (f != stdin) fclose(f);
    if (r < 0) {
        homing_buf_free(&b);
        return r;
    }
    *len = b.len;
    *data = homing_buf_steal(&b);
    return 0;
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    log_init("homing", 0);
    cli.config_path = getenv("HOMING_CONFIG");
    if (!cli.config_path || !*cli.config_path) cli.config_path = HOMING_SYSCONFDIR "/homing.conf";

    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("homing %s\n", HOMING_VERSION);
            return CLI_OK;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (++i >= argc) return cli_fail("%s needs a file name", a);
            cli.config_path = argv[i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            cli.config_path = a + 9;
        } else {
            fprintf(stderr, "homing: unknown option '%s'\n", a);
            usage(stderr);
            return CLI_ERROR;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_ERROR;
    }
    const char *name = argv[i];
    for (const struct cli_command *c = commands; c->name; c++) {
        if (strcmp(c->name, name) == 0) {
            int r = c->run(&cli, argc - i, argv + i);
            homing_store_close(cli.store);
            homing_store_seal_use(NULL);
            homing_seal_free(cli.seal);
            homing_keyring_free(cli.keyring);
            homing_config_free(cli.config);
            return r;
        }
    }
    fprintf(stderr, "homing: '%s' is not a homing command (see 'homing --help')\n", name);
    return CLI_ERROR;
}
